"""Training-vector memory (rtl/memory): the cocotb units of tb/units_memory.py
(scoreboarded streams, reset mid-transfer with and without stale SDRAM bursts,
bad input) at read widths 1, 2, 4 and elaboration of
illegal parameter sets, which must stop with $fatal."""

import os
import subprocess

import pytest

from tb.units import BUILD, RTL, _tool_env, run_unit
from tb.units_memory import MEM_SOURCES, UNITS


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", sorted(UNITS))
def test_memory_unit(name):
    tests, failed = run_unit(UNITS[name])
    # test_reset_stale runs only where the unit has run tags
    assert tests == (4 if UNITS[name].parameters["TAGS"] == 1 else 3) and failed == 0


ILLEGAL = {
    "one_slot": ({"SLOTS": 1}, "SLOTS must be >= 2"),
    "one_word_vector": ({"VEC_WORDS": 1, "UNIFIED": 1}, "VEC_WORDS must be >= 2"),
    "rd_words_not_dividing": ({"VEC_WORDS": 18, "RD_WORDS": 4}, "RD_WORDS must be >= 1 and divide VEC_WORDS"),
}


@pytest.mark.parametrize("case", sorted(ILLEGAL))
def test_illegal_parameters(case):
    """Builds mem_ctrl with an illegal parameter set as a plain Verilator
    binary: it must stop at time 0 with the $fatal message."""
    params, message = ILLEGAL[case]
    _tool_env()
    out = BUILD / "sim" / f"mem_illegal_{case}"
    cmd = ["verilator", "--binary", "-Wno-fatal", "-Wno-lint", "-Wno-style", "--top-module", "mem_ctrl",
           "-Mdir", str(out), "-o", "Vsim", "-j", "1", "-CFLAGS", "-O0",
           *[f"-G{k}={v}" for k, v in params.items()], *[str(RTL / s) for s in MEM_SOURCES]]
    env = {**os.environ, "MAKEFLAGS": ""}
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    res = subprocess.run([str(out / "Vsim")], capture_output=True, text=True, timeout=60)
    assert res.returncode != 0, "elaboration with illegal parameters did not stop"
    assert message in res.stdout + res.stderr
