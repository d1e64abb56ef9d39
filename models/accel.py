"""Bit-accurate model of the accelerator's training iteration (docs/accel.md),
in the hardware's order of operations: the reference the system RTL is to be
checked against, element by element.

A network is a ResNet of option-A basic blocks (models/resnet20.py's
structure and parameter names): conv1 -> bn1 -> ReLU, blocks
(conv1 -> bn1 -> ReLU -> conv2 -> bn2, + shortcut, ReLU), average pooling, FC.
`NetSpec.resnet20()` is ResNet-20; `NetSpec.small()` the CI network (a
stride-1 block and a stride-2 block with its shortcut).

Per tensor (every name below is a key of the dicts `forward` and `backward`
return):
- activations between layers are FP16; a convolution quantizes its FP16 input
  to INT8 with the exponent the hardware tracked when the tensor was written
  (models/accel_num), its weights are INT8 with the host's exponent, the
  products sum exactly, and the INT32 result becomes FP16 rounded once;
- batch norm: models/bn_ref with the accelerator's order-free exact
  statistics, per channel over (N, H, W);
- the residual sum is one binary16 add, then ReLU (its mask is saved);
- pooling: a binary32 sum over H x W in row-major order, times RNE32(1/HW),
  rounded to FP16; its backward pass is dfeat * RNE16(1/HW);
- FC: INT32 logits and their exponent go to the host, which returns the loss
  gradient as FP16; weight gradients are INT32 with their exponent.
"""

from dataclasses import dataclass

import numpy as np

from models import bn_ref
from models.accel_num import amax_exponent, f16_to_i8, i32_to_f16

F16 = np.float16


@dataclass(frozen=True)
class NetSpec:
    in_ch: int = 3
    stem: int = 16
    blocks: tuple = ((16, 1),) * 3 + ((32, 2), (32, 1), (32, 1)) + ((64, 2), (64, 1), (64, 1))
    classes: int = 10

    @classmethod
    def resnet20(cls):
        return cls()

    @classmethod
    def small(cls):
        return cls(stem=8, blocks=((8, 1), (16, 2)))

    def block_io(self):
        """(name, cin, cout, stride) of every block."""
        out, cin = [], self.stem
        for k, (cout, stride) in enumerate(self.blocks):
            out.append((f"layers.{k}", cin, cout, stride))
            cin = cout
        return out

    def convs(self):
        """(name, cin, cout, stride) of every 3x3 convolution."""
        out = [("conv1", self.in_ch, self.stem, 1)]
        for name, cin, cout, stride in self.block_io():
            out += [(f"{name}.conv1", cin, cout, stride), (f"{name}.conv2", cout, cout, 1)]
        return out

    def bns(self):
        return [(c.replace("conv", "bn"), cout) for c, _, cout, _ in self.convs()]


# ---------------------------------------------------------------- integer convolutions
def _t(a):
    import torch
    return torch.from_numpy(np.asarray(a, np.float64))


def _exact(r):
    out = r.round().to(dtype=__import__("torch").int64).numpy()
    assert np.all(np.abs(out) < 2 ** 31), "INT32 accumulator overflow"
    return out


def conv_fp(qx, qw, stride):
    import torch.nn.functional as F
    return _exact(F.conv2d(_t(qx), _t(qw), stride=stride, padding=1))      # float64: every sum is exact


def conv_bp(qg, qw, x_shape, stride):
    import torch
    return _exact(torch.nn.grad.conv2d_input(x_shape, _t(qw), _t(qg), stride=stride, padding=1))


def conv_wg(qx, qg, w_shape, stride):
    import torch
    return _exact(torch.nn.grad.conv2d_weight(_t(qx), w_shape, _t(qg), stride=stride, padding=1))


def fc_fp(qx, qw):
    """(N, C) x (K, C) -> (N, K) INT32 logits."""
    return _exact(_t(qx) @ _t(qw).T)


def fc_bp(qg, qw):
    """(N, K) x (K, C) -> (N, C) INT32 feature gradients."""
    return _exact(_t(qg) @ _t(qw))


def fc_wg(qg, qx):
    """(N, K) x (N, C) -> (K, C) INT32 weight gradients."""
    return _exact(_t(qg).T @ _t(qx))


# ---------------------------------------------------------------- the other operations
def quantized(x16):
    """An FP16 tensor as a convolution loads it: (int8, exponent)."""
    e, _, finite = amax_exponent(x16)
    assert finite, "a non-finite activation reached a convolution"
    return f16_to_i8(x16, e), e


def batch_norm_fp(y16, gamma16, beta16, relu):
    n, c = y16.shape[:2]
    out = {k: np.empty_like(y16) for k in ("y", "xhat")}
    out["mask"] = np.empty(y16.shape, np.uint8)
    stats = {k: np.empty(c, F16) for k in ("mu", "var", "lam")}
    for ch in range(c):
        r = bn_ref.bn_forward(y16[:, ch].ravel(), gamma16[ch], beta16[ch], relu=relu, exact_stats=True)
        for k in out:
            out[k][:, ch] = r[k].reshape(y16[:, ch].shape)
        for k in stats:
            stats[k][ch] = r[k]
    return out, stats


def batch_norm_bp(dy16, xhat16, mask, gamma16, lam16, relu):
    dx = np.empty_like(dy16)
    dgamma, dbeta = np.empty(dy16.shape[1], F16), np.empty(dy16.shape[1], F16)
    for ch in range(dy16.shape[1]):
        r = bn_ref.bn_backward(dy16[:, ch].ravel(), xhat16[:, ch].ravel(), mask[:, ch].ravel(),
                               gamma16[ch], lam16[ch], relu=relu, exact_stats=True)
        dx[:, ch] = r["dx"].reshape(dy16[:, ch].shape)
        dgamma[ch], dbeta[ch] = r["dgamma"], r["dbeta"]
    return dx, dgamma, dbeta


def relu_with_mask(s16):
    mask = (~np.signbit(s16) & (s16 != 0)).astype(np.uint8)
    return np.where(mask != 0, s16, F16(0.0)).astype(F16), mask


def shortcut_fp(x16, cout, stride):
    """Option A: subsample by the stride, zero channels split around the input's."""
    sc = x16[:, :, ::stride, ::stride]
    pad = cout - x16.shape[1]
    return np.pad(sc, ((0, 0), (pad // 2, pad - pad // 2), (0, 0), (0, 0))).astype(F16)


def shortcut_bp(d16, cin, stride, x_shape):
    pad = d16.shape[1] - cin
    out = np.zeros(x_shape, F16)
    out[:, :, ::stride, ::stride] = d16[:, pad // 2:pad // 2 + cin]
    return out


def avgpool_fp(x16):
    n, c, h, w = x16.shape
    flat = x16.astype(np.float32).reshape(n * c, h * w)
    s = np.zeros(n * c, np.float32)
    for j in range(h * w):                                  # sequential, row-major
        s = (s + flat[:, j]).astype(np.float32)
    inv = bn_ref.recip_f32(h * w)
    return (s * inv).astype(np.float32).astype(F16).reshape(n, c)


def avgpool_bp(dfeat16, shape):
    from fractions import Fraction

    from models.accel_num import round_fraction_f16
    inv = round_fraction_f16(Fraction(1, shape[2] * shape[3]))
    d = (dfeat16 * inv).astype(F16)
    return np.broadcast_to(d[:, :, None, None], shape).astype(F16)


# ---------------------------------------------------------------- the iteration
@dataclass
class ChipParams:
    """What the host writes for an iteration: INT8 weights with exponents, FP16 gamma/beta."""
    qw: dict        # conv / fc name -> int8 array
    ew: dict        # name -> exponent
    gamma: dict     # bn name -> float16 (C,)
    beta: dict

    @classmethod
    def from_master(cls, spec, master):
        """master: {parameter name: float32 numpy array} (ResNet20 state_dict names)."""
        import torch

        from models import quant
        qw, ew, gamma, beta = {}, {}, {}, {}
        for name, *_ in spec.convs() + [("fc",)]:
            w = torch.from_numpy(np.asarray(master[f"{name}.weight"], np.float32))
            ew[name] = quant.pow2_exponent(w)
            qw[name] = quant.quantize(w, ew[name]).numpy()
        for name, _ in spec.bns():
            gamma[name] = np.asarray(master[f"{name}.weight"]).astype(F16)
            beta[name] = np.asarray(master[f"{name}.bias"]).astype(F16)
        return cls(qw, ew, gamma, beta)


def _conv_bn(t, p, name, x16, stride, relu):
    """Convolution `name` and its batch norm; records every tensor in t."""
    qx, ex = quantized(x16)
    acc = conv_fp(qx, p.qw[name], stride)
    y16 = i32_to_f16(acc, ex + p.ew[name])
    bn = name.replace("conv", "bn")
    out, stats = batch_norm_fp(y16, p.gamma[bn], p.beta[bn], relu)
    t[f"{name}.in_q"], t[f"{name}.in_e"], t[f"{name}.out"] = qx, ex, y16
    t[f"{bn}.out"], t[f"{bn}.xhat"], t[f"{bn}.mask"] = out["y"], out["xhat"], out["mask"]
    for k, v in stats.items():
        t[f"{bn}.{k}"] = v
    return out["y"]


def forward(spec, p, x16):
    """x16: FP16 images (N, C, H, W). Returns {tensor name: value} of everything
    the accelerator computes in FP, ending with 'fc.logits' (INT32) and
    'fc.logits_e' (the exponent: logits = INT32 * 2^e)."""
    t = {"input": x16}
    h = _conv_bn(t, p, "conv1", x16, 1, relu=True)
    for name, cin, cout, stride in spec.block_io():
        t[f"{name}.in"] = h
        a = _conv_bn(t, p, f"{name}.conv1", h, stride, relu=True)
        b = _conv_bn(t, p, f"{name}.conv2", a, 1, relu=False)
        s = (b + shortcut_fp(h, cout, stride)).astype(F16)
        h, t[f"{name}.add_mask"] = relu_with_mask(s)
        t[f"{name}.out"] = h
    t["pool.in_shape"] = h.shape
    feat = avgpool_fp(h)
    qf, ef = quantized(feat)
    t["pool.out"], t["fc.in_q"], t["fc.in_e"] = feat, qf, ef
    t["fc.logits"] = fc_fp(qf, p.qw["fc"])
    t["fc.logits_e"] = ef + p.ew["fc"]
    return t


def backward(spec, p, t, dlogits16):
    """dlogits16: the host's loss gradient (N, classes), FP16. Returns
    {name: value}: every gradient tensor, 'NAME.dw' (INT32) with
    'NAME.dw_e' for each conv and fc, 'BN.dgamma' / 'BN.dbeta' (FP16)."""
    g = {}
    qg, eg = quantized(dlogits16)
    g["fc.dout_q"], g["fc.dout_e"] = qg, eg
    g["fc.dw"] = fc_wg(qg, t["fc.in_q"])
    g["fc.dw_e"] = eg + t["fc.in_e"]
    dfeat = i32_to_f16(fc_bp(qg, p.qw["fc"]), eg + p.ew["fc"])
    g["pool.dout"] = dfeat
    d = avgpool_bp(dfeat, t["pool.in_shape"])
    for name, cin, cout, stride in reversed(spec.block_io()):
        g[f"{name}.dout"] = d
        ds = np.where(t[f"{name}.add_mask"] != 0, d, F16(0.0)).astype(F16)
        d_sc = ds if (stride == 1 and cin == cout) else shortcut_bp(ds, cin, stride, t[f"{name}.in"].shape)
        da = _conv_bn_bp(g, p, t, f"{name}.conv2", ds, 1, relu=False, need_dx=True)
        dh = _conv_bn_bp(g, p, t, f"{name}.conv1", da, stride, relu=True, need_dx=True)
        d = (dh + d_sc).astype(F16)
    g["conv1.dout"] = d
    _conv_bn_bp(g, p, t, "conv1", d, 1, relu=True, need_dx=False)
    return g


def _conv_bn_bp(g, p, t, name, dy16, stride, relu, need_dx):
    bn = name.replace("conv", "bn")
    dy, dgamma, dbeta = batch_norm_bp(dy16, t[f"{bn}.xhat"], t[f"{bn}.mask"], p.gamma[bn], t[f"{bn}.lam"], relu)
    g[f"{bn}.dx"], g[f"{bn}.dgamma"], g[f"{bn}.dbeta"] = dy, dgamma, dbeta
    qg, eg = quantized(dy)
    g[f"{name}.dout_q"], g[f"{name}.dout_e"] = qg, eg
    qx = t[f"{name}.in_q"]
    g[f"{name}.dw"] = conv_wg(qx, qg, p.qw[name].shape, stride)
    g[f"{name}.dw_e"] = eg + t[f"{name}.in_e"]
    if not need_dx:
        return None
    dx16 = i32_to_f16(conv_bp(qg, p.qw[name], qx.shape, stride), eg + p.ew[name])
    g[f"{name}.dx"] = dx16
    return dx16


def master_grads(spec, g, dlogits32):
    """The host's view: float32 gradients by ResNet20 parameter name (the FC
    bias, which stays on the host, from the loss gradient)."""
    out = {}
    for name, *_ in spec.convs() + [("fc",)]:
        out[f"{name}.weight"] = np.ldexp(g[f"{name}.dw"].astype(np.float64), g[f"{name}.dw_e"]).astype(np.float32)
    for name, _ in spec.bns():
        out[f"{name}.weight"] = g[f"{name}.dgamma"].astype(np.float32)
        out[f"{name}.bias"] = g[f"{name}.dbeta"].astype(np.float32)
    out["fc.bias"] = np.asarray(dlogits32, np.float32).sum(0)
    return out


# ---------------------------------------------------------------- host side and FP32 reference
def init_master(spec, seed=0):
    """Kaiming-normal conv / FC weights (numpy's generator: the same bits on
    every machine), gamma 1, beta 0, FC bias 0; float32, ResNet20 names."""
    rng = np.random.default_rng(seed)
    m = {}
    for name, cin, cout, _ in spec.convs():
        m[f"{name}.weight"] = (rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2.0 / (9 * cin))).astype(np.float32)
    for name, c in spec.bns():
        m[f"{name}.weight"], m[f"{name}.bias"] = np.ones(c, np.float32), np.zeros(c, np.float32)
    c = spec.blocks[-1][0]
    m["fc.weight"] = (rng.standard_normal((spec.classes, c)) * np.sqrt(2.0 / c)).astype(np.float32)
    m["fc.bias"] = np.zeros(spec.classes, np.float32)
    return m


def host_loss_grad(t, fc_bias, labels):
    """The host's part between FP and BP: logits = INT32 * 2^e + bias (float32),
    mean cross-entropy, its gradient. Returns (loss, dlogits float32, dlogits FP16)."""
    import mpmath
    logits = np.ldexp(t["fc.logits"].astype(np.float64), t["fc.logits_e"]).astype(np.float32) + fc_bias
    n = len(labels)
    d32 = np.empty(logits.shape, np.float32)
    loss = mpmath.mpf(0)
    with mpmath.workdps(30):        # exact enough to round once: numpy's exp differs by SIMD kernel
        for i, row in enumerate(logits):
            e = [mpmath.exp(mpmath.mpf(float(v))) for v in row]
            total = mpmath.fsum(e)
            loss -= mpmath.log(e[labels[i]] / total) / n
            for j, ej in enumerate(e):
                d32[i, j] = np.float32(float((ej / total - (j == labels[i])) / n))
    return float(loss), d32, d32.astype(F16)


def train_step(spec, master, x16, labels, lr):
    """One iteration as the host runs it; updates `master` in place (SGD).
    Returns (loss, forward tensors, gradient tensors)."""
    p = ChipParams.from_master(spec, master)
    t = forward(spec, p, x16)
    loss, d32, d16 = host_loss_grad(t, master["fc.bias"], labels)
    g = backward(spec, p, t, d16)
    for k, v in master_grads(spec, g, d32).items():
        master[k] -= np.float32(lr) * v
    return loss, t, g


def torch_fp32(spec):
    """The same network in float32 PyTorch (nn.Conv2d, nn.BatchNorm2d, option-A
    blocks from models/resnet20.py), for the autograd comparison."""
    import torch.nn as nn
    import torch.nn.functional as F

    from models.resnet20 import BasicBlock

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(spec.in_ch, spec.stem, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(spec.stem)
            self.layers = nn.Sequential(*[BasicBlock(cin, cout, s, nn.Conv2d, nn.BatchNorm2d)
                                          for _, cin, cout, s in spec.block_io()])
            self.fc = nn.Linear(spec.blocks[-1][0], spec.classes)

        def forward(self, x):
            x = F.relu(self.bn1(self.conv1(x)))
            x = self.layers(x)
            return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))

    return Net()
