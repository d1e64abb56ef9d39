"""`make bench-pe` -> reports/pe_array.json: cycles and utilization of the
16 x 32 PE array on the ResNet-20 layer kinds, every phase.

- measured: the RTL (Verilator, cocotb test_layers) runs every listed layer
  and phase on one full-size CIFAR-10 image (32 x 32, batch 1), source always
  valid, sink always ready; cycles = clocks from the first beat offered to the
  last result beat taken. The results are checked exactly as in the tests.
- computed: the schedule's cycle model (models/pe_array.Program.cycles), given
  next to each measured count (they must agree), and for the whole ResNet-20
  (19 convolutions + 2 1x1 shortcuts + FC) at batch 1 and 32.
- measured through the controller: pe_top (tiling controller + input and
  weight buffers + the same 16 x 32 array) on every layer and phase it maps,
  in the mapping of models/pe_array.ctrl_program (FP and BP 3x3 stride 1 and
  2 as the schedule; the 1x1 shortcut and FC in every phase in BC mode,
  which can take more beats than the schedule's cheapest mapping:
  ctrl_beats; WG 3x3 stride 1 in CONV mode over output-position triples,
  stride 2 in BC with the strided x patches on the rows or in WB with dout
  on the rows, whichever takes fewer tiles), same image, source always
  valid, sink always ready, the tensors streamed in (activations 16
  bytes/clock, weights 12 kernel-row words/clock):
  ctrl_cycles_compute = clocks from the first beat the controller hands to the
  array to the last result beat taken (comparable with cycles_measured),
  ctrl_cycles_total = clocks from the descriptor to the last result beat
  (buffer loading included); ctrl_utilization uses ctrl_cycles_compute;
  ctrl_macs_issued = MACs issued in the controller's mapping;
  wg_bc_cycles_model (WG 3x3 only) = the cycle model of the BC mapping the
  controller issued for WG before (dout on the rows, 3 channels per row).
- wg_util_bound (WG): the highest utilization any mapping of the layer can
  reach on this array (models/pe_array.wg_util_bound: a byte on the row side
  occupies at least COLS MAC slots per presentation, on the column side ROWS,
  and each dout byte needs C*K*K products): conv1 27/32, 16->16 0.9 on 16 x 32.
- pe_top I/O (top_io, per stream width ACT_BYTES/WGT_WORDS): e2e_util_single =
  useful MACs / (3 * ROWS * COLS * clocks from queueing one descriptor and its
  streams to its last result beat); e2e_util_b2b = the same for the second
  of two identical descriptors queued back to back, clocks from the first's
  last result beat to the second's (its streams load into the other buffer
  half while the first computes: the steady state of a layer sequence).
  IDEPTH 12288 (36 KiB per column) so that the largest layer (16->16, 16 KiB
  of input) fits half the input buffer.
useful MACs = the layer's nominal MACs (N*M*C*Ho*Wo*K*K, padding included);
MACs issued = MACs with real operands whose product lands in a result;
utilization = useful MACs / (3 * ROWS * COLS * cycles).
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from models import pe_array as pa
from tb.lib import provenance
from tb.units import run_unit     # before tb.units_pe: tb.units collects the block unit files
from tb.units_pe import BENCH_IDEPTH as IDEPTH, BENCH_WDEPTH as WDEPTH, pe_top_unit, pe_unit

ROWS, COLS, OUT_ROWS = 16, 32, 2
REPO = Path(__file__).resolve().parents[1]
NOT_NEEDED = {("conv1_3x3_s1", "bp")}  # no gradient w.r.t. the input image in training


def resnet20(n):
    """Every convolution of ResNet-20 (1x1 projection shortcuts) and the FC layer."""
    L = []
    L.append(pa.Layer("conv1", "conv", n, 3, 16, 32, 32, 3, 1, 1))
    for i in range(6):
        L.append(pa.Layer(f"s1_conv{i}", "conv", n, 16, 16, 32, 32, 3, 1, 1))
    L.append(pa.Layer("s2_conv0", "conv", n, 16, 32, 32, 32, 3, 2, 1))
    L.append(pa.Layer("s2_short", "conv", n, 16, 32, 32, 32, 1, 2, 0))
    for i in range(1, 6):
        L.append(pa.Layer(f"s2_conv{i}", "conv", n, 32, 32, 16, 16, 3, 1, 1))
    L.append(pa.Layer("s3_conv0", "conv", n, 32, 64, 16, 16, 3, 2, 1))
    L.append(pa.Layer("s3_short", "conv", n, 32, 64, 16, 16, 1, 2, 0))
    for i in range(1, 6):
        L.append(pa.Layer(f"s3_conv{i}", "conv", n, 64, 64, 8, 8, 3, 1, 1))
    L.append(pa.Layer("fc", "fc", n, 64, 10))
    return L


def network(n, ctrl=False):
    """The cycle model of the whole network; ctrl: in the mapping pe_ctrl
    issues (pa.ctrl_program) instead of the schedule's cheapest."""
    rows = []
    tot_macs = tot_cycles = 0
    for layer in resnet20(n):
        for phase in ("fp", "bp", "wg"):
            if layer.name == "conv1" and phase == "bp":
                continue
            prog = (pa.ctrl_program if ctrl else pa.program)(layer, phase, *pa.zero_tensors(layer), ROWS, COLS)
            cyc = prog.cycles(OUT_ROWS)
            assert prog.macs_issued == layer.macs
            tot_macs += layer.macs
            tot_cycles += cyc
            rows.append({"layer": layer.name, "phase": phase, "cycles": cyc, "macs": layer.macs,
                         "utilization": round(pa.utilization(layer.macs, ROWS, COLS, cyc), 4)})
    return {"batch": n, "cycles": tot_cycles, "macs": tot_macs,
            "utilization": round(pa.utilization(tot_macs, ROWS, COLS, tot_cycles), 4), "layers": rows}


def measure():

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cycles.json"
        unit = pe_unit(ROWS, COLS, OUT_ROWS, PE_SIDE=32, PE_N=1, PE_STALL=0.0, PE_IDLE=0.0,
                       PE_REPORT=str(path))
        t0 = time.time()
        tests, failed = run_unit(unit, testcase="test_layers")
        wall = time.time() - t0
        if tests != 1 or failed or not path.exists():
            sys.exit("bench-pe: the RTL run failed")
        return json.loads(path.read_text()), wall


TOP_CASES = ("conv1_3x3_s1:fp", "conv_16_16_3x3_s1:fp", "conv_16_16_3x3_s1:bp", "conv_16_32_3x3_s2:fp",
             "conv_16_32_3x3_s2:bp", "conv_32_64_3x3_s2:fp", "conv_32_64_3x3_s2:bp",
             "shortcut_16_32_1x1_s2:fp", "shortcut_16_32_1x1_s2:bp", "fc_64_10:fp", "fc_64_10:bp",
             "conv1_3x3_s1:wg", "conv_16_16_3x3_s1:wg", "conv_16_32_3x3_s2:wg", "conv_32_64_3x3_s2:wg",
             "shortcut_16_32_1x1_s2:wg", "fc_64_10:wg")


IO_CONFIGS = ((16, 12), (32, 24), (1, 1))


def measure_top(act_bytes=16, wgt_words=12, b2b=True):
    """The same layers through pe_top: the controller generates the beats.
    b2b: also each layer twice back to back (PE_B2B)."""

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cycles.json"
        unit = pe_top_unit(ROWS, COLS, OUT_ROWS, idepth=IDEPTH, wdepth=WDEPTH, act_bytes=act_bytes,
                           wgt_words=wgt_words, PE_SIDE=32, PE_N=1, PE_STALL=0.0, PE_IDLE=0.0,
                           PE_CASES=",".join(TOP_CASES), PE_REPORT=str(path), PE_B2B=int(b2b))
        t0 = time.time()
        tests, failed = run_unit(unit, testcase="test_layers")
        wall = time.time() - t0
        if tests != 1 or failed or not path.exists():
            sys.exit(f"bench-pe: the pe_top run at {act_bytes} B / {wgt_words} words failed")
        return {(r["layer"], r["phase"]): r for r in json.loads(path.read_text())}, wall


def top_io(results):
    """Per stream width: end-to-end cycles and utilization per layer."""
    out = {}
    for (ab, ww), (top, wall) in results.items():
        rows = []
        for (layer, phase), t in top.items():
            row = {"layer": layer, "phase": phase, "cycles_compute": t["cycles_compute"],
                   "cycles_single": t["cycles_total"],
                   "e2e_util_single": round(pa.utilization(t["macs"], ROWS, COLS, t["cycles_total"]), 4)}
            if "b2b_cycles" in t:
                row.update({"cycles_b2b": t["b2b_cycles"],
                            "e2e_util_b2b": round(pa.utilization(t["macs"], ROWS, COLS, t["b2b_cycles"]), 4)})
            rows.append(row)
        out[f"{ab}B_{ww}w"] = {"act_bytes": ab, "wgt_words": ww, "sim_wall_s": round(wall, 1), "layers": rows}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--io", default=",".join(f"{a}/{w}" for a, w in IO_CONFIGS),
                    help="pe_top stream widths ACT_BYTES/WGT_WORDS to measure, the first one also "
                         "gives the ctrl_* columns (default %(default)s)")
    ap.add_argument("--top-only", action="store_true",
                    help="skip the pe_array run: only the top_io section, merged into an existing report")
    args = ap.parse_args()
    cfgs = [tuple(int(v) for v in c.split("/")) for c in args.io.split(",")]
    io = {c: measure_top(*c, b2b=c != (1, 1)) for c in cfgs}
    top, top_wall = io[cfgs[0]]
    measured, wall = measure() if not args.top_only else ([], 0.0)
    shapes = {L.name: L for L in pa.resnet20_layers(1, 32)}
    layers = []
    for r in measured:
        util = pa.utilization(r["macs"], ROWS, COLS, r["cycles_measured"])
        row = {**r, "utilization": round(util, 4),
               "needed_in_training": (r["layer"], r["phase"]) not in NOT_NEEDED,
               "no_dummy_macs": r["macs_issued"] == r["macs"]}
        if r["phase"] == "wg":
            row["wg_util_bound"] = round(pa.wg_util_bound(shapes[r["layer"]], ROWS, COLS), 4)
        t = top.get((r["layer"], r["phase"]))
        if t is not None:
            assert t["beats"] == r["beats"] or t["layer"].startswith(("shortcut", "fc")) or t["phase"] == "wg"
            L = shapes[r["layer"]]
            prog = pa.ctrl_program(L, r["phase"], *pa.zero_tensors(L), ROWS, COLS)
            row.update({"ctrl_beats": t["beats"], "ctrl_cycles_compute": t["cycles_compute"], "ctrl_cycles_total": t["cycles_total"],
                        "ctrl_cycles_model": t["cycles_model"], "ctrl_macs_issued": prog.macs_issued,
                        "ctrl_mode": pa.MODE_NAMES[prog.tiles[0].mode],
                        "ctrl_utilization": round(pa.utilization(r["macs"], ROWS, COLS, t["cycles_compute"]), 4)})
            if r["phase"] == "wg" and L.k == 3:
                row["wg_bc_cycles_model"] = pa.program(L, "wg", *pa.zero_tensors(L), ROWS, COLS, matmul=pa.BC).cycles(OUT_ROWS)
        layers.append(row)
    def below_goal(key):
        return [f"{r['layer']} {r['phase']}: {r[key]:.3f}"
                + (f" (bound of any mapping {r['wg_util_bound']:.3f})" if "wg_util_bound" in r else "")
                for r in layers if "3x3" in r["layer"] and r["needed_in_training"] and r.get(key, 0) < 0.9]
    goal, goal_ctrl = below_goal("utilization"), below_goal("ctrl_utilization")
    report = {
        "provenance": provenance.stamp(),
        "array": {"rows": ROWS, "cols": COLS, "macs_per_pe": 3, "out_rows_per_beat": OUT_ROWS},
        "definitions": __doc__,
        "measured_rtl": {"image": "CIFAR-10 test image 0, 32x32, batch 1", "sim_wall_s": round(wall, 1),
                         "model_matches_rtl": all(r["cycles_measured"] == r["cycles_model"] for r in layers),
                         "layers": layers},
        "measured_ctrl": {"top": "pe_top (pe_ctrl + pe_ibuf + pe_wbuf + pe_array)", "sim_wall_s": round(top_wall, 1),
                          "layers_mapped": [f"{a} {b}" for a, b in top],
                          "streams": f"{cfgs[0][0]} bytes / {cfgs[0][1]} words per beat",
                          "model_matches_rtl": all(t["cycles_compute"] == t["cycles_model"] for t in top.values()),
                          "ctrl_mapping": "models/pe_array.ctrl_program: 1x1 / FC BC (input broadcast); "
                                          "WG 3x3 stride 1 CONV over position triples, stride 2 BC (x on the "
                                          "rows) or WB (dout on the rows)"},
        "top_io": top_io(io),
        "goal_3x3_below_90pct": goal,
        "goal_3x3_below_90pct_ctrl": goal_ctrl,
        "computed_resnet20": {f"batch{n}": network(n) for n in (1, 32)},
        "computed_resnet20_ctrl": {f"batch{n}": network(n, ctrl=True) for n in (1, 32)},
    }
    if not layers:
        # no per-layer rows: all([]) and empty goal lists would claim what was not measured
        for key in ("goal_3x3_below_90pct", "goal_3x3_below_90pct_ctrl"):
            del report[key]
        del report["measured_rtl"]["model_matches_rtl"]
    out = REPO / "reports" / "pe_array.json"
    out.parent.mkdir(exist_ok=True)
    if args.top_only:
        # keep the last full run's tables, each marked with that run's provenance; replace only what
        # this run measured
        last = json.loads(out.read_text()) if out.exists() else {}
        written = {**{k: report[k] for k in ("array", "definitions")},
                   **{k: provenance.carried(v, last, out) for k, v in last.items() if k != "provenance"},
                   "provenance": report["provenance"], "top_io": report["top_io"]}
    out.write_text(json.dumps(written if args.top_only else report, indent=1))
    for r in layers:
        print(f"{r['layer']:24s} {r['phase']}  cycles {r['cycles_measured']:6d} (model {r['cycles_model']:6d})"
              f"  MACs {r['macs']:9d} issued {r['macs_issued']:9d}  util {r['utilization']:.3f}"
              + (f"  ctrl: compute {r['ctrl_cycles_compute']:6d} total {r['ctrl_cycles_total']:6d}"
                 f" util {r['ctrl_utilization']:.3f}" if "ctrl_cycles_compute" in r else ""))
    for k, v in report["computed_resnet20"].items():
        print(f"ResNet-20 {k}: {v['cycles']} cycles, utilization {v['utilization']:.3f} (computed)")
    for k, v in report["computed_resnet20_ctrl"].items():
        print(f"ResNet-20 {k}, controller mapping: {v['cycles']} cycles, utilization {v['utilization']:.3f} (computed)")
    if layers:
        print(f"3x3 below 90%: {goal or 'none'}; through the controller: {goal_ctrl or 'none'}")
    for k, v in report["top_io"].items():
        for r in v["layers"]:
            print(f"pe_top {k:8s} {r['layer']:24s} {r['phase']}  single {r['cycles_single']:6d} e2e util "
                  f"{r['e2e_util_single']:.3f}" + (f"  back to back {r['cycles_b2b']:6d} e2e util {r['e2e_util_b2b']:.3f}"
                                                   if "cycles_b2b" in r else ""))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
