"""FP16 batch-norm block: the RTL unit and its float operations on Verilator
(cocotb, exact vs models/bn_ref.py), and checks of the model's own numerics."""

import numpy as np
import pytest

from models import bn_rsqrt_rom
from models.bn_ref import bn_forward, from_bits16, recip_f32, rsqrt_f16
from tb.units import UNITS, run_unit


@pytest.mark.timeout(900)
@pytest.mark.parametrize("unit,n_tests", [("bn_unit", 4), ("bn_ops", 4)])
def test_bn_rtl(unit, n_tests):
    tests, failed = run_unit(UNITS[unit])
    assert tests == n_tests and failed == 0


def test_rsqrt_model_error():
    """The model's rsqrt is correctly rounded: within 0.5 ULP of float64
    1/sqrt on a spread of normal and subnormal binary16 inputs (the RTL is
    checked bit-exact against it on all 2^16 inputs)."""
    rng = np.random.default_rng(0)
    a = np.unique(rng.integers(1, 0x7C00, 3000, dtype=np.uint16))
    a = np.concatenate([a, np.arange(1, 64, dtype=np.uint16), np.array([0x3C00, 0x7BFF], np.uint16)])
    x = from_bits16(a).astype(np.float64)
    r = rsqrt_f16(from_bits16(a)).astype(np.float64)
    exact = 1.0 / np.sqrt(x)
    r16 = r.astype(np.float16)
    for direction in (np.inf, -np.inf):     # no binary16 neighbour is closer
        nb = np.nextafter(r16, np.float16(direction)).astype(np.float64)
        assert np.all(np.abs(r - exact) <= np.abs(nb - exact))


def test_recip_model():
    for n in (1, 2, 3, 7, 300, 675, 1 << 17, 98304, (1 << 24) - 1):
        r = recip_f32(n)
        assert abs(float(r) - 1.0 / n) <= np.spacing(r) / 2


def test_bn_model_matches_float32():
    """bn_forward on random data is within a few binary16 ULPs of float64 BN."""
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(1000) * 2 + 0.5).astype(np.float16)
    r = bn_forward(x, np.float16(1.0), np.float16(0.0), relu=False)
    x64 = x.astype(np.float64)
    ref = (x64 - x64.mean()) / np.sqrt(x64.var() + 1e-5)
    assert np.max(np.abs(r["xhat"].astype(np.float64) - ref)) < 8 * 2.0 ** -11 * (1 + np.abs(ref).max())
    assert abs(float(r["mu"]) - x64.mean()) <= 2.0 ** -11 * abs(x64.mean()) + 2.0 ** -20


def test_rsqrt_rom_is_current():
    """rtl/bn/bn_rsqrt_rom.v is what models/bn_rsqrt_rom.py generates."""
    assert bn_rsqrt_rom.RTL.read_text() == bn_rsqrt_rom.rom_verilog()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("unit", ["bn_stat_exact", "bn_stat_exact_l1"])
def test_bn_stat_rtl(unit):
    """BN STAT with exact, order-free statistics (rtl/bn/bn_stat_exact.v): 4
    lanes with a 24-bit count, and 1 lane with a 12-bit count (where the count
    overflow is reachable); every channel bit-exact vs bn_ref._stats_exact."""
    tests, failed = run_unit(UNITS[unit])
    assert tests == 9 and failed == 0
