"""The accelerator's FC engine (rtl/accel/accel_fc.v) on Verilator: the small net's
FC_FP and FC_BP of a real CIFAR-10 iteration, random and ResNet-20 shapes, inf/NaN
inputs, too-big shapes and resets mid-command, the whole SDRAM image against
host/accel.ModelDevice."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("unit", ["accel_fc", "accel_fc_l8"])
def test_accel_fc(unit):
    tests, failed = run_unit(UNITS[unit])
    assert tests == 6 and failed == 0
