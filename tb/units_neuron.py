"""Units of the MLP training engine (rtl/neuron)."""

from tb.units import Unit

NEURON_SOURCES = ("common/fp_classify.v", "common/fp_round.v", "common/lzc.v", "common/pipe_stage.v",
                  "common/fp_add.v", "common/fp_mul.v", "common/ram_1r1w.v", "common/int_recip.v",
                  "neuron/sigmoid_lut_rom.v", "neuron/sigmoid_alu_ucode.v", "neuron/mlp_lane.v",
                  "neuron/mlp_net.v")


def mlp_unit(scenario, p=1, max_sizes=(128, 100, 100, 10), max_out=10, mul_lat=2, add_lat=2, sigmoid=0,
             **env):
    params = {"P": p, "MUL_LAT": mul_lat, "ADD_LAT": add_lat, "MAX_S0": max_sizes[0],
              "MAX_S1": max_sizes[1], "MAX_S2": max_sizes[2], "MAX_S3": max_sizes[3], "MAX_OUT": max_out,
              "SIGMOID": sigmoid}
    return Unit(
        toplevel="mlp_net",
        sources=NEURON_SOURCES,
        test_module="test_mlp",
        parameters=params,
        env={"MLP_P": str(p), "MLP_MAX": ",".join(map(str, max_sizes)), "MLP_ADD_LAT": str(add_lat),
             "MLP_SCENARIO": scenario, "MLP_SIGMOID": str(sigmoid), **{k: str(v) for k, v in env.items()}},
        doc=f"MLP engine, {scenario}",
    )


UNITS = {
    "neuron": mlp_unit("neuron"),
    "neuron_alu": mlp_unit("neuron", sigmoid=1),
    "mlp_rednet": mlp_unit("rednet", p=3, max_sizes=(3, 3, 3, 1), max_out=1, MLP_F64_EVERY=50),
    "mlp_mnist": mlp_unit("mnist", p=10, max_sizes=(784, 100, 100, 10)),
    "mlp_demo": mlp_unit("demo", p=10, max_sizes=(784, 100, 100, 10)),
}
