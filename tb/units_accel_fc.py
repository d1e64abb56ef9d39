"""Unit of the accelerator's FC engine (rtl/accel/accel_fc.v): FC_FP and FC_BP of
the small net's real iteration and random shapes against host/accel.ModelDevice,
the whole SDRAM image byte for byte."""

from tb.units import Unit

ACCEL_FC = ("common/stream_check.v", "common/lzc.v", "common/pipe_stage.v", "accel/i32_to_f16.v",
            "accel/f16_to_i8.v", "accel/amax_track.v", "accel/accel_rd.v", "accel/accel_fc.v")

UNITS = {
    "accel_fc": Unit(
        toplevel="accel_fc",
        sources=ACCEL_FC,
        # the package path: tests/test_accel_fc.py (the pytest) would shadow a bare name
        test_module="tb.test_accel_fc",
        parameters={"AW": 32, "MAX_OPS": 12, "LANES": 4, "MAX_N": 128, "MAX_C": 64, "MAX_K": 16},
        doc="FC engine: FC_FP / FC_BP bit-exact vs ModelDevice, status 3 and 4, resets, SDRAM noise",
    ),
}
