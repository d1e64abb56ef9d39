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
    return exponent_for_max(float(x.detach().abs().max()) if x.numel() else 0.0, qmax)


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


class _FakeQuant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = pow2_exponent(x)
        return dequantize(quantize(x, e), e)

    @staticmethod
    def backward(ctx, g):
        return g  # straight-through estimator


def fake_quant(x):
    """Quantize-dequantize with a per-tensor power-of-two scale; identity gradient."""
    return _FakeQuant.apply(x)
