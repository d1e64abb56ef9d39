"""rtl/common/stream_check.v, the RTL's own valid/ready checker, as top: a legal
stream with stalls passes, and each broken rule stops the simulation with the
checker's message (tests/test_stream_check.py expects each of those tests to
fail, with that message). This also shows that the simulations' --assert is live."""

import random

import cocotb
from cocotb.triggers import ClockCycles, RisingEdge

from tb.lib.clock_reset import reset, start_clock
from tb.lib.waits import backstop_us


async def _start(dut):
    start_clock(dut.clk)
    dut.valid.value, dut.ready.value, dut.data.value = 0, 0, 0
    await reset(dut.clk, dut.rst)


async def _stall(dut, data=0x5A):
    """A beat offered with ready low for two clocks."""
    dut.valid.value, dut.data.value, dut.ready.value = 1, data, 0
    await ClockCycles(dut.clk, 2)


@cocotb.test(timeout_time=backstop_us(2000), timeout_unit="us")
async def test_legal(dut):
    """1000 clocks of random valid and ready; a beat holds while stalled."""
    await _start(dut)
    rng = random.Random(1)
    offered = taken = 0
    for _ in range(1000):
        if not dut.valid.value or dut.ready.value:        # the last beat was taken (or none offered)
            taken += int(dut.valid.value and dut.ready.value)
            dut.valid.value = rng.random() < 0.7
            dut.data.value = rng.randrange(256)
            offered += int(dut.valid.value)
        dut.ready.value = rng.random() < 0.5
        await RisingEdge(dut.clk)
    assert taken > 200 and offered - taken <= 1, (offered, taken)


@cocotb.test(timeout_time=backstop_us(100), timeout_unit="us")
async def test_valid_drop(dut):
    await _start(dut)
    await _stall(dut)
    dut.valid.value = 0
    await ClockCycles(dut.clk, 3)
    assert False, "the RTL check did not fire on valid dropped while stalled"


@cocotb.test(timeout_time=backstop_us(100), timeout_unit="us")
async def test_data_change(dut):
    await _start(dut)
    await _stall(dut)
    dut.data.value = 0xA5
    await ClockCycles(dut.clk, 3)
    assert False, "the RTL check did not fire on data changed while stalled"


@cocotb.test(timeout_time=backstop_us(100), timeout_unit="us")
async def test_valid_in_reset(dut):
    await _start(dut)
    dut.rst.value = 1
    await RisingEdge(dut.clk)
    dut.valid.value = 1
    await ClockCycles(dut.clk, 3)
    assert False, "the RTL check did not fire on valid high in reset"
