"""Units of the MLP training engine (rtl/neuron)."""

from tb.units import COMMON_FP, Unit
from tb.units_memory import MEM_SOURCES

MLP_SOURCES = COMMON_FP + ("common/fp_add.v", "common/fp_mul.v", "common/ram_1r1w.v", "common/int_recip.v",
                  "common/rot_mod.v", "neuron/sigmoid_lut_rom.v", "neuron/sigmoid_alu_ucode.v", "neuron/mlp_lane.v",
                  "neuron/mlp_net.v")

# mlp_trainer: the engine behind the training-vector memory (rtl/memory, tb/units_memory.py)
TRAINER_SOURCES = tuple(s for s in MEM_SOURCES if s not in MLP_SOURCES) + ("neuron/mlp_trainer.v",)


# The lane pipeline of the MNIST engine: the lane's fast configuration (lane
# inputs and operands registered, a 4-stage multiplier; synth block `mlp_lane`).
# ADD_LAT = 2 keeps the summation order (R = 2) of the accuracy runs in
# reports/mnist_training.json; MUL_LAT, IN_REG and OP_REG change no result bit.
FAST_LANE = {"mul_lat": 5, "add_lat": 2, "in_reg": 1, "op_reg": 1}


# the HDL parameters tb/test_mlp_net.py reads, each as MLP_<NAME> (tb.units.Unit.param_env)
PARAM_ENV = {k: f"MLP_{k}" for k in ("P", "ADD_LAT", "SIGMOID", "MAX_S0", "MAX_S1", "MAX_S2", "MAX_S3")}


def mlp_unit(scenario, p=1, max_sizes=(128, 100, 100, 10), max_out=10, mul_lat=2, add_lat=2, sigmoid=0,
             system=False, vecs_per_slot=64, in_reg=0, op_reg=0, **env):
    params = {"P": p, "MUL_LAT": mul_lat, "ADD_LAT": add_lat, "IN_REG": in_reg, "OP_REG": op_reg,
              "MAX_S0": max_sizes[0],
              "MAX_S1": max_sizes[1], "MAX_S2": max_sizes[2], "MAX_S3": max_sizes[3], "MAX_OUT": max_out,
              "SIGMOID": sigmoid}
    if system:
        # one SDRAM vector is one sample frame of the network the test trains
        sizes = [int(v) for v in env["MLP_SIZES"].split(",")] if "MLP_SIZES" in env else [max_sizes[0], max_out]
        params.update({"SLOTS": 4, "VECS_PER_SLOT": vecs_per_slot, "VEC_WORDS": sizes[0] + sizes[-1]})
    return Unit(
        toplevel="mlp_trainer" if system else "mlp_net",
        sources=MLP_SOURCES + (TRAINER_SOURCES if system else ()),
        test_module="tb.test_mlp_trainer" if system else "tb.test_mlp_net",
        parameters=params,
        param_env=PARAM_ENV,
        env={"MLP_SCENARIO": scenario, **{k: str(v) for k, v in env.items()}},
        doc=f"MLP engine, {scenario}",
    )


UNITS = {
    "mlp_net": mlp_unit("neuron"),
    "mlp_net_alu": mlp_unit("neuron", sigmoid=1),
    "mlp_rednet": mlp_unit("rednet", p=3, max_sizes=(3, 3, 3, 1), max_out=1, MLP_F64_EVERY=50),
    "mlp_mnist": mlp_unit("mnist", p=10, max_sizes=(784, 100, 100, 10), **FAST_LANE),
    # the same MNIST batches on the Table I lane (MUL_LAT = ADD_LAT = 2, no extra registers)
    "mlp_mnist_l2": mlp_unit("mnist", p=10, max_sizes=(784, 100, 100, 10)),
    "mlp_demo": mlp_unit("demo", p=10, max_sizes=(784, 100, 100, 10), system=True, **FAST_LANE),
    # SDRAM model -> double buffer -> engine on the 7-lane network; 2 vectors per slot, so that the
    # 12 frames refill the 4 slots 6 times, in turn
    "mlp_trainer": mlp_unit("trainer", p=7, max_sizes=(32, 20, 12, 10), system=True, vecs_per_slot=2,
                            MLP_SIZES="30,17,9,4", **FAST_LANE),
    # P divides no layer size: 30-17-9-4 on 7 lanes (the output layer fills part of one group)
    "mlp_lanes": mlp_unit("lanes", p=7, max_sizes=(32, 20, 12, 10), MLP_SIZES="30,17,9,4", **FAST_LANE),
    # one lane per hidden neuron, the output layer on 10 of the 100 lanes; the
    # benchmark's build (its Verilator build takes several minutes: not in make test)
    "mlp_p100": mlp_unit("lanes", p=100, max_sizes=(784, 100, 100, 10), MLP_SIZES="20,100,37,10", **FAST_LANE),
    # the MNIST batches on 100 lanes: the activity of synth block mlp_net_mnist_p100 (not in make test)
    "mlp_mnist_p100": mlp_unit("mnist", p=100, max_sizes=(784, 100, 100, 10), **FAST_LANE),
}
