"""cocotb side of `make bench-neuron` and `make bench-mnist` (bench/neuron.py and
bench/mnist.py drive it): the MLP engine's testbench (tb/test_mlp_net.py: MlpTB,
every value checked against the bit-accurate model) timing one training
iteration. MLP_SCENARIO selects the benchmark, as it selects the scenarios of
tb/test_mlp_net.py: "bench_cycles" (Table I: one neuron, N in BENCH_N) or
"bench_mnist" (784-100-100-10, MLP_BATCHES mini-batches of MLP_M). Results go
to $BENCH_OUT as JSON."""

import math
import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles

from models.mlp_hw import MlpHw, init_weights
from models.sigmoid_hw import sigmoid_alu, sigmoid_lut
from tb.mlp_data import mnist_samples, neuron_samples
from tb.test_mlp_net import MNIST, P, R, SCENARIO, SIGMOID, MlpTB, _batches, _budget, _sample_clocks

BENCH_N = [int(v) for v in os.environ.get("BENCH_N", "2,4,8,16,32,64,128").split(",")]


@cocotb.test(skip=SCENARIO != "bench_cycles", **_budget([max(BENCH_N), 1], len(BENCH_N), extra=len(BENCH_N) * 200))
async def bench_neuron_cycles(dut):
    """Table I: clocks of one training iteration of one neuron (forward,
    backprop and weight update for one input vector, m = 1), every value
    checked; writes {inputs: cycles} as JSON to $BENCH_OUT."""
    import json
    out = {}
    for n in BENCH_N:
        tb = MlpTB(dut) if not out else tb
        if not out:
            await tb.reset()
        x, y = neuron_samples(n, 0, 1)
        weights = init_weights([n, 1], np.random.default_rng(n))
        assert await tb.configure([n, 1], 1, 0.5)
        await tb.load_weights(weights)
        if not out:
            tb.start_training([n, 1], weights, 1, 0.5, check_delta_every_sample=True)
        else:
            tb.sizes = [n, 1]
            tb.eng_mon.sizes = [n, 1]
            tb.model = MlpHw([n, 1], weights, r=R, alpha=0.5, m=1,
                             sigmoid=sigmoid_alu if SIGMOID else sigmoid_lut)
        tb.send_sample(x[0], y[0])
        out[n] = await tb.clock.next_sample(_sample_clocks([n, 1]))
        await ClockCycles(dut.clk, 5)
        assert not tb.expected
        dut._log.info("N = %d: %d clocks per training iteration", n, out[n])
    with open(os.environ["BENCH_OUT"], "w") as f:
        json.dump(out, f)
    assert tb.scoreboard.result


@cocotb.test(skip=SCENARIO != "bench_mnist", **_budget(MNIST, math.prod(_batches(16, 1))))
async def bench_mnist_cycles(dut):
    """Clocks per training input of 784-100-100-10 on the RTL: MLP_BATCHES
    mini-batches of MLP_M, every value checked; JSON to $BENCH_OUT."""
    import json
    m, nb = _batches(16, 1)
    tb = MlpTB(dut)
    await tb.reset()
    x, y = mnist_samples(0, m * nb)
    sizes = MNIST
    weights = init_weights(sizes, np.random.default_rng(1))
    assert await tb.configure(sizes, m, 0.5)
    await tb.load_weights(weights)
    tb.start_training(sizes, weights, m, 0.5)
    tb.f64 = False
    # every sample queued at once: the engine takes them back to back
    for s in range(m * nb):
        tb.send_sample(x[s], y[s])
    t0 = tb.clock.now
    await tb.wait_samples(m * nb)
    await tb.finish()
    ck = tb.clock
    batch_at = [t - t0 for t in ck.batch_at]
    # steady state: the clocks between two batch_done, over the m inputs of the batch
    steady = (batch_at[-1] - batch_at[-2]) / m if nb >= 2 else None
    res = {"m": m, "batches": nb, "lanes_P": P, "busy_cycles_per_sample": ck.per_sample,
           "sample_done_at": [t - t0 for t in ck.done_at], "batch_done_at": batch_at,
           "steady_cycles_per_input": steady, "first_sample_cycles": ck.done_at[0] - t0,
           "tensors_checked": tb.scoreboard.checked, "values_checked": tb.scoreboard.values_checked}
    dut._log.info("P = %d: %s clocks per training input in steady state, %d values checked",
                  P, steady, tb.scoreboard.values_checked)
    with open(os.environ["BENCH_OUT"], "w") as f:
        json.dump(res, f)
    assert tb.scoreboard.result
