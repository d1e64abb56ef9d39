"""cocotb side of `make bench-memory` (bench/memory.py drives it).

A compute-side model asks for a vector (m_ready high), takes its VEC_WORDS
words (VEC_WORDS / MEM_RD_WORDS beats), then computes for MEM_BENCH_COMPUTE clocks with m_ready low: one
training iteration. For every SDRAM setting in MEM_BENCH_POINTS (JSON list of
SdramModel settings) the memory is reset and a run of MEM_BENCH_VECS MNIST
vectors is timed; per iteration it records the clocks spent waiting for data
(m_ready high, m_valid low) and the access clocks (from asking until the last
word is taken). Results go to MEM_BENCH_OUT as JSON. The words are checked
too, so a fast wrong answer cannot pass as a result.
"""

import json
import os

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge

from models.mem_ref import mnist_vectors, pack_words, sdram_image
from tb.lib.clock_reset import reset, start_clock
from tb.lib.sdram import SdramModel

VEC_WORDS = int(os.environ["MEM_VEC_WORDS"])
BURST = int(os.environ["MEM_BURST"])
RD_WORDS = int(os.environ.get("MEM_RD_WORDS", "1"))
VEC_BEATS = VEC_WORDS // RD_WORDS
N_VECS = int(os.environ.get("MEM_BENCH_VECS", "16"))
COMPUTE = int(os.environ.get("MEM_BENCH_COMPUTE", str(3 * 784 + 40)))
POINTS = json.loads(os.environ.get("MEM_BENCH_POINTS", "[{}]"))
OUT = os.environ.get("MEM_BENCH_OUT", "memory_bench.json")
PERIOD_NS = 10


def sdram_run_clocks(point, vecs=N_VECS):
    """A bound on the clocks the SDRAM model at `point` takes to deliver the
    whole run: its words at the slower of its bandwidth and what the requests
    in flight sustain (max_outstanding bursts per latency), less refresh and
    burst gaps, twice over, plus the latency per burst. No vector can take longer."""
    cfg = {"latency": 20, "jitter": 0, "bandwidth": 0.5, "burst_len": 8, "burst_gap": 0,
           "refresh_interval": 0, "refresh_clocks": 0, "max_outstanding": 2, **point}
    lat = cfg["latency"] + cfg["jitter"]
    rate = min(cfg["bandwidth"], cfg["max_outstanding"] * BURST / max(lat, 1))
    rate *= cfg["burst_len"] / (cfg["burst_len"] + cfg["burst_gap"])
    if cfg["refresh_interval"]:
        rate *= 1 - cfg["refresh_clocks"] / cfg["refresh_interval"]
    words = vecs * VEC_WORDS
    return int(2 * words / rate + lat * (words // BURST + 1)) + 1000


# the whole test: every point's SDRAM delivery plus the compute model's clocks, twice over
RUN_CLOCKS = sum(sdram_run_clocks(p) + N_VECS * (COMPUTE + VEC_BEATS) + 100 for p in POINTS)


async def _iterate(dut, vectors, vector_bound):
    """Runs the compute model over the run; returns per-iteration lists. A
    vector not complete within vector_bound clocks fails the test."""
    waits, access = [], []
    flat = pack_words(vectors.reshape(-1).tolist(), RD_WORDS)
    k = 0
    for v in range(len(vectors)):
        dut.m_ready.value = 1
        wait = clocks = 0
        while True:
            await ReadOnly()
            clocks += 1
            if clocks > vector_bound:
                raise AssertionError(f"m_valid / m_last: vector {v} of {len(vectors)} not complete within "
                                     f"{vector_bound} clocks ({k % VEC_BEATS} of {VEC_BEATS} beats taken)")
            valid = bool(dut.m_valid.value)
            if not valid:
                wait += 1
            else:
                got, last = int(dut.m_data.value), int(dut.m_last.value)
                assert got == flat[k], f"vector {v} beat {k % VEC_BEATS}: got 0x{got:x} expected 0x{flat[k]:x}"
                assert last == int(k % VEC_BEATS == VEC_BEATS - 1), f"m_last wrong at vector {v}"
                k += 1
            await RisingEdge(dut.clk)
            if valid and last:
                break
        waits.append(wait)
        access.append(clocks)
        dut.m_ready.value = 0
        for _ in range(COMPUTE):
            await RisingEdge(dut.clk)
    return waits, access


@cocotb.test(timeout_time=2 * RUN_CLOCKS * PERIOD_NS, timeout_unit="ns")
async def bench_access_time(dut):
    vectors = mnist_vectors(N_VECS, VEC_WORDS)
    start_clock(dut.clk, PERIOD_NS)
    dut.start.value = 0
    dut.m_ready.value = 0
    sdram = SdramModel(dut, dut.clk, sdram_image(vectors, 0), reset=dut.rst, max_request=BURST)
    cocotb.start_soon(sdram.run())
    results = []
    for point in POINTS:
        sdram.configure(**point)
        await reset(dut.clk, dut.rst)
        dut.cfg_base.value = 0
        dut.cfg_num_vecs.value = N_VECS
        dut.start.value = 1
        await RisingEdge(dut.clk)
        dut.start.value = 0
        t0, r0 = sdram.cycle, sdram.refresh_cycles
        waits, access = await _iterate(dut, vectors, sdram_run_clocks(point))
        total = sdram.cycle - t0
        assert int(dut.error.value) == 0
        results.append({"sdram": point, "wait_clocks": waits, "access_clocks": access,
                        "run_clocks": total, "refresh_clocks": sdram.refresh_cycles - r0})
        dut._log.info("%s: waits %s", point, waits)
    with open(OUT, "w") as f:
        json.dump(results, f)
