"""make bench-neuron: clocks of one training iteration of one neuron (Table I
of paper 000), LUT and ALU sigmoid, measured on the RTL -> reports/neuron_cycles.json."""

import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tb.lib import provenance  # noqa: E402
from tb.units import REPO, run_unit  # noqa: E402
from tb.units_mlp import mlp_unit  # noqa: E402

SIM = "bench.mlp_sim"    # the cocotb half

PAPER_TABLE_I = {2: 152, 4: 225, 8: 368, 16: 661, 32: 1192, 64: 2325, 128: 4647}


def measure(sigmoid):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cycles.json"
        unit = replace(mlp_unit("bench_cycles", sigmoid=sigmoid), test_module=SIM)
        tests, failed = run_unit(unit, extra_env={"BENCH_OUT": str(out)})
        if failed or not out.exists():
            sys.exit(f"benchmark run failed ({failed} of {tests} tests)")
        return {int(k): v for k, v in json.loads(out.read_text()).items()}


def main():
    lut, alu = measure(0), measure(1)
    unit = mlp_unit("bench_cycles")
    rows = [{"inputs": n, "cycles_lut": lut[n], "cycles_alu": alu[n], "paper_cycles": PAPER_TABLE_I[n],
             "goal_3n_plus_40": 3 * n + 40, "lut_meets_goal": lut[n] <= 3 * n + 40,
             "alu_over_lut": round(alu[n] / lut[n], 2)} for n in sorted(lut)]
    report = {
        "provenance": provenance.stamp(),
        "what": "clocks from the engine starting on a sample to sample_done: forward, output delta, "
                "Delta accumulation and weight update (m = 1) of one neuron with N inputs",
        "measured_on": "RTL (mlp_net, Verilator), every value checked against the bit-accurate model",
        "config": {k: unit.parameters[k] for k in ("P", "MUL_LAT", "ADD_LAT")},
        "rows": rows,
    }
    path = REPO / "reports" / "neuron_cycles.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    for r in rows:
        print(f"N={r['inputs']:4d}  LUT {r['cycles_lut']:5d}  ALU {r['cycles_alu']:5d}  "
              f"paper {r['paper_cycles']:5d}  goal {r['goal_3n_plus_40']:5d}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
