"""pe_desc (the PE-array controller's sequential descriptor check) against
models/pe_array.ctrl_check, exact integers: random legal layers of every
kind and phase, random illegal and oversized descriptors (16-bit fields up
to 65535, zeros, bad K / stride / padding / phase), with idle clocks on the
input and backpressure on the result; a reset in the middle of a check.
Accepted layers compare every output the controller reads for that layer
kind (g, c3 and kyl only for BC layers, the only ones that use them);
rejected ones the error code. The
latency (accept to result) is logged per layer kind, not asserted beyond
its bound (a check must end: CHECK_BOUND clocks).
env: PE_ROWS, PE_COLS, PE_IDEPTH, PE_WDEPTH, PE_QW (HDL parameters), PE_N_DESC."""

import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from models import pe_array as pa
from tb.lib.clock_reset import reset, start_clock
from tb.lib.stream import Backpressure, StreamDriver, StreamMonitor
from tb.lib.waits import backstop_us, wait_until
from tb.pe_beats import CHECK_BOUND, descriptor

ROWS = int(os.environ.get("PE_ROWS", "16"))
COLS = int(os.environ.get("PE_COLS", "32"))
IDEPTH = int(os.environ.get("PE_IDEPTH", "1024"))
WDEPTH = int(os.environ.get("PE_WDEPTH", "1024"))
QW = int(os.environ.get("PE_QW", "12"))
N_DESC = int(os.environ.get("PE_N_DESC", "400"))
CLOCK_NS = 2


def random_fields(rng):
    """A ResNet-like legal layer, a large one near the buffers' capacity, or
    arbitrary 16-bit fields (mostly illegal or oversized)."""
    kind = rng.integers(0, 4)
    if kind <= 1:
        k = int(rng.choice([1, 3]))
        stride = int(rng.choice([1, 2]))
        side = int(rng.choice([1, 2, 4, 8, 16, 32])) if stride == 1 else int(rng.choice([2, 4, 8, 16, 32]))
        return dict(phase=int(rng.integers(0, 3)), n=int(rng.choice([1, 2, 3, 32])),
                    c=int(rng.choice([1, 3, 5, 16, 32, 64, rng.integers(1, 200)])),
                    m=int(rng.choice([1, 10, 16, 32, 64, rng.integers(1, 200)])),
                    h=side, w=side if kind == 0 else int(rng.integers(1, 40)) * stride, k=k, stride=stride, pad=k // 2)
    if kind == 2:
        big = [int(v) for v in rng.integers(1, 1 << int(rng.integers(1, 17)), 5)]
        k = int(rng.choice([1, 3]))
        return dict(phase=int(rng.integers(0, 3)), n=big[0] % 64 + 1, c=big[1], m=big[2], h=big[3] & ~1 or 2,
                    w=big[4] & ~1 or 2, k=k, stride=int(rng.choice([1, 2])), pad=k // 2)
    f = [int(rng.choice([0, 1, 2, 65535, rng.integers(0, 65536)])) for _ in range(5)]
    return dict(phase=int(rng.integers(0, 4)), n=f[0], c=f[1], m=f[2], h=f[3], w=f[4],
                k=int(rng.integers(0, 4)), stride=int(rng.integers(0, 4)), pad=int(rng.integers(0, 4)))


OUTPUTS = ("desc", "code", "fit", "count", "ld_m", "ld_c", "base", "wgt", "g", "c3", "kyl", "hw", "chw")


class DescTB:
    """Descriptors in on s_* (StreamDriver, idle cycles), results out on m_*
    (StreamMonitor, Backpressure on m_ready); a watcher checks that a stalled
    result holds and records the clock each check's result appears."""

    def __init__(self, dut, seed=0, idle_prob=0.3, stall_prob=0.3):
        self.dut = dut
        start_clock(dut.clk, CLOCK_NS)
        self.clock = 0
        self.drv = StreamDriver(dut, "s", dut.clk, ["data"], idle_prob=idle_prob, seed=seed)
        self.sink = Backpressure(dut.m_ready, dut.clk, stall_prob, seed=seed + 1)
        self.got, self.taken_at, self.valid_at = [], [], []
        self.in_mon = StreamMonitor(dut, "s", dut.clk, ["data"], reset=dut.rst)
        self.in_mon.add_callback(lambda _: self.taken_at.append(self.clock))
        self.out_mon = StreamMonitor(dut, "m", dut.clk, list(OUTPUTS), reset=dut.rst)
        self.out_mon.add_callback(self.got.append)
        cocotb.start_soon(self._watch())

    async def _watch(self):
        dut, prev = self.dut, None          # prev: (values, ready) of a valid result last clock
        while True:
            await RisingEdge(dut.clk)
            self.clock += 1
            await ReadOnly()
            if dut.rst.value:
                prev = None
                continue
            if not dut.m_valid.value:
                assert prev is None or prev[1], "m_valid dropped without m_ready"
                prev = None
                continue
            vals = tuple(int(getattr(dut, "m_" + n).value) for n in OUTPUTS)
            if prev is None:
                self.valid_at.append(self.clock)
            else:
                assert prev[1] or vals == prev[0], "result changed while stalled"
            prev = (vals, bool(dut.m_ready.value))

    async def reset(self):
        self.drv.flush()
        await reset(self.dut.clk, self.dut.rst)
        self.got.clear()
        self.taken_at.clear()
        self.valid_at.clear()

    async def run(self, descs):
        """Queues the descriptors, waits (bounded) for all their results;
        returns [(outputs, clocks from taking the descriptor to its result)]."""
        for f in descs:
            self.drv.append({"data": descriptor(**f)})
        stall = 1 + 4 * self.sink.stall_prob + 4 * self.drv.idle_prob
        await wait_until(self.dut.clk, lambda: len(self.got) >= len(descs), int(len(descs) * CHECK_BOUND * stall),
                         "check results on m", lambda: f"{len(self.got)} of {len(descs)}, "
                                                       f"{self.drv.sent} descriptors taken on s")
        assert len(self.got) == len(descs), f"{len(self.got)} results for {len(descs)} descriptors"
        lat = [v - t for t, v in zip(self.taken_at, self.valid_at)]
        assert all(0 < x <= CHECK_BOUND for x in lat), f"a check took {max(lat)} clocks"
        return list(zip(self.got, lat))


def check(fields, out):
    exp = pa.ctrl_check(**fields, rows=ROWS, cols=COLS, idepth=IDEPTH, wdepth=WDEPTH)
    ctx = f"{fields}"
    assert out["desc"] == descriptor(**fields), ctx
    assert out["code"] == exp["code"], f"{ctx}: code {out['code']}, expected {exp['code']}"
    if exp["code"]:
        return exp
    want = {"fit": int(exp["fit"]), "count": exp["count"] % (1 << 32), "ld_m": exp["ld_m"] % 65536,
            "ld_c": exp["ld_c"] % 65536, "base": (exp["wx"] + 1) % (1 << QW), "wgt": int(exp["wgt"]),
            "hw": exp["hw"] % (1 << QW), "chw": exp["chw"] % (1 << QW)}
    if fields["k"] == 1 or fields["phase"] == 2:       # BC counters: the reduction in words of 3
        want.update(g=exp["g"] % 65536, c3=exp["c3"] % 65536, kyl=exp["kyl"])
    for name, v in want.items():
        assert out[name] == v, f"{ctx}: {name} {out[name]}, expected {v}"
    return exp


@cocotb.test(timeout_time=backstop_us(8 * N_DESC * CHECK_BOUND, CLOCK_NS), timeout_unit="us")
async def test_random(dut):
    tb = DescTB(dut, seed=11)
    await tb.reset()
    rng = np.random.default_rng(12)
    codes, lat_max = {0: 0, 1: 0, 3: 0}, {}
    descs = [random_fields(rng) for _ in range(N_DESC)]
    for fields, (out, lat) in zip(descs, await tb.run(descs)):
        exp = check(fields, out)
        codes[exp["code"]] += 1
        kind = ("wg3s2" if fields["phase"] == 2 and fields["k"] == 3 and fields["stride"] == 2 else
                f"{['fp', 'bp', 'wg', 'p3'][fields['phase']]}{fields['k']}") if exp["code"] == 0 else "rejected"
        lat_max[kind] = max(lat_max.get(kind, 0), lat)
    dut._log.info("%d descriptors: %d accepted, %d illegal, %d above capacity; longest check per kind %s",
                  N_DESC, codes[0], codes[1], codes[3], lat_max)
    assert codes[0] > N_DESC // 4 and codes[1] > 10 and codes[3] > 10, codes


@cocotb.test(timeout_time=backstop_us(200 * CHECK_BOUND, CLOCK_NS), timeout_unit="us")
async def test_reset_mid_check(dut):
    """A reset during a check: no result afterwards, ready at once; the next
    descriptor's result is exact."""
    tb = DescTB(dut, seed=13, idle_prob=0.0, stall_prob=0.0)
    rng = np.random.default_rng(14)
    for wait in (1, 5, 20, 60):
        await tb.reset()
        tb.drv.append({"data": descriptor(phase=2, n=2, c=16, m=32, h=16, w=16, k=3, stride=2, pad=1)})
        await wait_until(dut.clk, lambda: tb.taken_at, 10, "the descriptor taken on s")
        await ClockCycles(dut.clk, wait)
        await tb.reset()
        await ReadOnly()
        assert dut.s_ready.value and not dut.m_valid.value, f"reset at {wait}: not idle"
        await ClockCycles(dut.clk, CHECK_BOUND)
        assert not tb.got and not tb.valid_at, f"reset at {wait}: a result after reset"
        fields = random_fields(rng)
        [(out, _)] = await tb.run([fields])
        check(fields, out)


def boundary_fields():
    """Layers on each side of the capacity and half-fit limits: the input
    span (c*h*w + 2w + 3 bytes, here w = 1) at 3*IDEPTH and at 3*(IDEPTH/2),
    the weight words (3c for one output channel) at WDEPTH and 3*(WDEPTH/6)."""
    out = []
    for span in (3 * IDEPTH, 3 * (IDEPTH // 2)):
        for h in (span - 5, span - 4):
            if h < 65536:
                out.append(dict(phase=0, n=1, c=1, m=1, h=h, w=1, k=3, stride=1, pad=1))
    # the widest row: 2w + 3 = 131073 needs 18 bits (rejected whenever the count is)
    out.append(dict(phase=0, n=1, c=1, m=1, h=1, w=65535, k=3, stride=1, pad=1))
    for words in (WDEPTH, 3 * (WDEPTH // 6)):
        for c in (words // 3, words // 3 + 1):
            out.append(dict(phase=0, n=1, c=c, m=1, h=1, w=1, k=3, stride=1, pad=1))
    # WG 3x3 stride 2 with x on the rows: 3c row items on 16 bits (reachable with WDEPTH >= 12288 on 16 x 32)
    for c in (21845, 21846):
        out.append(dict(phase=2, n=1, c=c, m=32, h=2, w=2, k=3, stride=2, pad=1))
    return out


@cocotb.test(timeout_time=backstop_us(200 * CHECK_BOUND, CLOCK_NS), timeout_unit="us")
async def test_boundaries(dut):
    """Each capacity and fit limit from both sides, exact vs the model (which
    accepts one side and rejects or does not fit the other)."""
    tb = DescTB(dut, seed=15, idle_prob=0.0, stall_prob=0.0)
    await tb.reset()
    descs = boundary_fields()
    exps = [check(fields, out) for fields, (out, _) in zip(descs, await tb.run(descs))]
    seen = {(e["code"], e["fit"]) for e in exps}
    assert {(0, True), (0, False), (3, False)} <= seen, seen
    if WDEPTH >= 16384:     # the 3c row-item limit decides the last two alone
        a, b = exps[-2:]
        assert a["wgt"] and b["wgt"] and (a["code"], b["code"]) == (0, 3), (a, b)
