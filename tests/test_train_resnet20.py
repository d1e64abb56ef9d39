"""The ResNet-20 training script (models/train_resnet20.py) on a tiny budget on
the CPU (seconds): 2 SGD steps per epoch for 2 epochs of both precisions, the
JSON report with both runs, a checkpoint per epoch and precision, and a
--resume from the epoch-1 checkpoint that ends with the same weights, bit for
bit, as the uninterrupted run."""

import json
import shutil

import torch

from models import train_resnet20 as tr

torch.set_num_threads(1)

TINY = ["--train-subset", "64", "--test-subset", "50", "--batch", "16", "--steps-per-epoch", "2",
        "--lr", "0.05", "--lr-milestones", "1", "--device", "cpu", "--no-plot"]


def run(tmp, ckdir, *extra):
    out = tmp / "r.json"
    tr.main(TINY + ["--out", str(out), "--checkpoint-dir", str(ckdir), *extra], log=lambda *_: None)
    return json.loads(out.read_text())


def test_two_epochs_report_and_exact_resume(tmp_path):
    full = tmp_path / "full"
    rep = run(tmp_path, full, "--epochs", "2")
    assert set(rep["runs"]) == {"hybrid", "fp32"}
    assert rep["provenance"]["commit"] and rep["provenance"]["date"]
    assert rep["budget"]["epochs_done"] == 2 and rep["budget"]["train_images"] == 64
    assert rep["budget"]["test_images"] == 50 and rep["budget"]["device"] == "cpu"
    for h in rep["runs"].values():
        assert len(h["test_acc"]) == len(h["train_loss"]) == 2 and h["steps"] == [2, 2]
        assert all(0 <= a <= 100 for a in h["test_acc"])
        assert h["lr"] == [0.05, 0.05 * 0.1]                    # the step schedule
    assert len(rep["gap_points_per_epoch"]) == 2
    # both precisions start from the same weights, then differ
    c1 = {k: torch.load(tr.ckpt_path(full, k, 1), weights_only=False) for k in ("hybrid", "fp32")}
    assert not torch.equal(c1["hybrid"]["model"]["conv1.weight"], c1["fp32"]["model"]["conv1.weight"])

    # resume from the epoch-1 checkpoints alone
    part = tmp_path / "part"
    part.mkdir()
    for k in ("hybrid", "fp32"):
        shutil.copy(tr.ckpt_path(full, k, 1), tr.ckpt_path(part, k, 1))
    rep2 = run(tmp_path, part, "--epochs", "2", "--resume")
    assert rep2["runs"] == {k: {**h, "epoch_s": rep2["runs"][k]["epoch_s"]} for k, h in rep["runs"].items()}
    for k in ("hybrid", "fp32"):
        a = torch.load(tr.ckpt_path(full, k, 2), weights_only=False)
        b = torch.load(tr.ckpt_path(part, k, 2), weights_only=False)
        assert a["epoch"] == b["epoch"] == 2
        assert a["model"].keys() == b["model"].keys()
        for n in a["model"]:
            assert torch.equal(a["model"][n], b["model"][n]), (k, n)
        assert torch.equal(a["gen"], b["gen"])


def test_fake_quant_fast_path_is_bit_exact():
    """models/quant.py's fused quantize-dequantize (used by the hybrid
    convolutions) equals dequantize(quantize(x, e), e) bit for bit, with e from
    the one-pass max|x|: ties, saturation, signed zeros, infinities, tiny and
    huge scales."""
    from models import quant
    g = torch.Generator().manual_seed(0)
    cases = [torch.randn(4096, generator=g) * s for s in (1e-30, 1e-6, 1.0, 3e4, 1e30)]
    cases += [torch.arange(-300, 301, dtype=torch.float32) * 0.5,           # ties at every scale
              torch.tensor([0.0, -0.0, 127.0, -128.0, 127.5, -128.5, 1e-45]),
              torch.tensor([-0.0]), torch.tensor([1.0, float("inf"), -float("inf")])]
    for x in cases:
        m = float(x.abs().max())
        assert quant.max_abs(x) == m or (m != m and quant.max_abs(x) != quant.max_abs(x))
        e = quant.pow2_exponent(x)
        for ee in (e, e - 3, e + 2):
            a = quant.dequantize(quant.quantize(x, ee), ee)
            b = quant.quant_dequant(x, ee)
            assert a.dtype == b.dtype and torch.equal(a.view(torch.int32), b.view(torch.int32)), (x[:4], ee)
