"""Bit-accurate model of the MLP training hardware (rtl/neuron), written from
its specification: every value is a float32 produced by the same float32
operation, in the same order, as the hardware.

Per sample (weights fixed within a mini-batch):
- forward, layer l, neuron i: the multiply-accumulate over the inputs
  j = 0..S_l (j = 0 is the bias, whose input is 1.0) keeps R interleaved
  partial sums in the adder pipeline (R = the adder latency): p[j % R] +=
  a_j * w_ij, starting from +0. The partial sums are folded newest first:
  s = p[S % R]; s = p[(S - k) % R] + s for k = 1..R-1. Then a = sigmoid(s).
- output delta: a - y.
- hidden delta (eq. 2): e_k = the same interleaved MAC over the next layer's
  neurons i of delta_i * w_i,k+1; t1 = (-a) + 1; t2 = e * a; delta = t2 * t1.
- Delta (eq. 1): Delta_ij = (first sample of the batch ? +0 : Delta_ij) + a_j * delta_i.
Per mini-batch of m samples:
- D = Delta * float32(1/m) (skipped for m = 1: D = Delta), then
  w = D * (-alpha) + w.

Memory map (the hardware's banks, also used by the testbench to read them):
see `Layout`.
"""

from dataclasses import dataclass, field

import numpy as np

from models.sigmoid_hw import sigmoid_lut

F32 = np.float32


def _ceil_div(a, b):
    return -(-a // b)


@dataclass
class Layout:
    """P banks. Weights (and Delta, same map) of layer l: w[i][j] in bank
    (i + j) % P at WB[l] + i * CW[l] + j // P, CW[l] = ceil((MAX_S[l] + 1) / P).
    Activations of layer l: a[j], j = 1..S_l, in bank j % P at AB[l] + j // P;
    the layer-0 inputs (the sample) alternate between AB[0] and AB[4] (the
    double buffer that takes the next sample while one computes).
    Deltas of layer l (1..3): delta[i] in bank i % P at DB[l] + i // P."""

    p: int
    max_sizes: tuple          # (MAX_S0, MAX_S1, MAX_S2, MAX_S3)
    cw: list = field(init=False)
    wb: list = field(init=False)
    ab: list = field(init=False)
    db: list = field(init=False)

    def __post_init__(self):
        ms, p = self.max_sizes, self.p
        self.cw = [_ceil_div(ms[l] + 1, p) for l in range(3)]
        self.wb = [0]
        for l in range(3):
            self.wb.append(self.wb[-1] + ms[l + 1] * self.cw[l])
        self.ab = [0]
        for l in range(4):
            self.ab.append(self.ab[-1] + _ceil_div(ms[l] + 1, p))
        self.db = [0, 0]
        for l in range(1, 4):
            self.db.append(self.db[-1] + _ceil_div(ms[l], p))

    @property
    def w_depth(self):
        return self.wb[3]

    @property
    def a_depth(self):
        return self.ab[4]

    @property
    def d_depth(self):
        return self.db[4]

    def weight_loc(self, l, i, j):
        return (i + j) % self.p, self.wb[l] + i * self.cw[l] + j // self.p

    def act_loc(self, l, j):
        return j % self.p, self.ab[l] + j // self.p

    def delta_loc(self, l, i):
        return i % self.p, self.db[l] + i // self.p


def interleaved_mac_loop(a, w, r):
    """a: (B, T) inputs, w: (N, T) weights -> (B, N) sums in the hardware order
    (the plain loop, kept as the definition that interleaved_mac is tested against)."""
    t = a.shape[1]
    p = np.zeros((r, a.shape[0], w.shape[0]), F32)
    with np.errstate(all="ignore"):
        for j in range(t):
            p[j % r] = p[j % r] + a[:, j, None] * w[None, :, j]
        s = p[(t - 1) % r].copy()
        for k in range(1, r):
            s = p[(t - 1 - k) % r] + s
    return s


def _sum_rows(x):
    """Sum over axis 0 strictly in order, in float32. numpy adds a C-ordered
    (rows, columns) array row after row; its pairwise summation applies only
    along the contiguous axis, which is why the rows are made contiguous first
    (a broadcast product of transposed views comes out in Fortran order)."""
    rows = np.ascontiguousarray(x).reshape(len(x), -1)        # C order: a row per summand
    if rows.shape[1] == 1:   # one column is contiguous along axis 0: reduce would sum it pairwise
        return np.add.accumulate(rows[:, 0], dtype=F32)[-1].reshape(x.shape[1:])
    return np.add.reduce(rows, axis=0, dtype=F32).reshape(x.shape[1:])


def interleaved_mac(a, w, r):
    """The same as interleaved_mac_loop. The summation axis is kept outermost:
    numpy reduces over an outer axis one row at a time, strictly in order and in
    float32 (pairwise summation applies only along the innermost axis), starting
    from the +0 row the hardware starts from."""
    t = a.shape[1]
    with np.errstate(all="ignore"):
        prod = (a.T[:, :, None] * w.T[:, None, :]).astype(F32)       # (T, B, N), each rounded
        zero = np.zeros((1,) + prod.shape[1:], F32)
        parts = [_sum_rows(np.concatenate([zero, prod[res::r]])) for res in range(r)]
        s = parts[(t - 1) % r].copy()
        for k in range(1, r):
            s = (parts[(t - 1 - k) % r] + s).astype(F32)
    return s


class MlpHw:
    """Training state and arithmetic of the hardware network."""

    def __init__(self, sizes, weights, r=2, alpha=0.5, m=1, sigmoid=sigmoid_lut):
        assert 2 <= len(sizes) <= 4
        self.sizes = list(sizes)
        self.L = len(sizes) - 1
        self.w = [np.array(x, dtype=F32) for x in weights]
        for l in range(self.L):
            assert self.w[l].shape == (sizes[l + 1], sizes[l] + 1)
        self.r, self.alpha, self.m = r, F32(alpha), m
        self.sigmoid = sigmoid
        self.inv_m = F32(1.0) / F32(m)
        self.delta_acc = [np.zeros_like(x) for x in self.w]
        self._n_in_batch = 0

    def forward(self, x):
        """x: (B, S0) float32 -> list of activations a[0..L], each (B, S_l)."""
        acts = [np.asarray(x, F32)]
        for l in range(self.L):
            inp = np.concatenate([np.ones((len(x), 1), F32), acts[-1]], axis=1)
            acts.append(self.sigmoid(interleaved_mac(inp, self.w[l], self.r)))
        return acts

    def backward(self, acts, y):
        """-> list of deltas d[1..L] (index 0 unused), each (B, S_l)."""
        d = [None] * (self.L + 1)
        with np.errstate(all="ignore"):
            d[self.L] = (acts[self.L] + (-np.asarray(y, F32))).astype(F32)
            for l in range(self.L - 1, 0, -1):
                e = interleaved_mac(d[l + 1], self.w[l][:, 1:].T.copy(), self.r)
                a = acts[l]
                t1 = ((-a) + F32(1.0)).astype(F32)
                t2 = (e * a).astype(F32)
                d[l] = (t2 * t1).astype(F32)
        return d

    def sample(self, x, y):
        """One sample, as the hardware runs it: forward, backprop and the Delta
        accumulation. Returns (acts, deltas), each a list of 1-D arrays."""
        acts = self.forward(np.asarray(x, F32)[None, :])
        deltas = self.backward(acts, np.asarray(y, F32)[None, :])
        first = self._n_in_batch == 0
        with np.errstate(all="ignore"):
            for l in range(self.L):
                inp = np.concatenate([[F32(1.0)], acts[l][0]]).astype(F32)
                prod = (deltas[l + 1][0][:, None] * inp[None, :]).astype(F32)
                self.delta_acc[l] = (prod + F32(0.0)).astype(F32) if first else (self.delta_acc[l] + prod).astype(F32)
        self._n_in_batch += 1
        return [a[0] for a in acts], [None] + [d[0] for d in deltas[1:]]

    def update(self):
        """End of the mini-batch: D = Delta / m, w = D * (-alpha) + w. Returns (D, weights)."""
        assert self._n_in_batch == self.m
        self._n_in_batch = 0
        with np.errstate(all="ignore"):
            grads = [g if self.m == 1 else (g * self.inv_m).astype(F32) for g in self.delta_acc]
            self.w = [((g * (-self.alpha)).astype(F32) + w).astype(F32) for g, w in zip(grads, self.w)]
        return grads, [w.copy() for w in self.w]

    def train_batch(self, x, y):
        """One mini-batch (len(x) == m), vectorized over its samples (the weights
        are fixed within it). Returns (acts, deltas, D, new weights)."""
        x, y = np.asarray(x, F32), np.asarray(y, F32)
        assert len(x) == self.m and self._n_in_batch == 0
        acts = self.forward(x)
        deltas = self.backward(acts, y)
        with np.errstate(all="ignore"):
            for l in range(self.L):
                inp = np.concatenate([np.ones((self.m, 1), F32), acts[l]], axis=1)
                prod = (deltas[l + 1][:, :, None] * inp[:, None, :]).astype(F32)     # (m, N, T)
                zero = np.zeros((1,) + prod.shape[1:], F32)
                # Delta = (+0 + prod_0) + prod_1 + ..., sample by sample (outer-axis reduce: in order)
                self.delta_acc[l] = _sum_rows(np.concatenate([zero, prod]))
        self._n_in_batch = self.m
        grads, new_w = self.update()
        return acts, deltas, grads, new_w

    def predict(self, x):
        return np.argmax(self.forward(x)[-1], axis=1)


def init_weights(sizes, rng, gain=1.0):
    """Uniform Glorot initialisation times `gain`, biases 0, float32. (Glorot and
    Bengio suggest a gain of 4 for sigmoid units; the MNIST benchmark uses 3.)"""
    ws = []
    for l in range(len(sizes) - 1):
        lim = gain * np.sqrt(6.0 / (sizes[l] + sizes[l + 1]))
        w = rng.uniform(-lim, lim, (sizes[l + 1], sizes[l] + 1)).astype(F32)
        w[:, 0] = 0
        ws.append(w)
    return ws
