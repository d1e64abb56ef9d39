"""The accelerator's number converters (rtl/accel: i32_to_f16, f16_to_i8,
amax_track) on Verilator, exact against models/accel_num, at 4 and 16 lanes."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.timeout(900)
@pytest.mark.parametrize("unit,n_tests", [("accel_conv", 8), ("accel_conv_l16", 8)])
def test_accel_conv(unit, n_tests):
    tests, failed = run_unit(UNITS[unit])
    assert tests == n_tests and failed == 0
