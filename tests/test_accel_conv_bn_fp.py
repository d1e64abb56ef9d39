"""The accelerator's CONV_BN_FP engine (rtl/accel/accel_conv_bn_fp.v) on Verilator:
every CONV_BN_FP command of the small net's real CIFAR-10 iteration, inf in x,
layers it refuses, resets mid-command, the whole SDRAM image against
host/accel.ModelDevice."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.timeout(1200)
def test_accel_conv_bn_fp():
    tests, failed = run_unit(UNITS["accel_conv_bn_fp"])
    assert tests == 6 and failed == 0
