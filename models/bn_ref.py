"""Bit-accurate model of the FP16 batch-norm unit (rtl/bn), written from
Algorithm 1 of paper 004 (III-B) in the unit's operation order.

Numerics (what the hardware promises, independent of how it is built):
- Statistics (BN STAT): every element is widened to binary32 (exact), the
  products x*x (FP) or dy*xhat (BP) are formed in binary32 (exact: 11x11
  significand bits), and both sums accumulate sequentially from +0, in
  element order, in binary32 with RNE. mean = RNE32(sum * RNE32(1/N)); for N a power of two
  1/N is exact and this is an exact exponent shift. Means are then rounded
  to binary16 (RNE, overflow to inf).
- Local variables (BN Core, binary16, every op RNE): var = mean2 - mu*mu,
  clamped to +0 when negative (cancellation); lambda = rsqrt(var + eps),
  correctly rounded (0.5 ULP); gamma*lambda.
- Linear transform (binary16): FP y = ((x - mu) * lambda) * gamma + beta, each
  op rounded; optional ReLU (y <= 0 or -0 -> +0), mask = y > 0. BP: dy is
  masked by the saved ReLU mask, temp1 = xhat * mean2, temp2 = dy - mean1,
  dx = gamma_lambda * (temp2 - temp1). dbeta, dgamma = the binary32 sums
  rounded to binary16.
- Every NaN leaves the unit as the canonical binary16 qNaN 0x7E00. The
  channel status has NF set when any channel scalar (means, var, lambda,
  gamma*lambda, dgamma, dbeta) or any streamed output (y, xhat; dx) is inf or
  NaN, so an overflowed channel is visible; VZ when var was <= 0 (clamped).

numpy float16/float32 arithmetic is IEEE RNE with subnormals (float16 ops are
computed in float32 and rounded once, which is exact for +,-,*: 24 >= 2*11+2).
"""

from fractions import Fraction

import numpy as np

F16_QNAN = 0x7E00
EPS_DEFAULT = 1e-5


def f16(x):
    return np.asarray(x, dtype=np.float16)


def bits16(x):
    """float16 array -> uint16 bits with canonical NaN."""
    x = np.asarray(x, dtype=np.float16)
    b = x.view(np.uint16).copy()
    b[np.isnan(x)] = F16_QNAN
    return b


def from_bits16(b):
    return np.asarray(b, dtype=np.uint16).view(np.float16)


def round_fraction_f32(r):
    """Correctly rounded (RNE) binary32 of a positive Fraction in the normal range."""
    r = Fraction(r)
    e = r.numerator.bit_length() - r.denominator.bit_length()
    if Fraction(2) ** e > r:
        e -= 1
    scaled = r / Fraction(2) ** (e - 23)          # in [2^23, 2^24)
    q, rem = divmod(scaled.numerator, scaled.denominator)
    half = Fraction(rem, scaled.denominator)
    if half > Fraction(1, 2) or (half == Fraction(1, 2) and q & 1):
        q += 1
    return np.float32(q * 2.0 ** (e - 23))


def recip_f32(n):
    """RNE32(1/n) for an integer n >= 1."""
    return round_fraction_f32(Fraction(1, int(n)))


def rsqrt_f16(a):
    """Correctly rounded binary16 1/sqrt(a) for binary16 a (array), IEEE
    special cases: +0 -> +inf, -0 -> -inf, a < 0 or NaN -> NaN, +inf -> +0."""
    a = np.asarray(a, dtype=np.float16)
    out = np.empty(a.shape, dtype=np.float16)
    for idx, v in np.ndenumerate(a):
        fv = float(v)
        if np.isnan(v) or fv < 0:
            out[idx] = np.nan
        elif fv == 0:
            out[idx] = np.float16(np.inf) if not np.signbit(v) else np.float16(-np.inf)
        elif np.isinf(v):
            out[idx] = 0
        else:
            out[idx] = _rsqrt_exact(Fraction(fv))
    return out


def _rsqrt_exact(r):
    """RNE binary16 of 1/sqrt(r), r a positive Fraction whose result is normal."""
    # find e with 2^e <= 1/sqrt(r) < 2^(e+1)  <=>  4^-(e+1) < r <= 4^-e
    e = 0
    while Fraction(4) ** (-e) < r:
        e -= 1
    while Fraction(4) ** (-(e + 1)) >= r:
        e += 1
    # candidate significand s in [2^10, 2^11): s = floor(2^(10-e) / sqrt(r))
    # compare squares exactly: s^2 * r <= 4^(10-e)
    target = Fraction(4) ** (10 - e)
    lo, hi = 1 << 10, 1 << 11
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if mid * mid * r <= target:
            lo = mid
        else:
            hi = mid
    s = lo
    # round: up if (s + 1/2)^2 * r < target (ties impossible unless exact)
    if (Fraction(2 * s + 1, 2)) ** 2 * r < target:
        s += 1
    return np.float16(s * 2.0 ** (e - 10))


class ChannelResult(dict):
    pass


def _stats(a16, b16, n):
    """BN STAT: sequential binary32 sums of a and a*b, means = sum * RNE32(1/n)."""
    a32 = a16.astype(np.float32)
    p32 = a32 * b16.astype(np.float32)                 # exact
    zero = np.zeros(1, dtype=np.float32)     # the accumulators start at +0
    s1 = np.cumsum(np.concatenate([zero, a32]), dtype=np.float32)[-1]
    s2 = np.cumsum(np.concatenate([zero, p32]), dtype=np.float32)[-1]
    inv = recip_f32(n)
    with np.errstate(over="ignore", invalid="ignore"):
        m1 = np.float32(s1 * inv)
        m2 = np.float32(s2 * inv)
        return s1, s2, np.float16(m1), np.float16(m2)


def _stats_exact(a16, b16, n):
    """Order-free BN STAT (the accelerator's, docs/accel.md): the sums of a and
    a*b are exact (binary16 values are integers times 2^-24), the sums and the
    means sum / n each rounded once to binary16. A NaN or inf input makes all
    four NaN."""
    from fractions import Fraction

    from models.accel_num import round_fraction_f16
    a, b = a16.astype(np.float64), b16.astype(np.float64)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        nan = np.float16(np.nan)
        return nan, nan, nan, nan
    ai = (a * 2.0 ** 24).astype(np.int64)
    bi = (b * 2.0 ** 24).astype(np.int64)
    s1 = Fraction(int(ai.sum()), 1 << 24)                       # |sum| < 2^40 * n: int64 holds n < 2^23
    s2 = Fraction(int((ai.astype(object) * bi.astype(object)).sum()), 1 << 48)
    return (round_fraction_f16(s1), round_fraction_f16(s2),
            round_fraction_f16(s1 / n), round_fraction_f16(s2 / n))


def _flag_of(*vals):
    return any(not np.isfinite(v) for v in vals)


def bn_forward(x, gamma, beta, eps=EPS_DEFAULT, relu=True, exact_stats=False):
    """One channel forward. x: float16 array (N,). Returns dict with y, xhat,
    mask (arrays), mu, var, lam (float16), status flags. exact_stats: the
    accelerator's order-free statistics (_stats_exact) instead of bn_unit's
    sequential binary32 sums."""
    x = f16(x).ravel()
    n = x.size
    g, b, ep = np.float16(gamma), np.float16(beta), np.float16(eps)
    with np.errstate(all="ignore"):
        _, _, mu, m2 = (_stats_exact if exact_stats else _stats)(x, x, n)
        mu2 = np.float16(mu * mu)
        var = np.float16(m2 - mu2)
        vz = bool(var <= 0)                   # includes -0 and exact 0
        if var < 0 or (var == 0 and np.signbit(var)):
            var = np.float16(0.0)
        ve = np.float16(var + ep)
        lam = rsqrt_f16(ve)[()]
        t = (x - mu).astype(np.float16)
        xh = (t * lam).astype(np.float16)
        yg = (xh * g).astype(np.float16)
        y = (yg + b).astype(np.float16)
        of = _flag_of(mu, m2, mu2, var, ve, lam) or not np.all(np.isfinite(y)) \
            or not np.all(np.isfinite(xh))
    if relu:
        pos = ~np.signbit(y) & (y != 0)       # NaN is canonical positive: passes
        y = np.where(pos, y, np.float16(0.0)).astype(np.float16)
        mask = pos.astype(np.uint8)
    else:
        mask = np.ones(n, dtype=np.uint8)
    return dict(y=y, xhat=xh, mask=mask, mu=mu, var=var, lam=lam, of=bool(of), vz=vz)


def bn_backward(dy, xhat, mask, gamma, lam, relu=True, exact_stats=False):
    """One channel backward. Returns dict with dx (array), dgamma, dbeta,
    mean1, mean2, gl (float16), status flags."""
    dy, xh = f16(dy).ravel(), f16(xhat).ravel()
    n = dy.size
    g, lam = np.float16(gamma), np.float16(lam)
    if relu:
        dy = np.where(np.asarray(mask).ravel() != 0, dy, np.float16(0.0)).astype(np.float16)
    with np.errstate(all="ignore"):
        s1, s2, m1, m2 = (_stats_exact if exact_stats else _stats)(dy, xh, n)
        dbeta, dgamma = np.float16(s1), np.float16(s2)
        gl = np.float16(g * lam)
        t1 = (xh * m2).astype(np.float16)
        t2 = (dy - m1).astype(np.float16)
        d = (t2 - t1).astype(np.float16)
        dx = (gl * d).astype(np.float16)
        of = _flag_of(m1, m2, gl, dbeta, dgamma) or not np.all(np.isfinite(dx))
    return dict(dx=dx, dgamma=dgamma, dbeta=dbeta, mean1=m1, mean2=m2, gl=gl, of=bool(of))
