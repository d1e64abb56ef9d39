"""cocotb tests of the accelerator's vector engine (rtl/accel/accel_vec.v:
ops 2 ADD_RELU_FP, 3 POOL_FP, 6 POOL_BP, 7 ADD_RELU_BP, 9 ADD) and, through
it, the DMA blocks accel_rd, accel_rd_arb and accel_wr_arb.

Stimulus: the small network's real training iteration, host/accel's
compile_iteration(NetSpec.small(), 4, 16, 16) with models/accel.init_master's
weights on 4 CIFAR-10 test images (as tests/test_accel_host.py loads them),
run by a Trainer whose device steps ModelDevice through the FP and the BP
list one command at a time (ModelDevice.run(max_commands=1)). For each
command with a vector op the SDRAM image before and after it is kept: 3 in
the FP list (ADD_RELU_FP without and with the option-A stride-2 shortcut,
POOL_FP), 5 in BP (POOL_BP, ADD_RELU_BP with and without the shortcut, ADD
twice).

Per command: the image before it goes into the SDRAM models, the engine gets
the command's decoded fields (op, flags, each operand's base, dtype and
shape from the tensor-table entries, packed as accel_cmd's m port), and after
done (bounded) the WHOLE memory image must equal ModelDevice's image after
the command, byte for byte (every byte it writes, and nothing outside the
output regions changed), with status 0.

SDRAM: tb/lib/sdram.py's SdramModel serves the read port (random latency,
jitter, half bandwidth, burst gaps, refresh in the noisy tests); the write
port by its SdramWriter (random ready), writing with strobes into the same
word array.

Tests (unit accel_vec): each command on a fast SDRAM (clocks per command
logged); on a noisy SDRAM with write backpressure (two seeds); a reset in the
middle of every command at a random clock, then the same command again
(exact), and the engine idle right after the reset; test_odd_shapes: one-
command programs on random data (odd counts, odd H and W under the stride-2
shortcut, odd channel padding, pool sizes up to H W = 20000) against
ModelDevice.

Unit accel_dma (VEC_UNIT=dma, top rtl/accel/accel_vec_dma_harness.v): the DMA
blocks alone, 3 readers and 3 write streams at once (test_dma_traffic:
every word, m_last, the memory after the writes; the read throughput on a
fast SDRAM) and resets in the middle of traffic (test_dma_reset).
"""

import os
import random
import struct
import types

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from host import accel as ha
from models import accel as am
from tb.lib.clock_reset import start_clock
from tb.lib.sdram import SdramModel, SdramWriter
from tb.lib.waits import backstop_us

MAX_OPS = 12
# one module serves two units: accel_vec (the engine) and accel_dma (the DMA harness)
DMA = os.environ.get("VEC_UNIT", "vec") == "dma"
VEC_OPS = ("ADD_RELU_FP", "POOL_FP", "POOL_BP", "ADD_RELU_BP", "ADD")
SDRAM_FAST = dict(latency=2, jitter=0, bandwidth=1.0, burst_len=16, burst_gap=0, refresh_interval=0,
                  refresh_clocks=0, max_outstanding=4, max_request=16)
SDRAM_NOISY = dict(latency=6, jitter=20, bandwidth=0.5, burst_len=8, burst_gap=2, refresh_interval=500,
                   refresh_clocks=12, max_outstanding=2, max_request=16)


# ---------------------------------------------------------------- the reference
class _Recorder:
    """A device that runs ModelDevice one command at a time and keeps, for each
    vector command, (address, op, flags, operand entries, image before, after)."""

    def __init__(self):
        self.cmds = []

    def run(self, sdram, start):
        addr = start
        while True:
            words = struct.unpack_from("<16I", sdram.mem, addr)
            op, flags = ha.OP_NAMES[words[0] & 0xFF], (words[0] >> 8) & 0xFF
            if op == "STOP":
                return ha.OK, addr
            before = sdram.mem.copy()
            status, nxt = ha.ModelDevice().run(sdram, addr, max_commands=1)
            if nxt != addr + ha.CMD_BYTES:
                return status, nxt
            if op in VEC_OPS:
                ids = words[1:1 + ha.n_operands(op, flags)]
                self.cmds.append(dict(addr=addr, op=op, flags=flags, ents=[sdram.entry(t) for t in ids],
                                      before=before, after=sdram.mem.copy()))
            addr += ha.CMD_BYTES


_CACHE = {}


def vector_commands():
    if "cmds" not in _CACHE:
        from models.datasets import cifar_float, load_cifar10
        spec = am.NetSpec.small()
        imgs, labels = load_cifar10("test", indices=np.arange(4) * 1000 + 3)
        x = cifar_float(imgs)[:, :, :16, :16]
        rec = _Recorder()
        tr = ha.Trainer(spec, batch=4, height=16, width=16, device=rec, master=am.init_master(spec, seed=0))
        tr.step(x, labels.astype(np.int64), lr=0.1)
        _CACHE["cmds"] = rec.cmds
    return _CACHE["cmds"]


def fields(c):
    """The cmd port's values (accel_cmd's m_* packing) for a recorded command."""
    base = dtype = shape = 0
    for k, (b, dt, (n, ch, h, w)) in enumerate(c["ents"]):
        base |= b << (32 * k)
        dtype |= dt << (3 * k)
        shape |= (n << 48 | ch << 32 | h << 16 | w) << (64 * k)
    return ha.OPS[c["op"]], c["flags"], base, dtype, shape


def words(mem):
    return np.frombuffer(np.asarray(mem, np.uint8).tobytes(), "<u4").astype(np.uint64)


def image(word_mem):
    return np.asarray(word_mem, np.uint64).astype("<u4").view(np.uint8)


def describe(c):
    return f"{c['op']} flags {c['flags']} at {c['addr']:#x}"


# ---------------------------------------------------------------- bench
class VecTB:
    def __init__(self, dut, timing, ready_prob=1.0, seed=0):
        self.dut = dut
        start_clock(dut.clk)
        dut.rst.value = 1
        dut.cmd_valid.value = 0
        dut.cmd_op.value = 0
        dut.cmd_flags.value = 0
        dut.cmd_base.value = 0
        dut.cmd_dtype.value = 0
        dut.cmd_shape.value = 0
        # the engine's read port is rd_req_* / rd_valid, rd_ready, rd_data: SdramModel's names
        # {prefix}_req_* / {prefix}_rd_* through a renaming view
        port = types.SimpleNamespace(p_req_valid=dut.rd_req_valid, p_req_ready=dut.rd_req_ready,
                                     p_req_addr=dut.rd_req_addr, p_req_len=dut.rd_req_len,
                                     p_rd_valid=dut.rd_valid, p_rd_ready=dut.rd_ready, p_rd_data=dut.rd_data)
        self.mem = SdramModel(port, dut.clk, np.zeros(16, np.uint64), prefix="p", reset=dut.rst, seed=seed,
                              **timing)
        cocotb.start_soon(self.mem.run())
        wport = types.SimpleNamespace(p_wr_valid=dut.wr_valid, p_wr_ready=dut.wr_ready, p_wr_addr=dut.wr_addr,
                                      p_wr_data=dut.wr_data, p_wr_strb=dut.wr_strb)
        self.wr = SdramWriter(wport, dut.clk, self.mem.mem, prefix="p", reset=dut.rst, ready_prob=ready_prob,
                              seed=seed + 7)
        cocotb.start_soon(self.wr.run())

    def load(self, mem_bytes):
        self.mem.mem = self.wr.mem = words(mem_bytes)      # one word array for both ports

    async def reset(self, clocks=3):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, clocks)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def issue(self, c, gap=0):
        """Drives the command until the engine takes it; returns after that edge."""
        d = self.dut
        for _ in range(gap):
            await RisingEdge(d.clk)
        d.cmd_op.value, d.cmd_flags.value, d.cmd_base.value, d.cmd_dtype.value, d.cmd_shape.value = fields(c)
        d.cmd_valid.value = 1
        for _ in range(1000):
            await ReadOnly()
            fired = bool(d.cmd_ready.value)
            await RisingEdge(d.clk)
            if fired:
                d.cmd_valid.value = 0
                return
        raise AssertionError("cmd_ready never rose")

    async def wait_done(self, bound, what):
        """Clocks from the command's acceptance to done; checks status 0."""
        d = self.dut
        for n in range(1, bound + 1):
            await ReadOnly()
            if d.done.value:
                status = int(d.status.value)
                await RisingEdge(d.clk)
                assert status == ha.OK, f"{what}: status {status}"
                return n
            await RisingEdge(d.clk)
        raise AssertionError(f"{what}: no done within {bound} clocks (state {int(d.state_q.value)})")

    async def run_command(self, c, gap=0):
        self.load(c["before"])
        await self.issue(c, gap)
        n = await self.wait_done(self.bound(c), describe(c))
        await ClockCycles(self.dut.clk, 5)           # a late write would show in the compare
        self.compare(c)
        return n

    @staticmethod
    def bound(c):
        count = max(int(np.prod(s)) for _, _, s in c["ents"])
        return 40 * count + 5000

    def compare(self, c):
        got, exp = image(self.mem.mem), c["after"]
        bad = np.flatnonzero(got != exp)
        if len(bad):
            before = c["before"]
            where = ", ".join(f"{a:#x}: got {got[a]:#04x} expected {exp[a]:#04x} before {before[a]:#04x}"
                              for a in bad[:8])
            regions = [(b, b + ha.TensorDesc(0, "", dt, s).span) for b, dt, s in c["ents"]]
            raise AssertionError(f"{describe(c)}: {len(bad)} bytes differ ({where}); operand regions "
                                 + ", ".join(f"[{lo:#x}, {hi:#x})" for lo, hi in regions))


# ---------------------------------------------------------------- tests
TIMEOUT = backstop_us(3_000_000)


@cocotb.test(timeout_time=TIMEOUT, timeout_unit="us", skip=DMA)
async def test_commands_fast(dut):
    """Every vector command of the small net's iteration on a fast SDRAM
    (1 word per clock, always ready), whole image exact; clocks logged."""
    cmds = vector_commands()
    assert [c["op"] for c in cmds].count("ADD") == 2 and len(cmds) == 8, [c["op"] for c in cmds]
    tb = VecTB(dut, SDRAM_FAST)
    await tb.reset()
    for c in cmds:
        n = await tb.run_command(c)
        count = max(int(np.prod(s)) for _, _, s in c["ents"])
        dut._log.info(f"{describe(c)}: {n} clocks (largest operand {count} elements, "
                      f"{n / count:.2f} clocks per element)")


@cocotb.test(timeout_time=TIMEOUT, timeout_unit="us", skip=DMA)
async def test_commands_noisy(dut):
    """The same commands with random SDRAM latency, jitter, half read bandwidth,
    burst gaps, refresh and write backpressure (ready 60 %), two seeds, gaps
    between commands."""
    cmds = vector_commands()
    tb = VecTB(dut, dict(SDRAM_NOISY), ready_prob=0.6, seed=11)
    await tb.reset()
    for seed in (11, 23):
        tb.mem.rng, tb.wr.rng = random.Random(seed), random.Random(seed + 7)
        rng = random.Random(seed)
        for c in cmds:
            await tb.run_command(c, gap=rng.randint(0, 5))


@cocotb.test(timeout_time=TIMEOUT, timeout_unit="us", skip=DMA)
async def test_reset_mid_command(dut):
    """A reset at a random clock inside each command: no done, idle (cmd_ready)
    right after; then the same command again runs exactly, on the memory its
    interrupted run left."""
    cmds = vector_commands()
    tb = VecTB(dut, dict(SDRAM_NOISY), ready_prob=0.7, seed=5)
    await tb.reset()
    rng = random.Random(5)
    for c in cmds:
        tb.load(c["before"])
        await tb.issue(c)
        count = max(int(np.prod(s)) for _, _, s in c["ents"])
        for _ in range(rng.randint(1, count // 2)):       # at most 1 element per clock: mid-command
            await ReadOnly()
            assert not dut.done.value, f"{describe(c)}: done before it could have finished"
            await RisingEdge(dut.clk)
        dut.rst.value = 1
        await RisingEdge(dut.clk)
        await RisingEdge(dut.clk)
        dut.rst.value = 0
        await ReadOnly()
        assert dut.cmd_ready.value and not dut.done.value and not dut.wr_valid.value \
            and not dut.rd_req_valid.value, f"{describe(c)}: not idle after the reset"
        await RisingEdge(dut.clk)
        await tb.issue(c, gap=rng.randint(0, 3))
        await tb.wait_done(tb.bound(c), describe(c) + " after a reset")
        await ClockCycles(dut.clk, 5)
        tb.compare(c)


# ---------------------------------------------------------------- odd shapes, random data
def _one_command(tensors, op, flags, names, seed):
    """A Program of its own: `tensors` [(name, dtype, shape)], one command and
    STOP; the data area filled with random bytes first (so a stray write shows),
    then each input tensor written with random data (FP16: normal values of
    mixed magnitude, zeros of both signs, subnormals, a few near the top of the
    range so that sums overflow; masks random bits; inputs' scale words as the
    host writes them). Returns the recorded command (ModelDevice's image after)."""
    rng = np.random.default_rng(seed)
    prog = ha.Program()
    for name, dtype, shape in tensors:
        prog.tensors[name] = ha.TensorDesc(len(prog.tensors) + 1, name, dtype, tuple(shape))
    prog.fp = ha._align(ha.ENTRY_BYTES * (len(tensors) + 1))
    data = addr = ha._align(prog.fp + 2 * ha.CMD_BYTES)
    for d in prog.tensors.values():
        d.base = addr
        addr = ha._align(addr + d.span + int(rng.integers(0, 3)) * 64)
    prog.size = addr + 64
    prog.commands = [(prog.fp, op, flags, names), (prog.fp + ha.CMD_BYTES, "STOP", 0, ())]
    sdram = ha.Sdram(prog)
    sdram.mem[data:] = rng.integers(0, 256, prog.size - data, dtype=np.uint8)
    n_in = ha.SIGNATURE[op][0]
    for name in names[:n_in]:
        d = prog.tensors[name]
        if d.dtype == ha.MASK:
            sdram.write(name, rng.integers(0, 2, d.shape))
            continue
        x = rng.standard_normal(d.count) * np.exp2(rng.integers(-20, 10, d.count))
        pick = rng.random(d.count)
        x[pick < 0.05] = 0.0
        x[(pick >= 0.05) & (pick < 0.08)] = -0.0
        x[(pick >= 0.08) & (pick < 0.10)] = rng.choice([65504.0, -65504.0, 40000.0], int(((pick >= 0.08) & (pick < 0.10)).sum()))
        x[(pick >= 0.10) & (pick < 0.13)] *= 2.0 ** -16            # subnormals
        x16 = x.astype(np.float16).reshape(d.shape)
        e, amax, _ = ha.amax_exponent(x16)
        sdram.write(name, x16)
        sdram.write_scale(name, e, amax)
    words_ = struct.unpack_from("<16I", sdram.mem, prog.fp)
    ids = words_[1:1 + ha.n_operands(op, flags)]
    before = sdram.mem.copy()
    status, nxt = ha.ModelDevice().run(sdram, prog.fp, max_commands=1)
    assert nxt == prog.fp + ha.CMD_BYTES, (op, status)
    return dict(addr=prog.fp, op=op, flags=flags, ents=[sdram.entry(t) for t in ids], before=before,
                after=sdram.mem.copy())


F16, MSK = ha.FP16, ha.MASK
SC2, SC1 = ha.F_SHORTCUT_A | ha.F_STRIDE2, ha.F_SHORTCUT_A


def odd_cases():
    """(what, tensors, op, flags, names): odd element counts (a partial last word,
    the scale word at a 2-byte offset, a mask's partial last byte), odd H and W
    under the stride-2 shortcut, an odd channel padding (split 1 + 2), pools
    with H W = 25, 35, 32, 64 and 20000 (RNE16(1/(H W)) subnormal), and
    single-element tensors and H = W = 1."""
    s = (1, 3, 5, 5)
    return [
        ("ADD odd", [("a", F16, s), ("b", F16, s), ("o", F16, s)], "ADD", 0, ("a", "b", "o")),
        ("ADD_RELU_FP odd", [("b", F16, s), ("h", F16, s), ("o", F16, s), ("m", MSK, s)],
         "ADD_RELU_FP", 0, ("b", "h", "o", "m")),
        ("ADD_RELU_FP shortcut stride 2, odd H W, pad 1 + 2",
         [("b", F16, (2, 6, 4, 3)), ("h", F16, (2, 3, 7, 5)), ("o", F16, (2, 6, 4, 3)), ("m", MSK, (2, 6, 4, 3))],
         "ADD_RELU_FP", SC2, ("b", "h", "o", "m")),
        ("ADD_RELU_FP shortcut stride 1",
         [("b", F16, (1, 5, 3, 3)), ("h", F16, (1, 2, 3, 3)), ("o", F16, (1, 5, 3, 3)), ("m", MSK, (1, 5, 3, 3))],
         "ADD_RELU_FP", SC1, ("b", "h", "o", "m")),
        ("ADD_RELU_BP odd", [("d", F16, s), ("m", MSK, s), ("ds", F16, s), ("dsc", F16, s)],
         "ADD_RELU_BP", 0, ("d", "m", "ds", "dsc")),
        ("ADD_RELU_BP shortcut stride 2, odd H W, pad 1 + 2",
         [("d", F16, (2, 6, 4, 3)), ("m", MSK, (2, 6, 4, 3)), ("ds", F16, (2, 6, 4, 3)), ("dsc", F16, (2, 3, 7, 5))],
         "ADD_RELU_BP", SC2, ("d", "m", "ds", "dsc")),
        ("ADD_RELU_BP shortcut stride 1",
         [("d", F16, (1, 5, 3, 3)), ("m", MSK, (1, 5, 3, 3)), ("ds", F16, (1, 5, 3, 3)), ("dsc", F16, (1, 2, 3, 3))],
         "ADD_RELU_BP", SC1, ("d", "m", "ds", "dsc")),
        ("POOL_FP HW 35", [("x", F16, (1, 3, 5, 7)), ("f", F16, (1, 3, 1, 1))], "POOL_FP", 0, ("x", "f")),
        ("POOL_FP HW 32", [("x", F16, (1, 2, 4, 8)), ("f", F16, (1, 2, 1, 1))], "POOL_FP", 0, ("x", "f")),
        ("POOL_FP HW 20000", [("x", F16, (1, 1, 200, 100)), ("f", F16, (1, 1, 1, 1))], "POOL_FP", 0, ("x", "f")),
        ("POOL_BP HW 25", [("d", F16, (1, 3, 1, 1)), ("o", F16, (1, 3, 5, 5))], "POOL_BP", 0, ("d", "o")),
        ("POOL_BP HW 64", [("d", F16, (2, 2, 1, 1)), ("o", F16, (2, 2, 8, 8))], "POOL_BP", 0, ("d", "o")),
        ("POOL_BP HW 20000", [("d", F16, (1, 1, 1, 1)), ("o", F16, (1, 1, 200, 100))], "POOL_BP", 0, ("d", "o")),
        # one element per tensor, H = W = 1
        ("ADD one element", [("a", F16, (1, 1, 1, 1)), ("b", F16, (1, 1, 1, 1)), ("o", F16, (1, 1, 1, 1))],
         "ADD", 0, ("a", "b", "o")),
        ("ADD_RELU_FP shortcut stride 2, H = W = 1",
         [("b", F16, (3, 2, 1, 1)), ("h", F16, (3, 1, 1, 1)), ("o", F16, (3, 2, 1, 1)), ("m", MSK, (3, 2, 1, 1))],
         "ADD_RELU_FP", SC2, ("b", "h", "o", "m")),
        ("ADD_RELU_BP shortcut stride 2, H = W = 1",
         [("d", F16, (3, 2, 1, 1)), ("m", MSK, (3, 2, 1, 1)), ("ds", F16, (3, 2, 1, 1)), ("dsc", F16, (3, 1, 1, 1))],
         "ADD_RELU_BP", SC2, ("d", "m", "ds", "dsc")),
        ("POOL_FP HW 1", [("x", F16, (3, 3, 1, 1)), ("f", F16, (3, 3, 1, 1))], "POOL_FP", 0, ("x", "f")),
        ("POOL_BP HW 1", [("d", F16, (3, 3, 1, 1)), ("o", F16, (3, 3, 1, 1))], "POOL_BP", 0, ("d", "o")),
        ("POOL_BP W 1", [("d", F16, (1, 3, 1, 1)), ("o", F16, (1, 3, 7, 1))], "POOL_BP", 0, ("d", "o")),
    ]


@cocotb.test(timeout_time=TIMEOUT, timeout_unit="us", skip=DMA)
async def test_odd_shapes(dut):
    """The cases of odd_cases() on random data in a randomly filled SDRAM,
    three data seeds each, on the noisy SDRAM with write backpressure: whole
    image exact against ModelDevice."""
    tb = VecTB(dut, dict(SDRAM_NOISY), ready_prob=0.6, seed=31)
    await tb.reset()
    for k, (what, tensors, op, flags, names) in enumerate(odd_cases()):
        for seed in range(3):
            c = _one_command(tensors, op, flags, names, seed=100 * k + seed)
            c["what"] = what
            try:
                await tb.run_command(c, gap=seed)
            except AssertionError as e:
                raise AssertionError(f"{what}, seed {seed}: {e}") from None


# ---------------------------------------------------------------- the DMA blocks alone (unit accel_dma)
DMA_N = int(os.environ.get("DMA_N", "3"))
DMA_MAX_LEN = int(os.environ.get("DMA_MAX_LEN", "8"))
DMA_WORDS = 1 << 14                 # the SDRAM model's words; reads below DMA_WORDS / 2, writes above


class DmaTB:
    """N readers and N write streams of accel_vec_dma_harness, driven from one
    clock loop: reader i runs transfers of random base and length with m_ready
    high with probability ready[i], checking every word against the memory and
    m_last on the final one only (a start pulsed while busy must be ignored);
    write stream i writes random words with random strobes into its own slice
    of the upper half, in order, with random valid gaps."""

    def __init__(self, dut, seed, timing):
        self.dut, self.rng = dut, random.Random(seed)
        start_clock(dut.clk)
        dut.rst.value = 1
        for sig in ("start", "base", "nwords", "m_ready", "s_wr_valid", "s_wr_addr", "s_wr_data", "s_wr_strb"):
            getattr(dut, sig).value = 0
        init = np.array([self.rng.getrandbits(32) for _ in range(DMA_WORDS)], np.uint64)
        self.mem = SdramModel(dut, dut.clk, init, prefix="mem", reset=dut.rst, seed=seed, **timing)
        cocotb.start_soon(self.mem.run())
        self.wr = SdramWriter(dut, dut.clk, self.mem.mem, prefix="mem", reset=dut.rst, ready_prob=0.7, seed=seed + 1)
        cocotb.start_soon(self.wr.run())
        self.expect_mem = init.copy()
        self.ready = [1.0, 0.5, 0.9][:DMA_N] + [0.8] * max(0, DMA_N - 3)
        self.words_read = 0
        self.clocks = 0

    async def reset(self):
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 3)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def run(self, transfers, writes, stop_after=None):
        """Runs until every reader did `transfers` transfers and every stream
        wrote `writes` words (or `stop_after` clocks: then returns False)."""
        d, rng, n = self.dut, self.rng, DMA_N
        aw2 = len(d.mem_req_addr)
        aw = aw2 + 2
        todo = [transfers] * n
        exp = [None] * n                  # words still expected from reader i
        wq = []
        slice_w = DMA_WORDS // 2 // n
        for i in range(n):
            beats = []
            for _ in range(writes):
                a = DMA_WORDS // 2 + i * slice_w + rng.randrange(min(slice_w, 64))   # repeats: order matters
                beats.append((a, rng.getrandbits(32), rng.choice([0xF, 0xF, 0x1, 0x6, 0x8, 0x3, 0xC, 0x0])))
            wq.append(beats)
        wcur = [None] * n                 # the beat on stream i
        clocks = 0
        while any(todo) or any(e is not None for e in exp) or any(wq) or any(w is not None for w in wcur) \
                or self.mem.busy() or int(d.mem_wr_valid.value):
            await ReadOnly()
            busy, mv, ml = int(d.busy.value), int(d.m_valid.value), int(d.m_last.value)
            mr, md = int(d.m_ready.value), int(d.m_data.value)
            sv, sr = int(d.s_wr_valid.value), int(d.s_wr_ready.value)
            await RisingEdge(d.clk)
            clocks += 1
            if stop_after is not None and clocks >= stop_after:
                return False
            start = base = nwords = 0
            ready = 0
            for i in range(n):
                if mv >> i & 1 and mr >> i & 1:
                    assert exp[i], f"reader {i}: a word with nothing expected"
                    want = exp[i].pop(0)
                    got = md >> (32 * i) & 0xFFFFFFFF
                    assert got == want, f"reader {i}: {got:#010x}, expected {want:#010x}"
                    assert bool(ml >> i & 1) == (not exp[i]), f"reader {i}: m_last wrong ({len(exp[i])} left)"
                    self.words_read += 1
                    if not exp[i]:
                        exp[i] = None
                if exp[i] is None and todo[i] and not busy >> i & 1 and rng.random() < 0.5:
                    k = rng.choice([1, 2, DMA_MAX_LEN - 1, DMA_MAX_LEN, DMA_MAX_LEN + 1, 3 * DMA_MAX_LEN,
                                    rng.randint(1, 300)])
                    k = max(1, k)
                    w0 = rng.randrange(DMA_WORDS // 2 - k)
                    exp[i] = [int(x) for x in self.mem.mem[w0:w0 + k]]
                    todo[i] -= 1
                    start |= 1 << i
                    base |= (4 * w0) << (aw * i)
                    nwords |= k << (aw2 * i)
                elif exp[i] is not None and len(exp[i]) > 2 and rng.random() < 0.02:
                    start |= 1 << i                                  # ignored while busy
                    base |= (4 * rng.randrange(DMA_WORDS // 2)) << (aw * i)
                    nwords |= rng.randint(1, 5) << (aw2 * i)
                if rng.random() < self.ready[i]:
                    ready |= 1 << i
                # write streams
                if wcur[i] is not None and sv >> i & 1 and sr >> i & 1:
                    a, v, s = wcur[i]
                    old = int(self.expect_mem[a])
                    for j in range(4):
                        if s >> j & 1:
                            old = (old & ~(0xFF << 8 * j)) | (v & (0xFF << 8 * j))
                    self.expect_mem[a] = old
                    wcur[i] = None
                if wcur[i] is None and wq[i] and rng.random() < 0.7:
                    wcur[i] = wq[i].pop(0)
            d.start.value, d.base.value, d.nwords.value, d.m_ready.value = start, base, nwords, ready
            sv = sa = sd = ss = 0
            for i in range(n):
                if wcur[i] is not None:
                    a, v, s = wcur[i]
                    sv |= 1 << i
                    sa |= a << (aw2 * i)
                    sd |= v << (32 * i)
                    ss |= s << (4 * i)
            d.s_wr_valid.value, d.s_wr_addr.value, d.s_wr_data.value, d.s_wr_strb.value = sv, sa, sd, ss
            assert clocks < 400_000, "DMA run did not finish"
        await ClockCycles(d.clk, 3)
        assert np.array_equal(self.mem.mem, self.expect_mem), \
            f"memory differs at words {np.flatnonzero(self.mem.mem != self.expect_mem)[:8]}"
        self.clocks += clocks
        return True


@cocotb.test(timeout_time=TIMEOUT, timeout_unit="us", skip=not DMA)
async def test_dma_traffic(dut):
    """N readers and N write streams at once on a noisy SDRAM (jitter, half
    bandwidth, burst gaps, refresh, write ready 70 %): every word and m_last
    exact, no request over MAX_LEN words (the model refuses one), the memory
    after the writes exact; then a fast SDRAM with every m_ready high measures
    the read throughput (words per clock over the transfers)."""
    tb = DmaTB(dut, seed=3, timing=dict(SDRAM_NOISY, max_outstanding=3, max_request=DMA_MAX_LEN))
    await tb.reset()
    assert await tb.run(transfers=40, writes=400)
    tb.mem.configure(**dict(SDRAM_FAST, max_request=DMA_MAX_LEN))
    tb.wr.configure(ready_prob=1.0)
    tb.ready = [1.0] * DMA_N
    tb.words_read, tb.clocks = 0, 0
    assert await tb.run(transfers=20, writes=0)
    dut._log.info(f"fast SDRAM: {tb.words_read} words in {tb.clocks} clocks "
                  f"({tb.words_read / tb.clocks:.2f} words per clock on the shared read port)")


@cocotb.test(timeout_time=TIMEOUT, timeout_unit="us", skip=not DMA)
async def test_dma_reset(dut):
    """A reset in the middle of traffic (several times, at random clocks):
    busy, m_valid, mem_req_valid and mem_wr_valid low right after; the next
    transfers and writes exact."""
    tb = DmaTB(dut, seed=9, timing=dict(SDRAM_NOISY, max_outstanding=3, max_request=DMA_MAX_LEN))
    await tb.reset()
    rng = random.Random(9)
    for _ in range(6):
        await tb.run(transfers=10, writes=100, stop_after=rng.randint(5, 600))
        dut.rst.value = 1
        for sig in ("start", "m_ready", "s_wr_valid"):
            getattr(dut, sig).value = 0
        await ClockCycles(dut.clk, 2)
        dut.rst.value = 0
        await ReadOnly()
        assert not (int(dut.busy.value) or int(dut.m_valid.value) or int(dut.mem_req_valid.value)
                    or int(dut.mem_wr_valid.value)), "not idle after the reset"
        await RisingEdge(dut.clk)
        tb.expect_mem = tb.mem.mem.copy()          # writes before the reset: whatever landed
        assert await tb.run(transfers=5, writes=50)
