"""cocotb tests for fp_add / fp_mul in any format.

The unit, format and latency come from the environment (set by tb/units.py):
FP_OP = add | mul, FP_FORMAT = fp32 | fp16, FP_LATENCY, FP_VECTORS (random
vectors over all test_random runs). Input monitor -> FpModel -> scoreboard on
the output monitor; every result and status flag is compared bit for bit.
Two tests check the verification library's failure paths on this unit: a
stuck output ready (the input stream's bounded wait names it) and a driver
that withdraws a stalled beat (the protocol checker names it).
"""

import os

import cocotb
import numpy as np
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, Event, ReadOnly, RisingEdge

from models.fp_ref import FORMATS, FpModel
from tb.fp_vectors import directed_pairs, random_pairs
from tb.lib.clock_reset import reset, start_clock
from tb.lib.scoreboard import CheckScoreboard, ExpectedQueue
from tb.lib.protocol import StreamProtocolError
from tb.lib.stream import Backpressure, StreamDriver, StreamMonitor
from tb.lib.waits import StreamStall, wait_for, wait_until

OP = os.environ.get("FP_OP", "add")
FMT = FORMATS[os.environ.get("FP_FORMAT", "fp32")]
LATENCY = int(os.environ.get("FP_LATENCY", "3"))
N_RANDOM = int(os.environ.get("FP_VECTORS", "200000"))
CLOCK_NS = 10
CLOCKS_PER_VECTOR = 50      # run()'s bound, far above the 1 to 4 a vector takes under idle and stall


def backstop_us(vectors):
    """A test's timeout_time: twice run()'s own bound for `vectors`, so that
    run() reports first, with the count of missing results."""
    return 2 * (vectors * CLOCKS_PER_VECTOR + 1000) * CLOCK_NS / 1000


class FpTB:
    def __init__(self, dut, idle_prob=0.0, stall_prob=0.0, seed=0, **source_kw):
        self.dut = dut
        self.model = FpModel(OP, FMT)
        start_clock(dut.clk, CLOCK_NS)
        self.source = StreamDriver(dut, "s", dut.clk, ["a", "b"], idle_prob=idle_prob, seed=seed, **source_kw)
        self.sink_ready = Backpressure(dut.m_ready, dut.clk, stall_prob, seed=seed + 1)
        self.in_mon = StreamMonitor(dut, "s", dut.clk, ["a", "b"], reset=dut.rst,
                                    callback=self._model)
        self.out_mon = StreamMonitor(dut, "m", dut.clk, ["result", "status"], reset=dut.rst)
        self.expected = ExpectedQueue()
        self.scoreboard = CheckScoreboard(dut)
        self.scoreboard.add_interface(self.out_mon, self.expected)
        self.target = 0
        self.reached = Event()      # set when scoreboard.checked reaches target
        self.out_mon.add_callback(self._count)
        # at LATENCY 0 an output may be checked only when its expectation arrives
        # (the input monitor's beat, in the same clock): count after that too
        self.in_mon.add_callback(self._count)

    def _count(self, _beat):
        if self.scoreboard.checked >= self.target:
            self.reached.set()

    def _model(self, beat):
        exp = self.model(beat["a"], beat["b"])
        exp["_context"] = f"{OP} {FMT.name} a=0x{beat['a']:x} b=0x{beat['b']:x}"
        self.expected.append(exp)

    async def reset(self):
        self.dut.s_valid.value = 0
        await reset(self.dut.clk, self.dut.rst)

    def send(self, a, b):
        self.model.prime(a, b)
        for x, y in zip(a.tolist(), b.tolist()):
            self.source.append({"a": x, "b": y})

    async def run(self, a, b):
        """Sends all pairs and waits until each result has been checked, then a
        few more clocks so that a spurious extra result would be caught."""
        first = self.scoreboard.checked
        target = self.target = first + len(a)
        self.reached.clear()
        self.send(a, b)
        if self.scoreboard.checked < target:
            await wait_for(self.reached.wait(), self.dut.clk, len(a) * CLOCKS_PER_VECTOR + 100, "results on m",
                           lambda: f"{self.scoreboard.checked - first} of {len(a)} checked, "
                                   f"{self.source.sent} input beats sent")
        await ClockCycles(self.dut.clk, LATENCY + 4)
        assert self.scoreboard.checked == target, \
            f"{target - self.scoreboard.checked} results never came out"
        assert not self.expected, f"{len(self.expected)} results never came out"


@cocotb.test(timeout_time=backstop_us(2500), timeout_unit="us")
async def test_directed(dut):
    """Every pair of special values plus constructed edge cases, under idle
    cycles and backpressure."""
    tb = FpTB(dut, idle_prob=0.2, stall_prob=0.2, seed=1)
    await tb.reset()
    a, b = directed_pairs(FMT, OP)
    await tb.run(a, b)
    dut._log.info("directed: %d vectors checked, %d values", tb.scoreboard.checked, tb.scoreboard.values_checked)
    assert tb.scoreboard.checked == len(a)
    assert tb.scoreboard.result


@cocotb.test(timeout_time=backstop_us(N_RANDOM // 2), timeout_unit="us")
@cocotb.parametrize(flow=["streaming", "idle_backpressure"])
async def test_random(dut, flow):
    """Half of FP_VECTORS random vectors per flow: back to back with the sink
    always ready, and with random idle cycles and random backpressure."""
    n = N_RANDOM // 2
    noisy = flow == "idle_backpressure"
    seed = 7 if noisy else 3
    tb = FpTB(dut, idle_prob=0.25 if noisy else 0.0, stall_prob=0.25 if noisy else 0.0, seed=seed)
    await tb.reset()
    a, b = random_pairs(FMT, OP, n, np.random.default_rng(seed))
    await tb.run(a, b)
    dut._log.info("random %s: %d vectors checked, %d values", flow, tb.scoreboard.checked, tb.scoreboard.values_checked)
    assert tb.scoreboard.checked == n
    assert tb.scoreboard.result


@cocotb.test(timeout_time=backstop_us(64), timeout_unit="us")
async def test_latency_throughput(dut):
    """The first result appears LATENCY clocks after its input; a back-to-back
    stream gives one result per clock."""
    tb = FpTB(dut)
    await tb.reset()
    a, b = random_pairs(FMT, OP, 64, np.random.default_rng(11))
    tb.send(a, b)
    await wait_for(RisingEdge(dut.s_valid), dut.clk, 10, "s_valid after the first beat was queued")
    first_out = None
    cycle = 0
    for cycle in range(1, 64 + LATENCY + 10):
        await ReadOnly()
        if first_out is None and dut.m_valid.value:
            first_out = cycle
        await RisingEdge(dut.clk)
        if tb.scoreboard.checked == len(a):
            break
    assert first_out == LATENCY + 1 or (LATENCY == 0 and first_out == 1), f"first result after {first_out - 1} clocks"
    assert cycle == len(a) + LATENCY, f"{len(a)} results took {cycle} clocks"
    assert tb.scoreboard.result


@cocotb.test(timeout_time=backstop_us(500), timeout_unit="us")
async def test_reset_midstream(dut):
    """A reset in mid-stream drops what is in flight (defined behaviour: no
    result of an operation accepted before reset comes out after it), then the
    unit works from a clean state with nothing lost or duplicated."""
    tb = FpTB(dut, stall_prob=0.3, seed=5)
    await tb.reset()
    rng = np.random.default_rng(5)
    tb.send(*random_pairs(FMT, OP, 200, rng))
    await ClockCycles(dut.clk, 57)
    dut.rst.value = 1
    tb.source.flush()
    tb.expected.clear()
    tb.expected.early.clear()
    checked_before = tb.scoreboard.checked
    assert checked_before > 0
    await ClockCycles(dut.clk, 2)
    await ReadOnly()
    assert not dut.m_valid.value, "m_valid high during reset"
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    a2, b2 = random_pairs(FMT, OP, 300, rng)
    await tb.run(a2, b2)
    assert tb.scoreboard.checked - checked_before == len(a2)
    assert tb.scoreboard.result


STUCK_BOUND = 100           # clocks the input stream waits for s_ready in test_stuck_ready


@cocotb.test(timeout_time=backstop_us(100), timeout_unit="us")
async def test_stuck_ready(dut):
    """A sink that never raises m_ready: the pipeline fills, s_ready stays low,
    and the input stream's bounded wait fails with a StreamStall naming the
    stream and how many beats went in, STUCK_BOUND clocks after the stall began
    (a hung DUT fails within its bound, not at the regression's time limit)."""
    tb = FpTB(dut, stall_clocks=STUCK_BOUND)
    tb.sink_ready.stop()
    dut.m_ready.value = 0
    await tb.reset()
    n = LATENCY + 20
    tb.send(*random_pairs(FMT, OP, n, np.random.default_rng(13)))
    start = get_sim_time("ns")
    try:
        await tb.source.drain()
    except StreamStall as stall:
        message = str(stall)
    else:
        raise AssertionError(f"all {n} beats went in although m_ready never rose")
    clocks = (get_sim_time("ns") - start) / CLOCK_NS
    dut._log.info("stuck m_ready: %s (after %d clocks)", message, clocks)
    # the unit holds one result on m and LATENCY in the pipeline, s_ready falls once they are full
    # (LATENCY 0 is combinational: s_ready is m_ready, so nothing goes in)
    taken = tb.source.sent
    assert min(1, LATENCY) <= taken <= LATENCY + 2, f"{taken} beats taken with m_ready low"
    assert message.startswith(f"stream s: s_ready low for {STUCK_BOUND} clocks"), message
    assert f"({taken} beats sent, {n - taken - 1} more queued)" in message, message
    assert clocks <= taken + STUCK_BOUND + 3, f"the stall was reported after {clocks} clocks"


@cocotb.test(timeout_time=backstop_us(100), timeout_unit="us")
async def test_protocol_checker(dut):
    """A bad driver: valid withdrawn while s_ready is low (beat not taken). The
    protocol checker StreamDriver attaches to s fails with a StreamProtocolError
    naming the stream, in the clock of the violation, and only once."""
    tb = FpTB(dut)
    tb.sink_ready.stop()
    dut.m_ready.value = 0
    await tb.reset()
    n = LATENCY + 4
    tb.send(*random_pairs(FMT, OP, n, np.random.default_rng(17)))
    await wait_until(dut.clk, lambda: tb.source.checker.stalls > 0, n + 10, "a stall on s with m_ready low")
    await RisingEdge(dut.clk)
    tb.source.bus.valid.value = 0          # what a broken driver does
    dropped_at = get_sim_time("ns")
    await wait_for(tb.source.checker.task.complete, dut.clk, 5, "the protocol checker on s")
    try:
        tb.source.checker.task.result()
    except StreamProtocolError as error:
        message = str(error)
    else:
        raise AssertionError("the checker stopped without an error")
    assert message.startswith("stream s: valid fell to 0 while ready was low"), message
    assert get_sim_time("ns") == dropped_at, "the violation was reported in a later time step"
    assert tb.source.checker.task.done()
