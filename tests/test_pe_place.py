"""pe_top's result side band (m_pos_*, docs/pe_array_results.md).

- test_pe_place: on Verilator (tb/units_pe_place.py), every result beat of
  every mode pe_ctrl runs against the schedule's map, and the results placed
  by the side band alone equal PyTorch's tensor.
- test_spec_matches_schedule: the rule of docs/pe_array_results.md section 3,
  written here from the document alone (tile order, row and column items,
  lanes, element index; and the side band's steps RS, LS, NS, YS, XS), gives
  models/pe_array.ctrl_program's tile.idx exactly, on many shapes and array
  sizes. No simulator."""

import itertools

import numpy as np
import pytest

from models import pe_array as pa
from tb.units import UNITS, run_unit


@pytest.mark.timeout(900)
def test_pe_place():
    tests, failed = run_unit(UNITS["pe_top_place_4x8"])
    assert tests == 1 and failed == 0


def _cdiv(a, b):
    return -(-a // b)


def spec_mode(L, phase, rows, cols):
    """Section 3's table: (P, Q, lanes, index(row item, column item, lane) or
    None, walker dims (n, y, x) of a column item, steps (RS, LS, NS, YS, XS), EO)."""
    n, c, m, h, w, s = L.n, L.c, L.m, L.h, L.w, L.stride
    ho, wo = L.ho, L.wo
    hw, howo = h * w, ho * wo
    if L.k == 3 and phase == "fp":
        def idx(r, q, j):
            nn, yo, xo = q // howo, q // wo % ho, q % wo
            return ((nn * m + r) * ho + yo) * wo + xo
        return m, n * howo, [0], idx, (n, ho, wo), (howo, 0, m * howo, wo, 1), False
    if L.k == 3 and phase == "bp" and s == 1:
        def idx(r, q, j):
            nn, y, x = q // hw, q // w % h, q % w
            return ((nn * c + r) * h + y) * w + x
        return c, n * hw, [0], idx, (n, h, w), (hw, 0, c * hw, w, 1), False
    if L.k == 3 and phase == "bp":
        return c, n * (h // 2) * (w // 2), [0, 1], None, (n, h // 2, w // 2), (hw, 1, c * hw, 2 * w, 2), True
    if L.k == 1 and phase == "fp":
        def idx(g, q, j):
            nn, yo, xo = q // howo, q // wo % ho, q % wo
            mm = 3 * g + j
            return ((nn * m + mm) * ho + yo) * wo + xo if mm < m else -1
        return _cdiv(m, 3), n * howo, [0, 1, 2], idx, (n, ho, wo), (3 * howo, howo, m * howo, wo, 1), False
    if L.k == 1 and phase == "bp":
        def idx(g, q, j):
            nn, yo, xo = q // howo, q // wo % ho, q % wo
            cc = 3 * g + j
            return ((nn * c + cc) * h + s * yo) * w + s * xo if cc < c else -1
        return _cdiv(c, 3), n * howo, [0, 1, 2], idx, (n, ho, wo), (3 * hw, hw, c * hw, s * w, s), False
    if L.k == 1:
        def idx(g, q, j):
            mm = 3 * g + j
            return mm * c + q if mm < m else -1
        return _cdiv(m, 3), c, [0, 1, 2], idx, (c, 1, 1), (3 * c, c, 1, 0, 0), False
    if s == 1:
        return m, 9 * c, [0], lambda r, q, j: r * 9 * c + q, (c, 3, 3), (9 * c, 0, 9, 3, 1), False
    if _cdiv(3 * c, rows) * _cdiv(m, cols) <= _cdiv(m, rows) * _cdiv(3 * c, cols):   # x on the rows (BC)
        return 3 * c, m, [0, 1, 2], lambda kr, q, j: q * 9 * c + 3 * kr + j, (1, 1, m), (3, 1, 0, 0, 9 * c), False
    return m, 3 * c, [0, 1, 2], lambda r, q, j: r * 9 * c + 3 * q + j, (c, 3, 1), (9 * c, 1, 9, 3, 0), False


def spec_tiles(L, phase, rows, cols):
    """Every tile's (rows, cols, 3) index map by the section-3 element formula
    (EO: its own row), and the same by the side band's steps."""
    p, q, lanes, idx, (nd, yd, xd), (rs, ls, ns, ys, xs), eo = spec_mode(L, phase, rows, cols)
    by_index, by_steps = [], []
    for rb in range(_cdiv(p, rows)):
        for par in ((0, 1) if eo else (0,)):
            for cb in range(_cdiv(q, cols)):
                a = np.full((rows, cols, 3), -1, np.int64)
                b = np.full((rows, cols, 3), -1, np.int64)
                for r, cc, j in itertools.product(range(rows), range(cols), lanes):
                    ri, qi = rb * rows + r, cb * cols + cc
                    if ri >= p or qi >= q:
                        continue
                    if eo:
                        nn, yh, u = qi // (yd * xd), qi // xd % yd, qi % xd
                        e = ((nn * L.c + ri) * L.h + 2 * yh + par) * L.w + 2 * u + j
                    else:
                        e = idx(ri, qi, j)
                    if e < 0:
                        continue
                    a[r, cc, j] = e
                    nn, y, x = qi // (yd * xd), qi // xd % yd, qi % xd
                    b[r, cc, j] = ri * rs + j * ls + (L.w if par else 0) + nn * ns + y * ys + x * xs
                by_index.append(a)
                by_steps.append(b)
    return by_index, by_steps


SHAPES = [  # kind, N, C, M, H, W, K, stride
    ("conv", 3, 2, 5, 3, 5, 3, 1), ("conv", 2, 3, 6, 6, 4, 3, 2), ("conv", 2, 5, 3, 3, 4, 3, 1),
    ("conv", 2, 6, 3, 4, 6, 3, 2), ("conv", 1, 5, 2, 2, 2, 3, 2), ("conv", 2, 5, 7, 3, 5, 1, 1),
    ("conv", 1, 4, 14, 6, 2, 1, 2), ("conv", 2, 13, 5, 3, 3, 1, 1), ("conv", 2, 7, 4, 4, 6, 1, 2),
    ("conv", 2, 17, 19, 4, 4, 1, 2), ("fc", 3, 7, 13, 1, 1, 1, 1), ("fc", 5, 64, 10, 1, 1, 1, 1),
    ("conv", 2, 3, 5, 3, 4, 3, 1), ("conv", 2, 6, 3, 4, 4, 3, 2), ("conv", 1, 7, 10, 4, 4, 3, 2),
    ("conv", 3, 5, 7, 2, 6, 3, 2), ("conv", 1, 3, 9, 6, 2, 3, 2), ("conv", 2, 16, 32, 8, 8, 3, 2),
]


@pytest.mark.parametrize("rows,cols", [(4, 8), (3, 5), (16, 32)])
def test_spec_matches_schedule(rows, cols):
    for kind, n, c, m, h, w, k, s in SHAPES:
        L = pa.Layer("spec", kind, n, c, m, h, w, k, s, 1 if k == 3 else 0)
        for phase in ("fp", "bp", "wg"):
            x, wt, d = pa.zero_tensors(L)
            prog = pa.ctrl_program(L, phase, x, wt, d, rows, cols)
            by_index, by_steps = spec_tiles(L, phase, rows, cols)
            ctx = f"{rows}x{cols} {kind} {phase} {(n, c, m, h, w, k, s)}"
            assert len(by_index) == len(prog.tiles), f"{ctx}: {len(by_index)} tiles, schedule {len(prog.tiles)}"
            for t, a, b in zip(prog.tiles, by_index, by_steps):
                assert np.array_equal(a, t.idx), f"{ctx}: element formula differs from tile.idx"
                assert np.array_equal(b, t.idx), f"{ctx}: side band steps differ from tile.idx"
