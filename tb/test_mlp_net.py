"""cocotb tests of mlp_net, the MLP training engine, and the testbench they
share with mlp_trainer's (tb/test_mlp_trainer.py: the engine fed from SDRAM
through the training-vector memory; FrameCheck ties the engine's input to the
SDRAM image).

Input monitor (sample frames) -> MlpHw (bit-accurate model) and the float64
autograd reference -> TensorScoreboard; the DUT side reads every activation,
delta, gradient and weight from the banks when the engine signals
sample_done / batch_done. Environment (set by tb/units_mlp.py):
the HDL parameters as MLP_P, MLP_MAX_S0..MLP_MAX_S3 (max sizes), MLP_ADD_LAT,
MLP_SIGMOID; MLP_SCENARIO (which tests run: each test is skipped unless it
belongs to the scenario) and its knobs.
"""

import math
import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge, Timer
from cocotb_bus.monitors import Monitor

from models.mlp import reference_step
from models.mlp_hw import Layout, MlpHw, init_weights
from models.sigmoid_hw import SEG_PER_UNIT, SEGMENTS, sigmoid_alu, sigmoid_lut
from tb.lib.clock_reset import reset, start_clock
from tb.lib.sdram import SdramModel
from tb.lib.stream import StreamDriver, StreamMonitor
from tb.lib.scoreboard import ExpectedQueue
from tb.lib.tensors import TensorScoreboard, f32_bits
from tb.lib.waits import wait_for
from tb.mlp_data import mnist_samples, neuron_samples, red_pixels

P = int(os.environ.get("MLP_P", "1"))
MAX = tuple(int(os.environ.get(f"MLP_MAX_S{i}", d)) for i, d in enumerate(("128", "100", "100", "10")))
R = int(os.environ.get("MLP_ADD_LAT", "2"))
SCENARIO = os.environ.get("MLP_SCENARIO", "neuron")
F64_EVERY = int(os.environ.get("MLP_F64_EVERY", "1"))   # float64 check on every k-th sample
SIGMOID = int(os.environ.get("MLP_SIGMOID", "0"))        # 0: LUT, 1: ALU
# |got - ref| <= atol + rtol * max|ref| per tensor: float32 rounding over sums of up to
# 785 terms is about sqrt(785) * 6e-8 = 1.7e-6 relative; 2e-4 leaves room for the a(1 - a)
# and 1/m roundings compounding through three layers (observed ~1e-7).
F64_ATOL, F64_RTOL = 2e-5, 2e-4
CLK_NS = 10   # start_clock's period
MNIST = [784, 100, 100, 10]
LANE_SIZES = [int(v) for v in os.environ.get("MLP_SIZES", "30,17,9,4").split(",")]   # lanes and trainer


def _batches(m, nb):
    """MLP_M and MLP_BATCHES, else a test's defaults."""
    return int(os.environ.get("MLP_M", str(m))), int(os.environ.get("MLP_BATCHES", str(nb)))


def _sample_clocks(sizes):
    """A bound on the clocks of one training sample of `sizes` on P lanes: about
    four passes over the weights (forward, backprop, Delta, its share of an
    update), each neuron group adding its pipeline drain and sigmoid (ALU: 23
    dependent lane operations), twice over for margin."""
    drain = 250 if SIGMOID else 40
    return 8 * sum((sizes[l] + 1 + drain) * -(-sizes[l + 1] // P) for l in range(len(sizes) - 1))


def _budget(sizes, samples, extra=0):
    """A test's timeout (the backstop behind its bounded waits): `samples` of
    `sizes`, the host's weight writes (a word per clock) and `extra` clocks."""
    weights = sum((sizes[l] + 1) * sizes[l + 1] for l in range(len(sizes) - 1))
    clocks = samples * _sample_clocks(sizes) + weights + extra + 10_000
    return {"timeout_time": clocks * CLK_NS, "timeout_unit": "ns"}


def _u32(v):
    return int(np.asarray(v, np.float32).reshape(1).view(np.uint32)[0])


class FrameCheck:
    """The sample frames the engine takes, against the frames the test wrote
    to SDRAM (the reference, independent of the memory's RTL): word for word,
    in order, none missing or extra. A frame of the wrong length fails too:
    the memory delivers whole SDRAM vectors."""

    def __init__(self, frames):
        self.frames = np.asarray(frames, np.uint32)
        self.received = 0

    def __call__(self, words):
        k = self.received
        self.received += 1
        n = len(self.frames)
        assert k < n, f"engine input: frame {k} taken, but the test wrote only {n} frames to SDRAM"
        got, exp = np.asarray(words, np.uint32), self.frames[k]
        if got.shape == exp.shape and (got == exp).all():
            return
        same = [j for j in range(n) if got.shape == exp.shape and (self.frames[j] == got).all()]
        if got.shape != exp.shape:
            why = f"{got.size} words, SDRAM frame {k} has {exp.size}"
        else:
            bad = np.flatnonzero(got != exp)
            why = (f"{bad.size} words differ, first word {bad[0]}: got {int(got[bad[0]]):#010x} "
                   f"expected {int(exp[bad[0]]):#010x}")
        raise AssertionError(f"engine input: frame {k} is not SDRAM frame {k} ({why})"
                             + (f"; it is SDRAM frame {same[0]}" if same else ""))

    def assert_complete(self):
        assert self.received == len(self.frames), (
            f"engine input: {self.received} frames taken, {len(self.frames)} written to SDRAM")


class BankReader:
    """Reads tensors out of the engine's banks through the simulator (no clock
    passes), using the memory map of models.mlp_hw.Layout."""

    def __init__(self, dut, layout):
        self.dut, self.layout = dut, layout
        self._banks = {}

    def _mem(self, kind, b):
        key = (kind, b)
        if key not in self._banks:
            self._banks[key] = getattr(self.dut.gen_bank[b], kind).mem
        return self._banks[key]

    def _word(self, kind, b, addr):
        return self._mem(kind, b)[addr].value.to_unsigned()

    def acts(self, l, n):
        return np.array([self._word("u_aram", *self.layout.act_loc(l, j)) for j in range(1, n + 1)], np.uint32)

    def deltas(self, l, n):
        return np.array([self._word("u_dram", *self.layout.delta_loc(l, i)) for i in range(n)], np.uint32)

    def matrix(self, kind, l, rows, cols):
        out = np.empty((rows, cols), np.uint32)
        for i in range(rows):
            for j in range(cols):
                out[i, j] = self._word(kind, *self.layout.weight_loc(l, i, j))
        return out


class EngineMonitor(Monitor):
    """Emits the engine's tensors as transactions after every sample and batch."""

    def __init__(self, dut, reader, sizes, check_delta_every_sample):
        self.dut, self.reader, self.sizes = dut, reader, sizes
        self.name = "engine"
        self.last = {}
        self.train = True
        self.every = check_delta_every_sample
        self.samples = 0
        super().__init__()

    def _emit(self, name, bits):
        self.last[name] = bits
        for _ in range(2):  # once for the bit-exact model, once for the float64 reference
            self._recv({"name": name, "bits": bits})

    async def _monitor_recv(self):
        L = len(self.sizes) - 1
        while True:
            await RisingEdge(self.dut.sample_done)
            await ReadOnly()
            self.samples += 1
            for l in range(1, L + 1):
                self._emit(f"act{l}", self.reader.acts(l, self.sizes[l]))
            if not self.train:
                continue
            for l in range(1, L + 1):
                self._emit(f"delta{l}", self.reader.deltas(l, self.sizes[l]))
            batch_end = bool(self.dut.batch_done.value)
            if batch_end or self.every:
                for l in range(L):
                    self._emit(f"grad{l}" if batch_end else f"Delta{l}",
                               self.reader.matrix("u_gram", l, self.sizes[l + 1], self.sizes[l] + 1))
            if batch_end:
                for l in range(L):
                    self._emit(f"w{l}", self.reader.matrix("u_wram", l, self.sizes[l + 1], self.sizes[l] + 1))


class SampleClock:
    """Counts the engine's clocks: for each sample, the clocks busy was high
    since the previous sample_done (a sample that follows straight on, from the
    other input buffer, starts in the clock its predecessor finishes), and the
    clock number of every sample_done and batch_done."""

    def __init__(self, dut):
        self.dut = dut
        self.per_sample, self.done_at, self.batch_at = [], [], []
        self.now = 0
        self._busy = 0
        self._task = cocotb.start_soon(self._run())

    def restart(self):
        self._busy = 0

    async def _run(self):
        d = self.dut
        while True:
            await RisingEdge(d.clk)
            await ReadOnly()
            self.now += 1
            if d.sample_done.value:
                self.per_sample.append(self._busy)
                self.done_at.append(self.now)
                self._busy = 0
                if d.batch_done.value:
                    self.batch_at.append(self.now)
            if d.busy.value:
                self._busy += 1

    async def next_sample(self, clocks):
        """Waits at most ``clocks`` for the next sample_done; returns that sample's busy clocks."""
        n = len(self.per_sample)
        while len(self.per_sample) == n:
            await wait_for(RisingEdge(self.dut.sample_done), self.dut.clk, clocks, f"sample_done of sample {n}")
            await ReadOnly()
        return self.per_sample[n]


class MlpTB:
    def __init__(self, dut, idle_prob=0.0, seed=0):
        self.dut = dut
        # mlp_net itself, or mlp_trainer whose samples come from SDRAM through the memory
        self.system = not hasattr(dut, "s_valid")
        self.engine = dut.u_mlp if self.system else dut
        self.layout = Layout(P, MAX)
        start_clock(dut.clk)
        if not self.system:
            self.source = StreamDriver(dut, "s", dut.clk, ["data", "last"], idle_prob=idle_prob, seed=seed)
        for name in ("cfg_valid", "w_valid") + (("mem_start",) if self.system else ()):
            getattr(dut, name).value = 0
        self.expected = ExpectedQueue()
        self.scoreboard = TensorScoreboard(dut)
        self.frame = []
        self.model = None
        self.train = True
        self.snaps = []   # model state before each training frame, for a reset
        self.frame_check = None   # set when the samples come from SDRAM
        self.clock = SampleClock(dut)

    async def reset(self):
        await reset(self.dut.clk, self.dut.rst)

    async def configure(self, sizes, m, alpha, train=True, layers=None):
        d = self.dut
        L = len(sizes) - 1 if layers is None else layers
        full = list(sizes) + [0] * (4 - len(sizes))
        d.cfg_layers.value = L
        for i in range(4):
            getattr(d, f"cfg_size{i}").value = full[i]
        d.cfg_batch.value = m
        d.cfg_alpha.value = _u32(alpha)
        d.cfg_train.value = int(train)
        self.train = train
        if self.model is not None:
            self.eng_mon.train = train
        d.cfg_valid.value = 1
        await ReadOnly()
        if not d.cfg_ready.value:
            # the engine takes a configuration between samples
            await wait_for(RisingEdge(d.cfg_ready), d.clk, 200_000, "cfg_ready (the engine takes a configuration "
                           "between samples)")
        await RisingEdge(d.clk)
        d.cfg_valid.value = 0
        for _ in range(200):
            await RisingEdge(d.clk)
            await ReadOnly()
            if d.configured.value or d.err_config.value:
                break
        else:
            raise AssertionError("configuration taken, but neither configured nor err_config within 200 clocks")
        await RisingEdge(d.clk)
        self.clock.restart()
        return not bool(d.err_config.value)

    async def load_weights(self, weights):
        d = self.dut
        d.w_valid.value = 1
        for l, w in enumerate(weights):
            bits = f32_bits(w)
            d.w_layer.value = l
            for i in range(w.shape[0]):
                d.w_row.value = i
                for j in range(w.shape[1]):
                    d.w_col.value = j
                    d.w_data.value = int(bits[i, j])
                    await ReadOnly()
                    assert d.w_ready.value, "weight port not ready"
                    await RisingEdge(d.clk)
        d.w_valid.value = 0

    async def setup(self, sizes, weights, m, alpha, every=False, f64=True):
        """Configure, load the initial weights, and start the models."""
        assert await self.configure(sizes, m, alpha)
        await self.load_weights(weights)
        self.start_training(sizes, weights, m, alpha, check_delta_every_sample=every, f64=f64)

    async def finish(self):
        """A few clocks for a stray extra tensor or frame to show, then every
        expectation met; from SDRAM, every frame taken and the stream done."""
        await ClockCycles(self.dut.clk, 20)
        assert not self.expected, f"{len(self.expected)} expected tensors never checked"
        assert self.scoreboard.checked > 0
        if self.frame_check is not None:
            self.frame_check.assert_complete()
            assert not self.frame, f"engine input: {len(self.frame)} words of a frame without s_last"
            d = self.dut
            assert d.mem_done.value, "memory stream not done after its last frame"
            assert not d.mem_error.value.to_unsigned(), f"memory error {d.mem_error.value}"

    async def stream_from_sdram(self, x, y, **timing):
        """Writes one frame per sample (inputs, then targets) to an SDRAM model
        and starts the memory on all of them; the engine's input is checked
        against these frames (FrameCheck)."""
        d = self.dut
        frames = np.concatenate([x, y], axis=1).astype(np.float32).view(np.uint32)
        self.frame_check = FrameCheck(frames)
        self.sdram = SdramModel(d, d.clk, frames.reshape(-1), reset=d.rst, sleep_when_idle=True, **timing)
        cocotb.start_soon(self.sdram.run())
        d.mem_base.value = 0
        d.mem_num_vecs.value = len(frames)
        d.mem_start.value = 1
        await RisingEdge(d.clk)
        d.mem_start.value = 0

    def start_training(self, sizes, weights, m, alpha, check_delta_every_sample=False, f64=True):
        """Model side: every accepted frame goes to the models; DUT side: the
        engine monitor. Both feed the scoreboard."""
        self.sizes, self.m, self.alpha, self.f64 = list(sizes), m, alpha, f64
        self.model = MlpHw(sizes, weights, r=R, alpha=alpha, m=m,
                           sigmoid=sigmoid_alu if SIGMOID else sigmoid_lut)
        self.batch_x, self.batch_y = [], []
        self.outputs = []
        self.every = check_delta_every_sample
        self.in_mon = StreamMonitor(self.engine, "s", self.dut.clk, ["data", "last"], reset=self.dut.rst,
                                    callback=self._word)
        self.eng_mon = EngineMonitor(self.engine, BankReader(self.engine, self.layout), sizes,
                                     check_delta_every_sample)
        self.scoreboard.add_interface(self.eng_mon, self.expected)

    def _expect(self, name, exact, ref):
        self.expected.append({"name": name, "bits": f32_bits(exact)})
        if ref is not None:
            self.expected.append({"name": name, "ref": ref, "atol": F64_ATOL, "rtol": F64_RTOL})
        else:
            self.expected.append({"name": name, "bits": f32_bits(exact)})

    def _word(self, beat):
        self.frame.append(beat["data"])
        if not beat["last"]:
            return
        frame, self.frame = self.frame, []
        if self.frame_check is not None:
            self.frame_check(frame)
        s0, sl = self.sizes[0], self.sizes[-1]
        if len(frame) != s0 + sl:
            return  # the engine drops a mis-framed sample (err_frame)
        words = np.array(frame, np.uint32).view(np.float32)
        x, y = words[:s0], words[s0:]
        L = len(self.sizes) - 1
        w_before = [w.copy() for w in self.model.w]
        if not self.train:
            acts = self.model.forward(x[None])
            ref = reference_step(w_before, x[None], y[None], 0.0, lut=not SIGMOID) if self.f64 else None
            for l in range(1, L + 1):
                self._expect(f"act{l}", acts[l][0], ref[0][l][0] if ref else None)
            self.outputs.append(acts[L][0])
            return
        f64 = self.f64 and len(self.snaps) % F64_EVERY == 0
        # what a reset before this sample is done rolls back
        self.snaps.append(([d.copy() for d in self.model.delta_acc], self.model._n_in_batch,
                           len(self.batch_x), w_before))
        acts, deltas = self.model.sample(x, y)
        ref = reference_step(w_before, x[None], y[None], float(self.alpha), lut=not SIGMOID) if f64 else None
        for l in range(1, L + 1):
            self._expect(f"act{l}", acts[l], ref[0][l][0] if ref else None)
        for l in range(1, L + 1):
            self._expect(f"delta{l}", deltas[l], ref[1][l][0] if ref else None)
        self.batch_x.append(x)
        self.batch_y.append(y)
        if len(self.batch_x) == self.m:
            ref = reference_step(w_before, np.array(self.batch_x), np.array(self.batch_y),
                                 float(self.alpha), lut=not SIGMOID) if f64 else None
            grads, new_w = self.model.update()
            for l in range(L):
                self._expect(f"grad{l}", grads[l], ref[2][l] if ref else None)
            for l in range(L):
                self._expect(f"w{l}", new_w[l], ref[3][l] if ref else None)
            self.batch_x, self.batch_y = [], []
        elif self.every:
            for l in range(L):
                self._expect(f"Delta{l}", self.model.delta_acc[l], None)

    def abort_samples(self):
        """The engine was reset (rst is high): every sample it had not finished
        (computing, waiting in the other input buffer, or partly loaded) is
        dropped from the models and the stimulus. The tensors of the finished
        ones were all checked at their sample_done, so what is still expected
        belongs to the dropped ones. Returns how many whole samples were dropped."""
        self.source.flush()
        self.frame = []
        k = self.eng_mon.samples
        dropped = len(self.snaps) - k
        if dropped:
            deltas, n_in_batch, n_batch, weights = self.snaps[k]
            self.model.delta_acc, self.model._n_in_batch, self.model.w = deltas, n_in_batch, weights
            del self.batch_x[n_batch:], self.batch_y[n_batch:]
            del self.snaps[k:]
        self.expected.clear()
        return dropped

    def send_sample(self, x, y):
        words = [_u32(v) for v in np.concatenate([x, y])]
        for k, w in enumerate(words):
            self.source.append({"data": w, "last": int(k == len(words) - 1)})

    async def wait_samples(self, n, total=False):
        """Waits for n more finished samples (n in all since training started if
        total); fails once no sample has finished for a sample's bound of clocks."""
        target = n if total else self.eng_mon.samples + n
        bound = _sample_clocks(self.sizes)
        idle, done = 0, self.eng_mon.samples
        while self.eng_mon.samples < target:
            await Timer(1000 * CLK_NS, unit="ns")   # one wake-up per 1000 clocks
            idle = 0 if self.eng_mon.samples != done else idle + 1000
            done = self.eng_mon.samples
            if idle >= bound:
                e = self.engine
                state = {n: str(getattr(e, n).value) for n in ("st_q", "kind_q", "l_q", "step_q", "full_q", "cur_buf_q",
                                                               "ld_buf_q", "ld_cnt_q", "s_valid", "s_ready", "sample_q")}
                if self.frame_check is not None:
                    state["frames taken from SDRAM"] = f"{self.frame_check.received} of {len(self.frame_check.frames)}"
                    state.update({n: str(getattr(self.dut, n).value) for n in ("mem_busy", "mem_done", "mem_error")})
                raise AssertionError(f"sample_done: none for {idle} clocks, {done} of {target} samples finished; {state}")


async def _train_and_check(tb, sizes, x, y, m, alpha, every=False, seed=0):
    await tb.setup(sizes, init_weights(sizes, np.random.default_rng(seed)), m, alpha, every=every)
    for s in range(len(x)):
        tb.send_sample(x[s], y[s])
    await tb.wait_samples(len(x))
    await tb.finish()
    tb.dut._log.info("%d samples: %d tensors, %d values checked", len(x), tb.scoreboard.checked,
                     tb.scoreboard.values_checked)


@cocotb.test(skip=SCENARIO != "neuron", **_budget([128, 1], 8))
@cocotb.parametrize(n=[2, 4, 8, 16, 32, 64, 128])
async def test_neuron(dut, n):
    """One neuron with n inputs on MNIST pixels, 8 samples: m = 2 (4 updates),
    or m = 3 for n = 4, 16, 64, where 1/m is inexact (2 updates, 2 samples
    left in Delta); every value after every sample, Delta included, under
    idle input cycles."""
    tb = MlpTB(dut, idle_prob=0.3, seed=n)
    await tb.reset()
    x, y = neuron_samples(n, 0, 8)
    m = 3 if n in (4, 16, 64) else 2   # 1/3 is not exact: D = Delta * float32(1/3)
    await _train_and_check(tb, [n, 1], x, y, m=m, alpha=0.5, every=True, seed=n)
    assert tb.scoreboard.result


@cocotb.test(skip=SCENARIO != "neuron", **_budget([4, 1], 2, extra=7 * 200))
async def test_bad_config(dut):
    """Illegal configurations raise err_config and leave the engine idle and
    reconfigurable; a legal one then trains exactly."""
    tb = MlpTB(dut)
    await tb.reset()
    bad = [([4, 1], 0, None, "m = 0"), ([0, 1], 1, None, "empty input layer"),
           ([4, 0], 1, None, "empty layer"), ([MAX[0] + 1, 1], 1, None, "input layer too large"),
           ([4, MAX[1] + 1], 1, None, "layer too large"),
           ([4, 3, 3, MAX[3] + 1], 1, None, "output layer too large"),
           ([4, 1], 1, 0, "no weight layer")]
    for sizes, m, layers, why in bad:
        ok = await tb.configure(sizes, m, 0.5, layers=layers)
        assert not ok and dut.err_config.value, f"{why} was accepted"
        assert not dut.configured.value and not dut.busy.value, f"{why}: engine not idle"
        assert not dut.s_ready.value, f"{why}: samples accepted while unconfigured"
    x, y = neuron_samples(4, 0, 2)
    await _train_and_check(tb, [4, 1], x, y, m=2, alpha=0.5, every=True, seed=1)
    assert not dut.err_config.value
    assert tb.scoreboard.result


def sigmoid_sweep():
    """Pre-activations on both sides of every sigmoid LUT segment boundary (k/8
    up to the saturation at 8) and far beyond; for the ALU sigmoid the same
    points and its clamp at 16."""
    bounds = [k / SEG_PER_UNIT for k in range(1, SEGMENTS + 1)] + [16.0]
    pts = [0.0, 1e-30, 20.0]          # x 4 at most: f64 autograd stays finite
    for b in bounds:
        pts += [b, np.nextafter(np.float32(b), np.float32(0))]
    return np.array(pts, np.float32)


@cocotb.test(skip=SCENARIO != "neuron", **_budget([1, 10], 2 * SEGMENTS + 5))
async def test_sigmoid_segments(dut):
    """A 1-10 layer with zero biases and weights +-1, +-2, +-1/2, +-4, +-1/4
    (exact products) turns each input into 10 pre-activations: every LUT
    segment is entered at both ends, for both signs and 5 scales. Every
    activation and delta exact against the model and within the f64 tolerance
    of autograd; alpha = 0 keeps the weights."""
    tb = MlpTB(dut, idle_prob=0.2, seed=5)
    await tb.reset()
    xs = sigmoid_sweep()
    scale = np.array([1, -1, 2, -2, 0.5, -0.5, 4, -4, 0.25, -0.25], np.float32)
    w = [np.stack([np.zeros(10, np.float32), scale], 1)]
    y = np.eye(10, dtype=np.float32)[np.arange(len(xs)) % 10]
    await tb.setup([1, 10], w, 4, 0.0, every=True)
    for s in range(len(xs)):
        tb.send_sample(xs[s:s + 1], y[s])
    await tb.wait_samples(len(xs))
    await tb.finish()
    assert np.array_equal(tb.model.w[0], w[0])
    assert tb.scoreboard.result


@cocotb.test(skip=SCENARIO != "neuron", **_budget([6, 1], 4, extra=2 * 200))
async def test_frame_errors(dut):
    """A sample with too few or too many words is dropped with err_frame; the
    samples around it train exactly as if it had never been sent."""
    tb = MlpTB(dut)
    await tb.reset()
    n = 6
    x, y = neuron_samples(n, 0, 4)
    await tb.setup([n, 1], init_weights([n, 1], np.random.default_rng(2)), 2, 0.5, every=True)
    for s in range(2):   # one whole mini-batch
        tb.send_sample(x[s], y[s])
    await tb.wait_samples(2)
    assert not dut.err_frame.value
    for words in (n - 2, n + 3):   # short, then long
        for k in range(words):
            tb.source.append({"data": _u32(0.25), "last": int(k == words - 1)})
        for _ in range(200):
            await RisingEdge(dut.clk)
            if dut.err_frame.value:
                break
        assert dut.err_frame.value, f"a frame of {words} words was not flagged"
        await tb.configure([n, 1], 2, 0.5)   # clears the flag; weights stay in RAM
        assert not dut.err_frame.value
    for s in range(2, 4):
        tb.send_sample(x[s], y[s])
    await tb.wait_samples(2)
    await tb.finish()
    assert tb.scoreboard.result


@cocotb.test(skip=SCENARIO != "neuron", **_budget([4, 1], 3))
async def test_nan_inf(dut):
    """NaN and infinity inputs propagate as IEEE 754 says, bit for bit with the
    model (the hardware NaN is the canonical quiet NaN)."""
    tb = MlpTB(dut)
    await tb.reset()
    n = 4
    # inf * 0.5 + -inf * 0.5 is invalid (NV) and gives NaN; then a NaN input
    x = np.array([[np.inf, -np.inf, 0.25, 0.0], [0.5, 0.1, np.inf, 0.3], [np.nan, 0.2, 0.3, 0.4]], np.float32)
    y = np.array([[1.0], [0.0], [1.0]], np.float32)
    weights = init_weights([n, 1], np.random.default_rng(3))
    weights[0][0, 1:3] = 0.5
    await tb.setup([n, 1], weights, 1, 0.5, every=True, f64=False)
    for s in range(3):
        tb.send_sample(x[s], y[s])
    await tb.wait_samples(3)
    assert np.isnan(tb.model.w[0]).any(), "the NaN did not reach the weights"
    assert dut.fp_flags.value.to_unsigned() & 0x10, "NV flag not raised"
    await tb.finish()
    assert tb.scoreboard.result


@cocotb.test(skip=SCENARIO != "neuron", **_budget([4, 1], 4))
@cocotb.parametrize(alpha=[float("nan"), float("inf"), float("-inf")])
async def test_alpha_special(dut, alpha):
    """A NaN or infinite learning rate is a legal configuration that IEEE 754
    carries through the update w = D * (-alpha) + w: NaN everywhere, or
    infinities of the gradient's sign (NaN where D = 0), which turn to NaN in
    the next mini-batch's forward pass; every weight bit for bit with the
    model after each of the 2 updates, NaNs canonical."""
    tb = MlpTB(dut, seed=11)
    await tb.reset()
    x, y = neuron_samples(4, 0, 4)
    await tb.setup([4, 1], init_weights([4, 1], np.random.default_rng(4)), 2, alpha, every=True, f64=False)
    assert dut.configured.value and not dut.err_config.value
    for s in range(len(x)):
        tb.send_sample(x[s], y[s])
    await tb.wait_samples(len(x))
    await tb.finish()
    w = tb.model.w[0]
    assert not np.isfinite(w).any(), "the update did not reach every weight"
    assert tb.scoreboard.result


@cocotb.test(skip=SCENARIO != "neuron", **_budget([16, 1], 4))
async def test_reset_mid_sample(dut):
    """A reset while a sample is being computed aborts it (no weight or Delta
    word has been written yet in the forward pass); after reconfiguration the
    engine continues from the weights in RAM, exactly."""
    tb = MlpTB(dut)
    await tb.reset()
    n = 16
    x, y = neuron_samples(n, 10, 4)
    await tb.setup([n, 1], init_weights([n, 1], np.random.default_rng(4)), 1, 0.5, every=True)
    tb.send_sample(x[0], y[0])
    await tb.wait_samples(1)
    tb.send_sample(x[1], y[1])
    await wait_for(RisingEdge(dut.busy), dut.clk, 10_000, "busy for the second sample")
    await ClockCycles(dut.clk, 5)
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    assert tb.abort_samples() == 1
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    assert not dut.busy.value and not dut.configured.value
    assert await tb.configure([n, 1], 1, 0.5)
    for s in range(2, 4):
        tb.send_sample(x[s], y[s])
    await tb.wait_samples(2)
    await tb.finish()
    assert tb.scoreboard.result


def _lane_net():
    """The network of the `lanes` scenario (MLP_SIZES) and samples for it: MNIST
    pixels spread over the image, one-hot targets of the digit modulo the outputs."""
    sizes = LANE_SIZES
    def samples(start, count):
        x, _ = neuron_samples(sizes[0], start, count)
        _, digits = mnist_samples(start, count)
        y = np.eye(sizes[-1], dtype=np.float32)[np.argmax(digits, axis=1) % sizes[-1]]
        return x, y
    return sizes, samples


class StreamWatch:
    """Counts clocks in which a sample word was taken while the engine was busy
    (loading overlapped with computing) and clocks of backpressure (s_valid
    high, s_ready low)."""

    def __init__(self, dut):
        self.dut, self.overlap, self.stalled = dut, 0, 0
        cocotb.start_soon(self._run())

    async def _run(self):
        d = self.dut
        while True:
            await RisingEdge(d.clk)
            await ReadOnly()
            if d.s_valid.value and d.s_ready.value and d.busy.value:
                self.overlap += 1
            if d.s_valid.value and not d.s_ready.value:
                self.stalled += 1


@cocotb.test(skip=SCENARIO != "lanes", **_budget(LANE_SIZES, 12, extra=12 * 400))
async def test_overlap_stream(dut):
    """Samples streamed back to back, with random idle words and random gaps
    between samples, into the double-buffered input while the engine computes
    (and against backpressure when both buffers are full): every activation,
    delta, Delta, gradient and weight exact, none lost or repeated."""
    sizes, samples = _lane_net()
    m, nb = 3, 4
    x, y = samples(0, m * nb)
    tb = MlpTB(dut, idle_prob=0.15, seed=11)
    watch = StreamWatch(dut)
    await tb.reset()
    await tb.setup(sizes, init_weights(sizes, np.random.default_rng(5)), m, 0.5, every=True)
    rng = np.random.default_rng(12)
    for s in range(m * nb):
        tb.send_sample(x[s], y[s])
        if rng.random() < 0.4:   # sometimes the host pauses until the engine has caught up
            await ClockCycles(dut.clk, int(rng.integers(1, 400)))
    await tb.wait_samples(m * nb, total=True)
    await tb.finish()
    dut._log.info("%s: %d words taken while computing, %d clocks of backpressure, %d values checked",
                  sizes, watch.overlap, watch.stalled, tb.scoreboard.values_checked)
    assert tb.eng_mon.samples == m * nb == len(tb.snaps)
    assert watch.overlap > 0, "no sample was loaded during computation"
    assert watch.stalled > 0, "the input never applied backpressure"
    assert tb.scoreboard.result


@cocotb.test(skip=SCENARIO != "lanes", **_budget(LANE_SIZES, 11, extra=2000))
async def test_reset_during_load(dut):
    """Reset while a sample computes and the next one is being loaded; then
    while one computes, one waits in the other buffer and a third is held off
    by backpressure. Every unfinished sample is lost (the host resends it);
    the engine restarts from the weights in RAM and trains exactly."""
    sizes, samples = _lane_net()
    m = 2
    x, y = samples(20, 10)
    tb = MlpTB(dut, seed=13)
    watch = StreamWatch(dut)
    await tb.reset()
    await tb.setup(sizes, init_weights(sizes, np.random.default_rng(6)), m, 0.5, every=True)

    async def reset_when(cond, what, expect_dropped):
        for _ in range(50_000):
            await RisingEdge(dut.clk)
            await ReadOnly()
            if cond():
                break
        else:
            raise AssertionError(f"no clock with {what} within 50000 clocks")
        await RisingEdge(dut.clk)
        dut.rst.value = 1
        await ClockCycles(dut.clk, 2)
        assert tb.abort_samples() == expect_dropped
        dut.rst.value = 0
        await RisingEdge(dut.clk)
        assert not dut.busy.value and not dut.configured.value and not dut.s_ready.value
        assert await tb.configure(sizes, m, 0.5)

    for s in range(2):   # batch 1
        tb.send_sample(x[s], y[s])
    await tb.wait_samples(2)
    # sample 2 computes, sample 3 is half loaded
    tb.send_sample(x[2], y[2])
    tb.send_sample(x[3], y[3])
    await reset_when(lambda: dut.busy.value and len(tb.frame) >= sizes[0] // 2,
                     "busy and the next sample half loaded", 1)
    for s in (2, 3):   # batch 2, resent
        tb.send_sample(x[s], y[s])
    await tb.wait_samples(2)
    # sample 4 computes, 5 waits in the other buffer, 6 is held off
    for s in (4, 5, 6):
        tb.send_sample(x[s], y[s])
    stalled = watch.stalled
    await reset_when(lambda: watch.stalled > stalled and len(tb.snaps) - tb.eng_mon.samples == 2,
                     "s_valid held off by s_ready with both input buffers full", 2)
    for s in range(4, 8):   # batches 3 and 4
        tb.send_sample(x[s], y[s])
    await tb.wait_samples(4)
    await tb.finish()
    assert tb.eng_mon.samples == 8 and len(tb.snaps) == 8
    assert tb.scoreboard.result


@cocotb.test(skip=SCENARIO != "rednet", **_budget([3, 3, 3, 1], int(os.environ.get("MLP_TRAIN", "6000")) + 1000))
async def test_red_not_red(dut):
    """Paper 000 IV-B: the 3-3-3-1 network learns red / not red from 6000 real
    pixels (one epoch, m = 1), every value checked; then its test accuracy on
    1000 other pixels is measured on the RTL in inference mode."""
    data = red_pixels()
    x, y = data["train"]
    xt, yt = data["test"]
    n_train = int(os.environ.get("MLP_TRAIN", "6000"))
    tb = MlpTB(dut, seed=9)
    await tb.reset()
    await _train_and_check(tb, [3, 3, 3, 1], x[:n_train], y[:n_train], m=1, alpha=2.0, seed=0)
    assert await tb.configure([3, 3, 3, 1], 1, 2.0, train=False)
    for s in range(len(xt)):
        tb.send_sample(xt[s], yt[s])
    await tb.wait_samples(len(xt))
    await ClockCycles(dut.clk, 20)
    assert not tb.expected
    out = np.array(tb.outputs)[:, 0]
    acc = float(((out >= 0.5) == (yt[:, 0] > 0.5)).mean())
    dut._log.info("red / not red: test accuracy %.4f after %d training samples", acc, n_train)
    assert acc >= 0.95, f"test accuracy {acc}"
    assert tb.scoreboard.result


@cocotb.test(skip=SCENARIO != "mnist", **_budget(MNIST, math.prod(_batches(4, 2)), extra=1000))
async def test_mnist_batches(dut):
    """784-100-100-10 on real MNIST: MLP_BATCHES mini-batches of MLP_M samples."""
    m, nb = _batches(4, 2)
    tb = MlpTB(dut, idle_prob=0.05, seed=3)
    await tb.reset()
    x, y = mnist_samples(0, m * nb)
    sizes = MNIST
    await tb.setup(sizes, init_weights(sizes, np.random.default_rng(1)), m, 0.5)
    for b in range(nb):
        if b:
            # a learning-rate schedule: the host writes a new alpha between
            # mini-batches (a reconfiguration; the weights stay in the banks)
            await tb.wait_samples(b * m, total=True)
            alpha = np.float32(0.5 * (nb - b) / nb)
            assert await tb.configure(sizes, m, float(alpha))
            tb.alpha = tb.model.alpha = alpha
        for s in range(b * m, (b + 1) * m):
            tb.send_sample(x[s], y[s])
    await tb.wait_samples(m * nb, total=True)
    await tb.finish()
    dut._log.info("%d samples, alpha changed between mini-batches: %d tensors, %d values checked",
                  len(x), tb.scoreboard.checked, tb.scoreboard.values_checked)
    assert tb.scoreboard.result
