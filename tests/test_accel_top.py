"""The accelerator's system top (rtl/accel/accel_top.v) on Verilator: every chain of
consecutive engine commands of one and of two training iterations of the small
network on real CIFAR-10 images, byte for byte over the whole SDRAM against
host/accel.ModelDevice; bad input, the write guard and a reset mid-chain."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.timeout(1200)
def test_accel_top():
    tests, failed = run_unit(UNITS["accel_top"])
    assert tests == 5 and failed == 0
