"""The accelerator's number conversions (docs/accel.md, "Numerics"), written
from their definitions in exact arithmetic: the reference of rtl/accel's
converters and the building blocks of the system model.

- amax_exponent: the per-tensor power-of-two scale the hardware tracks on its
  write path: e = the smallest integer with max|x| <= 127 * 2^e (0 for an
  all-zero tensor), the same rule as models/quant.pow2_exponent.
- f16_to_i8: q = clamp(RNE(x * 2^-e), -128, 127), as models/quant.quantize
  (inf saturates by its sign, NaN gives 0).
- i32_to_f16: RNE16(acc * 2^k), one rounding (subnormals kept, overflow to
  +-inf).

Every value a binary16 holds is an integer times 2^-24 and float64 holds
every INT32 times a power of two exactly, so float64 intermediates below are
exact and each function rounds once.
"""

import numpy as np

from models.quant import exponent_for_max

INT8_MIN, INT8_MAX = -128, 127


def amax_exponent(x16):
    """float16 array -> (e, max|x| as float16, finite). A NaN or inf element
    makes finite False (and e is then meaningless: the hardware flags it)."""
    a = np.abs(np.asarray(x16, dtype=np.float16).ravel())
    finite = bool(np.all(np.isfinite(a)))
    if not finite or a.size == 0:
        return 0, np.float16(np.nan if not finite else 0.0), finite
    m = float(a.max())
    return exponent_for_max(m), np.float16(m), True


def f16_to_i8(x16, e):
    """float16 array, exponent e -> int8 array at scale 2^e (RNE, saturate;
    +-inf saturates by its sign, NaN gives 0: the converter also flags both)."""
    x = np.asarray(x16, dtype=np.float16).astype(np.float64)
    q = np.clip(np.rint(np.ldexp(np.nan_to_num(x, nan=0.0, posinf=np.inf, neginf=-np.inf), -int(e))),
                INT8_MIN, INT8_MAX)
    return q.astype(np.int8)


def i32_to_f16(acc, k):
    """int32/int64 array, exponent k -> float16 array of acc * 2^k, rounded once (RNE)."""
    acc = np.asarray(acc, dtype=np.int64)
    assert np.all(np.abs(acc) < 2 ** 53), "acc * 2^k must be exact in float64"
    with np.errstate(over="ignore"):
        return np.ldexp(acc.astype(np.float64), int(k)).astype(np.float16)


def round_fraction_f16(r):
    """RNE binary16 of a rational (fractions.Fraction or int): subnormals kept,
    overflow to +-inf, an exact zero is +0, a negative value that rounds to 0 is -0."""
    from fractions import Fraction
    r = Fraction(r)
    if r == 0:
        return np.float16(0.0)
    a = abs(r)
    e = a.numerator.bit_length() - a.denominator.bit_length()      # 2^e <= a < 2^(e+2)
    if Fraction(2) ** e > a:
        e -= 1
    quantum = Fraction(2) ** (max(e, -14) - 10)                     # one ULP at a's binade
    n, rem = divmod(a / quantum, 1)
    n = int(n)
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and n & 1):
        n += 1
    v = n * quantum
    out = np.float16(np.inf) if v > 65504 else np.float16(float(v))
    return -out if r < 0 else out
