"""cocotb tests of the FP16 batch-norm unit (rtl/bn/bn_unit.v).

Data: real CIFAR-10 feature maps, the conv1 outputs (INT8 conv) of ResNet-20
on test images, and the loss gradient at bn1's ReLU from one backward pass
(models.resnet20.bn1_feature_maps). Every output beat and every channel result
is compared bit for bit with models/bn_ref.py (written from Algorithm 1), and
the numbers are also checked against torch.nn.functional.batch_norm and its
autograd in float32 within the first-order error bound of the FP16 algorithm
(see fp32_tolerance_check).
"""

import cocotb
import numpy as np
import torch
import torch.nn.functional as F
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from models.bn_ref import bits16, bn_backward, bn_forward, from_bits16
from models.resnet20 import bn1_feature_maps
from tb.lib.clock_reset import reset, start_clock
from tb.lib.scoreboard import CheckScoreboard
from tb.lib.stream import Backpressure, StreamDriver, StreamMonitor
from tb.lib.waits import backstop_us

torch.set_num_threads(1)   # the machine is shared
EPS16 = int(bits16(np.float16(1e-5)))
U = 2.0 ** -11        # binary16 unit roundoff


def h(v):
    return int(bits16(np.float16(v)))


class BnTB:
    def __init__(self, dut, idle_prob=0.0, stall_prob=0.0, seed=0):
        self.dut = dut
        start_clock(dut.clk)
        self.cmd = StreamDriver(dut, "c", dut.clk,
                                ["mode", "relu", "count", "gamma", "beta", "eps", "lambda"])
        self.src = StreamDriver(dut, "s", dut.clk, ["x", "xhat", "mask"], idle_prob=idle_prob, seed=seed)
        self.m_ready = Backpressure(dut.m_ready, dut.clk, stall_prob, seed=seed + 1)
        self.r_ready = Backpressure(dut.r_ready, dut.clk, stall_prob, seed=seed + 2)
        self.out_mon = StreamMonitor(dut, "m", dut.clk, ["y", "xhat", "mask"], reset=dut.rst)
        self.res_mon = StreamMonitor(dut, "r", dut.clk, ["a", "b", "lambda", "status"], reset=dut.rst)
        self.got_out, self.got_res = [], []
        self.out_mon.add_callback(self.got_out.append)
        self.res_mon.add_callback(self.got_res.append)
        self.exp_out, self.exp_res = [], []
        self.sb = CheckScoreboard(dut)
        self.sb.add_interface(self.out_mon, self.exp_out)
        self.sb.add_interface(self.res_mon, self.exp_res)
        self.beats = 0

    async def reset(self):
        self.dut.c_valid.value = 0
        self.dut.s_valid.value = 0
        await reset(self.dut.clk, self.dut.rst)

    def _send(self, mode, relu, count, gamma, beta, lam, a, b, mask):
        self.cmd.append({"mode": mode, "relu": int(relu), "count": count, "gamma": gamma,
                         "beta": beta, "eps": EPS16, "lambda": lam})
        beats = [{"x": int(p), "xhat": int(q), "mask": int(m)} for p, q, m in zip(a, b, mask)]
        for _ in range(2):                 # pass 1: statistics, pass 2: transform
            for beat in beats:
                self.src.append(beat)
        self.beats += len(a)

    def fp(self, x16, gamma, beta, relu=True, tag=""):
        """Queues one forward channel; returns the model's result dict."""
        r = bn_forward(x16, from_bits16(gamma), from_bits16(beta), from_bits16(EPS16), relu)
        n = x16.size
        y, xh = bits16(r["y"]), bits16(r["xhat"])
        for i in range(n):
            self.exp_out.append({"y": int(y[i]), "xhat": int(xh[i]), "mask": int(r["mask"][i]),
                                 "_context": f"FP {tag} element {i}"})
        status = (int(r["of"]) << 1) | int(r["vz"])
        self.exp_res.append({"a": h(r["mu"]), "b": h(r["var"]), "lambda": h(r["lam"]),
                             "status": status, "_context": f"FP {tag} channel"})
        xb = bits16(x16)
        self._send(0, relu, n, gamma, beta, 0, xb, np.zeros(n, np.uint16), np.zeros(n, np.uint8))
        return r

    def bp(self, dy16, xhat16, mask, gamma, lam, relu=True, tag=""):
        r = bn_backward(dy16, xhat16, mask, from_bits16(gamma), from_bits16(lam), relu)
        dx = bits16(r["dx"])
        for i in range(dy16.size):
            self.exp_out.append({"y": int(dx[i]), "xhat": 0, "mask": 0, "_context": f"BP {tag} element {i}"})
        self.exp_res.append({"a": h(r["dbeta"]), "b": h(r["dgamma"]), "lambda": h(r["gl"]),
                             "status": int(r["of"]) << 1, "_context": f"BP {tag} channel"})
        self._send(1, relu, dy16.size, gamma, 0, lam, bits16(dy16), bits16(xhat16), mask)
        return r

    def error_channel(self):
        """count = 0: ERR, zeros, no element taken."""
        self.cmd.append({"mode": 0, "relu": 1, "count": 0, "gamma": h(1.0), "beta": 0,
                         "eps": EPS16, "lambda": 0})
        self.exp_res.append({"a": 0, "b": 0, "lambda": 0, "status": 4, "_context": "count 0"})

    async def drain(self, max_cycles=None):
        """Waits until every expected beat and result has been checked, then
        a few more clocks so that a spurious extra beat would be caught."""
        limit = max_cycles or (self.beats * 12 + 2000)
        for _ in range(limit):
            await RisingEdge(self.dut.clk)
            if not self.exp_out and not self.exp_res:
                break
        await ClockCycles(self.dut.clk, 20)
        assert not self.exp_out and not self.exp_res, \
            f"{len(self.exp_out)} beats on m / {len(self.exp_res)} results on r never came out " \
            f"({self.src.sent} beats taken on s, {self.cmd.sent} commands on c)"


def channel_data(n_images, crop, channels, seed=0):
    """fp16 conv1 feature maps and gradients: for each channel, the first
    ``n_images`` images cropped to crop x crop."""
    x, dy = bn1_feature_maps(n_images, seed=seed)
    xs = [x[:, c, :crop, :crop].astype(np.float16).ravel() for c in channels]
    dys = [dy[:, c, :crop, :crop].astype(np.float16).ravel() for c in channels]
    return xs, dys


def fp32_tolerance_check(log, x16, dy16, gamma16, beta16, fp, bp, relu=True):
    """Float32 reference: F.batch_norm (training, biased var, eps 1e-5) and its
    autograd on the same fp16 inputs, with the gradient masked by the unit's
    own ReLU mask (the mask is exact-checked; this compares the BN math).
    First-order error bound of Algorithm 1 in binary16 (u = 2^-11), with
    kappa = E[x^2]/var >= 1 the cancellation factor of var = E[x^2] - mu^2:
      xhat: 2u*sqrt(kappa) + |xhat| * u * (4 + 2 kappa)
            (mu rounding scaled by lambda; x - mu, * lambda, rsqrt, mean2 and
            mu^2 roundings through var), times 2 as margin
      y:    |gamma| * tol_xhat + 2u (|gamma xhat| + |beta|)
      dx:   |gamma lambda| * 4u * kappa * (|dy| + |mean dy| + |xhat mean2|
            + mean|dy| (1 + |xhat|))
      dgamma: sum(|dy| * tol_xhat) + 2u |dgamma|;  dbeta: 2u |dbeta| (+ fp32 sum)
    Returns the largest error / tolerance ratio seen."""
    x = torch.tensor(x16.astype(np.float32), requires_grad=True)
    g = torch.tensor([float(gamma16)], requires_grad=True)
    b = torch.tensor([float(beta16)], requires_grad=True)
    y = F.batch_norm(x.view(1, 1, -1), None, None, g, b, training=True, eps=1e-5)
    dy_m = dy16.astype(np.float32) * (fp["mask"].astype(np.float32) if relu else 1.0)
    y.backward(torch.tensor(dy_m).view(1, 1, -1))
    x64 = x16.astype(np.float64)
    var = x64.var()
    kappa = max(1.0, float((x64 ** 2).mean() / var)) if var > 0 else 1.0
    lam = 1.0 / np.sqrt(var + 1e-5)
    xh_ref = (x64 - x64.mean()) * lam
    tol_xh = 2 * (2 * U * np.sqrt(kappa) + np.abs(xh_ref) * U * (4 + 2 * kappa))
    y_ref = y.detach().numpy().ravel().astype(np.float64)
    if relu:
        y_ref = np.maximum(y_ref, 0)
    gam, bet = float(gamma16), float(beta16)
    tol_y = abs(gam) * tol_xh + 2 * U * (np.abs(gam * xh_ref) + abs(bet))
    m1, m2 = dy_m.mean(), (dy_m * xh_ref).mean()
    tol_dx = abs(gam * lam) * 4 * U * kappa * (np.abs(dy_m) + abs(m1) + np.abs(xh_ref * m2)
                                              + np.abs(dy_m).mean() * (1 + np.abs(xh_ref)))
    dx_ref = x.grad.numpy().ravel()
    checks = {
        "xhat": (fp["xhat"].astype(np.float64), xh_ref, tol_xh),
        "y": (fp["y"].astype(np.float64), y_ref, tol_y),
        "dx": (bp["dx"].astype(np.float64), dx_ref, tol_dx),
        "dgamma": (float(bp["dgamma"]), float(g.grad), np.sum(np.abs(dy_m) * tol_xh)
                   + 2 * U * abs(float(g.grad)) + 1e-7),
        "dbeta": (float(bp["dbeta"]), float(b.grad), 2 * U * abs(float(b.grad))
                  + 2.0 ** -20 * np.abs(dy_m).sum() + 1e-7),
    }
    worst = 0.0
    for name, (got, ref, tol) in checks.items():
        err = np.abs(np.asarray(got) - np.asarray(ref))
        ratio = float(np.max(err / tol))
        worst = max(worst, ratio)
        log.info("  vs float32 %-6s: max |err| %.3g, max err/tol %.3f", name, float(np.max(err)), ratio)
        assert ratio <= 1.0, f"{name} outside the stated FP16 error bound (ratio {ratio:.2f})"
    return worst


async def run_fp_bp(tb, xs, dys, params, relu=True, check_fp32=True):
    """FP for every channel, then BP with the FP outputs (xhat, mask, lambda)."""
    fps = []
    for k, x16 in enumerate(xs):
        g, b = params[k]
        fps.append(tb.fp(x16, g, b, relu, tag=f"ch{k} n={x16.size}"))
    await tb.drain()
    bps = []
    for k, (dy16, fp) in enumerate(zip(dys, fps)):
        g, _ = params[k]
        bps.append(tb.bp(dy16, fp["xhat"], fp["mask"], g, h(fp["lam"]), relu, tag=f"ch{k} n={dy16.size}"))
    await tb.drain()
    if check_fp32:
        for k in range(len(xs)):
            tb.dut._log.info("channel %d (n=%d):", k, xs[k].size)
            fp32_tolerance_check(tb.dut._log, xs[k], dys[k], from_bits16(params[k][0]),
                                 from_bits16(params[k][1]), fps[k], bps[k], relu)
    return fps, bps


def bn_params(k, seed=0):
    rng = np.random.default_rng(seed + k)
    return h(1.0 + 0.2 * rng.standard_normal()), h(0.1 * rng.standard_normal())


@cocotb.test(timeout_time=backstop_us(200_000), timeout_unit="us")
async def test_feature_maps(dut):
    """CIFAR-10 conv1 feature maps: batch 2 maps cropped to 16x16 (count 512,
    a power of two: the mean is an exact shift) and batch 3 maps cropped to
    10x10 (count 300, not a power of two: multiply by RNE32(1/300)); FP then
    BP, exact vs the model, then within the stated bound of float32 torch."""
    tb = BnTB(dut)
    await tb.reset()
    xs2, dys2 = channel_data(2, 16, [0, 1])
    xs3, dys3 = channel_data(3, 10, [2, 3, 4], seed=1)
    xs, dys = xs2 + xs3, dys2 + dys3
    params = [bn_params(k) for k in range(len(xs))]
    await run_fp_bp(tb, xs, dys, params)
    dut._log.info("checked %d beats + results, %d values", tb.sb.checked, tb.sb.values_checked)
    assert tb.sb.checked == 2 * sum(x.size for x in xs) + 2 * len(xs)
    assert tb.sb.result


@cocotb.test(timeout_time=backstop_us(200_000), timeout_unit="us")
async def test_backpressure(dut):
    """Random idle input cycles and random m_ready / r_ready stalls, ReLU on
    and off, counts 98 and 144: nothing lost, duplicated or changed."""
    tb = BnTB(dut, idle_prob=0.25, stall_prob=0.35, seed=9)
    await tb.reset()
    xs, dys = channel_data(2, 7, [6, 7, 8], seed=2)
    xs16, dys16 = channel_data(1, 12, [9], seed=3)
    xs, dys = xs + xs16, dys + dys16
    params = [bn_params(k, 40) for k in range(len(xs))]
    await run_fp_bp(tb, xs[:2], dys[:2], params[:2], relu=True, check_fp32=False)
    await run_fp_bp(tb, xs[2:], dys[2:], params[2:], relu=False, check_fp32=False)
    assert tb.sb.checked == 2 * sum(x.size for x in xs) + 2 * len(xs)
    assert tb.sb.result


@cocotb.test(timeout_time=backstop_us(200_000), timeout_unit="us")
async def test_edge_channels(dut):
    """Defined behaviour: a constant channel (var = 0: VZ, lambda =
    rsqrt(eps), y = beta), a channel whose E[x^2] overflows binary16 (NF; var
    = inf, lambda = 0), one whose mu^2 overflows, a channel of subnormals, an
    all-negative channel under ReLU, count = 0 (ERR, no element taken) and
    count = 1; BP with gradients that overflow dbeta (NF). Exact vs model."""
    tb = BnTB(dut, stall_prob=0.2, seed=4)
    await tb.reset()
    rng = np.random.default_rng(12)
    chans = [
        ("const", np.full(100, 1.5, np.float16)),
        ("big_rms", (500 + 100 * rng.standard_normal(96)).astype(np.float16)),
        ("big_mean", (3000 + rng.standard_normal(64)).astype(np.float16)),
        ("subnormal", (rng.standard_normal(77) * 2e-6).astype(np.float16)),
        ("negative", (-1 - rng.random(50)).astype(np.float16)),
        ("single", np.array([0.75], np.float16)),
    ]
    fps = []
    for k, (name, x16) in enumerate(chans):
        if k == 2:
            tb.error_channel()
        fps.append(tb.fp(x16, h(1.25), h(-0.5), relu=True, tag=name))
    await tb.drain()
    for (name, _), fp in zip(chans, fps):
        dut._log.info("%-9s mu %s var %s lambda %s NF %s VZ %s", name, fp["mu"], fp["var"], fp["lam"],
                      fp["of"], fp["vz"])
    assert fps[0]["vz"] and fps[1]["of"] and fps[2]["of"], "edge channels did not hit their case"
    big = (rng.standard_normal(128) * 3e4).astype(np.float16)
    bp_of = tb.bp(big, fps[1]["xhat"][:1].repeat(128), np.ones(128, np.uint8), h(1.0), h(fps[0]["lam"]),
                  relu=False, tag="dy overflow")
    tb.bp(np.full(100, 0.25, np.float16), fps[0]["xhat"], fps[0]["mask"], h(1.25), h(fps[0]["lam"]),
          relu=True, tag="const BP")
    await tb.drain()
    assert bp_of["of"], "BP overflow channel did not overflow"
    assert tb.sb.result


@cocotb.test(timeout_time=backstop_us(200_000), timeout_unit="us")
async def test_reset_midstream(dut):
    """A reset during pass 2 of a channel drops the channel (no result, no
    more beats), then a clean channel is computed exactly."""
    tb = BnTB(dut, stall_prob=0.3, seed=21)
    await tb.reset()
    xs, dys = channel_data(1, 20, [10, 11], seed=4)
    tb.fp(xs[0], h(1.0), h(0.0), relu=True, tag="interrupted")
    n = xs[0].size
    for _ in range(n * 4):                 # into pass 2, some outputs delivered
        await RisingEdge(dut.clk)
        if len(tb.exp_out) < n - 20:
            break
    assert len(tb.exp_out) <= n - 20, "the interrupted channel did not deliver 20 outputs of pass 2"
    dut.rst.value = 1
    tb.cmd.flush()
    tb.src.flush()
    tb.exp_out.clear()
    tb.exp_res.clear()
    await ClockCycles(dut.clk, 2)
    await ReadOnly()
    assert not dut.m_valid.value and not dut.r_valid.value, "valid high during reset"
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    got_before = len(tb.got_out)
    tb.fp(xs[1], h(0.9), h(0.1), relu=True, tag="after reset")
    await tb.drain()
    assert len(tb.got_out) - got_before == xs[1].size
    assert tb.sb.result
