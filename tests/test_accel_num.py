"""models/accel_num.py against independent definitions: the scale against its
defining inequality, the INT8 quantization against quant.py (torch), INT32 ->
FP16 against exact rational rounding."""

from fractions import Fraction

import numpy as np
import torch

from models import quant
from models.accel_num import amax_exponent, f16_to_i8, i32_to_f16

ALL_F16 = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
FINITE = ALL_F16[np.isfinite(ALL_F16)]
F16_VALUES = np.unique(FINITE.astype(np.float64))          # sorted; +-0 as one


def _round_f16(r):
    """RNE binary16 of a Fraction, by exhaustive neighbours (the reference)."""
    vals = F16_VALUES
    top = Fraction(65504) + Fraction(16)          # the overflow threshold: 65504 + half an ULP
    if r >= top:
        return np.float16(np.inf)
    if r <= -top:
        return np.float16(-np.inf)
    i = np.searchsorted(vals, float(r))
    cands = [vals[j] for j in (i - 1, i, i + 1) if 0 <= j < len(vals)]
    best = min(cands, key=lambda v: (abs(Fraction(v) - r), int(np.float16(v).view(np.uint16)) & 1))
    return np.float16(-0.0) if best == 0 and r < 0 else np.float16(best)   # IEEE: the sign survives


def test_i32_to_f16_rounds_once():
    rng = np.random.default_rng(0)
    acc = np.concatenate([rng.integers(-2 ** 31, 2 ** 31, 400), rng.integers(-5000, 5000, 200),
                          [0, 1, -1, 2047, 2049, 2051, 4097, 4099, 2 ** 31 - 1, -2 ** 31]]).astype(np.int64)
    for k in (-40, -30, -24, -12, -3, 0, 2, 5):
        got = i32_to_f16(acc, k)
        for a, g in zip(acc, got):
            want = _round_f16(Fraction(int(a)) * Fraction(2) ** k)
            assert g.view(np.uint16) == want.view(np.uint16), (int(a), k, g, want)


def test_amax_exponent_meets_its_definition():
    """e is the smallest integer with max|x| <= 127 * 2^e: 127 * 2^(e-1) < max|x|
    <= 127 * 2^e, checked in exact rational arithmetic."""
    rng = np.random.default_rng(1)
    cases = [FINITE, np.float16([127 * 2.0 ** -20, -1e-7])]
    cases += [(rng.standard_normal(50) * 10.0 ** rng.integers(-7, 5)).astype(np.float16) for _ in range(300)]
    cases += [np.float16([v]) for v in FINITE[::97] if v != 0]
    for x in cases:
        e, m, finite = amax_exponent(x)
        top = Fraction(float(np.abs(x.astype(np.float64)).max()))
        assert finite and m == top
        assert 127 * Fraction(2) ** (e - 1) < top <= 127 * Fraction(2) ** e, (top, e)
    assert amax_exponent(np.zeros(5, np.float16))[:2] == (0, 0)
    assert not amax_exponent(np.float16([1.0, np.inf]))[2]
    assert not amax_exponent(np.float16([np.nan]))[2]


def test_f16_to_i8_is_quantize():
    for e in range(-30, 12):
        got = f16_to_i8(FINITE, e)
        want = quant.quantize(torch.from_numpy(FINITE.astype(np.float32)), e).numpy()
        assert np.array_equal(got, want), e
    assert np.array_equal(f16_to_i8(np.float16([np.nan, np.inf, -np.inf]), 0), [0, 127, -128])


def test_round_fraction_f16():
    from models.accel_num import round_fraction_f16
    rng = np.random.default_rng(2)
    cases = [Fraction(int(n), int(d)) for n, d in zip(rng.integers(-10 ** 9, 10 ** 9, 300),
                                                       rng.integers(1, 10 ** 6, 300))]
    cases += [Fraction(float(v)) for v in FINITE[::37]] + [Fraction(65520), Fraction(65519), Fraction(1, 2 ** 25),
                                                    Fraction(3, 2 ** 26), Fraction(-1, 2 ** 26), Fraction(0)]
    cases += [(Fraction(a) + Fraction(b)) / 2 for a, b in zip(F16_VALUES[:-1:211], F16_VALUES[1::211])]  # ties
    for r in cases:
        assert round_fraction_f16(r).view(np.uint16) == _round_f16(r).view(np.uint16), r
