"""The accelerator's vector engine (rtl/accel/accel_vec.v) and the DMA blocks
it uses on Verilator: every vector command of the small net's real training
iteration, whole SDRAM image exact against host/accel.ModelDevice, on a fast
and a noisy SDRAM, and after a reset in the middle of each command; odd
shapes on random data. Unit accel_dma: accel_rd x3 on accel_rd_arb and 3
streams on accel_wr_arb (accel_vec_dma_harness), traffic and resets."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("unit,n_tests", [("accel_vec", 4), ("accel_dma", 2)])
def test_accel_vec(unit, n_tests):
    tests, failed = run_unit(UNITS[unit])
    assert tests == n_tests and failed == 0
