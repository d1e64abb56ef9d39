"""ResNet-20 for CIFAR-10 (He et al. 2016, option-A identity shortcuts), in two
precisions sharing one structure and parameter names:

- hybrid (paper 004, IV): every convolution and the FC layer run in INT8 as
  the PE array computes them (models/quant.py): inputs, weights and, in BP, the
  output gradients are quantized per tensor with a power-of-two scale; the
  products accumulate exactly (INT32, exact in float32 here since every partial
  sum is an integer < 2^24 times one scale); weight gradients stay INT32.
  The INT32 results are handed to batch norm, which runs in FP16 (BN16).
- fp32: nn.Conv2d / nn.BatchNorm2d / nn.Linear in float32.

BN16 is a faithful float16 emulation of the BN unit (models/bn_ref.py): the
same binary16 operations in the same order, each rounded RNE (torch CPU half
ops: float32 compute + one rounding, exact for +,-,*), binary32 sums (but
torch's summation order, not the unit's sequential order), mean = sum *
RNE32(1/N), var clamped at 0, lambda = rsqrt rounded from float32 (the unit
rounds correctly; this can differ by 1 ULP in rare double-rounding cases).
The residual addition and ReLU after it run in float32 on the host.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from models import quant
from models.bn_ref import recip_f32

EPS = 1e-5


# ---------------------------------------------------------------- INT8 conv / FC
class _QConv(torch.autograd.Function):
    """conv2d on INT8 power-of-two-quantized tensors, FP and BP (dX, dW)."""

    @staticmethod
    def forward(ctx, x, w, stride, padding):
        qx, qw = quant.fake_quant(x), quant.fake_quant(w)
        ctx.save_for_backward(qx, qw)
        ctx.conf = (stride, padding)
        return F.conv2d(qx, qw, stride=stride, padding=padding)

    @staticmethod
    def backward(ctx, g):
        qx, qw = ctx.saved_tensors
        stride, padding = ctx.conf
        qg = quant.fake_quant(g)
        dx = torch.nn.grad.conv2d_input(qx.shape, qw, qg, stride=stride, padding=padding)
        dw = torch.nn.grad.conv2d_weight(qx, qw.shape, qg, stride=stride, padding=padding)
        return dx, dw, None, None


class _QLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        qx, qw = quant.fake_quant(x), quant.fake_quant(w)
        ctx.save_for_backward(qx, qw)
        return qx @ qw.t() + b

    @staticmethod
    def backward(ctx, g):
        qx, qw = ctx.saved_tensors
        qg = quant.fake_quant(g)
        return qg @ qw, qg.t() @ qx, g.sum(0)


class QConv2d(nn.Conv2d):
    def forward(self, x):
        return _QConv.apply(x, self.weight, self.stride, self.padding)


class QLinear(nn.Linear):
    def forward(self, x):
        return _QLinear.apply(x, self.weight, self.bias)


# ---------------------------------------------------------------- FP16 batch norm
def _stats16(a16, b16, n):
    """binary32 sums of a and a*b per channel (dims 0,2,3), means in FP16."""
    a32 = a16.float()
    s1 = a32.sum(dim=(0, 2, 3))
    b32 = a32 if b16 is a16 else b16.float()      # FP: a == b, one conversion
    s2 = (b32.mul_(a32) if b32 is not a32 else a32 * a32).sum(dim=(0, 2, 3))
    inv = float(recip_f32(n))
    return s1, s2, (s1 * inv).half(), (s2 * inv).half()


def _c(v):
    return v.view(1, -1, 1, 1)


class _BN16(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, gamma, beta):
        n = x.shape[0] * x.shape[2] * x.shape[3]
        x16 = x.half()
        _, _, mu, m2 = _stats16(x16, x16, n)
        var = torch.clamp(m2 - mu * mu, min=0)
        lam = torch.rsqrt(var.float() + torch.tensor(EPS).half().float()).half()
        g16, b16 = gamma.half(), beta.half()
        xh = (x16 - _c(mu)) * _c(lam)
        y = xh * _c(g16) + _c(b16)
        ctx.save_for_backward(xh, lam, g16)
        ctx.n = n
        return y.float(), mu.float(), var.float()

    @staticmethod
    def backward(ctx, dy, _dmu, _dvar):
        xh, lam, g16 = ctx.saved_tensors
        dy16 = dy.half()
        s1, s2, m1, m2 = _stats16(dy16, xh, ctx.n)
        gl = g16 * lam
        dx = _c(gl) * ((dy16 - _c(m1)) - xh * _c(m2))
        return dx.float(), s2.half().float(), s1.half().float()


class BN16(nn.BatchNorm2d):
    """BatchNorm2d whose training-mode FP and BP run through the FP16 unit's
    numerics; eval mode applies the same FP16 transform with running stats."""

    def forward(self, x):
        if self.training:
            y, mu, var = _BN16.apply(x, self.weight, self.bias)
            with torch.no_grad():
                n = x.numel() / x.shape[1]
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mu)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / max(n - 1, 1))
            return y
        lam = torch.rsqrt(self.running_var.half().float() + EPS).half()
        xh = (x.half() - _c(self.running_mean.half())) * _c(lam)
        return (xh * _c(self.weight.half()) + _c(self.bias.half())).float()


# ---------------------------------------------------------------- ResNet-20
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, conv, bn):
        super().__init__()
        self.conv1 = conv(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = bn(cout)
        self.conv2 = conv(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = bn(cout)
        self.pad = cout - cin
        self.stride = stride

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = x
        if self.stride != 1 or self.pad:
            sc = x[:, :, ::self.stride, ::self.stride]
            sc = F.pad(sc, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(out + sc)


class ResNet20(nn.Module):
    def __init__(self, hybrid=False, num_classes=10):
        super().__init__()
        self.hybrid = hybrid
        conv = QConv2d if hybrid else nn.Conv2d
        bn = BN16 if hybrid else nn.BatchNorm2d
        self.conv1 = conv(3, 16, 3, 1, 1, bias=False)
        self.bn1 = bn(16)
        layers, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                layers.append(BasicBlock(cin, cout, stride if i == 0 else 1, conv, bn))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = (QLinear if hybrid else nn.Linear)(64, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


def bn_layer_shapes(batch):
    """(name, channels, elements per channel) of the 19 BN layers."""
    shapes = [("bn1", 16, batch * 32 * 32)]
    hw, k = 32, 0
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(3):
            if i == 0 and stride == 2:
                hw //= 2
            for j in (1, 2):
                shapes.append((f"layers.{k}.bn{j}", cout, batch * hw * hw))
            k += 1
    return shapes


def bn1_feature_maps(n_images, seed=0, hybrid=True):
    """Real CIFAR-10 data at the first BN layer: the conv1 outputs (INT8 conv
    when hybrid) of a freshly initialised ResNet-20 on ``n_images`` strided test
    images, and the loss gradient at the output of bn1's ReLU (what the BN
    unit's BP receives before its ReLU mask) from one backward pass. Returns float32 numpy arrays (N, 16, 32, 32)."""
    import numpy as np
    from models.datasets import cifar_float, load_cifar10
    torch.manual_seed(seed)
    model = ResNet20(hybrid=hybrid)
    idx = np.arange(n_images) * (10_000 // max(n_images, 1)) + seed
    x, y = load_cifar10("test", indices=idx)
    x = torch.from_numpy(cifar_float(x))
    model.train()
    conv_out = model.conv1(x)
    r = F.relu(model.bn1(conv_out))
    r.retain_grad()
    out = model.layers(r)
    logits = model.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))
    F.cross_entropy(logits, torch.from_numpy(y.astype(np.int64))).backward()
    return conv_out.detach().numpy(), r.grad.numpy()
