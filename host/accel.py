"""Host runtime of the accelerator (docs/accel.md): compiles a network into an
SDRAM layout and a command list, and runs training iterations on a device.

    from host.accel import Trainer
    from models.accel import NetSpec
    trainer = Trainer(NetSpec.small(), batch=4, height=16, width=16)   # model device by default
    for x, y in batches:                       # x: float32 (N, 3, H, W), y: int labels
        loss = trainer.step(x, y, lr=0.1)
    trainer.master                             # the FP32 master weights (ResNet20 names)

The device is anything with `run(sdram, program) -> status`; `ModelDevice`
executes the command list with models/accel's arithmetic (the reference the
RTL controller is built against). SDRAM is a flat byte array: the tensor
table, the command list and every tensor live in it, in the layout below, so
a host written in any language reads results with docs/accel.md alone.

Layout: TABLE_BASE holds the tensor table, one 16-byte entry per tensor id
(id 0 unused): {base u32, dtype u8, 0 u8, N u16, C u16, H u16, W u16, 0 u16}.
A tensor's bytes are NCHW, little-endian; every tensor except masks has a
4-byte scale word right after its bytes (exponent, int8 in bits 7:0; for FP16
tensors the chip also writes max|x| as FP16 bits in 31:16). A command is 64
bytes: word 0 = {flags u8 << 8 | op u8}, words 1..15 operand tensor ids.
"""

import math
import struct
from dataclasses import dataclass, field

import numpy as np

from models import accel as am
from models.accel_num import amax_exponent, f16_to_i8, i32_to_f16

# ---------------------------------------------------------------- encoding
FP16, INT8, INT32, MASK = 1, 2, 3, 4
DTYPE_BYTES = {FP16: 2, INT8: 1, INT32: 4}
NP_DTYPE = {FP16: np.float16, INT8: np.int8, INT32: np.int32}

OPS = {"CONV_BN_FP": 1, "ADD_RELU_FP": 2, "POOL_FP": 3, "FC_FP": 4, "FC_BP": 5, "POOL_BP": 6,
       "ADD_RELU_BP": 7, "BN_CONV_BP": 8, "ADD": 9, "STOP": 15}
OP_NAMES = {v: k for k, v in OPS.items()}
F_RELU, F_STRIDE2, F_SHORTCUT_A, F_NO_DX = 1, 2, 4, 8

TABLE_BASE = 0x0
ENTRY_BYTES = 16
CMD_BYTES = 64
ALIGN = 64

# status codes (device.run returns one; the RTL's err_code)
OK, ERR_OP, ERR_REGION, ERR_SHAPE, ERR_NONFINITE = 0, 1, 2, 3, 4


@dataclass
class TensorDesc:
    id: int
    name: str
    dtype: int
    shape: tuple          # (N, C, H, W); vectors as (1, C, 1, 1), matrices (N, C, 1, 1)
    base: int = 0

    @property
    def count(self):
        return math.prod(self.shape)          # exact: a corrupted table entry may hold 65535^4

    @property
    def nbytes(self):
        return -(-self.count // 8) if self.dtype == MASK else self.count * DTYPE_BYTES[self.dtype]

    @property
    def span(self):
        """Bytes the tensor owns: its data and its scale word."""
        return self.nbytes + (0 if self.dtype == MASK else 4)


@dataclass
class Program:
    tensors: dict = field(default_factory=dict)        # name -> TensorDesc
    fp: int = 0           # byte address of the FP command list
    bp: int = 0           # of the BP command list
    size: int = 0         # SDRAM bytes used
    commands: list = field(default_factory=list)       # (address, op name, flags, operand names) for reading


def compile_iteration(spec, n, h, w):
    """The SDRAM layout and the FP and BP command lists of one training
    iteration of `spec` on an (n, in_ch, h, w) batch."""
    tensors, order = {}, []

    def add(name, dtype, shape):
        d = TensorDesc(len(order) + 1, name, dtype, tuple(shape))
        tensors[name], _ = d, order.append(d)
        return name

    add("input", FP16, (n, spec.in_ch, h, w))
    hw = {"conv1": (h, w)}
    cur = (h, w)
    for name, cin, cout, stride in spec.block_io():
        if stride == 2:
            assert cur[0] % 2 == 0 and cur[1] % 2 == 0, "stride 2 needs even H and W"
            cur = (cur[0] // 2, cur[1] // 2)
        hw[f"{name}.conv1"] = hw[f"{name}.conv2"] = cur
        hw[name] = cur
    for name, cin, cout, stride in spec.convs():
        bn = name.replace("conv", "bn")
        ho, wo = hw[name]
        add(f"{name}.weight", INT8, (cout, cin, 3, 3))
        add(f"{bn}.gamma", FP16, (1, cout, 1, 1))
        add(f"{bn}.beta", FP16, (1, cout, 1, 1))
        add(f"{bn}.stats", FP16, (1, 3 * cout, 1, 1))
        for k in ("out", "xhat", "dx"):
            add(f"{bn}.{k}", FP16, (n, cout, ho, wo))
        add(f"{bn}.mask", MASK, (n, cout, ho, wo))
        add(f"{name}.dw", INT32, (cout, cin, 3, 3))
        add(f"{bn}.dgamma", FP16, (1, cout, 1, 1))
        add(f"{bn}.dbeta", FP16, (1, cout, 1, 1))
        if name != "conv1":
            add(f"{name}.dx", FP16, (n, cin, ho * stride, wo * stride))
    for name, cin, cout, stride in spec.block_io():
        ho, wo = hw[name]
        hi, wi = ho * stride, wo * stride
        add(f"{name}.out", FP16, (n, cout, ho, wo))
        add(f"{name}.ds", FP16, (n, cout, ho, wo))
        add(f"{name}.dsc", FP16, (n, cin, hi, wi))
        add(f"{name}.din", FP16, (n, cin, hi, wi))
        add(f"{name}.add_mask", MASK, (n, cout, ho, wo))
    c = spec.blocks[-1][0]
    ho, wo = cur
    add("pool.out", FP16, (n, c, 1, 1))
    add("fc.weight", INT8, (spec.classes, c, 1, 1))
    add("fc.logits", INT32, (n, spec.classes, 1, 1))
    add("fc.dout", FP16, (n, spec.classes, 1, 1))
    add("fc.dw", INT32, (spec.classes, c, 1, 1))
    add("pool.dout", FP16, (n, c, 1, 1))
    add("pool.din", FP16, (n, c, ho, wo))

    prog = Program(tensors=tensors)
    table_end = TABLE_BASE + ENTRY_BYTES * (len(order) + 1)
    fp_cmds, bp_cmds = _commands(spec)
    prog.fp = _align(table_end)
    prog.bp = _align(prog.fp + CMD_BYTES * len(fp_cmds))
    addr = _align(prog.bp + CMD_BYTES * len(bp_cmds))
    for d in order:
        d.base = addr
        addr = _align(addr + d.span)
    prog.size = addr
    prog.commands = [(prog.fp + i * CMD_BYTES, *c) for i, c in enumerate(fp_cmds)] + \
                    [(prog.bp + i * CMD_BYTES, *c) for i, c in enumerate(bp_cmds)]
    return prog


def _align(a):
    return -(-a // ALIGN) * ALIGN


def _commands(spec):
    """(op, flags, operand names) of the FP and the BP list."""
    fp = []

    def conv_bn(name, x, stride, relu):
        bn = name.replace("conv", "bn")
        fp.append(("CONV_BN_FP", (F_RELU if relu else 0) | (F_STRIDE2 if stride == 2 else 0),
                   (x, f"{name}.weight", f"{bn}.gamma", f"{bn}.beta", f"{bn}.out", f"{bn}.xhat",
                    f"{bn}.mask", f"{bn}.stats")))
        return f"{bn}.out"

    h = conv_bn("conv1", "input", 1, True)
    for name, cin, cout, stride in spec.block_io():
        a = conv_bn(f"{name}.conv1", h, stride, True)
        b = conv_bn(f"{name}.conv2", a, 1, False)
        flags = 0 if (stride == 1 and cin == cout) else F_SHORTCUT_A | (F_STRIDE2 if stride == 2 else 0)
        fp.append(("ADD_RELU_FP", flags, (b, h, f"{name}.out", f"{name}.add_mask")))
        h = f"{name}.out"
    fp.append(("POOL_FP", 0, (h, "pool.out")))
    fp.append(("FC_FP", 0, ("pool.out", "fc.weight", "fc.logits")))
    fp.append(("STOP", 0, ()))

    bp = [("FC_BP", 0, ("fc.dout", "fc.weight", "pool.out", "pool.dout", "fc.dw")),
          ("POOL_BP", 0, ("pool.dout", "pool.din"))]

    def bn_conv_bp(conv, dy, x, stride, relu, dx=True):
        bn = conv.replace("conv", "bn")
        bp.append(("BN_CONV_BP", (F_RELU if relu else 0) | (F_STRIDE2 if stride == 2 else 0) | (0 if dx else F_NO_DX),
                   (dy, f"{bn}.xhat", f"{bn}.mask", f"{bn}.gamma", f"{bn}.stats", f"{conv}.weight", x,
                    f"{bn}.dx", f"{conv}.dw", f"{bn}.dgamma", f"{bn}.dbeta") + ((f"{conv}.dx",) if dx else ())))

    d = "pool.din"
    for name, cin, cout, stride in reversed(spec.block_io()):
        flags = 0 if (stride == 1 and cin == cout) else F_SHORTCUT_A | (F_STRIDE2 if stride == 2 else 0)
        bp.append(("ADD_RELU_BP", flags, (d, f"{name}.add_mask", f"{name}.ds", f"{name}.dsc")))
        bn_conv_bp(f"{name}.conv2", f"{name}.ds", f"{name}.bn1.out", 1, relu=False)
        bn_conv_bp(f"{name}.conv1", f"{name}.conv2.dx", _block_input(spec, name), stride, relu=True)
        bp.append(("ADD", 0, (f"{name}.conv1.dx", f"{name}.dsc", f"{name}.din")))
        d = f"{name}.din"
    bn_conv_bp("conv1", d, "input", 1, relu=True, dx=False)
    bp.append(("STOP", 0, ()))
    return fp, bp


def _block_input(spec, name):
    names = [b[0] for b in spec.block_io()]
    k = names.index(name)
    return "bn1.out" if k == 0 else f"{names[k - 1]}.out"


# ---------------------------------------------------------------- SDRAM access
class Sdram:
    """A flat little-endian byte array with the program's tensor table."""

    def __init__(self, prog, size=None):
        self.prog = prog
        self.mem = np.zeros(size or prog.size, np.uint8)
        by_id = sorted(prog.tensors.values(), key=lambda d: d.id)
        for d in by_id:
            e = struct.pack("<IBBHHHHH", d.base, d.dtype, 0, *d.shape, 0)
            self.mem[TABLE_BASE + ENTRY_BYTES * d.id:][:ENTRY_BYTES] = np.frombuffer(e, np.uint8)
        for addr, op, flags, names in prog.commands:
            words = [OPS[op] | flags << 8] + [prog.tensors[x].id for x in names]
            words += [0] * (CMD_BYTES // 4 - len(words))
            self.mem[addr:addr + CMD_BYTES] = np.frombuffer(struct.pack("<16I", *words), np.uint8)

    def entry(self, tid):
        """The tensor table's entry `tid`: (base, dtype, shape)."""
        base, dtype, _, n, c, h, w, _ = struct.unpack_from("<IBBHHHHH", self.mem, TABLE_BASE + ENTRY_BYTES * tid)
        return base, dtype, (n, c, h, w)

    def write(self, name, value, exponent=None):
        d = self.prog.tensors[name]
        value = np.asarray(value).reshape(d.shape)
        if d.dtype == MASK:
            raw = np.packbits(value.ravel().astype(np.uint8), bitorder="little")
        else:
            raw = np.ascontiguousarray(value.astype(NP_DTYPE[d.dtype])).view(np.uint8).ravel()
        self.mem[d.base:d.base + d.nbytes] = raw
        if exponent is not None:
            self.write_scale(name, exponent)

    def write_scale(self, name, exponent, amax16=None):
        d = self.prog.tensors[name]
        word = (int(exponent) & 0xFF) | (0 if amax16 is None else int(np.float16(amax16).view(np.uint16)) << 16)
        self.mem[d.base + d.nbytes:d.base + d.nbytes + 4] = np.frombuffer(struct.pack("<I", word), np.uint8)

    def read(self, name):
        d = self.prog.tensors[name]
        raw = self.mem[d.base:d.base + d.nbytes]
        if d.dtype == MASK:
            return np.unpackbits(raw, bitorder="little")[:d.count].reshape(d.shape)
        return raw.view(NP_DTYPE[d.dtype]).reshape(d.shape).copy()

    def exponent(self, name):
        d = self.prog.tensors[name]
        return int(np.int8(self.mem[d.base + d.nbytes]))


# ---------------------------------------------------------------- the reference device
class DeviceError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


# per op: how many operands it reads, then how many it writes (the last may be optional)
SIGNATURE = {"CONV_BN_FP": (4, 4), "ADD_RELU_FP": (2, 2), "POOL_FP": (1, 1), "FC_FP": (2, 1),
             "FC_BP": (3, 2), "POOL_BP": (1, 1), "ADD_RELU_BP": (2, 2), "BN_CONV_BP": (7, 5), "ADD": (2, 1),
             "STOP": (0, 0)}


def n_operands(op, flags):
    """Operand ids a command of `op` carries (BN_CONV_BP without dX has one less)."""
    n_in, n_out = SIGNATURE[op]
    return n_in + n_out - (1 if op == "BN_CONV_BP" and flags & F_NO_DX else 0)


class ModelDevice:
    """Executes a command list from SDRAM with models/accel's arithmetic: the
    behaviour the RTL's global controller is specified by. run() returns
    (status, address of the command that stopped it); a command that fails its
    checks writes nothing."""

    def run(self, sdram, start, max_commands=10_000):
        addr = start
        for _ in range(max_commands):
            words = struct.unpack_from("<16I", sdram.mem, addr)
            op, flags = OP_NAMES.get(words[0] & 0xFF), (words[0] >> 8) & 0xFF
            try:
                if op is None:
                    raise DeviceError(ERR_OP, f"unknown op {words[0] & 0xFF}")
                if op == "STOP":
                    return OK, addr
                n_in = SIGNATURE[op][0]
                ops = [self._operand(sdram, tid, start) for tid in words[1:1 + n_operands(op, flags)]]
                bad = self.shape_error(op, flags, ops[:n_in], ops[n_in:])
                if bad:
                    raise DeviceError(ERR_SHAPE, f"{op}: {bad}")
                self._execute(sdram, op, flags, ops[:n_in], ops[n_in:])
            except DeviceError as e:
                return e.code, addr
            addr += CMD_BYTES
        return ERR_OP, addr

    @staticmethod
    def _operand(sdram, tid, start):
        n_entries = (start - TABLE_BASE) // ENTRY_BYTES
        if not 0 < tid < n_entries:
            raise DeviceError(ERR_REGION, f"tensor id {tid} outside the table")
        base, dtype, shape = sdram.entry(tid)
        if dtype not in (FP16, INT8, INT32, MASK):
            raise DeviceError(ERR_REGION, f"tensor {tid}: dtype {dtype}")
        d = TensorDesc(tid, str(tid), dtype, shape, base)
        if base % 4 or base < start or base + d.span > len(sdram.mem) or d.count == 0:
            raise DeviceError(ERR_REGION, f"tensor {tid} at {base:#x}+{d.span} outside the data region")
        return d

    @staticmethod
    def shape_error(op, flags, ins, outs):
        """Every dtype and shape rule of the op (status 3), checked before any
        data is read, so that a command fails on its table entries alone. Returns
        the broken rule, or None. rtl/accel/accel_cmd_rules.v applies the same."""
        s = 2 if flags & F_STRIDE2 else 1
        up = lambda v: -(-v // s)  # noqa: E731
        sh = [d.shape for d in ins + outs]
        dt = [d.dtype for d in ins + outs]

        def need(*rules):
            for ok, what in rules:
                if not ok:
                    return what
            return None
        if op == "CONV_BN_FP":
            (n, c, h, w), m = sh[0], sh[1][0]
            o = (n, m, h // s, w // s)
            return need((dt[:8] == [FP16, INT8, FP16, FP16, FP16, FP16, MASK, FP16], "dtypes"),
                        (sh[1] == (m, c, 3, 3), "w is not (M, C, 3, 3)"),
                        (s == 1 or (h % 2 == 0 and w % 2 == 0), "stride 2 with odd H or W"),
                        (sh[2] == sh[3] == (1, m, 1, 1), "gamma, beta"),
                        (sh[4] == sh[5] == sh[6] == o, "outputs"), (sh[7] == (1, 3 * m, 1, 1), "stats"))
        if op == "ADD_RELU_FP":
            b, h = sh[0], sh[1]
            sc_ok = (h[0], up(h[2]), up(h[3])) == (b[0], b[2], b[3]) and b[1] >= h[1] if flags & F_SHORTCUT_A \
                else h == b
            return need((dt[:4] == [FP16, FP16, FP16, MASK], "dtypes"), (sc_ok, "shortcut shape"),
                        (sh[2] == sh[3] == b, "outputs"))
        if op == "POOL_FP":
            return need((dt[:2] == [FP16, FP16], "dtypes"), (sh[1] == sh[0][:2] + (1, 1), "output"))
        if op == "FC_FP":
            (n, c, h, w), k = sh[0], sh[1][0]
            return need((dt[:3] == [FP16, INT8, INT32], "dtypes"), ((h, w) == (1, 1), "x is not (N, C, 1, 1)"),
                        (sh[1] == (k, c, 1, 1), "w"), (sh[2] == (n, k, 1, 1), "logits"))
        if op == "FC_BP":
            (n, k, gh, gw), c = sh[0], sh[2][1]
            return need((dt[:5] == [FP16, INT8, FP16, FP16, INT32], "dtypes"), ((gh, gw) == (1, 1), "g"),
                        (sh[2] == (n, c, 1, 1), "x"), (sh[1] == (k, c, 1, 1), "w"),
                        (sh[3] == (n, c, 1, 1), "dfeat"), (sh[4] == (k, c, 1, 1), "dW"))
        if op == "POOL_BP":
            return need((dt[:2] == [FP16, FP16], "dtypes"), (sh[0][2:] == (1, 1), "d"),
                        (sh[1][:2] == sh[0][:2], "output"))
        if op == "ADD_RELU_BP":
            d, dsc = sh[0], sh[3]
            sc_ok = (dsc[0], up(dsc[2]), up(dsc[3])) == (d[0], d[2], d[3]) and d[1] >= dsc[1] \
                if flags & F_SHORTCUT_A else dsc == d
            return need((dt[:4] == [FP16, MASK, FP16, FP16], "dtypes"), (sh[1] == sh[2] == d, "mask, ds"),
                        (sc_ok, "shortcut shape"))
        if op == "BN_CONV_BP":
            dy, (n, c, h, w) = sh[0], sh[6]
            m = dy[1]
            rules = [(dt[:11] == [FP16, FP16, MASK, FP16, FP16, INT8, FP16, FP16, INT32, FP16, FP16], "dtypes"),
                     (dy[0] == n and (h // s, w // s) == dy[2:], "dy against x"),
                     (s == 1 or (h % 2 == 0 and w % 2 == 0), "stride 2 with odd H or W"),
                     (sh[5] == (m, c, 3, 3), "w"), (sh[1] == sh[2] == sh[7] == dy, "xhat, mask, dx"),
                     (sh[3] == sh[9] == sh[10] == (1, m, 1, 1), "gamma, dgamma, dbeta"),
                     (sh[4] == (1, 3 * m, 1, 1), "stats"), (sh[8] == (m, c, 3, 3), "dW")]
            if len(sh) > 11:
                rules.append((dt[11] == FP16 and sh[11] == sh[6], "dX"))
            return need(*rules)
        if op == "ADD":
            return need((dt[:3] == [FP16, FP16, FP16], "dtypes"), (sh[1] == sh[2] == sh[0], "shapes"))
        return None

    # ---- tensor access by descriptor
    @staticmethod
    def _get(sdram, d, dtype):
        if d.dtype != dtype:
            raise DeviceError(ERR_SHAPE, f"tensor {d.id}: dtype {d.dtype}, the command needs {dtype}")
        raw = sdram.mem[d.base:d.base + d.nbytes]
        if dtype == MASK:
            return np.unpackbits(raw, bitorder="little")[:d.count].reshape(d.shape)
        return raw.view(NP_DTYPE[dtype]).reshape(d.shape).copy()

    @staticmethod
    def _exp(sdram, d):
        return int(np.int8(sdram.mem[d.base + d.nbytes]))

    def _quantized(self, sdram, d):
        x = self._get(sdram, d, FP16)
        if not np.all(np.isfinite(x)):
            raise DeviceError(ERR_NONFINITE, f"tensor {d.id} holds inf or NaN")
        e = self._exp(sdram, d)
        return f16_to_i8(x, e), e

    @staticmethod
    def _fits(d, dtype, shape):
        if d.dtype != dtype or d.shape != tuple(shape):
            raise DeviceError(ERR_SHAPE, f"tensor {d.id}: {d.dtype} {d.shape}, the command needs {dtype} {tuple(shape)}")

    @staticmethod
    def _put(sdram, d, value, exponent=None, track=False):
        value = np.asarray(value)
        if d.dtype == MASK:
            raw = np.packbits(value.ravel().astype(np.uint8), bitorder="little")
        else:
            raw = np.ascontiguousarray(value.astype(NP_DTYPE[d.dtype])).view(np.uint8).ravel()
        sdram.mem[d.base:d.base + d.nbytes] = raw
        if track:                                   # the max-exponent tracker on the write path
            exponent, amax, _ = amax_exponent(value)
            word = (exponent & 0xFF) | int(np.float16(amax).view(np.uint16)) << 16
        elif exponent is not None:
            word = exponent & 0xFF
        else:
            return
        sdram.mem[d.base + d.nbytes:d.base + d.nbytes + 4] = np.frombuffer(struct.pack("<I", word), np.uint8)

    # ---- the operations
    def _execute(self, sdram, op, flags, ins, outs):
        stride = 2 if flags & F_STRIDE2 else 1
        relu = bool(flags & F_RELU)
        if op == "CONV_BN_FP":
            x, w, gamma, beta = ins
            qx, ex = self._quantized(sdram, x)
            y16 = i32_to_f16(am.conv_fp(qx, self._get(sdram, w, INT8), stride), ex + self._exp(sdram, w))
            out, st = am.batch_norm_fp(y16, self._get(sdram, gamma, FP16).ravel(),
                                       self._get(sdram, beta, FP16).ravel(), relu)
            self._put(sdram, outs[0], out["y"], track=True)
            self._put(sdram, outs[1], out["xhat"])
            self._put(sdram, outs[2], out["mask"])
            self._put(sdram, outs[3], np.concatenate([st["mu"], st["var"], st["lam"]]))
        elif op == "ADD_RELU_FP":
            b, h = ins
            sc = self._get(sdram, h, FP16)
            if flags & F_SHORTCUT_A:
                sc = am.shortcut_fp(sc, b.shape[1], stride)
            s, mask = am.relu_with_mask((self._get(sdram, b, FP16) + sc).astype(np.float16))
            self._put(sdram, outs[0], s, track=True)
            self._put(sdram, outs[1], mask)
        elif op == "POOL_FP":
            (x,) = ins
            self._put(sdram, outs[0], am.avgpool_fp(self._get(sdram, x, FP16))[:, :, None, None], track=True)
        elif op == "FC_FP":
            x, w = ins
            n, c = x.shape[:2]
            qx, ex = self._quantized(sdram, x)
            acc = am.fc_fp(qx.reshape(n, c), self._get(sdram, w, INT8).reshape(-1, c))
            self._put(sdram, outs[0], acc, exponent=ex + self._exp(sdram, w))
        elif op == "FC_BP":
            g, w, x = ins
            n, k = g.shape[:2]
            c = x.shape[1]
            qg, eg = self._quantized(sdram, g)
            qx, ex = self._quantized(sdram, x)
            qw = self._get(sdram, w, INT8).reshape(k, c)
            qg2 = qg.reshape(n, k)
            self._put(sdram, outs[0], i32_to_f16(am.fc_bp(qg2, qw), eg + self._exp(sdram, w)), track=True)
            self._put(sdram, outs[1], am.fc_wg(qg2, qx.reshape(n, c)), exponent=eg + ex)
        elif op == "POOL_BP":
            (d,) = ins
            out = outs[0]
            self._put(sdram, out, am.avgpool_bp(self._get(sdram, d, FP16).reshape(d.shape[:2]), out.shape),
                      track=True)
        elif op == "ADD_RELU_BP":
            d, mask = ins
            ds = np.where(self._get(sdram, mask, MASK) != 0, self._get(sdram, d, FP16), np.float16(0)).astype(np.float16)
            dsc = am.shortcut_bp(ds, outs[1].shape[1], stride, outs[1].shape) if flags & F_SHORTCUT_A else ds
            self._put(sdram, outs[0], ds, track=True)
            self._put(sdram, outs[1], dsc)
        elif op == "BN_CONV_BP":
            dy, xhat, mask, gamma, stats, w, x = ins
            m = dy.shape[1]
            lam = self._get(sdram, stats, FP16).ravel()[2 * m:]
            dyb, dgamma, dbeta = am.batch_norm_bp(self._get(sdram, dy, FP16), self._get(sdram, xhat, FP16),
                                                  self._get(sdram, mask, MASK), self._get(sdram, gamma, FP16).ravel(),
                                                  lam, relu)
            eg, _, finite = amax_exponent(dyb)
            if not finite:
                raise DeviceError(ERR_NONFINITE, "BN BP produced inf or NaN")
            qg = f16_to_i8(dyb, eg)
            qx, ex = self._quantized(sdram, x)
            qw = self._get(sdram, w, INT8)
            self._put(sdram, outs[0], dyb, exponent=eg)
            self._put(sdram, outs[1], am.conv_wg(qx, qg, qw.shape, stride), exponent=eg + ex)
            self._put(sdram, outs[2], dgamma[None, :, None, None])
            self._put(sdram, outs[3], dbeta[None, :, None, None])
            if len(outs) > 4:
                dx = i32_to_f16(am.conv_bp(qg, qw, x.shape, stride), eg + self._exp(sdram, w))
                self._put(sdram, outs[4], dx, track=True)
        elif op == "ADD":
            a, b = ins
            s = (self._get(sdram, a, FP16) + self._get(sdram, b, FP16)).astype(np.float16)
            self._put(sdram, outs[0], s, track=True)


# ---------------------------------------------------------------- the training loop
class Trainer:
    """One network on one device: FP32 master weights on the host, everything
    else in SDRAM. step() runs one iteration and returns the loss."""

    def __init__(self, spec, batch, height=32, width=32, device=None, master=None, seed=0):
        self.spec = spec
        self.prog = compile_iteration(spec, batch, height, width)
        self.sdram = Sdram(self.prog)
        self.device = device or ModelDevice()
        self.master = master if master is not None else am.init_master(spec, seed)
        self.trace = None       # a list: step() appends (command address, SDRAM image before it)

    def _write_tracked(self, name, x16):
        e, amax, finite = amax_exponent(x16)
        if not finite:
            raise ValueError(f"{name}: inf or NaN")
        self.sdram.write(name, x16)
        self.sdram.write_scale(name, e, amax)

    def _run(self, start):
        if self.trace is not None:          # one command at a time, keeping the image before each
            addr = start
            while struct.unpack_from("<I", self.sdram.mem, addr)[0] & 0xFF != OPS["STOP"]:
                self.trace.append((addr, self.sdram.mem.copy()))
                status, at = self.device.run(self.sdram, addr, max_commands=1)
                if (status, at) != (ERR_OP, addr + CMD_BYTES):     # ran one command, then the watchdog
                    raise DeviceError(status, f"device stopped with status {status} at command {at:#x}")
                addr += CMD_BYTES
            self.trace.append((addr, self.sdram.mem.copy()))
            return
        status, addr = self.device.run(self.sdram, start)
        if status != OK:
            raise DeviceError(status, f"device stopped with status {status} at command {addr:#x}")

    def step(self, x, labels, lr):
        """One training iteration on the device; returns the loss."""
        self.load_batch(x)
        self._run(self.prog.fp)
        loss = self.loss_and_gradient(labels)
        self._run(self.prog.bp)
        self.update(lr)
        return loss

    # The host's three parts of step(), for a device that runs the lists
    # itself (an RTL simulation): load_batch, run prog.fp, loss_and_gradient,
    # run prog.bp, update.
    def load_batch(self, x):
        """Writes the INT8 weights and exponents, gamma and beta (from the FP32
        master copy) and the FP16 batch with its scale word."""
        p = am.ChipParams.from_master(self.spec, self.master)
        for name in p.qw:
            self.sdram.write(f"{name}.weight", p.qw[name].reshape(self.prog.tensors[f"{name}.weight"].shape),
                             exponent=p.ew[name])
        for name in p.gamma:
            self.sdram.write(f"{name}.gamma", p.gamma[name])
            self.sdram.write(f"{name}.beta", p.beta[name])
        self._write_tracked("input", np.asarray(x).astype(np.float16))

    def loss_and_gradient(self, labels):
        """After the FP list: reads the logits, writes the FP16 loss gradient; returns the loss."""
        t = {"fc.logits": self.sdram.read("fc.logits").reshape(len(labels), -1),
             "fc.logits_e": self.sdram.exponent("fc.logits")}
        loss, self._dlogits32, d16 = am.host_loss_grad(t, self.master["fc.bias"], np.asarray(labels))
        self._write_tracked("fc.dout", d16)
        return loss

    def update(self, lr):
        """After the BP list: SGD on the FP32 master weights from the gradients in SDRAM."""
        for k, v in self.gradients(self._dlogits32).items():
            self.master[k] -= np.float32(lr) * v

    def gradients(self, dlogits32):
        """float32 gradients by parameter name, from the weight gradients in SDRAM."""
        g = {}
        for name, *_ in self.spec.convs() + [("fc",)]:
            g[f"{name}.dw"] = self.sdram.read(f"{name}.dw").reshape(self.master[f"{name}.weight"].shape)
            g[f"{name}.dw_e"] = self.sdram.exponent(f"{name}.dw")
        for name, _ in self.spec.bns():
            g[f"{name}.dgamma"] = self.sdram.read(f"{name}.dgamma").ravel()
            g[f"{name}.dbeta"] = self.sdram.read(f"{name}.dbeta").ravel()
        return am.master_grads(self.spec, g, dlogits32)
