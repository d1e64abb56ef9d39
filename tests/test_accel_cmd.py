"""The accelerator's command front end (rtl/accel/accel_cmd.v) on Verilator: host/accel's
command lists for the small net and ResNet-20 decoded beat by beat against the Program,
bad input and 400 random corruptions against ModelDevice, the watchdog, resets mid-list."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.timeout(900)
def test_accel_cmd():
    tests, failed = run_unit(UNITS["accel_cmd"])
    assert tests == 6 and failed == 0
