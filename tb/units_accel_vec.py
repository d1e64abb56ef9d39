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
    "accel_dma": Unit(
        toplevel="accel_vec_dma_harness",
        sources=("common/stream_check.v", "accel/accel_rd.v", "accel/accel_rd_arb.v", "accel/accel_wr_arb.v",
                 "accel/accel_vec_dma_harness.v"),
        test_module="tb.test_accel_vec",
        # 3 readers and streams, AW 24, FIFO 16 words, requests of up to 8, 4 in flight
        parameters={"N": 3, "AW": 24, "FIFO_WORDS": 16, "MAX_LEN": 8, "DEPTH": 4},
        env={"VEC_UNIT": "dma", "DMA_N": "3", "DMA_MAX_LEN": "8"},
        doc="DMA blocks: accel_rd x3 on accel_rd_arb, 3 streams on accel_wr_arb, noisy SDRAM, resets",
    ),
}
