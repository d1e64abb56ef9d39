"""Clock start and synchronous active-high reset."""

from cocotb.clock import Clock
from cocotb.triggers import RisingEdge

import cocotb


def start_clock(clk, period_ns=10):
    cocotb.start_soon(Clock(clk, period_ns, unit="ns").start())


async def reset(clk, rst, cycles=3):
    rst.value = 1
    for _ in range(cycles):
        await RisingEdge(clk)
    rst.value = 0
    await RisingEdge(clk)
