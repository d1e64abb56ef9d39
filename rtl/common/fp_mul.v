`default_nettype none
// Pipelined IEEE-754 multiplier for any binary format (binary32: 8/23, binary16: 5/10).
// Same conventions as fp_add: round to nearest even, exact subnormals, the
// canonical quiet NaN, status flags {NV, DZ, OF, UF, NX}, underflow detected
// after rounding. One result per clock; holds while m_valid & ~m_ready.
module fp_mul #(
    parameter EXP_W   = 8,   // exponent field width
    parameter MAN_W   = 23,  // fraction field width
    // Register stages, 0..5. Cuts are added in this order: output, after the
    // partial products, after the normalisation, after the product sum (the
    // last splits the sum from the leading-zero count and shift, the longest
    // stage at LATENCY 3), between the shift amounts and the shift. LATENCY 5
    // also reduces the partial products to carry-save form before its first cut.
    parameter LATENCY = 3
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 s_valid,
    output wire                 s_ready,
    input  wire [EXP_W+MAN_W:0] s_a,
    input  wire [EXP_W+MAN_W:0] s_b,
    output wire                 m_valid,
    input  wire                 m_ready,
    output wire [EXP_W+MAN_W:0] m_result,
    output wire [4:0]           m_status   // {NV, DZ, OF, UF, NX}
);
    localparam W    = EXP_W + MAN_W + 1;
    localparam P    = MAN_W + 1;
    localparam PL   = P / 2;              // low slice of b for the split product
    localparam PW   = 2 * P;              // product width
    localparam SH_W = $clog2(PW + 1);
    localparam XW   = EXP_W + 2;          // signed exponent arithmetic
    localparam [XW-1:0] BIAS_M1 = (1 << (EXP_W - 1)) - 2;   // bias - 1
    localparam [W-1:0]  QNAN    = {1'b0, {EXP_W{1'b1}}, 1'b1, {(MAN_W-1){1'b0}}};

    initial begin
        if (LATENCY < 0 || LATENCY > 5) $fatal(1, "fp_mul: LATENCY must be 0..5");
        if (EXP_W < 3 || MAN_W < 3) $fatal(1, "fp_mul: EXP_W and MAN_W must be >= 3");
        if (SH_W > XW - 1) $fatal(1, "fp_mul: exponent too narrow for the product width");
    end

    wire en = m_ready | ~m_valid;
    assign s_ready = (LATENCY == 0) ? m_ready : en;

    // ---------------------------------------------------------------- unpack, specials
    wire             a_sign, b_sign, a_zero, b_zero, a_sub, b_sub, a_inf, b_inf, a_nan, b_nan, a_snan, b_snan;
    wire [EXP_W-1:0] a_exp, b_exp;
    wire [P-1:0]     a_sig, b_sig;
    fp_classify #(.EXP_W(EXP_W), .MAN_W(MAN_W)) u_class_a (
        .op(s_a), .sign(a_sign), .exp_eff(a_exp), .sig(a_sig), .is_zero(a_zero),
        .is_sub(a_sub), .is_inf(a_inf), .is_nan(a_nan), .is_snan(a_snan));
    fp_classify #(.EXP_W(EXP_W), .MAN_W(MAN_W)) u_class_b (
        .op(s_b), .sign(b_sign), .exp_eff(b_exp), .sig(b_sig), .is_zero(b_zero),
        .is_sub(b_sub), .is_inf(b_inf), .is_nan(b_nan), .is_snan(b_snan));
    wire unused_class = &{1'b0, a_sub, b_sub, 1'b0};

    wire          sign      = a_sign ^ b_sign;
    wire          inf_zero  = (a_inf & b_zero) | (a_zero & b_inf);
    wire          u_special = a_nan | b_nan | a_inf | b_inf | a_zero | b_zero;
    wire          u_nv      = a_snan | b_snan | inf_zero;
    wire [W-1:0]  u_special_res = (a_nan | b_nan | inf_zero) ? QNAN
                                : (a_inf | b_inf)            ? {sign, {EXP_W{1'b1}}, {MAN_W{1'b0}}}
                                :                              {sign, {(W-1){1'b0}}};
    // Biased exponent of the product when its leading one sits at bit PW-1.
    wire [XW-1:0] u_exp = {2'b00, a_exp} + {2'b00, b_exp} - BIAS_M1;

    // No cut after the unpack: the product sum (cut 4) is the better place.
    wire          s1_valid = s_valid;
    wire          m1_special = u_special, m1_nv = u_nv, m1_sign = sign;
    wire [W-1:0]  m1_special_res = u_special_res;
    wire [XW-1:0] m1_exp = u_exp;
    wire [P-1:0]  m1_a = a_sig, m1_b = b_sig;

    // ---------------------------------------------------------------- partial products
    // LATENCY < 5: two products a * (half of b), summed in the next stage, so
    // that a cut can fall inside the multiplier. LATENCY 5: the P rows a * b[i]
    // reduced by 3:2 carry-save adders to a sum and a carry word (mod 2^PW,
    // exact as the product fits), added in the next stage.
    function integer rows_after(input integer n, input integer levels);   // rows after `levels` 3:2 levels
        integer k;
        begin
            rows_after = n;
            for (k = 0; k < levels; k = k + 1)
                if (rows_after > 2) rows_after = 2 * (rows_after / 3) + rows_after % 3;
        end
    endfunction
    function integer csa_levels(input integer n);
        begin
            csa_levels = 0;
            while (rows_after(n, csa_levels) > 2) csa_levels = csa_levels + 1;
        end
    endfunction
    localparam CSA   = (LATENCY >= 5) ? 1 : 0;
    localparam NLVL  = csa_levels(P);
    localparam PPW_A = CSA ? PW : P + PL;                 // the two words through the cut
    localparam PPW_B = CSA ? PW : PW - PL;
    wire [PPW_A-1:0] pp_a;
    wire [PPW_B-1:0] pp_b;
    genvar gl, gg;
    generate
        if (CSA != 0) begin : gen_csa
            // level l's rows in gen_lvl[l].q (rows_after(P, l + 1) rows of PW bits,
            // the rest zero): one vector per level, as one array across the levels
            // reads as a signal feeding itself (Verilator: UNOPTFLAT, wide copies)
            wire [P*PW-1:0] rows0;
            for (gg = 0; gg < P; gg = gg + 1) begin : gen_row
                wire [PW-1:0] row = {{P{1'b0}}, m1_a & {P{m1_b[gg]}}};
                assign rows0[gg*PW +: PW] = row << gg;
            end
            for (gl = 0; gl < NLVL; gl = gl + 1) begin : gen_lvl
                localparam N  = rows_after(P, gl);
                localparam NO = rows_after(P, gl + 1);
                wire [P*PW-1:0] d;
                wire [P*PW-1:0] q;
                if (gl == 0) begin : gen_in
                    assign d = rows0;
                end else begin : gen_prev
                    assign d = gen_lvl[gl-1].q;
                end
                for (gg = 0; gg < N / 3; gg = gg + 1) begin : gen_fa
                    wire [PW-1:0] x = d[(3*gg)*PW +: PW];
                    wire [PW-1:0] y = d[(3*gg + 1)*PW +: PW];
                    wire [PW-1:0] z = d[(3*gg + 2)*PW +: PW];
                    wire [PW-2:0] cy = (x[PW-2:0] & y[PW-2:0]) | (x[PW-2:0] & z[PW-2:0]) | (y[PW-2:0] & z[PW-2:0]);
                    assign q[(2*gg)*PW +: PW]     = x ^ y ^ z;
                    assign q[(2*gg + 1)*PW +: PW] = {cy, 1'b0};
                end
                for (gg = 0; gg < N % 3; gg = gg + 1) begin : gen_pass
                    assign q[(2*(N/3) + gg)*PW +: PW] = d[(3*(N/3) + gg)*PW +: PW];
                end
                assign q[NO*PW +: (P-NO)*PW] = {((P-NO)*PW){1'b0}};
                if (N < P) begin : gen_unused
                    wire unused_d = &{1'b0, d[P*PW-1:N*PW], 1'b0};   // the zero rows above the level's count
                end
            end
            assign pp_a = gen_lvl[NLVL-1].q[0 +: PW];
            assign pp_b = gen_lvl[NLVL-1].q[PW +: PW];
            wire unused_q = &{1'b0, gen_lvl[NLVL-1].q[P*PW-1:2*PW], 1'b0};
        end else begin : gen_halves
            assign pp_a = m1_a * m1_b[PL-1:0];
            assign pp_b = m1_a * m1_b[P-1:PL];
        end
    endgenerate

    localparam S2_W = 1 + 1 + W + 1 + XW + PPW_A + PPW_B;
    wire            s2_valid;
    wire [S2_W-1:0] s2_data;
    pipe_stage #(.WIDTH(S2_W), .REGISTER(LATENCY >= 2)) u_cut2 (
        .clk(clk), .rst(rst), .en(en), .in_valid(s1_valid),
        .in_data({m1_special, m1_nv, m1_special_res, m1_sign, m1_exp, pp_a, pp_b}),
        .out_valid(s2_valid), .out_data(s2_data));
    wire             m2_special, m2_nv, m2_sign;
    wire [W-1:0]     m2_special_res;
    wire [XW-1:0]    m2_exp;
    wire [PPW_A-1:0] m2_a;
    wire [PPW_B-1:0] m2_b;
    assign {m2_special, m2_nv, m2_special_res, m2_sign, m2_exp, m2_a, m2_b} = s2_data;

    // ---------------------------------------------------------------- product sum
    wire [PW-1:0]   prod_sum;
    generate
        if (CSA != 0) begin : gen_sum_cs
            wire [PW:0] ks_res;
            add_ks #(.WIDTH(PW)) u_add (.a(m2_a), .b(m2_b), .sum(ks_res));
            assign prod_sum = ks_res[PW-1:0];
            wire unused_carry = ks_res[PW];   // the product fits in PW bits
        end else begin : gen_sum_halves
            assign prod_sum = {m2_b, {PL{1'b0}}} + {{(PW-P-PL){1'b0}}, m2_a};
        end
    endgenerate

    localparam S4_W = 1 + 1 + W + 1 + XW + PW;
    wire            s4_valid;
    wire [S4_W-1:0] s4_data;
    pipe_stage #(.WIDTH(S4_W), .REGISTER(LATENCY >= 4)) u_cut4 (
        .clk(clk), .rst(rst), .en(en), .in_valid(s2_valid),
        .in_data({m2_special, m2_nv, m2_special_res, m2_sign, m2_exp, prod_sum}),
        .out_valid(s4_valid), .out_data(s4_data));
    wire            m4_special, m4_nv, m4_sign;
    wire [W-1:0]    m4_special_res;
    wire [XW-1:0]   m4_exp;
    wire [PW-1:0]   prod;
    assign {m4_special, m4_nv, m4_special_res, m4_sign, m4_exp, prod} = s4_data;

    // ---------------------------------------------------------------- normalise
    // Normal results shift the leading one to the top; results below 2^emin
    // are shifted so that the top bit has weight 2^emin (exponent field 0),
    // which is a left shift of m4_exp - 1, or a right shift when that is negative.
    wire [SH_W-1:0] lz;
    lzc #(.WIDTH(PW), .COUNT_W(SH_W)) u_lzc (.in(prod), .count(lz));

    wire [XW-1:0]   exp_m1   = m4_exp - 1'b1;              // signed
    wire            exp_neg  = exp_m1[XW-1];
    wire [XW-1:0]   lz_x     = {{(XW-SH_W){1'b0}}, lz};
    wire            lz_fits  = ~exp_neg & (lz_x <= exp_m1);
    wire [XW-1:0]   rsh_x    = {XW{1'b0}} - exp_m1;         // 1 - m4_exp when negative
    localparam [XW-1:0] PW_X = PW[XW-1:0];
    wire [SH_W-1:0] rshift   = (rsh_x > PW_X) ? PW_X[SH_W-1:0] : rsh_x[SH_W-1:0];
    wire [SH_W-1:0] lshift   = lz_fits ? lz : exp_m1[SH_W-1:0];
    wire [XW-1:0]   norm_exp = lz_fits ? (m4_exp - lz_x) : {XW{1'b0}};

    // the shift amounts computed, the shifts not yet done
    localparam S5_W = 1 + 1 + W + 1 + XW + 1 + 2 * SH_W + PW;
    wire            s5_valid;
    wire [S5_W-1:0] s5_data;
    pipe_stage #(.WIDTH(S5_W), .REGISTER(LATENCY >= 5)) u_cut5 (
        .clk(clk), .rst(rst), .en(en), .in_valid(s4_valid),
        .in_data({m4_special, m4_nv, m4_special_res, m4_sign, norm_exp, exp_neg, lshift, rshift, prod}),
        .out_valid(s5_valid), .out_data(s5_data));
    wire            m5_special, m5_nv, m5_sign, m5_neg;
    wire [W-1:0]    m5_special_res;
    wire [XW-1:0]   m5_exp;
    wire [SH_W-1:0] m5_lshift, m5_rshift;
    wire [PW-1:0]   m5_prod;
    assign {m5_special, m5_nv, m5_special_res, m5_sign, m5_exp, m5_neg, m5_lshift, m5_rshift, m5_prod} = s5_data;

    wire [2*PW-1:0] rwide    = {m5_prod, {PW{1'b0}}} >> m5_rshift;
    wire [PW-1:0]   norm     = m5_neg ? {rwide[2*PW-1:PW+1], rwide[PW] | (|rwide[PW-1:0])}
                                      : (m5_prod << m5_lshift);

    localparam S3_W = 1 + 1 + W + 1 + XW + PW;
    wire            s3_valid;
    wire [S3_W-1:0] s3_data;
    pipe_stage #(.WIDTH(S3_W), .REGISTER(LATENCY >= 3)) u_cut3 (
        .clk(clk), .rst(rst), .en(en), .in_valid(s5_valid),
        .in_data({m5_special, m5_nv, m5_special_res, m5_sign, m5_exp, norm}),
        .out_valid(s3_valid), .out_data(s3_data));
    wire          m3_special, m3_nv, m3_sign;
    wire [W-1:0]  m3_special_res;
    wire [XW-1:0] m3_exp;
    wire [PW-1:0] m3_norm;
    assign {m3_special, m3_nv, m3_special_res, m3_sign, m3_exp, m3_norm} = s3_data;

    // ---------------------------------------------------------------- round, pack
    wire [W-1:0] rnd_result;
    wire         rnd_of, rnd_uf, rnd_nx;
    fp_round #(.EXP_W(EXP_W), .MAN_W(MAN_W), .EXPI_W(XW)) u_round (
        .sign(m3_sign), .exp(m3_exp), .frac(m3_norm[PW-2:PW-1-MAN_W]),
        .rnd(m3_norm[PW-2-MAN_W]), .rnd2(m3_norm[PW-3-MAN_W]), .sticky(|m3_norm[PW-4-MAN_W:0]),
        .result(rnd_result), .overflow(rnd_of), .underflow(rnd_uf), .inexact(rnd_nx));

    wire unused_lead = m3_norm[PW-1];   // the hidden bit is implied by the exponent
    wire [W-1:0] out_result = m3_special ? m3_special_res : rnd_result;
    wire [4:0]   out_status = m3_special ? {m3_nv, 4'b0000} : {2'b00, rnd_of, rnd_uf, rnd_nx};

    pipe_stage #(.WIDTH(W + 5), .REGISTER(LATENCY >= 1)) u_cut0 (
        .clk(clk), .rst(rst), .en(en), .in_valid(s3_valid),
        .in_data({out_result, out_status}),
        .out_valid(m_valid), .out_data({m_result, m_status}));

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    // At LATENCY 0 the m port is the s port through logic: its upstream owns
    // it. The m checks are rtl/common/stream_check's, written out here: an
    // instance per unit (2P of them in mlp_net) slowed Verilator by a clock
    // trigger each.
    generate
        if (LATENCY > 0) begin : gen_check
            localparam [3:0] LAT_C = LATENCY;
            reg         rst_q, stall_q;
            reg [W+4:0] beat_q;
            reg [3:0]   flight_q;
            always @(posedge clk) begin
                rst_q   <= rst;
                stall_q <= !rst && m_valid && !m_ready;
                if (m_valid && !m_ready) beat_q <= {m_result, m_status};
                if (rst) flight_q <= 4'd0;
                else     flight_q <= flight_q + {3'd0, s_valid && s_ready} - {3'd0, m_valid && m_ready};
                if (!rst) begin
                    assert (!$isunknown({m_valid, s_ready})) else $error("%m: m_valid or s_ready is X or Z after reset");
                    if (stall_q) begin
                        assert (m_valid) else $error("%m: m_valid dropped while m_ready was low");
                        assert ({m_result, m_status} === beat_q) else $error("%m: m data changed while m_ready was low");
                    end
                    // results never outnumber operations: at most LATENCY in flight,
                    // none out of nothing (of an operation a reset dropped)
                    assert (flight_q <= LAT_C) else $error("%m: more than LATENCY operations in flight");
                    assert (!m_valid || flight_q != 4'd0) else $error("%m: m_valid with no operation in flight");
                end else if (rst_q) begin
                    assert (!m_valid) else $error("%m: m_valid high in reset");
                end
            end
        end
    endgenerate
`endif
endmodule
`default_nettype wire
