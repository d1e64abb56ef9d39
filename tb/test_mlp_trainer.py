"""cocotb tests of mlp_trainer: the MLP engine (mlp_net) fed from SDRAM
through the training-vector memory (rtl/memory), on the engine's testbench
(tb/test_mlp_net.py: MlpTB, FrameCheck ties every frame the engine takes to
the SDRAM image). MLP_SCENARIO selects the tests, as in tb/test_mlp_net.py:
"trainer" (unit mlp_trainer) or "demo" (unit mlp_demo, `make sim`)."""

import math

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, RisingEdge

from models.mlp_hw import init_weights
from tb.mlp_data import mnist_samples
from tb.test_mlp_net import (LANE_SIZES, MNIST, P, SCENARIO, MlpTB, StreamWatch, _batches, _budget, _lane_net,
                             _sample_clocks)


@cocotb.test(skip=SCENARIO != "trainer", **_budget(LANE_SIZES, 12, extra=12 * 4 * (LANE_SIZES[0] + LANE_SIZES[-1])))
async def test_trainer_stream(dut):
    """mlp_trainer, the engine fed by the training-vector memory: 4 mini-batches
    of 3 samples stream from an SDRAM model (latency 20-28, half a word per
    clock, bursts of 8, refresh) through the SRAM slots into the engine while
    it computes. Every frame the engine takes is the SDRAM's, word for word, in
    order, none missing or extra (FrameCheck); every activation, delta, Delta,
    gradient and weight exact (and within the float64 tolerance)."""
    sizes, samples = _lane_net()
    m, nb = 3, 4
    x, y = samples(40, m * nb)
    tb = MlpTB(dut)
    watch = StreamWatch(tb.engine)
    await tb.reset()
    await tb.setup(sizes, init_weights(sizes, np.random.default_rng(7)), m, 0.5, every=True)
    await tb.stream_from_sdram(x, y, latency=20, jitter=8, bandwidth=0.5, burst_len=8, refresh_interval=600,
                               refresh_clocks=40, seed=2)
    await tb.wait_samples(m * nb, total=True)
    await tb.finish()
    dut._log.info("%s: %d frames from SDRAM (%d requests), %d words taken while computing, %d clocks of "
                  "backpressure, %d values checked", sizes, tb.frame_check.received, tb.sdram.requests,
                  watch.overlap, watch.stalled, tb.scoreboard.values_checked)
    assert tb.eng_mon.samples == m * nb
    assert watch.overlap > 0, "no frame was loaded while the engine computed"
    assert tb.scoreboard.result


@cocotb.test(skip=SCENARIO != "demo", **_budget(MNIST, math.prod(_batches(10, 3))))
async def test_mnist_demo(dut):
    """`make sim`: 784-100-100-10 trained on real MNIST on the RTL, every
    activation, delta, gradient and updated weight checked against the
    bit-accurate model (exact) and float64 autograd (tolerance); one line per
    mini-batch."""
    m, nb = _batches(10, 3)
    alpha = 1.0
    sizes = MNIST
    tb = MlpTB(dut, seed=5)
    await tb.reset()
    x, y = mnist_samples(0, m * nb)
    weights = init_weights(sizes, np.random.default_rng(0))
    assert await tb.configure(sizes, m, alpha)
    await tb.load_weights(weights)
    tb.start_training(sizes, weights, m, alpha)
    tb.scoreboard._imm = False   # count mismatches, report them per batch, fail at the end
    if tb.system:
        # the samples live in SDRAM, one frame (784 pixels, 10 targets) per vector
        await tb.stream_from_sdram(x, y, latency=20, jitter=8, bandwidth=0.5, burst_len=8, refresh_interval=2600,
                                   refresh_clocks=40, seed=1)
        dut._log.info("samples stream from the SDRAM model (0.5 words/clock, latency 20-28, refresh) "
                      "through the SRAM double buffer; every frame the engine takes is checked against it")
    dut._log.info("MNIST 784-100-100-10 on the RTL: P=%d lanes, m=%d, alpha=%g, %d mini-batches", P, m, alpha, nb)
    for b in range(nb):
        cycles, loss = 0, 0.0
        checked0, values0, errors0 = tb.scoreboard.checked, tb.scoreboard.values_checked, tb.scoreboard.errors
        for s in range(b * m, (b + 1) * m):
            if not tb.system:
                tb.send_sample(x[s], y[s])
            cycles += await tb.clock.next_sample(_sample_clocks(sizes))
            await RisingEdge(dut.clk)
            a = np.clip(tb.eng_mon.last["act3"].view(np.float32).astype(np.float64), 1e-12, 1 - 1e-12)
            loss += float(-(y[s] * np.log(a) + (1 - y[s]) * np.log(1 - a)).sum())
        await ClockCycles(dut.clk, 2)
        dut._log.info("batch %d: loss %.4f | %d tensors, %d values checked, %d mismatches | %d clocks "
                      "(%d per input)", b + 1, loss / m, tb.scoreboard.checked - checked0,
                      tb.scoreboard.values_checked - values0, tb.scoreboard.errors - errors0, cycles,
                      cycles // m)
    await tb.finish()
    assert tb.scoreboard.errors == 0, f"{tb.scoreboard.errors} mismatching tensors"
    assert tb.scoreboard.result
