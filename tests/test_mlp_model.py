"""The MLP models: the vectorized bit-accurate model against its definition,
against float64 autograd, and the sigmoids against their stated bounds and
the generated RTL tables."""

from pathlib import Path

import numpy as np
import pytest

from models import sigmoid_hw
from models.datasets import load_mnist, mnist_float
from models.mlp import reference_step
from models.mlp_hw import MlpHw, init_weights, interleaved_mac, interleaved_mac_loop

RTL = Path(__file__).resolve().parents[1] / "rtl" / "neuron"


@pytest.mark.parametrize("r", [1, 2, 3, 4])
def test_vectorized_mac_is_the_loop(r):
    rng = np.random.default_rng(r)
    a = rng.standard_normal((5, 101)).astype(np.float32)
    w = (rng.standard_normal((7, 101)) * 10.0 ** rng.integers(-6, 6, (7, 101))).astype(np.float32)
    a[:, :4] = 0.0
    w[0] = -0.0          # sums of signed zeros
    w[1, 5] = np.inf     # and specials
    got, want = interleaved_mac(a, w, r), interleaved_mac_loop(a, w, r)
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    # one sample, one neuron (the single-neuron tests): a lone column must not be summed pairwise
    for t in (33, 129, 785):
        a1, w1 = rng.standard_normal((1, t)).astype(np.float32), rng.standard_normal((1, t)).astype(np.float32)
        got, want = interleaved_mac(a1, w1, r), interleaved_mac_loop(a1, w1, r)
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), t


def _mnist(n):
    x, y = load_mnist("train", limit=n)
    return mnist_float(x), np.eye(10, dtype=np.float32)[y]


def test_batched_equals_per_sample():
    x, y = _mnist(12)
    sizes = [784, 100, 100, 10]
    w0 = init_weights(sizes, np.random.default_rng(0))
    a, b = MlpHw(sizes, w0, m=3, alpha=0.7), MlpHw(sizes, w0, m=3, alpha=0.7)
    for k in range(4):
        a.train_batch(x[3 * k:3 * k + 3], y[3 * k:3 * k + 3])
        for s in range(3 * k, 3 * k + 3):
            b.sample(x[s], y[s])
        b.update()
    for wa, wb in zip(a.w, b.w):
        assert np.array_equal(wa.view(np.uint32), wb.view(np.uint32))


@pytest.mark.parametrize("sigmoid,lut", [(sigmoid_hw.sigmoid_lut, True), (sigmoid_hw.sigmoid_alu, False)])
def test_model_close_to_float64_autograd(sigmoid, lut):
    """Tolerance used by the RTL scoreboards: 2e-5 + 2e-4 * max|ref| per tensor."""
    x, y = _mnist(8)
    sizes = [784, 100, 100, 10]
    w0 = init_weights(sizes, np.random.default_rng(1))
    acts, deltas, grads, new_w = MlpHw(sizes, w0, m=8, alpha=1.0, sigmoid=sigmoid).train_batch(x, y)
    ra, rd, rg, rw = reference_step(w0, x, y, 1.0, lut=lut)
    for got, ref in [(acts[l], ra[l]) for l in (1, 2, 3)] + [(deltas[l], rd[l]) for l in (1, 2, 3)] \
            + list(zip(grads, rg)) + list(zip(new_w, rw)):
        assert np.abs(got - ref).max() <= 2e-5 + 2e-4 * np.abs(ref).max()


def test_sigmoid_bounds():
    xs = np.linspace(-24, 24, 1_000_001).astype(np.float32)
    true = 1 / (1 + np.exp(-xs.astype(np.float64)))
    lut = np.abs(sigmoid_hw.sigmoid_lut(xs) - true)
    assert lut[np.abs(xs) < 8].max() < 1.0e-4 and lut.max() < 3.4e-4
    assert np.abs(sigmoid_hw.sigmoid_alu(xs) - true).max() < 2.0e-7
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], np.float32)
    for f in (sigmoid_hw.sigmoid_lut, sigmoid_hw.sigmoid_alu):
        out = f(specials)
        assert np.isnan(out[0]) and out[1] > 0.999 and out[2] < 0.001 and abs(out[3] - 0.5) < 1e-3


def test_generated_tables_are_current():
    assert (RTL / "sigmoid_lut_rom.v").read_text() == sigmoid_hw.rom_verilog()
    assert (RTL / "sigmoid_alu_ucode.v").read_text() == sigmoid_hw.ucode_verilog()
