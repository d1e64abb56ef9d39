"""cocotb tests of the accelerator's number converters (rtl/accel, side by
side in accel_conv_harness), every output beat compared exactly with
models/accel_num, which is written from the definitions in exact arithmetic:

- f16_to_i8: all 2^16 FP16 inputs at each exponent of F2I_EXPS, and random
  inputs at random exponents of the whole int8 range. NaN -> 0 and
  +-inf -> 127 / -128 (the RTL's definition; the reference's clamp agrees on
  inf), either with m_nf;
- i32_to_f16: INT32 boundaries (powers of two and their neighbours, the
  extremes) and, at every binade, FP16 values and the ties between FP16
  neighbours scaled by 2^-k with the integers around them (the subnormal
  range, 2^-25, the overflow edge 65504 / 65520), plus random values of random
  bit length, at every k from -40 to +8 and at the int8 extremes; m_ovf per
  beat and ovf_sticky;
- amax_track: tensors of all zeros, subnormals only, NaN / inf, the scale
  boundaries 127 * 2^e with their FP16 neighbours, the fraction switch 1008 /
  1009 of every binade, random spreads; m_e, m_max, m_nf per tensor.

The streams carry random idle cycles and random output backpressure; every
output beat is counted (a missing or an extra one fails) and every wait is
bounded. The RTL's own stream_check assertions watch the outputs' stability
while stalled."""

import math
import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, Event, ReadOnly, RisingEdge

from models import accel_num
from tb.lib.clock_reset import reset, start_clock
from tb.lib.scoreboard import CheckScoreboard, ExpectedQueue
from tb.lib.stream import Backpressure, StreamDriver, StreamMonitor
from tb.lib.waits import backstop_us, wait_for, wait_until

LANES = int(os.environ.get("ACCEL_LANES", "4"))
CLOCK_NS = 10
LATENCY = {"i2f": 3, "f2i": 2, "amx": 2}          # the modules' LATENCY localparams
PORTS = {"i2f": (["acc", "k"], ["f16", "ovf"]),
         "f2i": (["x", "e"], ["q", "nf"]),
         "amx": (["x", "last"], ["e", "max", "nf"])}
# run()'s bound per input beat; at idle 0.25 and stall 0.25 a beat takes about 1.8 clocks
CLOCKS_PER_BEAT = 20
F2I_EXPS = (-128, -31, -30, -24, -17, -9, -3, 0, 3, 10, 127)
I2F_KS = tuple(range(-40, 9)) + (-128, -90, -60, -41, 9, 16, 30, 127)


def backstop(beats):
    """timeout_time of a test of `beats` input beats: twice run()'s bound."""
    return backstop_us(2 * (beats * CLOCKS_PER_BEAT + 2000), CLOCK_NS)


def pack(rows, dtype):
    """(beats, LANES) array -> one int per beat, lane i in bits [w*i +: w]."""
    a = np.ascontiguousarray(np.asarray(rows).astype(dtype))
    return [int.from_bytes(r.tobytes(), "little") for r in a]


def bits16(x):
    with np.errstate(over="ignore"):
        return np.asarray(x, dtype=np.float16).view(np.uint16)


class Conv:
    """One converter of the harness: driver with random idle, sink with random
    backpressure, output monitor and exact scoreboard."""

    def __init__(self, dut, name, idle=0.0, stall=0.0, seed=0):
        ins, outs = PORTS[name]
        self.dut, self.name = dut, name
        self.driver = StreamDriver(dut, f"{name}_s", dut.clk, ins, idle_prob=idle, seed=seed)
        self.ready = Backpressure(getattr(dut, f"{name}_m_ready"), dut.clk, stall, seed=seed + 1)
        self.monitor = StreamMonitor(dut, f"{name}_m", dut.clk, outs, reset=dut.rst)
        self.expected = ExpectedQueue()
        self.board = CheckScoreboard(dut)
        self.board.add_interface(self.monitor, self.expected)
        self.target = 0
        self.reached = Event()
        self.monitor.add_callback(self._count)

    def _count(self, _beat):
        if self.board.checked >= self.target:
            self.reached.set()

    def forget(self):
        """After a reset: what was expected of the beats in flight is void."""
        self.driver.flush()
        self.expected.clear()
        self.expected.early.clear()

    async def run(self, beats, expected):
        """Sends the beats, waits until every expected output has been checked,
        then a few clocks more so that an extra output would be caught."""
        first = self.board.checked
        self.target = first + len(expected)
        self.reached.clear()
        self.expected.extend(expected)
        for b in beats:
            self.driver.append(b)
        if self.board.checked < self.target:
            await wait_for(self.reached.wait(), self.dut.clk, len(beats) * CLOCKS_PER_BEAT + 100,
                           f"{self.name} outputs",
                           lambda: f"{self.board.checked - first} of {len(expected)} checked, "
                                   f"{self.driver.sent} input beats sent")
        await self.driver.drain()
        await ClockCycles(self.dut.clk, LATENCY[self.name] + 4)
        assert self.board.checked == self.target, f"{self.target - self.board.checked} outputs never came out"
        assert not self.expected, f"{len(self.expected)} outputs never came out"
        assert not self.expected.early, f"{len(self.expected.early)} outputs nothing expected"
        # (not board.result: cocotb-bus ends the test there)
        assert self.board.errors == 0, f"{self.board.errors} mismatches"
        return self.board.checked - first


async def start(dut):
    start_clock(dut.clk, CLOCK_NS)
    for name in PORTS:
        getattr(dut, f"{name}_s_valid").value = 0
        getattr(dut, f"{name}_m_ready").value = 1
    dut.i2f_ovf_clear.value = 0
    await reset(dut.clk, dut.rst)


# ---------------------------------------------------------------- f16_to_i8

def f2i_reference(x_bits, e):
    """(beats, LANES) FP16 bits at exponent e -> (q, nf) from the model."""
    x = np.asarray(x_bits, dtype=np.uint16).view(np.float16)
    return accel_num.f16_to_i8(x, e), np.any(~np.isfinite(x), axis=1)


def f2i_beats(rows, es):
    """rows: (beats, LANES) FP16 bits, es: the exponent of each beat -> driver
    beats and expectations."""
    rows = np.asarray(rows, dtype=np.uint16).reshape(-1, LANES)
    es = np.asarray(es, dtype=np.int64).reshape(-1)
    q = np.zeros(rows.shape, np.int8)
    nf = np.zeros(len(rows), bool)
    for e in np.unique(es).tolist():
        sel = es == e
        q[sel], nf[sel] = f2i_reference(rows[sel], e)
    beats, expected = [], []
    for xb, qb, f, e, r in zip(pack(rows, "<u2"), pack(q.view(np.uint8), "u1"), nf.tolist(), es.tolist(), rows):
        beats.append({"x": xb, "e": e & 0xFF})
        expected.append({"q": qb, "nf": int(f), "_context": f"e={e} x={[hex(int(v)) for v in r]}"})
    return beats, expected


F2I_BEATS = len(F2I_EXPS) * 65536 // LANES


@cocotb.test(timeout_time=backstop(F2I_BEATS), timeout_unit="us")
async def test_f2i_exhaustive(dut):
    """Every FP16 input at each exponent of F2I_EXPS (the tracker's range
    -30..10, its edges and the int8 extremes), the beats of all exponents
    shuffled together (s_e changes from beat to beat)."""
    await start(dut)
    conv = Conv(dut, "f2i", idle=0.2, stall=0.2, seed=11)
    rng = np.random.default_rng(11)
    rows = np.concatenate([rng.permutation(65536).astype(np.uint16).reshape(-1, LANES) for _ in F2I_EXPS])
    es = np.repeat(F2I_EXPS, 65536 // LANES)
    order = rng.permutation(len(rows))
    beats, expected = f2i_beats(rows[order], es[order])
    n = await conv.run(beats, expected)
    dut._log.info("f16_to_i8: %d beats (%d values, %d exponents) checked", n, n * LANES, len(F2I_EXPS))
    assert n == F2I_BEATS


@cocotb.test(timeout_time=backstop(3000), timeout_unit="us")
async def test_f2i_random(dut):
    """Random FP16 bit patterns at random exponents of the whole int8 range
    (half of them in the tracker's range -30..10)."""
    await start(dut)
    conv = Conv(dut, "f2i", idle=0.3, stall=0.3, seed=12)
    rng = np.random.default_rng(12)
    n = 3000
    es = np.where(rng.random(n) < 0.5, rng.integers(-128, 128, n), rng.integers(-30, 11, n))
    rows = rng.integers(0, 1 << 16, (n, LANES)).astype(np.uint16)
    beats, expected = f2i_beats(rows, es)
    assert await conv.run(beats, expected) == n


# ---------------------------------------------------------------- i32_to_f16

# positive FP16 values whose neighbourhoods are rounding boundaries: zero, the
# subnormals' ends, the smallest normals, 1.0, the largest finite
I2F_F16 = (0x0000, 0x0001, 0x0002, 0x0003, 0x01FF, 0x0200, 0x03FE, 0x03FF, 0x0400, 0x0401, 0x07FF,
           0x0800, 0x3BFF, 0x3C00, 0x3C01, 0x5BFF, 0x5C00, 0x7BFE, 0x7BFF)


def i2f_values(k, rng):
    """INT32 values that matter at exponent k."""
    vals = {0, 1, -1, 2, -2, 3, -3, 2**31 - 1, -2**31, -2**31 + 1}
    for n in range(31):
        for d in (-1, 0, 1):
            vals.update((2**n + d, -(2**n + d)))
    fp = list(I2F_F16) + rng.integers(0, 0x7C00, 24).tolist()
    for b in fp:
        v = float(np.uint16(b).view(np.float16))
        nxt = 65536.0 if b == 0x7BFF else float(np.uint16(b + 1).view(np.float16))
        for c in (v, (v + nxt) / 2):           # a value and the tie above it, both exact in float64
            a = math.ldexp(c, -k)
            if a > 2**31 + 2:
                continue
            lo = math.floor(a)
            for cand in (lo - 1, lo, lo + 1, lo + 2):
                vals.update((cand, -cand))
    nbits = rng.integers(0, 32, 200)
    mags = [int(rng.integers(0, 1 << int(b))) if b else 0 for b in nbits]
    vals.update(m if s else -m for m, s in zip(mags, rng.integers(0, 2, 200)))
    vals = sorted(v for v in vals if -2**31 <= v < 2**31)
    return np.array(vals, dtype=np.int64)


def i2f_beats(rows, ks):
    """rows: (beats, LANES) INT32 values, ks: the exponent of each beat ->
    driver beats and expectations."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, LANES)
    ks = np.asarray(ks, dtype=np.int64).reshape(-1)
    y = np.zeros(rows.shape, np.float16)
    for k in np.unique(ks).tolist():
        y[ks == k] = accel_num.i32_to_f16(rows[ks == k], k)
    ovf = np.any(np.isinf(y), axis=1)
    beats, expected = [], []
    for ab, yb, o, k, r in zip(pack(rows.astype(np.int32).view(np.uint32), "<u4"), pack(bits16(y), "<u2"),
                               ovf.tolist(), ks.tolist(), rows):
        beats.append({"acc": ab, "k": k & 0xFF})
        expected.append({"f16": yb, "ovf": int(o), "_context": f"k={k} acc={r.tolist()}"})
    return beats, expected


def i2f_vectors(rng):
    """Every k of I2F_KS with its values, LANES to a beat, the beats shuffled."""
    rows, ks = [], []
    for k in I2F_KS:
        v = rng.permutation(i2f_values(k, rng))
        v = np.concatenate([v, np.zeros(-len(v) % LANES, np.int64)]).reshape(-1, LANES)
        rows.append(v)
        ks += [k] * len(v)
    rows, ks = np.concatenate(rows), np.array(ks)
    order = rng.permutation(len(rows))
    return rows[order], ks[order]


I2F_BEATS_MAX = len(I2F_KS) * 1500 // LANES + len(I2F_KS)


@cocotb.test(timeout_time=backstop(I2F_BEATS_MAX), timeout_unit="us")
async def test_i2f(dut):
    """Boundary and random INT32 at every k of I2F_KS (-40..+8 and the int8
    extremes), the beats of all exponents shuffled together; m_ovf per beat
    and ovf_sticky at the end."""
    await start(dut)
    conv = Conv(dut, "i2f", idle=0.25, stall=0.25, seed=21)
    rng = np.random.default_rng(21)
    rows, ks = i2f_vectors(rng)
    assert len(rows) <= I2F_BEATS_MAX
    beats, expected = i2f_beats(rows, ks)
    n = await conv.run(beats, expected)
    ovf = sum(e["ovf"] for e in expected)
    dut._log.info("i32_to_f16: %d beats (%d values, %d exponents, %d overflowing beats) checked",
                  n, n * LANES, len(I2F_KS), ovf)
    assert n == len(rows) and ovf > 0
    await ReadOnly()
    assert int(dut.i2f_ovf_sticky.value) == 1


@cocotb.test(timeout_time=backstop(100), timeout_unit="us")
async def test_i2f_ovf_sticky(dut):
    """ovf_sticky: low after reset and over beats that do not overflow, set by
    the delivery of an overflowing beat, cleared by ovf_clear, set again."""
    await start(dut)
    conv = Conv(dut, "i2f")

    async def send(acc, k):
        await conv.run(*i2f_beats(np.full((1, LANES), acc, np.int64), [k]))
        await ReadOnly()
        return int(dut.i2f_ovf_sticky.value)

    assert await send(65504, 0) == 0
    assert await send(-(2**31), -16) == 0           # -32768: no overflow
    assert await send(65519, 0) == 0                 # below the tie 65520
    assert await send(65520, 0) == 1                 # the tie rounds to even: inf
    await RisingEdge(dut.clk)
    dut.i2f_ovf_clear.value = 1
    await RisingEdge(dut.clk)
    dut.i2f_ovf_clear.value = 0
    await ReadOnly()
    assert int(dut.i2f_ovf_sticky.value) == 0, "ovf_clear did not clear ovf_sticky"
    assert await send(1, 8) == 0
    assert await send(-1, 16) == 1                   # -65536: -inf
    await RisingEdge(dut.clk)
    await reset(dut.clk, dut.rst)
    await ReadOnly()
    assert int(dut.i2f_ovf_sticky.value) == 0, "reset did not clear ovf_sticky"


# ---------------------------------------------------------------- amax_track

def amax_tensors(rng):
    """A list of tensors, each a (beats, LANES) array of FP16 bits."""
    out = []

    def tensor(nbeats, fill):
        return fill((nbeats, LANES)).astype(np.uint16)

    def place(t, value):
        """Puts `value` (bits) at a random element, with a random sign."""
        t = t.copy()
        t.flat[rng.integers(t.size)] = value | (int(rng.integers(2)) << 15)
        return t

    def small(shape, below):
        """Random FP16 bits of magnitude below `below` (bits), random signs."""
        return rng.integers(0, max(below, 1), shape) | (rng.integers(0, 2, shape) << 15)

    for n in (1, 1, 2, 5):                                  # all zeros, +0 and -0
        out.append(tensor(n, lambda s: rng.integers(0, 2, s) << 15))
    for n in (1, 2, 3, 7):                                  # subnormals only
        out.append(tensor(n, lambda s: small(s, 0x400)))
        out.append(tensor(n, lambda s: small(s, 0x10)))
    for f in range(1, 0x400):                               # every subnormal as the maximum
        if f < 20 or f % 37 == 0 or any(abs(f - t) <= 1 for t in (31, 63, 127, 254, 508, 1016)):
            out.append(place(tensor(int(rng.integers(1, 4)), lambda s: small(s, f)), f))
    for exp in range(1, 31):                                # the fraction switch 1008 / 1009 at every binade
        for frac in (0, 1, 1007, 1008, 1009, 1010, 1023):
            b = (exp << 10) | frac
            out.append(place(tensor(int(rng.integers(1, 4)), lambda s: small(s, b)), b))
    for e in range(-30, 11):                                # 127 * 2^e (rounded to FP16) and its neighbours
        v = int(bits16(np.ldexp(127.0, e)))
        for b in (v - 1, v, v + 1, v + 2):
            if 0 < b < 0x7C00:
                out.append(place(tensor(int(rng.integers(1, 5)), lambda s: small(s, b)), b))
    for special in (0x7C00, 0x7C01, 0x7E00, 0x7FFF, 0x7D55):   # inf and NaNs, signs random
        for n in (1, 3):
            out.append(place(tensor(n, lambda s: small(s, 0x7C00)), special))
            out.append(place(tensor(n, lambda s: rng.integers(0, 2, s) << 15), special))
    for _ in range(200):                                    # random spreads of random lengths
        scale = rng.uniform(-26, 17)
        n = int(rng.integers(1, 12))
        vals = rng.standard_normal((n, LANES)) * 2.0 ** scale
        with np.errstate(over="ignore"):
            t = bits16(vals.astype(np.float16))
        t = np.where((t & 0x7C00) == 0x7C00, 0x7BFF | (t & 0x8000), t).astype(np.uint16)
        out.append(t)
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def amax_beats(tensors):
    beats, expected = [], []
    for t in tensors:
        e, m, finite = accel_num.amax_exponent(t.view(np.float16))
        rows = pack(t, "<u2")
        for i, xb in enumerate(rows):
            beats.append({"x": xb, "last": int(i == len(rows) - 1)})
        expected.append({"e": e & 0xFF, "max": int(bits16(m)), "nf": int(not finite),
                         "_context": f"tensor of {len(rows)} beats, max |x| {float(m)}"})
    return beats, expected


@cocotb.test(timeout_time=backstop(6000), timeout_unit="us")
async def test_amax(dut):
    """The tracker on every tensor of amax_tensors, back to back (the next
    tensor's beats follow a last beat at once)."""
    await start(dut)
    conv = Conv(dut, "amx", idle=0.25, stall=0.4, seed=31)
    tensors = amax_tensors(np.random.default_rng(31))
    beats, expected = amax_beats(tensors)
    assert len(beats) <= 6000
    n = await conv.run(beats, expected)
    nf = sum(x["nf"] for x in expected)
    dut._log.info("amax_track: %d tensors (%d beats, %d with NaN/inf) checked", n, len(beats), nf)
    assert n == len(tensors)


@cocotb.test(timeout_time=backstop(0x7C00 + 8), timeout_unit="us")
async def test_amax_every_max(dut):
    """Every FP16 magnitude 0..0x7BFF, then inf and two NaNs, as the maximum
    of a one-beat tensor (the other lanes random below it, random signs): the
    scale derivation on its whole domain."""
    await start(dut)
    conv = Conv(dut, "amx", idle=0.1, stall=0.1, seed=32)
    rng = np.random.default_rng(32)
    mags = np.concatenate([np.arange(0x7C00), [0x7C00, 0x7C01, 0x7FFF]]).astype(np.int64)
    rows = (rng.integers(0, 1 << 15, (len(mags), LANES)) % np.maximum(mags, 1)[:, None])
    rows[np.arange(len(mags)), rng.integers(0, LANES, len(mags))] = mags
    rows |= rng.integers(0, 2, rows.shape) << 15
    tensors = [rows[i:i + 1].astype(np.uint16) for i in range(len(rows))]
    n = await conv.run(*amax_beats(tensors))
    dut._log.info("amax_track: %d one-beat tensors checked", n)
    assert n == len(mags)


# ---------------------------------------------------------------- all three

@cocotb.test(timeout_time=backstop(2000), timeout_unit="us")
async def test_latency_throughput(dut):
    """With no idle cycle and the sinks always ready each converter takes a
    beat every clock and gives its output exactly LATENCY clocks after the
    input (amax_track: after the tensor's last beat), the three at once."""
    await start(dut)
    rng = np.random.default_rng(41)
    convs = {name: Conv(dut, name) for name in PORTS}
    fires = {name: ([], []) for name in PORTS}
    stop = [False]

    async def record():
        cycle = 0
        while not stop[0]:
            await ReadOnly()
            for name, (ins, outs) in fires.items():
                if getattr(dut, f"{name}_s_valid").value and getattr(dut, f"{name}_s_ready").value:
                    if name != "amx" or dut.amx_s_last.value:
                        ins.append(cycle)
                if getattr(dut, f"{name}_m_valid").value and getattr(dut, f"{name}_m_ready").value:
                    outs.append(cycle)
            await RisingEdge(dut.clk)
            cycle += 1

    recorder = cocotb.start_soon(record())
    n = 200
    runs = [
        convs["i2f"].run(*i2f_beats(rng.integers(-2**31, 2**31, (n, LANES)), rng.integers(-40, 9, n))),
        convs["f2i"].run(*f2i_beats(rng.integers(0, 1 << 16, (n, LANES)), rng.integers(-30, 11, n))),
        convs["amx"].run(*amax_beats([bits16(rng.standard_normal((int(rng.integers(1, 4)), LANES)))
                                      for _ in range(n // 2)])),
    ]
    tasks = [cocotb.start_soon(r) for r in runs]
    for t in tasks:
        await t
    stop[0] = True
    recorder.cancel()
    for name, (ins, outs) in fires.items():
        assert len(ins) == len(outs) > 0, f"{name}: {len(ins)} inputs, {len(outs)} outputs"
        late = [o - i for i, o in zip(ins, outs) if o - i != LATENCY[name]]
        assert not late, f"{name}: output latencies {sorted(set(late))}, expected {LATENCY[name]}"
        if name != "amx":
            assert ins[-1] - ins[0] == len(ins) - 1, f"{name}: {len(ins)} beats over {ins[-1] - ins[0] + 1} clocks"
    dut._log.info("latency i2f %d, f2i %d, amx %d; one beat per clock", LATENCY["i2f"], LATENCY["f2i"],
                  LATENCY["amx"])


@cocotb.test(timeout_time=backstop(3000), timeout_unit="us")
async def test_reset_midstream(dut):
    """A reset in mid-stream on all three: the beats in flight are dropped
    (nothing accepted before it comes out after), ovf_sticky is cleared, and
    amax_track forgets the tensor in progress: its next result covers only
    the beats after the reset, although those before held the largest value
    and an inf. Then each converter works on with nothing lost or doubled."""
    await start(dut)
    rng = np.random.default_rng(51)
    convs = {name: Conv(dut, name, idle=0.2, stall=0.3, seed=51 + j) for j, name in enumerate(PORTS)}
    # streams in progress: i2f overflowing, f2i random, amax a tensor without its last beat
    i2f_pre = i2f_beats(np.full((300, LANES), 2**31 - 1, np.int64), np.full(300, 8))
    f2i_pre = f2i_beats(rng.integers(0, 1 << 16, (300, LANES)), np.zeros(300, np.int64))
    big = np.full((20, LANES), 0x7BFF, np.uint16)
    big[3, 0] = 0x7C00
    for name, (beats, expected) in (("i2f", i2f_pre), ("f2i", f2i_pre)):
        convs[name].expected.extend(expected)
        for b in beats:
            convs[name].driver.append(b)
    for b in amax_beats([big])[0][:-1]:                    # all but the last beat
        convs["amx"].driver.append(b)
    await convs["amx"].driver.drain()
    await wait_until(dut.clk, lambda: int(dut.i2f_ovf_sticky.value) == 1, 200, "i2f_ovf_sticky before the reset")
    checked = {name: c.board.checked for name, c in convs.items()}
    assert checked["i2f"] > 0 and checked["f2i"] > 0 and checked["amx"] == 0
    dut.rst.value = 1
    for c in convs.values():
        c.forget()
    await ClockCycles(dut.clk, 2)
    await ReadOnly()
    for name in PORTS:
        assert not getattr(dut, f"{name}_m_valid").value, f"{name}_m_valid high during reset"
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    await ReadOnly()
    assert int(dut.i2f_ovf_sticky.value) == 0, "reset did not clear ovf_sticky"
    await RisingEdge(dut.clk)
    after = [bits16(rng.standard_normal((int(rng.integers(1, 5)), LANES))) for _ in range(60)]
    runs = {
        "i2f": convs["i2f"].run(*i2f_beats(rng.integers(-2**20, 2**20, (400, LANES)), rng.integers(-40, -5, 400))),
        "f2i": convs["f2i"].run(*f2i_beats(rng.integers(0, 1 << 16, (400, LANES)), rng.integers(-30, 11, 400))),
        "amx": convs["amx"].run(*amax_beats(after)),
    }
    tasks = {name: cocotb.start_soon(r) for name, r in runs.items()}
    for name, t in tasks.items():
        n = await t
        dut._log.info("%s: %d outputs before the reset, %d after, all checked", name, checked[name], n)
    assert convs["amx"].board.checked == len(after)
    assert int(dut.i2f_ovf_sticky.value) == 0
