"""`make bench-memory`: distributed (SDRAM -> SRAM slots) against unified
(straight-through) training-vector memory -> reports/memory.json.

Per training iteration the compute model takes one 784-word MNIST vector
(1 word per clock when data is there) and then computes for --compute-clocks
clocks (default 3*784+40 = 2392: the MLP's pipelined neuron iteration for the
784-input first layer, ~3N+40 clocks, paper 000 Table I; the later layers only
add compute time, which makes the memory easier to hide, so this is the hard
case). Measured: clocks waiting for data and access clocks per iteration, for
both modes, at a base SDRAM setting and over sweeps of SDRAM bandwidth and
latency. The distributed memory is measured for compute-side read widths of
1, 2 and 4 words per clock (RD_WORDS: SRAM banks read in parallel) against the
unified memory delivering the same beats; the unified memory is bound by the
SDRAM whatever the width. Clocks become ns at the slowest synthesized clock of
fp_add and the memory blocks (reports/synth/), else at an assumed 3.0 ns; the
JSON says which.

    python -m bench.memory [--vecs 16] [--compute-clocks 2392] [--quick]
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tb.lib import provenance  # noqa: E402
from tb.units import BUILD, REPO, run_unit  # noqa: E402
from tb.units_memory import mem_unit  # noqa: E402

VEC_WORDS = 784
BURST = 16
# SDRAM at the base point: half the SRAM rate (the paper's assumption), 20
# clocks to the first word, refresh ~every 7.8 us (2600 clocks at 3 ns) for
# 40 clocks (tRFC ~120 ns), two requests in flight.
BASE = dict(latency=20, jitter=0, bandwidth=0.5, burst_len=8, burst_gap=0,
            refresh_interval=2600, refresh_clocks=40, max_outstanding=2)
BANDWIDTHS = [1.0, 0.5, 1 / 3, 0.25, 0.2, 0.125]
LATENCIES = [5, 20, 50, 100, 200, 400]
WIDTHS = [1, 2, 4]
PAPER_RATIO = 52.82 / 18.42
MLP_TRAINER_RD_WORDS = 1     # the width mlp_trainer uses: the MLP of rtl/neuron takes 1 word per clock


def config(mode, width, slots=4, vps=2):
    """Sweep geometry: 4 slots x 2 vectors, so a 16-vector run wraps the slot
    ring twice (every slot is refilled). No run tags (as in mlp_trainer)."""
    return dict(unified=int(mode == "unified"), slots=slots, vps=vps, rd_words=width, tags=0)


def clock_ns():
    """The slower of the accelerator's clock (fp_add) and the memory's own
    synthesized clock (double buffer with SRAM macros, unified), from
    reports/synth/*.json where they exist."""
    found = []
    for name in ("fp_add", "mem_dbuf_4x4x16", "mem_unified"):
        rep = REPO / "reports" / "synth" / f"{name}.json"
        try:
            d = json.loads(rep.read_text())
        except (OSError, ValueError):
            continue
        if d.get("status") == "ok" and d.get("critical_path_ns"):
            found.append((float(d["critical_path_ns"]), name, provenance.cite(rep, d)))
    if not found:
        return 3.0, "assumed (no synthesis report of fp_add or the memory found)"
    clk, name, cite = max(found)
    return clk, (f"critical_path_ns of {cite}, the slowest of "
                 f"{', '.join(f'{n} {c:.3f} ns' for c, n, _ in found)} (NanGate45 typ)")


def run_config(name, cfg, points, vecs, compute):
    out = BUILD / "bench_memory" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    unit = mem_unit(vec_words=VEC_WORDS, burst=BURST, test_module="bench.memory_sim", **cfg)
    env = {"MEM_BENCH_POINTS": json.dumps(points), "MEM_BENCH_VECS": str(vecs),
           "MEM_BENCH_COMPUTE": str(compute), "MEM_BENCH_OUT": str(out)}
    t0 = time.time()
    tests, failed = run_unit(unit, extra_env=env, test_dir=out.parent / name)
    if failed or not out.exists():
        raise SystemExit(f"bench {name} failed")
    print(f"{name}: {len(points)} SDRAM settings in {time.time() - t0:.0f} s", flush=True)
    return json.loads(out.read_text())


def access_formula(rd_words, sdram, vec_words=VEC_WORDS):
    """Steady-state access clocks per vector from the settings alone (no
    simulation): the distributed memory has the vector in SRAM by the time it
    is asked for and hands it out at rd_words words per clock; the unified one
    waits for the SDRAM's first word, then gets words at its bandwidth, slowed
    by refresh. Holds while the requests in flight cover the bandwidth
    (max_outstanding * burst / latency >= bandwidth) and the refill of a slot
    fits in an iteration."""
    refresh = sdram["refresh_interval"] / (sdram["refresh_interval"] - sdram["refresh_clocks"])
    unified = sdram["latency"] + vec_words / sdram["bandwidth"] * refresh
    distributed = vec_words / rd_words
    return {"distributed_clocks": round(distributed, 1), "unified_clocks": round(unified, 1),
            "access_ratio": round(unified / distributed, 3)}


ACCESS_FORMULA = ("distributed = vector words / rd_words; unified = latency + vector words / bandwidth x "
                  "refresh_interval / (refresh_interval - refresh_clocks); ratio = unified / distributed "
                  "(bench/memory.access_formula)")


def summarize(r, clk):
    w, a = r["wait_clocks"], r["access_clocks"]
    steady_w, steady_a = w[1:], a[1:]
    return {
        "first_iteration_wait_clocks": w[0],
        "steady_wait_clocks_mean": sum(steady_w) / len(steady_w),
        "steady_wait_clocks_max": max(steady_w),
        "steady_access_clocks_mean": sum(steady_a) / len(steady_a),
        "steady_access_ns_mean": round(sum(steady_a) / len(steady_a) * clk, 2),
        "steady_wait_ns_mean": round(sum(steady_w) / len(steady_w) * clk, 2),
        "wait_clocks_per_iteration": w,
    }


def sweep_rows(points, dist, unif, clk):
    rows = []
    for p, d, u in zip(points, dist, unif):
        sd, su = summarize(d, clk), summarize(u, clk)
        rows.append({
            "bandwidth_words_per_clock": round(p["bandwidth"], 4), "latency_clocks": p["latency"],
            "distributed_steady_wait_clocks_mean": sd["steady_wait_clocks_mean"],
            "distributed_steady_wait_clocks_max": sd["steady_wait_clocks_max"],
            "distributed_steady_access_clocks_mean": sd["steady_access_clocks_mean"],
            "unified_steady_wait_clocks_mean": su["steady_wait_clocks_mean"],
            "unified_steady_access_clocks_mean": su["steady_access_clocks_mean"],
            "access_ratio_unified_over_distributed": round(
                su["steady_access_clocks_mean"] / sd["steady_access_clocks_mean"], 3),
        })
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vecs", type=int, default=16, help="vectors (training iterations) per SDRAM setting")
    ap.add_argument("--compute-clocks", type=int, default=3 * VEC_WORDS + 40,
                    help="compute clocks per iteration after the vector is taken")
    ap.add_argument("--quick", action="store_true", help="base point only, no sweeps")
    ap.add_argument("--out", default=str(REPO / "reports" / "memory.json"))
    args = ap.parse_args()
    clk, clk_src = clock_ns()
    t_start = time.time()

    bw_points = [dict(BASE)] + ([] if args.quick else
                                [dict(BASE, bandwidth=b) for b in BANDWIDTHS if b != BASE["bandwidth"]])
    lat_points = [] if args.quick else [dict(BASE, latency=lat) for lat in LATENCIES if lat != BASE["latency"]]
    widths = []
    for w in WIDTHS:
        # the latency sweep at width 1 only; the bandwidth sweep at every width
        points = bw_points + (lat_points if w == 1 else [])
        res = {m: run_config(f"{m}_w{w}", config(m, w), points, args.vecs, args.compute_clocks)
               for m in ("distributed", "unified")}
        dist, unif = summarize(res["distributed"][0], clk), summarize(res["unified"][0], clk)
        rows = sweep_rows(points, res["distributed"], res["unified"], clk)
        bw_rows = [r for r in rows if r["latency_clocks"] == BASE["latency"]]
        ratio = unif["steady_access_clocks_mean"] / dist["steady_access_clocks_mean"]
        widths.append({
            "rd_words": w,
            "sram_banks": w,
            "distributed": dist,
            "unified": unif,
            "steady_access_ns_distributed": dist["steady_access_ns_mean"],
            "steady_access_ns_unified": unif["steady_access_ns_mean"],
            "access_ratio_unified_over_distributed": round(ratio, 3),
            "access_formula_at_sdram_base": access_formula(w, BASE),
            "meets_paper_ratio": ratio >= PAPER_RATIO,
            "sweep": rows,
            "distributed_stalls_at_bandwidths": [r["bandwidth_words_per_clock"] for r in bw_rows
                                                 if r["distributed_steady_wait_clocks_max"] > 0],
            "distributed_no_stall_at_bandwidths": [r["bandwidth_words_per_clock"] for r in bw_rows
                                                   if r["distributed_steady_wait_clocks_max"] == 0],
            "bandwidth_needed_analytic": round(VEC_WORDS / (VEC_WORDS / w + args.compute_clocks), 4),
        })
    paper = run_config("distributed_4x64_w1", config("distributed", 1, vps=64), [dict(BASE)],
                       max(args.vecs, 8), args.compute_clocks)[0]
    met = [x["rd_words"] for x in widths if x["meets_paper_ratio"]]
    w1 = next(x for x in widths if x["rd_words"] == MLP_TRAINER_RD_WORDS)
    formula = access_formula(MLP_TRAINER_RD_WORDS, BASE)
    report = {
        "provenance": provenance.stamp(),
        "headline": {
            "rd_words": MLP_TRAINER_RD_WORDS,
            "why_this_width": "mlp_trainer (the memory that feeds the MLP engine of rtl/neuron) reads 1 word "
                              "per clock; widths 2 and 4 below need a compute side that takes that many",
            "access_ratio_measured": w1["access_ratio_unified_over_distributed"],
            "access_ratio_formula": formula["access_ratio"],
            "access_clocks_measured": {"distributed": w1["distributed"]["steady_access_clocks_mean"],
                                       "unified": w1["unified"]["steady_access_clocks_mean"]},
            "access_clocks_formula": {"distributed": formula["distributed_clocks"],
                                      "unified": formula["unified_clocks"]},
            "formula": ACCESS_FORMULA,
            "paper_ratio": round(PAPER_RATIO, 3),
            "meets_paper_ratio": w1["meets_paper_ratio"],
        },
        "what": "training-vector memory: clocks per training iteration spent waiting for data and access time, "
                "distributed (SDRAM -> banked SRAM slot double buffer) vs unified (compute reads SDRAM "
                "directly), for compute-side read widths of 1, 2, 4 words per clock",
        "iteration_definition": f"one training iteration of the compute model: take one {VEC_WORDS}-word MNIST "
                                f"vector, then compute for compute_clocks_per_iteration clocks with m_ready low",
        "access_definition": "clocks from the compute side asking for a vector (m_ready high) to taking its last "
                             "beat; access time = access clocks x clock_ns. Steady state: iterations 2..n (the "
                             "first waits for the SDRAM latency in both modes)",
        "read_width_definition": "rd_words words per compute-side beat: the distributed memory reads rd_words "
                                 "SRAM banks in parallel (one beat per clock); the unified memory packs rd_words "
                                 "SDRAM words per beat, so it stays bound by the SDRAM bandwidth. The compute "
                                 "model takes one beat per clock. The MLP of rtl/neuron takes 1 word per clock "
                                 "(mlp_trainer uses rd_words = 1): widths 2 and 4 need a compute side that "
                                 "consumes that many words per clock",
        "paper_operating_point": "SDRAM half as fast as the SRAM: sdram_base.bandwidth = 0.5 words per clock, "
                                 "the SRAM one row (rd_words words) per clock",
        "clock_ns": clk,
        "clock_source": clk_src,
        "clock_note": "one clock for every mode and width: the slowest of the FP adder and the memory "
                      "blocks as synthesized (the memory's SRAM banks as macros, synth/macros.py)",
        "vector_words": VEC_WORDS,
        "word_bits": 32,
        "compute_clocks_per_iteration": args.compute_clocks,
        "compute_clocks_reason": "MLP pipelined neuron iteration ~3N+40 clocks for the N=784-input first layer",
        "iterations_per_setting": args.vecs,
        "sdram_base": BASE,
        "sdram_burst_request_words": BURST,
        "sram_sweep_config": {"slots": 4, "vecs_per_slot": 2},
        "paper_access_ratio": {"unified_ns": 52.82, "distributed_ns": 18.42, "ratio": round(PAPER_RATIO, 3)},
        "paper_ratio_met_at_rd_words": met,
        "access_ratio_by_rd_words": {str(x["rd_words"]): x["access_ratio_unified_over_distributed"] for x in widths},
        "read_widths": widths,
        # the headline width (mlp_trainer's) at the top level, as in earlier reports
        "distributed": w1["distributed"],
        "unified": w1["unified"],
        "access_ratio_unified_over_distributed": w1["access_ratio_unified_over_distributed"],
        "sweep": w1["sweep"],
        "distributed_stalls_at_bandwidths": w1["distributed_stalls_at_bandwidths"],
        "distributed_no_stall_at_bandwidths": w1["distributed_no_stall_at_bandwidths"],
        "distributed_paper_sizes_4x64": {"slots": 4, "vecs_per_slot": 64, "rd_words": 1, **summarize(paper, clk)},
        "latency_note": "the SDRAM model queues at most sdram_base.max_outstanding requests of "
                        "sdram_burst_request_words words, so at long latency the words in flight, not the "
                        "bandwidth, bound the refill rate (about max_outstanding * burst / latency words per clock)",
        "bandwidth_needed_note": "read_widths[].bandwidth_needed_analytic: words/clock the SDRAM must sustain to "
                                 "refill one vector per iteration (vector words / iteration clocks, before "
                                 "refresh); a formula, not a measurement",
        "bench_wall_s": None,
    }
    report["bench_wall_s"] = round(time.time() - t_start)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: report[k] for k in ("headline", "clock_ns", "access_ratio_by_rd_words",
                                             "paper_ratio_met_at_rd_words", "distributed_stalls_at_bandwidths")},
                     indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
