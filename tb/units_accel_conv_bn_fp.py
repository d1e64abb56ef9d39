"""Unit of the accelerator's CONV_BN_FP engine (rtl/accel/accel_conv_bn_fp.v:
pe_top + converters + bn_rows): every CONV_BN_FP command of the small net's
real iteration against host/accel.ModelDevice, the whole SDRAM image byte for
byte. pe_top's and bn_rows's source lists come from their registries."""

from tb.units import Unit
from tb.units_bn_rows import BN_ROWS_SOURCES
from tb.units_pe import TOP_SOURCES


def _sources():
    out = []
    for s in (("common/stream_check.v", "common/lzc.v", "common/pipe_stage.v") + TOP_SOURCES + BN_ROWS_SOURCES
              + ("accel/i32_to_f16.v", "accel/f16_to_i8.v", "accel/amax_track.v", "accel/accel_conv_bn_fp.v")):
        if s not in out:
            out.append(s)
    return tuple(out)


ACCEL_CONV_BN_FP = _sources()

UNITS = {
    "accel_conv_bn_fp": Unit(
        toplevel="accel_conv_bn_fp",
        sources=ACCEL_CONV_BN_FP,
        # the package path: tests/test_accel_conv_bn_fp.py (the pytest) would shadow a bare name
        test_module="tb.test_accel_conv_bn_fp",
        parameters={"AW": 32, "MAX_OPS": 12, "ROWS": 16, "COLS": 32, "OUT_ROWS": 2, "IDEPTH": 4096,
                    "WDEPTH": 1024, "MAX_M": 64, "NW": 24},
        param_env={"IDEPTH": "CBF_IDEPTH"},
        # test_layer_order left out for the CI budget: the reset test runs an 8 x 8 layer, then
        # 16 x 16 ones, on the array's buffers as the 8 x 8 layer left them (a reset keeps RAM)
        env={"CBF_ONLY": "test_small_net,test_small_net_noisy,test_nonfinite,test_refused,test_reset_midcommand"},
        doc="CONV_BN_FP engine (16x32 pe_top, bn_rows 2 lanes): the small net's 5 commands bit-exact vs "
            "ModelDevice, status 3 and 4, resets, SDRAM noise",
    ),
    # a small array (4 x 8, one PE row per result beat: 4 beats a tile, 8 result lanes): every
    # test; the CI runs this one (a quarter of the 16 x 32 build), the system top runs 8 x 32
    "accel_conv_bn_fp_4x8": Unit(
        toplevel="accel_conv_bn_fp",
        sources=ACCEL_CONV_BN_FP,
        test_module="tb.test_accel_conv_bn_fp",
        parameters={"AW": 32, "MAX_OPS": 12, "ROWS": 4, "COLS": 8, "OUT_ROWS": 1, "IDEPTH": 4096,
                    "WDEPTH": 1024, "MAX_M": 16, "NW": 24},
        param_env={"IDEPTH": "CBF_IDEPTH"},
        # test_layer_order (an 8 x 8 layer, then a 16 x 16 one) is left to accel_top's
        # test_train_step, whose second iteration runs that order on the system
        env={"CBF_ONLY": "test_small_net,test_small_net_noisy,test_nonfinite,test_refused,test_reset_midcommand"},
        doc="CONV_BN_FP engine on a 4x8 pe_top (1 PE row per beat): the small net's 5 commands, noisy "
            "SDRAM, status 3 and 4, resets",
    ),
}
