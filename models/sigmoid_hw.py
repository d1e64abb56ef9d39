"""The hardware sigmoids, written from their specification (not from the RTL).

LUT version: piecewise linear on |x| in [0, 8) with 64 segments of width 1/8;
segment k = floor(|x| * 8) stores float32 (a_k, b_k) of the minimax line of the
sigmoid on [k/8, (k+1)/8]. The lane computes y = |x| * b_k + a_k (two float32
roundings); for x with the sign bit set it returns 1 - y, as y * (-1) + 1, and
otherwise y * 1 + (-0) (exact). |x| >= 8 saturates: y = 8 * 0 + a_64 with
a_64 = float32(sigmoid(8)). NaN propagates (the NaN is the multiplier operand).

Error bound (measured by tests/test_mlp_model.py over every float32 in a dense
sweep): below 1.0e-4 inside (-8, 8); 3.4e-4 outside (the saturation).
"""

import numpy as np

SEGMENTS = 64          # over [0, 8)
SEG_PER_UNIT = 8
X_SAT = 8.0


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


# The tables are derived in exact arithmetic (mpmath at 50 digits, then one
# rounding to float32): numpy's exp and LAPACK's least squares differ by CPU
# kernel, and a generated table must have the same bits on every machine.
_DPS = 50


def _to_f32(x):
    """mpf -> float32, rounded once to nearest (every value here is a normal float32)."""
    import mpmath
    with mpmath.workprec(24):
        return np.float32(float(+x))


def lut_coefficients():
    """(a, b) float32 arrays of length SEGMENTS + 1 (the last is saturation).
    Segment k: b = the chord's slope; a = the chord raised by half its largest
    deviation from the sigmoid, which lies at the tangent point t where
    sigmoid'(t) = sigma (1 - sigma) = b (the sigmoid is concave on x > 0)."""
    import mpmath
    with mpmath.workdps(_DPS):
        sig = lambda x: 1 / (1 + mpmath.exp(-x))  # noqa: E731
        a, b = [], []
        for k in range(SEGMENTS):
            x0, x1 = mpmath.mpf(k) / SEG_PER_UNIT, mpmath.mpf(k + 1) / SEG_PER_UNIT
            slope = (sig(x1) - sig(x0)) / (x1 - x0)
            s_t = (1 + mpmath.sqrt(1 - 4 * slope)) / 2
            t = mpmath.log(s_t / (1 - s_t))
            dev = s_t - (sig(x0) + slope * (t - x0))
            b.append(_to_f32(slope))
            a.append(_to_f32(sig(x0) - slope * x0 + dev / 2))
        a.append(_to_f32(sig(mpmath.mpf(X_SAT))))
        b.append(np.float32(0.0))
    return np.array(a, np.float32), np.array(b, np.float32)


LUT_A, LUT_B = lut_coefficients()


def lut_segment(x_bits):
    """Segment index from the float32 bit pattern (uint32 array): 0..63, or 64
    for |x| >= 8, infinity and NaN."""
    x_bits = np.asarray(x_bits, dtype=np.uint32)
    e = ((x_bits >> 23) & 0xFF).astype(np.int64) - 127
    m = (x_bits >> 18) & 0x1F
    top = (np.uint32(0x20) | m).astype(np.int64)          # 1.m[22:18] as a 6-bit integer
    k = np.where(e < -3, 0, top >> np.clip(2 - e, 0, 63))
    return np.where(e >= 3, SEGMENTS, k)


def sigmoid_lut(x):
    """float32 array -> float32 array, bit-exact with the hardware."""
    x = np.asarray(x, dtype=np.float32)
    bits = x.view(np.uint32)
    k = lut_segment(bits)
    neg = (bits >> 31).astype(bool)
    absx = np.abs(x)
    arg = np.where(np.isnan(x), x, np.where(k == SEGMENTS, np.float32(X_SAT), absx)).astype(np.float32)
    with np.errstate(all="ignore"):
        y = (arg * LUT_B[k]).astype(np.float32) + LUT_A[k]
        y = y.astype(np.float32)
        scale = np.where(neg, np.float32(-1.0), np.float32(1.0)).astype(np.float32)
        off = np.where(neg, np.float32(1.0), np.float32(-0.0)).astype(np.float32)
        return ((y * scale).astype(np.float32) + off).astype(np.float32)


def sigmoid_lut_f64(x):
    """The same piecewise-linear function in float64 (for the autograd reference)."""
    x = np.asarray(x, dtype=np.float64)
    absx = np.abs(x)
    k = np.minimum(np.floor(absx * SEG_PER_UNIT), SEGMENTS).astype(np.int64)
    arg = np.where(k == SEGMENTS, X_SAT, absx)
    y = arg * LUT_B[k].astype(np.float64) + LUT_A[k].astype(np.float64)
    return np.where(np.signbit(x), 1.0 - y, y)


# ---------------------------------------------------------------- ALU version
# sigmoid(x) = 1 / (1 + e^-|x|) for x >= 0 and 1 - that for x < 0, from float32
# multiply-adds only (the lane's ALU):
#   u = min(|x|, 16) * (-1/4)                       (|x| > 16 saturates: error < 1.2e-7)
#   h = p(u) ~ e^u on [-4, 0]                       (degree ALU_DEG Horner, Chebyshev fit)
#   h = h * h;  d = h * h + 1                       (e^-|x| = p(u)^4)
#   r = bits(0x7EF311C3 - bits(d))                  (reciprocal seed, an integer op)
#   3 x { t = (-d) * r + 2;  r = r * t }            (Newton-Raphson)
#   out = x < 0 ? r * (-1) + 1 : r * 1 + (-0)
# Max error, measured over a dense sweep of [-24, 24]: 1.8e-7 (about 3 ulp near 1).
ALU_DEG = 12
ALU_CLAMP = 16.0
ALU_NR = 3
RECIP_MAGIC = 0x7EF311C3


def alu_coefficients():
    """The degree-ALU_DEG polynomial through e^u at the ALU_DEG + 1 Chebyshev
    nodes of [-4, 0] (interpolation: the least-squares fit of that degree),
    solved exactly and rounded once to float32 per coefficient."""
    import mpmath
    with mpmath.workdps(_DPS):
        k = range(ALU_DEG + 1)
        half = mpmath.mpf(ALU_CLAMP) / 8
        u = [mpmath.cos((2 * i + 1) * mpmath.pi / (2 * (ALU_DEG + 1))) * half - half for i in k]
        vander = mpmath.matrix([[ui ** j for j in k] for ui in u])
        c = mpmath.lu_solve(vander, mpmath.matrix([mpmath.exp(ui) for ui in u]))
        return np.array([_to_f32(c[j]) for j in k], np.float32)


ALU_C = alu_coefficients()


def sigmoid_alu(x):
    """float32 array -> float32 array, bit-exact with the hardware's ALU sigmoid."""
    f = np.float32
    x = np.asarray(x, dtype=f)
    with np.errstate(all="ignore"):
        a = np.where(np.isnan(x), x, np.minimum(np.abs(x), f(ALU_CLAMP))).astype(f)
        u = ((a * f(-0.25)).astype(f) + f(-0.0)).astype(f)
        h = ((u * ALU_C[ALU_DEG]).astype(f) + ALU_C[ALU_DEG - 1]).astype(f)
        for k in range(ALU_DEG - 2, -1, -1):
            h = ((h * u).astype(f) + ALU_C[k]).astype(f)
        h = ((h * h).astype(f) + f(-0.0)).astype(f)
        d = ((h * h).astype(f) + f(1.0)).astype(f)
        r = (np.uint32(RECIP_MAGIC) - d.view(np.uint32)).view(f)
        for _ in range(ALU_NR):
            t = (((-d) * r).astype(f) + f(2.0)).astype(f)
            r = ((r * t).astype(f) + f(-0.0)).astype(f)
        neg = np.signbit(x)
        scale = np.where(neg, f(-1.0), f(1.0)).astype(f)
        off = np.where(neg, f(1.0), f(-0.0)).astype(f)
        return ((r * scale).astype(f) + off).astype(f)


# Microcode of the ALU sigmoid, one lane operation per step (see mlp_lane):
# (a_sel, b_sel, c_sel, dest, seed, const1, const2)
A_PS0, A_Y, A_T1, A_A, A_K1, A_CLAMP, A_NEGY = range(7)
B_PS0, B_Y, B_T1, B_A, B_K1, B_SIGN = range(6)
C_K2, C_SIGN = range(2)
D_Y, D_T1, D_A, D_ACT = range(4)


def alu_microcode():
    f32 = lambda v: int(np.float32(v).reshape(1).view(np.uint32)[0])
    neg0 = 0x80000000
    steps = [(A_CLAMP, B_K1, C_K2, D_Y, 0, f32(-0.25), neg0),                                # u
             (A_Y, B_K1, C_K2, D_T1, 0, f32(ALU_C[ALU_DEG]), f32(ALU_C[ALU_DEG - 1]))]       # Horner
    for k in range(ALU_DEG - 2, -1, -1):
        steps.append((A_T1, B_Y, C_K2, D_T1, 0, 0, f32(ALU_C[k])))
    steps.append((A_T1, B_T1, C_K2, D_T1, 0, 0, neg0))                                      # h^2
    steps.append((A_T1, B_T1, C_K2, D_Y, 0, 0, f32(1.0)))                                   # d
    steps.append((A_PS0, B_PS0, C_K2, D_T1, 1, 0, 0))                                       # seed
    for _ in range(ALU_NR):
        steps.append((A_NEGY, B_T1, C_K2, D_A, 0, 0, f32(2.0)))                             # t
        steps.append((A_T1, B_A, C_K2, D_T1, 0, 0, neg0))                                   # r
    steps.append((A_T1, B_SIGN, C_SIGN, D_ACT, 0, 0, 0))                                    # out
    return steps


def ucode_verilog():
    """The text of rtl/neuron/sigmoid_alu_ucode.v."""
    steps = alu_microcode()
    lines = [
        "`default_nettype none",
        "// GENERATED by models/sigmoid_hw.py (python -m models.sigmoid_hw); do not edit.",
        "// Microcode of the ALU sigmoid: per step {a_sel, b_sel, c_sel, dest, seed}, const1, const2.",
        "module sigmoid_alu_ucode (",
        "    input  wire [4:0]  step,",
        "    output reg  [9:0]  ctrl,",
        "    output reg  [31:0] const1,",
        "    output reg  [31:0] const2",
        ");",
        f"    // {len(steps)} steps",
        "    always @* begin",
        "        case (step)",
    ]
    for i, (a, b, c, d, seed, k1, k2) in enumerate(steps):
        ctrl = (a << 7) | (b << 4) | (c << 3) | (d << 1) | seed
        lines.append(f"            5'd{i}: begin ctrl = 10'h{ctrl:03x}; const1 = 32'h{k1:08x}; const2 = 32'h{k2:08x}; end")
    lines += ["            default: begin ctrl = 10'h000; const1 = 32'h00000000; const2 = 32'h00000000; end",
              "        endcase", "    end", "endmodule", "`default_nettype wire", ""]
    return "\n".join(lines)


ALU_STEPS = len(alu_microcode())


def rom_verilog():
    """The text of rtl/neuron/sigmoid_lut_rom.v, generated from lut_coefficients()."""
    lines = [
        "`default_nettype none",
        "// GENERATED by models/sigmoid_hw.py (python -m models.sigmoid_hw); do not edit.",
        "// Piecewise-linear sigmoid coefficients: segment k covers |x| in [k/8, (k+1)/8),",
        "// y = |x| * b + a; segment 64 is the saturation for |x| >= 8.",
        "module sigmoid_lut_rom (",
        "    input  wire [6:0]  seg,",
        "    output reg  [31:0] coef_a,",
        "    output reg  [31:0] coef_b",
        ");",
        "    always @* begin",
        "        case (seg)",
    ]
    for k in range(SEGMENTS + 1):
        a = int(LUT_A[k:k + 1].view(np.uint32)[0])
        b = int(LUT_B[k:k + 1].view(np.uint32)[0])
        lines.append(f"            7'd{k}: begin coef_a = 32'h{a:08x}; coef_b = 32'h{b:08x}; end")
    a = int(LUT_A[SEGMENTS:].view(np.uint32)[0])
    lines += [
        f"            default: begin coef_a = 32'h{a:08x}; coef_b = 32'h00000000; end",
        "        endcase",
        "    end",
        "endmodule",
        "`default_nettype wire",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    from pathlib import Path
    rtl = Path(__file__).resolve().parents[1] / "rtl" / "neuron"
    (rtl / "sigmoid_lut_rom.v").write_text(rom_verilog())
    (rtl / "sigmoid_alu_ucode.v").write_text(ucode_verilog())
    xs = np.linspace(-24, 24, 2_000_001).astype(np.float32)
    true = _sig(xs.astype(np.float64))
    err = np.abs(sigmoid_lut(xs).astype(np.float64) - true)
    inside = np.abs(xs) < 8
    print(f"LUT: max error inside (-8,8): {err[inside].max():.3e}, overall {err.max():.3e}")
    err = np.abs(sigmoid_alu(xs).astype(np.float64) - true)
    print(f"ALU: {ALU_STEPS} steps, max error {err.max():.3e}")
