"""Units of the stream-level BN unit (rtl/bn/bn_rows.v: bn_stat_exact and a
bn_core per lane), exact against models/accel.batch_norm_fp / batch_norm_bp."""

from tb.units import COMMON_FP, Unit

BN_ROWS_SOURCES = COMMON_FP + ("common/fp_add.v", "common/fp_mul.v", "common/stream_check.v",
                               "bn/bn_fx_to_f16.v", "bn/bn_stat_div.v", "bn/bn_stat_exact.v",
                               "bn/bn_rsqrt_rom.v", "bn/bn_rsqrt.v", "bn/bn_core.v", "bn/bn_rows.v")

UNITS = {
    "bn_rows": Unit(
        toplevel="bn_rows", sources=BN_ROWS_SOURCES,
        # the package path: tests/test_bn_rows.py (the pytest) would shadow a bare name
        test_module="tb.test_bn_rows",
        parameters={"LANES": 4, "NW": 24, "MAX_C": 64},
        doc="BN unit, stream level: exact statistics and 4 BN Cores, FP and BP, 64 channels"),
    "bn_rows_l1": Unit(
        toplevel="bn_rows", sources=BN_ROWS_SOURCES, test_module="tb.test_bn_rows",
        parameters={"LANES": 1, "NW": 16, "MAX_C": 8},
        # every other channel of the CIFAR layers (1 lane: four times the beats); ids wrap at 8
        env={"BNR_CH_STEP": "2"},
        doc="BN unit, stream level: 1 lane, NW 16, 8 channels (ids wrap)"),
}
