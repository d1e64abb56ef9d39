"""FP32 adder and multiplier (rtl/common), LATENCY 3 (default) and 4.
Activity: the units' random-vector test (tb/fp_vectors.random_pairs: uniform bit
patterns mixed with near-1.0, subnormal, alignment-window and overflow classes),
streaming back to back with the sink always ready."""

from synth.config import Block
from tb.units import UNITS, fp_unit

DOC = ("cocotb test_random/flow=0 (streaming, m_ready=1) of tb/test_fp_unit.py, "
       "10k random operand pairs from tb/fp_vectors.random_pairs (mixed classes)")

# the ABC target (fraction of the clock) and Yosys build that won `make synth SEARCH=1`
# (2026-11-22: Yosys 0.23 maps the adders 100-170 MHz faster, pyosys 0.70 the multipliers)
QUICK = {("add", 3): ((0.6,), "debian"), ("add", 4): ((0.6,), "debian"),
         ("mul", 3): ((0.8,), ""), ("mul", 4): ((0.8,), ""), ("mul", 5): ((0.8,), "")}

BLOCKS = [
    Block(name=f"fp_{op}{'' if lat == 3 else f'_l{lat}'}", top=f"fp_{op}",
          sources=UNITS[f"fp_{op}"].sources,
          parameters=fp_unit(op, "fp32", lat).parameters, clock_ns=1.6,
          unit=f"fp_{op}", testcase="test_random/flow=0",
          # the unit at this latency's environment (FP_LATENCY derived from LATENCY): the
          # gate-level run takes the registered unit's env with these overrides
          env={**fp_unit(op, "fp32", lat).env, "FP_VECTORS": "20000"}, activity_doc=DOC,
          op_signal="m_valid", op_name=f"FP32 {op}", paper="Table I (FP32 neuron, 250 MHz)",
          abc_quick=QUICK[op, lat][0], yosys=QUICK[op, lat][1])
    for op, lat in QUICK
]
