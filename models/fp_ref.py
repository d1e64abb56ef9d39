"""IEEE-754 reference for the float units, written from IEEE 754-2008.

Values come from numpy (binary32 on the host FPU; binary16 by rounding the
exact float64 result once). Flags come from exact float64 arithmetic: every
binary16 sum and product, and every binary32 product, is exact in float64;
binary32 sums use TwoSum to carry the rounding error. Conventions the hardware
is specified to follow and this model implements:

- round to nearest, ties to even; subnormals kept (no flush to zero);
- any NaN result is the canonical quiet NaN (sign 0, fraction MSB only);
- NV on a signalling NaN operand, inf - inf, 0 * inf;
- OF when a finite computation rounds to infinity (NX too);
- UF when the result is tiny *after rounding* and inexact;
- flags packed as {NV, DZ, OF, UF, NX}, bit 4 .. bit 0.
"""

from dataclasses import dataclass

import numpy as np

NV, DZ, OF, UF, NX = 16, 8, 4, 2, 1


@dataclass(frozen=True)
class Format:
    name: str
    exp_w: int
    man_w: int
    float_t: type
    uint_t: type

    @property
    def width(self):
        return 1 + self.exp_w + self.man_w

    @property
    def bias(self):
        return (1 << (self.exp_w - 1)) - 1

    @property
    def emin(self):
        return 1 - self.bias

    @property
    def qnan(self):
        return ((1 << self.exp_w) - 1) << self.man_w | 1 << (self.man_w - 1)

    def to_float(self, bits):
        return np.asarray(bits, dtype=self.uint_t).view(self.float_t)

    def to_bits(self, x):
        return np.asarray(x, dtype=self.float_t).view(self.uint_t)


FP32 = Format("fp32", 8, 23, np.float32, np.uint32)
FP16 = Format("fp16", 5, 10, np.float16, np.uint16)
FORMATS = {f.name: f for f in (FP32, FP16)}


def is_snan(bits, fmt):
    bits = np.asarray(bits, dtype=np.uint64)
    exp = (bits >> fmt.man_w) & ((1 << fmt.exp_w) - 1)
    frac = bits & ((1 << fmt.man_w) - 1)
    quiet = (bits >> (fmt.man_w - 1)) & 1
    return (exp == (1 << fmt.exp_w) - 1) & (frac != 0) & (quiet == 0)


def _two_sum(a, b):
    s = a + b
    bb = s - a
    err = (a - (s - bb)) + (b - bb)
    return s, err


def reference(op, a_bits, b_bits, fmt):
    """Returns (result bits, status flags) as uint arrays, for op in {'add', 'mul'}."""
    a_bits = np.atleast_1d(np.asarray(a_bits, dtype=np.uint64)).astype(fmt.uint_t)
    b_bits = np.atleast_1d(np.asarray(b_bits, dtype=np.uint64)).astype(fmt.uint_t)
    a, b = fmt.to_float(a_bits), fmt.to_float(b_bits)
    with np.errstate(all="ignore"):
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        if op == "add":
            hi, err = _two_sum(a64, b64)
            res = (a + b) if fmt is FP32 else hi.astype(fmt.float_t)
        elif op == "mul":
            hi, err = a64 * b64, np.zeros_like(a64)
            res = (a * b) if fmt is FP32 else hi.astype(fmt.float_t)
        else:
            raise ValueError(op)
        res = np.asarray(res, dtype=fmt.float_t)
        res64 = res.astype(np.float64)
        finite_in = np.isfinite(a) & np.isfinite(b)
        nan_in = np.isnan(a) | np.isnan(b)
        res_nan = np.isnan(res)

        nv = is_snan(a_bits, fmt) | is_snan(b_bits, fmt) | (res_nan & ~nan_in)
        inexact = finite_in & ~((res64 == hi) & (err == 0))
        of = finite_in & np.isinf(res)
        # Tiny after rounding: |exact| below the midpoint between 2^emin and its
        # predecessor at full precision, which rounds up to 2^emin.
        p = fmt.man_w + 1
        thr = 2.0 ** fmt.emin - 2.0 ** (fmt.emin - p - 1)
        mag = np.abs(hi)
        below = (mag < thr) | ((mag == thr) & (np.sign(err) == -np.sign(hi)) & (err != 0))
        tiny = ((hi != 0) | (err != 0)) & below
        uf = finite_in & tiny & inexact

    bits = np.where(res_nan, fmt.qnan, fmt.to_bits(res)).astype(np.uint64)
    flags = (nv * NV) | (of * OF) | (uf * UF) | (inexact * NX)
    return bits, flags.astype(np.uint64)


class FpModel:
    """Transaction-level model: (a, b) -> {'result', 'status'}. ``prime`` computes
    a batch at once (vectorized); calls for other operands are computed singly."""

    def __init__(self, op, fmt):
        self.op, self.fmt = op, fmt
        self._cache = {}

    def prime(self, a, b):
        bits, flags = reference(self.op, a, b, self.fmt)
        for key, r, f in zip(zip(np.asarray(a).tolist(), np.asarray(b).tolist()), bits.tolist(), flags.tolist()):
            self._cache[key] = (r, f)

    def __call__(self, a, b):
        hit = self._cache.get((a, b))
        if hit is None:
            bits, flags = reference(self.op, [a], [b], self.fmt)
            hit = (int(bits[0]), int(flags[0]))
        return {"result": hit[0], "status": hit[1]}
