"""Float64 PyTorch reference of the MLP training step (autograd), for the
tolerance checks of the hardware. The sigmoid is the hardware's function
(exact, or the LUT's piecewise-linear curve evaluated in float64) with the
paper's derivative a * (1 - a) (eq. 2); the loss is the cross-entropy of
sigmoid outputs, whose output delta is a - y. Weights are (S_{l+1}, S_l + 1)
with the bias in column 0, as in the hardware."""

import numpy as np
import torch

from models.sigmoid_hw import sigmoid_lut_f64


class _Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, lut):
        if lut:
            a = torch.from_numpy(sigmoid_lut_f64(z.detach().numpy()))
        else:
            a = torch.sigmoid(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * a * (1 - a), None


def reference_step(weights, x, y, alpha, lut=True):
    """One mini-batch in float64: returns (acts, deltas, D, new weights) as numpy
    float64, with the same structure as models.mlp_hw.MlpHw.train_batch."""
    ws = [torch.tensor(np.asarray(w, np.float64), requires_grad=True) for w in weights]
    x = torch.tensor(np.asarray(x, np.float64))
    y = torch.tensor(np.asarray(y, np.float64))
    m = len(x)
    acts, zs = [x], []
    for w in ws:
        inp = torch.cat([torch.ones(m, 1, dtype=torch.float64), acts[-1]], dim=1)
        z = inp @ w.T
        z.retain_grad()
        zs.append(z)
        acts.append(_Sigmoid.apply(z, lut))
    a = acts[-1]
    # Cross-entropy of sigmoid outputs: d loss / d z_out = (-y/a + (1-y)/(1-a)) a(1-a)
    # = a - y. Written as that gradient on z_out, since the log form is inf * 0 = NaN
    # once float64 rounds a saturated output to exactly 0 or 1 (|z| > 37, exact sigmoid).
    loss = ((a - y).detach() * zs[-1]).sum()
    loss.backward()
    deltas = [None] + [z.grad.detach().numpy() for z in zs]
    grads = [w.grad.detach().numpy() / m for w in ws]
    new_w = [w.detach().numpy() - alpha * g for w, g in zip(ws, grads)]
    return [t.detach().numpy() for t in acts], deltas, grads, new_w
