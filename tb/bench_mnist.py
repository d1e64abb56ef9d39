"""make bench-mnist: the 784-100-100-10 network of paper 000 (Table II) trained
on MNIST with the hardware's numerics, beside float32 PyTorch, plus clocks per
training input measured on the RTL -> reports/mnist_training.json.

Accuracy comes from models.mlp_hw.MlpHw, the bit-accurate model of the RTL
(`make test` checks it bit for bit against the RTL on real MNIST mini-batches);
simulating 500k inputs on the RTL itself would take days. Options:
--inputs 100000,...  --batch 10 --alpha 1.0 --seed 0 --skip-rtl
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.datasets import load_mnist, mnist_float  # noqa: E402
from models.mlp_hw import MlpHw, init_weights  # noqa: E402
from tb.units import REPO, run_unit  # noqa: E402
from tb.units_neuron import mlp_unit  # noqa: E402

PAPER_TABLE_II = {100000: 0.9720, 200000: 0.9748, 300000: 0.9755, 400000: 0.9778, 500000: 0.9788}
PAPER_SECONDS_100K = 6.43
SIZES = [784, 100, 100, 10]


def batches(n_inputs, m, seed):
    """The sample order: a fresh permutation of the 60k training images per epoch."""
    rng = np.random.default_rng(seed)
    seen = 0
    while seen < n_inputs:
        order = rng.permutation(60000)
        for b in range(0, 60000 - m + 1, m):
            if seen >= n_inputs:
                return
            yield order[b:b + m]
            seen += m


def train_hw(x, y, xt, yt, checkpoints, m, alpha, seed):
    hw = MlpHw(SIZES, init_weights(SIZES, np.random.default_rng(seed)), r=2, alpha=alpha, m=m)
    acc, seen, t0 = {}, 0, time.time()
    for idx in batches(max(checkpoints), m, seed):
        hw.train_batch(x[idx], y[idx])
        seen += m
        if seen in checkpoints:
            acc[seen] = float((hw.predict(xt) == yt).mean())
            print(f"  hardware numerics, {seen} inputs: {acc[seen]:.4f} ({time.time() - t0:.0f} s)", flush=True)
    return acc


def train_torch(x, y, xt, yt, checkpoints, m, alpha, seed):
    """float32 PyTorch: the same network, loss, initial weights, order and SGD,
    with the exact sigmoid and PyTorch's own summation order."""
    ws = [torch.tensor(w) for w in init_weights(SIZES, np.random.default_rng(seed))]
    X, Y, Xt = torch.tensor(x), torch.tensor(y), torch.tensor(xt)
    ones = lambda n: torch.ones(n, 1)
    acc, seen = {}, 0
    for idx in batches(max(checkpoints), m, seed):
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
        if seen in checkpoints:
            h = Xt
            for w in ws:
                h = torch.sigmoid(torch.cat([ones(len(h)), h], 1) @ w.T)
            acc[seen] = float((h.argmax(1).numpy() == yt).mean())
            print(f"  float32 PyTorch,   {seen} inputs: {acc[seen]:.4f}", flush=True)
    return acc


def rtl_cycles(m):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cycles.json"
        unit = mlp_unit("bench_mnist", p=10, max_sizes=(784, 100, 100, 10), MLP_M=m, MLP_BATCHES=1)
        tests, failed = run_unit(unit, extra_env={"BENCH_OUT": str(out)})
        if failed or not out.exists():
            sys.exit(f"RTL benchmark failed ({failed} of {tests})")
        return json.loads(out.read_text()), unit


def synth_clock():
    """The synthesized clock of the MLP lane, if `make synth` has run."""
    for name in ("mlp_lane", "neuron", "mlp_net"):
        path = REPO / "reports" / "synth" / f"{name}.json"
        if path.exists():
            rep = json.loads(path.read_text())
            if rep.get("fmax_mhz"):
                return 1000.0 / rep["fmax_mhz"], f"fmax of {name} from {path.relative_to(REPO)}"
    return 2.0, "assumed 500 MHz (no synthesis report of the MLP lane yet)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", default="100000,200000,300000,400000,500000")
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-rtl", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    checkpoints = [int(v) for v in args.inputs.split(",")]
    assert all(c % args.batch == 0 for c in checkpoints)

    xr, yr = load_mnist("train")
    xtr, ytr = load_mnist("test")
    x, xt = mnist_float(xr), mnist_float(xtr)
    y = np.eye(10, dtype=np.float32)[yr]

    report = {"network": "784-100-100-10, sigmoid, cross-entropy on sigmoid outputs, SGD",
              "batch_m": args.batch, "alpha": args.alpha, "seed": args.seed,
              "test_set": "MNIST test, 10000 images"}
    if not args.skip_rtl:
        cyc, unit = rtl_cycles(args.batch)
        compute = sum(cyc["cycles_per_sample"]) / len(cyc["cycles_per_sample"])
        per_input = compute + SIZES[0] + SIZES[-1]   # the engine takes one input word per clock
        clock_ns, clock_src = synth_clock()
        report["rtl"] = {
            "lanes_P": unit.parameters["P"], "mul_lat": unit.parameters["MUL_LAT"],
            "add_lat": unit.parameters["ADD_LAT"],
            "cycles_per_sample": cyc["cycles_per_sample"],
            "compute_cycles_per_input": compute,
            "cycles_per_training_input": per_input,
            "values_checked": cyc["values_checked"],
            "clock_ns": clock_ns, "clock_source": clock_src,
            "projected_seconds_100k_inputs": per_input * 100000 * clock_ns * 1e-9,
            "paper_seconds_100k_inputs": PAPER_SECONDS_100K, "goal_seconds": 0.5,
            "note": "compute: clocks from the engine starting on a sample to sample_done (the last "
                    "sample of the mini-batch includes the 1/m scaling and the weight update), measured; "
                    "per training input adds the 794 words of the sample, taken at one word per clock "
                    "while the engine is idle (loading does not overlap computing in this engine)",
        }
        print(f"RTL: {per_input:.0f} clocks per training input")
    print("training with the hardware numerics (bit-accurate model) ...")
    hw = train_hw(x, y, xt, ytr, checkpoints, args.batch, args.alpha, args.seed)
    print("training float32 PyTorch ...")
    ref = train_torch(x, y, xt, ytr, checkpoints, args.batch, args.alpha, args.seed)
    report["rows"] = [{"inputs": n, "test_accuracy_hw": hw[n], "test_accuracy_torch_f32": ref[n],
                       "diff_points": round(100 * (hw[n] - ref[n]), 3),
                       "paper_test_accuracy": PAPER_TABLE_II.get(n),
                       "meets_paper": hw[n] >= PAPER_TABLE_II.get(n, 0)} for n in checkpoints]
    path = REPO / "reports" / "mnist_training.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
