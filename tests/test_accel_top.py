"""The accelerator's system top (rtl/accel/accel_top.v) on Verilator: two training
iterations of the small network on 4 real CIFAR-10 images run by the RTL from its
command lists, the whole SDRAM image after each list byte for byte against
host/accel.ModelDevice; vector/FC chains on a noisy SDRAM, bad input, the write
guard and a reset mid-chain."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.timeout(1500)
def test_accel_top():
    tests, failed = run_unit(UNITS["accel_top"])
    assert tests == 5 and failed == 0
