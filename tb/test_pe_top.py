"""cocotb tests of rtl/pe_array/pe_top.v: tensors in (descriptor, activations,
weights), result beats out, on real CIFAR-10 layer data.

The top's controller tiles each layer on its own; the testbench only streams
the layer's integer tensors (x or dout in NCHW, w in OIHW) and the
descriptor. Two independent references check it:
- the numbers: every result element against PyTorch (conv2d / linear for
  FP, conv2d_input / the linear input gradient for BP, conv2d_weight / the
  linear weight gradient for WG; 3x3 stride 1 and 2, the 1x1 stride-2
  shortcut, FC) on the integer tensors, exact;
- the sequence: every result beat against the beat the Python schedule
  (models/pe_array.program) says the array produces at that point, i.e. the
  PyTorch result gathered into that beat's lanes by the schedule's map
  (models/pe_array.ctrl_program, the mapping pe_ctrl implements: 1x1 / FC
  with BC beats, WG 3x3 stride 1 with CONV beats over position triples,
  stride 2 with BC beats, x patches on the rows and dout on the columns, or
  WB beats, dout on the rows: pa.wg3_transposed).

Environment (tb/units_pe.py): PE_ROWS, PE_COLS, PE_OUT_ROWS, PE_ACC_W,
PE_IDEPTH, PE_WDEPTH, PE_ACT_BYTES, PE_WGT_WORDS (HDL parameters), PE_SIDE, PE_N (crop, batch), PE_CASES
(comma list of layer:phase), PE_STALL / PE_IDLE (sink stall / source idle
probability), PE_REPORT (JSON path for the measured cycles of test_layers),
PE_B2B=1 (test_layers also runs each case twice back to back and reports the
second one's cycles, b2b_cycles), TB_TIMEOUT_SCALE (the tests' sim-time
backstops, sized for pe_top_4x8, times this), PE_PLACE=1 (run only
test_placement, tb/units_pe_place.py).

Placement (docs/pe_array_results.md): every result beat of every layer run
here also has its side band (m_pos_col / m_pos_cv / m_pos_row / m_pos_rv)
checked against the schedule's tile.idx, lane by lane, and the results are
placed into the output tensor by the side band alone (as a host or a DMA
engine would, without the schedule): the tensor equals the reference and
every element is written exactly once (BP 1x1 stride 2: the elements off the
stride grid are never written; they are zero).
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
from tb.lib.scoreboard import CheckScoreboard
from tb.lib.stream import Backpressure, StreamDriver, StreamMonitor
from tb.lib.waits import backstop_us, wait_until
from tb.pe_beats import CHECK_BOUND, ResultBeats, descriptor, requant_shift

ROWS = int(os.environ.get("PE_ROWS", "4"))
COLS = int(os.environ.get("PE_COLS", "8"))
OUT_ROWS = int(os.environ.get("PE_OUT_ROWS", "2"))
ACC_W = int(os.environ.get("PE_ACC_W", "32"))
IDEPTH = int(os.environ.get("PE_IDEPTH", "1024"))
WDEPTH = int(os.environ.get("PE_WDEPTH", "2048"))
ACT_BYTES = int(os.environ.get("PE_ACT_BYTES", "1"))
WGT_WORDS = int(os.environ.get("PE_WGT_WORDS", "1"))
SIDE = int(os.environ.get("PE_SIDE", "8"))
N = int(os.environ.get("PE_N", "2"))
CASES = [tuple(c.split(":")) for c in os.environ.get(
    "PE_CASES", "conv1_3x3_s1:fp,conv_16_16_3x3_s1:fp,conv_16_16_3x3_s1:bp,conv_16_32_3x3_s2:fp,"
    "conv_16_32_3x3_s2:bp,conv_32_64_3x3_s2:fp,conv_32_64_3x3_s2:bp,shortcut_16_32_1x1_s2:fp,"
    "shortcut_16_32_1x1_s2:bp,fc_64_10:fp,fc_64_10:bp,conv1_3x3_s1:wg,conv_16_16_3x3_s1:wg,conv_16_32_3x3_s2:wg,"
    "conv_32_64_3x3_s2:wg,shortcut_16_32_1x1_s2:wg,fc_64_10:wg").split(",")]
STALL = float(os.environ.get("PE_STALL", "0.3"))
IDLE = float(os.environ.get("PE_IDLE", "0.1"))
REPORT = os.environ.get("PE_REPORT", "")
B2B_REPORT = os.environ.get("PE_B2B", "0") == "1"
PLACE = os.environ.get("PE_PLACE", "0") == "1"

BEATS = ResultBeats(ROWS, COLS, OUT_ROWS, ACC_W)
GROUPS = BEATS.groups
PHASE = {"fp": 0, "bp": 1, "wg": 2}


POS_LANES = OUT_ROWS * 3
POS_FIELDS = ["pos_col", "pos_cv", "pos_row", "pos_rv"]


def _fields(value, n, width):
    """n unsigned fields of `width` bits, field 0 in the low bits."""
    return np.array([(value >> (width * i)) & ((1 << width) - 1) for i in range(n)], np.int64)


def side_band(pos):
    """One result beat's side band -> (element index, placed) per lane, both
    (OUT_ROWS, COLS, 3): index = m_pos_row[3i + j] + m_pos_col[c] (mod 2^32),
    placed = m_pos_rv[3i + j] and m_pos_cv[c] (docs/pe_array_results.md)."""
    col = _fields(pos["pos_col"], COLS, 32)
    cv = _fields(pos["pos_cv"], COLS, 1).astype(bool)
    row = _fields(pos["pos_row"], POS_LANES, 32).reshape(OUT_ROWS, 1, 3)
    rv = _fields(pos["pos_rv"], POS_LANES, 1).astype(bool).reshape(OUT_ROWS, 1, 3)
    idx = (row + col.reshape(1, COLS, 1)) & 0xFFFFFFFF
    return idx, rv & cv.reshape(1, COLS, 1)


def place(size, beats, pos):
    """The result beats placed by their side bands alone (no schedule): the
    flat result tensor and how often each element was written."""
    out = np.zeros(size, np.int64)
    cnt = np.zeros(size, np.int64)
    for b, p in zip(beats, pos):
        idx, ok = side_band(p)
        assert (idx[ok] < size).all(), f"a placed index {int(idx[ok].max())} beyond the tensor ({size})"
        lanes = BEATS.unpack(b["data"]).reshape(OUT_ROWS, COLS, 3)
        out[idx[ok]] = lanes[ok]
        np.add.at(cnt, idx[ok], 1)
    return out, cnt


def check_side_band(prog, pos, context):
    """Each result beat's side band against the schedule's map, every lane:
    placed exactly where tile.idx >= 0, at tile.idx."""
    for k, t in enumerate(prog.tiles):
        for g in range(GROUPS):
            idx, ok = side_band(pos[k * GROUPS + g])
            exp = t.idx[g * OUT_ROWS:(g + 1) * OUT_ROWS]
            bad = ok != (exp >= 0)
            assert not bad.any(), f"{context}: tile {k} group {g}: {int(bad.sum())} lanes placed != schedule " \
                                  f"(first at (row, col, lane) {tuple(int(v) for v in np.argwhere(bad)[0])})"
            wrong = ok & (idx != exp)
            assert not wrong.any(), f"{context}: tile {k} group {g}: {int(wrong.sum())} lanes at another index " \
                                    f"(first {tuple(int(v) for v in np.argwhere(wrong)[0])}: " \
                                    f"{int(idx[wrong][0])}, schedule {int(exp[wrong][0])})"


def layer_descriptor(layer, phase, rq=0, shift=0):
    return descriptor(PHASE[phase], layer.n, layer.c, layer.m, layer.h, layer.w, layer.k, layer.stride,
                      layer.pad, rq, shift)


def _words(b, items):
    """int8 triples -> (items, words per item) of 24-bit ints, byte j at bits 8j."""
    b = np.ascontiguousarray(b, np.int8).reshape(-1, 3).view(np.uint8).astype(np.int64)
    return (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)).reshape(items, -1)


def weight_words(w):
    """OIHW int8 -> per output channel, one word per kernel row, byte kx at bits 8kx."""
    return _words(w, w.shape[0])


def wg3_weight_words(x, d, stride):
    """Weight stream of WG 3x3: per row item (output channel m, or kernel row
    (c, ky) when x is on the rows) its words (pe_array.wg3_words: stride 1, 3
    consecutive output positions of one image; stride 2, one position), zero
    words up to a multiple of 3, byte k = b operand k."""
    b = pa.wg3_words(np.asarray(x, np.int8), np.asarray(d, np.int8), stride, ROWS, COLS)
    m, n_w = b.shape[:2]
    bp = np.zeros((m, -(-n_w // 3) * 3, 3), np.int8)
    bp[:, :n_w] = b
    return _words(bp, m)


def bc_weight_words(w, d, phase):
    """Weight stream of BC beats (1x1 / FC FP and BP, WG 1x1 / FC): the matrix A
    with the PE-row channels first (FP: w as (M, C); BP: its transpose
    (C, M); WG: dout as (M, N*Ho*Wo)), zero-padded to multiples of 3 both
    ways; one word per (row group g, reduction index r) in that order,
    byte j = A[3g + j, r]."""
    if phase == "wg":
        a = np.asarray(d, np.int8)
        a = a.reshape(a.shape[0], a.shape[1], -1).transpose(1, 0, 2).reshape(a.shape[1], -1)
    else:
        a = np.asarray(w, np.int8).reshape(w.shape[0], w.shape[1])
    if phase == "bp":
        a = a.T
    p, r = a.shape
    ap = np.zeros((-(-p // 3) * 3, -(-r // 3) * 3), np.int8)
    ap[:p, :r] = a
    return _words(ap.reshape(-1, 3, ap.shape[1]).transpose(0, 2, 1), ap.shape[0] // 3)


def wgt_beats(items):
    """Per-item words -> s_wgt beat values: WGT_WORDS words per beat (word i at
    bits 24i), each item zero-padded to a whole number of beats."""
    if WGT_WORDS == 1:
        return items.reshape(-1).tolist()
    m, n = items.shape
    pad = np.zeros((m, -(-n // WGT_WORDS) * WGT_WORDS), np.int64)
    pad[:, :n] = items
    return [sum(int(v) << (24 * i) for i, v in enumerate(row)) for row in pad.reshape(-1, WGT_WORDS)]


def schedule(layer, phase, x, w, d):
    """The Python schedule in the mapping pe_ctrl implements."""
    return pa.ctrl_program(layer, phase, x, w, d, ROWS, COLS)


def act_beats(t):
    """A tensor -> s_act beat values: ACT_BYTES bytes per beat in NCHW order,
    byte k at bits 8k, the final beat zero-padded."""
    b = np.ascontiguousarray(t, np.int8).reshape(-1).view(np.uint8).tobytes()
    return [int.from_bytes(b[i:i + ACT_BYTES], "little") for i in range(0, len(b), ACT_BYTES)]


def with_last(beats):
    """Stream items, s_last on the final beat."""
    return [{"data": v, "last": int(i == len(beats) - 1)} for i, v in enumerate(beats)]


class PeTopTB:
    def __init__(self, dut, stall_prob=STALL, idle_prob=IDLE, seed=0):
        self.dut = dut
        start_clock(dut.clk)
        self.clock = 0
        cocotb.start_soon(self._count())
        self.desc = StreamDriver(dut, "s_desc", dut.clk, ["data"])
        self.act = StreamDriver(dut, "s_act", dut.clk, ["data", "last"], idle_prob=idle_prob, seed=seed)
        self.wgt = StreamDriver(dut, "s_wgt", dut.clk, ["data", "last"], idle_prob=idle_prob, seed=seed + 1)
        self.sink = Backpressure(dut.m_ready, dut.clk, stall_prob, seed=seed + 2)
        self.out_mon = StreamMonitor(dut, "m", dut.clk, ["data", "group", "tlast", "ovf"], reset=dut.rst)
        self.got = []
        self.got_at = []
        self.out_mon.add_callback(self._on_out)
        self.pos = []          # the side band of every result beat (docs/pe_array_results.md)
        self.pos_mon = StreamMonitor(dut, "m", dut.clk, POS_FIELDS, reset=dut.rst)
        self.pos_mon.add_callback(self.pos.append)
        self.beat_at = []      # clocks at which the array took a beat
        self.beat_mon = StreamMonitor(dut.u_arr, "s", dut.clk, ["first"], reset=dut.rst)
        self.beat_mon.add_callback(lambda _: self.beat_at.append(self.clock))
        self.expected = []
        self.placed = []       # (context, elements placed) of every layer checked
        self.scoreboard = CheckScoreboard(dut)
        self.scoreboard.add_interface(self.out_mon, self.expected)

    async def _count(self):
        while True:
            await RisingEdge(self.dut.clk)
            self.clock += 1

    def _on_out(self, beat):
        self.got.append(beat)
        self.got_at.append(self.clock)

    async def reset(self):
        for d in (self.desc, self.act, self.wgt):
            d.flush()
        await reset(self.dut.clk, self.dut.rst)

    def send_layer(self, layer, phase, x, w, d, rq=0, shift=0, mangle=None):
        """Queues the descriptor and both tensor streams; returns the number of
        stream beats. mangle(act, wgt) -> (act, wgt) alters the stream items."""
        self.desc.append({"data": layer_descriptor(layer, phase, rq, shift)})
        wg3 = phase == "wg" and layer.k == 3
        x_rows = wg3 and layer.stride == 2 and pa.wg3_transposed(layer.c, layer.m, ROWS, COLS)
        act = with_last(act_beats(d if phase == "bp" or x_rows else x))
        if wg3:
            wgt = wg3_weight_words(x, d, layer.stride)
        elif layer.k == 1 or phase == "wg":
            wgt = bc_weight_words(w, d, phase)
        else:
            wgt = weight_words(w)
        wgt = with_last(wgt_beats(wgt))
        if mangle is not None:
            act, wgt = mangle(act, wgt)
        for v in act:
            self.act.append(v)
        for v in wgt:
            self.wgt.append(v)
        return len(act) + len(wgt)

    def expect(self, prog, ref_flat, context):
        """The schedule's result beats carrying the reference (tb/pe_beats.py)."""
        self.expected.extend(BEATS.program(prog, ref_flat, context))

    async def run_layer(self, layer, phase, x, w, d, rq=0, shift=0, context="", mangle=None, err_code=0):
        """Streams one layer's tensors, waits for its result beats, assembles
        the result tensor by the schedule's map; err_code: the error expected
        afterwards (0: none). Returns (result, reference, cycle counts)."""
        job = dict(layer=layer, phase=phase, x=x, w=w, d=d, rq=rq, shift=shift, context=context, mangle=mangle)
        return (await self.run_layers([job], err_code))[0]

    async def run_layers(self, jobs, err_code=0):
        """Queues every job's descriptor and streams at once (back to back),
        waits for all result beats (in job order), assembles each result.
        Returns [(result, reference, cycle counts)] per job; cycles_total
        counts from the queueing to the job's last result beat, cycles_since_prev
        from the previous job's last result beat."""
        start, beat0, t0 = len(self.got), len(self.beat_at), self.clock
        per, n_in = [], 0
        for j in jobs:
            layer, phase, x, w, d = j["layer"], j["phase"], j["x"], j["w"], j["d"]
            prog = schedule(layer, phase, x, w, d)
            ref_flat = pa.reference(layer, phase, x, w, d).reshape(-1)
            if j.get("rq"):
                ref_flat = quant.requantize(torch.from_numpy(ref_flat), j["shift"]).numpy().astype(np.int64)
            self.expect(prog, ref_flat, j["context"])
            n_in += self.send_layer(layer, phase, x, w, d, j.get("rq", 0), j.get("shift", 0), j.get("mangle"))
            per.append((j, prog, ref_flat, len(prog.tiles) * GROUPS))
        context = ", ".join(j["context"] for j in jobs)
        n_out = sum(p[3] for p in per)
        n_beats = sum(p[1].beats for p in per)
        limit = int((n_in + n_beats + n_out * 4 + 200 * len(jobs)) * (1 + 4 * IDLE) * (1 + 4 * STALL))
        for _ in range(limit):
            await RisingEdge(self.dut.clk)
            if len(self.got) - start >= n_out:
                break
            # from the array's first beat on, busy holds until the last result beat has left
            assert len(self.beat_at) == beat0 or self.dut.busy.value, f"{context}: busy low with results pending"
        await ClockCycles(self.dut.clk, GROUPS + 8)     # a spurious extra beat would show here
        assert len(self.got) - start == n_out, \
            f"{context}: {len(self.got) - start} of {n_out} result beats, {len(self.beat_at) - beat0} of {n_beats} " \
            f"array beats (s_desc {self.desc.sent}, s_act {self.act.sent}, s_wgt {self.wgt.sent} beats taken in all)"
        assert not self.expected, f"{context}: {len(self.expected)} expected beats not seen"
        assert len(self.beat_at) - beat0 == n_beats, f"{context}: {len(self.beat_at) - beat0} beats, schedule {n_beats}"
        await ReadOnly()
        assert not self.dut.busy.value, f"{context}: busy after the layers"
        assert int(self.dut.err.value) == (err_code != 0), f"{context}: err {self.dut.err.value}"
        assert not err_code or int(self.dut.err_code.value) == err_code, f"{context}: err_code {self.dut.err_code.value}"
        await RisingEdge(self.dut.clk)
        results, o, b, prev = [], start, beat0, None
        for j, prog, ref_flat, n in per:
            layer, phase, ctx = j["layer"], j["phase"], j["context"]
            out, seen = BEATS.assemble(prog, self.got[o:o + n])
            # every element once, except BP 1x1 stride 2: din off the stride grid is never computed (zero)
            assert (seen <= 1).all() and (ref_flat[seen == 0] == 0).all(), f"{ctx}: an element computed twice"
            assert (seen == 1).all() or (layer.k == 1 and phase == "bp" and layer.stride == 2), \
                f"{ctx}: an element not computed"
            end = self.got_at[o + n - 1]
            cycles = {"cycles_total": end - t0, "cycles_compute": end - self.beat_at[b] + 1,
                      "beats": prog.beats, "cycles_model": prog.cycles(OUT_ROWS)}
            # without output backpressure a layer computes in the cycle model's clocks, from its
            # first beat to its last result, queued behind another layer or not
            if STALL == 0:
                assert cycles["cycles_compute"] == cycles["cycles_model"], f"{ctx}: {cycles}"
            if prev is not None:
                cycles["cycles_since_prev"] = end - prev
            # placement by the side band alone: the reference, every element once
            assert len(self.pos) == len(self.got), f"{ctx}: {len(self.pos)} side bands, {len(self.got)} beats"
            check_side_band(prog, self.pos[o:o + n], ctx)
            placed, cnt = place(ref_flat.size, self.got[o:o + n], self.pos[o:o + n])
            assert (cnt <= 1).all(), f"{ctx}: {int((cnt > 1).sum())} elements placed twice"
            assert (cnt == 1).all() or (layer.k == 1 and phase == "bp" and layer.stride == 2), \
                f"{ctx}: {int((cnt == 0).sum())} elements never placed"
            assert np.array_equal(placed, ref_flat), f"{ctx}: placed by the side band, " \
                                                     f"{int((placed != ref_flat).sum())} elements differ"
            self.placed.append((ctx, int(cnt.sum())))
            results.append((out.reshape(prog.out_shape), ref_flat.reshape(prog.out_shape), cycles))
            o, b, prev = o + n, b + prog.beats, end
        return results


def _data(seed=1):
    return pa.layer_tensors(n=N, side=SIDE, seed=seed)


@cocotb.test(skip=PLACE, timeout_time=backstop_us(2_000_000), timeout_unit="us")
async def test_layers(dut):
    """Each configured layer kind and phase, tensors in, INT32 results exact
    against PyTorch, result beats in the schedule's order; random idle
    cycles on the input streams and backpressure on the output."""
    tb = PeTopTB(dut, seed=3)
    await tb.reset()
    data = _data()
    report = []
    for name, phase in CASES:
        layer, x, w, d = data[name]
        got, exp, cyc = await tb.run_layer(layer, phase, x, w, d, context=f"{name} {phase}")
        bad = int((got != exp).sum())
        assert bad == 0, f"{name} {phase}: {bad} of {exp.size} elements differ"
        if B2B_REPORT:
            job = dict(layer=layer, phase=phase, x=x, w=w, d=d, context=f"{name} {phase} back to back")
            for got, exp, c in await tb.run_layers([job, job]):
                assert np.array_equal(got, exp), f"{name} {phase}: back to back differs"
            cyc["b2b_cycles"] = c["cycles_since_prev"]
        dut._log.info("%s %s: %d elements exact, %s", name, phase, exp.size, cyc)
        report.append({"layer": name, "phase": phase, "macs": layer.macs, "elements": int(exp.size), **cyc})
    if REPORT:
        with open(REPORT, "w") as f:
            json.dump(report, f, indent=1)
    assert tb.scoreboard.result


@cocotb.test(skip=PLACE, timeout_time=backstop_us(1_000_000), timeout_unit="us")
async def test_requant(dut):
    """FP and BP (stride 1 and 2, 3x3 and 1x1) outputs requantized to INT8
    (models/quant.requantize on the PyTorch result), with a shift that
    saturates the largest outputs."""
    tb = PeTopTB(dut, seed=5)
    await tb.reset()
    data = _data(seed=2)
    for name, phase in (("conv_16_16_3x3_s1", "fp"), ("conv_16_16_3x3_s1", "bp"), ("conv_16_32_3x3_s2", "bp"),
                        ("shortcut_16_32_1x1_s2", "fp")):
        layer, x, w, d = data[name]
        shift = requant_shift(pa.reference(layer, phase, x, w, d))
        got, exp, _ = await tb.run_layer(layer, phase, x, w, d, rq=1, shift=shift, context=f"{phase} rq")
        sat = int((np.abs(exp) >= 127).sum())
        assert sat > 0 and (np.abs(exp) < 127).sum() > 0
        assert np.array_equal(got, exp), f"{phase}: {(got != exp).sum()} differ"
    assert tb.scoreboard.result


# WG 3x3 edge shapes: (N, C, M, H, W, stride) on crops of real CIFAR-10 data
WG_SHAPES = [
    (3, 5, 7, 5, 7, 1),     # several images, H*W = 35: an image ends mid-beat
    (2, 3, 4, 1, 4, 1),     # one row: ky = 0 and 2 are padding
    (2, 2, 3, 4, 1, 1),     # one column: every position ends a row
    (3, 2, 5, 2, 2, 1),     # lanes cross rows and images
    (3, 5, 7, 2, 6, 2),     # stride 2, one output row
    (2, 6, 3, 4, 4, 2),     # stride 2, few output channels
    (1, 3, 9, 6, 2, 2),     # stride 2, one output column
]


@cocotb.test(skip=PLACE, timeout_time=backstop_us(500_000), timeout_unit="us")
async def test_wg_shapes(dut):
    """WG 3x3 (stride 1: CONV over position triples; stride 2: x or dout on
    the rows) on odd shapes cropped from real CIFAR-10 activations and
    gradients: several images, single rows and columns, lanes that cross row
    and image ends; exact against conv2d_weight, random backpressure."""
    tb = PeTopTB(dut, seed=11)
    await tb.reset()
    _, xs, _, ds = pa.layer_tensors(n=3, side=8, seed=5)["conv_16_16_3x3_s1"]
    for n, c, m, h, w, s in WG_SHAPES:
        layer = pa.Layer(f"wg_{n}x{c}x{m}x{h}x{w}_s{s}", "conv", n, c, m, h, w, 3, s, 1)
        x = np.ascontiguousarray(xs[:n, :c, :h, :w])
        d = np.ascontiguousarray(ds[:n, :m, :layer.ho, :layer.wo])
        got, exp, _ = await tb.run_layer(layer, "wg", x, np.zeros((m, c, 3, 3), np.int8), d, context=layer.name)
        assert np.count_nonzero(exp) > 0, f"{layer.name}: reference all zero"
        assert np.array_equal(got, exp), f"{layer.name}: {(got != exp).sum()} of {exp.size} differ"
    assert tb.scoreboard.result


# (descriptor fields, expected err_code): 1 illegal shape, 3 capacity (2, not mapped, is unused now)
BAD = [
    (dict(phase=0, n=1, c=4, m=4, h=8, w=8, k=2, pad=1), 1),        # K = 2
    (dict(phase=0, n=1, c=4, m=4, h=8, w=8, k=3, stride=3), 1),     # stride 3
    (dict(phase=0, n=0, c=4, m=4, h=8, w=8), 1),                    # N = 0
    (dict(phase=0, n=1, c=4, m=0, h=8, w=8), 1),                    # M = 0
    (dict(phase=0, n=1, c=4, m=4, h=8, w=8, pad=0), 1),             # 3x3 without padding
    (dict(phase=0, n=1, c=4, m=4, h=7, w=8, stride=2), 1),          # odd H at stride 2
    (dict(phase=3, n=1, c=4, m=4, h=8, w=8), 1),                    # phase 3
    (dict(phase=2, n=1, c=4, m=4, h=8, w=8, k=1, pad=1), 1),        # WG 1x1 with padding
    (dict(phase=2, n=1, c=1, m=4, h=50, w=50, k=1, pad=0), 3),      # WG: dout words above the weight buffer
    (dict(phase=0, n=1, c=4, m=4, h=8, w=8, k=1, pad=1), 1),        # 1x1 with padding
    (dict(phase=0, n=1, c=1, m=3 * ROWS * WDEPTH // 2, h=1, w=1, k=1, pad=0), 3),   # 1x1 / FC weights
    (dict(phase=0, n=1, c=3 * IDEPTH, m=4, h=1, w=1), 3),           # input buffer
    (dict(phase=0, n=1, c=2, m=ROWS * WDEPTH, h=4, w=4), 3),        # weight buffer
    (dict(phase=0, n=65535, c=65535, m=65535, h=65535, w=65535), 3),
]


@cocotb.test(skip=PLACE, timeout_time=backstop_us(300_000), timeout_unit="us")
async def test_bad_descriptors(dut):
    """Every illegal or unsupported descriptor is rejected with its error
    code once the descriptor check ends (bounded): no data taken, no result, ready for the next
    descriptor; a legal layer afterwards is exact."""
    tb = PeTopTB(dut, stall_prob=0.0, idle_prob=0.0, seed=7)
    await tb.reset()
    for fields, code in BAD:
        await tb.reset()
        assert not dut.err.value
        tb.desc.append({"data": descriptor(**fields)})
        tb.act.append({"data": 1, "last": 1})       # offered data must stay untaken
        tb.wgt.append({"data": 1, "last": 1})
        # pe_desc's check, then the loader's verdict
        await wait_until(dut.clk, lambda: dut.err.value, CHECK_BOUND, f"{fields}: err after a bad descriptor")
        await ReadOnly()
        assert dut.err.value and int(dut.err_code.value) == code, f"{fields}: err {dut.err.value} code {dut.err_code.value}"
        assert dut.s_desc_ready.value and not dut.busy.value, f"{fields}: not back to idle"
        assert not dut.s_act_ready.value and not dut.s_wgt_ready.value, f"{fields}: data taken"
        assert tb.act.sent == 0 and tb.wgt.sent == 0 and not tb.got, f"{fields}: data moved"
        await RisingEdge(dut.clk)
    await tb.reset()
    assert not dut.err.value, "reset does not clear err"
    layer, x, w, d = _data(seed=3)["conv_16_32_3x3_s2"]
    got, exp, _ = await tb.run_layer(layer, "fp", x, w, d, context="after bad descriptors")
    assert np.array_equal(got, exp)
    assert tb.scoreboard.result


@cocotb.test(skip=PLACE, timeout_time=backstop_us(1_000_000), timeout_unit="us")
async def test_reset_mid_layer(dut):
    """Reset while loading, while computing (results pending), and while
    computing one layer with the next one loading into the other buffer half
    (two descriptors queued): nothing of the interrupted layers comes out
    afterwards, the next layer is exact."""
    tb = PeTopTB(dut, seed=9)
    data = _data(seed=4)
    layer, x, w, d = data["conv_16_16_3x3_s1"]
    ctrl = dut.u_ctrl
    # (loader state, runner state) to wait for: pe_ctrl L_LOAD; R_RUN; R_RUN with L_LOAD
    for wait, queued in (((2, None), 1), ((None, 3), 1), ((2, 3), 2)):
        await tb.reset()
        tb.expected.clear()
        for _ in range(queued):
            tb.expect(pa.program(layer, "bp", x, w, d, ROWS, COLS),
                      pa.reference(layer, "bp", x, w, d).reshape(-1), "before reset")
            tb.send_layer(layer, "bp", x, w, d)

        def there():
            return all(v is None or int(sig.value) == v for v, sig in zip(wait, (ctrl.l_state_q, ctrl.r_state_q)))
        await wait_until(dut.clk, there, 100_000, f"pe_ctrl (l_state_q, r_state_q) = {wait}",
                         lambda: f"at ({int(ctrl.l_state_q.value)}, {int(ctrl.r_state_q.value)})")
        await ClockCycles(dut.clk, 20 if wait[1] is None else 150 // queued)
        assert there(), f"{wait}: state not reached"
        if wait[1] is not None:
            assert len(tb.got) > 0, "no result before the reset"
        n_before = len(tb.got)
        dut.rst.value = 1                       # a stream beat offered during reset is not taken
        await RisingEdge(dut.clk)
        await ReadOnly()
        assert not (dut.s_desc_ready.value or dut.s_act_ready.value or dut.s_wgt_ready.value), \
            f"{wait}: a stream ready during reset"
        await RisingEdge(dut.clk)
        await tb.reset()
        await ReadOnly()
        assert not dut.m_valid.value and not dut.busy.value and dut.s_desc_ready.value
        await ClockCycles(dut.clk, 2 * GROUPS + 4)
        assert len(tb.got) == n_before, "results of the interrupted layer after reset"
    tb.expected.clear()
    layer, x, w, d = data["conv_16_32_3x3_s2"]
    got, exp, _ = await tb.run_layer(layer, "fp", x, w, d, context="after reset")
    assert np.array_equal(got, exp)
    assert tb.scoreboard.result


# back to back: layers that fit half of both buffers (ping-pong) and one that does not (conv_32_64)
B2B = ["conv_16_16_3x3_s1:fp", "conv_16_16_3x3_s1:bp", "conv_16_32_3x3_s2:wg", "shortcut_16_32_1x1_s2:fp",
       "conv_32_64_3x3_s2:fp", "fc_64_10:bp", "conv1_3x3_s1:fp", "conv_16_32_3x3_s2:bp", "shortcut_16_32_1x1_s2:wg"]


@cocotb.test(skip=PLACE, timeout_time=backstop_us(2_000_000), timeout_unit="us")
async def test_back_to_back(dut):
    """Several descriptors and their streams queued at once: each layer's
    results exact against PyTorch, in descriptor order, under output
    backpressure and input gaps; the streams of a layer that fits half the
    buffers are taken while the array computes the previous layer."""
    tb = PeTopTB(dut, seed=15)
    await tb.reset()
    data = _data(seed=7)
    overlap = []

    async def watch():
        # clocks on which s_act or s_wgt moves while the array takes a beat
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            moving = (dut.s_act_valid.value and dut.s_act_ready.value) or (dut.s_wgt_valid.value and dut.s_wgt_ready.value)
            if moving and dut.u_arr.s_valid.value and dut.u_arr.s_ready.value:
                overlap.append(tb.clock)
    watcher = cocotb.start_soon(watch())
    jobs = []
    for case in B2B:
        name, phase = case.split(":")
        layer, x, w, d = data[name]
        jobs.append(dict(layer=layer, phase=phase, x=x, w=w, d=d, context=case))
    results = await tb.run_layers(jobs)
    watcher.cancel()
    for job, (got, exp, cyc) in zip(jobs, results):
        assert np.array_equal(got, exp), f"{job['context']}: {(got != exp).sum()} of {exp.size} differ"
        dut._log.info("%s: %d elements exact, %s", job["context"], exp.size, cyc)
    assert len(overlap) > 0, "no stream beat taken while the array computed"
    dut._log.info("%d clocks with loading and computing at once", len(overlap))
    assert tb.scoreboard.result


def _early(items):
    """The stream cut one beat short, s_last on its new final beat."""
    return with_last([v["data"] for v in items[:-1]])


def _no_last(items):
    return [{**v, "last": 0} for v in items]


def _late(items):
    """One extra beat after the final one, s_last moved onto it."""
    return _no_last(items) + [{"data": items[0]["data"], "last": 1}]


@cocotb.test(skip=PLACE, timeout_time=backstop_us(3_000_000), timeout_unit="us")
async def test_stream_last(dut):
    """s_act_last / s_wgt_last misplaced: err_code 2 and the layer still runs
    and ends. Early (the stream cut short, layer computed alone after a correct
    run of the same tensors, so its stale buffer half gives exact results);
    late (one extra beat carrying s_last: dropped, the layer and the next one
    exact); missing (the next layer's beats are dropped up to its s_last, so
    its streams are sent twice and the second copy is exact). Late and missing
    run queued back to back, the mangled layer loading into half 1 while the
    one before computes. Reset clears err."""
    tb = PeTopTB(dut, seed=13)
    data = _data(seed=6)
    a, b = data["conv_16_16_3x3_s1"], data["conv_16_32_3x3_s2"]
    twice = lambda items: items + items
    cases = {"act early": (lambda act, wgt: (_early(act), wgt), None, False),
             "wgt early": (lambda act, wgt: (act, _early(wgt)), None, False),
             "act late": (lambda act, wgt: (_late(act), wgt), None, True),
             "wgt late": (lambda act, wgt: (act, _late(wgt)), None, True),
             "act missing": (lambda act, wgt: (_no_last(act), wgt), lambda act, wgt: (twice(act), wgt), True),
             "wgt missing": (lambda act, wgt: (act, _no_last(wgt)), lambda act, wgt: (act, twice(wgt)), True)}
    halves = []

    async def watch():
        while True:
            await RisingEdge(dut.clk)
            if dut.u_ctrl.ib_ld_start.value:
                halves.append(int(dut.u_ctrl.ld_half.value))
    watcher = cocotb.start_soon(watch())
    for name, (mangle, resend, queued) in cases.items():
        await tb.reset()
        tb.expected.clear()
        halves.clear()
        assert not dut.err.value, "reset does not clear err"
        steps = ((f"{name}: before", a, None, 0), (name, a, mangle, 2), (f"{name}: next", b, resend, 2))
        jobs = [dict(layer=lay[0], phase="fp", x=lay[1], w=lay[2], d=lay[3], context=ctx, mangle=m)
                for ctx, lay, m, _ in steps]
        if queued:
            results = await tb.run_layers(jobs, err_code=2)
            assert halves[:2] == [0, 1], f"{name}: buffer halves {halves}"
        else:
            results = [await tb.run_layers([j], err_code=code) for j, (_, _, _, code) in zip(jobs, steps)]
            results = [r[0] for r in results]
        for j, (got, exp, _) in zip(jobs, results):
            assert np.array_equal(got, exp), f"{j['context']}: {(got != exp).sum()} differ"
    watcher.cancel()
    assert tb.scoreboard.result


# placement shapes: (kind, phase, N, C, M, H, W, K, stride) cropped from real CIFAR-10 tensors;
# partial row blocks and BC lane groups (C or M not a multiple of 3 or of 3 x ROWS), several
# images, partial column tiles, every mode pe_ctrl runs
PLACE_SHAPES = [
    ("conv", "fp", 3, 2, 5, 3, 5, 3, 1),     # FP 3x3 s1: CONV, two row blocks, images across tiles
    ("conv", "fp", 2, 3, 6, 6, 4, 3, 2),     # FP 3x3 s2
    ("conv", "bp", 2, 5, 3, 3, 4, 3, 1),     # BP 3x3 s1: rotated kernels
    ("conv", "bp", 2, 6, 3, 4, 6, 3, 2),     # BP 3x3 s2: EO, both row parities, lanes 0 and 1
    ("conv", "bp", 1, 5, 2, 2, 2, 3, 2),     # EO: one output pair per row
    ("conv", "fp", 2, 5, 7, 3, 5, 1, 1),     # FP 1x1 s1: BC, M = 7: the last lane group part-filled
    ("conv", "fp", 1, 4, 14, 6, 2, 1, 2),    # FP 1x1 s2: two row blocks
    ("conv", "bp", 2, 13, 5, 3, 3, 1, 1),    # BP 1x1 s1: C = 13, two row blocks, 1 lane in the second
    ("conv", "bp", 2, 7, 4, 4, 6, 1, 2),     # BP 1x1 s2: only the stride grid is written
    ("conv", "wg", 2, 5, 13, 3, 3, 1, 1),    # WG 1x1 s1: BC, M = 13
    ("conv", "wg", 2, 5, 4, 4, 4, 1, 2),     # WG 1x1 s2
    ("fc", "fp", 3, 7, 13, 1, 1, 1, 1),      # FC FP
    ("fc", "bp", 3, 7, 13, 1, 1, 1, 1),      # FC BP
    ("fc", "wg", 3, 7, 13, 1, 1, 1, 1),      # FC WG
    ("conv", "wg", 2, 3, 5, 3, 4, 3, 1),     # WG 3x3 s1: CONV over position triples
    ("conv", "wg", 2, 6, 3, 4, 4, 3, 2),     # WG 3x3 s2, dout on the rows (WB)
    ("conv", "wg", 1, 7, 10, 4, 4, 3, 2),    # WB, several row and column tiles
    ("conv", "wg", 3, 5, 7, 2, 6, 3, 2),     # WG 3x3 s2, x on the rows (BC)
    ("conv", "wg", 1, 3, 9, 6, 2, 3, 2),     # BC, several column tiles
]


@cocotb.test(skip=not PLACE, timeout_time=backstop_us(1_000_000), timeout_unit="us")
async def test_placement(dut):
    """The result side band (m_pos_*) on every mode pe_ctrl runs (PLACE_SHAPES):
    each beat's side band equals the schedule's tile.idx, every lane; the
    results placed by the side band alone equal PyTorch's tensor, every
    element written once; random idle input and output backpressure. Then a
    few of the shapes back to back (a new layer's tiles behind the previous
    one's in the array)."""
    tb = PeTopTB(dut, seed=21)
    await tb.reset()
    _, xs, ws, ds = pa.layer_tensors(n=3, side=8, seed=5)["conv_16_16_3x3_s1"]
    modes = set()
    jobs = []
    for kind, phase, n, c, m, h, w, k, s in PLACE_SHAPES:
        pad = 1 if k == 3 else 0
        layer = pa.Layer(f"{kind}_{phase}_{n}x{c}x{m}x{h}x{w}_k{k}s{s}", kind, n, c, m, h, w, k, s, pad)
        if kind == "fc":
            x = np.ascontiguousarray(xs[:n, :c, 0, 0])
            wt = np.ascontiguousarray(ws[:m, :c, 1, 1])
            d = np.ascontiguousarray(ds[:n, :m, 0, 0])
        else:
            x = np.ascontiguousarray(xs[:n, :c, :h, :w])
            wt = np.ascontiguousarray(ws[:m, :c, :k, :k] if k == 3 else ws[:m, :c, 1:2, 1:2])
            d = np.ascontiguousarray(ds[:n, :m, :layer.ho, :layer.wo])
        prog = schedule(layer, phase, x, wt, d)
        modes.add((phase, k, s, pa.MODE_NAMES[prog.tiles[0].mode]))
        got, exp, _ = await tb.run_layer(layer, phase, x, wt, d, context=layer.name)
        assert np.count_nonzero(exp) > 0, f"{layer.name}: reference all zero"
        assert np.array_equal(got, exp), f"{layer.name}: {(got != exp).sum()} of {exp.size} differ"
        jobs.append(dict(layer=layer, phase=phase, x=x, w=wt, d=d, context=f"{layer.name} back to back"))
    dut._log.info("modes covered (phase, K, stride, PE mode): %s", sorted(modes))
    assert {"conv", "eo", "wb", "bc"} <= {mm for *_, mm in modes}
    for got, exp, _ in await tb.run_layers(jobs[3:9] + jobs[14:]):
        assert np.array_equal(got, exp)
    for ctx, count in tb.placed:
        dut._log.info("%s: %d elements placed by the side band", ctx, count)
    assert tb.scoreboard.result
