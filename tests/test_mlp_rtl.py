"""The MLP training engine (rtl/neuron) on Verilator: one neuron for N in
{2..128} with the LUT and the ALU sigmoid (plus illegal configuration, framing
errors, NaN/Inf and reset), the 3-3-3-1 red / not-red network trained to >= 95%
on the RTL, and 784-100-100-10 on real MNIST mini-batches."""

import pytest

from tb.units import UNITS, run_unit


@pytest.mark.parametrize("unit", ["neuron", "neuron_alu", "mlp_rednet", "mlp_mnist"])
def test_mlp_unit(unit):
    tests, failed = run_unit(UNITS[unit])
    assert tests > 0 and failed == 0
