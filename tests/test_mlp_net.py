"""The MLP training engine (rtl/neuron) on Verilator: one neuron for N in
{2..128} with the LUT and the ALU sigmoid (plus illegal configuration, framing
errors, NaN/Inf and reset), the 3-3-3-1 red / not-red network trained to >= 95%
on the RTL, 784-100-100-10 on real MNIST mini-batches, and 30-17-9-4 on 7 lanes
(no layer a multiple of P) with samples streamed into the double-buffered input
while the engine computes, backpressure and resets during loading; the same
network in mlp_trainer, its samples streamed from an SDRAM model through the
SRAM double buffer, every frame the engine takes checked against the SDRAM
image (tb/test_mlp_trainer.py, tb.test_mlp_net.FrameCheck). The single
neuron and the 3-3-3-1 net run the plain lane (MUL_LAT = ADD_LAT = 2, Table I);
MNIST and the 7-lane streaming run the MNIST engine's fast lane (inputs and
operands registered, MUL_LAT = 5, ADD_LAT = 2: tb.units_mlp.FAST_LANE),
every value exact against the same model. (The streaming tests at P = 100,
unit mlp_p100, build for several minutes: benchmark only.)"""

import pytest

from tb.units import UNITS, run_unit


# tests each unit's scenario runs (MLP_SCENARIO selects them in tb/test_mlp_net.py; test_neuron counts its
# 7 sizes, test_alpha_special its 3 values): a test the scenario drops fails here
N_TESTS = {"mlp_net": 15, "mlp_net_alu": 15, "mlp_rednet": 1, "mlp_mnist": 1, "mlp_lanes": 2, "mlp_trainer": 1}


@pytest.mark.parametrize("unit", sorted(N_TESTS))
def test_mlp_unit(unit):
    tests, failed = run_unit(UNITS[unit])
    assert tests == N_TESTS[unit] and failed == 0
