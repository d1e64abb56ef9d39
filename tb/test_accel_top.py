"""cocotb tests of the accelerator's system top (rtl/accel/accel_top.v): the
command front end, the dispatcher, the four engines (accel_vec, accel_fc,
accel_conv_bn_fp, accel_bn_conv_bp) and the write guard, on one SDRAM read
port and one write port.

test_train_step (`make sim TOPLEVEL=accel_top TESTCASE=test_train_step`):
two training iterations of NetSpec.small() (a 3x3 stride-1 conv, a residual
block, a stride-2 block with its option-A shortcut, BN + ReLU after each
conv, average pooling, FC) at batch 4, 16 x 16, on 4 real CIFAR-10 images.
The host code is host/accel.Trainer's (load_batch, loss_and_gradient, update);
the RTL runs the FP list and the BP list from SDRAM. Reference: the same
Trainer on ModelDevice (models/accel, the bit-accurate model, itself checked
against float32 autograd in tests/test_accel_model.py), compared after each
list byte for byte over the whole SDRAM image: every tensor the accelerator
writes (BN outputs, xhat, masks, stats, block outputs, pooling, logits, every
dW with its exponent, BN dx / dgamma / dbeta, conv dX) exact, and nothing
outside the declared regions changed; then the losses and the FP32 master
weights after each update.

The other tests use one traced iteration (host/accel.Trainer.trace: the image
before every command) and the vector and FC commands: every maximal chain of
consecutive ones (FP: ADD_RELU_FP; ADD_RELU_FP, POOL_FP, FC_FP; BP: FC_BP,
POOL_BP, ADD_RELU_BP; ADD, ADD_RELU_BP; ADD) from the image before it, with a
STOP written after it, on a noisy SDRAM with write backpressure; bad input,
each against ModelDevice.run on the same corrupted image (status, address,
whole image: a failing command writes nothing): an unknown op, an operand
region past the SDRAM's end, an unaligned base, a wrong shape, an inf
reaching FC_FP (status 4); a write outside the command's regions (the top's
error-injection register): status 2; a reset in the middle of a chain: busy
low the clock after, then the chain run again gives the exact image.

The SDRAM models: tb/lib/sdram.py's SdramModel (jittered latency, half
bandwidth, burst gaps, refresh) and SdramWriter (random write backpressure),
both reset with the DUT.
"""

import random
import struct

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge

from host import accel as ha
from models import accel as am
from models.datasets import cifar_float, load_cifar10
from tb.lib.clock_reset import start_clock
from tb.lib.sdram import SdramModel, SdramWriter
from tb.lib.waits import backstop_us, wait_or_clocks

SPEC = am.NetSpec.small()
VEC_FC_OPS = {"ADD_RELU_FP", "POOL_FP", "FC_FP", "FC_BP", "POOL_BP", "ADD_RELU_BP", "ADD"}
SDRAM_NOISY = dict(latency=6, jitter=14, bandwidth=0.5, burst_len=8, burst_gap=2, refresh_interval=500,
                   refresh_clocks=12, max_outstanding=4, max_request=16)
SDRAM_FAST = dict(latency=2, jitter=0, bandwidth=1.0, burst_len=16, burst_gap=0, refresh_interval=0,
                  refresh_clocks=0, max_outstanding=4, max_request=16)
CHAIN_CLOCKS = 400_000          # bound on one chain of the small net (its largest moves ~33k words)
STOP_WORD = ha.OPS["STOP"]


# ---------------------------------------------------------------- the reference iteration
def batch():
    imgs, labels = load_cifar10("test", indices=np.arange(4) * 1000 + 3)
    return cifar_float(imgs)[:, :, :16, :16], labels.astype(np.int64)


def traced_iterations(n_iter=1):
    """A Trainer on ModelDevice after n_iter steps, with the image before every command."""
    x, labels = batch()
    tr = ha.Trainer(SPEC, batch=4, height=16, width=16)
    tr.trace = []
    for _ in range(n_iter):
        tr.step(x, labels, lr=0.1)
    return tr


def op_at(mem, addr):
    return ha.OP_NAMES.get(struct.unpack_from("<I", mem, addr)[0] & 0xFF)


def chains(trace, ops=VEC_FC_OPS):
    """[(first command address, address after the last, image before, image after)]
    for every maximal run of consecutive commands with an op in `ops`."""
    out, i = [], 0
    while i < len(trace):
        addr, before = trace[i]
        if op_at(before, addr) not in ops:
            i += 1
            continue
        j = i
        while op_at(trace[j][1], trace[j][0]) in ops:
            j += 1
        out.append((addr, trace[j][0], before, trace[j][1]))
        i = j + 1
    return out


def with_stop(mem, addr):
    m = mem.copy()
    struct.pack_into("<I", m, addr, STOP_WORD)
    return m


def model_after(prog, mem, start):
    """ModelDevice.run on a copy: (status, end address, image after)."""
    s = ha.Sdram.__new__(ha.Sdram)
    s.prog, s.mem = prog, mem.copy()
    status, end = ha.ModelDevice().run(s, start)
    return status, end, s.mem


# ---------------------------------------------------------------- bench
class TopTB:
    def __init__(self, dut, mem, seed=0, timing=SDRAM_NOISY, wr_ready=0.7):
        self.dut = dut
        start_clock(dut.clk)
        dut.rst.value = 1
        dut.start.value = 0
        dut.start_addr.value = 0
        dut.sdram_size.value = 0
        self.size = len(mem)
        self.rd = SdramModel(dut, dut.clk, self.words(mem), prefix="mem", reset=dut.rst, seed=seed,
                             sleep_when_idle=True, **timing)
        self.wr = SdramWriter(dut, dut.clk, self.rd.mem, prefix="mem", reset=dut.rst, ready_prob=wr_ready,
                              seed=seed + 1)
        cocotb.start_soon(self.rd.run())
        cocotb.start_soon(self.wr.run())

    @staticmethod
    def words(mem):
        return np.frombuffer(mem.tobytes(), "<u4").astype(np.uint64)

    def load(self, mem):
        self.rd.mem[:] = self.words(mem)

    def image(self):
        return self.rd.mem.astype("<u4").view(np.uint8)

    async def reset(self, clocks=3):
        await RisingEdge(self.dut.clk)
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, clocks)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def start(self, addr):
        await RisingEdge(self.dut.clk)
        self.dut.start_addr.value = addr
        self.dut.sdram_size.value = self.size
        self.dut.start.value = 1
        await RisingEdge(self.dut.clk)
        self.dut.start.value = 0

    async def run(self, addr, clocks=CHAIN_CLOCKS):
        """Runs the list at addr: (status, end address, clocks)."""
        await self.start(addr)
        fired, waited = await wait_or_clocks(FallingEdge(self.dut.busy), self.dut.clk, clocks)
        assert fired, f"list at {addr:#x} still busy after {clocks} clocks"
        await ReadOnly()
        d = self.dut
        assert bool(d.done.value) != bool(d.err.value), "neither or both of done and err"
        got = int(d.err_code.value), int(d.end_addr.value), waited
        await RisingEdge(d.clk)
        return got


def _diff(got, want, prog):
    bad = np.flatnonzero(got != want)
    if not len(bad):
        return ""
    where = [name for name, t in prog.tensors.items() if t.base <= bad[0] < t.base + t.span]
    return f"{len(bad)} bytes differ, first at {bad[0]:#x} ({where or 'outside every tensor'}): " \
           f"got {got[bad[0]]:#04x}, expected {want[bad[0]]:#04x}"


async def _run_chains(dut, n_iter, timing, wr_ready, seed):
    tr = traced_iterations(n_iter)
    prog = tr.prog
    tb = TopTB(dut, tr.trace[0][1], seed=seed, timing=timing, wr_ready=wr_ready)
    await tb.reset()
    runs = chains(tr.trace)
    assert len(runs) == 5 * n_iter, f"{len(runs)} chains"
    ran = 0
    for start, stop, before, after in runs:
        words = tb.wr.writes
        tb.load(with_stop(before, stop))
        status, end, clocks = await tb.run(start)
        names = []
        a = start
        while a < stop:
            names.append(op_at(before, a))
            a += ha.CMD_BYTES
        assert (status, end) == (ha.OK, stop), f"chain {names} at {start:#x}: status {status} at {end:#x}"
        msg = _diff(tb.image(), with_stop(after, stop), prog)
        assert not msg, f"chain {names} at {start:#x}: {msg}"
        ran += len(names)
        dut._log.info("chain %s: %d clocks, %d words written", "+".join(names), clocks, tb.wr.writes - words)
    return ran


@cocotb.test(timeout_time=backstop_us(4 * 5 * CHAIN_CLOCKS), timeout_unit="us")
async def test_chains_noisy(dut):
    """One iteration's engine chains against ModelDevice, noisy SDRAM, write backpressure."""
    ran = await _run_chains(dut, 1, SDRAM_NOISY, 0.7, seed=1)
    assert ran == 10


async def _bad(dut, tb, prog, mem, start, want_status):
    ref_status, ref_end, ref_after = model_after(prog, mem, start)
    assert ref_status == want_status, f"the reference gives status {ref_status}"
    tb.load(mem)
    status, end, _ = await tb.run(start)
    assert (status, end) == (ref_status, ref_end), \
        f"status {status} at {end:#x}, ModelDevice {ref_status} at {ref_end:#x}"
    msg = _diff(tb.image(), ref_after, prog)
    assert not msg, msg


@cocotb.test(timeout_time=backstop_us(4 * 8 * CHAIN_CLOCKS), timeout_unit="us")
async def test_bad_input(dut):
    """Each bad command stops the list with ModelDevice's status at that
    command, and the SDRAM image equals ModelDevice's (the commands before it
    ran, it wrote nothing)."""
    tr = traced_iterations(1)
    prog = tr.prog
    runs = chains(tr.trace)
    start, stop, before, _ = next(r for r in runs if r[1] - r[0] == 3 * ha.CMD_BYTES)  # ADD_RELU_FP, POOL, FC
    tb = TopTB(dut, before, seed=3)
    await tb.reset()
    base = with_stop(before, stop)
    t = prog.tensors
    # 1: an unknown op in the chain's second command
    m = base.copy()
    struct.pack_into("<I", m, start + ha.CMD_BYTES, 12)
    await _bad(dut, tb, prog, m, start, ha.ERR_OP)
    # 2: FC_FP's weight region past the SDRAM's end
    m = base.copy()
    struct.pack_into("<I", m, ha.ENTRY_BYTES * t["fc.weight"].id, len(m) - 8)
    await _bad(dut, tb, prog, m, start, ha.ERR_REGION)
    # 2: an output base that is not 4-byte aligned
    m = base.copy()
    struct.pack_into("<I", m, ha.ENTRY_BYTES * t["pool.out"].id, t["pool.out"].base + 2)
    await _bad(dut, tb, prog, m, start, ha.ERR_REGION)
    # 3: POOL_FP's output with the wrong channel count
    m = base.copy()
    struct.pack_into("<H", m, ha.ENTRY_BYTES * t["pool.out"].id + 8, t["pool.out"].shape[1] + 1)
    await _bad(dut, tb, prog, m, start, ha.ERR_SHAPE)
    # 4: an inf in the block output reaches FC_FP through the pooling
    m = base.copy()
    struct.pack_into("<H", m, t["layers.1.out"].base + 6, 0x7C00)
    await _bad(dut, tb, prog, m, start + ha.CMD_BYTES, ha.ERR_NONFINITE)


@cocotb.test(timeout_time=backstop_us(4 * 12 * CHAIN_CLOCKS), timeout_unit="us")
async def test_reset_mid_chain(dut):
    """The BP chain FC_BP, POOL_BP, ADD_RELU_BP reset at random points 5
    times: busy, done, err and the ports' valid low the clock after; the chain
    run again from where the reset left the SDRAM gives the exact image."""
    tr = traced_iterations(1)
    prog = tr.prog
    start, stop, before, after = next(r for r in chains(tr.trace) if op_at(r[2], r[0]) == "FC_BP")
    tb = TopTB(dut, with_stop(before, stop), seed=4)
    await tb.reset()
    _, _, full = await tb.run(start)
    rng = random.Random(5)
    for i in range(5):
        tb.load(with_stop(before, stop))
        await tb.start(start)
        await ClockCycles(dut.clk, rng.randrange(20, full - 10))
        await ReadOnly()
        assert dut.busy.value, f"reset {i}: the chain ended before the reset"
        await RisingEdge(dut.clk)
        dut.rst.value = 1
        await RisingEdge(dut.clk)
        await ReadOnly()
        assert not (dut.busy.value or dut.done.value or dut.err.value or dut.mem_req_valid.value
                    or dut.mem_wr_valid.value), f"reset {i}: outputs not cleared the clock after rst"
        await RisingEdge(dut.clk)
        dut.rst.value = 0
        await ClockCycles(dut.clk, 5)
        status, end, _ = await tb.run(start)
        assert (status, end) == (ha.OK, stop)
        msg = _diff(tb.image(), with_stop(after, stop), prog)
        assert not msg, f"reset {i}: {msg}"


@cocotb.test(timeout_time=backstop_us(4 * 4 * CHAIN_CLOCKS), timeout_unit="us")
async def test_write_guard(dut):
    """An engine that writes outside its command's output regions (here the
    top's error-injection register flips one bit of the engine's write
    addresses in the middle of ADD_RELU_FP): once far out of the SDRAM (the
    SDRAM model would refuse the word) and once onto other tensors inside it
    (the bit chosen so that every output word lands outside the outputs).
    Each time the word is not written, the list ends with status 2 at that
    command, and no byte outside the command's output regions has changed."""
    tr = traced_iterations(1)
    prog = tr.prog
    start, stop, before, _ = chains(tr.trace)[0]
    mem = with_stop(before, stop)
    words = struct.unpack_from("<16I", mem, start)
    outputs = []
    for tid in words[1 + ha.SIGNATURE["ADD_RELU_FP"][0]:1 + ha.n_operands("ADD_RELU_FP", words[0] >> 8)]:
        d = next(d for d in prog.tensors.values() if d.id == tid)
        outputs.append((d.base, d.base + d.span))
    inside = np.zeros(len(mem), bool)
    for lo, hi in outputs:
        inside[lo:hi] = True
    out_words = np.unique(np.flatnonzero(inside) // 4)
    near = next(k for k in range(4, 20)
                if np.all((out_words ^ (1 << k)) < len(mem) // 4) and not np.any(inside[4 * (out_words ^ (1 << k))]))
    tb = TopTB(dut, mem, seed=6, wr_ready=1.0)      # no write stalls: the injection never moves a held word
    await tb.reset()
    for flip in (1 << 29, 1 << near):
        tb.load(mem)
        await tb.start(start)
        fired, _ = await wait_or_clocks(RisingEdge(dut.mem_wr_valid), dut.clk, CHAIN_CLOCKS)
        assert fired, "no write"
        await ClockCycles(dut.clk, 200)
        await ReadOnly()
        await RisingEdge(dut.clk)
        dut.inject_wr_xor.value = flip
        fired, _ = await wait_or_clocks(FallingEdge(dut.busy), dut.clk, CHAIN_CLOCKS)
        dut.inject_wr_xor.value = 0
        assert fired, "still busy after the write outside the regions"
        await ReadOnly()
        status, end = int(dut.err_code.value), int(dut.end_addr.value)
        assert dut.err.value and (status, end) == (ha.ERR_REGION, start), \
            f"flip {flip:#x}: status {status} at {end:#x}"
        got = tb.image()
        changed = np.flatnonzero((got != mem) & ~inside)
        assert not len(changed), \
            f"flip {flip:#x}: {len(changed)} bytes outside the output regions changed, first at {changed[0]:#x}"
        assert np.any((got != mem) & inside), "nothing written before the flip (the test did not test)"
        await RisingEdge(dut.clk)


# ---------------------------------------------------------------- training on the RTL
TRAIN_LIST_CLOCKS = 3_000_000        # bound on one list of the small net


async def _run_list(dut, tb, trainer, start, stop):
    """The list at `start` on the RTL, on the trainer's SDRAM image; the image comes back."""
    tb.load(trainer.sdram.mem)
    status, end, clocks = await tb.run(start, TRAIN_LIST_CLOCKS)
    assert (status, end) == (ha.OK, stop), f"list at {start:#x}: status {status} at {end:#x}"
    trainer.sdram.mem[:] = tb.image()
    return clocks


@cocotb.test(timeout_time=backstop_us(4 * 4 * TRAIN_LIST_CLOCKS), timeout_unit="us")
async def test_train_step(dut):
    """Two training iterations of NetSpec.small() on the RTL, on 4 real
    CIFAR-10 images, with the host's loss gradient and SGD update (host/accel.
    Trainer's load_batch, loss_and_gradient, update) between the lists. After
    each list the whole SDRAM image equals the reference device's
    (ModelDevice, models/accel: every tensor the accelerator writes, exact,
    and nothing outside the declared regions); the losses and the FP32
    master weights after each update are identical."""
    x, labels = batch()
    ref = ha.Trainer(SPEC, batch=4, height=16, width=16)
    rtl = ha.Trainer(SPEC, batch=4, height=16, width=16)
    prog = rtl.prog
    stops = {start: next(a for a, op, *_ in prog.commands if a > start and op == "STOP")
             for start in (prog.fp, prog.bp)}
    tb = TopTB(dut, rtl.sdram.mem, seed=7, timing=SDRAM_FAST, wr_ready=0.9)
    await tb.reset()
    for it in range(2):
        ref.load_batch(x)
        rtl.load_batch(x)
        ref._run(prog.fp)
        fp_clocks = await _run_list(dut, tb, rtl, prog.fp, stops[prog.fp])
        msg = _diff(rtl.sdram.mem, ref.sdram.mem, prog)
        assert not msg, f"iteration {it}, FP list: {msg}"
        loss = rtl.loss_and_gradient(labels)
        assert loss == ref.loss_and_gradient(labels)
        ref._run(prog.bp)
        bp_clocks = await _run_list(dut, tb, rtl, prog.bp, stops[prog.bp])
        msg = _diff(rtl.sdram.mem, ref.sdram.mem, prog)
        assert not msg, f"iteration {it}, BP list: {msg}"
        rtl.update(0.1)
        ref.update(0.1)
        for k in ref.master:
            assert np.array_equal(rtl.master[k], ref.master[k]), f"iteration {it}: master {k}"
        dut._log.info("iteration %d: loss %.4f, FP list %d clocks, BP list %d clocks", it, loss,
                      fp_clocks, bp_clocks)
