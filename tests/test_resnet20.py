"""Fast checks of the ResNet-20 models (seconds): shapes of FP and BP, the
INT8 quantization actually used by the hybrid convolutions, the FP16 BN
emulation against the bit-accurate BN model, and a few SGD steps that lower
the loss on a small CIFAR-10 batch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models import quant
from models.bn_ref import bn_forward
from models.datasets import cifar_float, load_cifar10
from models.resnet20 import BN16, QConv2d, ResNet20, bn_layer_shapes

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def batch():
    x, y = load_cifar10("test", indices=np.arange(0, 10_000, 625))   # 16 images, all classes
    return torch.from_numpy(cifar_float(x)), torch.from_numpy(y.astype(np.int64))


@pytest.mark.parametrize("hybrid", [True, False])
def test_shapes_and_grads(batch, hybrid):
    x, y = batch
    torch.manual_seed(0)
    model = ResNet20(hybrid=hybrid)
    out = model(x)
    assert out.shape == (16, 10)
    F.cross_entropy(out, y).backward()
    n_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    n_conv = sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    assert n_bn == len(bn_layer_shapes(1)) == 19 and n_conv == 19
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
        assert torch.isfinite(p.grad).all(), name
    assert all(isinstance(m, QConv2d) == hybrid for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert all(isinstance(m, BN16) == hybrid for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_qconv_is_int8(batch):
    """Forward = conv of INT8 power-of-two tensors (exact integers times one
    scale); backward quantizes the output gradient the same way."""
    x, _ = batch
    torch.manual_seed(1)
    conv = QConv2d(3, 16, 3, 1, 1, bias=False)
    xr = x.clone().requires_grad_(True)
    y = conv(xr)
    ex, ew = quant.pow2_exponent(x), quant.pow2_exponent(conv.weight)
    qx, qw = quant.quantize(x, ex), quant.quantize(conv.weight.detach(), ew)
    acc = F.conv2d(qx.double(), qw.double(), padding=1)          # exact integer products
    assert torch.equal(y.detach().double(), acc * 2.0 ** (ex + ew))
    assert torch.equal(acc, acc.round()) and acc.abs().max() < 2 ** 24
    g = torch.randn_like(y) * 1e-3
    y.backward(g)
    eg = quant.pow2_exponent(g)
    qg = quant.dequantize(quant.quantize(g, eg), eg)
    dx = torch.nn.grad.conv2d_input(x.shape, quant.dequantize(qw, ew), qg, padding=1)
    assert torch.allclose(xr.grad, dx, rtol=0, atol=1e-12)
    # a fp32 conv differs: quantization is really applied
    assert not torch.equal(y.detach(), F.conv2d(x, conv.weight.detach(), padding=1))


def test_bn16_matches_bit_accurate_model(batch):
    """The training BN16 follows the unit's numerics: per channel, y agrees
    with models/bn_ref.py bit for bit except where the binary32 summation
    order moves a mean by one binary16 ULP."""
    x, _ = batch
    torch.manual_seed(2)
    feats = ResNet20(hybrid=True).conv1(x).detach()
    bn = BN16(16)
    with torch.no_grad():
        bn.weight.copy_(1 + 0.1 * torch.randn(16))
        bn.bias.copy_(0.1 * torch.randn(16))
    y = bn(feats).detach().numpy()
    same = 0
    for c in range(16):
        xc = feats[:, c].numpy().astype(np.float16).ravel()
        r = bn_forward(xc, bn.weight[c].half().item(), bn.bias[c].half().item(), relu=False)
        yc = y[:, c].ravel()
        same += int(np.array_equal(yc.astype(np.float16), r["y"]))
        assert np.max(np.abs(yc - r["y"].astype(np.float32))) <= 4 * 2.0 ** -10 * (1 + np.abs(yc).max())
    assert same >= 12, f"only {same}/16 channels bit-identical"


@pytest.mark.parametrize("hybrid", [True, False])
def test_sgd_lowers_loss(batch, hybrid):
    x, y = batch
    torch.manual_seed(3)
    model = ResNet20(hybrid=hybrid)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(6):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0], losses
