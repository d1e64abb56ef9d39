"""cocotb tests of the accelerator's FC engine (rtl/accel/accel_fc.v): ops 4
FC_FP and 5 FC_BP against host/accel.ModelDevice, the whole SDRAM image byte
for byte.

Stimulus: the small network's real training iteration
(host/accel.compile_iteration(NetSpec.small(), 4, 16, 16), models/accel
init_master weights, 4 real CIFAR-10 test images), ModelDevice stepped one
command at a time through the FP list, the host's loss gradient written to
fc.dout as host/accel.Trainer.step does, then the BP list. For the FC_FP and
the FC_BP command, the image from before the command is loaded into the SDRAM
models (tb/lib/sdram.py: SdramModel on the read port, SdramWriter on the
write port, one word array), the cmd port is driven with the command's
decoded fields (the table entries of its operand ids, as accel_cmd emits
them), and after done the whole image must equal ModelDevice's after-image,
and status its status; every byte written must lie in the command's output
regions [base, base + span).

Environment: FC_MAX_N, FC_MAX_C, FC_MAX_K (the unit's buffer parameters).

Tests: the two real commands (SDRAM fast and noisy); inf/NaN in each FP16
input (status 4, image unchanged); random shapes with odd counts (scale words
mid-word, FP16 pairs with strobes) and a dfeat overflow (tracked NaN word); the
ResNet-20 FC shape (64 -> 10, N = 8) with random data; shapes past the buffers
(status 3, nothing read or written); resets mid-command, after which the
command runs again and gives the image exactly; random SDRAM latency,
bandwidth, refresh and write backpressure throughout.
"""

import os
import random
import struct

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from host import accel as ha
from models import accel as am
from models.accel_num import amax_exponent
from tb.lib.clock_reset import start_clock
from tb.lib.sdram import SdramModel, SdramWriter
from tb.lib.waits import backstop_us, wait_until

MAX_OPS = 12
# the unit's buffer sizes (its MAX_N, MAX_C, MAX_K parameters)
MAX_N, MAX_C, MAX_K = (int(os.environ.get(f"FC_MAX_{x}", d)) for x, d in (("N", 128), ("C", 64), ("K", 16)))
SDRAM_FAST = dict(latency=2, jitter=0, bandwidth=1.0, burst_len=16, burst_gap=0, refresh_interval=0,
                  refresh_clocks=0, max_outstanding=4, max_request=16)
SDRAM_NOISY = dict(latency=6, jitter=14, bandwidth=0.5, burst_len=8, burst_gap=2, refresh_interval=300,
                   refresh_clocks=12, max_outstanding=2, max_request=16)
CMD_CLOCKS = 60_000          # the bound of a small-net or ResNet-20 command (at most ~5k clocks seen)


def cmd_bound(ents):
    """Clocks a command may take: its elements at 20 clocks each (noisy SDRAM, write
    backpressure) and its MACs at 3 per clock (both passes at LANES >= 2), plus 20k."""
    if len(ents) == 3:                      # FC_FP: x (N, C), w (K, C)
        (n, c), k = ents[0][2][:2], ents[1][2][0]
    else:                                   # FC_BP: g (N, K), w, x (N, C)
        (n, k), c = ents[0][2][:2], ents[2][2][1]
    return 20_000 + 20 * (n * c + k * c + n * k) + 3 * n * k * c


# ---------------------------------------------------------------- references
def _images():
    from models.datasets import cifar_float, load_cifar10
    imgs, labels = load_cifar10("test", indices=np.arange(4) * 1000 + 3)
    return cifar_float(imgs)[:, :, :16, :16], labels.astype(np.int64)


def _step_list(dev, sdram, start, keep):
    """Runs the list at `start` one command at a time; returns {op: (addr, before, after, status)}
    for the ops in `keep`."""
    out, addr = {}, start
    while True:
        op = struct.unpack_from("<I", sdram.mem, addr)[0] & 0xFF
        if op == ha.OPS["STOP"]:
            return out
        before = sdram.mem.copy()
        st, nxt = dev.run(sdram, addr, max_commands=1)
        status = ha.OK if (st == ha.ERR_OP and nxt == addr + ha.CMD_BYTES) else st
        assert status == ha.OK, f"the reference stopped at {addr:#x} with {status}"
        if op in keep:
            out[op] = (addr, before, sdram.mem.copy(), status)
        addr += ha.CMD_BYTES


_SMALL = {}


def small_iteration():
    """The small net's FC_FP and FC_BP: (sdram, {op: (addr, before, after, status)})."""
    if not _SMALL:
        spec = am.NetSpec.small()
        tr = ha.Trainer(spec, 4, 16, 16)
        x, labels = _images()
        p = am.ChipParams.from_master(spec, tr.master)
        for name in p.qw:
            tr.sdram.write(f"{name}.weight", p.qw[name].reshape(tr.prog.tensors[f"{name}.weight"].shape),
                           exponent=p.ew[name])
        for name in p.gamma:
            tr.sdram.write(f"{name}.gamma", p.gamma[name])
            tr.sdram.write(f"{name}.beta", p.beta[name])
        tr._write_tracked("input", np.asarray(x).astype(np.float16))
        dev = ha.ModelDevice()
        cmds = _step_list(dev, tr.sdram, tr.prog.fp, {ha.OPS["FC_FP"]})
        t = {"fc.logits": tr.sdram.read("fc.logits").reshape(len(labels), -1),
             "fc.logits_e": tr.sdram.exponent("fc.logits")}
        _, _, d16 = am.host_loss_grad(t, tr.master["fc.bias"], labels)
        tr._write_tracked("fc.dout", d16)
        cmds.update(_step_list(dev, tr.sdram, tr.prog.bp, {ha.OPS["FC_BP"]}))
        _SMALL.update(sdram=tr.sdram, cmds=cmds)
    return _SMALL["sdram"], _SMALL["cmds"]


def decode(mem, addr):
    """The cmd port's fields for the command at `addr`: op, flags, [(base, dtype, shape)]."""
    words = struct.unpack_from("<16I", mem, addr)
    op, flags = words[0] & 0xFF, (words[0] >> 8) & 0xFF
    n = ha.n_operands(ha.OP_NAMES[op], flags)
    ents = []
    for tid in words[1:1 + n]:
        base, dtype, _, *shape = struct.unpack_from("<IBBHHHH", mem, ha.ENTRY_BYTES * tid)
        ents.append((base, dtype, tuple(shape)))
    return op, flags, ents


def out_regions(op, ents):
    n_in = ha.SIGNATURE[ha.OP_NAMES[op]][0]
    return [(b, b + ha.TensorDesc(0, "", dt, sh).span) for b, dt, sh in ents[n_in:]]


def model_command(mem, addr):
    """ModelDevice on a copy of `mem`: (status, after-image)."""
    prog = ha.Program(size=len(mem))
    sd = ha.Sdram.__new__(ha.Sdram)
    sd.prog, sd.mem = prog, mem.copy()
    st, nxt = ha.ModelDevice().run(sd, addr, max_commands=1)
    status = ha.OK if (st == ha.ERR_OP and nxt == addr + ha.CMD_BYTES) else st
    return status, sd.mem


def fc_image(n, c, k, rng, big=False):
    """A custom image: the table, FC_FP at fp, FC_BP at bp (each followed by STOP),
    random tensors, random junk in every other byte of the data area (the outputs'
    old contents). big: eg + ew so large that dfeat overflows. Returns (mem, fp, bp)."""
    tensors = [("x", ha.FP16, (n, c, 1, 1)), ("w", ha.INT8, (k, c, 1, 1)), ("logits", ha.INT32, (n, k, 1, 1)),
               ("g", ha.FP16, (n, k, 1, 1)), ("dfeat", ha.FP16, (n, c, 1, 1)), ("dw", ha.INT32, (k, c, 1, 1))]
    prog = ha.Program()
    for name, dt, sh in tensors:
        prog.tensors[name] = ha.TensorDesc(len(prog.tensors) + 1, name, dt, sh)
    prog.fp = ha._align(ha.ENTRY_BYTES * (len(tensors) + 1))
    prog.bp = prog.fp + 2 * ha.CMD_BYTES
    addr = data = ha._align(prog.bp + 2 * ha.CMD_BYTES)
    for d in prog.tensors.values():
        d.base = addr
        addr = ha._align(addr + d.span)
    prog.size = addr + 256
    prog.commands = [(prog.fp, "FC_FP", 0, ("x", "w", "logits")), (prog.fp + 64, "STOP", 0, ()),
                     (prog.bp, "FC_BP", 0, ("g", "w", "x", "dfeat", "dw")), (prog.bp + 64, "STOP", 0, ())]
    sd = ha.Sdram(prog)
    sd.mem[data:] = rng.integers(0, 256, len(sd.mem) - data, dtype=np.uint8)
    for name in ("x", "g"):
        scale = 2.0 ** rng.integers(6, 12) if big else 2.0 ** rng.integers(-8, 4)
        v = (rng.standard_normal(prog.tensors[name].shape) * scale).astype(np.float16)
        e, amax, _ = amax_exponent(v)
        sd.write(name, v)
        sd.write_scale(name, e, amax)
    sd.write("w", rng.integers(-128, 128, prog.tensors["w"].shape), exponent=int(rng.integers(-8, 3)))
    if big:                                    # eg + ew large enough that dfeat overflows FP16
        sd.write_scale("w", 12)
    return sd.mem, prog.fp, prog.bp


# ---------------------------------------------------------------- bench
class _Ports:
    """Names the DUT's rd_*/wr_* ports as the SDRAM models expect them (prefix "m")."""

    MAP = {"m_req_valid": "rd_req_valid", "m_req_ready": "rd_req_ready", "m_req_addr": "rd_req_addr",
           "m_req_len": "rd_req_len", "m_rd_valid": "rd_valid", "m_rd_ready": "rd_ready", "m_rd_data": "rd_data",
           "m_wr_valid": "wr_valid", "m_wr_ready": "wr_ready", "m_wr_addr": "wr_addr", "m_wr_data": "wr_data",
           "m_wr_strb": "wr_strb"}

    def __init__(self, dut):
        self._dut = dut

    def __getattr__(self, name):
        return getattr(self._dut, self.MAP.get(name, name))


class FcTB:
    def __init__(self, dut, seed=0):
        self.dut = dut
        start_clock(dut.clk)
        dut.rst.value = 1
        dut.cmd_valid.value = 0
        for s in ("cmd_op", "cmd_flags", "cmd_base", "cmd_dtype", "cmd_shape"):
            getattr(dut, s).value = 0
        ports = _Ports(dut)
        self.words = np.zeros(16, np.uint64)
        self.rd = SdramModel(ports, dut.clk, self.words, prefix="m", reset=dut.rst, seed=seed, **SDRAM_FAST)
        self.wr = SdramWriter(ports, dut.clk, self.rd.mem, prefix="m", reset=dut.rst, seed=seed + 1)
        cocotb.start_soon(self.rd.run())
        cocotb.start_soon(self.wr.run())
        self.rng = random.Random(seed)

    def timing(self, sdram, ready_prob):
        self.rd.configure(**sdram)
        self.wr.configure(ready_prob=ready_prob)

    def load(self, mem):
        words = np.frombuffer(mem.tobytes(), "<u4").astype(np.uint64)
        self.rd.mem = words
        self.wr.mem = words
        self.wr.written = set()

    def image(self):
        return self.rd.mem.astype("<u4").view(np.uint8)

    async def reset(self, clocks=3):
        await RisingEdge(self.dut.clk)
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, clocks)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def issue(self, op, flags, ents):
        """Drives the cmd port until taken; returns the clock count at acceptance."""
        dut = self.dut
        base = dtype = shape = 0
        for k, (b, dt, (n, c, h, w)) in enumerate(ents):
            base |= b << (32 * k)
            dtype |= dt << (3 * k)
            shape |= (n << 48 | c << 32 | h << 16 | w) << (64 * k)
        dut.cmd_op.value, dut.cmd_flags.value = op, flags
        dut.cmd_base.value, dut.cmd_dtype.value, dut.cmd_shape.value = base, dtype, shape
        dut.cmd_valid.value = 1
        await ReadOnly()
        await wait_until(dut.clk, lambda: bool(dut.cmd_ready.value), 100, "cmd_ready")
        await RisingEdge(dut.clk)
        dut.cmd_valid.value = 0

    async def wait_done(self, bound=CMD_CLOCKS):
        """Clocks from the command's acceptance to done; returns (clocks, status)."""
        dut = self.dut
        await ReadOnly()
        clocks = await wait_until(dut.clk, lambda: bool(dut.done.value), bound, "done",
                                  lambda: f"state {int(dut.state_q.value)}, {self.wr.writes} writes")
        status = int(dut.status.value)
        await RisingEdge(dut.clk)
        await ReadOnly()
        assert not dut.done.value, "done longer than one clock"
        return clocks + 1, status

    async def run(self, mem, addr, expect=None):
        """Loads `mem`, runs its command at `addr`, checks the image and status against
        ModelDevice (or `expect` = (status, image)); returns the clocks."""
        op, flags, ents = decode(mem, addr)
        st_ref, img_ref = model_command(mem, addr) if expect is None else expect
        self.load(mem)
        writes0 = self.wr.writes
        await RisingEdge(self.dut.clk)
        await self.issue(op, flags, ents)
        clocks, status = await self.wait_done(cmd_bound(ents))
        await ClockCycles(self.dut.clk, 20)       # a write after done would show
        self.check(mem, addr, op, ents, status, st_ref, img_ref, self.wr.writes - writes0)
        return clocks, status

    def check(self, mem, addr, op, ents, status, st_ref, img_ref, writes):
        img = self.image()
        assert status == st_ref, f"command at {addr:#x}: status {status}, ModelDevice {st_ref}"
        bad = np.flatnonzero(img != img_ref)
        assert len(bad) == 0, (f"command at {addr:#x}: {len(bad)} bytes differ, first at {bad[0]:#x}: "
                               f"{img[bad[0]]:#04x}, ModelDevice {img_ref[bad[0]]:#04x}")
        regions = out_regions(op, ents)
        outside = [a for a in self.wr.written if not any(lo <= a < hi for lo, hi in regions)]
        assert not outside, f"{len(outside)} bytes written outside the output regions, first {min(outside):#x}"
        if st_ref != ha.OK:
            assert writes == 0, f"status {st_ref} but {writes} words written"


async def _bench(dut, seed=0):
    tb = FcTB(dut, seed)
    await tb.reset()
    return tb


NOISY = [(SDRAM_FAST, 1.0), (SDRAM_NOISY, 0.6), (dict(SDRAM_NOISY, bandwidth=0.3, latency=30), 0.3),
         (dict(SDRAM_FAST, latency=0, max_outstanding=1), 0.8)]


# ---------------------------------------------------------------- tests
@cocotb.test(timeout_time=backstop_us(12 * CMD_CLOCKS), timeout_unit="us")
async def test_small_net(dut):
    """The small net's FC_FP and FC_BP of a real iteration, on each SDRAM timing."""
    sdram, cmds = small_iteration()
    tb = await _bench(dut)
    for i, (timing, ready) in enumerate(NOISY):
        tb.timing(timing, ready)
        for op in (ha.OPS["FC_FP"], ha.OPS["FC_BP"]):
            addr, before, after, status = cmds[op]
            clocks, _ = await tb.run(before, addr, expect=(status, after))
            dut._log.info(f"small net {ha.OP_NAMES[op]} timing {i}: {clocks} clocks")


@cocotb.test(timeout_time=backstop_us(12 * CMD_CLOCKS), timeout_unit="us")
async def test_nonfinite(dut):
    """inf / NaN in each FP16 input: status 4 and the image unchanged (ModelDevice agrees)."""
    sdram, cmds = small_iteration()
    tb = await _bench(dut, seed=3)
    tb.timing(SDRAM_NOISY, 0.7)
    cases = [(ha.OPS["FC_FP"], "pool.out", np.inf), (ha.OPS["FC_FP"], "pool.out", -np.inf),
             (ha.OPS["FC_BP"], "fc.dout", np.nan), (ha.OPS["FC_BP"], "pool.out", np.inf),
             (ha.OPS["FC_BP"], "fc.dout", -np.inf)]
    rng = np.random.default_rng(5)
    for op, name, val in cases:
        addr, before, _, _ = cmds[op]
        mem = before.copy()
        d = sdram.prog.tensors[name]
        i = int(rng.integers(0, d.count))
        mem[d.base + 2 * i:d.base + 2 * i + 2] = np.frombuffer(np.float16(val).tobytes(), np.uint8)
        st_ref, img_ref = model_command(mem, addr)
        assert st_ref == ha.ERR_NONFINITE and np.array_equal(img_ref, mem)
        await tb.run(mem, addr)


@cocotb.test(timeout_time=backstop_us(4_000_000), timeout_unit="us")
async def test_random_shapes(dut):
    """Random N, C, K (odd counts: FP16 scale words mid-word, single FP16 elements
    with strobes, unaligned INT8 exponents), junk around the tensors, random
    SDRAM timing; one case where dfeat overflows to inf (tracked NaN word)."""
    tb = await _bench(dut, seed=11)
    rng = np.random.default_rng(11)
    shapes = [(1, 1, 1), (3, 13, 7), (5, 9, 3), (2, 64, 16), (128, 3, 2), (7, 31, 11), (1, 64, 1), (4, 2, 16),
              (MAX_N, MAX_C, MAX_K)]
    shapes = [s for s in shapes if s[0] <= MAX_N and s[1] <= MAX_C and s[2] <= MAX_K]
    for i, (n, c, k) in enumerate(shapes + [(3, 5, 5)]):
        big = i == len(shapes)
        mem, fp, bp = fc_image(n, c, k, rng, big=big)
        timing, ready = NOISY[i % len(NOISY)]
        tb.timing(timing, ready)
        for addr in (fp, bp):
            st_ref, img_ref = model_command(mem, addr)
            assert st_ref == ha.OK
            await tb.run(mem, addr, expect=(st_ref, img_ref))
        if big:
            op, _, ents = decode(mem, bp)
            base, _, (nn, cc, _, _) = ents[3]
            word = struct.unpack_from("<I", tb.image(), base + 2 * nn * cc)[0]
            assert word >> 16 == 0x7E00, f"the overflow case did not overflow: scale word {word:#x}"


@cocotb.test(timeout_time=backstop_us(12 * CMD_CLOCKS), timeout_unit="us")
async def test_resnet20_shape(dut):
    """ResNet-20's FC (64 -> 10, N = 8) with random data, fast and noisy SDRAM."""
    tb = await _bench(dut, seed=21)
    rng = np.random.default_rng(21)
    for i, (timing, ready) in enumerate(NOISY[:2]):
        mem, fp, bp = fc_image(8, 64, 10, rng)
        tb.timing(timing, ready)
        for addr, name in ((fp, "FC_FP"), (bp, "FC_BP")):
            clocks, _ = await tb.run(mem, addr)
            dut._log.info(f"ResNet-20 FC shape {name} timing {i}: {clocks} clocks")


@cocotb.test(timeout_time=backstop_us(8 * CMD_CLOCKS), timeout_unit="us")
async def test_too_big(dut):
    """A shape past the buffers: status 3, nothing read or written (ModelDevice would run it)."""
    tb = await _bench(dut, seed=31)
    rng = np.random.default_rng(31)
    for n, c, k in ((MAX_N + 1, 4, 3), (2, MAX_C + 1, 3), (2, 4, MAX_K + 1)):
        mem, fp, bp = fc_image(n, c, k, rng)
        for addr in (fp, bp):
            reqs = tb.rd.requests
            await tb.run(mem, addr, expect=(ha.ERR_SHAPE, mem.copy()))
            assert tb.rd.requests == reqs, "a too-big command read SDRAM"


@cocotb.test(timeout_time=backstop_us(40 * CMD_CLOCKS), timeout_unit="us")
async def test_reset_midcommand(dut):
    """A reset at a random clock of a command (loading, computing or writing; the
    engine must still be busy then): no done, read request or write afterwards;
    the command issued again on the image the aborted one left gives
    ModelDevice's image exactly."""
    sdram, cmds = small_iteration()
    tb = await _bench(dut, seed=41)
    rng = random.Random(41)
    tb.timing(SDRAM_NOISY, 0.7)
    full = {}
    for op in (ha.OPS["FC_FP"], ha.OPS["FC_BP"]):
        addr, before, after, status = cmds[op]
        full[op], _ = await tb.run(before, addr, expect=(status, after))
    states = []
    for trial in range(12):
        op = (ha.OPS["FC_FP"], ha.OPS["FC_BP"])[trial % 2]
        addr, before, after, status = cmds[op]
        op_, flags, ents = decode(before, addr)
        tb.load(before)
        await RisingEdge(dut.clk)
        await tb.issue(op_, flags, ents)
        # spread over the command: trial k in the k-th sixth of its uninterrupted clocks
        span = int(full[op] * 0.95) // 6
        await ClockCycles(dut.clk, 1 + span * (trial // 2) + rng.randrange(span))
        await ReadOnly()
        state = int(dut.state_q.value)
        assert state != 0, "the command ended before the reset: pick earlier clocks"
        states.append(state)
        await tb.reset(rng.randint(1, 3))
        for _ in range(50):
            await RisingEdge(dut.clk)
            await ReadOnly()
            assert not dut.done.value and not dut.wr_valid.value and not dut.rd_req_valid.value
        # run again on the image as the aborted command left it
        mem = tb.image().copy()
        await tb.run(mem, addr, expect=(status, after))
    dut._log.info(f"reset in states {states}")
    assert {4, 6} <= set(states), f"resets did not reach loading and computing: {states}"
    # the scale words (a clock or two): a reset the clock after the k-th S_SCALE is seen,
    # with its write pending or the command's last write in flight (FC_BP: after
    # dfeat's scale word, with dW still to come, and at the end)
    for op, k in ((ha.OPS["FC_FP"], 1), (ha.OPS["FC_BP"], 1), (ha.OPS["FC_BP"], 2)):
        addr, before, after, status = cmds[op]
        op_, flags, ents = decode(before, addr)
        tb.load(before)
        await RisingEdge(dut.clk)
        await tb.issue(op_, flags, ents)
        seen, prev = 0, 0
        for _ in range(cmd_bound(ents)):
            await RisingEdge(dut.clk)
            await ReadOnly()
            state = int(dut.state_q.value)
            seen += state == 7 and prev != 7
            prev = state
            if seen == k:
                break
        assert seen == k, f"S_SCALE seen {seen} times, not {k}"
        await tb.reset(1)
        for _ in range(50):
            await RisingEdge(dut.clk)
            await ReadOnly()
            assert not dut.done.value and not dut.wr_valid.value and not dut.rd_req_valid.value
        mem = tb.image().copy()
        await tb.run(mem, addr, expect=(status, after))
