"""Trains ResNet-20 on CIFAR-10 twice with the same recipe and initial weights:
the paper's hybrid precision (INT8 conv/FC as models/quant.py, FP16 batch norm
as the BN unit) and the FP32 baseline (paper 004, Fig. 7).

Recipe: vanilla SGD (no momentum, no weight decay, no augmentation: the paper
uses no regularization), batch 128, learning rate --lr (0.1) multiplied by
--lr-gamma (0.1) at each epoch in --lr-milestones (15,23; an empty list keeps
it constant). Full 50k training set, full 10k test set by default.

The two runs alternate epoch by epoch (hybrid epoch k, FP32 epoch k, ...), so
a run stopped at any point has both curves up to the same epoch. After every
epoch: a checkpoint per precision in --checkpoint-dir (model, optimizer,
shuffle generator and RNG states, epoch, history) and reports/resnet20.json
(per-epoch test accuracy and train loss of both runs, stamped with the commit
and date by tb/lib/provenance.py) and reports/resnet20.png (both curves).
--resume continues from the latest checkpoint (or --resume N from epoch N)
with the same result as the uninterrupted run.

Runs on CUDA when available (or --device), else on the CPU. On CUDA, TF32 is
switched off so that the baseline is FP32 (the hybrid's INT8 products are
exact either way).
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models.datasets import cifar_float, load_cifar10
from models.resnet20 import ResNet20
from tb.lib import provenance

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"
RUNS = (("hybrid", True), ("fp32", False))
# what must match for a checkpoint to be resumed (--epochs may grow)
RECIPE_KEYS = ("batch", "lr", "lr_milestones", "lr_gamma", "seed", "train_subset",
               "test_subset", "steps_per_epoch", "channels_last")


def strided(n, k):
    # both splits are stored ordered by class: take strided indices
    return np.arange(0, n, max(1, n // k))[:k] if k else None


def load(train_subset, test_subset):
    xtr, ytr = load_cifar10("train", indices=strided(50_000, train_subset))
    xte, yte = load_cifar10("test", indices=strided(10_000, test_subset))
    t = lambda x, y: (torch.from_numpy(cifar_float(x)), torch.from_numpy(y.astype(np.int64)))
    return t(xtr, ytr), t(xte, yte)


def lr_at(epoch, args):
    """Learning rate of 0-based epoch `epoch`."""
    return args.lr * args.lr_gamma ** sum(epoch >= m for m in args.lr_milestones)


def evaluate(model, x, y, batch=500):
    model.eval()
    correct = 0
    with torch.inference_mode():
        for i in range(0, len(y), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return 100.0 * correct / len(y)


class Run:
    """One precision: model, optimizer, shuffle generator, history."""

    def __init__(self, key, hybrid, init_state, args, device):
        self.key, self.hybrid, self.device = key, hybrid, device
        self.model = ResNet20(hybrid=hybrid)
        self.model.load_state_dict(init_state)
        self.model.to(device)
        if args.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=args.lr)
        self.gen = torch.Generator().manual_seed(args.seed)     # CPU: the same shuffles on any device
        self.epoch = 0
        self.hist = {"test_acc": [], "train_loss": [], "lr": [], "steps": [], "epoch_s": []}

    def state(self, recipe):
        return {"key": self.key, "epoch": self.epoch, "recipe": recipe, "hist": self.hist,
                "model": self.model.state_dict(), "opt": self.opt.state_dict(),
                "gen": self.gen.get_state(), "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}

    def load(self, ck):
        self.model.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["opt"])
        self.gen.set_state(ck["gen"])
        self.epoch, self.hist = ck["epoch"], ck["hist"]

    def train_epoch(self, data, args, log):
        (xtr, ytr), (xte, yte) = data
        lr = lr_at(self.epoch, args)
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.model.train()
        t0 = time.time()
        perm = torch.randperm(len(ytr), generator=self.gen).to(xtr.device)
        starts = range(0, len(ytr) - args.batch + 1, args.batch)
        if args.steps_per_epoch:
            starts = starts[:args.steps_per_epoch]
        tot = torch.zeros((), dtype=torch.float64, device=xtr.device)
        for i in starts:
            b = perm[i:i + args.batch]
            loss = F.cross_entropy(self.model(xtr[b]), ytr[b])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            tot += loss.detach()
        acc = evaluate(self.model, xte, yte)
        self.epoch += 1
        h = self.hist
        h["test_acc"].append(acc)
        h["train_loss"].append(float(tot) / max(len(starts), 1))
        h["lr"].append(lr)
        h["steps"].append(len(starts))
        h["epoch_s"].append(round(time.time() - t0, 1))
        log(f"{self.key:6s} epoch {self.epoch}/{args.epochs}: lr {lr:g} loss {h['train_loss'][-1]:.4f} "
            f"test acc {acc:.2f}% ({h['epoch_s'][-1]} s, {len(starts)} steps)")


def ckpt_path(d, key, epoch):
    return Path(d) / f"{key}_epoch{epoch:03d}.pt"


def latest_epoch(d):
    """Highest epoch with a checkpoint of both precisions in d (0 if none)."""
    eps = [set(int(p.stem.rsplit("epoch", 1)[1]) for p in Path(d).glob(f"{k}_epoch*.pt")) for k, _ in RUNS]
    both = eps[0] & eps[1]
    return max(both) if both else 0


def save_ckpt(run, d, recipe):
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    path = ckpt_path(d, run.key, run.epoch)
    tmp = path.with_suffix(".tmp")
    torch.save(run.state(recipe), tmp)
    os.replace(tmp, path)


def plot(result, path):
    try:
        import matplotlib
    except ImportError:
        print("matplotlib not installed: no plot")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for key, label in (("hybrid", "hybrid: INT8 conv/FC + FP16 BN"), ("fp32", "FP32 baseline")):
        acc = result["runs"][key]["test_acc"]
        ax.plot(range(1, len(acc) + 1), acc, marker="o" if len(acc) <= 40 else None, ms=3, label=label)
    b = result["budget"]
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"ResNet-20 CIFAR-10: {b['train_images']} train / {b['test_images']} test images, "
                 f"batch {b['batch']}", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_report(runs, args, data, device, wall_s, out):
    h, f = runs["hybrid"].hist, runs["fp32"].hist
    n = min(len(h["test_acc"]), len(f["test_acc"]))
    gaps = [round(f["test_acc"][i] - h["test_acc"][i], 2) for i in range(n)]
    result = {
        "provenance": provenance.stamp(),
        "budget": {"epochs_done": n, "epochs": args.epochs, "train_images": len(data[0][1]),
                   "test_images": len(data[1][1]), "batch": args.batch,
                   "steps_per_epoch": h["steps"][-1] if h["steps"] else 0,
                   "lr": args.lr, "lr_milestones": args.lr_milestones, "lr_gamma": args.lr_gamma,
                   "optimizer": "SGD, no momentum, no weight decay, no augmentation",
                   "seed": args.seed, "device": device_name(device),
                   "threads": torch.get_num_threads(), "channels_last": args.channels_last,
                   "wall_s_this_process": round(wall_s, 1)},
        "runs": {k: r.hist for k, r in runs.items()},
        "gap_points_per_epoch": gaps,            # FP32 minus hybrid test accuracy
        "final_gap_points": gaps[-1] if gaps else None,
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2))
    os.replace(tmp, out)
    if not args.no_plot:
        plot(result, out.with_suffix(".png"))
    return result


def device_name(device):
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--lr-milestones", default="15,23",
                   help="epochs (comma list) after which the lr is multiplied by --lr-gamma; '' = constant")
    p.add_argument("--lr-gamma", type=float, default=0.1)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-subset", type=int, default=0, help="K strided train images, 0 = all 50k")
    p.add_argument("--test-subset", type=int, default=0, help="K strided test images, 0 = all 10k")
    p.add_argument("--steps-per-epoch", type=int, default=0, help="SGD steps per epoch, 0 = the whole training set")
    p.add_argument("--device", default=None, help="cuda, cuda:N or cpu (default: cuda when available)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0 = torch's default)")
    p.add_argument("--channels-last", action="store_true",
                   help="channels-last tensors (changes float summation order, not the precision)")
    p.add_argument("--deterministic", action="store_true",
                   help="CUDA: deterministic cuDNN algorithms (bit-exact resume on the GPU, slower)")
    p.add_argument("--checkpoint-dir", default=str(ROOT / "build" / "resnet20_ckpt"))
    p.add_argument("--resume", nargs="?", type=int, const=-1, default=None, metavar="EPOCH",
                   help="continue from the latest checkpoint in --checkpoint-dir (or from EPOCH)")
    p.add_argument("--out", default=str(REPORTS / "resnet20.json"))
    p.add_argument("--no-plot", action="store_true")
    args = p.parse_args(argv)
    args.lr_milestones = [int(m) for m in args.lr_milestones.split(",") if m.strip()]
    return args


def main(argv=None, log=print):
    args = parse(argv)
    t_start = time.time()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = not args.deterministic
        torch.backends.cudnn.deterministic = args.deterministic
    recipe = {k: getattr(args, k) for k in RECIPE_KEYS}

    data = load(args.train_subset, args.test_subset)
    mf = torch.channels_last if args.channels_last else torch.contiguous_format
    data = tuple((x.to(device).contiguous(memory_format=mf), y.to(device)) for x, y in data)
    torch.manual_seed(args.seed)
    init_state = ResNet20(hybrid=False).state_dict()       # the same initial weights for both
    runs = {k: Run(k, hyb, init_state, args, device) for k, hyb in RUNS}

    if args.resume is not None:
        ep = latest_epoch(args.checkpoint_dir) if args.resume < 0 else args.resume
        if ep:
            for r in runs.values():
                ck = torch.load(ckpt_path(args.checkpoint_dir, r.key, ep), map_location=device,
                                weights_only=False)
                if ck["recipe"] != recipe:
                    raise SystemExit(f"checkpoint recipe {ck['recipe']} differs from this run's {recipe}")
                r.load(ck)
            torch.set_rng_state(ck["torch_rng"])
            if ck["cuda_rng"] is not None and device.type == "cuda":
                torch.cuda.set_rng_state_all(ck["cuda_rng"])
            log(f"resumed from epoch {ep} ({args.checkpoint_dir})")
        else:
            log(f"no checkpoint in {args.checkpoint_dir}: starting from epoch 0")

    log(f"ResNet-20 hybrid vs FP32 on {device_name(device)}, {torch.get_num_threads()} threads: "
        f"{len(data[0][1])} train / {len(data[1][1])} test images, {args.epochs} epochs")
    result = None
    for ep in range(runs["hybrid"].epoch, args.epochs):
        for r in runs.values():
            r.train_epoch(data, args, log)
            save_ckpt(r, args.checkpoint_dir, recipe)
        result = write_report(runs, args, data, device, time.time() - t_start, args.out)
    if result is None:          # nothing left to train: report what the checkpoints hold
        result = write_report(runs, args, data, device, time.time() - t_start, args.out)
    log(f"wrote {args.out}" + ("" if args.no_plot else f" and {Path(args.out).with_suffix('.png')}"))
    return result


if __name__ == "__main__":
    main()
