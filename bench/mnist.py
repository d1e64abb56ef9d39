"""make bench-mnist: the 784-100-100-10 network of paper 000 (Table II) trained
on MNIST with the hardware's numerics, beside float32 PyTorch, plus clocks per
training input measured on the RTL -> reports/mnist_training.json.

Accuracy comes from models.mlp_hw.MlpHw, the bit-accurate model of the RTL
(`make test` checks it bit for bit against the RTL on real MNIST mini-batches);
simulating 500k inputs on the RTL itself would take days. Options:
--inputs 100000,...  --batch 5 --alpha 0.5 --schedule wsd --init-gain 3 --seed 0
--sigmoid lut|alu (the lane's SIGMOID parameter: 0 = LUT, the default, 1 = ALU)
--skip-rtl, --rtl-only [--lanes 10,100] (the RTL clocks only, into the existing
report: the accuracy rows depend only on ADD_LAT, not on the lane's other
pipeline registers). Each budget is its own run: 1.5M inputs for the five rows, about
15-25 min on 2 cores. --val: the same runs on a validation split of the
training set (the test set unused), to choose hyperparameters ->
reports/mnist_validation.json.
"""

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.datasets import _find, load_mnist, mnist_float  # noqa: E402
from models.mlp_hw import MlpHw, init_weights  # noqa: E402
from models.sigmoid_hw import SEGMENTS, X_SAT, sigmoid_alu, sigmoid_lut  # noqa: E402
from tb.lib import provenance  # noqa: E402
from tb.units import REPO, run_unit  # noqa: E402
from tb.units_mlp import FAST_LANE, mlp_unit  # noqa: E402

PAPER_TABLE_II = {100000: 0.9720, 200000: 0.9748, 300000: 0.9755, 400000: 0.9778, 500000: 0.9788}
PAPER_SECONDS_100K = 6.43
SIZES = [784, 100, 100, 10]


def batches(n_inputs, m, seed, n_train=60000):
    """The sample order: a fresh permutation of the training images per epoch."""
    rng = np.random.default_rng(seed)
    seen = 0
    while seen < n_inputs:
        order = rng.permutation(n_train)
        for b in range(0, n_train - m + 1, m):
            if seen >= n_inputs:
                return
            yield order[b:b + m]
            seen += m


def alpha_at(seen, budget, alpha0, schedule):
    """The learning rate (a float32 register) for the mini-batch that starts
    after `seen` inputs: constant, or "wsd": constant for the first half of the
    run's budget, then a linear decay towards 0 in steps of 1% of the budget,
    so the host rewrites alpha 50 times per run (a reconfiguration between
    mini-batches, which drains the engine once: tb/test_mlp_net.py test_mnist_batches
    checks it)."""
    if schedule == "const":
        return np.float32(alpha0)
    step = max(budget // 100, 1)
    return np.float32(alpha0 * min(1.0, 2.0 * (1.0 - (seen // step) * step / budget)))


def train_hw(x, y, xt, yt, budget, args):
    """One run of `budget` inputs with the hardware numerics -> test accuracy."""
    w0 = init_weights(SIZES, np.random.default_rng(args.seed), args.init_gain)
    hw = MlpHw(SIZES, w0, r=2, alpha=args.alpha, m=args.batch,
               sigmoid=sigmoid_alu if args.sigmoid == "alu" else sigmoid_lut)
    seen = 0
    for idx in batches(budget, args.batch, args.seed, len(x)):
        hw.alpha = alpha_at(seen, budget, args.alpha, args.schedule)
        hw.train_batch(x[idx], y[idx])
        seen += args.batch
    return float((hw.predict(xt) == yt).mean())


def train_torch(x, y, xt, yt, budget, args):
    """float32 PyTorch: the same network, loss, initial weights, order, learning
    rates and SGD, with the exact sigmoid and PyTorch's own summation order."""
    m = args.batch
    ws = [torch.tensor(w) for w in init_weights(SIZES, np.random.default_rng(args.seed), args.init_gain)]
    X, Y, Xt = torch.tensor(x), torch.tensor(y), torch.tensor(xt)
    ones = lambda n: torch.ones(n, 1)
    seen = 0
    for idx in batches(budget, m, args.seed, len(x)):
        alpha = float(alpha_at(seen, budget, args.alpha, args.schedule))
        xb, yb = X[idx], Y[idx]
        acts = [xb]
        for w in ws:
            acts.append(torch.sigmoid(torch.cat([ones(m), acts[-1]], 1) @ w.T))
        d = acts[-1] - yb
        for l in range(len(ws) - 1, -1, -1):
            g = d.T @ torch.cat([ones(m), acts[l]], 1) / m
            if l:
                d = (d @ ws[l][:, 1:]) * acts[l] * (1 - acts[l])
            ws[l] -= alpha * g
        seen += m
    h = Xt
    for w in ws:
        h = torch.sigmoid(torch.cat([ones(len(h)), h], 1) @ w.T)
    return float((h.argmax(1).numpy() == yt).mean())


def rtl_cycles(lanes=(10, 100), m=5, batches=2):
    """Clocks per training input of 784-100-100-10 measured on the RTL for each
    lane count P: `batches` mini-batches of m MNIST samples queued at once, so
    the engine takes them back to back (the next sample loads into the other
    input buffer while one computes); every activation, delta, gradient and
    weight checked bit for bit against the model. Steady state = clocks between
    the last two batch_done pulses / m (forward, backprop and Delta of m
    samples, 1/m scaling and the weight update). The engine runs the fast lane
    configuration (tb.units_mlp.FAST_LANE), whose clock is block `mlp_lane`'s
    fmax. -> the report's "rtl" field."""
    lane = {"MUL_LAT": FAST_LANE["mul_lat"], "ADD_LAT": FAST_LANE["add_lat"],
            "IN_REG": FAST_LANE["in_reg"], "OP_REG": FAST_LANE["op_reg"]}
    clock_ns, clock_src = synth_clock(lane)
    rep = {"m": m, "batches": batches, "lane_config": lane,
           "lane_config_doc": "MUL_LAT / ADD_LAT: fp_mul / fp_add register stages; IN_REG: lane inputs "
                              "registered; OP_REG: operands registered before the multiplier. The summation "
                              "order depends only on ADD_LAT (R = 2 partial sums), as in the accuracy rows.",
           "clock_ns": clock_ns, "clock_mhz": round(1000.0 / clock_ns, 1), "clock_source": clock_src,
           "paper_seconds_100k_inputs": PAPER_SECONDS_100K, "goal_seconds": 0.5,
           "note": "steady_cycles_per_input: clocks between two batch_done pulses over m, samples "
                   "streamed back to back at one word per clock, loading overlapped with computing; "
                   "compute_cycles_per_sample: clocks busy per sample (the last of a batch includes "
                   "the 1/m scaling and the weight update); projected seconds = steady clocks x "
                   "100000 x clock"}
    for p in lanes:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "cycles.json"
            unit = replace(mlp_unit("bench_mnist", p=p, max_sizes=(784, 100, 100, 10), MLP_M=m,
                                    MLP_BATCHES=batches, **FAST_LANE), test_module="bench.mlp_sim")
            t0 = time.time()
            tests, failed = run_unit(unit, extra_env={"BENCH_OUT": str(out)})
            if failed or not out.exists():
                sys.exit(f"RTL benchmark P = {p} failed ({failed} of {tests})")
            cyc = json.loads(out.read_text())
        steady = cyc["steady_cycles_per_input"]
        per = cyc["busy_cycles_per_sample"]
        rep[f"P{p}"] = {
            "lanes_P": p, "mul_lat": unit.parameters["MUL_LAT"], "add_lat": unit.parameters["ADD_LAT"],
            "in_reg": unit.parameters["IN_REG"], "op_reg": unit.parameters["OP_REG"],
            "steady_cycles_per_input": steady,
            "compute_cycles_per_sample": per,
            "compute_cycles_mid_batch": min(per[-m:]), "compute_cycles_batch_end": per[-1],
            "batch_done_at": cyc["batch_done_at"], "first_sample_cycles": cyc["first_sample_cycles"],
            "tensors_checked": cyc["tensors_checked"], "values_checked": cyc["values_checked"],
            "mismatches": 0,
            "projected_seconds_100k_inputs": steady * 100000 * clock_ns * 1e-9,
            "meets_goal_0_5_s": steady * 100000 * clock_ns * 1e-9 <= 0.5,
            "build_and_simulation_wall_s": round(time.time() - t0, 1),
        }
        engine_time(rep[f"P{p}"], lane)
        print(f"RTL P = {p}: {steady:.1f} clocks per training input (steady state), "
              f"{rep[f'P{p}']['projected_seconds_100k_inputs']:.3f} s per 100k inputs at {clock_ns:.3f} ns",
              flush=True)
    return rep


def engine_time(entry, lane):
    """The whole engine (controller, bank crossbars, P lanes) runs at the slower of
    its lanes and its own paths: its synthesis report's fmax (block mlp_net_mnist at
    P = 10, mlp_net_mnist_p100 at P = 100), if synthesized with this lane
    configuration -> the entry's engine_fmax_* and projected seconds at it."""
    for k in [k for k in entry if k.startswith("engine_fmax") or k.endswith("_at_engine_fmax")]:
        del entry[k]
    name = {10: "mlp_net_mnist", 100: "mlp_net_mnist_p100"}.get(entry["lanes_P"])
    path = REPO / "reports" / "synth" / f"{name}.json"
    eng = json.loads(path.read_text()) if name and path.exists() else {}
    ep = eng.get("parameters", {})
    if not eng.get("fmax_mhz") or ep.get("P") != entry["lanes_P"] or any(ep.get(k) != v for k, v in lane.items()):
        entry["engine_fmax_note"] = f"no synthesis report of the {entry['lanes_P']}-lane engine with this lane"
        return
    entry["engine_fmax_mhz"] = eng["fmax_mhz"]
    entry["engine_fmax_source"] = (f"{provenance.cite(path, eng)}: mlp_net with P = {ep['P']}, the same lane "
                                   "configuration; the slower of its own paths and the lane's")
    entry["projected_seconds_100k_inputs_at_engine_fmax"] = entry["steady_cycles_per_input"] * 1e5 / (eng["fmax_mhz"] * 1e6)
    entry["meets_goal_0_5_s_at_engine_fmax"] = entry["projected_seconds_100k_inputs_at_engine_fmax"] <= 0.5


def synth_clock(lane):
    """The synthesized clock of the MLP lane in configuration `lane` (block
    `mlp_lane`), if `make synth` has run it at that configuration."""
    path = REPO / "reports" / "synth" / "mlp_lane.json"
    if path.exists():
        rep = json.loads(path.read_text())
        got = {k: rep.get("parameters", {}).get(k) for k in lane}
        if rep.get("fmax_mhz") and got == lane:
            return 1000.0 / rep["fmax_mhz"], (f"fmax of block mlp_lane ({lane}) from "
                                              f"{provenance.cite(path, rep)}")
        if rep.get("fmax_mhz"):
            return 2.0, (f"assumed 500 MHz: {provenance.cite(path, rep)} is another lane configuration ({got})")
    return 2.0, "assumed 500 MHz (no synthesis report of the MLP lane yet)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", default="100000,200000,300000,400000,500000")
    ap.add_argument("--batch", type=int, default=5)
    ap.add_argument("--alpha", type=float, default=0.5, help="learning rate (at the start)")
    ap.add_argument("--schedule", choices=("wsd", "const"), default="wsd")
    ap.add_argument("--init-gain", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sigmoid", choices=("lut", "alu"), default="lut",
                    help="the hardware sigmoid of the accuracy runs (the RTL clocks always use the LUT lane)")
    ap.add_argument("--val", action="store_true",
                    help="choose hyperparameters: train on the first 50k training images, report accuracy on "
                         "the last 10k (the test set unused); writes reports/mnist_validation.json")
    ap.add_argument("--out", default="", help="report path (default reports/mnist_training.json, "
                                               "or reports/mnist_validation.json with --val)")
    ap.add_argument("--skip-rtl", action="store_true")
    ap.add_argument("--rtl-only", action="store_true", help="only the RTL clocks, into the existing report")
    ap.add_argument("--lanes", default="10,100", help="lane counts P of the RTL measurement")
    args = ap.parse_args()
    if args.rtl_only:
        path = REPO / "reports" / "mnist_training.json"
        report = json.loads(path.read_text()) if path.exists() else {}
        earlier = dict(report)
        old = report.get("rtl") or {}
        report["rtl"] = rtl_cycles(lanes=[int(v) for v in args.lanes.split(",")], m=args.batch)
        # keep earlier measurements of other lane counts made with the same lane configuration
        cfg = report["rtl"]["lane_config"]
        for k, v in old.items():
            if k.startswith("P") and k not in report["rtl"] and isinstance(v, dict) and \
                    [v.get(f) for f in ("mul_lat", "add_lat", "in_reg", "op_reg")] == list(cfg.values()):
                v["projected_seconds_100k_inputs"] = v["steady_cycles_per_input"] * 1e5 * report["rtl"]["clock_ns"] * 1e-9
                v["meets_goal_0_5_s"] = v["projected_seconds_100k_inputs"] <= 0.5
                engine_time(v, cfg)
                report["rtl"][k] = provenance.carried(v, earlier, path)
        # the accuracy rows were not run now: they keep the provenance of the run that made them
        if "rows" in report:
            report["rows"] = [provenance.carried(r, earlier, path) for r in report["rows"]]
        report["provenance"] = provenance.stamp()
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {path}")
        return
    torch.set_num_threads(1)     # small matrices: more threads only spin on a busy machine
    checkpoints = [int(v) for v in args.inputs.split(",")]
    assert all(c % args.batch == 0 for c in checkpoints)

    xr, yr = load_mnist("train")
    xtr, ytr = load_mnist("test")
    source = provenance.rel(_find("mnist.npz"))
    x, xt = mnist_float(xr), mnist_float(xtr)
    y = np.eye(10, dtype=np.float32)[yr]
    if args.val:      # a fixed split of the training set; no RTL run
        x, xt, y, ytr = x[:50000], x[50000:], y[:50000], yr[50000:]
        args.skip_rtl = True

    report = {"network": "784-100-100-10, sigmoid, cross-entropy on sigmoid outputs, SGD",
              "sigmoid": {"lut": f"LUT, {SEGMENTS} segments on |x| < {X_SAT:g}, saturated outside (models/sigmoid_hw.py)",
                          "alu": "ALU, 23 lane operations (models/sigmoid_hw.py)"}[args.sigmoid],
              "batch_m": args.batch, "alpha": args.alpha, "schedule": args.schedule,
              "schedule_doc": " ".join(alpha_at.__doc__.split("after `seen` inputs: ")[1].split()),
              "init": f"uniform Glorot x {args.init_gain}, biases 0", "seed": args.seed,
              "runs": "one training run per budget (the schedule depends on the budget), "
                      "same initial weights and sample order; inputs in [0, 1]",
              "test_set": (f"validation: images 50000-{len(xr) - 1} of the training split of {source} "
                           f"(training on the first 50000)" if args.val
                           else f"test split of {source}, {len(xt)} images"),
              "training_set": f"training split of {source}, {len(x)} images"}
    if not args.skip_rtl:
        report["rtl"] = rtl_cycles(lanes=[int(v) for v in args.lanes.split(",")], m=args.batch)
    elif not args.val and (REPO / "reports" / "mnist_training.json").exists():   # keep the last RTL measurement
        last_path = REPO / "reports" / "mnist_training.json"
        last = json.loads(last_path.read_text())
        if last.get("rtl"):
            report["rtl"] = provenance.carried(last["rtl"], last, last_path)
    hw, ref = {}, {}
    for n in checkpoints:
        t0 = time.time()
        hw[n] = train_hw(x, y, xt, ytr, n, args)
        t1 = time.time()
        ref[n] = train_torch(x, y, xt, ytr, n, args)
        print(f"  {n} inputs: hardware numerics {hw[n]:.4f} ({t1 - t0:.0f} s), "
              f"float32 PyTorch {ref[n]:.4f} ({time.time() - t1:.0f} s)", flush=True)
    report["rows"] = [{"inputs": n, "test_accuracy_hw": hw[n], "test_accuracy_torch_f32": ref[n],
                       "diff_points": round(100 * (hw[n] - ref[n]), 3),
                       "within_0_2_points": abs(hw[n] - ref[n]) <= 0.002 + 1e-9,
                       "paper_test_accuracy": PAPER_TABLE_II.get(n),
                       # no paper row for this budget: nothing to meet
                       "meets_paper": None if n not in PAPER_TABLE_II else hw[n] >= PAPER_TABLE_II[n]}
                      for n in checkpoints]
    if args.val:      # the paper's rows are test accuracies
        for row in report["rows"]:
            del row["paper_test_accuracy"], row["meets_paper"]
            row["val_accuracy_hw"] = row.pop("test_accuracy_hw")
            row["val_accuracy_torch_f32"] = row.pop("test_accuracy_torch_f32")
    path = Path(args.out) if args.out else REPO / "reports" / ("mnist_validation.json" if args.val else "mnist_training.json")
    report["provenance"] = provenance.stamp()
    if args.val:      # one entry per hyperparameter setting, each with the provenance of its run
        old = json.loads(path.read_text()) if path.exists() else {}
        key = f"alpha {args.alpha} m {args.batch} {args.schedule} gain {args.init_gain} seed {args.seed}"
        if args.sigmoid != "lut":
            key += f" {args.sigmoid}"
        report = {**{k: provenance.carried(v, v, path) for k, v in old.items() if k != "provenance"},
                  key: report, "provenance": report["provenance"]}
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
