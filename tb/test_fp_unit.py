"""cocotb tests for fp_add / fp_mul in any format.

The unit, format and latency come from the environment (set by tb/units.py):
FP_OP = add | mul, FP_FORMAT = fp32 | fp16, FP_LATENCY, FP_VECTORS (random
vectors over all test_random runs). Input monitor -> FpModel -> scoreboard on
the output monitor; every result and status flag is compared bit for bit.
"""

import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from models.fp_ref import FORMATS, FpModel
from tb.fp_vectors import directed_pairs, random_pairs
from tb.lib.clock_reset import reset, start_clock
from tb.lib.scoreboard import CheckScoreboard, ExpectedQueue
from tb.lib.stream import Backpressure, StreamDriver, StreamMonitor

OP = os.environ.get("FP_OP", "add")
FMT = FORMATS[os.environ.get("FP_FORMAT", "fp32")]
LATENCY = int(os.environ.get("FP_LATENCY", "3"))
N_RANDOM = int(os.environ.get("FP_VECTORS", "200000"))


class FpTB:
    def __init__(self, dut, idle_prob=0.0, stall_prob=0.0, seed=0):
        self.dut = dut
        self.model = FpModel(OP, FMT)
        start_clock(dut.clk)
        self.source = StreamDriver(dut, "s", dut.clk, ["a", "b"], idle_prob=idle_prob, seed=seed)
        self.sink_ready = Backpressure(dut.m_ready, dut.clk, stall_prob, seed=seed + 1)
        self.in_mon = StreamMonitor(dut, "s", dut.clk, ["a", "b"], reset=dut.rst,
                                    callback=self._model)
        self.out_mon = StreamMonitor(dut, "m", dut.clk, ["result", "status"], reset=dut.rst)
        self.expected = ExpectedQueue()
        self.scoreboard = CheckScoreboard(dut)
        self.scoreboard.add_interface(self.out_mon, self.expected)

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

    async def run(self, a, b, timeout_per_vector=50):
        """Sends all pairs and waits until each result has been checked, then a
        few more clocks so that a spurious extra result would be caught."""
        target = self.scoreboard.checked + len(a)
        self.send(a, b)
        for _ in range(len(a) * timeout_per_vector + 100):
            await RisingEdge(self.dut.clk)
            if self.scoreboard.checked >= target:
                break
        await ClockCycles(self.dut.clk, LATENCY + 4)
        assert self.scoreboard.checked == target, \
            f"{target - self.scoreboard.checked} results never came out"
        assert not self.expected, f"{len(self.expected)} results never came out"


@cocotb.test()
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


@cocotb.test()
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


@cocotb.test()
async def test_latency_throughput(dut):
    """The first result appears LATENCY clocks after its input; a back-to-back
    stream gives one result per clock."""
    tb = FpTB(dut)
    await tb.reset()
    a, b = random_pairs(FMT, OP, 64, np.random.default_rng(11))
    tb.send(a, b)
    await RisingEdge(dut.s_valid)
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


@cocotb.test()
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
