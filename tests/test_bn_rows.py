"""The stream-level BN unit (rtl/bn/bn_rows.v) on Verilator, exact against
models/accel.batch_norm_fp / batch_norm_bp on the small CI network's CIFAR-10
conv outputs and gradients, random channels and edge cases, at 4 lanes and 1."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("unit,n_tests", [("bn_rows", 5), ("bn_rows_l1", 5)])
def test_bn_rows(unit, n_tests):
    tests, failed = run_unit(UNITS[unit])
    assert tests == n_tests and failed == 0
