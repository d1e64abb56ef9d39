"""cocotb tests of rtl/pe_array/pe_array.v on real CIFAR-10 layer data.

The controller schedule (models/pe_array.py) turns each ResNet-20 layer kind
and phase into operand beats; the driver offers one beat per clock (random idle
clocks optional), the sink applies random backpressure. Every output beat is
checked on a scoreboard against the PyTorch reference (conv2d / linear,
conv2d_input, conv2d_weight on the integer tensors) gathered into that beat's
lanes, and the results, placed by the schedule's map, are compared with the
reference element by element.

Environment (set by tb/units_pe.py and the pytest runner): PE_ROWS, PE_COLS,
PE_OUT_ROWS, PE_ACC_W (the HDL parameters), PE_SIDE (image crop), PE_N (batch),
PE_LAYERS (comma list of layer names or "all"), PE_PHASES (e.g. "fp,bp,wg"),
PE_STALL / PE_IDLE (sink stall / source idle probability), PE_REPORT (JSON
path: measured cycles per layer and phase, written by test_layers),
TB_TIMEOUT_SCALE (the tests' sim-time backstops, sized for a 4 x 8 array on an
8 x 8 crop, times this).
"""

import json
import os

import cocotb
import numpy as np
import torch
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from models import pe_array as pa
from models import quant
from tb.lib.clock_reset import reset, start_clock
from tb.lib.protocol import StreamProtocolChecker
from tb.lib.scoreboard import CheckScoreboard
from tb.lib.stream import Backpressure, StreamMonitor
from tb.lib.waits import STALL_CLOCKS, StreamStall, backstop_us, wait_for, wait_until
from tb.pe_beats import ResultBeats, requant_shift


ROWS = int(os.environ.get("PE_ROWS", "16"))
COLS = int(os.environ.get("PE_COLS", "32"))
OUT_ROWS = int(os.environ.get("PE_OUT_ROWS", "2"))
ACC_W = int(os.environ.get("PE_ACC_W", "32"))
SIDE = int(os.environ.get("PE_SIDE", "8"))
N = int(os.environ.get("PE_N", "1"))
LAYERS = os.environ.get("PE_LAYERS", "all")
PHASES = os.environ.get("PE_PHASES", "fp,bp,wg").split(",")
STALL = float(os.environ.get("PE_STALL", "0.3"))
IDLE = float(os.environ.get("PE_IDLE", "0.1"))
REPORT = os.environ.get("PE_REPORT", "")

BEATS = ResultBeats(ROWS, COLS, OUT_ROWS, ACC_W)
GROUPS = BEATS.groups


def _data():
    data = pa.layer_tensors(n=N, side=SIDE, seed=1)
    names = list(data) if LAYERS == "all" else LAYERS.split(",")
    return {k: data[k] for k in names}


def _pack(arr):
    """int8 array -> int, byte 0 at the LSB."""
    return int.from_bytes(np.ascontiguousarray(arr, np.int8).tobytes(), "little")


class PeArrayTB:
    def __init__(self, dut, stall_prob=STALL, idle_prob=IDLE, seed=0):
        self.dut = dut
        self.rng = np.random.default_rng(seed)
        self.idle_prob = idle_prob
        start_clock(dut.clk)
        dut.s_valid.value = 0
        self.checker = StreamProtocolChecker(dut.s_valid, dut.s_ready, [dut.s_a, dut.s_b, dut.s_mode, dut.s_first,
                                             dut.s_last, dut.s_rq, dut.s_shift], reset=dut.rst, name="s")
        self.sent = 0              # beats taken of the current drive()
        self.sink = Backpressure(dut.m_ready, dut.clk, stall_prob, seed=seed + 1)
        self.out_mon = StreamMonitor(dut, "m", dut.clk, ["data", "group", "tlast", "ovf"], reset=dut.rst)
        self.got = []
        self.out_mon.add_callback(self.got.append)
        self.expected = []
        self.scoreboard = CheckScoreboard(dut)
        self.scoreboard.add_interface(self.out_mon, self.expected)

    async def reset(self):
        self.dut.s_valid.value = 0
        await reset(self.dut.clk, self.dut.rst)

    async def drive(self, beats):
        """beats: list of (a, b, mode, first, last, rq, shift); one per clock
        unless an idle clock is drawn or s_ready is low."""
        dut = self.dut
        self.sent = 0
        for a, b, mode, first, last, rq, shift in beats:
            while self.idle_prob and self.rng.random() < self.idle_prob:
                dut.s_valid.value = 0
                await RisingEdge(dut.clk)
            dut.s_a.value = a
            dut.s_b.value = b
            dut.s_mode.value = mode
            dut.s_first.value = first
            dut.s_last.value = last
            dut.s_rq.value = rq
            dut.s_shift.value = shift
            dut.s_valid.value = 1
            for stalled in range(STALL_CLOCKS + 1):
                await ReadOnly()
                ok = bool(dut.s_ready.value)
                await RisingEdge(dut.clk)
                if ok:
                    break
            else:
                raise StreamStall(f"stream s: s_ready low for {stalled} clocks with beat {self.sent} of "
                                  f"{len(beats)} on s_valid")
            self.sent += 1
        dut.s_valid.value = 0

    @staticmethod
    def beats_of(prog, rq=0, shift=0, settings=None):
        """settings: one (rq, shift) per tile instead of rq, shift for all."""
        beats = []
        for k, t in enumerate(prog.tiles):
            r = len(t.a)
            trq, tsh = settings[k] if settings else (rq, shift)
            for i in range(r):
                beats.append((_pack(t.a[i]), _pack(t.b[i]), t.mode, int(i == 0), int(i == r - 1), trq, tsh))
        return beats

    def expect(self, prog, ref_flat, context):
        """The schedule's result beats carrying the reference (tb/pe_beats.py)."""
        self.expected.extend(BEATS.program(prog, ref_flat, context))

    async def run_program(self, prog, ref, rq=0, shift=0, context="", settings=None):
        """Streams one program, waits for all its output beats, then assembles
        the result tensor from the output beats by the schedule's map.
        settings: one (rq, shift) per tile instead of rq, shift for all.
        Returns (result, reference, clocks from the first beat offered to the
        last result beat taken)."""
        ref_flat = ref.reshape(-1)
        if settings:
            # every element belongs to one tile: requantize it with that tile's setting
            exact, ref_flat = ref_flat, ref_flat.astype(np.int64)
            for t, (trq, tsh) in zip(prog.tiles, settings):
                used = t.idx[t.idx >= 0]
                if trq:
                    ref_flat[used] = quant.requantize(torch.from_numpy(exact[used]), tsh).numpy()
        elif rq:
            ref_flat = quant.requantize(torch.from_numpy(ref_flat), shift).numpy().astype(np.int64)
        n_out = len(prog.tiles) * GROUPS
        start = len(self.got)
        self.expect(prog, ref_flat, context)
        beats = self.beats_of(prog, rq, shift, settings)
        driver = cocotb.start_soon(self.drive(beats))
        limit = int((len(beats) * (1 + 4 * self.idle_prob) + n_out * 4 + 200) * (1 + 4 * STALL))
        clocks = await wait_until(self.dut.clk, lambda: len(self.got) - start >= n_out, limit,
                                  f"{context}: result beats on m",
                                  lambda: f"{len(self.got) - start} of {n_out}, {self.sent} of {len(beats)} beats in")
        await wait_for(driver.complete, self.dut.clk, 4, f"{context}: the s driver after the last result")
        driver.result()
        await ClockCycles(self.dut.clk, GROUPS + 4)   # a spurious extra beat would show here
        assert len(self.got) - start == n_out, f"{context}: {len(self.got) - start} of {n_out} output beats"
        assert not self.expected, f"{context}: {len(self.expected)} expected beats not seen"
        out, seen = BEATS.assemble(prog, self.got[start:])
        # each element computed once; the rest are zero by construction (1x1 stride-2 BP)
        assert (seen <= 1).all()
        assert (ref_flat[seen == 0] == 0).all()
        return out.reshape(prog.out_shape), ref_flat.reshape(prog.out_shape), clocks


@cocotb.test(timeout_time=backstop_us(1_000_000), timeout_unit="us")
async def test_layers(dut):
    """Every configured ResNet-20 layer kind in every configured phase, INT32
    results, exact against PyTorch, random idle cycles and backpressure."""
    tb = PeArrayTB(dut, seed=3)
    await tb.reset()
    report = []
    checked = 0
    for name, (layer, x, w, d) in _data().items():
        for phase in PHASES:
            prog = pa.program(layer, phase, x, w, d, ROWS, COLS)
            ref = pa.reference(layer, phase, x, w, d)
            got, exp, clocks = await tb.run_program(prog, ref, context=f"{name} {phase}")
            bad = int((got != exp).sum())
            assert bad == 0, f"{name} {phase}: {bad} of {exp.size} elements differ"
            checked += exp.size
            dut._log.info("%s %s: %d elements exact, %d beats, %d clocks", name, phase, exp.size,
                          prog.beats, clocks)
            report.append({"layer": name, "phase": phase, "beats": prog.beats, "cycles_measured": clocks,
                           "cycles_model": prog.cycles(OUT_ROWS), "macs": layer.macs,
                           "macs_issued": prog.macs_issued, "elements": int(exp.size)})
    if REPORT:
        with open(REPORT, "w") as f:
            json.dump(report, f, indent=1)
    dut._log.info("%d elements checked, %d output beats", checked, tb.scoreboard.checked)
    assert tb.scoreboard.result


def short_layers():
    """Layers whose FP tiles are shorter than the group count on this array
    (1, 2 and 3 beats), several tiles back to back."""
    return (pa.Layer("short_1x1_c1", "conv", 4, 1, 2 * ROWS, 8, 8, k=1),
            pa.Layer("short_fc_c2", "fc", 8 * COLS, 2, 2 * ROWS),
            pa.Layer("short_3x3_c1", "conv", 1, 1, 2 * ROWS, 8, 8, k=3, pad=1))


@cocotb.test(timeout_time=backstop_us(100_000), timeout_unit="us")
async def test_short_tiles(dut):
    """Tiles shorter than the group count, back to back (source always
    valid), each tile with its own requantization setting (INT32, two
    shifts, shift 0 saturating): exact vs PyTorch; first with the sink always
    ready, where the clocks must equal the cycle model
    (models/pe_array.Program.cycles, the drain rule), then under heavy
    backpressure, where the drain must wait for the FIFO without losing or
    corrupting a group."""
    tb = PeArrayTB(dut, stall_prob=0.0, idle_prob=0.0, seed=13)
    await tb.reset()
    rng = np.random.default_rng(13)
    shortest = GROUPS
    for stall in (0.0, 0.6):
        if stall:
            tb.sink = Backpressure(dut.m_ready, dut.clk, stall, seed=14)
        for layer in short_layers():
            x, w, _ = pa.zero_tensors(layer)
            x = rng.integers(-128, 128, x.shape).astype(np.int8)
            w = rng.integers(-128, 128, w.shape).astype(np.int8)
            prog = pa.program(layer, "fp", x, w, None, ROWS, COLS)
            shortest = min([shortest] + [len(t.a) for t in prog.tiles])
            ref = pa.reference(layer, "fp", x, w, None)
            sh = requant_shift(ref)
            cycle = ((1, sh), (0, 0), (1, sh + 2), (1, 0), (1, sh), (1, sh))
            settings = [cycle[k % len(cycle)] for k in range(len(prog.tiles))]
            ctx = f"{layer.name} stall {stall}"
            got, exp, clocks = await tb.run_program(prog, ref, context=ctx, settings=settings)
            assert np.array_equal(got, exp), f"{ctx}: {(got != exp).sum()} differ"
            if not stall:
                model = prog.cycles(OUT_ROWS)
                assert clocks == model, f"{ctx}: {clocks} clocks, the cycle model {model}"
            dut._log.info("%s: %d tiles of %s beats, %d clocks, exact", ctx, len(prog.tiles),
                          sorted({len(t.a) for t in prog.tiles}), clocks)
    tb.sink.stop()
    assert shortest < GROUPS, "no tile shorter than the group count"
    assert tb.scoreboard.result


@cocotb.test(timeout_time=backstop_us(500_000), timeout_unit="us")
async def test_requant(dut):
    """FP and BP outputs requantized to INT8 in the array (shift, ties up,
    saturation; models/quant.requantize on the PyTorch result), with a shift
    that saturates the largest outputs."""
    tb = PeArrayTB(dut, seed=5)
    await tb.reset()
    data = pa.layer_tensors(n=1, side=8, seed=2)
    for name in ("conv_16_16_3x3_s1", "conv_16_32_3x3_s2"):
        layer, x, w, d = data[name]
        for phase in ("fp", "bp"):
            prog = pa.program(layer, phase, x, w, d, ROWS, COLS)
            ref = pa.reference(layer, phase, x, w, d)
            shift = requant_shift(ref)
            got, exp, _ = await tb.run_program(prog, ref, rq=1, shift=shift, context=f"{name} {phase} rq")
            sat = int((np.abs(exp) >= 127).sum())
            assert sat > 0 and (np.abs(exp) < 127).sum() > 0
            assert np.array_equal(got, exp), f"{name} {phase}: {(got != exp).sum()} differ"
            dut._log.info("%s %s requant shift %d: %d exact, %d saturated", name, phase, shift, exp.size, sat)
    assert tb.scoreboard.result


@cocotb.test(timeout_time=backstop_us(200_000), timeout_unit="us")
async def test_malformed_beats(dut):
    """A beat that continues a tile that is not open, or switches mode inside
    a tile, is dropped and sets the sticky err; the surrounding tiles are
    unaffected (exact results, nothing lost or duplicated)."""
    tb = PeArrayTB(dut, seed=7)
    await tb.reset()
    data = pa.layer_tensors(n=1, side=8, seed=3)
    layer, x, w, d = data["conv_16_32_3x3_s2"]
    prog = pa.program(layer, "fp", x, w, d, ROWS, COLS)
    ref = pa.reference(layer, "fp", x, w, d)
    assert not dut.err.value
    beats = tb.beats_of(prog)
    a, b = beats[1][0], beats[1][1]
    stray = (a, b, pa.CONV, 0, 1, 0, 0)            # continues a closed tile, with `last`
    wrong = (a, b, pa.WB, 0, 0, 0, 0)              # other mode inside an open tile
    r0 = len(prog.tiles[0].a)
    await tb.drive([stray])
    await ClockCycles(dut.clk, 3)
    assert dut.err.value, "err not set by a beat outside a tile"
    assert not dut.m_valid.value, "a dropped beat produced output"
    await tb.reset()                               # err is sticky: clear it before the mode switch
    assert not dut.err.value, "reset does not clear err"
    tb.expect(prog, ref.reshape(-1), "after stray")
    n_out = len(prog.tiles) * GROUPS
    start = len(tb.got)
    driver = cocotb.start_soon(tb.drive(beats[:r0 // 2] + [wrong] + beats[r0 // 2:]))
    await wait_until(dut.clk, lambda: len(tb.got) - start >= n_out, 20 * len(beats) + 1000, "result beats on m",
                     lambda: f"{len(tb.got) - start} of {n_out}, {tb.sent} of {len(beats) + 1} beats in")
    await wait_for(driver.complete, dut.clk, 4, "the s driver after the last result")
    driver.result()
    await ClockCycles(dut.clk, GROUPS + 4)
    assert len(tb.got) - start == n_out and not tb.expected
    assert dut.err.value, "err not set by a mode switch inside a tile"
    assert tb.scoreboard.result


@cocotb.test(timeout_time=backstop_us(400_000), timeout_unit="us")
async def test_reset_midstream(dut):
    """Reset in the middle of a program with outputs pending: nothing of it
    comes out afterwards, and the next program is exact."""
    tb = PeArrayTB(dut, seed=9)
    await tb.reset()
    data = pa.layer_tensors(n=1, side=8, seed=4)
    layer, x, w, d = data["conv_16_16_3x3_s1"]
    prog = pa.program(layer, "wg", x, w, d, ROWS, COLS)
    tb.expect(prog, pa.reference(layer, "wg", x, w, d).reshape(-1), "before reset")
    driver = cocotb.start_soon(tb.drive(tb.beats_of(prog)))
    for _ in range(len(prog.tiles[0].a) * 5 // 2):
        await RisingEdge(dut.clk)
    driver.cancel()
    dut.rst.value = 1
    dut.s_valid.value = 0
    await ClockCycles(dut.clk, 2)
    await ReadOnly()
    assert not dut.m_valid.value and dut.s_ready.value
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    assert tb.scoreboard.checked > 0, "no output before the reset"
    tb.expected.clear()
    layer, x, w, d = data["conv_32_64_3x3_s2"]
    prog = pa.program(layer, "bp", x, w, d, ROWS, COLS)
    ref = pa.reference(layer, "bp", x, w, d)
    got, exp, _ = await tb.run_program(prog, ref, context="after reset")
    assert np.array_equal(got, exp)
    assert tb.scoreboard.result


@cocotb.test(timeout_time=backstop_us(1_000_000), timeout_unit="us")
async def test_overflow(dut):
    """A tile long enough to overflow ACC_W: the partial sum wraps (two's
    complement) and m_ovf is set; the next tile starts clean."""
    tb = PeArrayTB(dut, stall_prob=0.0, idle_prob=0.0, seed=11)
    await tb.reset()
    per_beat = 3 * 128 * 128                    # (-128) * (-128) on all three MACs
    beats_needed = (1 << (ACC_W - 1)) // per_beat + 1
    a = _pack(np.full((COLS, 3), -128, np.int8))
    b = _pack(np.full((ROWS, 3), -128, np.int8))
    total = per_beat * beats_needed
    wrapped = ((total + (1 << (ACC_W - 1))) & BEATS.mask) - (1 << (ACC_W - 1))
    lanes = np.zeros((ROWS, COLS, 3), np.int64)
    lanes[..., 0] = wrapped
    tb.expected.extend(BEATS.tile(lanes, ovf=1, context="overflow"))
    lanes2 = np.zeros((ROWS, COLS, 3), np.int64)
    lanes2[..., 0] = per_beat
    tb.expected.extend(BEATS.tile(lanes2, ovf=0, context="after overflow"))
    beats = [(a, b, pa.CONV, int(i == 0), int(i == beats_needed - 1), 0, 0) for i in range(beats_needed)]
    beats.append((a, b, pa.CONV, 1, 1, 0, 0))
    await tb.drive(beats)
    await ClockCycles(dut.clk, 3 * GROUPS + 10)
    assert not tb.expected, f"{len(tb.expected)} beats missing"
    dut._log.info("overflow after %d beats: wrapped to %d, flagged", beats_needed, wrapped)
    assert tb.scoreboard.result
