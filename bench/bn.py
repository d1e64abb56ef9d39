"""`make bench-bn`: clock cycles of the FP16 BN unit for every batch-norm
layer of ResNet-20 on CIFAR-10, FP and BP, measured on the RTL (Verilator).
Writes reports/bn.json. Layers with the same shape (channels, elements per
channel) are simulated once: the unit's schedule does not depend on the data.

    python -m bench.bn [--batch 128]
"""

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from models.resnet20 import bn_layer_shapes
from tb.lib import provenance
from tb.units import REPO, UNITS, run_unit


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=128, help="training batch size")
    p.add_argument("--out", default=str(REPO / "reports" / "bn.json"))
    args = p.parse_args(argv)
    layers = bn_layer_shapes(args.batch)
    shapes = sorted({(c, n) for _, c, n in layers})
    jobs = [[c, n, mode] for c, n in shapes for mode in (0, 1)]
    unit = replace(UNITS["bn_unit"], test_module="bench.bn_sim")
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        tests, failed = run_unit(unit, extra_env={"BN_BENCH_JOBS": json.dumps(jobs),
                                                  "BN_BENCH_OUT": str(out)})
        if failed or not out.exists():
            raise SystemExit("bench-bn: the simulation failed")
        measured = json.loads(out.read_text())
    cyc = {(r["channels"], r["count"], r["mode"]): r["cycles"] for r in measured}
    beats = {(r["channels"], r["count"], r["mode"]): r["output_beats"] for r in measured}
    rows, tot = [], {"fp": 0, "bp": 0, "elements": 0}
    for name, c, n in layers:
        row = {"layer": name, "channels": c, "elements_per_channel": n}
        row.update({f"{m}_output_beats_counted": beats[(c, n, m)] for m in ("fp", "bp")})
        for mode in ("fp", "bp"):
            cycles = cyc[(c, n, mode)]
            row[f"{mode}_cycles"] = cycles
            row[f"{mode}_cycles_per_channel"] = cycles / c
            row[f"{mode}_overhead_cycles_per_channel"] = cycles / c - 2 * n
            row[f"{mode}_elements_per_clock"] = round(c * n / cycles, 4)
            tot[mode] += cycles
        tot["elements"] += c * n
        rows.append(row)
    report = {
        "provenance": provenance.stamp(),
        "unit": "rtl/bn/bn_unit.v (one BN STAT + one BN Core, binary16, NW=24)",
        "batch": args.batch,
        "method": "Verilator RTL simulation of whole layers (C channels back to back, source "
                  "always valid, sink always ready); identical layer shapes simulated once",
        "schedule": "per channel: pass 1 (statistics, 1 element/clock), local variables, "
                    "pass 2 (transform, 1 element/clock); elements_per_clock counts each "
                    "element once although it is streamed twice",
        "checked": "per layer, every output beat counted (channels x elements) and every channel result "
                   "compared with models/bn_ref.py; channel 0 on random binary16 data, each output beat "
                   "compared with bn_ref (bench/bn_sim.py)",
        "layers": rows,
        "total": {"fp_cycles": tot["fp"], "bp_cycles": tot["bp"], "elements": tot["elements"],
                  "fp_elements_per_clock": round(tot["elements"] / tot["fp"], 4),
                  "bp_elements_per_clock": round(tot["elements"] / tot["bp"], 4)},
        "wall_s": round(time.time() - t0, 1),
    }
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    print(json.dumps(report["total"], indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
