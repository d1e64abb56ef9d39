"""pe_top's result side band (m_pos_*) on Verilator: every result beat of
every mode pe_ctrl runs against the schedule's map, and the results placed
by the side band alone equal PyTorch's tensor (tb/units_pe_place.py)."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.timeout(900)
def test_pe_place():
    tests, failed = run_unit(UNITS["pe_top_place_4x8"])
    assert tests == 1 and failed == 0
