"""Units of the accelerator's FC engine (rtl/accel/accel_fc.v): FC_FP and FC_BP of
the small net's real iteration and random shapes against host/accel.ModelDevice,
the whole SDRAM image byte for byte; at LANES 4 with ResNet-20's buffers and at
LANES 8 with small buffers and a 24-bit SDRAM address."""

from tb.units import Unit

ACCEL_FC = ("common/stream_check.v", "common/lzc.v", "common/pipe_stage.v", "accel/i32_to_f16.v",
            "accel/f16_to_i8.v", "accel/amax_track.v", "accel/accel_rd.v", "accel/accel_fc.v")


def fc_unit(aw, lanes, max_n, max_c, max_k):
    return Unit(
        toplevel="accel_fc",
        sources=ACCEL_FC,
        # the package path: tests/test_accel_fc.py (the pytest) would shadow a bare name
        test_module="tb.test_accel_fc",
        parameters={"AW": aw, "MAX_OPS": 12, "LANES": lanes, "MAX_N": max_n, "MAX_C": max_c, "MAX_K": max_k},
        # tb/test_accel_fc.py reads the buffer sizes from these (tb.units.Unit.param_env)
        param_env={"MAX_N": "FC_MAX_N", "MAX_C": "FC_MAX_C", "MAX_K": "FC_MAX_K"},
        doc=f"FC engine, {lanes} MACs, buffers N {max_n} C {max_c} K {max_k}: FC_FP / FC_BP bit-exact vs "
            "ModelDevice, status 3 and 4, resets, SDRAM noise",
    )


UNITS = {
    "accel_fc": fc_unit(32, 4, 128, 64, 16),
    "accel_fc_l8": fc_unit(24, 8, 8, 64, 16),
}
