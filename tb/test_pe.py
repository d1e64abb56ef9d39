"""cocotb tests of ONE PE (rtl/pe_array/pe.v) on real CIFAR-10 layer data.

The controller schedule (models/pe_array.py) of a ResNet-20 layer for a
PE_ROWS x PE_COLS array gives, for PE (r, c), the operands of every beat
(column operands of column c, row operands of row r) and the result element
of each of its three partial sums. The driver plays those beats into the PE,
one per clock with random idle clocks (en low, random operands: they must not
count); the shadow register must hold the PyTorch reference (conv2d,
conv2d_input, conv2d_weight on the integer tensors) from the 4th clock edge
after a tile's last beat on. Between tiles the drain path is exercised:
`shift` at one clock edge copies sh_in into the shadow at the next, and the
shadow holds without `shift`.

Environment: PE_ROWS, PE_COLS (the array the schedule maps to), PE_SIDE,
PE_N (crop and batch), PE_LAYERS, PE_PHASES, PE_CELLS ("r,c;r,c;..." the PEs
whose beats are played), PE_IDLE (idle clock probability), PE_IDLE_RANDOM (1:
random operands on idle clocks, 0: held), PE_ACC_W.
"""

import os

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from models import pe_array as pa
from tb.lib.clock_reset import reset, start_clock
from tb.lib.waits import backstop_us

ROWS = int(os.environ.get("PE_ROWS", "16"))
COLS = int(os.environ.get("PE_COLS", "32"))
ACC_W = int(os.environ.get("PE_ACC_W", "32"))
SIDE = int(os.environ.get("PE_SIDE", "16"))
N = int(os.environ.get("PE_N", "1"))
LAYERS = os.environ.get("PE_LAYERS", "conv_16_16_3x3_s1").split(",")
PHASES = os.environ.get("PE_PHASES", "fp,bp,wg").split(",")
CELLS = [tuple(int(v) for v in rc.split(",")) for rc in os.environ.get("PE_CELLS", "0,0").split(";")]
IDLE = float(os.environ.get("PE_IDLE", "0.1"))
IDLE_RANDOM = os.environ.get("PE_IDLE_RANDOM", "1") == "1"   # 0: idle clocks hold the operands
LOAD_EDGES = 4          # last beat on the pins -> shadow holds the result after this many edges
MASK = (1 << ACC_W) - 1


def _pack8(v):
    return int.from_bytes(np.asarray(v, np.int8).tobytes(), "little")


def _lanes(value):
    lanes = [(value >> (ACC_W * j)) & MASK for j in range(3)]
    return [x - (1 << ACC_W) if x >> (ACC_W - 1) else x for x in lanes]


class PeTB:
    def __init__(self, dut, seed=0):
        self.dut = dut
        self.rng = np.random.default_rng(seed)
        start_clock(dut.clk)
        self.idle()
        dut.shift.value = 0
        dut.sh_in.value = 0
        dut.sh_ovf_in.value = 0
        self.checked = 0

    def idle(self):
        """en low with random operands and markers (they must have no effect);
        with PE_IDLE_RANDOM=0 the operands hold, as the array's registers do."""
        d = self.dut
        d.en.value = 0
        if not IDLE_RANDOM:
            d.last.value = 0
            return
        d.a.value = int(self.rng.integers(0, 1 << 24))
        d.b.value = int(self.rng.integers(0, 1 << 24))
        d.mode.value = int(self.rng.integers(0, 4))
        d.first.value = int(self.rng.integers(0, 2))
        d.last.value = int(self.rng.integers(0, 2))

    async def tile(self, tile, r, c, expect):
        d = self.dut
        n = len(tile.a)
        for i in range(n):
            while IDLE and self.rng.random() < IDLE:
                self.idle()
                await RisingEdge(d.clk)
            d.en.value = 1
            d.mode.value = tile.mode
            d.first.value = int(i == 0)
            d.last.value = int(i == n - 1)
            d.a.value = _pack8(tile.a[i][c])
            d.b.value = _pack8(tile.b[i][r])
            await RisingEdge(d.clk)
        self.idle()
        for _ in range(LOAD_EDGES - 1):
            await RisingEdge(d.clk)
        await ReadOnly()
        got = _lanes(int(d.sh_out.value))
        assert got == list(expect), f"PE ({r},{c}) tile: got {got}, expected {list(expect)}"
        assert int(d.sh_ovf_out.value) == 0
        self.checked += 3
        await RisingEdge(d.clk)

    async def drain_check(self):
        """shift at one edge copies sh_in at the next; without shift the shadow holds."""
        d = self.dut
        held = int(d.sh_out.value)
        v = int(self.rng.integers(0, 1 << 62)) | (int(self.rng.integers(0, 1 << 34)) << 62)
        ov = int(self.rng.integers(0, 8))
        d.sh_in.value = v
        d.sh_ovf_in.value = ov
        await RisingEdge(d.clk)
        await ReadOnly()
        assert int(d.sh_out.value) == held, "shadow changed without shift"
        await RisingEdge(d.clk)
        d.shift.value = 1
        await RisingEdge(d.clk)
        d.shift.value = 0
        await ReadOnly()
        assert int(d.sh_out.value) == held, "shift acted at its own edge"
        await RisingEdge(d.clk)
        d.sh_in.value = 0
        d.sh_ovf_in.value = 0
        await ReadOnly()
        assert int(d.sh_out.value) == v and int(d.sh_ovf_out.value) == ov, "shift did not load sh_in"
        await RisingEdge(d.clk)


@cocotb.test(timeout_time=backstop_us(200_000), timeout_unit="us")
async def test_cifar_beats(dut):
    """PE (r, c)'s beats of real CIFAR-10 layers, every tile's three partial
    sums exact against PyTorch at the lanes the schedule maps (0 where none)."""
    tb = PeTB(dut, seed=1)
    await reset(dut.clk, dut.rst)
    data = pa.layer_tensors(n=N, side=SIDE, seed=1)
    tiles = 0
    for name in LAYERS:
        layer, x, w, d = data[name]
        for phase in PHASES:
            prog = pa.program(layer, phase, x, w, d, ROWS, COLS)
            ref = pa.reference(layer, phase, x, w, d).reshape(-1)
            for r, c in CELLS:
                for k, t in enumerate(prog.tiles):
                    idx = t.idx[r, c]
                    expect = [int(ref[i]) if i >= 0 else 0 for i in idx]
                    await tb.tile(t, r, c, expect)
                    tiles += 1
                    if k % 7 == 0:
                        await tb.drain_check()
            dut._log.info("%s %s: PEs %s, %d tiles exact", name, phase, CELLS, len(prog.tiles) * len(CELLS))
    assert tiles > 0 and tb.checked == 3 * tiles


def conv_beat(dut, ab, first, last):
    """Present one CONV beat with a = b = ab (taken at the next edge)."""
    dut.en.value = 1
    dut.mode.value = pa.CONV
    dut.first.value = int(first)
    dut.last.value = int(last)
    dut.a.value = ab
    dut.b.value = ab


@cocotb.test(timeout_time=backstop_us(1_000_000), timeout_unit="us")
async def test_overflow_reset(dut):
    """(-128)^2 x 3 per beat until ACC_W wraps: two's complement wrap and the
    sticky overflow bit; a beat presented during reset is not executed (the
    PE's reset clears its P0 valid bits; beats past P0 complete, which the
    array's glue ignores after its own reset)."""
    tb = PeTB(dut, seed=2)
    await reset(dut.clk, dut.rst)
    per_beat = 3 * 128 * 128
    n = (1 << (ACC_W - 1)) // per_beat + 1
    a = _pack8(np.full(3, -128))
    for i in range(n):
        conv_beat(dut, a, i == 0, i == n - 1)
        await RisingEdge(dut.clk)
    tb.idle()
    for _ in range(LOAD_EDGES - 1):
        await RisingEdge(dut.clk)
    await ReadOnly()
    total = per_beat * n
    wrapped = ((total + (1 << (ACC_W - 1))) & MASK) - (1 << (ACC_W - 1))
    assert _lanes(int(dut.sh_out.value)) == [wrapped, 0, 0]
    assert int(dut.sh_ovf_out.value) == 0b001
    await RisingEdge(dut.clk)
    held = int(dut.sh_out.value)
    # a one-beat tile presented during reset: the shadow keeps the old tile
    conv_beat(dut, a, True, True)
    dut.rst.value = 1
    await RisingEdge(dut.clk)
    tb.idle()
    for _ in range(LOAD_EDGES + 2):
        await RisingEdge(dut.clk)
    await ReadOnly()
    assert int(dut.sh_out.value) == held, "a beat presented during reset reached the shadow"
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    # after reset: a fresh tile, no stale overflow
    conv_beat(dut, a, True, True)
    await RisingEdge(dut.clk)
    tb.idle()
    for _ in range(LOAD_EDGES - 1):
        await RisingEdge(dut.clk)
    await ReadOnly()
    assert _lanes(int(dut.sh_out.value)) == [per_beat, 0, 0] and int(dut.sh_ovf_out.value) == 0
