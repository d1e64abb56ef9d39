"""cocotb side of `make bench-bn`: streams whole BN layers through bn_unit
(C channels of N elements, FP or BP, sink always ready, source always valid)
and records the clock cycles from the first command to the last channel
result. BN_BENCH_JOBS (JSON list of [C, N, mode]) in, BN_BENCH_OUT (JSON) out.

Checked per layer: channel 0 carries random binary16 data, driven beat by
beat, and each of its N output beats and its channel result are compared bit
for bit with models/bn_ref.py; channels 1..C-1 stream a constant (the schedule
does not depend on the data, so no per-clock Python there) and each of their
results is compared with bn_ref on that constant; every output beat of the
layer is counted (C x N, from the time m_valid is high: the sink is always
ready) and every result (C)."""

import json
import os

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge, SimTimeoutError, ValueChange, with_timeout
from cocotb.utils import get_sim_time

from models.bn_ref import bits16, bn_backward, bn_forward, from_bits16
from tb.lib.clock_reset import reset, start_clock

PERIOD_NS = 10
JOBS = json.loads(os.environ.get("BN_BENCH_JOBS", "[]"))
GAMMA, BETA, EPS = 0x3D00, 0x2E66, 0x00A8      # 1.25, 0.1, 1e-5 (binary16)
CONST_X, CONST_XHAT = 0x3E00, 0x3800           # 1.5, 0.5: the constant channels
# per channel the unit takes 2N element clocks plus a few dozen (statistics, local variables, pipeline);
# a channel that needs more than this many extra clocks is taken as hung
EXTRA_CLOCKS_BOUND = 1000


def channel_bound(n):
    return 2 * n + EXTRA_CLOCKS_BOUND


RUN_CLOCKS = 1000 + sum(c * channel_bound(n) + 100 for c, n, _ in JOBS)


class HighClocks:
    """Clocks a 1-bit output has been high, from its edges alone (no wake-up
    per clock). With the sink always ready that is the number of beats taken."""

    def __init__(self, sig):
        self.sig, self.high_ns, self.rose = sig, 0.0, None
        cocotb.start_soon(self._watch())

    async def _watch(self):
        while True:
            await ValueChange(self.sig)
            now = get_sim_time("ns")
            if str(self.sig.value) == "1":
                self.rose = now
            elif self.rose is not None:
                self.high_ns += now - self.rose
                self.rose = None

    def clocks(self):
        open_ns = get_sim_time("ns") - self.rose if self.rose is not None else 0.0
        return round((self.high_ns + open_ns) / PERIOD_NS)


def expected(mode, n, seed):
    """Channel 0's element beats (x, xhat, mask), its expected output beats and
    result, c_lambda, and the constant channels' expected result."""
    rng = np.random.default_rng(seed)
    g, b, eps = from_bits16(GAMMA), from_bits16(BETA), from_bits16(EPS)
    x = rng.normal(0.3, 1.2, n).astype(np.float16)
    fp = bn_forward(x, g, b, eps, relu=True)
    const = np.full(n, from_bits16(CONST_X))
    if mode == 0:
        beats = list(zip(bits16(x).tolist(), [0] * n, [0] * n))
        out = list(zip(bits16(fp["y"]).tolist(), bits16(fp["xhat"]).tolist(), fp["mask"].astype(int).tolist()))
        res = fp
        rc = bn_forward(const, g, b, eps, relu=True)
        lam = 0x3C00
        keys = ("mu", "var", "lam")
        status = lambda r: (int(r["of"]) << 1) | int(r["vz"])
    else:
        dy = rng.normal(0.0, 0.05, n).astype(np.float16)
        lam16 = np.float16(fp["lam"])
        lam = int(bits16(lam16))
        res = bn_backward(dy, fp["xhat"], fp["mask"], g, lam16, relu=True)
        beats = list(zip(bits16(dy).tolist(), bits16(fp["xhat"]).tolist(), fp["mask"].astype(int).tolist()))
        out = [(v, 0, 0) for v in bits16(res["dx"]).tolist()]
        rc = bn_backward(const, np.full(n, from_bits16(CONST_XHAT)), np.ones(n, np.uint8), g, lam16, relu=True)
        keys = ("dbeta", "dgamma", "gl")
        status = lambda r: int(r["of"]) << 1
    result = lambda r: tuple(int(bits16(np.float16(r[k]))) for k in keys) + (status(r),)
    return beats, out, result(res), lam, result(rc)


def result_of(dut):
    return (dut.r_a.value.to_unsigned(), dut.r_b.value.to_unsigned(), dut.r_lambda.value.to_unsigned(),
            dut.r_status.value.to_unsigned())


def drive(dut, beat):
    dut.s_x.value, dut.s_xhat.value, dut.s_mask.value = beat


async def channel0(dut, beats, n):
    """Channel 0: its 2N element beats (statistics pass, then the same again)
    one per accepted clock, then the constant; returns its output beats and
    its result."""
    stream = beats + beats
    sent, out = 0, []
    drive(dut, stream[0])
    for _ in range(channel_bound(n)):
        await ReadOnly()
        if str(dut.m_valid.value) == "1":
            out.append((dut.m_y.value.to_unsigned(), dut.m_xhat.value.to_unsigned(),
                        int(dut.m_mask.value)))
        fire = sent < len(stream) and str(dut.s_ready.value) == "1"
        res = result_of(dut) if str(dut.r_valid.value) == "1" else None
        await RisingEdge(dut.clk)
        if fire:
            sent += 1
            drive(dut, stream[sent] if sent < len(stream) else (CONST_X, CONST_XHAT, 1))
        if res is not None:
            return out, res
    raise AssertionError(f"r_valid: channel 0 (N={n}) gave no result within {channel_bound(n)} clocks "
                         f"({sent} of {2 * n} element beats taken on s_, {len(out)} of {n} beats out on m_)")


@cocotb.test(timeout_time=2 * RUN_CLOCKS * PERIOD_NS, timeout_unit="ns")
async def bench_layers(dut):
    start_clock(dut.clk, PERIOD_NS)
    out_beats = HighClocks(dut.m_valid)
    results = []
    for job, (channels, count, mode) in enumerate(JOBS):
        beats, exp_out, exp_res, lam, exp_const = expected(mode, count, seed=job)
        tag = f"C={channels} N={count} {'BP' if mode else 'FP'}"
        dut.c_valid.value = 0
        dut.s_valid.value = 0
        await reset(dut.clk, dut.rst)
        dut.c_mode.value = mode
        dut.c_relu.value = 1
        dut.c_count.value = count
        dut.c_gamma.value = GAMMA
        dut.c_beta.value = BETA
        dut.c_eps.value = EPS
        dut.c_lambda.value = lam
        dut.m_ready.value = 1
        dut.r_ready.value = 1
        dut.c_valid.value = 1
        dut.s_valid.value = 1
        beats0 = out_beats.clocks()
        t0 = get_sim_time("ns")
        out0, res0 = await channel0(dut, beats, count)
        assert len(out0) == count, f"{tag} channel 0: {len(out0)} output beats, expected {count}"
        bad = [i for i, (g, e) in enumerate(zip(out0, exp_out)) if g != e]
        assert not bad, (f"{tag} channel 0: {len(bad)} output beats differ from models/bn_ref.py, first at "
                         f"element {bad[0]}: got {out0[bad[0]]}, expected {exp_out[bad[0]]} (y, xhat, mask)")
        assert res0 == exp_res, f"{tag} channel 0 result (a, b, lambda, status): got {res0}, expected {exp_res}"
        for ch in range(1, channels):
            try:
                await with_timeout(RisingEdge(dut.r_valid), channel_bound(count) * PERIOD_NS, "ns")
            except SimTimeoutError:
                raise AssertionError(f"r_valid: {tag} channel {ch} gave no result within "
                                     f"{channel_bound(count)} clocks") from None
            await ReadOnly()
            res = result_of(dut)
            assert res == exp_const, f"{tag} channel {ch} result: got {res}, expected {exp_const} (bn_ref)"
        if channels > 1:
            await RisingEdge(dut.clk)
        cycles = round((get_sim_time("ns") - t0) / PERIOD_NS)
        # every channel's output beats precede its result (the unit leaves ST_XFORM with its pipeline empty)
        n_out = out_beats.clocks() - beats0
        assert n_out == channels * count, f"{tag}: {n_out} output beats on m_, expected {channels * count}"
        dut.c_valid.value = 0
        dut.s_valid.value = 0
        results.append({"channels": channels, "count": count, "mode": "bp" if mode else "fp",
                        "cycles": cycles, "output_beats": n_out, "results_checked": channels,
                        "channel0_beats_checked": count})
        dut._log.info("%s: %d cycles, %d output beats, channel 0 exact against bn_ref", tag, cycles, n_out)
    with open(os.environ["BN_BENCH_OUT"], "w") as f:
        json.dump(results, f)
