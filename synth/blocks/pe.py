"""INT8 PE array (rtl/pe_array, paper 004): one 3-MAC PE, and the 16 x 32 array
hierarchically: the PE synthesized once (block `pe`), the array's glue (input
and operand registers, per-row control copies, tile control, drain requests,
the output FIFO and requantizers) synthesized with the PE as a blackbox whose
stub carries the PE's boundary timing (synth/macros.py); every PE port is
registered, so the stub has no input-to-output arc. Area and power = glue +
512 x PE; fmax from the glue's STA (paths into and out of the PE stubs
included); the array's clock is the lower of that and the PE's fmax.
Activity: the PE from a zero-delay gate-level simulation of its netlist under
tb/test_pe.py (the beats of three PEs of the 16 x 32 array, conv 16->16
3x3 FP/BP/WG on a real CIFAR-10 image); the glue from the RTL SAIF of the
array's cocotb test_layers (tb/test_pe_array.py, same layer, 16 x 16 crop).
pe_array alone takes about 19 min here (load 3-5 on 2 cores: Yosys 13 min, STA
40 s, the RTL activity run the rest): the full run starts it (after `pe`) first."""

import importlib.util
import os

from synth.config import Block
from tb.units import UNITS

# Booth multipliers (`synth -booth`, Yosys >= 0.27: pyosys) take the PE from 742.6 to
# 785.2 MHz and 4,885 to 4,423 um^2 here; Debian's Yosys 0.23 has no -booth.
BOOTH = "-booth" if (importlib.util.find_spec("pyosys") is not None
                     and os.environ.get("SYNTH_YOSYS", "") != "debian") else ""

PE_SOURCES = UNITS["pe_array"].sources       # owner: tb/units_pe.py
ARRAY = dict(UNITS["pe_array"].parameters)      # 16 x 32 (owner: tb/units_pe.py)
TOP_SOURCES = UNITS["pe_top_4x8"].sources    # owner: tb/units_pe.py
TOP = dict(UNITS["pe_top_16x32"].parameters)   # bench-pe's buffers and streams (owner: tb/units_pe.py)
ENV = {"PE_LAYERS": "conv_16_16_3x3_s1", "PE_PHASES": "fp,bp,wg", "PE_SIDE": "16", "PE_N": "1",
       "PE_STALL": "0", "PE_IDLE": "0"}
DOC = ("cocotb test_layers (tb/test_pe_array.py) of the 16x32 array: conv 16->16 3x3 FP, BP and WG on a "
       "real CIFAR-10 image (16x16 crop), source always valid, sink always ready")

PE_ENV = {"PE_IDLE": "0", "PE_IDLE_RANDOM": "0"}
PE_DOC = ("cocotb test_cifar_beats (tb/test_pe.py) of ONE PE: the beats the schedule gives PEs (0,0), "
          "(7,13) and (15,31) of the 16x32 array for conv 16->16 3x3 FP, BP and WG on a real CIFAR-10 image "
          "(16x16 crop), one beat per clock, 4 idle clocks after each tile (operands held) and a shadow "
          "shift check every 7th tile; partial sums checked against PyTorch")

BLOCKS = [
    Block(name="pe", top="pe", sources=UNITS["pe"].sources, parameters=dict(UNITS["pe"].parameters), clock_ns=1.4,
          synth_opts=BOOTH, unit="pe", testcase="test_cifar_beats", env=PE_ENV,
          activity_level="gate", activity_doc=PE_DOC,
          op_signal="en", op_name="INT8 MAC", ops_per_valid=3, abc_quick=(0.6,),  # the search's winner
          paper="004: 3-MAC PE"),
    Block(name="pe_array", top="pe_array", sources=PE_SOURCES, parameters=ARRAY, clock_ns=1.4,
          submodules={"pe": "pe"}, macros=(), abc_targets=(1.0,), unit="pe_array", testcase="test_layers", env=ENV,
          activity_level="rtl", activity_doc=DOC,
          op_signal="exec", op_name="INT8 MAC", ops_per_valid=3 * 16 * 32,
          paper="004: 421 GOPS at 200 MHz, 43.18 GOPS/W (Virtex-7)"),
    # the array with its tiling controller and buffers, as `make bench-pe` runs it;
    # the array is block pe_array (a stub), the buffers SRAM macros: this times the
    # controller's and buffers' address and control paths. Power: the controller and
    # buffer logic from the RTL SAIF of unit pe_top_16x32 running 9 layers queued back
    # to back (loading overlaps computing, so the array is busy most of the run, as in
    # pe_array's own activity run, whose figure pe_array contributes); the SRAM macros
    # per access at the enables' measured duty.
    # About 8 min since pe_desc sequences the descriptor arithmetic (before, Yosys
    # had not finished it after 20 min at 8 GB), plus the activity run.
    Block(name="pe_top", top="pe_top", sources=TOP_SOURCES, parameters=TOP, clock_ns=1.4,
          submodules={"pe_array": "pe_array"}, abc_targets=(1.0,), max_fanout=16, in_all=False,
          unit="pe_top_16x32", testcase="test_back_to_back", activity_level="rtl",
          activity_doc=("cocotb test_back_to_back (tb/test_pe_top.py) of the 16x32 top at this configuration: "
                        "9 ResNet-20 layer/phase cases (3x3 s1/s2, 1x1 s2, FC; FP, BP, WG) on a real CIFAR-10 "
                        "image (16x16 crop) queued at once, a layer loading while the one before computes, "
                        "streams never idle, output never stalled; every result checked against PyTorch"),
          op_signal="u_arr/exec", op_name="INT8 MAC", ops_per_valid=3 * 16 * 32,
          paper="004: 421 GOPS at 200 MHz, 43.18 GOPS/W (Virtex-7)"),
]
