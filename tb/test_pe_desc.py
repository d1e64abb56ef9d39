"""pe_desc (the PE-array controller's sequential descriptor check) against
models/pe_array.ctrl_check, exact integers: random legal layers of every
kind and phase, random illegal and oversized descriptors (16-bit fields up
to 65535, zeros, bad K / stride / padding / phase), with idle clocks on the
input and backpressure on the result; a reset in the middle of a check.
Accepted layers compare every output; rejected ones the error code. The
latency (accept to result) is logged per layer kind, not asserted beyond
its bound (a check must end: DONE_BOUND clocks).
env: PE_ROWS, PE_COLS, PE_IDEPTH, PE_WDEPTH, PE_QW (HDL parameters), PE_N_DESC."""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from models import pe_array as pa

ROWS = int(os.environ.get("PE_ROWS", "16"))
COLS = int(os.environ.get("PE_COLS", "32"))
IDEPTH = int(os.environ.get("PE_IDEPTH", "1024"))
WDEPTH = int(os.environ.get("PE_WDEPTH", "1024"))
QW = int(os.environ.get("PE_QW", "12"))
N_DESC = int(os.environ.get("PE_N_DESC", "400"))
DONE_BOUND = 400     # 21 steps, the longest 19 clocks (a division by 3 or a non-power-of-two ROWS/COLS)


def descriptor(phase, n, c, m, h, w, k=3, stride=1, pad=1):
    """The pe_ctrl descriptor word (layout in rtl/pe_array/pe_ctrl.v)."""
    return phase | (k << 2) | (stride << 4) | (pad << 6) | (n << 16) | (c << 32) | (m << 48) | (h << 64) | (w << 80)


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


class DescTB:
    def __init__(self, dut, seed=0, idle_prob=0.3, stall_prob=0.3):
        self.dut = dut
        self.rng = np.random.default_rng(seed)
        self.idle_prob, self.stall_prob = idle_prob, stall_prob
        cocotb.start_soon(Clock(dut.clk, 2, unit="ns").start())
        dut.s_valid.value = 0
        dut.m_ready.value = 0

    async def reset(self):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 3)
        self.dut.rst.value = 0

    async def send(self, fields):
        """Offers one descriptor (after random idle clocks) until taken."""
        dut = self.dut
        while self.rng.random() < self.idle_prob:
            await RisingEdge(dut.clk)
        dut.s_valid.value = 1
        dut.s_data.value = descriptor(**fields)
        while True:
            await ReadOnly()
            taken = bool(dut.s_ready.value)
            await RisingEdge(dut.clk)
            if taken:
                break
        dut.s_valid.value = 0

    async def result(self):
        """Waits for m_valid (bounded), then takes it under random
        backpressure: (outputs, clocks from the handshake to m_valid)."""
        dut = self.dut
        for lat in range(1, DONE_BOUND + 1):
            await ReadOnly()
            if dut.m_valid.value:
                break
            await RisingEdge(dut.clk)
        else:
            raise AssertionError(f"no result within {DONE_BOUND} clocks")
        out = {name: int(getattr(dut, "m_" + name).value)
               for name in ("desc", "code", "fit", "count", "ld_m", "ld_c", "base", "wgt", "g", "c3", "kyl", "hw", "chw")}
        while self.rng.random() < self.stall_prob:
            await RisingEdge(dut.clk)
            await ReadOnly()
            assert dut.m_valid.value, "m_valid dropped without m_ready"
            assert int(dut.m_code.value) == out["code"], "result changed while stalled"
        await RisingEdge(dut.clk)
        dut.m_ready.value = 1
        await ReadOnly()
        assert dut.m_valid.value, "m_valid dropped without m_ready"
        await RisingEdge(dut.clk)
        dut.m_ready.value = 0
        await ReadOnly()
        assert not dut.m_valid.value and dut.s_ready.value, "result not consumed"
        await RisingEdge(dut.clk)
        return out, lat


def check(fields, out):
    exp = pa.ctrl_check(**fields, rows=ROWS, cols=COLS, idepth=IDEPTH, wdepth=WDEPTH)
    ctx = f"{fields}"
    assert out["desc"] == descriptor(**fields), ctx
    assert out["code"] == exp["code"], f"{ctx}: code {out['code']}, expected {exp['code']}"
    if exp["code"]:
        return exp
    wx = fields["w"] // 2 if (exp["wgt"] or fields["phase"] == 1) and fields["stride"] == 2 else fields["w"]
    want = {"fit": int(exp["fit"]), "count": exp["count"] % (1 << 32), "ld_m": exp["ld_m"] % 65536,
            "ld_c": exp["ld_c"] % 65536, "base": (wx + 1) % (1 << QW), "wgt": int(exp["wgt"]),
            "hw": exp["hw"] % (1 << QW), "chw": exp["chw"] % (1 << QW)}
    if fields["k"] == 1 or fields["phase"] == 2:       # BC counters: the reduction in words of 3
        want.update(g=exp["g"] % 65536, c3=exp["c3"] % 65536, kyl=exp["kyl"])
    for name, v in want.items():
        assert out[name] == v, f"{ctx}: {name} {out[name]}, expected {v}"
    return exp


@cocotb.test()
async def test_random(dut):
    tb = DescTB(dut, seed=11)
    await tb.reset()
    rng = np.random.default_rng(12)
    codes, lat_max = {0: 0, 1: 0, 3: 0}, {}
    for _ in range(N_DESC):
        fields = random_fields(rng)
        await tb.send(fields)
        out, lat = await tb.result()
        exp = check(fields, out)
        codes[exp["code"]] += 1
        kind = ("wg3s2" if fields["phase"] == 2 and fields["k"] == 3 and fields["stride"] == 2 else
                f"{['fp', 'bp', 'wg', 'p3'][fields['phase']]}{fields['k']}") if exp["code"] == 0 else "rejected"
        lat_max[kind] = max(lat_max.get(kind, 0), lat)
    dut._log.info("%d descriptors: %d accepted, %d illegal, %d above capacity; longest check per kind %s",
                  N_DESC, codes[0], codes[1], codes[3], lat_max)
    assert codes[0] > N_DESC // 4 and codes[1] > 10 and codes[3] > 10, codes


@cocotb.test()
async def test_reset_mid_check(dut):
    """A reset during a check: no result afterwards, ready at once; the next
    descriptor's result is exact."""
    tb = DescTB(dut, seed=13, idle_prob=0.0, stall_prob=0.0)
    rng = np.random.default_rng(14)
    for wait in (1, 5, 20, 60):
        await tb.reset()
        fields = dict(phase=2, n=2, c=16, m=32, h=16, w=16, k=3, stride=2, pad=1)
        await tb.send(fields)
        await ClockCycles(dut.clk, wait)
        await tb.reset()
        await ReadOnly()
        assert dut.s_ready.value and not dut.m_valid.value, f"reset at {wait}: not idle"
        for _ in range(DONE_BOUND):
            await RisingEdge(dut.clk)
            await ReadOnly()
            assert not dut.m_valid.value, f"reset at {wait}: a result after reset"
        await RisingEdge(dut.clk)
        fields = random_fields(rng)
        await tb.send(fields)
        out, _ = await tb.result()
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
    return out


@cocotb.test()
async def test_boundaries(dut):
    """Each capacity and fit limit from both sides, exact vs the model (which
    accepts one side and rejects or does not fit the other)."""
    tb = DescTB(dut, seed=15, idle_prob=0.0, stall_prob=0.0)
    await tb.reset()
    seen = set()
    for fields in boundary_fields():
        await tb.send(fields)
        out, _ = await tb.result()
        exp = check(fields, out)
        seen.add((exp["code"], exp["fit"]))
    assert {(0, True), (0, False), (3, False)} <= seen, seen
