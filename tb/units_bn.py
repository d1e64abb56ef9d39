"""Units of the FP16 batch-norm block (rtl/bn)."""

from tb.units import COMMON_FP, Unit

BN_OPS = ("bn/bn_rsqrt_rom.v", "bn/bn_rsqrt.v", "bn/bn_recip.v", "bn/bn_f16_to_f32.v",
          "bn/bn_f32_to_f16.v")
BN_SOURCES = COMMON_FP + ("common/fp_add.v", "common/fp_mul.v", "common/stream_check.v") + BN_OPS + ("bn/bn_unit.v",)


UNITS = {
    "bn_unit": Unit(toplevel="bn_unit", sources=BN_SOURCES, test_module="test_bn_unit",
                    parameters={"NW": 24},
                    doc="FP16 batch-norm unit, FP/BP on CIFAR-10 conv1 feature maps"),
    "bn_ops": Unit(toplevel="bn_ops_harness", sources=COMMON_FP + BN_OPS + ("bn/bn_ops_harness.v",),
                   test_module="test_bn_ops",
                   doc="rsqrt, fp16<->fp32 conversions, 1/n: exhaustive or edge + random"),
}

# BN STAT with exact, order-free statistics (rtl/bn/bn_stat_exact.v)
BN_STAT_SOURCES = ("common/lzc.v", "common/fp_round.v", "common/stream_check.v", "bn/bn_fx_to_f16.v",
                   "bn/bn_stat_div.v", "bn/bn_stat_exact.v")
UNITS.update({
    "bn_stat_exact": Unit(toplevel="bn_stat_exact", sources=BN_STAT_SOURCES, test_module="test_bn_stat",
                          parameters={"LANES": 4, "NW": 24},
                          doc="BN STAT, exact order-free sums and means, 4 lanes"),
    "bn_stat_exact_l1": Unit(toplevel="bn_stat_exact", sources=BN_STAT_SOURCES, test_module="test_bn_stat",
                             parameters={"LANES": 1, "NW": 12},
                             doc="BN STAT, exact order-free sums and means, 1 lane, NW 12 (count overflow)"),
})
