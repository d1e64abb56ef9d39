"""The host runtime (host/accel.py): its command list, run by the reference
device, gives every tensor of models/accel's iteration bit for bit; writes stay
inside the regions the commands declare; bad commands stop with an error status
and write nothing."""

import struct

import numpy as np
import pytest

from host import accel as ha
from models import accel as am
from models.datasets import cifar_float, load_cifar10

SPEC = am.NetSpec.small()


@pytest.fixture(scope="module")
def batch():
    imgs, labels = load_cifar10("test", indices=np.arange(4) * 1000 + 3)
    return cifar_float(imgs)[:, :, :16, :16], labels.astype(np.int64)


def _declared_outputs(prog, sdram, start):
    """Byte ranges the commands of the list at `start` declare as outputs."""
    ranges, addr = [], start
    while True:
        words = struct.unpack_from("<16I", sdram.mem, addr)
        op, flags = ha.OP_NAMES[words[0] & 0xFF], words[0] >> 8
        if op == "STOP":
            return ranges
        for tid in words[1 + ha.SIGNATURE[op][0]:1 + ha.n_operands(op, flags)]:
            d = next(d for d in prog.tensors.values() if d.id == tid)
            ranges.append((d.base, d.base + d.span))
        addr += ha.CMD_BYTES


def _changed_outside(before, after, ranges):
    inside = np.zeros(len(before), bool)
    for lo, hi in ranges:
        inside[lo:hi] = True
    return np.flatnonzero((before != after) & ~inside)


def test_two_iterations_match_the_model_tensor_by_tensor(batch):
    x, labels = batch
    tr = ha.Trainer(SPEC, batch=4, height=16, width=16)
    master = am.init_master(SPEC, seed=0)
    for _ in range(2):
        loss = tr.step(x, labels, lr=0.1)
        ref_loss, t, g = am.train_step(SPEC, master, x.astype(np.float16), labels, lr=0.1)
        assert loss == ref_loss
        rd = tr.sdram.read
        compared = 0
        for name, *_ in SPEC.convs():
            bn = name.replace("conv", "bn")
            for key in ("out", "xhat", "mask"):
                assert np.array_equal(rd(f"{bn}.{key}"), t[f"{bn}.{key}"]), f"{bn}.{key}"
            stats = np.concatenate([t[f"{bn}.mu"], t[f"{bn}.var"], t[f"{bn}.lam"]])
            assert np.array_equal(rd(f"{bn}.stats").ravel().view(np.uint16), stats.view(np.uint16)), bn
            assert np.array_equal(rd(f"{name}.dw"), g[f"{name}.dw"]), name
            assert tr.sdram.exponent(f"{name}.dw") == g[f"{name}.dw_e"]
            for key in ("dx", "dgamma", "dbeta"):
                got, want = rd(f"{bn}.{key}").ravel(), g[f"{bn}.{key}"].ravel()
                assert np.array_equal(got.view(np.uint16), want.view(np.uint16)), f"{bn}.{key}"
            if name != "conv1":
                assert np.array_equal(rd(f"{name}.dx").view(np.uint16), g[f"{name}.dx"].view(np.uint16)), name
            compared += 1
        for name, *_ in SPEC.block_io():
            assert np.array_equal(rd(f"{name}.out"), t[f"{name}.out"]) and np.array_equal(rd(f"{name}.add_mask"),
                                                                                        t[f"{name}.add_mask"])
        assert np.array_equal(rd("pool.out").reshape(4, -1), t["pool.out"])
        assert np.array_equal(rd("fc.logits").reshape(4, -1), t["fc.logits"])
        assert np.array_equal(rd("fc.dw").reshape(g["fc.dw"].shape), g["fc.dw"])
        assert compared == len(SPEC.convs()) == 5
    for k in master:
        assert np.array_equal(master[k], tr.master[k]), k


def test_writes_stay_in_declared_regions(batch):
    x, labels = batch
    tr = ha.Trainer(SPEC, batch=4, height=16, width=16)
    tr.step(x, labels, lr=0.1)                          # fills every tensor once
    for start in (tr.prog.fp, tr.prog.bp):
        before = tr.sdram.mem.copy()
        assert tr.device.run(tr.sdram, start)[0] == ha.OK
        assert _changed_outside(before, tr.sdram.mem, _declared_outputs(tr.prog, tr.sdram, start)).size == 0


def _first_conv(tr):
    return tr.prog.fp, struct.unpack_from("<16I", tr.sdram.mem, tr.prog.fp)


@pytest.mark.parametrize("case,code", [("op", ha.ERR_OP), ("id", ha.ERR_REGION), ("base", ha.ERR_REGION),
                                       ("odd", ha.ERR_SHAPE), ("shape", ha.ERR_SHAPE), ("nan", ha.ERR_NONFINITE)])
def test_bad_input_stops_with_status_and_writes_nothing(batch, case, code):
    x, labels = batch
    tr = ha.Trainer(SPEC, batch=4, height=16, width=16)
    tr.step(x, labels, lr=0.1)
    mem = tr.sdram.mem
    target = tr.prog.commands[4][0]                      # layers.1.conv1: stride 2
    words = list(struct.unpack_from("<16I", mem, target))
    if case == "op":
        words[0] = 0x0B
    elif case == "id":
        words[2] = 10_000
    elif case == "base":
        d = tr.prog.tensors["layers.1.conv1.weight"]
        struct.pack_into("<I", mem, ha.TABLE_BASE + ha.ENTRY_BYTES * d.id, len(mem) - 8)
    elif case == "odd":
        d = tr.prog.tensors["layers.0.out"]
        struct.pack_into("<HHHH", mem, ha.TABLE_BASE + ha.ENTRY_BYTES * d.id + 6, 4, 8, 7, 7)
    elif case == "shape":
        d = tr.prog.tensors["layers.1.bn1.out"]
        struct.pack_into("<HHHH", mem, ha.TABLE_BASE + ha.ENTRY_BYTES * d.id + 6, 4, 16, 8, 7)
    elif case == "nan":
        d = tr.prog.tensors["layers.0.out"]
        struct.pack_into("<H", mem, d.base + 2 * 5, 0x7E00)
    struct.pack_into("<16I", mem, target, *words)
    before = mem.copy()
    status, addr = tr.device.run(tr.sdram, target)
    assert (status, addr) == (code, target)
    assert np.array_equal(before, mem), "a refused command wrote to SDRAM"


def test_resnet20_layout():
    spec = am.NetSpec.resnet20()
    prog = ha.compile_iteration(spec, 8, 32, 32)
    sdram = ha.Sdram(prog)
    regions = sorted((d.base, d.base + d.span) for d in prog.tensors.values())
    assert regions[0][0] >= prog.bp + ha.CMD_BYTES * sum(1 for c in prog.commands if c[0] >= prog.bp)
    assert all(a[1] <= b[0] for a, b in zip(regions, regions[1:])) and regions[-1][1] <= prog.size
    ops = [c[1] for c in prog.commands]
    assert ops.count("CONV_BN_FP") == 19 and ops.count("BN_CONV_BP") == 19 and ops.count("STOP") == 2
    base, dtype, shape = sdram.entry(prog.tensors["layers.8.bn2.out"].id)
    assert (dtype, shape) == (ha.FP16, (8, 64, 8, 8)) and base == prog.tensors["layers.8.bn2.out"].base
