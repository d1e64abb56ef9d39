"""Unit of the accelerator's BN_CONV_BP engine (rtl/accel/accel_bn_conv_bp.v:
bn_rows BP passes + pe_top BP 3x3 and WG 3x3 + converters): every BN_CONV_BP
command of the small net's real iteration against host/accel.ModelDevice, the
whole SDRAM image byte for byte. pe_top's and bn_rows's source lists come from
their registries."""

from tb.units import Unit
from tb.units_bn_rows import BN_ROWS_SOURCES
from tb.units_pe import TOP_SOURCES


def _sources():
    out = []
    for s in (("common/stream_check.v", "common/lzc.v", "common/pipe_stage.v") + TOP_SOURCES + BN_ROWS_SOURCES
              + ("accel/i32_to_f16.v", "accel/f16_to_i8.v", "accel/amax_track.v", "accel/accel_bn_conv_bp.v")):
        if s not in out:
            out.append(s)
    return tuple(out)


ACCEL_BN_CONV_BP = _sources()

UNITS = {
    "accel_bn_conv_bp": Unit(
        toplevel="accel_bn_conv_bp",
        sources=ACCEL_BN_CONV_BP,
        # the package path: tests/test_accel_bn_conv_bp.py (the pytest) would shadow a bare name
        test_module="tb.test_accel_bn_conv_bp",
        # 8 x 32: half the 16 x 32 build; it still maps the small net's stride-2 WG 3x3 with
        # dout on the rows (pe_array.wg3_transposed), the mapping this engine builds
        parameters={"AW": 32, "MAX_OPS": 12, "ROWS": 8, "COLS": 32, "OUT_ROWS": 2, "IDEPTH": 4096,
                    "WDEPTH": 1024, "MAX_M": 64, "NW": 24},
        doc="BN_CONV_BP engine (bn_rows 2 lanes BP, 8x32 pe_top BP 3x3 + WG 3x3): the small net's 5 "
            "commands bit-exact vs ModelDevice, status 4, reset, SDRAM noise",
    ),
}
