"""Simulation units of the PE array (rtl/pe_array): the default 16 x 32 array
and a 4 x 8 array for fast sweeps; pe_top (tiling controller + buffers +
array, tensors in) on a 4 x 8 and a 3 x 5 array. The cocotb modules read
their shape and run configuration from the environment (see
tb/test_pe_array.py, tb/test_pe_top.py, tb/test_pe.py)."""

from tb.units import Unit


def pe_env(params):
    """Every HDL parameter reaches the testbench as PE_<NAME> (tb.units.Unit.param_env)."""
    return {k: f"PE_{k}" for k in params}

PE_SOURCES = ("pe_array/pe.v", "pe_array/pe_requant.v", "pe_array/pe_array.v")


def pe_unit(rows=16, cols=32, out_rows=2, acc_w=32, **env):
    """env: PE_SIDE, PE_N, PE_LAYERS, PE_PHASES, PE_STALL, PE_IDLE, PE_REPORT."""
    return Unit(
        toplevel="pe_array",
        sources=PE_SOURCES,
        test_module="tb.test_pe_array",
        parameters={"ROWS": rows, "COLS": cols, "OUT_ROWS": out_rows, "ACC_W": acc_w},
        param_env=pe_env(("ROWS", "COLS", "OUT_ROWS", "ACC_W")),
        env={k: str(v) for k, v in env.items()},
        doc=f"{rows}x{cols} 3-MAC PE array, INT8 FP/BP/WG",
    )


UNITS = {
    # the tests' sim-time backstops are sized for 4 x 8 on an 8 x 8 crop (TB_TIMEOUT_SCALE)
    "pe_array": pe_unit(16, 32, PE_SIDE=16, PE_N=1, PE_STALL=0.3, TB_TIMEOUT_SCALE=20),
    "pe_array_4x8": pe_unit(4, 8, PE_SIDE=8, PE_N=2, PE_STALL=0.3),
    # one PE row per group (3 groups), odd columns: the drain rule's corner where the
    # previous tile's last group is captured the clock before the next tile's first
    "pe_array_3x5": pe_unit(3, 5, out_rows=1, PE_SIDE=8, PE_N=1, PE_STALL=0.3, PE_IDLE=0.1),
    # 5 groups: the drain rule's "at most 3 groups left" limit binds only when 4 or 5
    # groups wait with none requested (with more, the FIFO-room condition holds the
    # last beat longer); 4 x 8 and 3 x 5 never have more than 3 groups
    "pe_array_5x4": pe_unit(5, 4, out_rows=1, PE_SIDE=8, PE_N=1, PE_STALL=0.3, PE_IDLE=0.1),
}

TOP_SOURCES = PE_SOURCES + ("common/ram_1r1w.v", "common/add_ks.v", "pe_array/pe_load_frame.v", "pe_array/pe_ibuf.v",
                            "pe_array/pe_wbuf.v", "pe_array/pe_desc_dec.v", "pe_array/pe_desc.v", "pe_array/pe_ctrl.v",
                            "pe_array/pe_top.v")


def pe_top_unit(rows=4, cols=8, out_rows=2, acc_w=32, idepth=1024, wdepth=2048, walk=4, act_bytes=16,
                wgt_words=12, **env):
    """pe_top (controller + buffers + array). env: PE_SIDE, PE_N, PE_CASES,
    PE_STALL, PE_IDLE, PE_REPORT (see tb/test_pe_top.py)."""
    return Unit(
        toplevel="pe_top",
        sources=TOP_SOURCES,
        test_module="test_pe_top",
        parameters={"ROWS": rows, "COLS": cols, "OUT_ROWS": out_rows, "ACC_W": acc_w,
                    "IDEPTH": idepth, "WDEPTH": wdepth, "WALK": walk, "ACT_BYTES": act_bytes,
                    "WGT_WORDS": wgt_words},
        param_env=pe_env(("ROWS", "COLS", "OUT_ROWS", "ACC_W", "IDEPTH", "WDEPTH", "ACT_BYTES", "WGT_WORDS")),
        env={k: str(v) for k, v in env.items()},
        doc=f"{rows}x{cols} PE array with tiling controller and buffers, {act_bytes} B / {wgt_words} words per beat",
    )


# make bench-pe's pe_top buffers (bench/pe.py; also synth block pe_top)
BENCH_IDEPTH, BENCH_WDEPTH = 12288, 2048

# wide streams: 16 bytes / 6 kernel-row words (2 kernels) per beat
UNITS["pe_top_4x8"] = pe_top_unit(4, 8, idepth=2048, act_bytes=16, wgt_words=6, PE_SIDE=8, PE_N=2, PE_STALL=0.3, PE_IDLE=0.1)
# non-power-of-two rows and columns: partial row blocks, the cyclic bank rotation wraps mid-array;
# 1 byte / 1 word per beat; conv_32_64's weights (704 kernel slots) fit the buffer, not half of it
UNITS["pe_top_3x5"] = pe_top_unit(3, 5, out_rows=1, walk=5, wdepth=2304, act_bytes=1, wgt_words=1, PE_SIDE=8, PE_N=1, PE_STALL=0.3, PE_IDLE=0.1,
                                  PE_CASES="conv_16_16_3x3_s1:fp,conv_16_16_3x3_s1:bp,conv_16_32_3x3_s2:fp,"
                                           "conv_16_32_3x3_s2:bp,shortcut_16_32_1x1_s2:fp,shortcut_16_32_1x1_s2:bp,"
                                           "fc_64_10:fp,fc_64_10:bp,conv_16_16_3x3_s1:wg,conv_16_32_3x3_s2:wg,"
                                           "shortcut_16_32_1x1_s2:wg,fc_64_10:wg")

# the synthesized configuration (synth block pe_top; make bench-pe's buffers and streams) on a 16 x 16
# CIFAR-10 crop, streams never idle, output never stalled: pe_top's activity run (test_back_to_back)
UNITS["pe_top_16x32"] = pe_top_unit(16, 32, idepth=BENCH_IDEPTH, wdepth=BENCH_WDEPTH, act_bytes=16, wgt_words=12,
                                    PE_SIDE=16, PE_N=1, PE_STALL=0, PE_IDLE=0, TB_TIMEOUT_SCALE=10,
                                    PE_CASES="conv_16_16_3x3_s1:fp,conv_16_16_3x3_s1:bp,conv_16_16_3x3_s1:wg")

# ONE PE on the beats the schedule gives PEs of the 16 x 32 array (conv 16->16 3x3 FP, BP, WG
# on a 16 x 16 CIFAR-10 crop); the `pe` synthesis block's gate-level activity run (PE_IDLE=0)
UNITS["pe"] = Unit(
    toplevel="pe",
    sources=("pe_array/pe.v",),
    test_module="tb.test_pe",
    parameters={"ACC_W": 32},
    param_env=pe_env(("ACC_W",)),
    # PE_ROWS x PE_COLS: the array whose schedule gives the beats (not parameters of the PE)
    env={"PE_ROWS": "16", "PE_COLS": "32", "PE_SIDE": "16", "PE_N": "1",
         "PE_LAYERS": "conv_16_16_3x3_s1", "PE_PHASES": "fp,bp,wg", "PE_CELLS": "0,0;7,13;15,31",
         "PE_IDLE": "0.1"},
    doc="one 3-MAC PE on CIFAR-10 conv 16->16 beats (PEs (0,0), (7,13), (15,31) of 16x32)",
)

# one requantizer lane on every shift against models/quant.requantize
UNITS["pe_requant"] = Unit(
    toplevel="pe_requant",
    sources=("pe_array/pe_requant.v",),
    test_module="test_pe_requant",
    parameters={"ACC_W": 32},
    doc="INT32 -> INT8 requantizer lane, every shift, rounding and saturation boundaries",
)

# the controller's descriptor check alone against models/pe_array.ctrl_check:
# bench-pe's buffers on 16 x 32 (power-of-two shifts), and 3 x 5 (divisions)
def pe_desc_unit(rows, cols, idepth, wdepth, **env):
    qw = max(1, (idepth - 1).bit_length()) + 2     # pe_ctrl: IAW + 2
    return Unit(
        toplevel="pe_desc",
        sources=("common/add_ks.v", "pe_array/pe_desc_dec.v", "pe_array/pe_desc.v"),
        test_module="test_pe_desc",
        parameters={"ROWS": rows, "COLS": cols, "IDEPTH": idepth, "WDEPTH": wdepth, "QW": qw},
        param_env=pe_env(("ROWS", "COLS", "IDEPTH", "WDEPTH", "QW")),
        env={k: str(v) for k, v in env.items()},
        doc=f"pe_ctrl's descriptor check on {rows}x{cols}: counts, capacity and fit vs the integer model",
    )


UNITS["pe_desc"] = pe_desc_unit(16, 32, BENCH_IDEPTH, BENCH_WDEPTH)
# a weight buffer deep enough (16384) that WG 3x3 stride 2's 3c row items, not the words, hit their 16-bit limit
UNITS["pe_desc_w16k"] = pe_desc_unit(16, 32, BENCH_IDEPTH, 16384)
UNITS["pe_desc_3x5"] = pe_desc_unit(3, 5, 32768, 2304)    # 3 * IDEPTH > 2^16: 2w + 3 on 18 bits matters
