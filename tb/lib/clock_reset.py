"""Clock start and synchronous active-high reset."""

from cocotb.clock import Clock
from cocotb.triggers import RisingEdge

import cocotb

# clock signal path -> period in ns, for waits bounded in clocks that sleep on
# a Timer instead of waking every clock (tb/lib/waits.py)
_PERIOD_NS = {}


def start_clock(clk, period_ns=10):
    _PERIOD_NS[clk._path] = period_ns
    cocotb.start_soon(Clock(clk, period_ns, unit="ns").start())


def clock_period_ns(clk):
    """The period start_clock gave `clk`, or None for a clock started elsewhere."""
    return _PERIOD_NS.get(clk._path)


async def reset(clk, rst, cycles=3):
    rst.value = 1
    for _ in range(cycles):
        await RisingEdge(clk)
    rst.value = 0
    await RisingEdge(clk)
