"""cocotb tests of BN STAT with exact, order-free statistics
(rtl/bn/bn_stat_exact.v, docs/accel.md "Numerics").

Reference: models/bn_ref._stats_exact (exact rational sums of the binary16
values, each result rounded once by models/accel_num.round_fraction_f16),
written from the spec independently of the RTL. Every channel result (the
four binary16 values, the element count and both flags) is compared bit for
bit, every result is counted (a missing or an extra one fails), and every
wait is bounded in clocks. The unit's geometry comes from its ports:
LANES = len(s_keep), NW = len(s_n).

Stimuli: random channels of 1..3000 elements (powers of two and not), values
of a narrow or a wide binary16 exponent spread (subnormals to near 65504, so
that sums and means overflow to inf), FP (a = b) and BP (independent a, b);
real CIFAR-10 conv1 feature maps and their gradients; the same channel in
shuffled orders and lane splits (identical bits: the point of the design);
elements in any lane pattern, empty beats, a last beat with no element, junk
(NaN, inf) in the lanes s_keep leaves out; NaN/inf inputs; N = 0, a wrong
commanded N and (where 2^NW is small) too many elements; random idle on the
input and backpressure on the result; resets mid-channel and mid-division.
"""

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from models.bn_ref import _stats_exact, bits16, bn_forward, from_bits16
from tb.lib.clock_reset import reset, start_clock
from tb.lib.scoreboard import CheckScoreboard
from tb.lib.stream import Backpressure, StreamDriver, StreamMonitor
from tb.lib.waits import backstop_us, wait_until

QNAN = 0x7E00
# r_valid is high LATENCY clocks after the clock in which the last beat is taken (no stall):
# 3 to the accumulators, capture, |S|, divider start, 41 division steps, result
LATENCY = 48
# a channel of at least this many beats, back to back, never stalls the input
NO_STALL_BEATS = 45


def f16_bits(rng, n, kind):
    """n random binary16 bit patterns (finite): "narrow" a normal distribution
    at a random scale, "wide" random exponent fields over a random range
    (subnormals included), "mixed" both."""
    if kind == "narrow":
        scale = float(2.0 ** rng.integers(-22, 9))
        x = (rng.standard_normal(n) * scale + rng.standard_normal() * scale).astype(np.float16)
        x[~np.isfinite(x)] = np.float16(65504)
        return bits16(x)
    if kind == "wide":
        lo = int(rng.integers(0, 31))
        hi = int(rng.integers(lo, 31))
        e = rng.integers(lo, hi + 1, n)
        f = rng.integers(0, 1024, n)
        s = rng.integers(0, 2, n) if rng.random() < 0.8 else np.full(n, int(rng.integers(0, 2)))
        return ((s << 15) | (e << 10) | f).astype(np.uint16)
    half = n // 2
    return np.concatenate([f16_bits(rng, half, "narrow"), f16_bits(rng, n - half, "wide")])[rng.permutation(n)]


class StatTB:
    def __init__(self, dut, idle_prob=0.0, stall_prob=0.0, seed=0):
        self.dut = dut
        self.lanes = len(dut.s_keep)
        self.nw = len(dut.s_n)
        self.rng = np.random.default_rng(seed + 1000)
        start_clock(dut.clk)
        self.src = StreamDriver(dut, "s", dut.clk, ["a", "b", "keep", "last", "n"],
                                idle_prob=idle_prob, seed=seed)
        self.r_ready = Backpressure(dut.r_ready, dut.clk, stall_prob, seed=seed + 1)
        self.mon = StreamMonitor(dut, "r", dut.clk, ["sum1", "sum2", "mean1", "mean2", "count", "flags"],
                                 reset=dut.rst)
        self.got = []
        self.mon.add_callback(self.got.append)
        self.exp = []
        self.sb = CheckScoreboard(dut)
        self.sb.add_interface(self.mon, self.exp)
        self.channels = 0          # channels queued since the last reset
        self.beats = 0

    async def reset(self):
        self.dut.s_valid.value = 0
        await reset(self.dut.clk, self.dut.rst)

    # ------------------------------------------------------------ stimuli
    def expected(self, a, b, n_cmd, tag):
        """The reference result of one channel (bits, count, flags)."""
        n = a.size
        if n >= 1 << self.nw:                      # more elements than NW counts
            return {"sum1": QNAN, "sum2": QNAN, "mean1": QNAN, "mean2": QNAN,
                    "count": n % (1 << self.nw), "flags": 2, "_context": tag}
        if n == 0:
            return {"sum1": 0, "sum2": 0, "mean1": QNAN, "mean2": QNAN, "count": 0, "flags": 2,
                    "_context": tag}
        with np.errstate(all="ignore"):
            res = _stats_exact(from_bits16(a), from_bits16(b), n)
        out = [int(bits16(np.float16(v))) for v in res]
        finite_in = np.all((a & 0x7C00) != 0x7C00) and np.all((b & 0x7C00) != 0x7C00)
        nf = (not finite_in) or any((v & 0x7C00) == 0x7C00 for v in out)
        err = n_cmd != n
        return {"sum1": out[0], "sum2": out[1], "mean1": out[2], "mean2": out[3], "count": n,
                "flags": (int(err) << 1) | int(nf), "_context": tag}

    def beats_of(self, a, b, n_cmd, split="packed"):
        """Beats of one channel. split: "packed" (full beats, the last one
        partial), "random" (any lane pattern, empty beats, sometimes an empty
        last beat). Lanes s_keep leaves out carry junk, NaN and inf included."""
        rng, lanes, n = self.rng, self.lanes, a.size
        out, i = [], 0
        while i < n:
            if split == "packed":
                k = min(lanes, n - i)
                pos = list(range(k))
            else:
                k = min(int(rng.integers(0, lanes + 1)), n - i)
                pos = sorted(rng.choice(lanes, size=k, replace=False).tolist())
            la = [int(v) for v in rng.choice([0x7E00, 0x7C00, 0xFC00, 0x7BFF, 0x3C00], lanes)]
            lb = [int(v) for v in rng.integers(0, 1 << 16, lanes)]
            keep = 0
            for p in pos:
                la[p], lb[p] = int(a[i]), int(b[i])
                keep |= 1 << p
                i += 1
            out.append([la, lb, keep])
        if not out or (split == "random" and rng.random() < 0.3):
            out.append([[0x7E00] * lanes, [0x7C00] * lanes, 0])     # a last beat with no element
        beats = []
        for j, (la, lb, keep) in enumerate(out):
            beats.append({"a": sum(v << (16 * p) for p, v in enumerate(la)),
                          "b": sum(v << (16 * p) for p, v in enumerate(lb)),
                          "keep": keep, "last": int(j == len(out) - 1),
                          "n": n_cmd % (1 << self.nw)})
        return beats

    def channel(self, a, b, tag, n_cmd=None, split="packed"):
        """Queues one channel (a, b: binary16 bits) and its expected result."""
        a = np.asarray(a, np.uint16)
        b = np.asarray(b, np.uint16)
        n_cmd = a.size if n_cmd is None else n_cmd
        exp = self.expected(a, b, n_cmd, f"{tag} n={a.size}")
        self.exp.append(exp)
        for beat in self.beats_of(a, b, n_cmd, split):
            self.src.append(beat)
            self.beats += 1
        self.channels += 1
        return exp

    async def drain(self, clocks=None):
        """Waits until every expected result has come out (bounded), then a
        while longer so that an extra result would be caught."""
        limit = clocks or (self.beats * 8 + self.channels * 200 + 2000)
        await wait_until(self.dut.clk, lambda: not self.exp, limit, "results on r",
                         lambda: f"{len(self.exp)} of {self.channels} channels outstanding, "
                                 f"{self.src.sent} beats taken")
        await ClockCycles(self.dut.clk, LATENCY + 20)
        assert not self.exp


def sizes(rng, count, hi=3000):
    """Channel sizes: small, powers of two, around them, and random."""
    fixed = [1, 2, 3, 4, 5, 7, 64, 512, 1024, 1023, 2048, 3000]
    extra = rng.integers(1, hi + 1, max(0, count - len(fixed))).tolist()
    out = fixed + extra
    rng.shuffle(out)
    return out[:count]


# ---------------------------------------------------------------- tests
@cocotb.test(timeout_time=backstop_us(600_000), timeout_unit="us")
async def test_random_channels(dut):
    """Random channels of 1..3000 elements (powers of two and not), FP (a =
    b) and BP (independent a, b), narrow and wide exponent spreads; packed
    and random lane splits. Exact vs _stats_exact."""
    tb = StatTB(dut, seed=1)
    await tb.reset()
    rng = np.random.default_rng(11)
    total = 0
    kinds = {"overflow": 0, "subnormal": 0}
    for k, n in enumerate(sizes(rng, 22)):
        kind = ["narrow", "wide", "mixed"][k % 3]
        a = f16_bits(rng, n, kind)
        bp = k % 2 == 1
        b = f16_bits(rng, n, ["narrow", "wide", "mixed"][(k + 1) % 3]) if bp else a
        exp = tb.channel(a, b, f"ch{k} {'BP' if bp else 'FP'} {kind}", split="random" if k % 4 == 3 else "packed")
        kinds["overflow"] += exp["flags"] & 1
        kinds["subnormal"] += int(any(0 < (exp[f] & 0x7FFF) < 0x400 for f in ("sum2", "mean1", "mean2")))
        total += n
    await tb.drain()
    dut._log.info("%d channels, %d elements, %d with a result overflowed to inf, %d with a subnormal result",
                  tb.channels, total, kinds["overflow"], kinds["subnormal"])
    assert tb.sb.checked == tb.channels == 22
    assert kinds["overflow"] > 0 and kinds["subnormal"] > 0, "the spread did not reach inf and subnormal results"
    assert tb.sb.result     # last: it ends the test


@cocotb.test(timeout_time=backstop_us(300_000), timeout_unit="us")
async def test_feature_maps(dut):
    """Real CIFAR-10 data: ResNet-20 conv1 outputs (FP: a = b = x) and the loss
    gradient with the FP xhat of bn_forward(exact_stats=True) (BP: a = dy
    masked by the ReLU mask, b = xhat), batch 2 at 16x16 (512 elements, a
    power of two) and batch 3 at 10x10 (300)."""
    from models.resnet20 import bn1_feature_maps
    tb = StatTB(dut, seed=2)
    await tb.reset()
    x2, dy2 = bn1_feature_maps(2, seed=0)
    x3, dy3 = bn1_feature_maps(3, seed=1)
    chans = [(x2[:, c, :16, :16], dy2[:, c, :16, :16]) for c in (0, 1, 2)] + \
            [(x3[:, c, :10, :10], dy3[:, c, :10, :10]) for c in (3, 4)]
    for k, (x, dy) in enumerate(chans):
        x16 = x.astype(np.float16).ravel()
        fp = bn_forward(x16, np.float16(1.0), np.float16(0.0), relu=True, exact_stats=True)
        dym = np.where(fp["mask"] != 0, dy.astype(np.float16).ravel(), np.float16(0)).astype(np.float16)
        tb.channel(bits16(x16), bits16(x16), f"FP conv1 ch{k}")
        tb.channel(bits16(dym), bits16(fp["xhat"]), f"BP conv1 ch{k}")
        # the model's own FP statistics are what this unit computes
        exp = tb.exp[-2]
        assert exp["mean1"] == int(bits16(fp["mu"])), "bn_forward(exact_stats) mu differs from _stats_exact"
    await tb.drain()
    assert tb.sb.checked == tb.channels == 10
    assert tb.sb.result     # last: it ends the test


@cocotb.test(timeout_time=backstop_us(300_000), timeout_unit="us")
async def test_order_free(dut):
    """The same channel in five orders (as given, reversed, three shuffles)
    and lane splits (packed and random, empty beats) gives the same bits,
    equal to the reference. The data are chosen so that a sequential binary32
    sum depends on the order (large values that cancel beside small ones)."""
    tb = StatTB(dut, seed=3)
    await tb.reset()
    rng = np.random.default_rng(33)
    n = 1500
    third = n // 3
    big = np.float16(2.0) ** rng.integers(3, 8, third).astype(np.float16)
    a = bits16(np.concatenate([(rng.standard_normal(third) * 3).astype(np.float16),
                               np.where(rng.random(third) < 0.5, big, -big).astype(np.float16),
                               (rng.standard_normal(n - 2 * third) * 1e-6).astype(np.float16)]))
    b = bits16((rng.standard_normal(n) * 2).astype(np.float16))
    a32 = from_bits16(a).astype(np.float32)
    seq = [np.float32(0)] * 2
    for k, order in enumerate((np.arange(n), np.arange(n)[::-1])):
        s = np.float32(0)
        for v in a32[order]:
            s = np.float32(s + v)
        seq[k] = s
    assert seq[0] != seq[1], "the data do not make a binary32 sequential sum order-dependent"
    results = []
    orders = [np.arange(n), np.arange(n)[::-1]] + [rng.permutation(n) for _ in range(3)]
    for k, order in enumerate(orders):
        for mode, bb in (("FP", a), ("BP", b)):
            tb.channel(a[order], bb[order], f"order {k} {mode}", split="packed" if k < 2 else "random")
    tb.mon.add_callback(results.append)
    await tb.drain()
    assert tb.sb.checked == tb.channels == 10
    for mode in (0, 1):
        group = [tuple(r[f] for f in ("sum1", "sum2", "mean1", "mean2", "count", "flags"))
                 for r in results[mode::2]]
        assert len(group) == 5 and len(set(group)) == 1, f"results differ between orders: {group}"
        dut._log.info("%s: %s", "FP" if mode == 0 else "BP", " ".join(f"{v:#06x}" for v in group[0]))
    assert tb.sb.result     # last: it ends the test


@cocotb.test(timeout_time=backstop_us(100_000), timeout_unit="us")
async def test_rounding_edges(dut):
    """Directed values: RNE ties of the sums and means (to even, both ways),
    a sum exactly 65504, one that rounds to 65504 and one to inf, the means
    of values near 65504 (S2/N overflows), the largest magnitudes with both
    signs (accumulator range), subnormal and tiny results (a negative value
    that rounds to -0, an exact zero that is +0), 2^-24 squared (2^-48)."""
    tb = StatTB(dut, seed=4)
    await tb.reset()
    h = lambda *v: bits16(np.array(v, np.float16))   # noqa: E731
    cases = [
        ("tie even down", h(2048, 1), None), ("tie even up", h(2048, 3), None),
        ("mean tie", h(2048, 2048, 2050, 2050), None),          # S1/4 = 2049: a tie, to 2048
        ("mean tie up", h(2050, 2050, 2052, 2052), None),       # S1/4 = 2051: a tie, to 2052
        ("sum 65504", h(32752, 32752), None), ("sum to 65504", h(65504, 8), None),
        ("sum tie to inf", h(65504, 16), None), ("sum below the tie", h(65504, 15.5), None),
        ("near max", np.full(37, h(65504)[0], np.uint16), None),
        ("near -max", np.full(41, h(-65504)[0], np.uint16), None),
        ("max mixed", h(65504, -65504, 65504, -65504, 65504), None),
        ("tiny", h(2.0 ** -24, 2.0 ** -24, -(2.0 ** -24)), None),
        ("tiny neg", h(-(2.0 ** -24)), None),
        ("zero", h(0.0, -0.0, 1.5, -1.5), None),
        ("sub mean", h(2.0 ** -24, 0, 0, 0, 0, 0), None),
        ("sub squares", h(*([2.0 ** -12] * 3 + [-(2.0 ** -14)] * 3)), None),
    ]
    for name, a, _ in cases:
        tb.channel(a, a, f"{name} FP")
    # BP: products of mixed signs, a sum that cancels to exactly zero
    tb.channel(h(3.0, -3.0, 0.5), h(2.0, 2.0, -0.25), "cancel BP")
    tb.channel(h(-1.0, 1.0), h(2.0 ** -14, 2.0 ** -14), "S2 exact zero BP")
    tb.channel(h(-(2.0 ** -24)), h(2.0 ** -24), "tiny product -0 BP")
    tb.channel(h(*([300.0] * 9)), h(*([300.0] * 9)), "S2 overflow BP")
    await tb.drain()
    assert tb.sb.checked == tb.channels == len(cases) + 4
    assert tb.sb.result     # last: it ends the test


@cocotb.test(timeout_time=backstop_us(100_000), timeout_unit="us")
async def test_nonfinite(dut):
    """A NaN, +inf or -inf in a or in b (any lane, any position): all four
    results 0x7E00 and NF; NaN and inf in lanes s_keep leaves out change
    nothing; the channel after a NaN one is clean (the flags are per channel)."""
    tb = StatTB(dut, seed=5)
    await tb.reset()
    rng = np.random.default_rng(55)
    for k, bad in enumerate((0x7E00, 0x7C00, 0xFC00, 0x7D01, 0xFFFF)):
        n = int(rng.integers(1, 200))
        a = f16_bits(rng, n, "narrow")
        b = f16_bits(rng, n, "narrow")
        pos = int(rng.integers(0, n))
        if k % 2:
            b[pos] = bad
        else:
            a[pos] = bad
        exp = tb.channel(a, b if k % 2 else a, f"bad 0x{bad:04x} in {'b' if k % 2 else 'a'}",
                         split="random" if k > 2 else "packed")
        assert exp["flags"] == 1 and exp["sum1"] == QNAN
        clean = f16_bits(rng, n, "narrow")
        exp = tb.channel(clean, clean, "clean after", split="random")
    await tb.drain()
    assert tb.sb.checked == tb.channels == 10
    assert tb.sb.result     # last: it ends the test


@cocotb.test(timeout_time=backstop_us(100_000), timeout_unit="us")
async def test_errors(dut):
    """N = 0 (a lone last beat with no element: ERR, sums +0, means 0x7E00),
    a commanded N that differs from the elements sent (ERR, the results over
    the elements counted), N = 0 between good channels, and, where 2^NW is
    small enough to reach, 2^NW - 1 elements of +-65504 (the accumulators'
    range: exact) and 2^NW elements (ERR, all four 0x7E00)."""
    tb = StatTB(dut, seed=6)
    await tb.reset()
    rng = np.random.default_rng(66)
    empty = np.zeros(0, np.uint16)
    tb.channel(empty, empty, "N=0")
    a = f16_bits(rng, 100, "narrow")
    tb.channel(a, a, "N wrong", n_cmd=99)
    tb.channel(empty, empty, "N=0 commanded 5", n_cmd=5)
    tb.channel(a[:37], a[:37], "N wrong high", n_cmd=38, split="random")
    tb.channel(a, a, "good")
    tb.channel(empty, empty, "N=0 again")
    tb.channel(a[:5], a[:5], "good short")
    expected = 7
    if tb.nw <= 12:
        big = 1 << tb.nw
        top = np.full(big - 1, 0x7BFF, np.uint16)
        tb.channel(top, top, "2^NW-1 x 65504")
        neg = top | 0x8000
        tb.channel(neg, top, "2^NW-1 x -65504 BP")
        tb.channel(np.full(big, 0x3C00, np.uint16), np.full(big, 0x3C00, np.uint16), "2^NW elements")
        tb.channel(a, a, "good after overflow")
        expected += 4
    else:
        dut._log.info("NW = %d: the count overflow (2^NW elements) is tested on a unit with NW <= 12", tb.nw)
    await tb.drain()
    assert tb.sb.checked == tb.channels == expected
    assert tb.sb.result     # last: it ends the test


@cocotb.test(timeout_time=backstop_us(300_000), timeout_unit="us")
async def test_backpressure(dut):
    """Random idle input clocks and r_ready stalls, many short channels (1..60
    elements, shorter than the division: their last beats wait) and some long
    ones: nothing lost, duplicated or changed."""
    tb = StatTB(dut, idle_prob=0.3, stall_prob=0.5, seed=7)
    await tb.reset()
    rng = np.random.default_rng(77)
    for k in range(40):
        n = int(rng.integers(1, 61)) if k % 8 else int(rng.integers(200, 1200))
        a = f16_bits(rng, n, "mixed")
        b = f16_bits(rng, n, "narrow") if k % 2 else a
        tb.channel(a, b, f"bp ch{k}", split="random" if k % 3 == 0 else "packed")
    await tb.drain()
    assert tb.sb.checked == tb.channels == 40
    assert tb.sb.result     # last: it ends the test


@cocotb.test(timeout_time=backstop_us(100_000), timeout_unit="us")
async def test_timing(dut):
    """Latency and throughput as the header states: a result LATENCY clocks
    after the handshake of the channel's last beat; channels of
    NO_STALL_BEATS beats back to back never drop s_ready, one beat shorter
    they do; channels of 1 beat back to back give one result every
    NO_STALL_BEATS clocks (s_ready low in between)."""
    tb = StatTB(dut, seed=8)
    await tb.reset()
    rng = np.random.default_rng(88)
    dut_clk = dut.clk
    log = {"last": [], "rvalid": [], "stall": 0, "clk": 0}

    async def watch():
        prev_rv = 0
        while True:
            await RisingEdge(dut_clk)
            await ReadOnly()
            log["clk"] += 1
            sv, sr = int(dut.s_valid.value), int(dut.s_ready.value)
            if sv and sr and int(dut.s_last.value):
                log["last"].append(log["clk"])
            if sv and not sr:
                log["stall"] += 1
            rv = int(dut.r_valid.value)
            if rv and not prev_rv:
                log["rvalid"].append(log["clk"])
            prev_rv = rv

    task = cocotb.start_soon(watch())
    a = f16_bits(rng, 100 * tb.lanes, "narrow")
    tb.channel(a, a, "latency")
    await tb.drain()
    lat = log["rvalid"][0] - log["last"][0]
    dut._log.info("latency: %d clocks from the last beat to r_valid", lat)
    assert lat == LATENCY, f"latency {lat}, the header says {LATENCY}"
    log["stall"] = 0
    for k in range(6):
        a = f16_bits(rng, NO_STALL_BEATS * tb.lanes, "narrow")
        tb.channel(a, a, f"no-stall {k}")
    await tb.drain()
    dut._log.info("%d channels of %d beats: s_ready low with s_valid high on %d clocks",
                  6, NO_STALL_BEATS, log["stall"])
    assert log["stall"] == 0
    log["stall"] = 0
    for k in range(3):                    # one beat shorter: the last beats wait
        a = f16_bits(rng, (NO_STALL_BEATS - 1) * tb.lanes, "narrow")
        tb.channel(a, a, f"stall {k}")
    await tb.drain()
    dut._log.info("3 channels of %d beats: %d stalled clocks", NO_STALL_BEATS - 1, log["stall"])
    assert log["stall"] > 0, "NO_STALL_BEATS is not the shortest channel that never stalls"
    log["stall"], log["rvalid"] = 0, []
    for k in range(6):
        a = f16_bits(rng, tb.lanes, "narrow")
        tb.channel(a, a, f"one beat {k}")
    await tb.drain()
    gaps = np.diff(log["rvalid"])
    dut._log.info("one-beat channels: results every %s clocks, %d stalled clocks", gaps.tolist(), log["stall"])
    assert log["stall"] > 0 and np.all(gaps == NO_STALL_BEATS)
    task.cancel()
    assert tb.sb.checked == tb.channels == 16
    assert tb.sb.result     # last: it ends the test


@cocotb.test(timeout_time=backstop_us(200_000), timeout_unit="us")
async def test_reset_midchannel(dut):
    """A reset in the middle of a channel's beats, and one while a channel
    divides: neither gives a result, and the channels after are exact (the
    accumulators, count and flags start from zero)."""
    tb = StatTB(dut, stall_prob=0.2, seed=9)
    await tb.reset()
    rng = np.random.default_rng(99)

    async def do_reset():
        dut.rst.value = 1
        tb.src.flush()
        tb.exp.clear()
        await ClockCycles(dut.clk, 2)
        await ReadOnly()
        assert not dut.r_valid.value, "r_valid high during reset"
        await RisingEdge(dut.clk)
        dut.rst.value = 0
        await RisingEdge(dut.clk)

    # 1: mid-channel (a NaN in the part taken, so a leftover NF would show)
    a = f16_bits(rng, 400 * tb.lanes, "mixed")
    a[3] = 0x7E00
    tb.channel(a, a, "interrupted")
    await wait_until(dut.clk, lambda: tb.src.sent >= 50, 10_000, "50 beats of the interrupted channel")
    await do_reset()
    got = len(tb.got)
    c = f16_bits(rng, 333, "narrow")
    tb.channel(c, c, "after reset 1")
    await tb.drain()
    assert len(tb.got) == got + 1
    # 2: while dividing (the result would come LATENCY clocks after the last beat)
    d = f16_bits(rng, 50, "wide")
    target = tb.src.sent + len(tb.beats_of(d, d, d.size))
    tb.channel(d, d, "interrupted in division")
    await wait_until(dut.clk, lambda: tb.src.sent >= target, 10_000, "the beats of the dividing channel")
    await ClockCycles(dut.clk, 20)
    await do_reset()
    got = len(tb.got)
    tb.channel(c, c, "after reset 2", split="random")
    tb.channel(d, d, "after reset 2b")
    await tb.drain()
    assert len(tb.got) == got + 2
    assert tb.sb.checked == 3
    assert tb.sb.result     # last: it ends the test
