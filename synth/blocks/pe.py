"""INT8 PE array (rtl/pe_array, paper 004): one 3-MAC PE, and the 16 x 32 array
hierarchically: the PE synthesized once (block `pe`), the array's glue (input
registers, tile control, output bank, requantizers) synthesized with the PE as a
blackbox whose stub carries the PE's boundary timing (synth/macros.py); area and
power = glue + 512 x PE; fmax from the glue's STA, paths through the PE stubs
included. Activity: RTL SAIF of the array's cocotb test_layers on real CIFAR-10
layer data (tb/test_pe_rtl.py, 16 x 16 crops, FP/BP/WG of the 16-channel 3x3
layer); the PE's is the average over all 512 PEs of that run.
pe_array is not in the plain `make synth` run: its glue takes about 30 min to
synthesize here and OpenSTA 2.0.17 did not finish timing it with the 512 PE
stubs in 20 min; `make synth BLOCK=pe_array` runs it alone."""

from synth.config import Block
from tb.units import UNITS

PE_SOURCES = UNITS["pe_array"].sources       # owner: tb/units_pe.py
ARRAY = {"ROWS": 16, "COLS": 32, "OUT_ROWS": 2, "ACC_W": 32}
ENV = {"PE_LAYERS": "conv_16_16_3x3_s1", "PE_PHASES": "fp,bp,wg", "PE_SIDE": "16", "PE_N": "1",
       "PE_STALL": "0", "PE_IDLE": "0", "COCOTB_TEST_FILTER": r"\.test_layers$"}
DOC = ("cocotb test_layers (tb/test_pe_rtl.py) of the 16x32 array: conv 16->16 3x3 FP, BP and WG on a "
       "real CIFAR-10 image (16x16 crop), source always valid, sink always ready")

BLOCKS = [
    Block(name="pe", top="pe", sources=("pe_array/pe.v",), parameters={"ACC_W": 32}, clock_ns=1.4,
          unit="pe_array", env=ENV, activity_level="rtl", activity_scope="pe_array/gen_row[*]/gen_col[*]/u_pe",
          unit_parameters=ARRAY, activity_doc=DOC + "; averaged over the 512 PEs",
          op_signal="en", op_name="INT8 MAC", ops_per_valid=3,
          paper="004: 3-MAC PE"),
    Block(name="pe_array", top="pe_array", sources=PE_SOURCES, parameters=ARRAY, clock_ns=1.4,
          submodules={"pe": "pe"}, macros=(), abc_targets=(1.0,), unit="pe_array", env=ENV,
          activity_level="rtl", activity_doc=DOC,
          op_signal="exec", op_name="INT8 MAC", ops_per_valid=3 * 16 * 32, in_all=False,
          paper="004: 421 GOPS at 200 MHz, 43.18 GOPS/W (Virtex-7)"),
]
