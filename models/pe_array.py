"""The PE array's controller schedule and a functional model of its PE modes
(rtl/pe_array, paper 004 III-A/III-C). Knows nothing of cocotb.

A layer phase becomes a *program*: a list of tiles, each a run of operand
beats (one beat = one clock of the array: 3 int8 column operands per PE column
and 3 int8 row operands per PE row, one PE mode) ending in `last`, plus the map
from every partial sum of the tile to the element of the result tensor it is.

PE modes (products a*b of int8, partial sums ps0..ps2 per PE):
  CONV 0: ps0 += a0*b0 + a1*b1 + a2*b2        one 3x3 kernel row per beat
  EO   1: ps0 += a0*b0; ps1 += a1*b1 + a0*b2  BP stride 2, even/odd outputs
  WB   2: psj += aj*b0                        row operand broadcast to 3 MACs
  BC   3: psj += a0*bj                        input broadcast to 3 MACs (Fig. 3(f))

Mappings (rows share row operands, columns share column operands):
  FP 3x3 (s1, s2), BP 3x3 s1  CONV: rows = output channels, columns = output
      positions (n, y, x), loop (c, ky), the 3 MACs = kx; stride 2 reads only
      the inputs each output needs (even/odd input groups): no dummy multiply.
      BP s1 reads the kernels rotated 180 degrees with M and C swapped.
  BP 3x3 s2  EO: rows = input channels, columns = output pairs (n, y, x=2u,
      2u+1) of one y parity, loop (m, ky in the taps of that parity): the
      zero-inserted error map is never formed.
  WG 3x3: a matrix product dW[m, (c,ky,kx)] = sum_(n,yo,xo) dout * patch, the
      patches read at the strided positions only (input division, nothing
      zero-inserted), mapped like 1x1/FC below.
  1x1 conv, FC (every phase) and WG 3x3: Out[p, q] = sum_r X[p, r] Y[q, r],
      X on the rows and Y on the columns or the other way round, with
      BC (3 p per row, input broadcast, Fig. 3(f)), WB (3 q per column) or
      CONV (3 consecutive r per beat into one partial sum): whichever
      orientation and mode takes the fewest clocks (matmul_cost).
The controller (rtl/pe_array/pe_ctrl.v, ctrl_program) issues FP/BP 3x3 as
above, 1x1 / FC with BC beats, and WG 3x3 as _wg3_ctrl: stride 1 CONV with
dout on the rows and 3 consecutive output positions per beat, stride 2 with
one position per beat, BC with the strided x patches on the rows or WB with
dout on the rows (wg3_transposed). The array cannot reach 90% on every WG
layer: wg_util_bound gives the upper bound of any mapping (conv1 27/32,
16->16 0.9 on 16 x 32).
Unsupported shapes raise UnsupportedLayer (the array itself is shape-agnostic).
"""

import math
from dataclasses import dataclass

import numpy as np

CONV, EO, WB, BC = 0, 1, 2, 3
MODE_NAMES = {CONV: "conv", EO: "eo", WB: "wb", BC: "bc"}


class UnsupportedLayer(ValueError):
    pass


@dataclass(frozen=True)
class Layer:
    name: str
    kind: str            # "conv" or "fc"
    n: int               # batch
    c: int               # input channels / features
    m: int               # output channels / features
    h: int = 1           # input height
    w: int = 1           # input width
    k: int = 1           # kernel size
    stride: int = 1
    pad: int = 0

    @property
    def ho(self):
        return (self.h + 2 * self.pad - self.k) // self.stride + 1

    @property
    def wo(self):
        return (self.w + 2 * self.pad - self.k) // self.stride + 1

    @property
    def macs(self):
        """Nominal multiply-accumulates of the layer (the same in FP, BP, WG)."""
        return self.n * self.m * self.c * self.ho * self.wo * self.k * self.k

    def check(self):
        if min(self.n, self.c, self.m, self.h, self.w) < 1:
            raise UnsupportedLayer(f"{self.name}: sizes must be >= 1")
        if self.kind == "fc":
            if (self.h, self.w, self.k, self.stride, self.pad) != (1, 1, 1, 1, 0):
                raise UnsupportedLayer(f"{self.name}: FC takes no spatial parameters")
            return
        if self.kind != "conv":
            raise UnsupportedLayer(f"{self.name}: kind {self.kind!r}")
        if self.stride not in (1, 2):
            raise UnsupportedLayer(f"{self.name}: stride {self.stride} (1 or 2)")
        if self.k == 3 and self.pad != 1:
            raise UnsupportedLayer(f"{self.name}: 3x3 needs padding 1")
        if self.k == 1 and self.pad != 0:
            raise UnsupportedLayer(f"{self.name}: 1x1 needs padding 0")
        if self.k not in (1, 3):
            raise UnsupportedLayer(f"{self.name}: kernel {self.k} (1 or 3)")
        if self.stride == 2 and (self.h % 2 or self.w % 2):
            raise UnsupportedLayer(f"{self.name}: stride 2 needs even H and W")


@dataclass
class Tile:
    mode: int
    a: np.ndarray        # (R, COLS, 3) int8 column operands, beat-major
    b: np.ndarray        # (R, ROWS, 3) int8 row operands
    idx: np.ndarray      # (ROWS, COLS, 3) int64: flat index into the result, -1 unused
    macs: int = 0        # MACs issued: both operands real and the product lands in a result


@dataclass
class Program:
    layer: Layer
    phase: str
    rows: int
    cols: int
    out_shape: tuple
    tiles: list

    @property
    def beats(self):
        return sum(len(t.a) for t in self.tiles)

    @property
    def macs_issued(self):
        """MACs whose result lands in a result element (zero operands from
        padding included, as in the nominal count); 0 for idle PEs/MACs."""
        return sum(t.macs for t in self.tiles)

    def cycles(self, out_rows, depth=5):
        """Clocks from the first beat offered to the clock edge at which the
        last result beat is taken, source always valid, sink always ready
        (rtl/pe_array/pe_array.v, output FIFO of `depth` entries): a beat
        enters the input register at clock 1 and executes at clock 2, one beat
        per clock; from clock T + 3 on (T: the clock its last beat executes) a
        tile's groups are requested from the PEs' shadow registers, one per
        clock, and each is taken 3 clocks after its request (so the FIFO and
        the requests in flight hold the requests of the last 3 clocks). The
        drain rule: a tile's last beat executes at T' >= T + 3 only when at
        most 3 of the previous tile's groups are still to be requested and
        those, the FIFO's entries and the requests in flight fit in `depth`."""
        groups = self.rows // out_rows
        load_lat, req_lat, owed_max = 3, 2, 3
        t = 2
        prev_last = None
        reqs = []                     # request clocks [first, last] of the last two tiles

        def owed(x):
            left = groups - min(max(x - prev_last - load_lat, 0), groups)
            held = sum(max(0, min(e, x - 1) - max(s, x - 3) + 1) for s, e in reqs)
            return left, held

        for tile in self.tiles:
            t_last = t + len(tile.a) - 1
            if prev_last is not None:
                t_last = max(t_last, prev_last + load_lat)
                while True:
                    left, held = owed(t_last)
                    if left <= owed_max and left + held <= depth:
                        break
                    t_last += 1
            prev_last = t_last
            reqs = reqs[-1:] + [(t_last + load_lat, t_last + load_lat + groups - 1)]
            t = t_last + 1
        return prev_last + load_lat + req_lat + groups


def _ceil(a, b):
    return -(-a // b)


def _flat(shape):
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)


# ---------------------------------------------------------------- controller descriptor check
def ctrl_check(phase, n, c, m, h, w, k=3, stride=1, pad=1, rows=16, cols=32, idepth=1024, wdepth=1024):
    """What pe_ctrl derives from a layer descriptor (rtl/pe_array/pe_desc.v),
    in exact integers: code (0 accepted, 1 illegal shape, 3 above the buffers'
    capacity), fit (fits half of both buffers: loads while another layer
    computes), the input bytes to load (count), the weight-buffer load's
    kernel rows and kernels per row (ld_m, ld_c), and the runner's row items
    g, reduction words c3, last channel mod 3 kyl, the column tensor's width
    wx, hw = hx*wx, chw = cx*hx*wx, wgt (WG 3x3 stride 2 with x on the rows).
    Buffers: the column tensor (x, or dout for BP and transposed WG) with one
    padding row and byte before and after: n*cx*hx*wx + 2*wx + 3 bytes of
    3*idepth; weights: ceil(row items / rows) * 3 words per reduction item of
    wdepth (3x3: items = output channels, reduction = input channels; 1x1, FC
    and WG: 3 channels or one kernel row per item, reduction in words of 3);
    WG also needs fewer than 2^16 output positions."""
    bad = (phase == 3 or min(n, c, m, h, w) == 0 or k not in (1, 3) or stride not in (1, 2)
           or pad != k // 2 or (stride == 2 and (h % 2 or w % 2)))
    bp, wg = phase == 1, phase == 2
    w3 = wg and k == 3
    wgc = w3 and stride == 1
    wgt = w3 and not wgc and wg3_transposed(c, m, rows, cols)
    bc = k == 1 or wg
    ho, wo = (h // 2, w // 2) if stride == 2 else (h, w)
    cs = bp or wgt
    cx, hx, wx = (m, ho, wo) if cs else (c, h, w)
    nrows = c if bp else m
    r = n * ho * wo
    red = (n * _ceil(h * w, 3)) % 65536 if wgc else r % 65536 if wg else cx
    c3, kyl = _ceil(red, 3), (red - 1) % 3
    g = 3 * c if wgt else m if w3 else _ceil(nrows, 3)
    words = _ceil(g, rows) * 3 * c3 if bc else _ceil(m, rows) * 3 * c
    span = n * cx * hx * wx + 2 * wx + 3
    code = 1 if bad else 3 if (span > 3 * idepth or words > wdepth or (wg and r >= 65536) or g >= 65536) else 0
    return {"code": code, "fit": span <= 3 * (idepth // 2) and words <= 3 * (wdepth // 6),
            "count": n * cx * hx * wx, "ld_m": g if bc else m, "ld_c": c3 if bc else c, "wgt": wgt,
            "g": g, "c3": c3, "kyl": kyl, "wx": wx, "hw": hx * wx, "chw": cx * hx * wx}


# ---------------------------------------------------------------- 3x3 mappings
def _conv3_os(x, w, stride, rows, cols, out_flat):
    """CONV mode: out[n, m, yo, xo] = sum_{c,ky,kx} w[m,c,ky,kx] xpad[n,c,yo*s+ky,xo*s+kx]
    with padding 1. out_flat: (N, M, Ho, Wo) flat indices."""
    n_, c_, h, wd = x.shape
    m_ = w.shape[0]
    ho, wo = out_flat.shape[2:]
    xp = np.zeros((n_, c_, h + 3, wd + 3), np.int8)
    xp[:, :, 1:h + 1, 1:wd + 1] = x
    q = n_ * ho * wo
    rr = np.arange(c_ * 3)
    rc, rky = rr // 3, rr % 3
    j = np.arange(3)
    tiles = []
    for m0 in range(0, m_, rows):
        mi = np.arange(m0, m0 + rows)
        mv = mi < m_
        mi = np.where(mv, mi, 0)
        b = w[mi[None, :, None], rc[:, None, None], rky[:, None, None], j[None, None, :]]
        b = b * mv[None, :, None]
        for q0 in range(0, q, cols):
            qi = np.arange(q0, q0 + cols)
            qv = qi < q
            qi = np.where(qv, qi, 0)
            qn, qy, qx = qi // (ho * wo), (qi // wo) % ho, qi % wo
            a = xp[qn[None, :, None], rc[:, None, None],
                   (qy * stride)[None, :, None] + rky[:, None, None],
                   (qx * stride)[None, :, None] + j[None, None, :]]
            a = a * qv[None, :, None]
            idx = np.full((rows, cols, 3), -1, np.int64)
            o = out_flat[qn[None, :], mi[:, None], qy[None, :], qx[None, :]]
            idx[..., 0] = np.where(mv[:, None] & qv[None, :], o, -1)
            macs = 3 * len(rr) * int((idx[..., 0] >= 0).sum())
            tiles.append(Tile(CONV, a.astype(np.int8), b.astype(np.int8), idx, macs))
    return tiles


def _bp3_s2_eo(dout, w, rows, cols, out_flat):
    """EO mode: din = conv2d_input for 3x3, stride 2, padding 1, H and W even.
    din[n,c,y,x] = sum over (ky,kx) with y+1-ky, x+1-kx even of
    dout[n,m,(y+1-ky)/2,(x+1-kx)/2] w[m,c,ky,kx]. Output pair x = 2u, 2u+1:
    even gets kx=1 from dout[u]; odd gets kx=0 from dout[u+1] and kx=2 from dout[u]."""
    n_, m_, ho, wo = dout.shape
    c_ = w.shape[1]
    h, wd = out_flat.shape[2:]
    dp = np.zeros((n_, m_, ho + 1, wo + 1), np.int8)  # one zero row/col past the end
    dp[:, :, :ho, :wo] = dout
    tiles = []
    taps = {0: [1], 1: [0, 2]}
    for c0 in range(0, c_, rows):
        ci = np.arange(c0, c0 + rows)
        cv = ci < c_
        ci = np.where(cv, ci, 0)
        for par in (0, 1):
            ys = np.arange(par, h, 2)
            # columns: (n, y of this parity, u)
            q = n_ * len(ys) * (wd // 2)
            kys = taps[par]
            rm = np.repeat(np.arange(m_), len(kys))
            rky = np.tile(np.array(kys), m_)
            b = np.stack([w[rm[:, None], ci[None, :], rky[:, None], kx] for kx in (1, 0, 2)], axis=-1)
            b = b * cv[None, :, None]
            for q0 in range(0, q, cols):
                qi = np.arange(q0, q0 + cols)
                qv = qi < q
                qi = np.where(qv, qi, 0)
                qn = qi // (len(ys) * (wd // 2))
                qy = ys[(qi // (wd // 2)) % len(ys)]
                qu = qi % (wd // 2)
                yo = (qy[None, :] + 1 - rky[:, None]) // 2        # (R, COLS)
                yo = np.where((yo >= 0) & (yo < ho), yo, ho)       # off the map: the zero row
                a = np.zeros((len(rm), cols, 3), np.int8)
                a[..., 0] = dp[qn[None, :], rm[:, None], yo, qu[None, :]]
                a[..., 1] = dp[qn[None, :], rm[:, None], yo, qu[None, :] + 1]
                a = a * qv[None, :, None]
                idx = np.full((rows, cols, 3), -1, np.int64)
                ok = cv[:, None] & qv[None, :]
                idx[..., 0] = np.where(ok, out_flat[qn[None, :], ci[:, None], qy[None, :], 2 * qu[None, :]], -1)
                idx[..., 1] = np.where(ok, out_flat[qn[None, :], ci[:, None], qy[None, :], 2 * qu[None, :] + 1], -1)
                macs = 3 * len(rm) * int(ok.sum())
                tiles.append(Tile(EO, a.astype(np.int8), b.astype(np.int8), idx, macs))
    return tiles


def _im2col3(x, stride, ho, wo):
    """(C*9, N*Ho*Wo) patches of xpad (padding 1): row (c, ky, kx), column
    (n, yo, xo) = xpad[n, c, yo*s+ky, xo*s+kx]; only the strided positions are
    read (the input division of Fig. 3(d)), nothing is zero-inserted."""
    n_, c_, h, wd = x.shape
    xp = np.zeros((n_, c_, h + 3, wd + 3), np.int8)
    xp[:, :, 1:h + 1, 1:wd + 1] = x
    k = np.arange(3)
    yy = (np.arange(ho) * stride)[:, None] + k[None, :]     # (Ho, ky)
    xx = (np.arange(wo) * stride)[:, None] + k[None, :]     # (Wo, kx)
    p = xp[:, :, yy[:, :, None, None], xx[None, None, :, :]]  # (N, C, Ho, ky, Wo, kx)
    return np.ascontiguousarray(p.transpose(1, 3, 5, 0, 2, 4).reshape(c_ * 9, -1))


# ---------------------------------------------------------------- WG 3x3 mappings of the controller
def wg3_transposed(c, m, rows, cols):
    """WG 3x3 stride 2 in pe_ctrl: True = x on the rows (BC), False = dout on
    the rows (WB); the one with fewer tiles (both take N*Ho*Wo beats per
    tile), x on the rows on a tie."""
    return _ceil(3 * c, rows) * _ceil(m, cols) <= _ceil(m, rows) * _ceil(3 * c, cols)


def wg3_words(x, dout, stride, rows, cols):
    """Row-operand words of the controller's WG 3x3 mappings (the weight
    stream): (G, L, 3) int8, word j of row item g = the b operand {b0, b1, b2}
    of the PE row holding g at beat j of a tile.
    - stride 1 (CONV): g = output channel m, one word per 3 consecutive output
      positions of one image, b_k = dout[n, m, p = 3q + k] (row-major p, zero
      past the image's end), L = N * ceil(Ho*Wo / 3);
    - stride 2, dout on the rows (WB): g = m, one word per output position
      (n, yo, xo), b0 = dout, b1 = b2 = 0, L = N*Ho*Wo;
    - stride 2, x on the rows (BC): g = kernel row (c, ky), one word per
      output position, b_j = xpad[n, c, 2yo + ky, 2xo + j]: the strided
      patches (input division), L = N*Ho*Wo."""
    n_, m_, ho, wo = dout.shape
    p = ho * wo
    if stride == 1:
        nq = _ceil(p, 3)
        d = np.zeros((n_, m_, nq * 3), np.int8)
        d[:, :, :p] = dout.reshape(n_, m_, p)
        return np.ascontiguousarray(d.reshape(n_, m_, nq, 3).transpose(1, 0, 2, 3).reshape(m_, n_ * nq, 3))
    if wg3_transposed(x.shape[1], m_, rows, cols):
        pt = _im2col3(x, stride, ho, wo)                          # (C*9, R), row (c, ky, kx)
        return np.ascontiguousarray(pt.reshape(-1, 3, pt.shape[1]).transpose(0, 2, 1))
    d = np.zeros((m_, n_ * p, 3), np.int8)
    d[..., 0] = dout.transpose(1, 0, 2, 3).reshape(m_, -1)
    return d


def _wg3_ctrl(x, dout, stride, rows, cols, out_flat):
    """The WG 3x3 mappings of pe_ctrl (row operands: wg3_words):
    - stride 1, CONV, dout on the rows (one output channel m per PE row), x
      on the columns: column = kernel tap (c, ky, kx), beat = 3 consecutive
      output positions p of one image (lane k = p_k = 3q + k; the x byte of
      lane k is p_k + c*H*W + ky*W + kx in the row-major map, so the input
      buffer reads a byte triple, also across a row end); ps0 += sum_k
      dout[m, p_k] * xpad[c, y_k + ky, x_k + kx]. An image's last beat
      leaves its lanes past the end idle. Tiles: ROWS channels m (outer) x
      COLS taps.
    - stride 2, WB, dout on the rows: column = kernel row (c, ky), lane j =
      kx, beat = one output position (n, yo, xo): psj += dout[m, yo, xo] *
      xpad[c, 2yo + ky, 2xo + j]. Tiles: ROWS channels m x COLS kernel rows.
    - stride 2, BC, x on the rows (wg3_transposed): row = kernel row (c, ky)
      with b_j = its kx = j patch byte, column = output channel m with a0 =
      dout[n, m, yo, xo], beat = one output position: psj += a0 * b_j. Tiles:
      ROWS kernel rows x COLS channels m.
    Stride 2 reads only the strided positions (input division): nothing is
    zero-inserted, MACs issued = nominal MACs."""
    n_, c_, h, wd = x.shape
    m_, ho, wo = dout.shape[1:]
    b_all = wg3_words(x, dout, stride, rows, cols)                 # (G, L, 3)
    pt = _im2col3(x, stride, ho, wo)                               # (C*9, N*Ho*Wo)
    if stride == 2 and wg3_transposed(c_, m_, rows, cols):
        dm = dout.transpose(1, 0, 2, 3).reshape(m_, -1)
        return _matmul(pt, dm, rows, cols, out_flat.reshape(m_, -1).T, BC)
    if stride == 1:
        p = ho * wo
        nq = _ceil(p, 3)
        a_all = np.zeros((c_ * 9, n_, nq * 3), np.int8)
        a_all[:, :, :p] = pt.reshape(c_ * 9, n_, p)
        a_all = a_all.reshape(c_ * 9, n_ * nq, 3).transpose(1, 0, 2)   # (L, C*9, 3)
        omap = out_flat.reshape(m_, c_ * 9, 1)
        mode, lanes = CONV, 1
    else:
        a_all = pt.reshape(c_ * 3, 3, -1).transpose(2, 0, 1)            # (R, C*3, 3): lane = kx
        omap = out_flat.reshape(m_, c_ * 3, 3)
        mode, lanes = WB, 3
    q = a_all.shape[1]
    red = n_ * ho * wo                                             # real positions: MACs per lane
    tiles = []
    for m0 in range(0, m_, rows):
        mi = np.arange(m0, m0 + rows)
        mv = mi < m_
        mi = np.where(mv, mi, 0)
        b = np.ascontiguousarray((b_all[mi] * mv[:, None, None]).transpose(1, 0, 2))
        for q0 in range(0, q, cols):
            qi = np.arange(q0, q0 + cols)
            qv = qi < q
            qi = np.where(qv, qi, 0)
            a = np.ascontiguousarray(a_all[:, qi] * qv[None, :, None])
            idx = np.full((rows, cols, 3), -1, np.int64)
            ok = mv[:, None] & qv[None, :]
            idx[..., :lanes] = np.where(ok[..., None], omap[mi[:, None], qi[None, :]], -1)
            tiles.append(Tile(mode, a, b, idx, red * int((idx >= 0).sum())))
    return tiles


# ---------------------------------------------------------------- matrix mapping
def matmul_cost(mode, p, q, r, rows, cols, out_rows=2):
    """Clocks of a matrix product in one mapping (tiles x beats, a tile never
    shorter than the output drain)."""
    if mode == BC:
        tiles, beats = _ceil(p, 3 * rows) * _ceil(q, cols), r
    elif mode == WB:
        tiles, beats = _ceil(p, rows) * _ceil(q, 3 * cols), r
    else:
        tiles, beats = _ceil(p, rows) * _ceil(q, cols), _ceil(r, 3)
    return tiles * max(beats, rows // out_rows + 1)


def matmul_mode(p, q, r, rows, cols):
    """The mapping with the fewest clocks: BC (3 p per row, input broadcast),
    WB (3 q per column, row operand broadcast) or CONV (3 r per beat summed
    into one partial sum); ties go to that order."""
    return min((BC, WB, CONV), key=lambda m: matmul_cost(m, p, q, r, rows, cols))


def _matmul(xm, ym, rows, cols, out_map, mode=None):
    """out[p, q] = sum_r xm[p, r] ym[q, r]; xm rides on the rows, ym on the
    columns. out_map: (P, Q) flat indices into the result tensor."""
    p, r = xm.shape
    q = ym.shape[0]
    if mode is None:
        mode = matmul_mode(p, q, r, rows, cols)
        mode_t = matmul_mode(q, p, r, rows, cols)
        if matmul_cost(mode_t, q, p, r, rows, cols) < matmul_cost(mode, p, q, r, rows, cols):
            return _matmul(ym, xm, rows, cols, out_map.T, mode_t)   # operands swap buses
    tiles = []
    if mode == CONV:
        nb = _ceil(r, 3)
        xr = np.zeros((p, nb * 3), np.int8)
        xr[:, :r] = xm
        yr = np.zeros((q, nb * 3), np.int8)
        yr[:, :r] = ym
        for p0 in range(0, p, rows):
            pi = np.arange(p0, p0 + rows)
            pv = pi < p
            pi = np.where(pv, pi, 0)
            b = (xr[pi] * pv[:, None]).reshape(rows, nb, 3).transpose(1, 0, 2)
            for q0 in range(0, q, cols):
                qi = np.arange(q0, q0 + cols)
                qv = qi < q
                qi = np.where(qv, qi, 0)
                a = (yr[qi] * qv[:, None]).reshape(cols, nb, 3).transpose(1, 0, 2)
                idx = np.full((rows, cols, 3), -1, np.int64)
                ok = pv[:, None] & qv[None, :]
                idx[..., 0] = np.where(ok, out_map[pi[:, None], qi[None, :]], -1)
                tiles.append(Tile(CONV, np.ascontiguousarray(a), np.ascontiguousarray(b), idx, r * int(ok.sum())))
        return tiles
    pr, qc = (3, 1) if mode == BC else (1, 3)  # items per row / per column
    for p0 in range(0, p, rows * pr):
        pi = (p0 + np.arange(rows * pr)).reshape(rows, pr)
        pv = pi < p
        pi = np.where(pv, pi, 0)
        b = np.zeros((r, rows, 3), np.int8)
        b[..., :pr] = (xm[pi] * pv[..., None]).transpose(2, 0, 1)
        for q0 in range(0, q, cols * qc):
            qi = (q0 + np.arange(cols * qc)).reshape(cols, qc)
            qv = qi < q
            qi = np.where(qv, qi, 0)
            a = np.zeros((r, cols, 3), np.int8)
            a[..., :qc] = (ym[qi] * qv[..., None]).transpose(2, 0, 1)
            if mode == BC:   # lane j = p of MAC j, column's q
                o = out_map[pi[:, None, :], qi[None, :, 0:1]]
                ok = pv[:, None, :] & qv[None, :, 0:1]
            else:            # lane j = row's p, q of MAC j
                o = out_map[pi[:, 0:1, None], qi[None, :, :]]
                ok = pv[:, 0:1, None] & qv[None, :, :]
            tiles.append(Tile(mode, a, b, np.where(ok, o, -1).astype(np.int64), r * int(ok.sum())))
    return tiles


# ---------------------------------------------------------------- programs
def program(layer, phase, x=None, w=None, dout=None, rows=16, cols=32, matmul=None, wg3=None):
    """Tiles of one phase. FP needs x, w; BP needs dout, w; WG needs x, dout.
    All int8 numpy arrays (NCHW / OIHW; FC: (N, C), (M, C), (N, M)).
    matmul: force this PE mode (BC, WB or CONV) on the matrix products
    (1x1 / FC every phase, WG 3x3), in the orientation written below (FP/BP:
    the weights on the rows; WG: dout on the rows), instead of the cheapest
    one. wg3="ctrl": WG 3x3 as _wg3_ctrl (stride 1 CONV, stride 2 WB or BC)
    instead of a matrix product. ctrl_program gives pe_ctrl's mapping."""
    layer.check()
    if phase not in ("fp", "bp", "wg"):
        raise UnsupportedLayer(f"phase {phase!r}")
    L = layer
    if L.kind == "fc":
        shape = {"fp": (L.n, L.m), "bp": (L.n, L.c), "wg": (L.m, L.c)}[phase]
        fl = _flat(shape)
        if phase == "fp":
            tiles = _matmul(w, x, rows, cols, fl.T, matmul)
        elif phase == "bp":
            tiles = _matmul(w.T, dout, rows, cols, fl.T, matmul)
        else:
            tiles = _matmul(dout.T, x.T, rows, cols, fl, matmul)
        return Program(L, phase, rows, cols, shape, tiles)

    s = L.stride
    if phase == "fp":
        shape = (L.n, L.m, L.ho, L.wo)
    elif phase == "bp":
        shape = (L.n, L.c, L.h, L.w)
    else:
        shape = (L.m, L.c, L.k, L.k)
    fl = _flat(shape)
    if L.k == 1:
        if phase == "fp":
            xs = x[:, :, ::s, ::s]                                    # (N, C, Ho, Wo)
            ym = xs.transpose(0, 2, 3, 1).reshape(-1, L.c)            # (Q, C)
            tiles = _matmul(w[:, :, 0, 0], ym, rows, cols, fl.transpose(1, 0, 2, 3).reshape(L.m, -1), matmul)
        elif phase == "bp":
            ym = dout.transpose(0, 2, 3, 1).reshape(-1, L.m)          # (Q, M)
            om = fl[:, :, ::s, ::s].transpose(1, 0, 2, 3).reshape(L.c, -1)
            tiles = _matmul(w[:, :, 0, 0].T, ym, rows, cols, om, matmul)
        else:
            xs = x[:, :, ::s, ::s].transpose(1, 0, 2, 3).reshape(L.c, -1)   # (C, R)
            dm = dout.transpose(1, 0, 2, 3).reshape(L.m, -1)                # (M, R)
            tiles = _matmul(dm, xs, rows, cols, fl[:, :, 0, 0], matmul)
        return Program(L, phase, rows, cols, shape, tiles)

    # 3x3, padding 1
    if phase == "fp":
        tiles = _conv3_os(x, w, s, rows, cols, fl)
    elif phase == "bp" and s == 1:
        wt = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))   # rotate 180, swap M/C
        tiles = _conv3_os(dout, wt, 1, rows, cols, fl)
    elif phase == "bp":
        tiles = _bp3_s2_eo(dout, w, rows, cols, fl)
    elif wg3 == "ctrl":
        tiles = _wg3_ctrl(x, dout, s, rows, cols, fl)
    else:
        dm = dout.transpose(1, 0, 2, 3).reshape(L.m, -1)                    # (M, N*Ho*Wo)
        tiles = _matmul(dm, _im2col3(x, s, L.ho, L.wo), rows, cols, fl.reshape(L.m, -1), matmul)
    return Program(L, phase, rows, cols, shape, tiles)


def ctrl_program(layer, phase, x=None, w=None, dout=None, rows=16, cols=32):
    """The mapping rtl/pe_array/pe_ctrl.v issues: FP/BP 3x3 as program's
    default, 1x1 / FC in every phase with BC beats (matmul=BC, weights or
    dout on the rows), WG 3x3 as _wg3_ctrl."""
    return program(layer, phase, x, w, dout, rows, cols,
                   matmul=BC if layer.k == 1 or phase == "wg" else None, wg3="ctrl")


# ---------------------------------------------------------------- functional model
def run_tile(tile):
    """The PE modes as defined above, on a whole tile: (ROWS, COLS, 3) int64."""
    a = tile.a.astype(np.int64)
    b = tile.b.astype(np.int64)
    ps = np.zeros((b.shape[1], a.shape[1], 3), np.int64)
    if tile.mode == CONV:
        ps[..., 0] = np.einsum("rij,rkj->ik", b, a)
    elif tile.mode == EO:
        ps[..., 0] = np.einsum("ri,rk->ik", b[..., 0], a[..., 0])
        ps[..., 1] = np.einsum("ri,rk->ik", b[..., 1], a[..., 1]) + np.einsum("ri,rk->ik", b[..., 2], a[..., 0])
    elif tile.mode == WB:
        ps[:] = np.einsum("ri,rkj->ikj", b[..., 0], a)
    else:
        ps[:] = np.einsum("rij,rk->ikj", b, a[..., 0])
    return ps


def scatter(prog, tile_results):
    """Places every tile's partial sums into the result tensor. Returns
    (result int64, written-count per element)."""
    out = np.zeros(int(np.prod(prog.out_shape)), np.int64)
    cnt = np.zeros_like(out)
    for tile, ps in zip(prog.tiles, tile_results):
        used = tile.idx >= 0
        out[tile.idx[used]] = ps[used]
        np.add.at(cnt, tile.idx[used], 1)
    return out.reshape(prog.out_shape), cnt.reshape(prog.out_shape)


def utilization(macs, rows, cols, cycles):
    return macs / (3 * rows * cols * cycles) if cycles else 0.0


def _side_bound(need, slots):
    """Best fraction of useful MAC slots for the operands on one side: a byte
    presented once on that side occupies `slots` MAC slots."""
    need = need[need > 0]
    return float(need.sum() / (slots * _ceil(need, slots)).sum())


def wg_util_bound(layer, rows, cols):
    """Upper bound on the WG utilization of ANY mapping of `layer` onto a
    rows x cols array of these PEs (nominal MACs, padding included).

    Every product of WG pairs one dout byte with one x byte (a padding zero
    included). A byte on the row side reaches every PE of its row, and every
    PE mode puts it into at least one MAC: one presentation occupies at least
    `cols` MAC slots (`rows` on the column side), and slots holding different
    bytes of one side are distinct. A byte that takes part in `need` products
    therefore holds at least slots * ceil(need / slots) MAC slots, however the
    beats are ordered; the sum over one side's bytes bounds the total slots
    from below. Each dout byte needs C*K*K products, and the x byte at padded
    position (i, j) needs M times the taps that reach an output from there.
    The bound is the better of the two orientations (dout on the rows or on
    the columns), each the smaller of its two sides' bounds. Pipeline fill and
    drain come on top."""
    L = layer
    d_need = np.full(L.n * L.m * L.ho * L.wo, L.c * L.k * L.k, np.int64)

    def taps(size, out):
        i = np.arange(size + 2 * L.pad)[:, None] - np.arange(L.k)[None, :]
        return ((i % L.stride == 0) & (i >= 0) & (i // L.stride < out)).sum(1)

    x_need = L.m * np.outer(taps(L.h, L.ho), taps(L.w, L.wo)).ravel()
    x_need = np.tile(x_need, L.n * L.c)
    assert d_need.sum() == x_need.sum() == L.macs
    rows_d = min(_side_bound(d_need, cols), _side_bound(x_need, rows))
    cols_d = min(_side_bound(d_need, rows), _side_bound(x_need, cols))
    return max(rows_d, cols_d)


def fp3_column_reach(layer, cols):
    """How much of the input buffer each column reads in FP 3x3 (the CONV
    mapping of _conv3_os: output position q = (n, yo, xo) flat on column
    q mod cols, padding not stored). pe_ibuf keeps a full copy of the input in
    every column's bank; a bank holding only what its column reads would need
    the largest of the fractions. -> (per-column fractions of the N*H*W pixels
    (the same for every channel), mean columns that read a pixel)."""
    L = layer
    assert L.kind == "conv" and L.k == 3 and L.pad == 1
    q = np.arange(L.n * L.ho * L.wo)
    qn, qy, qx = q // (L.ho * L.wo), (q // L.wo) % L.ho, q % L.wo
    reads = np.zeros((cols, L.n, L.h, L.w), bool)
    for ky in range(3):
        for kx in range(3):
            y, x = qy * L.stride + ky - 1, qx * L.stride + kx - 1
            ok = (y >= 0) & (y < L.h) & (x >= 0) & (x < L.w)
            reads[(q % cols)[ok], qn[ok], y[ok], x[ok]] = True
    return reads.sum((1, 2, 3)) / (L.n * L.h * L.w), float(reads.sum(0).mean())


# ---------------------------------------------------------------- reference data
RESNET20_LAYERS = (
    # name, kind, c, m, k, stride, input size as a fraction of the image side
    ("conv1_3x3_s1", "conv", 3, 16, 3, 1, 1),
    ("conv_16_16_3x3_s1", "conv", 16, 16, 3, 1, 1),
    ("conv_16_32_3x3_s2", "conv", 16, 32, 3, 2, 1),
    ("shortcut_16_32_1x1_s2", "conv", 16, 32, 1, 2, 1),
    ("conv_32_64_3x3_s2", "conv", 32, 64, 3, 2, 2),
    ("fc_64_10", "fc", 64, 10, 1, 1, 0),
)


def resnet20_layers(n, side):
    """The ResNet-20 layer kinds for a batch of n images cropped to side x side
    (32 = the full CIFAR-10 image)."""
    out = []
    for name, kind, c, m, k, s, div in RESNET20_LAYERS:
        if kind == "fc":
            out.append(Layer(name, "fc", n, c, m))
        else:
            hw = side // div
            out.append(Layer(name, "conv", n, c, m, hw, hw, k, s, 1 if k == 3 else 0))
    return out


def zero_tensors(layer):
    """x, w, dout of `layer`, all zeros: enough for a program's shape and cycles."""
    if layer.kind == "fc":
        return (np.zeros((layer.n, layer.c), np.int8), np.zeros((layer.m, layer.c), np.int8),
                np.zeros((layer.n, layer.m), np.int8))
    return (np.zeros((layer.n, layer.c, layer.h, layer.w), np.int8),
            np.zeros((layer.m, layer.c, layer.k, layer.k), np.int8),
            np.zeros((layer.n, layer.m, layer.ho, layer.wo), np.int8))


def layer_tensors(n=2, side=32, seed=0):
    """Real CIFAR-10 test images (one per class, strided indices) through a
    small float network with the ResNet-20 layer kinds, seeded init:
    conv1 -> relu -> conv16 -> relu -> {conv16_32 s2, shortcut 1x1 s2} -> add
    -> relu -> conv32_64 s2 -> relu -> avgpool -> fc, cross-entropy on the
    true labels. Returns {layer name: (Layer, x, w, dout)} with every tensor
    quantized by models/quant.py (per-tensor power-of-two scale), as int8
    numpy arrays: x = the layer input, w = its weights, dout = the gradient of
    the loss w.r.t. its output from the real backward pass.

    The same bits on every machine: the weights come from numpy's generator
    (torch.randn differs between its DEFAULT and AVX2 kernels) and the network
    runs in float64, so a different summation order moves a value by ~1e-16
    relative, far below the quantization's half step."""
    import torch
    import torch.nn.functional as F

    from models import quant
    from models.datasets import cifar_float, load_cifar10

    idx = (np.arange(n) * 1000 + 7 * seed) % 10000      # the test split is ordered by class
    imgs, labels = load_cifar10("test", indices=idx)
    x0 = torch.from_numpy(cifar_float(imgs).astype(np.float64))[:, :, :side, :side]
    rng = np.random.default_rng(seed)

    def param(*shape):
        fan_in = int(np.prod(shape[1:]))
        return torch.from_numpy(rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)).requires_grad_()

    layers = resnet20_layers(n, side)
    ws = {L.name: param(L.m, L.c, L.k, L.k) if L.kind == "conv" else param(L.m, L.c) for L in layers}
    acts, outs = {}, {}

    def conv(name, x, stride, pad):
        acts[name] = x
        y = F.conv2d(x, ws[name], stride=stride, padding=pad)
        y.retain_grad()
        outs[name] = y
        return y

    h1 = F.relu(conv("conv1_3x3_s1", x0, 1, 1))
    h2 = F.relu(conv("conv_16_16_3x3_s1", h1, 1, 1))
    h3 = conv("conv_16_32_3x3_s2", h2, 2, 1) + conv("shortcut_16_32_1x1_s2", h2, 2, 0)
    h4 = F.relu(conv("conv_32_64_3x3_s2", F.relu(h3), 2, 1))
    feat = h4.mean(dim=(2, 3))
    acts["fc_64_10"] = feat
    logits = F.linear(feat, ws["fc_64_10"])
    logits.retain_grad()
    outs["fc_64_10"] = logits
    F.cross_entropy(logits, torch.from_numpy(labels.astype(np.int64))).backward()

    def q8(t):
        t = t.detach()
        return quant.quantize(t, quant.pow2_exponent(t)).numpy()

    return {L.name: (L, q8(acts[L.name]), q8(ws[L.name]), q8(outs[L.name].grad)) for L in layers}


def reference(layer, phase, x, w, dout):
    """PyTorch on the integer tensors (float64: every sum is exact), int64."""
    import torch
    import torch.nn.functional as F

    d = lambda t: torch.from_numpy(np.asarray(t, np.float64))  # noqa: E731
    L = layer
    if L.kind == "fc":
        if phase == "fp":
            r = F.linear(d(x), d(w))
        elif phase == "bp":
            r = d(dout) @ d(w)
        else:
            r = d(dout).T @ d(x)
    elif phase == "fp":
        r = F.conv2d(d(x), d(w), stride=L.stride, padding=L.pad)
    elif phase == "bp":
        r = torch.nn.grad.conv2d_input((L.n, L.c, L.h, L.w), d(w), d(dout), stride=L.stride, padding=L.pad)
    else:
        r = torch.nn.grad.conv2d_weight(d(x), (L.m, L.c, L.k, L.k), d(dout), stride=L.stride, padding=L.pad)
    return r.round().to(torch.int64).numpy()
