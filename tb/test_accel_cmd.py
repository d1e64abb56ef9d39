"""cocotb tests of the accelerator's command front end (rtl/accel/accel_cmd.v).

The SDRAM image is host/accel's: compile_iteration + Sdram for NetSpec.small()
(batch 4, 16 x 16) and NetSpec.resnet20() (batch 8, 32 x 32), served by
tb/lib/sdram.py's SdramModel on the mem_* port with jittered latency, half
bandwidth, burst gaps and refresh, reset with the DUT. References, none of
them the RTL's:

- a clean list: every decoded command beat (op, flags, operand count, address,
  each operand's base, dtype and shape) against the Program that
  compile_iteration returned (its commands and TensorDescs), in order and
  counted (a missing or extra beat fails); then done, status 0 and end_addr =
  the STOP's address;
- a corrupted image: (status, address) against ModelDevice.run on the same
  image, and the beats before the stop against the image decoded in Python
  (struct + Sdram.entry + SIGNATURE);
- test_bad_input: the cases of tests/test_accel_host.py
  (op, id, base, odd, shape; "nan" needs tensor data, not this block's);
- test_fuzz_single_command: random corruptions of one command's word, ids,
  flags or its operands' table entries, the verdict of that one command
  against ModelDevice.run(max_commands=1) (passes: its beat exact);
- test_bounds: the watchdog (MAX_CMDS commands without STOP), the list's
  first command at the SDRAM's end and the table's last id against
  ModelDevice (max_commands = MAX_CMDS); a command
  past the end and an unaligned start (ModelDevice raises a Python error
  there) against the RTL's definition, status 2;
- resets mid-list (during fetches and with a beat stalled on m): busy low the
  clock after, no beat afterwards, the next list whole; a start while busy is
  ignored.

Environment: CMD_MAX_CMDS (the unit's MAX_CMDS), CMD_FUZZ (fuzz cases).
"""

import os
import random
import struct

import cocotb
import numpy as np
from cocotb.simtime import get_sim_time
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from host import accel as ha
from models import accel as am
from tb.lib.clock_reset import start_clock
from tb.lib.scoreboard import CheckScoreboard, ExpectedQueue
from tb.lib.sdram import SdramModel
from tb.lib.stream import Backpressure, StreamMonitor
from tb.lib.waits import backstop_us, wait_until

MAX_CMDS = int(os.environ.get("CMD_MAX_CMDS", "100"))
N_FUZZ = int(os.environ.get("CMD_FUZZ", "400"))
MAX_OPS = 12
FIELDS = ["op", "flags", "nops", "addr", "base", "dtype", "shape", "end"]
AW = 32
SDRAM_NOISY = dict(latency=6, jitter=14, bandwidth=0.5, burst_len=8, burst_gap=2, refresh_interval=500,
                   refresh_clocks=12, max_outstanding=1, max_request=16)
SDRAM_FAST = dict(latency=0, jitter=0, bandwidth=1.0, burst_len=16, burst_gap=0, refresh_interval=0,
                  refresh_clocks=0, max_outstanding=1, max_request=16)
# a list's bound in clocks: per command 16 + 4 * 12 words at half rate with latency, and the count products
CLOCKS_PER_CMD = 1500


def small():
    return ha.compile_iteration(am.NetSpec.small(), 4, 16, 16)


def resnet20():
    return ha.compile_iteration(am.NetSpec.resnet20(), 8, 32, 32)


# ---------------------------------------------------------------- references
def beat(op_code, flags, addr, descs):
    """The m port's beat for a command: descs = [(base, dtype, (N, C, H, W))]."""
    b = {"op": op_code, "flags": flags, "nops": len(descs), "addr": addr, "base": 0, "dtype": 0, "shape": 0,
         "end": 0}
    for k, (base, dtype, (n, c, h, w)) in enumerate(descs):
        b["end"] |= (base + ha.TensorDesc(0, "", dtype, (n, c, h, w), base).span) << ((AW + 1) * k)
        b["base"] |= base << (32 * k)
        b["dtype"] |= dtype << (3 * k)
        b["shape"] |= (n << 48 | c << 32 | h << 16 | w) << (64 * k)
    return b


def program_beats(prog, start):
    """The beats of the clean list at `start`, from the Program alone; and its STOP's address."""
    out = []
    for addr, op, flags, names in prog.commands:
        if addr < start:
            continue
        if op == "STOP":
            return out, addr
        descs = [(prog.tensors[x].base, prog.tensors[x].dtype, prog.tensors[x].shape) for x in names]
        assert len(descs) == ha.n_operands(op, flags)
        out.append(beat(ha.OPS[op], flags, addr, descs))
    raise AssertionError("list without STOP")


def image_beats(sdram, start, stop):
    """The beats of the commands in [start, stop) decoded from the image."""
    out = []
    for addr in range(start, stop, ha.CMD_BYTES):
        words = struct.unpack_from("<16I", sdram.mem, addr)
        op, flags = ha.OP_NAMES[words[0] & 0xFF], (words[0] >> 8) & 0xFF
        ids = words[1:1 + ha.n_operands(op, flags)]
        out.append(beat(ha.OPS[op], flags, addr, [sdram.entry(t) for t in ids]))
    return out


def model_run(sdram, start, max_commands=None):
    """ModelDevice.run on a copy (it writes the tensors of the commands it runs)."""
    copy = ha.Sdram.__new__(ha.Sdram)
    copy.prog, copy.mem = sdram.prog, sdram.mem.copy()
    kw = {} if max_commands is None else {"max_commands": max_commands}
    return ha.ModelDevice().run(copy, start, **kw)


def custom_program(tensors, commands, tail=0):
    """A Program of our own: tensors [(name, dtype, shape)], commands [(op, flags, names)]
    from the first 64-byte boundary after the table; `tail` spare bytes at the end."""
    prog = ha.Program()
    for name, dtype, shape in tensors:
        prog.tensors[name] = ha.TensorDesc(len(prog.tensors) + 1, name, dtype, tuple(shape))
    prog.fp = ha._align(ha.ENTRY_BYTES * (len(tensors) + 1))
    addr = ha._align(prog.fp + ha.CMD_BYTES * len(commands))
    for d in prog.tensors.values():
        d.base = addr
        addr = ha._align(addr + d.span)
    prog.size = addr + tail
    prog.commands = [(prog.fp + ha.CMD_BYTES * i, *c) for i, c in enumerate(commands)]
    return prog


# ---------------------------------------------------------------- bench
class CmdTB:
    def __init__(self, dut, sdram, stall_prob=0.3, seed=0, timing=SDRAM_NOISY):
        self.dut = dut
        start_clock(dut.clk)
        dut.rst.value = 1
        dut.start.value = 0
        dut.start_addr.value = 0
        dut.sdram_size.value = 0
        self.sdram = sdram
        self.mem = SdramModel(dut, dut.clk, self.words(sdram), prefix="mem", reset=dut.rst, seed=seed,
                              sleep_when_idle=True, **timing)
        cocotb.start_soon(self.mem.run())
        self.ready = Backpressure(dut.m_ready, dut.clk, stall_prob, seed=seed + 1)
        self.mon = StreamMonitor(dut, "m", dut.clk, FIELDS, reset=dut.rst)
        self.expected = ExpectedQueue()
        self.scoreboard = CheckScoreboard(dut)
        self.scoreboard.add_interface(self.mon, self.expected)

    @staticmethod
    def words(sdram):
        return np.frombuffer(sdram.mem.tobytes(), "<u4").astype(np.uint64)

    def load(self, sdram):
        """A new image (between lists, the model idle)."""
        self.sdram = sdram
        self.mem.mem = self.words(sdram)

    async def reset(self, clocks=3):
        await RisingEdge(self.dut.clk)
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, clocks)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def start(self, addr, size=None):
        await RisingEdge(self.dut.clk)
        self.dut.start_addr.value = addr
        self.dut.sdram_size.value = len(self.sdram.mem) if size is None else size
        self.dut.start.value = 1
        await RisingEdge(self.dut.clk)
        self.dut.start.value = 0

    def where(self):
        d = self.dut
        return (f"state {int(d.state_q.value)} word {int(d.wcnt_q.value)} operand {int(d.opi_q.value)}, "
                f"mem_req_valid {d.mem_req_valid.value} mem_rd_valid {d.mem_rd_valid.value}, m_valid "
                f"{d.m_valid.value}; SDRAM queue {list(self.mem.queue)} presenting {self.mem.presenting} "
                f"cycle {self.mem.cycle}")

    async def wait_end(self, n_cmds):
        dut = self.dut
        await ReadOnly()
        await wait_until(dut.clk, lambda: not dut.busy.value, n_cmds * CLOCKS_PER_CMD + 2000,
                         "busy low at the list's end", lambda: f"{self.mon.received} beats, "
                         f"{len(self.expected)} expected beats outstanding; " + self.where())
        await ClockCycles(dut.clk, 30)          # a late extra beat would fail the scoreboard
        await ReadOnly()
        assert not self.expected, f"{len(self.expected)} decoded commands never came out"
        assert not self.expected.early, f"{len(self.expected.early)} beats that nothing expected"
        assert not dut.busy.value and not dut.m_valid.value
        got = int(dut.err_code.value), int(dut.end_addr.value), bool(dut.done.value), bool(dut.err.value)
        await RisingEdge(dut.clk)
        return got

    async def run_list(self, start, beats, status, end, size=None):
        """Runs the list at `start`, expecting `beats` then (status, end)."""
        self.expected.extend(beats)
        received = self.mon.received
        await self.start(start, size)
        got = await self.wait_end(len(beats) + 1)
        assert self.mon.received - received == len(beats), \
            f"{self.mon.received - received} beats, expected {len(beats)}"
        assert got == (status, end, status == ha.OK, status != ha.OK), \
            f"(status, end, done, err) = ({got[0]}, {got[1]:#x}, {got[2]}, {got[3]}), expected ({status}, {end:#x})"


async def _bench(dut, sdram, **kw):
    tb = CmdTB(dut, sdram, **kw)
    await tb.reset()
    return tb


# ---------------------------------------------------------------- tests
@cocotb.test(timeout_time=backstop_us(2 * (60 * CLOCKS_PER_CMD + 20000)), timeout_unit="us")
async def test_lists_small(dut):
    """NetSpec.small() at batch 4, 16 x 16: the FP and the BP list, every beat
    against the Program, then done with status 0 at the STOP."""
    prog = small()
    sdram = ha.Sdram(prog)
    tb = await _bench(dut, sdram, stall_prob=0.3, seed=1)
    total = 0
    for start in (prog.fp, prog.bp, prog.fp):
        beats, stop = program_beats(prog, start)
        assert beats == image_beats(sdram, start, stop)          # the image holds what the Program says
        await tb.run_list(start, beats, ha.OK, stop)
        total += len(beats)
    assert tb.mon.received == total == 2 * 9 + 11
    dut._log.info("small: %d commands decoded and checked, %d SDRAM requests", total, tb.mem.requests)
    assert tb.scoreboard.result          # last: reading it ends the test


@cocotb.test(timeout_time=backstop_us(2 * (120 * CLOCKS_PER_CMD + 20000)), timeout_unit="us")
async def test_lists_resnet20(dut):
    """NetSpec.resnet20() at batch 8, 32 x 32: both lists, fast SDRAM and no
    backpressure for FP, the noisy SDRAM and m_ready low 60 % of clocks for BP."""
    prog = resnet20()
    sdram = ha.Sdram(prog)
    tb = await _bench(dut, sdram, stall_prob=0.0, seed=2, timing=SDRAM_FAST)
    fp, stop = program_beats(prog, prog.fp)
    t0 = get_sim_time("ns")
    await tb.run_list(prog.fp, fp, ha.OK, stop)
    clocks_fast = (get_sim_time("ns") - t0) / 10
    tb.mem.configure(**{k: v for k, v in SDRAM_NOISY.items()})
    tb.ready = Backpressure(dut.m_ready, dut.clk, 0.6, seed=9)
    bp, stop = program_beats(prog, prog.bp)
    await tb.run_list(prog.bp, bp, ha.OK, stop)
    ops = [b["op"] for b in fp + bp]
    assert ops.count(ha.OPS["CONV_BN_FP"]) == 19 and ops.count(ha.OPS["BN_CONV_BP"]) == 19
    assert tb.mon.received == len(fp) + len(bp) == 69
    dut._log.info("resnet20: %d + %d commands checked; FP list %d clocks with a 1-word/clock SDRAM "
                  "(%.0f per command)", len(fp), len(bp), clocks_fast, clocks_fast / (len(fp) + 1))
    assert tb.scoreboard.result


def _corrupt_like_host_test(prog, sdram, case):
    """tests/test_accel_host.py::test_bad_input_stops_with_status_and_writes_nothing's corruptions."""
    mem = sdram.mem
    target = prog.commands[4][0]                      # layers.1.conv1: stride 2
    words = list(struct.unpack_from("<16I", mem, target))
    if case == "op":
        words[0] = 0x0B
    elif case == "id":
        words[2] = 10_000
    elif case == "base":
        d = prog.tensors["layers.1.conv1.weight"]
        struct.pack_into("<I", mem, ha.TABLE_BASE + ha.ENTRY_BYTES * d.id, len(mem) - 8)
    elif case == "odd":
        d = prog.tensors["layers.0.out"]
        struct.pack_into("<HHHH", mem, ha.TABLE_BASE + ha.ENTRY_BYTES * d.id + 6, 4, 8, 7, 7)
    elif case == "shape":
        d = prog.tensors["layers.1.bn1.out"]
        struct.pack_into("<HHHH", mem, ha.TABLE_BASE + ha.ENTRY_BYTES * d.id + 6, 4, 16, 8, 7)
    struct.pack_into("<16I", mem, target, *words)
    return target


@cocotb.test(timeout_time=backstop_us(2 * (10 * 12 * CLOCKS_PER_CMD + 20000)), timeout_unit="us")
async def test_bad_input(dut):
    """test_accel_host's bad commands (unknown op, id outside the table, base
    past the SDRAM end, odd H/W at stride 2, a wrong output shape), run from
    the corrupted command (as test_accel_host does) and from the FP list's
    start: (status, address) as ModelDevice.run's, the beats before it as the
    image's."""
    prog = small()
    tb = await _bench(dut, ha.Sdram(prog), stall_prob=0.3, seed=3)
    codes = {"op": ha.ERR_OP, "id": ha.ERR_REGION, "base": ha.ERR_REGION, "odd": ha.ERR_SHAPE,
             "shape": ha.ERR_SHAPE}
    seen = []
    for case, code in codes.items():
        sdram = ha.Sdram(prog)
        target = _corrupt_like_host_test(prog, sdram, case)
        tb.load(sdram)
        for start in (target, prog.fp):
            status, addr = model_run(sdram, start)
            if start == target:
                assert (status, addr) == (code, target), (case, status, addr)
            await tb.run_list(start, image_beats(sdram, start, addr), status, addr)
            seen.append((case, start, status, addr))
            await tb.reset(1 + len(seen) % 3)
    dut._log.info("bad input: %s", ", ".join(f"{c} from {s:#x}: status {st} at {a:#x}" for c, s, st, a in seen))
    # odd H/W and the wrong shape stop earlier from the list's start (layers.0's ADD_RELU_FP writes layers.0.out)
    assert [s[2] for s in seen] == [1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
    assert tb.scoreboard.result


# ---- fuzz: one command, corrupted, against ModelDevice
def _fuzz_case(rng, prog, clean):
    """A corrupted copy of `clean` and the command address to check there."""
    sdram = ha.Sdram.__new__(ha.Sdram)
    sdram.prog, sdram.mem = prog, clean.mem.copy()
    mem = sdram.mem
    ops = sorted({c[1] for c in prog.commands if c[1] != "STOP"})      # each op as often
    pick = rng.choice(ops)
    addr, op, flags, names = rng.choice([c for c in prog.commands if c[1] == pick])
    words = list(struct.unpack_from("<16I", mem, addr))
    n = len(names)
    nent = addr // ha.ENTRY_BYTES
    k = rng.randrange(n)
    tid = words[1 + k]
    ent = ha.TABLE_BASE + ha.ENTRY_BYTES * tid
    base, dtype, shape = sdram.entry(tid)
    d = ha.TensorDesc(tid, "", dtype, shape, base)
    kind = rng.choice(["none", "dtype", "dim", "dim", "dim", "base", "id", "flags", "op", "swap", "huge", "pad"])
    if kind == "dtype":
        struct.pack_into("<B", mem, ent + 4, rng.choice([0, 1, 2, 3, 4, 5, 7, 255]))
    elif kind == "dim":
        f = rng.randrange(4)
        v = shape[f]
        nv = rng.choice([v + 1, v - 1, 2 * v, v // 2, 0, 1, 3, 65535, rng.randrange(1, 65536)]) & 0xFFFF
        struct.pack_into("<H", mem, ent + 6 + 2 * f, nv)
    elif kind == "base":
        size = len(mem)
        nb = rng.choice([addr, addr - 1, addr - 64, size - d.span, size - d.span + 1, size - 8, 0,
                         0xFFFFFFFF, rng.randrange(0, size)])
        struct.pack_into("<I", mem, ent, nb & 0xFFFFFFFF)
    elif kind == "id":
        ids = [t.id for t in prog.tensors.values()]
        words[1 + k] = rng.choice([0, nent - 1, nent, nent + 1, 0xFFFFFFFF, 1 << 31, rng.choice(ids),
                                   rng.choice(ids), rng.randrange(len(ids) + 1, max(nent, len(ids) + 2))])
    elif kind == "flags":
        words[0] ^= rng.choice([1, 2, 4, 8, 16, 128]) << 8
    elif kind == "op":
        words[0] = (words[0] & ~0xFF) | rng.choice([0, 10, 14, 15, 16, 255, rng.randrange(1, 10)])
    elif kind == "swap" and n > 1:
        i, j = rng.sample(range(n), 2)
        words[1 + i], words[1 + j] = words[1 + j], words[1 + i]
    elif kind == "huge":
        struct.pack_into("<HHHH", mem, ent + 6, 65535, 65535, 65535, 65535)
    elif kind == "pad":                     # bytes no rule looks at
        struct.pack_into("<B", mem, ent + 5, 0xA5)
        struct.pack_into("<H", mem, ent + 14, 0x5A5A)
        words[1 + n:] = [rng.randrange(1 << 32) for _ in words[1 + n:]]
        words[0] |= rng.randrange(1 << 16) << 16
    struct.pack_into("<16I", mem, addr, *words)
    return sdram, addr, kind


def _fuzz_expect(sdram, addr):
    """(status, beat or None, source) that the front end must give for the
    command at `addr` run alone: ModelDevice's status 1-3 (it checks every rule
    on the table entries before reading data), else 0 and the decoded beat
    (the command passed; what its execution then does is the datapath's)."""
    status, at = model_run(sdram, addr, max_commands=1)
    if at == addr and status in (ha.ERR_OP, ha.ERR_REGION, ha.ERR_SHAPE):
        return status, None, "model"
    words = struct.unpack_from("<16I", sdram.mem, addr)
    op, flags = ha.OP_NAMES[words[0] & 0xFF], (words[0] >> 8) & 0xFF
    if op == "STOP":
        return ha.OK, None, "stop"
    assert (status, at) in ((ha.ERR_OP, addr + ha.CMD_BYTES), (ha.ERR_NONFINITE, addr)), \
        f"ModelDevice gave ({status}, {at:#x}) on a command that passed its checks"
    descs = [sdram.entry(t) for t in words[1:1 + ha.n_operands(op, flags)]]
    return ha.OK, beat(ha.OPS[op], flags, addr, descs), "model"


@cocotb.test(timeout_time=backstop_us(2 * (int(os.environ.get("CMD_FUZZ", "400")) * 1000 + 20000)),
             timeout_unit="us")
async def test_fuzz_single_command(dut):
    """CMD_FUZZ random corruptions (an operand's dtype, a dimension, 65535 in
    all four, its base; an id, two ids swapped, a flag, the op byte; bytes no
    rule reads; none) of one command of the small net's or ResNet-20's lists,
    the command run alone: status and address as ModelDevice.run(max_commands=1),
    a passing command's beat exact. m_ready is held low, the
    beat read while it waits, then a reset ends the list."""
    rng = random.Random(7)
    progs = [(p, ha.Sdram(p)) for p in (small(), resnet20())]
    tb = await _bench(dut, progs[0][1], stall_prob=0.0, seed=4)
    tb.ready.stop()
    dut.m_ready.value = 0
    stats = {}
    for i in range(N_FUZZ):
        prog, clean = progs[0] if i % 4 else progs[1]
        sdram, addr, kind = _fuzz_case(rng, prog, clean)
        status, want, why = _fuzz_expect(sdram, addr)
        tb.load(sdram)
        await tb.start(addr)
        await ReadOnly()
        await wait_until(dut.clk, lambda: dut.m_valid.value or not dut.busy.value, 2 * CLOCKS_PER_CMD,
                         f"fuzz case {i} ({kind} at {addr:#x}): m_valid or the list's end")
        await RisingEdge(dut.clk)             # m_valid held (m_ready low), or the status held
        await ReadOnly()
        if want is not None:
            assert dut.m_valid.value, f"case {i} ({kind} at {addr:#x}): status {int(dut.err_code.value)}, " \
                                      f"expected a beat"
            got = {f: int(getattr(dut, f"m_{f}").value) for f in FIELDS}
            assert got == want, f"case {i} ({kind} at {addr:#x}): beat {got}, expected {want}"
        else:
            assert not dut.m_valid.value, f"case {i} ({kind} at {addr:#x}): a beat, expected status {status}"
            got = (int(dut.err_code.value), int(dut.end_addr.value), bool(dut.done.value), bool(dut.err.value))
            assert got == (status, addr, status == ha.OK, status != ha.OK), \
                f"case {i} ({kind} at {addr:#x}): {got}, expected status {status} ({why})"
        op = struct.unpack_from("<I", sdram.mem, addr)[0] & 0xFF
        key = (ha.OP_NAMES.get(op, "unknown"), status, why)
        stats[key] = stats.get(key, 0) + 1
        await tb.reset(1)
    dut._log.info("fuzz: %d cases; (op, status, reference): count\n  %s", N_FUZZ,
                  "\n  ".join(f"{k}: {v}" for k, v in sorted(stats.items())))
    by_status = {s: sum(v for k, v in stats.items() if k[1] == s) for s in range(4)}
    assert sum(by_status.values()) == N_FUZZ
    assert all(by_status[s] > 0 for s in range(4)), by_status
    if N_FUZZ >= 400:
        for op in ("CONV_BN_FP", "ADD_RELU_FP", "POOL_FP", "FC_FP", "FC_BP", "POOL_BP", "ADD_RELU_BP",
                   "BN_CONV_BP", "ADD"):
            assert any(k[0] == op and k[1] == 0 for k in stats), f"no {op} passed"
            assert any(k[0] == op and k[1] == 3 for k in stats), f"no {op} refused with status 3"


@cocotb.test(timeout_time=backstop_us(2 * (4 * (MAX_CMDS + 8) * CLOCKS_PER_CMD + 20000)), timeout_unit="us")
async def test_bounds(dut):
    """MAX_CMDS - 1 commands and STOP: status 0; MAX_CMDS commands before the
    STOP: status 1 at start + 64 MAX_CMDS, the STOP never read (both as
    ModelDevice.run(max_commands=MAX_CMDS)). A STOP in the SDRAM's last 64
    bytes: status 0 (as ModelDevice); a list starting 4 bytes later, its
    command past the end, or at an address not a multiple of 4: status 2 at
    that address (the RTL's definition; ModelDevice raises a Python error).
    The table's end: a list at 76 with ids up to 3 runs, id 4 stops with status
    2, though the 16 bytes at 64 read as a tensor that fits (the one id where
    an off-by-one bound is seen: entry start/16 normally overlaps the command
    itself, which never reads as a tensor in the data region)."""
    tensors = [("a", ha.FP16, (1, 2, 1, 1)), ("b", ha.FP16, (1, 2, 1, 1)), ("s", ha.FP16, (1, 2, 1, 1))]
    add = ("ADD", 0, ("a", "b", "s"))
    tb = None
    for n_add, status in ((MAX_CMDS - 1, ha.OK), (MAX_CMDS, ha.ERR_OP)):
        prog = custom_program(tensors, [add] * n_add + [("STOP", 0, ())], tail=64)
        sdram = ha.Sdram(prog)
        struct.pack_into("<I", sdram.mem, prog.size - 64, ha.OPS["STOP"])
        if tb is None:
            tb = await _bench(dut, sdram, stall_prob=0.2, seed=5, timing=SDRAM_FAST)
        tb.load(sdram)
        want = model_run(sdram, prog.fp, max_commands=MAX_CMDS)
        assert want == (status, prog.fp + ha.CMD_BYTES * min(n_add, MAX_CMDS)), want
        beats = image_beats(sdram, prog.fp, prog.fp + ha.CMD_BYTES * min(n_add, MAX_CMDS))
        await tb.run_list(prog.fp, beats, *want)
    end = len(sdram.mem)
    assert model_run(sdram, end - 64) == (ha.OK, end - 64)
    await tb.run_list(end - 64, [], ha.OK, end - 64)
    for start in (end - 60, prog.fp + 2, prog.fp + 1):
        await tb.run_list(start, [], ha.ERR_REGION, start)
    # the SDRAM size input, not the image, bounds the list: the same list in a smaller SDRAM
    await tb.run_list(prog.fp, [], ha.ERR_REGION, prog.fp, size=prog.fp + 63)
    # the table's last id: a list at 76 has ids 1..3 (76 // 16 = 4 entries). Entry 4 would be
    # bytes 64..79: 12 bytes written before the list and the ADD's word 0 (W = 9), so that it
    # reads as a tensor that fits the ADD: only the bound refuses id 4.
    tensors = [(x, ha.FP16, (1, 2, 1, 9)) for x in "abs"]
    prog = custom_program(tensors, [add] * 3, tail=64)
    start = 76
    for last_id, want in ((3, (ha.OK, start + ha.CMD_BYTES)), (4, (ha.ERR_REGION, start))):
        sdram = ha.Sdram(prog)
        mem = sdram.mem
        mem[64:prog.tensors["a"].base] = 0
        struct.pack_into("<IBBHHH", mem, 64, prog.size - 64, ha.FP16, 0, 1, 2, 1)
        struct.pack_into("<4I", mem, start, ha.OPS["ADD"], 1, 2, last_id)
        struct.pack_into("<I", mem, start + ha.CMD_BYTES, ha.OPS["STOP"])
        assert sdram.entry(4) == (prog.size - 64, ha.FP16, (1, 2, 1, 9))
        assert model_run(sdram, start) == want, (last_id, model_run(sdram, start))
        tb.load(sdram)
        await tb.run_list(start, image_beats(sdram, start, want[1]), *want)
    assert tb.scoreboard.result


@cocotb.test(timeout_time=backstop_us(2 * (10 * 80 * CLOCKS_PER_CMD + 20000)), timeout_unit="us")
async def test_reset_midlist(dut):
    """ResNet-20's BP list, reset at random points (during fetches, or with a
    beat held on m by m_ready low) 8 times: busy, done, err and m_valid low
    the clock after rst rises, no beat after, and a whole list afterwards (all
    beats, status 0). A start pulse while busy (another address) is ignored."""
    prog = resnet20()
    sdram = ha.Sdram(prog)
    tb = await _bench(dut, sdram, stall_prob=0.3, seed=6)
    rng = random.Random(8)
    bp, stop = program_beats(prog, prog.bp)
    for i in range(8):
        before = tb.mon.received
        tb.expected.extend(bp)
        await tb.start(prog.bp)
        if i % 2:
            # wait for a beat that the bench holds
            n = rng.randrange(1, len(bp))
            await wait_until(dut.clk, lambda: tb.mon.received - before >= n, n * CLOCKS_PER_CMD,
                             f"beat {n} of the BP list")
            tb.ready.stop()
            dut.m_ready.value = 0
            await ReadOnly()
            await wait_until(dut.clk, lambda: dut.m_valid.value, CLOCKS_PER_CMD, "a beat to hold")
            await RisingEdge(dut.clk)
            await ClockCycles(dut.clk, rng.randrange(3))
        else:
            await ClockCycles(dut.clk, rng.randrange(10, 20 * CLOCKS_PER_CMD // 10))
            if i == 2:       # a start while busy: ignored
                dut.start_addr.value = prog.fp
                dut.start.value = 1
                await RisingEdge(dut.clk)
                dut.start.value = 0
        await ReadOnly()
        assert dut.busy.value, f"reset {i}: the list ended before the reset"
        received = tb.mon.received - before
        tb.expected.clear()
        tb.expected.early.clear()
        await RisingEdge(dut.clk)
        dut.rst.value = 1
        await RisingEdge(dut.clk)
        await ReadOnly()
        assert not (dut.busy.value or dut.done.value or dut.err.value or dut.m_valid.value or
                    dut.mem_req_valid.value), f"reset {i}: outputs not cleared the clock after rst"
        await ClockCycles(dut.clk, rng.randrange(1, 3))
        dut.rst.value = 0
        tb.ready = Backpressure(dut.m_ready, dut.clk, 0.3, seed=100 + i) if i % 2 else tb.ready
        after = tb.mon.received
        for _ in range(200):
            await RisingEdge(dut.clk)
            await ReadOnly()
            assert not (dut.m_valid.value or dut.busy.value or dut.mem_req_valid.value), \
                f"reset {i}: activity after the reset with no start"
        assert tb.mon.received == after
        dut._log.info("reset %d after %d of %d beats", i, received, len(bp))
        await RisingEdge(dut.clk)
        await tb.run_list(prog.bp, bp, ha.OK, stop)
    assert tb.scoreboard.result
