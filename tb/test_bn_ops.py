"""cocotb tests of the BN unit's own float operations (in rtl/bn/bn_ops_harness.v):
bn_rsqrt and bn_f16_to_f32 exhaustively over all 2^16 inputs, bn_recip on
every n <= 2^11, every power of two and random n < 2^24, bn_f32_to_f16 on
edge cases and random binary32 values. References: models/bn_ref.py
(exact-rational rsqrt and 1/n) and numpy's IEEE conversions."""

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge, Timer

from models.bn_ref import bits16, recip_f32, rsqrt_f16
from tb.lib.clock_reset import reset, start_clock
from tb.lib.waits import backstop_us


async def sweep(dut, inputs, expected, name, port_in, port_out):
    bad = 0
    pin, pout = getattr(dut, port_in), getattr(dut, port_out)
    for a, e in zip(inputs.tolist(), expected.tolist()):
        pin.value = a
        await Timer(1, unit="ns")
        got = pout.value.to_unsigned()
        if got != e:
            bad += 1
            if bad <= 10:
                dut._log.error("%s(0x%x): got 0x%x expected 0x%x", name, a, got, e)
    dut._log.info("%s: %d inputs, %d mismatches", name, len(inputs), bad)
    assert bad == 0


# the sweeps take 1 ns per input (2^16 at most), test_recip up to 42 clocks per n (2,400 n)
@cocotb.test(timeout_time=1000, timeout_unit="us")
async def test_rsqrt_exhaustive(dut):
    """Every binary16 input: correctly rounded 1/sqrt (max error 0.5 ULP)."""
    a = np.arange(1 << 16, dtype=np.uint32)
    exp = bits16(rsqrt_f16(a.astype(np.uint16).view(np.float16)))
    await sweep(dut, a, exp.astype(np.uint32), "rsqrt", "h_in", "rsqrt_y")


@cocotb.test(timeout_time=1000, timeout_unit="us")
async def test_f16_to_f32_exhaustive(dut):
    a = np.arange(1 << 16, dtype=np.uint32)
    f = a.astype(np.uint16).view(np.float16).astype(np.float32)
    exp = f.view(np.uint32).copy()
    exp[np.isnan(f)] = 0x7FC00000
    await sweep(dut, a, exp, "f16_to_f32", "h_in", "widen_y")


@cocotb.test(timeout_time=1000, timeout_unit="us")
async def test_f32_to_f16(dut):
    """binary32 -> binary16 RNE against numpy: the binary16 range edges (max,
    overflow, subnormal boundaries, ties), then random bit patterns and random
    values around the binary16 range."""
    rng = np.random.default_rng(3)
    edges = []
    for e in range(100, 146):             # every exponent near the binary16 range
        for frac in (0, 1, 0x1000, 0x0FFF, 0x1FFF, 0x2000, 0x3000, 0x7FFFFF, 0x400000):
            for s in (0, 1):
                edges.append((s << 31) | (e << 23) | frac)
    edges += [0, 0x80000000, 0x00000001, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001,
              0x477FE000, 0x477FEFFF, 0x477FF000, 0x33000000, 0x33000001, 0x32FFFFFF]
    rand_bits = rng.integers(0, 1 << 32, 20000, dtype=np.uint64).astype(np.uint32)
    rand_vals = (rng.standard_normal(20000) * np.exp2(rng.uniform(-27, 17, 20000))).astype(np.float32)
    a = np.concatenate([np.array(edges, dtype=np.uint32), rand_bits, rand_vals.view(np.uint32)])
    with np.errstate(over="ignore"):
        exp = bits16(a.view(np.float32).astype(np.float16)).astype(np.uint32)
    await sweep(dut, a, exp, "f32_to_f16", "f_in", "narrow_y")


@cocotb.test(timeout_time=backstop_us(1_000_000), timeout_unit="us")
async def test_recip(dut):
    """1/n correctly rounded to binary32 (0.5 ULP): n = 0 (+inf), 1..2048,
    every power of two up to 2^23, random n up to 2^24 - 1."""
    start_clock(dut.clk)
    dut.start.value = 0
    await reset(dut.clk, dut.rst)
    rng = np.random.default_rng(5)
    ns = list(range(0, 2049)) + [1 << k for k in range(24)] + [(1 << k) - 1 for k in range(12, 25)] \
        + rng.integers(2049, 1 << 24, 300).tolist()
    bad = 0
    for n in ns:
        dut.n.value = n
        dut.start.value = 1
        await RisingEdge(dut.clk)
        dut.start.value = 0
        for _ in range(40):
            await ReadOnly()
            if dut.done.value:
                break
            await RisingEdge(dut.clk)
        else:
            raise AssertionError(f"1/{n}: recip done not within 40 clocks of start")
        got = dut.recip_y.value.to_unsigned()
        exp = 0x7F800000 if n == 0 else int(recip_f32(n).view(np.uint32))
        if got != exp:
            bad += 1
            if bad <= 10:
                dut._log.error("1/%d: got 0x%08x expected 0x%08x", n, got, exp)
        await RisingEdge(dut.clk)
    dut._log.info("recip: %d values of n, %d mismatches", len(ns), bad)
    assert bad == 0

