"""cocotb tests of the stream-level BN unit (rtl/bn/bn_rows.v: bn_stat_exact
and a bn_core per lane, docs/bn_rows.md).

Reference: models/accel.batch_norm_fp / batch_norm_bp (models/bn_ref with
exact_stats=True), the accelerator's bit-accurate model. Every output is
compared bit for bit: per channel r_ (ch, mode, mu/var/lambda or
dbeta/dgamma, count, {ERR, NF, VZ}), per beat m_ (ch, mode, every lane's y /
xhat / mask or dx, keep, last, NF); every beat is counted (a missing or an
extra one fails) and every wait is bounded in clocks. The unit's geometry
comes from its ports: LANES = len(t_keep), MAX_C = 2^len(t_ch).

Stimuli: the FP16 conv outputs of the small CI network (models/accel.NetSpec
.small()) on 4 real CIFAR-10 test images, with its gammas and betas, and the
gradients of its backward pass; random FP16 channels; edge cases (N = 1, a
NaN, values that overflow, a wrong commanded N). The statistics pass gets the
elements in a shuffled order and random lane patterns (empty beats, an empty
last beat); random idle on both inputs and random backpressure on both
outputs, except in the throughput test, which checks one beat per clock.
"""

import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from models import accel
from models.bn_ref import _stats_exact, bits16, from_bits16, rsqrt_f16
from tb.lib.clock_reset import reset, start_clock
from tb.lib.stream import Backpressure, StreamDriver, StreamMonitor
from tb.lib.waits import backstop_us, wait_until

F16 = np.float16
EPS = F16(1e-5)
# r_valid this many clocks after a channel's last st_ beat is taken (FP; BP 3 fewer)
R_LATENCY = 53
M_LATENCY = 6
ST_FIELDS = ["bp", "relu", "ch", "a", "b", "m", "keep", "last", "n"]
T_FIELDS = ["bp", "relu", "ch", "a", "b", "m", "keep", "last", "gamma", "beta", "lam"]
R_FIELDS = ["ch", "bp", "a", "b", "c", "count", "flags"]
M_FIELDS = ["ch", "bp", "y", "xhat", "mask", "keep", "last", "nf"]


def nonfinite(v):
    return not np.isfinite(F16(v))


def b16(v):
    return int(bits16(F16(v)))


def pack(vals, idx):
    """Lane values (binary16 bits) of one beat: idx[i] the element in lane i or -1."""
    return sum(int(vals[j]) << (16 * i) for i, j in enumerate(idx) if j >= 0)


class RowsTB:
    def __init__(self, dut, idle_prob=0.0, stall_prob=0.0, seed=0):
        self.dut = dut
        self.lanes = len(dut.t_keep)
        self.max_c = 1 << len(dut.t_ch)
        self.nw = len(dut.st_n)
        self.rng = np.random.default_rng(seed + 500)
        start_clock(dut.clk)
        self.st = StreamDriver(dut, "st", dut.clk, ST_FIELDS, idle_prob=idle_prob, seed=seed)
        self.tx = StreamDriver(dut, "t", dut.clk, T_FIELDS, idle_prob=idle_prob, seed=seed + 1)
        self.r_bp = Backpressure(dut.r_ready, dut.clk, stall_prob, seed=seed + 2)
        self.m_bp = Backpressure(dut.m_ready, dut.clk, stall_prob, seed=seed + 3)
        self.r_mon = StreamMonitor(dut, "r", dut.clk, R_FIELDS, reset=dut.rst)
        self.m_mon = StreamMonitor(dut, "m", dut.clk, M_FIELDS, reset=dut.rst)
        self.r_got, self.m_got = [], []
        self.r_mon.add_callback(self.r_got.append)
        self.m_mon.add_callback(self.m_got.append)
        self.r_exp, self.m_exp = [], []
        self.r_ctx, self.m_ctx = [], []
        self.st_beats = self.t_beats = 0
        self.checked_r = self.checked_m = 0
        self.pending = set()       # channel ids queued since the last drain

    async def use(self, ch):
        """Channel id ch for a new pair of passes: if it is queued already, waits
        until its pass 2 has ended (bn_rows: a channel's pass 1 must not complete
        while its previous pass 2 runs)."""
        if ch in self.pending:
            await self.drain()
        self.pending.add(ch)
        return ch

    async def reset(self):
        self.dut.st_valid.value = 0
        self.dut.t_valid.value = 0
        await reset(self.dut.clk, self.dut.rst)

    # ------------------------------------------------------------ beats
    def layout(self, n, split, order):
        """Beats of n elements: lists of element indices per lane (-1: empty).
        order: the element order; split "packed" or "random" (any lane pattern,
        empty beats, sometimes an empty last beat)."""
        rng, lanes = self.rng, self.lanes
        beats, i = [], 0
        while i < n:
            if split == "packed":
                k = min(lanes, n - i)
                pos = list(range(k))
            else:
                k = min(int(rng.integers(0, lanes + 1)), n - i)
                pos = sorted(rng.choice(lanes, size=k, replace=False).tolist())
            idx = [-1] * lanes
            for p in pos:
                idx[p] = int(order[i])
                i += 1
            beats.append(idx)
        if not beats or (split == "random" and rng.random() < 0.3):
            beats.append([-1] * lanes)
        return beats

    def junk(self):
        """Lane values where s_keep is low: anything, NaN and inf included."""
        return [int(v) for v in self.rng.choice([0x7E00, 0x7C00, 0xFC00, 0x7BFF, 0x3C00, 0x1234], self.lanes)]

    def lanes_of(self, vals, idx):
        j = self.junk()
        return sum((int(vals[e]) if e >= 0 else j[i]) << (16 * i) for i, e in enumerate(idx))

    def keep_of(self, idx):
        return sum(1 << i for i, e in enumerate(idx) if e >= 0)

    # ------------------------------------------------------------ one channel, FP
    def fp_channel(self, ch, x, gamma, beta, relu, tag, st_split="random", t_split="packed",
                   n_cmd=None, ref=None, t_queue=None):
        """Queues both FP passes of one channel (x: binary16 bits) and their
        expected outputs. ref: the model's (out, stats) for this channel, checked
        against the per-channel reference computed here."""
        x = np.asarray(x, np.uint16)
        n = x.size
        n_cmd = n if n_cmd is None else n_cmd
        xf = from_bits16(x)
        g, b = F16(gamma), F16(beta)
        out, stats = accel.batch_norm_fp(xf.reshape(1, 1, n), np.array([g]), np.array([b]), relu)
        y, xh, mask = bits16(out["y"].ravel()), bits16(out["xhat"].ravel()), out["mask"].ravel()
        mu, var, lam = stats["mu"][0], stats["var"][0], stats["lam"][0]
        if ref is not None:
            ry, rxh, rmask, rmu, rvar, rlam = ref
            assert np.array_equal(y, bits16(ry)) and np.array_equal(xh, bits16(rxh)) \
                and np.array_equal(mask, rmask), f"{tag}: per-channel model differs from the layer's"
            assert (b16(mu), b16(var), b16(lam)) == (b16(rmu), b16(rvar), b16(rlam))
        # channel flags: the scalars of bn_ref.bn_forward
        with np.errstate(all="ignore"):
            _, _, mu_s, m2 = _stats_exact(xf, xf, n)
            mu2 = F16(mu_s * mu_s)
            v = F16(m2 - mu2)
            vz = bool(v <= 0)
            if v < 0 or (v == 0 and np.signbit(v)):
                v = F16(0)
            ve = F16(v + EPS)
            lam_s = rsqrt_f16(ve)[()]
            ypre = ((xh.view(F16) * g).astype(F16) + b).astype(F16)
        assert (b16(mu_s), b16(v), b16(lam_s)) == (b16(mu), b16(var), b16(lam))
        nf = any(nonfinite(s) for s in (mu_s, m2, mu2, v, ve, lam_s))
        err = n_cmd != n
        self.r_exp.append({"ch": ch, "bp": 0, "a": b16(mu), "b": b16(var), "c": b16(lam), "count": n,
                           "flags": (int(err) << 2) | (int(nf) << 1) | int(vz)})
        self.r_ctx.append(f"{tag} FP ch{ch} n={n}")
        sts = self.layout(n, st_split, self.rng.permutation(n))
        for k, idx in enumerate(sts):
            self.st.append({"bp": 0, "relu": int(relu), "ch": ch, "a": self.lanes_of(x, idx),
                            "b": self.lanes_of(x, idx) ^ 0x5555, "m": int(self.rng.integers(0, 1 << self.lanes)),
                            "keep": self.keep_of(idx), "last": int(k == len(sts) - 1),
                            "n": n_cmd % (1 << self.nw)})
            self.st_beats += 1
        tq = self.tx if t_queue is None else t_queue
        beats = self.layout(n, t_split, np.arange(n) if t_split == "packed" else self.rng.permutation(n))
        for k, idx in enumerate(beats):
            last = int(k == len(beats) - 1)
            tq.append({"bp": 0, "relu": int(relu), "ch": ch, "a": self.lanes_of(x, idx),
                            "b": self.lanes_of(x, idx), "m": int(self.rng.integers(0, 1 << self.lanes)),
                            "keep": self.keep_of(idx), "last": last, "gamma": b16(g), "beta": b16(b),
                            "lam": int(self.rng.integers(0, 1 << 16))})
            self.t_beats += 1
            self.m_exp.append({"ch": ch, "bp": 0, "y": pack(y, idx), "xhat": pack(xh, idx),
                               "mask": sum(int(mask[e]) << i for i, e in enumerate(idx) if e >= 0),
                               "keep": self.keep_of(idx), "last": last,
                               "nf": int(any(nonfinite(ypre[e]) or nonfinite(xh[e].view(F16))
                                             for e in idx if e >= 0))})
            self.m_ctx.append(f"{tag} FP ch{ch} beat {k}")

    # ------------------------------------------------------------ one channel, BP
    def bp_channel(self, ch, dy, xhat, mask, gamma, lam, relu, tag, st_split="random", t_split="packed",
                   ref=None, t_queue=None):
        dy, xhat = np.asarray(dy, np.uint16), np.asarray(xhat, np.uint16)
        mask = np.asarray(mask, np.uint8)
        n = dy.size
        g, lm = F16(gamma), F16(lam)
        dx, dgamma, dbeta = accel.batch_norm_bp(from_bits16(dy).reshape(1, 1, n), from_bits16(xhat).reshape(1, 1, n),
                                                mask.reshape(1, 1, n), np.array([g]), np.array([lm]), relu)
        dx = bits16(dx.ravel())
        if ref is not None:
            rdx, rdg, rdb = ref
            assert np.array_equal(dx, bits16(rdx)) and (b16(dgamma[0]), b16(dbeta[0])) == (b16(rdg), b16(rdb)), \
                f"{tag}: per-channel model differs from the layer's"
        with np.errstate(all="ignore"):
            dym = from_bits16(dy).copy()
            if relu:
                dym = np.where(mask != 0, dym, F16(0)).astype(F16)
            s1, s2, m1, m2 = _stats_exact(dym, from_bits16(xhat), n)
            gl = F16(g * lm)
        assert (b16(s1), b16(s2)) == (b16(dbeta[0]), b16(dgamma[0]))
        nf = any(nonfinite(s) for s in (m1, m2, s1, s2))
        self.r_exp.append({"ch": ch, "bp": 1, "a": b16(dbeta[0]), "b": b16(dgamma[0]), "c": 0, "count": n,
                           "flags": int(nf) << 1})
        self.r_ctx.append(f"{tag} BP ch{ch} n={n}")
        sts = self.layout(n, st_split, self.rng.permutation(n))
        for k, idx in enumerate(sts):
            self.st.append({"bp": 1, "relu": int(relu), "ch": ch, "a": self.lanes_of(dy, idx),
                            "b": self.lanes_of(xhat, idx), "m": self.mask_of(mask, idx),
                            "keep": self.keep_of(idx), "last": int(k == len(sts) - 1), "n": n % (1 << self.nw)})
            self.st_beats += 1
        tq = self.tx if t_queue is None else t_queue
        beats = self.layout(n, t_split, np.arange(n) if t_split == "packed" else self.rng.permutation(n))
        for k, idx in enumerate(beats):
            last = int(k == len(beats) - 1)
            tq.append({"bp": 1, "relu": int(relu), "ch": ch, "a": self.lanes_of(dy, idx),
                            "b": self.lanes_of(xhat, idx), "m": self.mask_of(mask, idx),
                            "keep": self.keep_of(idx), "last": last, "gamma": b16(g),
                            "beta": int(self.rng.integers(0, 1 << 16)), "lam": b16(lm)})
            self.t_beats += 1
            self.m_exp.append({"ch": ch, "bp": 1, "y": pack(dx, idx), "xhat": 0, "mask": 0,
                               "keep": self.keep_of(idx), "last": last,
                               "nf": int(any(nonfinite(dx[e].view(F16)) or nonfinite(gl) for e in idx if e >= 0))})
            self.m_ctx.append(f"{tag} BP ch{ch} beat {k}")

    def mask_of(self, mask, idx):
        """The mask bits of a beat; lanes left out get random bits."""
        junk = int(self.rng.integers(0, 1 << self.lanes))
        return sum(((int(mask[e]) if e >= 0 else (junk >> i) & 1) << i) for i, e in enumerate(idx))

    # ------------------------------------------------------------ checking
    def check(self):
        """Compares what has come out so far, in order, field by field."""
        for got_l, exp_l, ctx_l, port, attr in ((self.r_got, self.r_exp, self.r_ctx, "r", "checked_r"),
                                                (self.m_got, self.m_exp, self.m_ctx, "m", "checked_m")):
            i = getattr(self, attr)
            while i < len(got_l):
                assert i < len(exp_l), f"an extra beat on {port}_: {got_l[i]}"
                g, e = got_l[i], exp_l[i]
                bad = {f: (hex(g[f]), hex(e[f])) for f in e if g[f] != e[f]}
                assert not bad, f"{port}_ beat {i} ({ctx_l[i]}): (got, expected) {bad}"
                i += 1
            setattr(self, attr, i)

    async def drain(self):
        """Waits (bounded) until every expected beat has come out and been
        checked, then a while longer so that an extra beat would be caught."""
        limit = (self.st_beats + self.t_beats) * 10 + len(self.r_exp) * 400 + 5000

        def done():
            self.check()
            return len(self.r_got) >= len(self.r_exp) and len(self.m_got) >= len(self.m_exp)
        await wait_until(self.dut.clk, done, limit, "bn_rows outputs",
                         lambda: f"r {len(self.r_got)} of {len(self.r_exp)}, m {len(self.m_got)} of "
                                 f"{len(self.m_exp)}, st {self.st.sent} of {self.st_beats} beats, "
                                 f"t {self.tx.sent} of {self.t_beats}")
        await ClockCycles(self.dut.clk, R_LATENCY + 40)
        self.pending.clear()
        self.check()
        assert len(self.r_got) == len(self.r_exp) and len(self.m_got) == len(self.m_exp)


# ---------------------------------------------------------------- the small CI network on CIFAR-10
_NET = {}


def small_net():
    """Forward and backward of models/accel on NetSpec.small() with 4 CIFAR-10
    test images (as tests/test_accel_model.py), cached per process."""
    if not _NET:
        from models.datasets import cifar_float, load_cifar10
        spec = accel.NetSpec.small()
        imgs, labels = load_cifar10("test", indices=np.arange(4) * 1000 + 3)
        x16 = cifar_float(imgs)[:, :, :16, :16].astype(F16)
        master = accel.init_master(spec, seed=0)
        p = accel.ChipParams.from_master(spec, master)
        t = accel.forward(spec, p, x16)
        _, _, d16 = accel.host_loss_grad(t, master["fc.bias"], labels.astype(np.int64))
        g = accel.backward(spec, p, t, d16)
        _NET.update(p=p, t=t, g=g)
    return _NET["p"], _NET["t"], _NET["g"]


def channels(c):
    """The channels a unit runs of a layer of c (BNR_CH_STEP: every k-th, to keep the 1-lane unit short)."""
    return list(range(0, c, int(os.environ.get("BNR_CH_STEP", "1"))))


async def queue_fp_layer(tb, conv, relu, ch_base):
    p, t, _ = small_net()
    bn = conv.replace("conv", "bn")
    y16 = t[f"{conv}.out"]
    n = 0
    for c in channels(y16.shape[1]):
        ref = (t[f"{bn}.out"][:, c].ravel(), t[f"{bn}.xhat"][:, c].ravel(), t[f"{bn}.mask"][:, c].ravel(),
               t[f"{bn}.mu"][c], t[f"{bn}.var"][c], t[f"{bn}.lam"][c])
        tb.fp_channel(await tb.use((ch_base + c) % tb.max_c), bits16(y16[:, c].ravel()), p.gamma[bn][c], p.beta[bn][c],
                      relu, f"{bn}", ref=ref)
        n += y16[:, c].size
    return n


async def queue_bp_layer(tb, bn, dy16, relu, ch_base):
    p, t, g = small_net()
    n = 0
    for c in channels(dy16.shape[1]):
        ref = (g[f"{bn}.dx"][:, c].ravel(), g[f"{bn}.dgamma"][c], g[f"{bn}.dbeta"][c])
        tb.bp_channel(await tb.use((ch_base + c) % tb.max_c), bits16(dy16[:, c].ravel()), bits16(t[f"{bn}.xhat"][:, c].ravel()),
                      t[f"{bn}.mask"][:, c].ravel(), p.gamma[bn][c], t[f"{bn}.lam"][c], relu, f"{bn}", ref=ref)
        n += dy16[:, c].size
    return n


@cocotb.test(timeout_time=backstop_us(3_000_000), timeout_unit="us")
async def test_fp_cifar(dut):
    """FP of two layers of the small network on CIFAR-10: conv1 -> bn1 + ReLU
    (8 channels of 4x16x16) and layers.1.conv2 -> bn2 without ReLU (16 of
    4x8x8), exact against models/accel.batch_norm_fp. The second layer's
    statistics (other channel ids) stream in while the first's transform
    runs. Random idle and backpressure."""
    tb = RowsTB(dut, idle_prob=0.2, stall_prob=0.3, seed=1)
    await tb.reset()
    n = await queue_fp_layer(tb, "conv1", True, 0)
    n += await queue_fp_layer(tb, "layers.1.conv2", False, 8)
    await tb.drain()
    dut._log.info("%d channels, %d elements, %d m beats, all exact", len(tb.r_exp), n, len(tb.m_exp))
    assert tb.checked_r == len(tb.r_exp) > 0 and tb.checked_m == len(tb.m_exp) > 0


@cocotb.test(timeout_time=backstop_us(3_000_000), timeout_unit="us")
async def test_bp_cifar(dut):
    """BP of two layers of the small network on CIFAR-10 (the model's own
    gradients): bn1 (ReLU mask, dy = conv1's output gradient) and
    layers.1.bn1 (ReLU mask, dy = conv2's dX), exact against
    models/accel.batch_norm_bp (dx per element, dbeta and dgamma per channel)."""
    _, _, g = small_net()
    tb = RowsTB(dut, idle_prob=0.2, stall_prob=0.3, seed=2)
    await tb.reset()
    n = await queue_bp_layer(tb, "bn1", g["conv1.dout"], True, 0)
    n += await queue_bp_layer(tb, "layers.1.bn1", g["layers.1.conv2.dx"], True, 8)
    await tb.drain()
    dut._log.info("%d channels, %d elements, %d m beats, all exact", len(tb.r_exp), n, len(tb.m_exp))
    assert tb.checked_r == len(tb.r_exp) > 0 and tb.checked_m == len(tb.m_exp) > 0


def rand_f16(rng, n, scale_exp=None):
    """n random finite binary16 values (bits): a normal distribution at a
    random scale, with a few values of any exponent."""
    e = int(rng.integers(-12, 6)) if scale_exp is None else scale_exp
    x = (rng.standard_normal(n) * 2.0 ** e + rng.standard_normal() * 2.0 ** e).astype(F16)
    wild = rng.random(n) < 0.05
    x[wild] = (rng.standard_normal(int(wild.sum())) * 2.0 ** rng.integers(-24, 15, int(wild.sum()))).astype(F16)
    x[~np.isfinite(x)] = F16(-65504)
    return bits16(x)


@cocotb.test(timeout_time=backstop_us(3_000_000), timeout_unit="us")
async def test_random_and_edges(dut):
    """Random FP16 channels (FP and BP, ReLU on and off, random gamma, beta,
    lambda), in random lane patterns in both passes, and the edge cases: N = 1
    (var 0: VZ, lambda = rsqrt(eps)), N = 2, a channel with a NaN, one with an
    inf, one whose values overflow mu*mu and the sums (NF), a wrong
    commanded N (ERR), x = const (var 0), m2 - mu*mu < 0 (clamped to +0),
    y = -0 before the ReLU (+0 out, mask 0). Channel ids wrap around MAX_C."""
    tb = RowsTB(dut, idle_prob=0.3, stall_prob=0.4, seed=3)
    await tb.reset()
    rng = np.random.default_rng(7)

    def rf():
        return F16(rng.standard_normal() * 2.0 ** rng.integers(-4, 3))

    cases = []
    for k in range(10):
        n = int(rng.choice([1, 2, 3, 5, 17, 64, 100, 257, 500]))
        cases.append(("rand", n, None))
    cases += [("n1", 1, None), ("nan", 40, "nan"), ("inf", 33, "inf"), ("big", 50, "big"),
              ("const", 30, "const"), ("errn", 20, "errn"), ("negvar", 4, "negvar"), ("negzero", 9, "negzero")]
    ch = int(rng.integers(0, tb.max_c))
    for k, (tag, n, kind) in enumerate(cases):
        x = rand_f16(rng, n)
        if kind == "nan":
            x[int(rng.integers(0, n))] = 0x7E01
        elif kind == "inf":
            x[int(rng.integers(0, n))] = 0xFC00
        elif kind == "big":
            x = bits16((rng.standard_normal(n) * 3e4 + 3e4).clip(-65504, 65504).astype(F16))
        elif kind == "const":
            x[:] = x[0]
        elif kind == "negvar":            # m2 - mu*mu rounds to -1: var clamped to +0 (VZ)
            x = np.array([20866, 20865, 20865, 20867], np.uint16)
        n_cmd = n + 1 if kind == "errn" else None
        relu = bool(k % 2)
        split = "random" if k % 3 else "packed"
        gamma, beta = rf(), rf()
        if kind == "negzero":             # x = mu: +0 * -gamma + -0 = -0, which ReLU makes +0, mask 0
            x[:] = x[0]
            gamma, beta, relu = -abs(gamma), F16(-0.0), True
        tb.fp_channel(await tb.use(ch), x, gamma, beta, relu, f"{tag}", t_split=split, n_cmd=n_cmd)
        ch = (ch + 1) % tb.max_c
        # BP on data of the same kind
        dy = rand_f16(rng, n)
        xh = rand_f16(rng, n, scale_exp=0)
        if kind in ("nan", "inf"):
            (dy if k % 2 else xh)[int(rng.integers(0, n))] = 0x7E00 if kind == "nan" else 0x7C00
        if kind == "big":
            dy = bits16((rng.standard_normal(n) * 2e4).astype(F16))
            xh = bits16((rng.standard_normal(n) * 2e4).astype(F16))
        mask = (rng.random(n) < 0.6).astype(np.uint8)
        tb.bp_channel(await tb.use(ch), dy, xh, mask, rf(), F16(abs(rf())), relu, f"{tag}", t_split=split)
        ch = (ch + 1) % tb.max_c
    await tb.drain()
    flags = [r["flags"] for r in tb.r_exp]
    dut._log.info("%d channels: NF %d, ERR %d, VZ %d", len(flags), sum(f >> 1 & 1 for f in flags),
                  sum(f >> 2 for f in flags), sum(f & 1 for f in flags))
    assert any(f & 2 for f in flags) and any(f & 4 for f in flags) and any(f & 1 for f in flags)
    negvar = [r for r, c in zip(tb.r_exp, tb.r_ctx) if c.startswith("negvar FP")]
    assert negvar and negvar[0]["b"] == 0 and negvar[0]["flags"] & 1, "the negative-var case did not clamp"
    negzero = [m for m, c in zip(tb.m_exp, tb.m_ctx) if c.startswith("negzero FP")]
    assert negzero and all(m["y"] == 0 and m["mask"] == 0 for m in negzero)
    # random betas and gammas: not only the network's (beta 0 at initialisation)
    assert len({m["y"] for m in tb.m_exp}) > 10
    assert any(m["nf"] for m in tb.m_exp), "no beat with a non-finite output"
    assert tb.checked_r == len(tb.r_exp) and tb.checked_m == len(tb.m_exp)


@cocotb.test(timeout_time=backstop_us(1_000_000), timeout_unit="us")
async def test_throughput(dut):
    """No idle, no backpressure: the statistics pass of 7 channels (4 FP, 3 BP)
    of 64 beats each takes one beat per clock (st_ready never low), and once
    the statistics are in, the transform pass of those channels takes one beat
    per clock and m_ gives one per clock, no bubble, across the FP/BP switch;
    latencies as documented (r_: 53 clocks FP, 50 BP; m_: 6)."""
    tb = RowsTB(dut, seed=4)
    await tb.reset()
    rng = np.random.default_rng(9)
    lanes, nch_fp, nch, beats = tb.lanes, 4, 7, 64
    st_stall = [0]
    t_taken, m_cycles = [], []
    r_at, last_st_at = [], []

    async def watch():
        cyc = 0
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            cyc += 1
            if dut.st_valid.value and not dut.st_ready.value:
                st_stall[0] += 1
            if dut.st_valid.value and dut.st_ready.value and dut.st_last.value:
                last_st_at.append(cyc)
            if dut.r_valid.value and dut.r_ready.value:
                r_at.append(cyc)
            if dut.t_valid.value and dut.t_ready.value:
                t_taken.append(cyc)
            if dut.m_valid.value and dut.m_ready.value:
                m_cycles.append(cyc)
    w = cocotb.start_soon(watch())
    t_beats = []          # the transform waits until every channel's statistics are out
    for c in range(nch):
        n = lanes * beats
        if c < nch_fp:
            tb.fp_channel(c, rand_f16(rng, n), F16(1.5), F16(-0.25), True, "tput", st_split="packed",
                          t_split="packed", t_queue=t_beats)
        else:
            tb.bp_channel(c, rand_f16(rng, n), rand_f16(rng, n, 0), (rng.random(n) < 0.5).astype(np.uint8),
                          F16(1.5), F16(0.75), True, "tput", st_split="packed", t_split="packed", t_queue=t_beats)
    await wait_until(dut.clk, lambda: len(tb.r_got) == nch, nch * (beats + 100) + 200, "statistics")
    for tr in t_beats:
        tb.tx.append(tr)
    await tb.drain()
    w.cancel()
    assert st_stall[0] == 0, f"st_ready low for {st_stall[0]} clocks in a stream of 64-beat channels"
    lat = [r - s for r, s in zip(r_at, last_st_at)]
    assert lat == [R_LATENCY] * nch_fp + [R_LATENCY - 3] * (nch - nch_fp), lat
    n_t = nch * beats
    assert len(t_taken) == n_t and t_taken[-1] - t_taken[0] == n_t - 1, "bubbles on t_"
    assert len(m_cycles) == n_t and m_cycles[-1] - m_cycles[0] == n_t - 1, "bubbles on m_"
    assert m_cycles[0] - t_taken[0] == M_LATENCY, (m_cycles[0], t_taken[0])
    dut._log.info("st: %d beats, no stall; t/m: %d beats in %d clocks; r latency %d, m latency %d",
                  nch * beats, n_t, m_cycles[-1] - m_cycles[0] + 1, lat[0],
                  m_cycles[0] - t_taken[0])


@cocotb.test(timeout_time=backstop_us(1_000_000), timeout_unit="us")
async def test_reset_midstream(dut):
    """A reset in the middle of both passes drops everything in flight and
    clears every channel's ready bit; channels sent after it are exact."""
    tb = RowsTB(dut, idle_prob=0.1, stall_prob=0.2, seed=5)
    await tb.reset()
    rng = np.random.default_rng(5)
    for c in range(3):
        tb.fp_channel(c, rand_f16(rng, 300), F16(1), F16(0), True, "pre")
    # the first channel's statistics out, the transform of it under way, the others in flight
    await wait_until(dut.clk, lambda: len(tb.r_got) >= 1, 3 * 300 * 2 + 500, "the first statistics")
    await ClockCycles(dut.clk, 30)
    tb.st.flush()
    tb.tx.flush()
    await tb.reset()
    await ClockCycles(dut.clk, 2)
    assert tb.m_got and len(tb.r_got) < 3, "the reset did not come in the middle of both passes"
    tb.check()                        # what came out before the reset is exact
    tb.r_exp, tb.m_exp, tb.r_ctx, tb.m_ctx = [], [], [], []
    tb.r_got.clear()
    tb.m_got.clear()
    tb.checked_r = tb.checked_m = 0
    for c in range(3):                # t_ready does not depend on t_valid: probe each channel
        dut.t_ch.value = c
        await ReadOnly()
        assert not dut.t_ready.value, f"channel {c}'s ready bit survived the reset"
        await RisingEdge(dut.clk)
    await ClockCycles(dut.clk, 100)
    assert not tb.r_got and not tb.m_got, "a beat from before the reset came out"
    for c in range(3):
        tb.fp_channel(c, rand_f16(rng, 200), F16(0.75), F16(0.5), bool(c % 2), "post")
        tb.bp_channel(c + 3, rand_f16(rng, 150), rand_f16(rng, 150, 0), (rng.random(150) < 0.5).astype(np.uint8),
                      F16(1.25), F16(0.5), True, "post")
    await tb.drain()
    assert tb.checked_r == 6 and tb.checked_m == len(tb.m_exp)
