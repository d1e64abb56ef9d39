"""cocotb tests of the accelerator's BN_CONV_BP engine (rtl/accel/accel_bn_conv_bp.v,
op 8) against host/accel.ModelDevice, the whole SDRAM image byte for byte.

Stimulus: the small network's real training iteration
(host/accel.Trainer(NetSpec.small(), 4, 16, 16) on 4 real CIFAR-10 test
images, models/accel init_master weights) with Trainer.trace = [], which keeps
the SDRAM image before every command. For each BN_CONV_BP command of the BP
list (5: layers.1.conv2 and layers.0.conv2 at stride 1 without ReLU,
layers.1.conv1 at stride 2 with ReLU, layers.0.conv1 with ReLU, conv1 with
ReLU and flag 8, no dX) the image before it is loaded into the SDRAM models
(tb/lib/sdram.py: SdramModel on the read port, SdramWriter on the write port,
one word array), the cmd port is driven with the command's decoded fields
(its operands' table entries, as accel_cmd emits them), and after done the
whole image must equal the traced image after the command, with status 0:
every output (BN dx with its scale word, dW with its exponent, dgamma, dbeta,
conv dX with its tracked scale word), every element, and every byte outside
them unchanged; every byte written must lie in the command's output regions.

Tests: the five commands on a fast SDRAM (clocks logged per command); the
stride-2 one on a noisy SDRAM (random latency, bandwidth, refresh) with write
backpressure; an inf in dy and a NaN in x (status 4, image unchanged, nothing
written); two layers refused with status 3 (nothing read or written); resets
mid-command (BN writing round, conv dX, dW), after which the command runs
again and gives the image exactly.
"""

import random
import struct

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from host import accel as ha
from models import accel as am
from tb.lib.clock_reset import start_clock
from tb.lib.sdram import SdramModel, SdramWriter
from tb.lib.waits import backstop_us, wait_or_clocks, wait_until

SDRAM_FAST = dict(latency=2, jitter=0, bandwidth=1.0, burst_len=16, burst_gap=0, refresh_interval=0,
                  refresh_clocks=0, max_outstanding=4, max_request=16)
SDRAM_NOISY = dict(latency=6, jitter=14, bandwidth=0.5, burst_len=8, burst_gap=2, refresh_interval=300,
                   refresh_clocks=12, max_outstanding=2, max_request=16)
CMD_CLOCKS = 400_000          # one command's bound
OP = ha.OPS["BN_CONV_BP"]


# ---------------------------------------------------------------- references
_REF = {}


def small_iteration():
    """The small net's BN_CONV_BP commands of one real iteration:
    (program, [(addr, before, after)])."""
    if not _REF:
        from models.datasets import cifar_float, load_cifar10
        imgs, labels = load_cifar10("test", indices=np.arange(4) * 1000 + 3)
        x = cifar_float(imgs)[:, :, :16, :16]
        tr = ha.Trainer(am.NetSpec.small(), 4, 16, 16)
        tr.trace = []
        tr.step(x, labels.astype(np.int64), lr=0.1)
        cmds = []
        for i, (addr, before) in enumerate(tr.trace[:-1]):
            if struct.unpack_from("<I", before, addr)[0] & 0xFF == OP:
                nxt_addr, after = tr.trace[i + 1]
                assert nxt_addr == addr + ha.CMD_BYTES
                cmds.append((addr, before, after))
        _REF.update(prog=tr.prog, cmds=cmds)
    return _REF["prog"], _REF["cmds"]


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


def describe(mem, addr):
    op, flags, ents = decode(mem, addr)
    (n, c, h, w), m = ents[6][2], ents[0][2][1]
    return (f"M {m} -> C {c}, {n}x{h}x{w}, stride {2 if flags & ha.F_STRIDE2 else 1}, relu {flags & 1}, "
            f"dX {'no' if flags & ha.F_NO_DX else 'yes'}")


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


class BpTB:
    def __init__(self, dut, seed=0):
        self.dut = dut
        start_clock(dut.clk)
        dut.rst.value = 1
        dut.cmd_valid.value = 0
        for s in ("cmd_op", "cmd_flags", "cmd_base", "cmd_dtype", "cmd_shape"):
            getattr(dut, s).value = 0
        ports = _Ports(dut)
        self.rd = SdramModel(ports, dut.clk, np.zeros(16, np.uint64), prefix="m", reset=dut.rst, seed=seed,
                             sleep_when_idle=True, **SDRAM_FAST)
        self.wr = SdramWriter(ports, dut.clk, self.rd.mem, prefix="m", reset=dut.rst, seed=seed + 1)
        cocotb.start_soon(self.rd.run())
        cocotb.start_soon(self.wr.run())

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

    async def wait_done(self):
        dut = self.dut
        await ReadOnly()
        if dut.done.value:
            clocks = 0
        else:       # one timer, not a wake-up per clock
            fired, clocks = await wait_or_clocks(RisingEdge(dut.done), dut.clk, CMD_CLOCKS)
            assert fired, f"no done within {CMD_CLOCKS} clocks: state {int(dut.state_q.value)}, {self.wr.writes} writes"
            await ReadOnly()
        status = int(dut.status.value)
        await RisingEdge(dut.clk)
        await ReadOnly()
        assert not dut.done.value, "done longer than one clock"
        return clocks + 1, status

    async def run(self, mem, addr, expect=None):
        """Loads `mem`, runs its command at `addr`, checks the image and status against
        `expect` = (status, image) (default: ModelDevice); returns (clocks, status)."""
        op, flags, ents = decode(mem, addr)
        st_ref, img_ref = model_command(mem, addr) if expect is None else expect
        self.load(mem)
        writes0 = self.wr.writes
        await RisingEdge(self.dut.clk)
        await self.issue(op, flags, ents)
        clocks, status = await self.wait_done()
        await ClockCycles(self.dut.clk, 20)       # a write after done would show
        self.check(addr, op, ents, status, st_ref, img_ref, self.wr.writes - writes0)
        return clocks, status

    def check(self, addr, op, ents, status, st_ref, img_ref, writes):
        img = self.image()
        assert status == st_ref, f"command at {addr:#x}: status {status}, expected {st_ref}"
        bad = np.flatnonzero(img != img_ref)
        assert len(bad) == 0, (f"command at {addr:#x}: {len(bad)} bytes differ, first at {bad[0]:#x}: "
                               f"{img[bad[0]]:#04x}, expected {img_ref[bad[0]]:#04x}")
        regions = out_regions(op, ents)
        outside = [a for a in self.wr.written if not any(lo <= a < hi for lo, hi in regions)]
        assert not outside, f"{len(outside)} bytes written outside the output regions, first {min(outside):#x}"
        if st_ref != ha.OK:
            assert writes == 0, f"status {st_ref} but {writes} words written"


# ---------------------------------------------------------------- tests
async def _bench(dut, seed=0):
    tb = BpTB(dut, seed)
    await tb.reset()
    return tb


@cocotb.test(timeout_time=backstop_us(6 * CMD_CLOCKS), timeout_unit="us")
async def test_small_net(dut):
    """The small net's five BN_CONV_BP commands of a real iteration, fast SDRAM: exact."""
    _, cmds = small_iteration()
    assert len(cmds) == 5
    flags = [decode(b, a)[1] for a, b, _ in cmds]
    assert any(f & ha.F_STRIDE2 for f in flags) and any(f & ha.F_NO_DX for f in flags)
    assert any(f & ha.F_RELU for f in flags) and any(not f & ha.F_RELU for f in flags)
    tb = await _bench(dut)
    tb.timing(SDRAM_FAST, 1.0)
    for k, (addr, before, after) in enumerate(cmds):
        assert not np.array_equal(before, after)
        clocks, _ = await tb.run(before, addr, expect=(ha.OK, after))
        _REF.setdefault("clocks", {})[k] = clocks
        dut._log.info(f"BN_CONV_BP {describe(before, addr)}: {clocks} clocks (fast SDRAM)")


@cocotb.test(timeout_time=backstop_us(8 * CMD_CLOCKS), timeout_unit="us")
async def test_small_net_noisy(dut):
    """The stride-2 ReLU command on a noisy SDRAM (random latency, bandwidth, refresh) with write
    backpressure (ready 0.5)."""
    _, cmds = small_iteration()
    tb = await _bench(dut, seed=7)
    timings = [(SDRAM_NOISY, 0.5)]
    for k, (addr, before, after) in enumerate([cmds[1]]):
        timing, ready = timings[k]
        tb.timing(timing, ready)
        clocks, _ = await tb.run(before, addr, expect=(ha.OK, after))
        dut._log.info(f"BN_CONV_BP {describe(before, addr)}: {clocks} clocks (timing {k})")


@cocotb.test(timeout_time=backstop_us(4 * CMD_CLOCKS), timeout_unit="us")
async def test_nonfinite(dut):
    """An inf in dy (dx becomes non-finite) and a NaN in x: status 4, the image
    unchanged, nothing written (ModelDevice agrees)."""
    _, cmds = small_iteration()
    tb = await _bench(dut, seed=3)
    tb.timing(SDRAM_NOISY, 0.7)
    rng = np.random.default_rng(5)
    for (addr, before, _), slot, val in ((cmds[0], 0, np.inf), (cmds[1], 6, np.nan)):
        mem = before.copy()
        op, flags, ents = decode(mem, addr)
        base, _, shape = ents[slot]
        i = int(rng.integers(0, int(np.prod(shape))))
        mem[base + 2 * i:base + 2 * i + 2] = np.frombuffer(np.float16(val).tobytes(), np.uint8)
        st_ref, img_ref = model_command(mem, addr)
        assert st_ref == ha.ERR_NONFINITE and np.array_equal(img_ref, mem)
        await tb.run(mem, addr)


@cocotb.test(timeout_time=backstop_us(CMD_CLOCKS), timeout_unit="us")
async def test_refused(dut):
    """Layers the engine refuses with status 3 and nothing read past the scale words or
    written (ModelDevice runs them): the small net on 32 x 32 images (layers.0.conv2's x,
    8 x 32 x 32 x 4 bytes, past pe_top's input buffer at IDEPTH 4096) and on 8 x 8 images
    (layers.1's Ho*Wo = 16, not a multiple of 32)."""
    tb = await _bench(dut, seed=13)
    rng = np.random.default_rng(13)
    for hw, pick in ((32, "layers.0.conv2"), (8, "layers.1.conv1")):
        prog = ha.compile_iteration(am.NetSpec.small(), 4, hw, hw)
        sd = ha.Sdram(prog)
        data = prog.commands[-1][0] + ha.CMD_BYTES
        sd.mem[data:] = rng.integers(0, 256, len(sd.mem) - data, dtype=np.uint8)
        for name, d in prog.tensors.items():        # finite FP16 tensors, sane scale words
            if d.dtype == ha.FP16:
                sd.write(name, rng.standard_normal(d.shape).astype(np.float16), exponent=-5)
        addr = next(a for a, op, _, names in prog.commands if op == "BN_CONV_BP" and names[5] == f"{pick}.weight")
        assert model_command(sd.mem, addr)[0] == ha.OK
        reqs = tb.rd.requests
        await tb.run(sd.mem, addr, expect=(ha.ERR_SHAPE, sd.mem.copy()))
        assert tb.rd.requests == reqs, "a refused command read the SDRAM"
        dut._log.info(f"refused {describe(sd.mem, addr)}")


@cocotb.test(timeout_time=backstop_us(12 * CMD_CLOCKS), timeout_unit="us")
async def test_reset_midcommand(dut):
    """A reset at a random clock of a command (BN rounds, conv dX, dW): no done, no
    request or write afterwards; the command issued again gives the image exactly."""
    _, cmds = small_iteration()
    tb = await _bench(dut, seed=41)
    rng = random.Random(41)
    tb.timing(SDRAM_FAST, 1.0)
    states = []
    for trial, frac in enumerate((0.4, 0.65, 0.93)):
        addr, before, after = cmds[0]
        op, flags, ents = decode(before, addr)
        if 0 not in _REF.get("clocks", {}):           # test_small_net measured it (fast SDRAM)
            tb.load(before)
            await RisingEdge(dut.clk)
            await tb.issue(op, flags, ents)
            _REF.setdefault("clocks", {})[0], _ = await tb.wait_done()
        at = int(_REF["clocks"][0] * frac * 0.95) + rng.randint(0, 100)
        tb.load(before)
        await RisingEdge(dut.clk)
        await tb.issue(op, flags, ents)
        await ClockCycles(dut.clk, at)
        await ReadOnly()
        assert not dut.done.value, "the command ended before the reset: pick earlier clocks"
        state = int(dut.state_q.value)
        states.append(state)
        await tb.reset(rng.randint(1, 3))
        for _ in range(50):
            await RisingEdge(dut.clk)
            await ReadOnly()
            assert not dut.done.value and not dut.wr_valid.value and not dut.rd_req_valid.value
        mem = tb.image().copy()
        clocks, _ = await tb.run(mem, addr, expect=(ha.OK, after))
        dut._log.info(f"reset in state {state}, then {describe(before, addr)} again: {clocks} clocks")
    assert len(set(states)) >= 2, f"resets should hit several phases, got states {states}"
