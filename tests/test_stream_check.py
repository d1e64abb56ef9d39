"""The RTL's port checker (rtl/common/stream_check.v) fires: each broken rule
stops the simulation with its message, and a legal stream passes. One test
(the cases share a build, which parallel workers must not make twice)."""

import pytest

from tb.units import UNITS, run_unit

BROKEN = [("test_valid_drop", "m_valid dropped while m_ready was low"),
          ("test_data_change", "m data changed while m_ready was low"),
          ("test_valid_in_reset", "m_valid high in reset")]


@pytest.mark.timeout(600)
def test_stream_check(capfd):
    assert run_unit(UNITS["stream_check"], testcase="test_legal") == (1, 0)
    for case, message in BROKEN:
        # the failed assertion stops Verilator ($error, then $stop): the run exits
        # non-zero, and its output holds the checker's message
        capfd.readouterr()
        with pytest.raises(RuntimeError, match="return code"):
            run_unit(UNITS["stream_check"], testcase=case)
        out = capfd.readouterr()
        text = out.out + out.err
        assert f"Assertion failed in stream_check: stream_check: {message}" in text, f"{case}: no message"
        assert "did not fire" not in text, case
