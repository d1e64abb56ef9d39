"""MLP training engine (rtl/neuron): one neuron lane (FP32 multiplier + adder,
operand muxes, sigmoid LUT). `mlp_lane` is the MNIST engine's lane: lane inputs
and selected operands registered (IN_REG = OP_REG = 1), MUL_LAT = 5, ADD_LAT =
2 (R = 2 partial sums: the summation order of the accuracy runs). `mlp_lane_l2`
is Table I's lane (MUL_LAT = ADD_LAT = 2, no extra registers), `mlp_lane_l3`,
`mlp_lane_l4` the plain lane at latency 3 and 4 (another summation order). The
3-3-3-1 network (`mlp_net_3331`, P = 3, its RAMs are a few words: flip-flops); the MNIST
784-100-100-10 datapath (`mlp_net_mnist`, P = 10, the fast lane): its weight, gradient,
activation and delta RAMs are SRAM macros, the 10 lanes are block `mlp_lane`
synthesized once (synth/macros.py: area and power = glue + 10 x lane).

Activity: RTL SAIF of the 10-lane engine on real MNIST (cocotb
test_mnist_batches of tb/test_mlp_net.py); a lane is the average of the engine's
10 lanes: `mlp_lane` and `mlp_net_mnist` from the fast engine's run, the plain lanes
from the MUL_LAT = ADD_LAT = 2 engine's run (one simulation each). The 3-3-3-1
network: RTL SAIF of its own test (red/not-red training)."""

from synth.config import Block
from tb.units import COMMON_FP, UNITS
from tb.units_mlp import FAST_LANE

MLP_SOURCES = UNITS["mlp_mnist"].sources    # what the engine is built from (owner: tb/units_mlp.py)

LANE_SOURCES = COMMON_FP + ("common/fp_add.v", "common/fp_mul.v", "neuron/sigmoid_lut_rom.v", "neuron/mlp_lane.v")
MNIST_ENV = {"MLP_M": "2", "MLP_BATCHES": "1"}
MNIST_DOC = "cocotb test_mnist_batches (tb/test_mlp_net.py): 784-100-100-10 training on 2 real MNIST images"
FAST = {"MUL_LAT": FAST_LANE["mul_lat"], "ADD_LAT": FAST_LANE["add_lat"], "IN_REG": FAST_LANE["in_reg"],
        "OP_REG": FAST_LANE["op_reg"]}
PLAIN = {"IN_REG": 0, "OP_REG": 0}
PAPER_LANE = "000 Table I: FP32 neuron at 250 MHz (4 ns), 51171.5 area, 4.47 mW + 0.269 mW"


def lane(name, lat, clock_ns, unit, doc, in_all=True):
    return Block(in_all=in_all,
        name=name, top="mlp_lane", sources=LANE_SOURCES,
        parameters={**lat, "IDX_W": 2, "SIGMOID": 0}, clock_ns=clock_ns,
        unit=unit, env=MNIST_ENV, activity_level="rtl",
        activity_scope="mlp_net/gen_lane[*]/u_lane",
        unit_parameters=dict(UNITS[unit].parameters),   # the engine the lanes are simulated in
        activity_doc=MNIST_DOC + " on the 10-lane engine (" + doc + ")",
        op_signal="r_valid", op_name="FP32 MAC (lane op: multiply + add)", paper=PAPER_LANE,
        abc_quick=(0.6,))          # the search's winner for the lanes (2026-11-22)


def plain(lat):
    return {"MUL_LAT": lat, "ADD_LAT": lat, **PLAIN}


PLAIN_DOC = "MUL_LAT = ADD_LAT = 2, no extra lane registers"
BLOCKS = [
    lane("mlp_lane", FAST, 1.6, "mlp_mnist", "the same lane configuration"),
    lane("mlp_lane_l2", plain(2), 2.4, "mlp_mnist_l2", PLAIN_DOC),
    lane("mlp_lane_l3", plain(3), 1.8, "mlp_mnist_l2", PLAIN_DOC + "; this lane's extra pipeline registers by propagation", in_all=False),
    lane("mlp_lane_l4", plain(4), 1.6, "mlp_mnist_l2", PLAIN_DOC + "; this lane's extra pipeline registers by propagation", in_all=False),
    Block(name="mlp_net_3331", top="mlp_net", sources=MLP_SOURCES,
          parameters=dict(UNITS["mlp_rednet"].parameters),
          clock_ns=2.4, macros=(), unit="mlp_rednet", env={"MLP_F64_EVERY": "50"},
          activity_level="rtl",
          activity_doc="cocotb test_red_not_red (tb/test_mlp_net.py): the 3-3-3-1 network trained on the "
                       "red / not-red colour set",
          op_signal="r_valid_q", op_name="FP32 MAC (lane op)", ops_per_valid=3, abc_quick=(0.6,),
          paper="000: 3-3-3-1 network, 248.44 area, 23.88 mW + 1.31 mW"),
    Block(name="mlp_net_mnist", top="mlp_net", sources=MLP_SOURCES,
          parameters=dict(UNITS["mlp_mnist"].parameters), clock_ns=1.8,
          submodules={"mlp_lane": "mlp_lane"}, abc_targets=(1.0,), max_fanout=16, unit="mlp_mnist", env=MNIST_ENV,
          activity_level="rtl", activity_doc=MNIST_DOC + " (the fast lane configuration)",
          op_signal="r_valid_q", op_name="FP32 MAC (lane op)", ops_per_valid=10,
          paper="000: MNIST 784-100-100-10, 100k inputs in 6.43 s, 5.37 W"),
    # one lane per hidden neuron: the engine that meets the 0.5 s goal; its
    # operand and control registers drive 100 lanes (up to 1,000 loads), so both
    # engines get buffer trees (max_fanout); the activity simulation builds the
    # 100-lane engine (about 15 min), so only `make synth BLOCK=mlp_net_mnist_p100` runs it
    Block(name="mlp_net_mnist_p100", top="mlp_net", sources=MLP_SOURCES,
          parameters=dict(UNITS["mlp_mnist_p100"].parameters), clock_ns=1.8,
          submodules={"mlp_lane": "mlp_lane"}, abc_targets=(1.0,), max_fanout=16, unit="mlp_mnist_p100",
          env=MNIST_ENV,
          activity_level="rtl", activity_doc=MNIST_DOC + " on 100 lanes (the fast lane configuration)",
          op_signal="r_valid_q", op_name="FP32 MAC (lane op)", ops_per_valid=100, in_all=False,
          paper="000: MNIST 784-100-100-10, 100k inputs in 6.43 s, 5.37 W"),
]
