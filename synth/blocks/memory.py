"""Training-vector memory (rtl/memory): the double buffer at the test's small
geometry (4 slots x 4 vectors x 16 words; its SRAM banks are ram_1r1w macros) and the
unified baseline. Activity: the units' streaming test (MNIST-pixel vectors,
compute backpressure, SDRAM jitter and refresh)."""

from synth.config import Block
from tb.units import UNITS
from tb.units_memory import MEM_SOURCES      # what the units simulate (owner: tb/units_memory.py)

DOC = "cocotb test_stream of tb/test_memory_ctrl.py, 500 MNIST-pixel vectors, backpressure, SDRAM jitter/refresh"

# abc_quick / yosys: the winner of `make synth SEARCH=1` (2026-11-22)
BLOCKS = [
    # parameters: the activity unit's (declared once, in tb/units_memory.py), run tags included
    Block(name="mem_dbuf_4x4x16", top="mem_ctrl", sources=MEM_SOURCES,
          parameters=dict(UNITS["mem_dbuf"].parameters),
          clock_ns=2.0, unit="mem_dbuf", testcase="test_stream", env={"MEM_VECS": "500"},
          activity_doc=DOC, op_signal="m_valid", op_name="word delivered",
          paper="000 III-C distributed memory (18.42 ns per access)", abc_quick=(0.6,), yosys="debian"),
    Block(name="mem_unified", top="mem_ctrl", sources=MEM_SOURCES,
          parameters=dict(UNITS["mem_unified"].parameters),
          clock_ns=2.0, unit="mem_unified", testcase="test_stream", env={"MEM_VECS": "500"},
          activity_doc=DOC, op_signal="m_valid", op_name="word delivered",
          paper="000 III-C unified memory (52.82 ns per access)", abc_quick=(0.6,), yosys="debian"),
]
