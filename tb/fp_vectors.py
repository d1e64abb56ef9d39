"""Operand streams for the float-unit tests: directed edge cases and a mix of
random classes that reach ties, carries, cancellation, subnormals, overflow and
underflow far more often than uniform bits would. Pure numpy; no cocotb."""

import itertools

import numpy as np


def _pack(sign, exp, frac, fmt):
    return ((np.asarray(sign, np.uint64) << (fmt.exp_w + fmt.man_w))
            | (np.asarray(exp, np.uint64) << fmt.man_w)
            | np.asarray(frac, np.uint64))


def special_values(fmt):
    e_max = (1 << fmt.exp_w) - 1
    f_max = (1 << fmt.man_w) - 1
    quiet = 1 << (fmt.man_w - 1)
    mags = [
        (0, 0), (0, 1), (0, 2), (0, f_max), (0, quiet),        # zero, subnormals
        (1, 0), (1, 1), (2, 0),                                 # smallest normals
        (fmt.bias, 0), (fmt.bias, 1), (fmt.bias, f_max),        # around 1.0
        (fmt.bias - 1, f_max), (fmt.bias + 1, 0),
        (e_max - 1, f_max), (e_max - 1, f_max - 1), (e_max - 2, 0),  # largest finites
        (e_max, 0),                                             # infinity
        (e_max, quiet), (e_max, quiet | 1), (e_max, f_max),     # quiet NaNs, payloads
        (e_max, 1), (e_max, quiet - 1),                         # signalling NaNs
    ]
    vals = [_pack(s, e, f, fmt) for s in (0, 1) for e, f in mags]
    return np.array(vals, dtype=np.uint64)


def directed_pairs(fmt, op):
    """Every pair of special values, plus constructed ties, carries, overflow,
    underflow and cancellation cases."""
    sv = special_values(fmt)
    a, b = zip(*itertools.product(sv, sv))
    a, b = list(a), list(b)
    p, bias, m = fmt.man_w + 1, fmt.bias, fmt.man_w
    f_max = (1 << m) - 1
    one = _pack(0, bias, 0, fmt)
    if op == "add":
        for k in range(1, p + 4):           # b = 2^-k against 1.0 and 1.0 + ulp: ties and sticky
            for frac in (0, 1, f_max, f_max - 1):
                a.append(_pack(0, bias, frac, fmt))
                b.append(_pack(0, bias - k, 0, fmt) if bias - k > 0 else _pack(0, 0, 1 << (m - (k - bias) - 1), fmt) if k - bias < m else 1)
                a.append(_pack(0, bias, frac, fmt))
                b.append(_pack(1, bias - k, frac, fmt) if bias - k > 0 else 1)
        for e in (1, 2, bias, (1 << fmt.exp_w) - 2):     # cancellation: x - x, x - next(x)
            for frac in (0, 1, f_max):
                x = _pack(0, e, frac, fmt)
                a += [x, x, x]
                b += [x | (1 << (fmt.exp_w + m)), (x + 1) | (1 << (fmt.exp_w + m)), (x - 1) | (1 << (fmt.exp_w + m))]
        big = _pack(0, (1 << fmt.exp_w) - 2, f_max, fmt)  # overflow by carry
        a += [big, big, _pack(0, 1, 0, fmt), _pack(0, 0, f_max, fmt)]
        b += [big, _pack(0, (1 << fmt.exp_w) - 2 - p, 0, fmt), _pack(1, 0, 1, fmt), _pack(0, 0, 1, fmt)]
    else:
        for ea in range(1, 2 * p + 4):      # products that straddle the subnormal range
            for frac in (0, 1, f_max, 1 << (m - 1)):
                a.append(_pack(0, max(bias - ea, 0), frac, fmt))
                b.append(_pack(0, max(1, 1 + ea // 2), frac ^ 1, fmt))
                a.append(_pack(0, 0, f_max, fmt))
                b.append(_pack(0, bias - 1 + (ea % 3), frac, fmt))
        for frac in (0, 1, f_max):          # overflow boundary
            a.append(_pack(0, (1 << fmt.exp_w) - 2, frac, fmt))
            b.append(one | frac)
            a.append(_pack(1, bias + (1 << (fmt.exp_w - 2)), frac, fmt))
            b.append(_pack(0, bias + (1 << (fmt.exp_w - 2)), f_max, fmt))
    return np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)


def random_pairs(fmt, op, n, rng):
    """n operand pairs from five classes, in random order."""
    e_max = (1 << fmt.exp_w) - 1
    m, bias, p = fmt.man_w, fmt.bias, fmt.man_w + 1
    frac_mask = (1 << m) - 1

    def frac(k):
        kind = rng.integers(0, 4, k)
        f = rng.integers(0, 1 << m, k, dtype=np.uint64)
        f = np.where(kind == 1, frac_mask - rng.integers(0, 4, k).astype(np.uint64), f)   # near all-ones
        f = np.where(kind == 2, rng.integers(0, 8, k).astype(np.uint64), f)               # near zero
        return f

    def sign(k):
        return rng.integers(0, 2, k, dtype=np.uint64)

    cls = rng.integers(0, 5, n)
    ea = rng.integers(0, e_max + 1, n)
    eb = rng.integers(0, e_max + 1, n)
    # class 1: operands near 1.0 (typical training values)
    near = rng.integers(-6, 7, (2, n))
    ea = np.where(cls == 1, bias + near[0], ea)
    eb = np.where(cls == 1, bias + near[1], eb)
    # class 2: the subnormal and smallest-normal region
    ea = np.where(cls == 2, rng.integers(0, 4, n), ea)
    eb = np.where(cls == 2, rng.integers(0, 4, n), eb)
    if op == "add":
        # class 3: exponents within the alignment window (cancellation, carries, sticky)
        eb = np.where(cls == 3, np.clip(ea + rng.integers(-p - 3, p + 4, n), 0, e_max - 1), eb)
        # class 4: near the top of the range (carry into overflow)
        ea = np.where(cls == 4, e_max - 1 - rng.integers(0, 3, n), ea)
        eb = np.where(cls == 4, e_max - 1 - rng.integers(0, p + 2, n), eb)
    else:
        # class 3: products at the underflow boundary, class 4: at the overflow boundary
        target = np.where(cls == 3, rng.integers(-p - 2, 3, n), e_max - 1 + rng.integers(-2, 3, n))
        ea = np.where(cls >= 3, rng.integers(1, e_max - 1, n), ea)
        eb = np.where(cls >= 3, np.clip(target + bias - ea, 0, e_max - 1), eb)
    ea = np.clip(ea, 0, e_max).astype(np.uint64)
    eb = np.clip(eb, 0, e_max).astype(np.uint64)
    a = _pack(sign(n), ea, frac(n), fmt)
    b = _pack(sign(n), eb, frac(n), fmt)
    # class 0 is uniform over all bit patterns
    u = cls == 0
    a[u] = rng.integers(0, 1 << fmt.width, int(u.sum()), dtype=np.uint64)
    b[u] = rng.integers(0, 1 << fmt.width, int(u.sum()), dtype=np.uint64)
    return a, b
