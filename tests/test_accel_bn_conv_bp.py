"""The accelerator's BN_CONV_BP engine (rtl/accel/accel_bn_conv_bp.v) on Verilator:
every BN_CONV_BP command of the small net's real CIFAR-10 iteration, noisy
SDRAM, an inf in dy / NaN in x, refused layers, resets mid-command, the whole SDRAM image against
host/accel.ModelDevice."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.timeout(1200)
def test_accel_bn_conv_bp():
    tests, failed = run_unit(UNITS["accel_bn_conv_bp"])
    assert tests == 5 and failed == 0
