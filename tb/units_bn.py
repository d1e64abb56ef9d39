"""Units of the FP16 batch-norm block (rtl/bn)."""

from tb.units import COMMON_FP, Unit

BN_OPS = ("bn/bn_rsqrt_rom.v", "bn/bn_rsqrt.v", "bn/bn_recip.v", "bn/bn_f16_to_f32.v",
          "bn/bn_f32_to_f16.v")
BN_SOURCES = COMMON_FP + ("common/fp_add.v", "common/fp_mul.v") + BN_OPS + ("bn/bn_unit.v",)


UNITS = {
    "bn_unit": Unit(toplevel="bn_unit", sources=BN_SOURCES, test_module="test_bn_unit",
                    parameters={"NW": 24},
                    doc="FP16 batch-norm unit, FP/BP on CIFAR-10 conv1 feature maps"),
    "bn_ops": Unit(toplevel="bn_ops_harness", sources=COMMON_FP + BN_OPS + ("bn/bn_ops_harness.v",),
                   test_module="test_bn_ops",
                   doc="rsqrt, fp16<->fp32 conversions, 1/n: exhaustive or edge + random"),
}
