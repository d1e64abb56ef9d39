"""Checks of the float reference itself, against the host FPU's own flags
(numpy float32 runs on the CPU's IEEE unit) and against hand-worked values."""

import numpy as np
import pytest

from models.fp_ref import FP16, FP32, NV, NX, OF, UF, reference
from tb.fp_vectors import directed_pairs, random_pairs


@pytest.mark.parametrize("op", ["add", "mul"])
def test_flags_match_host_fpu(op):
    # numpy reports invalid / overflow / underflow per operation; not inexact.
    rng = np.random.default_rng(0)
    a, b = random_pairs(FP32, op, 3000, rng)
    da, db = directed_pairs(FP32, op)
    a, b = np.concatenate([a, da]), np.concatenate([b, db])
    bits, flags = reference(op, a, b, FP32)
    fa, fb = FP32.to_float(a), FP32.to_float(b)
    seen = []
    np.seterrcall(lambda kind, flag: seen.append(kind))
    mismatches = 0
    counts = {NV: 0, OF: 0, UF: 0}
    with np.errstate(all="call"):
        for i in range(len(a)):
            seen.clear()
            # one-element arrays: numpy checks the FPU status after array ops
            r = (np.add if op == "add" else np.multiply)(fa[i:i + 1], fb[i:i + 1])[0]
            kinds = " ".join(seen)
            host = (NV if "invalid" in kinds else 0) | (OF if "overflow" in kinds else 0) \
                | (UF if "underflow" in kinds else 0)
            mine = int(flags[i]) & (NV | OF | UF)
            if not np.isnan(r):
                assert int(bits[i]) == int(np.float32(r).view(np.uint32)), hex(int(a[i]))
            mismatches += host != mine
            for f in counts:
                counts[f] += bool(host & f)
    assert mismatches == 0
    assert counts[NV] > 0 and counts[OF] > 0 and (op == "add" or counts[UF] > 0), counts


def test_hand_values():
    one, tiny = 0x3F800000, 0x33800000            # 1.0 + 2^-24: a tie, rounds to even
    assert [int(x) for x in reference("add", [one], [tiny], FP32)[0]] == [one]
    assert int(reference("add", [one], [tiny], FP32)[1][0]) == NX
    # x + (-x) = +0, inf - inf = canonical NaN with NV, sNaN operand quiets with NV
    assert int(reference("add", [0xC0490FDB], [0x40490FDB], FP32)[0][0]) == 0
    bits, flags = reference("add", [0x7F800000], [0xFF800000], FP32)
    assert (int(bits[0]), int(flags[0])) == (0x7FC00000, NV)
    bits, flags = reference("mul", [0x7F800001], [0x3F800000], FP32)
    assert (int(bits[0]), int(flags[0])) == (0x7FC00000, NV)
    # binary16: largest finite * 2 overflows; smallest normal / 2 is an exact subnormal
    bits, flags = reference("mul", [0x7BFF], [0x4000], FP16)
    assert (int(bits[0]), int(flags[0])) == (0x7C00, OF | NX)
    bits, flags = reference("mul", [0x0400], [0x3800], FP16)
    assert (int(bits[0]), int(flags[0])) == (0x0200, 0)
    # the smallest subnormal halved: a tie to even gives +0, tiny and inexact
    bits, flags = reference("mul", [0x0001], [0x3800], FP16)
    assert (int(bits[0]), int(flags[0])) == (0x0000, UF | NX)
