"""FP16 batch-norm unit (rtl/bn/bn_unit.v, paper 004 III-D). Yosys 0.23's
`share` pass does not finish on it: synthesized with `synth -noshare`.
Activity: RTL SAIF of its cocotb test_feature_maps on CIFAR-10 conv1 feature
maps (FP then BP). Clock 6 ns: at a 1.6 ns target its fmax came out at 167.5 MHz
(the unit's long combinational FP16/FP32 paths), so its power is quoted at a
clock it meets."""

from synth.config import Block
from tb.units import UNITS

BLOCKS = [
    Block(name="bn", top="bn_unit", sources=UNITS["bn_unit"].sources, parameters={"NW": 24},
          clock_ns=6.0, synth_opts="-noshare", unit="bn_unit", testcase="test_feature_maps",
          activity_level="rtl",
          activity_doc="cocotb test_feature_maps (tb/test_bn_unit.py): CIFAR-10 conv1 feature maps, "
                       "FP then BP, 5 channels",
          op_signal="m_valid", op_name="FP16 BN element", paper="004: FP16 BN unit",
          abc_quick=(0.6,)),     # the winner of `make synth SEARCH=1`
]
