"""Unit of the accelerator's system top (rtl/accel/accel_top.v): the command
front end, the dispatcher, the write guard and the engines, on the small
network's real training iterations against host/accel.ModelDevice."""

from tb.units import Unit
from tb.units_accel_bn_conv_bp import UNITS as CONV_BP
from tb.units_accel_cmd import UNITS as CMD
from tb.units_accel_conv_bn_fp import UNITS as CONV_FP
from tb.units_accel_fc import UNITS as FC
from tb.units_accel_vec import UNITS as VEC


def _union(*lists):
    out = []
    for sources in lists:
        out += [s for s in sources if s not in out]
    return tuple(out)


SOURCES = _union(CMD["accel_cmd"].sources, VEC["accel_vec"].sources, FC["accel_fc"].sources,
                 CONV_FP["accel_conv_bn_fp"].sources, CONV_BP["accel_bn_conv_bp"].sources,
                 ("accel/accel_top.v",))


def top_unit(rows, cols, out_rows, doc):
    return Unit(
        toplevel="accel_top",
        sources=SOURCES,
        test_module="tb.test_accel_top",
        parameters={"AW": 32, "MAX_CMDS": 10000, "ROWS": rows, "COLS": cols, "OUT_ROWS": out_rows,
                    "IDEPTH": 4096, "WDEPTH": 1024, "MAX_M": 64},
        doc=doc,
    )


UNITS = {
    # the CI configuration: an 8 x 32 array builds and simulates in about half the 16 x 32
    # one's time; smaller arrays would map the small net's stride-2 WG 3x3 with x on the rows
    # (pe_array.wg3_transposed), which accel_bn_conv_bp does not build yet (status 3)
    "accel_top": top_unit(8, 32, 2, "system top on an 8x32 array: two small-net training iterations on the RTL "
                          "vs ModelDevice (test_train_step), vector/FC chains on a noisy SDRAM, bad input, "
                          "the write guard, reset mid-chain"),
    "accel_top_16x32": top_unit(16, 32, 2, "system top on the paper's 16x32 array: the same tests"),
}
