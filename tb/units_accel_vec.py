"""Unit of the accelerator's vector engine (rtl/accel/accel_vec.v, ops 2, 3, 6,
7, 9) with the DMA blocks it instantiates (accel_rd, accel_rd_arb,
accel_wr_arb): the small net's real iteration, command by command, whole
SDRAM image against host/accel.ModelDevice."""

from tb.units import COMMON_FP, Unit

UNITS = {
    "accel_vec": Unit(
        toplevel="accel_vec",
        sources=COMMON_FP + ("common/fp_add.v", "common/fp_mul.v", "common/stream_check.v",
                             "bn/bn_f16_to_f32.v", "bn/bn_f32_to_f16.v", "accel/amax_track.v",
                             "accel/accel_rd.v", "accel/accel_rd_arb.v", "accel/accel_wr_arb.v",
                             "accel/accel_vec_src.v", "accel/accel_vec_pack.v", "accel/accel_vec.v"),
        # the package path: tests/test_accel_vec.py (the pytest) would shadow a bare name
        test_module="tb.test_accel_vec",
        parameters={"AW": 32, "MAX_OPS": 12},
        doc="vector engine (ADD_RELU_FP, POOL_FP, POOL_BP, ADD_RELU_BP, ADD) + DMA readers/arbiters",
    ),
}
