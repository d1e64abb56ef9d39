"""Tensor scoreboard: compares whole float32 tensors read from the DUT with a
model's, exact to the bit or within a Tolerance. Where the model has a NaN
(numpy's may carry a sign or payload), the DUT must hold the canonical quiet
NaN 0x7fc00000: every NaN the hardware stores comes out of its float units,
which are specified to return that one (rtl/common/fp_add.v, fp_mul.v)."""

import numpy as np

from tb.lib.scoreboard import CheckScoreboard


QNAN32 = np.uint32(0x7FC00000)


def f32_bits(x):
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32)).view(np.uint32)


class TensorScoreboard(CheckScoreboard):
    """Transactions are {'name': str, 'bits': uint32 array} from the DUT and
    {'name', 'bits'} (exact) or {'name', 'ref': float64 array, 'atol', 'rtol'}
    (tolerance: |got - ref| <= atol + rtol * max|ref|) from the models."""

    def compare(self, got, exp, log, strict_type=True):
        self.checked += 1
        name = exp["name"]
        if got["name"] != name:
            self.errors += 1
            log.error("got tensor %s, expected %s next", got["name"], name)
            assert not self._imm, "tensor order"
            return
        g = np.asarray(got["bits"], dtype=np.uint32)
        if "bits" in exp:
            e = np.asarray(exp["bits"], dtype=np.uint32)
            assert g.shape == e.shape, f"{name}: shape {g.shape} vs {e.shape}"
            gf, ef = g.view(np.float32), e.view(np.float32)
            e = np.where(np.isnan(ef), QNAN32, e)
            ef = e.view(np.float32)
            bad = g != e
            what = "bit-exact"
        else:
            ref = np.asarray(exp["ref"], dtype=np.float64)
            gf = g.view(np.float32).astype(np.float64)
            assert gf.shape == ref.shape, f"{name}: shape {gf.shape} vs {ref.shape}"
            bound = exp["atol"] + exp["rtol"] * (np.abs(ref).max() if ref.size else 0.0)
            bad = ~(np.abs(gf - ref) <= bound)
            what = f"tolerance {bound:.3g}"
        self.values_checked += g.size
        n_bad = int(bad.sum())
        if n_bad:
            self.errors += 1
            idx = np.argwhere(bad)[:5]
            if self.errors <= self.max_logged:
                if "bits" in exp:
                    detail = "; ".join(f"{tuple(int(t) for t in i)}: got {gf[tuple(i)]!r} ({int(g[tuple(i)]):#010x}) "
                                       f"expected {ef[tuple(i)]!r} ({int(e[tuple(i)]):#010x})" for i in idx)
                else:
                    detail = "; ".join(f"{tuple(int(t) for t in i)}: got {gf[tuple(i)]!r} expected "
                                       f"{ref[tuple(i)]!r}" for i in idx)
                log.error("%s: %d of %d values differ (%s): %s", name, n_bad, g.size, what, detail)
            assert not self._imm, f"{name}: {n_bad} mismatches"
