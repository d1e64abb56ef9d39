"""The accelerator's CONV_BN_FP engine (rtl/accel/accel_conv_bn_fp.v) on Verilator:
every CONV_BN_FP command of the small net's real CIFAR-10 iteration, inf in x,
layers it refuses, resets in each phase, the whole SDRAM image against
host/accel.ModelDevice, on a 4 x 8 array (unit accel_conv_bn_fp, 16 x 32, is the
same bench on the paper's array: `make sim TOPLEVEL=accel_conv_bn_fp`)."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.timeout(1200)
def test_accel_conv_bn_fp_4x8():
    tests, failed = run_unit(UNITS["accel_conv_bn_fp_4x8"])
    assert tests == 5 and failed == 0
