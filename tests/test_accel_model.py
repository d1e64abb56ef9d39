"""The accelerator's bit-accurate training model (models/accel.py) on a real
CIFAR-10 mini-batch: against float32 PyTorch autograd on the same network,
per operation within FP16 rounding bounds and end to end within the INT8
quantization's; BN statistics independent of the order elements arrive in;
two iterations with the host's SGD update between them."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models import accel
from models.datasets import cifar_float, load_cifar10

torch.set_num_threads(1)
SPEC = accel.NetSpec.small()
U16 = 2.0 ** -11            # binary16 unit roundoff


@pytest.fixture(scope="module")
def batch():
    imgs, labels = load_cifar10("test", indices=np.arange(4) * 1000 + 3)
    return cifar_float(imgs)[:, :, :16, :16].astype(np.float16), labels.astype(np.int64)


@pytest.fixture(scope="module")
def step(batch):
    x16, labels = batch
    master = accel.init_master(SPEC, seed=0)
    p = accel.ChipParams.from_master(SPEC, master)
    t = accel.forward(SPEC, p, x16)
    loss, d32, d16 = accel.host_loss_grad(t, master["fc.bias"], labels)
    g = accel.backward(SPEC, p, t, d16)
    return master, p, t, g, loss, d32


def test_every_tensor_is_there(step):
    _, _, t, g, _, _ = step
    for name, *_ in SPEC.convs():
        bn = name.replace("conv", "bn")
        for key in (f"{name}.out", f"{bn}.out", f"{bn}.xhat", f"{bn}.mask", f"{bn}.lam"):
            assert key in t, key
        for key in (f"{name}.dw", f"{bn}.dx", f"{bn}.dgamma", f"{bn}.dbeta"):
            assert key in g, key
        assert g[f"{name}.dw"].dtype == np.int64 and np.abs(g[f"{name}.dw"]).max() < 2 ** 31
    assert t["fc.logits"].shape == (4, 10) and g["fc.dw"].shape == (10, SPEC.blocks[-1][0])


def test_batch_norm_within_fp16_bound_of_float32(step):
    """Each BN forward against float32 F.batch_norm (training) on the model's own
    FP16 input: |y - ref| <= 8 u16 (1 + |ref|) (a handful of binary16 roundings:
    mean, var, rsqrt, two multiplies and an add, each at most u16 relative, scaled
    by |xhat| <= sqrt(N))."""
    _, p, t, _, _, _ = step
    for name, *_ in SPEC.convs():
        bn = name.replace("conv", "bn")
        x = torch.from_numpy(t[f"{name}.out"].astype(np.float32))
        ref = F.batch_norm(x, None, None, torch.from_numpy(p.gamma[bn].astype(np.float32)),
                           torch.from_numpy(p.beta[bn].astype(np.float32)), training=True, eps=1e-5)
        if bn.endswith("bn1"):                     # bn2 feeds the residual add, without ReLU
            ref = F.relu(ref)
        ref = ref.numpy()
        err = np.abs(t[f"{bn}.out"].astype(np.float32) - ref)
        assert np.all(err <= 8 * U16 * (1 + np.abs(ref))), (bn, float(err.max()))


def test_end_to_end_against_float32_autograd(batch, step):
    """Every parameter's gradient against float32 autograd of the same network
    without quantization: cosine >= 0.95. INT8 with a power-of-two scale per
    tensor rounds each element by up to 1/254 of the tensor's range (measured on
    this batch: 0.966 to 1.000); a wrong sign, scale or routing anywhere drops it
    far below."""
    x16, labels = batch
    master, _, t, g, loss, d32 = step
    net = accel.torch_fp32(SPEC)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in master.items()}, strict=False)
    out = net(torch.from_numpy(x16.astype(np.float32)))
    ref_loss = F.cross_entropy(out, torch.from_numpy(labels))
    ref_loss.backward()
    assert abs(loss - ref_loss.item()) < 0.1
    grads = accel.master_grads(SPEC, g, d32)
    for name, prm in net.named_parameters():
        a, b = grads[name].ravel().astype(np.float64), prm.grad.numpy().ravel().astype(np.float64)
        cos = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
        assert cos >= 0.95, (name, cos)


def test_batch_order_does_not_change_bits(batch, step):
    """BN statistics are exact sums: the batch in another order gives every
    tensor's per-image bits unchanged (the RTL may deliver results in any order)."""
    x16, _ = batch
    _, p, t, _, _, _ = step
    perm = np.array([2, 0, 3, 1])
    tp = accel.forward(SPEC, p, x16[perm])
    for key in ("layers.1.bn2.out", "layers.1.out", "pool.out", "fc.logits"):
        assert np.array_equal(tp[key], t[key][perm]), key


def test_two_iterations_lower_the_loss(batch):
    x16, labels = batch
    master = accel.init_master(SPEC, seed=0)
    losses = [accel.train_step(SPEC, master, x16, labels, lr=0.1)[0] for _ in range(3)]
    assert losses[2] < losses[1] < losses[0], losses
