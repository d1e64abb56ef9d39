"""The PE array's result beats, shared by the array's and the top's
testbenches (tb/test_pe_array.py, tb/test_pe_top.py): a tile's ROWS x COLS x 3
INT32 lanes leave in GROUPS = ROWS / OUT_ROWS beats of OUT_ROWS x COLS x 3
lanes, lane 0 in the low bits; and the controller's layer descriptor word
(tb/test_pe_top.py, tb/test_pe_desc.py) and the bound on its check. Knows nothing of cocotb."""

import numpy as np


# clocks pe_desc may take to check one descriptor: its longest check is 21 steps of at most
# 19 clocks (a division by 3 or by a non-power-of-two ROWS / COLS)
CHECK_BOUND = 400


def descriptor(phase, n, c, m, h, w, k=3, stride=1, pad=1, rq=0, shift=0):
    """The pe_ctrl descriptor word (layout in rtl/pe_array/pe_ctrl.v)."""
    ctrl = phase | (k << 2) | (stride << 4) | (pad << 6) | (rq << 8) | (shift << 9)
    return ctrl | (n << 16) | (c << 32) | (m << 48) | (h << 64) | (w << 80)


class ResultBeats:
    def __init__(self, rows, cols, out_rows, acc_w):
        self.rows, self.cols, self.acc_w = rows, cols, acc_w
        self.groups = rows // out_rows
        self.glanes = out_rows * cols * 3
        self.mask = (1 << acc_w) - 1

    def pack(self, lanes):
        return sum((int(v) & self.mask) << (self.acc_w * i) for i, v in enumerate(lanes))

    def unpack(self, value):
        lanes = np.array([(value >> (self.acc_w * i)) & self.mask for i in range(self.glanes)], np.int64)
        return np.where(lanes >= 1 << (self.acc_w - 1), lanes - (1 << self.acc_w), lanes)

    def tile(self, lanes, ovf=0, context=""):
        """The expected beats of one tile whose ROWS*COLS*3 lane values are `lanes`."""
        lanes = np.asarray(lanes).reshape(-1)
        gl = self.glanes
        return [{"data": self.pack(lanes[g * gl:(g + 1) * gl]), "group": g, "tlast": int(g == self.groups - 1),
                 "ovf": ovf, "_context": f"{context} group {g}"} for g in range(self.groups)]

    def program(self, prog, ref_flat, context=""):
        """The expected beats of a schedule (models.pe_array.program): the
        reference at the lanes the schedule maps, 0 on unused lanes (idle PEs
        and partial sums get no products)."""
        beats = []
        for k, t in enumerate(prog.tiles):
            lanes = np.where(t.idx >= 0, ref_flat[np.maximum(t.idx, 0)], 0)
            beats += self.tile(lanes, 0, f"{context} tile {k}")
        return beats

    def assemble(self, prog, got):
        """The result beats of one program (dicts with "data", in order) -> the
        flat result by the schedule's map, and how often each element was written."""
        out = np.zeros(int(np.prod(prog.out_shape)), np.int64)
        seen = np.zeros_like(out)
        for k, t in enumerate(prog.tiles):
            lanes = np.concatenate([self.unpack(got[k * self.groups + g]["data"]) for g in range(self.groups)])
            lanes = lanes.reshape(self.rows, self.cols, 3)
            used = t.idx >= 0
            out[t.idx[used]] = lanes[used]
            seen[t.idx[used]] += 1
        return out, seen


def requant_shift(ref):
    """A shift that leaves some outputs saturated: one below the one that fits."""
    m = int(np.abs(ref).max())
    return max(0, (m // 127).bit_length() - 1)
