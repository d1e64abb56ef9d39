"""cocotb side of `make bench-bn`: streams whole BN layers through bn_unit
(C channels of N elements, FP or BP, sink always ready, source always valid)
and records the clock cycles from the first command to the last channel
result. BN_BENCH_JOBS (JSON list of [C, N, mode]) in, BN_BENCH_OUT (JSON) out.
No per-cycle Python: the cycle count is the simulated time / period."""

import json
import os

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

from tb.lib.clock_reset import reset, start_clock

PERIOD_NS = 10


@cocotb.test()
async def test_bench_layers(dut):
    jobs = json.loads(os.environ["BN_BENCH_JOBS"])
    start_clock(dut.clk, PERIOD_NS)
    results = []
    for channels, count, mode in jobs:
        dut.c_valid.value = 0
        dut.s_valid.value = 0
        await reset(dut.clk, dut.rst)
        dut.c_mode.value = mode
        dut.c_relu.value = 1
        dut.c_count.value = count
        dut.c_gamma.value = 0x3C00
        dut.c_beta.value = 0
        dut.c_eps.value = 0x00A8
        dut.c_lambda.value = 0x3C00
        dut.s_x.value = 0x3E00          # the cycle count does not depend on the data
        dut.s_xhat.value = 0x3800
        dut.s_mask.value = 1
        dut.m_ready.value = 1
        dut.r_ready.value = 1
        dut.c_valid.value = 1
        dut.s_valid.value = 1
        t0 = get_sim_time("ns")
        for _ in range(channels):
            await RisingEdge(dut.r_valid)
        await ReadOnly()
        assert dut.r_status.value.to_unsigned() & 4 == 0
        await RisingEdge(dut.clk)
        cycles = round((get_sim_time("ns") - t0) / PERIOD_NS)
        dut.c_valid.value = 0
        dut.s_valid.value = 0
        results.append({"channels": channels, "count": count, "mode": "bp" if mode else "fp",
                        "cycles": cycles})
        dut._log.info("C=%d N=%d %s: %d cycles", channels, count, "BP" if mode else "FP", cycles)
    with open(os.environ["BN_BENCH_OUT"], "w") as f:
        json.dump(results, f)
