import torch

from models.quant import dequantize, fake_quant, pow2_exponent, quantize, requantize


def test_pow2_exponent_covers_range():
    x = torch.tensor([0.3, -5.0, 2.0])
    e = pow2_exponent(x)
    assert 5.0 <= 127 * 2.0 ** e and 5.0 > 127 * 2.0 ** (e - 1)
    q = quantize(x, e)
    assert q.dtype == torch.int8 and int(q.abs().max()) <= 127


def test_round_half_even_and_saturation():
    q = quantize(torch.tensor([0.5, 1.5, 2.5, -0.5, 300.0, -300.0]), 0)
    assert q.tolist() == [0, 2, 2, 0, 127, -128]
    assert dequantize(q, 1).tolist() == [0.0, 4.0, 4.0, 0.0, 254.0, -256.0]


def test_requantize_ties_up_and_saturates():
    acc = torch.tensor([5, 6, 7, -5, -6, -7, 100000, -100000], dtype=torch.int32)
    # shift 2: 5/4=1.25->1, 6/4=1.5->2, 7/4=1.75->2, -1.25->-1, -1.5->-1 (ties up), -1.75->-2
    assert requantize(acc, 2).tolist() == [1, 2, 2, -1, -1, -2, 127, -128]
    assert requantize(torch.tensor([3, -200], dtype=torch.int32), 0).tolist() == [3, -128]


def test_fake_quant_straight_through():
    x = torch.randn(50, requires_grad=True)
    y = fake_quant(x)
    y.sum().backward()
    assert torch.equal(x.grad, torch.ones(50))
    assert (y - x).abs().max() <= 2.0 ** pow2_exponent(x) / 2 + 1e-7


def test_pow2_exponent_is_exact_at_the_boundaries():
    """The exponent rests on exact comparisons, not on log2's rounding: max|x|
    exactly 127 * 2^e gives e, the next float above it e + 1."""
    import math
    import torch
    for dtype in (torch.float32, torch.float64):
        for e in range(-30, 20):
            top = math.ldexp(127, e)
            assert pow2_exponent(torch.tensor([top, -top / 2], dtype=dtype)) == e
            above = torch.nextafter(torch.tensor([top], dtype=dtype), torch.tensor([math.inf], dtype=dtype))
            assert pow2_exponent(above) == e + 1, (dtype, e)      # float64: top / 127 rounds to 2^e
            assert pow2_exponent(-above) == e + 1
