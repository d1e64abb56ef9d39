"""Waits bounded in clocks. A wait that runs out raises a WaitTimeout whose
message names the stream or state it waited on, so that a hung DUT fails
within its bound instead of running until the regression's wall-clock limit."""

import os

import cocotb
from cocotb.triggers import First, RisingEdge, Timer
from cocotb.simtime import get_sim_time

from tb.lib.clock_reset import clock_period_ns

# a stream beat that waits longer than this for its handshake is taken as a hang; the
# longest legitimate stall seen is an MNIST sample on mlp_net (about 30k clocks)
STALL_CLOCKS = 1_000_000


class WaitTimeout(AssertionError):
    """A bounded wait ran out."""


class StreamStall(WaitTimeout):
    """A stream beat waited longer than its bound for the other side."""


async def wait_or_clocks(trigger, clock, clocks):
    """Waits for `trigger` or `clocks` periods of `clock`, whichever comes first.
    Returns (fired, clocks waited). Sleeps on one Timer where start_clock gave
    the period (no wake-up per clock), else counts rising edges."""
    if clocks <= 0:
        return False, 0
    period = clock_period_ns(clock)
    if period is not None:
        t0 = get_sim_time("ns")
        timer = Timer(clocks * period, unit="ns")
        fired = await First(trigger, timer)
        return fired is not timer, int((get_sim_time("ns") - t0) // period)
    counted = [0]

    async def count():
        for _ in range(clocks):
            await RisingEdge(clock)
            counted[0] += 1

    counter = cocotb.start_soon(count())
    fired = await First(trigger, counter.complete)
    counter.cancel()
    return fired is not counter.complete, counted[0]


async def wait_until(clock, done, clocks, what, progress=None):
    """Waits until done() is true, checked after each rising edge of `clock`,
    for at most `clocks` edges; returns the edges waited. Runs out with a
    WaitTimeout naming `what` and progress() (e.g. "3 of 40 beats")."""
    for waited in range(clocks + 1):
        if done():
            return waited
        if waited < clocks:
            await RisingEdge(clock)
    detail = f" ({progress()})" if progress is not None else ""
    raise WaitTimeout(f"{what}: not within {clocks} clocks{detail}")


async def wait_for(trigger, clock, clocks, what, progress=None):
    """Waits for `trigger` for at most `clocks` periods of `clock` without
    waking per clock; returns the clocks waited. Runs out with a WaitTimeout
    naming `what` and progress()."""
    fired, waited = await wait_or_clocks(trigger, clock, clocks)
    if not fired:
        detail = f" ({progress()})" if progress is not None else ""
        raise WaitTimeout(f"{what}: not within {clocks} clocks{detail}")
    return waited


def backstop_us(clocks, period_ns=10):
    """A cocotb test's timeout_time in us: `clocks` periods, times the
    environment's TB_TIMEOUT_SCALE (set by a unit with more work than its test
    module's defaults). A backstop behind the bounded waits, which report first."""
    return clocks * period_ns * float(os.environ.get("TB_TIMEOUT_SCALE", "1")) / 1000
