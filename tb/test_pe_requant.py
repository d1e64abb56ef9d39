"""pe_requant (one lane, combinational) against models/quant.requantize on
every shift 0..31: the INT32 extremes, the saturation and rounding boundaries
of each shift (values k * 2^(sh-1) around +-127.5 and +-128.5 steps, ties
included) and random values; en = 0 passes the INT32 value through."""

import cocotb
import numpy as np
import torch
from cocotb.triggers import Timer

from models import quant


def _values(sh, rng):
    vals = {0, 1, -1, 2**31 - 1, -2**31}
    step = 1 << max(sh - 1, 0)
    for k in range(-260, 261, 1) if sh <= 1 else (-259, -258, -257, -256, -255, -3, -2, -1, 0, 1, 2,
                                                   253, 254, 255, 256, 257):
        base = k * step
        for off in (-1, 0, 1):
            vals.add(base + off)
    vals.update(int(v) for v in rng.integers(-2**31, 2**31, 64))
    vals.update(int(v) for v in rng.integers(-(256 << sh), 256 << sh, 64))
    return sorted(v for v in vals if -2**31 <= v < 2**31)


# about 7,000 values at 1 ns each
@cocotb.test(timeout_time=1000, timeout_unit="us")
async def test_all_shifts(dut):
    rng = np.random.default_rng(5)
    checked = 0
    for sh in range(32):
        vals = _values(sh, rng)
        ref = quant.requantize(torch.tensor(vals, dtype=torch.int64), sh).numpy().astype(np.int64)
        for v, r in zip(vals, ref):
            dut.en.value = 1
            dut.shift.value = sh
            dut.din.value = v & 0xFFFFFFFF
            await Timer(1, unit="ns")
            got = dut.dout.value.to_signed()
            assert got == r, f"shift {sh}, din {v}: got {got}, expected {r}"
            checked += 1
    for v in (0, -1, 2**31 - 1, -2**31, 123456789):
        dut.en.value = 0
        dut.din.value = v & 0xFFFFFFFF
        await Timer(1, unit="ns")
        assert dut.dout.value.to_signed() == v, "en = 0 must pass the INT32 value"
    dut._log.info("%d requantizations checked on 32 shifts", checked)
