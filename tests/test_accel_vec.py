"""The accelerator's vector engine (rtl/accel/accel_vec.v) and the DMA blocks
it uses on Verilator: every vector command of the small net's real training
iteration, whole SDRAM image exact against host/accel.ModelDevice, on a fast
and a noisy SDRAM, and after a reset in the middle of each command."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.timeout(1800)
def test_accel_vec():
    tests, failed = run_unit(UNITS["accel_vec"])
    assert tests == 4 and failed == 0
