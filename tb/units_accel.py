"""Units of the accelerator's system block (rtl/accel): the number converters
(i32_to_f16, f16_to_i8, amax_track) side by side in accel_conv_harness."""

from tb.units import Unit

ACCEL_CONV = ("common/lzc.v", "common/pipe_stage.v", "accel/i32_to_f16.v", "accel/f16_to_i8.v",
              "accel/amax_track.v")


def conv_unit(lanes):
    return Unit(toplevel="accel_conv_harness", sources=ACCEL_CONV + ("accel/accel_conv_harness.v",),
                test_module="test_accel_conv", parameters={"LANES": lanes},
                env={"ACCEL_LANES": str(lanes)},
                doc=f"INT32 -> FP16, FP16 -> INT8 and the amax tracker at {lanes} lanes, exact vs "
                    "models/accel_num")


UNITS = {
    "accel_conv": conv_unit(4),
    "accel_conv_l16": conv_unit(16),
}
