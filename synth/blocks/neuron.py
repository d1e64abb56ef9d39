"""MLP training engine (rtl/neuron): one neuron lane (FP32 multiplier + adder,
operand muxes, sigmoid LUT) at the engine's MUL_LAT = ADD_LAT = 2 and at 3 and
4 (the fmax trade); the 3-3-3-1 network (P = 3, its RAMs are a few words:
flip-flops); the MNIST 784-100-100-10 datapath (P = 10): its weight, gradient,
activation and delta RAMs are SRAM macros, the 10 lanes are the lane block
synthesized once (synth/macros.py: area and power = glue + 10 x lane).

Activity: RTL SAIF of the engine on real MNIST (cocotb test_mnist_batches of
tb/test_mlp.py); the lane is the average of the engine's 10 lanes (all three
lane latencies use the MUL_LAT = ADD_LAT = 2 engine's run, one simulation). The
3-3-3-1 network runs its own test (red/not-red training) on the netlist."""

from synth.config import Block
from tb.units import UNITS

NEURON_SOURCES = UNITS["mlp_mnist"].sources    # what the engine is built from (owner: tb/units_neuron.py)

LANE_SOURCES = ("common/fp_classify.v", "common/fp_round.v", "common/lzc.v", "common/pipe_stage.v",
                "common/fp_add.v", "common/fp_mul.v", "neuron/sigmoid_lut_rom.v", "neuron/mlp_lane.v")
MNIST_ENV = {"MLP_M": "2", "MLP_BATCHES": "1"}
MNIST_DOC = "cocotb test_mnist_batches (tb/test_mlp.py): 784-100-100-10 training on 2 real MNIST images"
MNIST_MAX = {"MAX_S0": 784, "MAX_S1": 100, "MAX_S2": 100, "MAX_S3": 10, "MAX_OUT": 10, "SIGMOID": 0}


def lane(lat, clock_ns):
    return Block(
        name="neuron" + ("" if lat == 2 else f"_l{lat}"), top="mlp_lane", sources=LANE_SOURCES,
        parameters={"MUL_LAT": lat, "ADD_LAT": lat, "IDX_W": 2, "SIGMOID": 0}, clock_ns=clock_ns,
        unit="mlp_mnist", env=MNIST_ENV, activity_level="rtl",
        activity_scope="mlp_net/gen_lane[*]/u_lane",
        unit_parameters={"P": 10, "MUL_LAT": 2, "ADD_LAT": 2, **MNIST_MAX},
        activity_doc=MNIST_DOC + " on the 10-lane engine (MUL_LAT = ADD_LAT = 2"
        + (")" if lat == 2 else f"; this lane's extra pipeline registers by propagation)"),
        op_signal="r_valid", op_name="FP32 MAC (lane op: multiply + add)",
        paper="000 Table I: FP32 neuron at 250 MHz (4 ns), 51171.5 area, 4.47 mW + 0.269 mW")


BLOCKS = [
    lane(2, 2.4), lane(3, 1.8), lane(4, 1.6),
    Block(name="mlp_3331", top="mlp_net", sources=NEURON_SOURCES,
          parameters={"P": 3, "MUL_LAT": 2, "ADD_LAT": 2, "MAX_S0": 3, "MAX_S1": 3, "MAX_S2": 3,
                      "MAX_S3": 1, "MAX_OUT": 1, "SIGMOID": 0},
          clock_ns=2.4, macros=(), unit="mlp_rednet", env={"MLP_F64_EVERY": "50"},
          activity_level="rtl",
          activity_doc="cocotb test_red_not_red (tb/test_mlp.py): the 3-3-3-1 network trained on the "
                       "red / not-red colour set",
          op_signal="r_valid_q", op_name="FP32 MAC (lane op)", ops_per_valid=3,
          paper="000: 3-3-3-1 network, 248.44 area, 23.88 mW + 1.31 mW"),
    Block(name="mnist_mlp", top="mlp_net", sources=NEURON_SOURCES,
          parameters={"P": 10, "MUL_LAT": 2, "ADD_LAT": 2, **MNIST_MAX}, clock_ns=2.4,
          submodules={"mlp_lane": "neuron"}, abc_targets=(1.0,), unit="mlp_mnist", env=MNIST_ENV,
          activity_level="rtl", activity_doc=MNIST_DOC,
          op_signal="r_valid_q", op_name="FP32 MAC (lane op)", ops_per_valid=10,
          paper="000: MNIST 784-100-100-10, 100k inputs in 6.43 s, 5.37 W"),
]
