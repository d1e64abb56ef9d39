"""The accelerator's number converters (rtl/accel), 16 lanes each (a PE-array
row's width): INT32 -> FP16 (i32_to_f16), FP16 -> INT8 (f16_to_i8) and the
max-exponent tracker (amax_track). Vectorless (no activity run): their unit
drives the three through accel_conv_harness, not each top's own ports, so
their power figure is leakage and clock only. Clock 1.4 ns, the PE array's.
Here (Yosys pyosys, NanGate45 typ), ABC target 0.6 x clock for the two whose
fmax it raised (at 0.8: i32_to_f16 720.8 MHz, amax_track 702.7 MHz):
i32_to_f16 25,047 um^2, 777.9 MHz; f16_to_i8 7,693 um^2, 834.0 MHz;
amax_track 3,389 um^2, 744.4 MHz (its critical path: s_x through the
16-lane max tree into max1_q). Each takes under a minute."""

from synth.config import Block
from tb.units import UNITS

COMMON = ("common/lzc.v", "common/pipe_stage.v")

BLOCKS = [
    Block(name="accel_i32_to_f16", top="i32_to_f16", sources=COMMON + ("accel/i32_to_f16.v",),
          parameters={"LANES": 16, "K_W": 8}, clock_ns=1.4, abc_quick=(0.6,),
          paper="004 system: INT32 -> FP16 between the array and BN"),
    Block(name="accel_f16_to_i8", top="f16_to_i8", sources=COMMON + ("accel/f16_to_i8.v",),
          parameters={"LANES": 16, "E_W": 8}, clock_ns=1.4, abc_quick=(0.8,),
          paper="004 system: FP16 -> INT8 on the DMA read path"),
    Block(name="accel_amax_track", top="amax_track", sources=COMMON + ("accel/amax_track.v",),
          parameters={"LANES": 16, "E_W": 8}, clock_ns=1.4, abc_quick=(0.6,),
          paper="004 system: per-tensor max-exponent tracker on the write path"),
]

# the sources the unit simulates (owner: tb/units_accel.py)
assert all(s in UNITS["accel_conv"].sources for b in BLOCKS for s in b.sources)
