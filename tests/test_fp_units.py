"""Builds fp_add / fp_mul on Verilator and runs their cocotb tests: every
format at the default latency with the full random count (200k per op and
format), and every other latency (fp_add 0..4, fp_mul 0..5) with a shorter
random run. One build folder
per parameter set. Each unit also runs the library's failure-path tests
(test_stuck_ready, test_protocol_checker: a hang and a bad driver must fail
fast, naming the stream)."""

import pytest

from tb.units import fp_unit, run_unit

FULL = [(op, fmt, 3, 200_000) for op in ("add", "mul") for fmt in ("fp32", "fp16")]
LATENCY_SWEEP = [(op, fmt, lat, 10_000) for op in ("add", "mul") for fmt in ("fp32", "fp16")
                 for lat in (0, 1, 2, 4) + ((5,) if op == "mul" else ())]


# build (about 30 s) and the run (40 s for 200k vectors on one core), with a wide margin
@pytest.mark.timeout(900)
@pytest.mark.parametrize("op,fmt,latency,vectors", FULL + LATENCY_SWEEP,
                         ids=lambda v: str(v))
def test_fp_unit(op, fmt, latency, vectors):
    tests, failed = run_unit(fp_unit(op, fmt, latency, vectors))
    assert tests == 7 and failed == 0
