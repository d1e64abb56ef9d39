"""FP16 batch-norm unit (rtl/bn/bn_unit.v, paper 004 III-D). Yosys 0.23's
`share` pass does not finish on it: synthesized with `synth -noshare`.
Activity: RTL SAIF of its cocotb test_feature_maps on CIFAR-10 conv1 feature
maps (FP then BP). Clock 6 ns: at a 1.6 ns target its fmax came out at 167.5 MHz
(the unit's long combinational FP16/FP32 paths), so its power is quoted at a
clock it meets."""

from synth.config import Block
from tb.units import UNITS

BLOCKS = [
    Block(name="bn_unit", top="bn_unit", sources=UNITS["bn_unit"].sources, parameters=dict(UNITS["bn_unit"].parameters),
          clock_ns=6.0, synth_opts="-noshare", unit="bn_unit", testcase="test_feature_maps",
          activity_level="rtl",
          activity_doc="cocotb test_feature_maps (tb/test_bn_unit.py): CIFAR-10 conv1 feature maps, "
                       "FP then BP, 5 channels",
          op_signal="m_valid", op_name="FP16 BN element", paper="004: FP16 BN unit",
          abc_quick=(0.6,)),     # the winner of `make synth SEARCH=1`
]

# BN STAT with exact, order-free statistics (rtl/bn/bn_stat_exact.v), alone: 4 lanes, 24-bit count.
# Activity: RTL SAIF of its cocotb test_feature_maps (CIFAR-10 conv1 FP and BP channels).
# First run (pyosys 0.70, ABC at 2.7/2.16/1.62 ns): 29,472 um2, fmax 375.5 MHz (worst path: the
# 81-bit product shift and negate of the lane pipeline, shp1_q -> vp2_q), 23.2 mW at 2.7 ns.
BLOCKS.append(
    Block(name="bn_stat_exact", top="bn_stat_exact",
          sources=UNITS["bn_stat_exact"].sources,
          parameters=dict(UNITS["bn_stat_exact"].parameters), clock_ns=2.7, unit="bn_stat_exact",
          testcase="test_feature_maps", activity_level="rtl",
          activity_doc="cocotb test_feature_maps (tb/test_bn_stat.py): CIFAR-10 conv1 feature maps and "
                       "gradients, 5 FP and 5 BP channels of 300/512 elements",
          op_signal="r_valid", op_name="BN STAT channel", paper="004: BN STAT (exact statistics)",
          abc_quick=(0.6,)))     # the winner of the first run
