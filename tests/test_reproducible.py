"""Generated tables and "exact" expected values have the same bits on every
machine. numpy's BLAS/LAPACK kernel (OPENBLAS_CORETYPE), numpy's own SIMD
dispatch (NPY_DISABLE_CPU_FEATURES) and torch's CPU kernels
(ATEN_CPU_CAPABILITY) each stand in for another machine: the digest of
everything the regression compares against is computed under each in a fresh
process and must not change. (Before the tables were derived in exact
arithmetic, the ALU sigmoid's constants came from LAPACK's polyfit; before the
PE stimuli ran in float64 from numpy's generator, torch.randn alone gave other
weights under ATEN_CPU_CAPABILITY=default than under avx2.)

    python tests/test_reproducible.py      # prints each part's digest
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

def _numpy_dispatch_above_baseline():
    """numpy's dispatched SIMD targets above its baseline (e.g. X86_V3 X86_V4
    AVX512_ICL AVX512_SPR on numpy 2.4): disabling them all runs its baseline kernels."""
    from numpy._core import _multiarray_umath as mu
    return " ".join(mu.__cpu_dispatch__)


# one variation at a time (each must start on any x86-64 with AVX2)
KERNELS = [
    {},
    {"OPENBLAS_CORETYPE": "Haswell"},
    {"OPENBLAS_CORETYPE": "Sandybridge"},
    {"OPENBLAS_CORETYPE": "Prescott"},
    {"ATEN_CPU_CAPABILITY": "default"},
    {"ATEN_CPU_CAPABILITY": "avx2"},
    {"NPY_DISABLE_CPU_FEATURES": _numpy_dispatch_above_baseline()},
]


def _h(*arrays):
    import numpy as np
    d = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        d.update(str((a.dtype.str, a.shape)).encode())
        d.update(a.tobytes())
    return d.hexdigest()[:16]


def digests():
    """{part: digest} of the generated RTL tables and of the expected values
    the regression's scoreboards use (small instances of each)."""
    import numpy as np
    import torch

    from models import bn_ref, bn_rsqrt_rom, pe_array, quant, sigmoid_hw
    from models.datasets import load_mnist, mnist_float
    from models.mlp_hw import MlpHw, init_weights

    torch.set_num_threads(1)
    out = {
        "sigmoid_lut_rom.v": hashlib.sha256(sigmoid_hw.rom_verilog().encode()).hexdigest()[:16],
        "sigmoid_alu_ucode.v": hashlib.sha256(sigmoid_hw.ucode_verilog().encode()).hexdigest()[:16],
        "bn_rsqrt_rom.v": hashlib.sha256(bn_rsqrt_rom.rom_verilog().encode()).hexdigest()[:16],
    }
    xs = np.linspace(-20, 20, 200_001).astype(np.float32)
    out["sigmoids"] = _h(sigmoid_hw.sigmoid_lut(xs), sigmoid_hw.sigmoid_alu(xs))

    # PE array: the CIFAR-10 layer stimuli and the integer references of every phase
    parts = []
    for name, (layer, x, w, d) in pe_array.layer_tensors(n=2, side=8, seed=1).items():
        parts += [x, w, d] + [pe_array.reference(layer, ph, x, w, d) for ph in ("fp", "bp", "wg")]
    out["pe_array"] = _h(*parts)
    out["quant"] = _h(quant.quantize(torch.linspace(-3, 5, 1001, dtype=torch.float64), -4).numpy())

    # MLP engine: one MNIST mini-batch through the bit-accurate model, both sigmoids
    x, y = load_mnist("train", limit=6)
    x, y = mnist_float(x), np.eye(10, dtype=np.float32)[y]
    sizes = [784, 100, 100, 10]
    w0 = init_weights(sizes, np.random.default_rng(0), gain=3.0)
    for sig in (sigmoid_hw.sigmoid_lut, sigmoid_hw.sigmoid_alu):
        acts, deltas, grads, new_w = MlpHw(sizes, w0, m=6, alpha=0.5, sigmoid=sig).train_batch(x, y)
        out[f"mlp_hw_{sig.__name__}"] = _h(*acts, *deltas[1:], *grads, *new_w)

    # BN unit: one channel forward and backward
    rng = np.random.default_rng(3)
    xb = (rng.standard_normal(300) * 3 + 1).astype(np.float16)
    fp = bn_ref.bn_forward(xb, np.float16(1.5), np.float16(-0.25))
    bp = bn_ref.bn_backward((rng.standard_normal(300)).astype(np.float16), fp["xhat"], fp["mask"],
                            np.float16(1.5), fp["lam"])
    out["bn_ref"] = _h(fp["y"], fp["xhat"], bp["dx"], np.array([bp["dgamma"], bp["dbeta"]]))

    # the accelerator's iteration (models/accel): every tensor of FP and BP, the host's loss gradient
    from models import accel
    from models.datasets import cifar_float, load_cifar10
    spec = accel.NetSpec.small()
    imgs, labels = load_cifar10("test", indices=[3, 1003])
    master = accel.init_master(spec, seed=0)
    loss, t, g = accel.train_step(spec, master, cifar_float(imgs)[:, :, :8, :8].astype(np.float16),
                                  labels.astype(np.int64), lr=0.1)
    tensors = [v for d in (t, g) for k, v in sorted(d.items()) if isinstance(v, np.ndarray)]
    out["accel"] = _h(*tensors, np.float64(loss), *[master[k] for k in sorted(master)])
    return out


def _digests_under(env_extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "ATEN_CPU_CAPABILITY", "NPY_DISABLE_CPU_FEATURES")}
    env.update(env_extra)
    # -W error: numpy only warns when it cannot disable a feature it is asked to
    run = subprocess.run([sys.executable, "-W", "error::ImportWarning", __file__], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"{env_extra}: {run.stderr[-2000:]}"
    return dict(line.split(" ", 1) for line in run.stdout.split("\n") if line)


def test_same_bits_under_other_kernels():
    """One test, so that the baseline runs once (a fixture would run per xdist worker)."""
    baseline = _digests_under(KERNELS[0])
    for kernel in KERNELS[1:]:
        got = _digests_under(kernel)
        assert got.keys() == baseline.keys()
        differ = [k for k in baseline if got[k] != baseline[k]]
        assert not differ, f"under {kernel} these differ: {differ}"


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    for k, v in digests().items():
        print(k, v)
