"""INT8 quantization as the PE array computes it; shared by the PE-array
testbench and the hybrid-precision ResNet-20.

- A tensor is quantized with a power-of-two scale 2^e per tensor: q = clamp(
  round_half_even(x / 2^e), -128, 127), with e the smallest integer such that
  max|x| <= 127 * 2^e.
- Products accumulate exactly in INT32 (the array saturates nowhere; shapes
  are sized so that INT32 cannot overflow: 9*C*128*128 < 2^31 for C <= 14k).
- Outputs that go on to the next layer are requantized from INT32 by an
  arithmetic right shift with round-to-nearest, ties up (add 2^(shift-1)),
  then saturated to [-128, 127]. Weight gradients stay INT32.
"""

import math

import torch

INT8_MIN, INT8_MAX = -128, 127


def pow2_exponent(x, qmax=INT8_MAX):
    """Smallest integer e with max|x| <= qmax * 2^e (0 for an all-zero tensor)."""
    return exponent_for_max(max_abs(x), qmax)


def max_abs(x):
    """max|x| as a float (0.0 for an empty tensor, NaN if x holds a NaN), as
    float(x.abs().max()) but in one pass over x (its min and max) without the
    copy that x.abs() allocates."""
    if not x.numel():
        return 0.0
    lo, hi = torch.aminmax(x.detach())
    return float(torch.maximum(hi, -lo))     # NaN if either is; one device sync


def exponent_for_max(m, qmax=INT8_MAX):
    """Smallest integer e with m <= qmax * 2^e, for a float m >= 0 (0 for 0, inf or NaN)."""
    if m == 0.0 or not math.isfinite(m):
        return 0
    e = math.ceil(math.log2(m / qmax))      # a guess: the division and log2 round
    while m > math.ldexp(qmax, e):           # exact comparisons settle it
        e += 1
    while m <= math.ldexp(qmax, e - 1):
        e -= 1
    return e


def quantize(x, e):
    """float -> int8 tensor at scale 2^e, round half to even, saturate."""
    return torch.clamp(torch.round(x * (2.0 ** -e)), INT8_MIN, INT8_MAX).to(torch.int8)


def dequantize(q, e):
    return q.to(torch.float32) * (2.0 ** e)


def requantize(acc, shift):
    """int32 accumulator -> int8: arithmetic shift right by `shift` (>= 0),
    round to nearest with ties up, saturate."""
    acc = acc.to(torch.int64)
    if shift > 0:
        acc = (acc + (1 << (shift - 1))) >> shift
    return torch.clamp(acc, INT8_MIN, INT8_MAX).to(torch.int8)


def quant_dequant(x, e):
    """dequantize(quantize(x, e), e) bit for bit, without the int8 tensor:
    round(x * 2^-e) is float32 already, an integer in [-128, 127] after the
    clamp, exact in float32, and times 2^e the same float32 product as
    dequantize's. Four in-place passes after one copy. (A NaN stays NaN here;
    the int8 cast's result for it is unspecified.)"""
    if x.dtype != torch.float32:
        return dequantize(quantize(x, e), e)
    y = x * (2.0 ** -e)
    y.round_()
    y.clamp_(INT8_MIN, INT8_MAX)
    y.add_(0.0)                          # -0.0 -> +0.0, as through the int8 tensor
    return y.mul_(2.0 ** e)


class _FakeQuant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return quant_dequant(x, pow2_exponent(x))

    @staticmethod
    def backward(ctx, g):
        return g  # straight-through estimator


def fake_quant(x):
    """Quantize-dequantize with a per-tensor power-of-two scale; identity gradient."""
    return _FakeQuant.apply(x)
