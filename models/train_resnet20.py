"""Trains ResNet-20 on CIFAR-10 twice with the same recipe and initial weights:
the paper's hybrid precision (INT8 conv/FC, FP16 batch norm) and the FP32
baseline. Vanilla SGD (no momentum, no weight decay, no augmentation: the
paper uses no regularization), constant learning rate. Writes
reports/resnet20.json (test accuracy per epoch, both runs, the budget) and
reports/resnet20.png (the two curves, paper Fig. 7).

Budget options: --epochs, --train-subset (K strided training images; 0 = all
50k), --test-subset (strided test images: the test split is ordered by
class), --batch, --lr, --threads (<= 2 on the shared machine).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models.datasets import cifar_float, load_cifar10
from models.resnet20 import ResNet20

REPORTS = Path(__file__).resolve().parents[1] / "reports"


def load(train_subset, test_subset):
    # both splits are stored ordered by class: take strided indices
    n_train = 50_000
    idx = np.arange(0, n_train, max(1, n_train // train_subset))[:train_subset] if train_subset else None
    xtr, ytr = load_cifar10("train", indices=idx)
    n_test = 10_000
    idx = np.arange(0, n_test, max(1, n_test // test_subset))[:test_subset] if test_subset else None
    xte, yte = load_cifar10("test", indices=idx)
    t = lambda x, y: (torch.from_numpy(cifar_float(x)), torch.from_numpy(y.astype(np.int64)))
    return t(xtr, ytr), t(xte, yte)


def evaluate(model, x, y, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return 100.0 * correct / len(y)


def train_run(hybrid, init_state, data, args, log):
    (xtr, ytr), (xte, yte) = data
    torch.manual_seed(args.seed)
    model = ResNet20(hybrid=hybrid)
    model.load_state_dict(init_state)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    hist = {"test_acc": [], "train_loss": [], "epoch_s": []}
    for ep in range(args.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(ytr), generator=gen)
        tot, nb = 0.0, 0
        for i in range(0, len(ytr) - args.batch + 1, args.batch):
            b = perm[i:i + args.batch]
            loss = F.cross_entropy(model(xtr[b]), ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot, nb = tot + loss.item(), nb + 1
        acc = evaluate(model, xte, yte)
        hist["test_acc"].append(acc)
        hist["train_loss"].append(tot / max(nb, 1))
        hist["epoch_s"].append(round(time.time() - t0, 1))
        log(f"{'hybrid' if hybrid else 'fp32'} epoch {ep + 1}/{args.epochs}: "
            f"loss {tot / max(nb, 1):.4f} test acc {acc:.2f}% ({hist['epoch_s'][-1]} s)")
    return hist


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for key, label in (("hybrid", "INT8 conv + FP16 BN"), ("fp32", "FP32 baseline")):
        acc = result["runs"][key]["test_acc"]
        ax.plot(range(1, len(acc) + 1), acc, marker="o", label=label)
    b = result["budget"]
    ax.set_xticks(range(1, b["epochs"] + 1))
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"ResNet-20 CIFAR-10, {b['train_images']} train imgs, bs {b['batch']}")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--train-subset", type=int, default=0, help="K strided train images, 0 = all")
    p.add_argument("--test-subset", type=int, default=0, help="strided test images, 0 = all")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(REPORTS / "resnet20.json"))
    args = p.parse_args(argv)
    torch.set_num_threads(min(args.threads, 2))
    data = load(args.train_subset, args.test_subset)
    torch.manual_seed(args.seed)
    init_state = ResNet20(hybrid=False).state_dict()
    t0 = time.time()
    runs = {}
    for key, hybrid in (("hybrid", True), ("fp32", False)):
        runs[key] = train_run(hybrid, init_state, data, args, print)
    result = {
        "budget": {"epochs": args.epochs, "train_images": len(data[0][1]),
                   "test_images": len(data[1][1]), "batch": args.batch, "lr": args.lr,
                   "optimizer": "SGD, no momentum, no weight decay, no augmentation",
                   "threads": min(args.threads, 2), "seed": args.seed,
                   "wall_s": round(time.time() - t0, 1)},
        "runs": runs,
        "final_gap_points": round(runs["fp32"]["test_acc"][-1] - runs["hybrid"]["test_acc"][-1], 2),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    plot(result, out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}")
    return result


if __name__ == "__main__":
    main()
