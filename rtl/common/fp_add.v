`default_nettype none
// Pipelined IEEE-754 adder for any binary format (binary32: 8/23, binary16: 5/10).
// Round to nearest even. Subnormal inputs and outputs are supported exactly.
// NaN results are the canonical quiet NaN (sign 0, exponent all ones, fraction
// MSB only), as in RISC-V; x + (-x) = +0; status flags {NV, DZ, OF, UF, NX}.
// One result per clock; the whole pipeline holds while m_valid & ~m_ready.
module fp_add #(
    parameter EXP_W   = 8,   // exponent field width
    parameter MAN_W   = 23,  // fraction field width
    // Register stages, 0..4. Cuts are added in this order: output, after the
    // add, after the unpack/swap, after the normalisation.
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
    localparam P    = MAN_W + 1;           // significand bits with the hidden one
    localparam SW   = P + 4;               // aligned width: 3 guard bits and a sticky bit
    localparam SH_W = $clog2(SW + 1);
    localparam [W-1:0] QNAN = {1'b0, {EXP_W{1'b1}}, 1'b1, {(MAN_W-1){1'b0}}};

    initial begin
        if (LATENCY < 0 || LATENCY > 4) $fatal(1, "fp_add: LATENCY must be 0..4");
        if (EXP_W < 3 || MAN_W < 3) $fatal(1, "fp_add: EXP_W and MAN_W must be >= 3");
        if (SW >= (1 << EXP_W)) $fatal(1, "fp_add: the exponent field must be able to count the aligned width");
    end

    wire en = m_ready | ~m_valid;
    assign s_ready = (LATENCY == 0) ? m_ready : en;

    // ---------------------------------------------------------------- unpack, swap
    wire             a_sign, b_sign, a_zero, b_zero, a_sub, b_sub, a_inf, b_inf, a_nan, b_nan, a_snan, b_snan;
    wire [EXP_W-1:0] a_exp, b_exp;
    wire [P-1:0]     a_sig, b_sig;
    fp_classify #(.EXP_W(EXP_W), .MAN_W(MAN_W)) u_class_a (
        .op(s_a), .sign(a_sign), .exp_eff(a_exp), .sig(a_sig), .is_zero(a_zero),
        .is_sub(a_sub), .is_inf(a_inf), .is_nan(a_nan), .is_snan(a_snan));
    fp_classify #(.EXP_W(EXP_W), .MAN_W(MAN_W)) u_class_b (
        .op(s_b), .sign(b_sign), .exp_eff(b_exp), .sig(b_sig), .is_zero(b_zero),
        .is_sub(b_sub), .is_inf(b_inf), .is_nan(b_nan), .is_snan(b_snan));

    // The operands are ordered by exponent field alone (a short compare on the
    // alignment path); only with equal exponents can the second be larger, and
    // then nothing is shifted and the reverse difference is taken (flip).
    wire             swap      = (s_b[W-2:0] > s_a[W-2:0]);
    wire             swap_e    = (s_b[W-2:MAN_W] > s_a[W-2:MAN_W]);
    wire             flip      = swap & ~swap_e;
    wire             eff_sub   = a_sign ^ b_sign;
    wire             inf_inf   = a_inf & b_inf & eff_sub;
    wire             u_special = a_nan | b_nan | a_inf | b_inf;
    wire             u_nv      = a_snan | b_snan | inf_inf;
    wire             big_sign  = swap ? b_sign : a_sign;
    wire [W-1:0]     u_special_res = (a_nan | b_nan | inf_inf) ? QNAN
                                   : {big_sign, {EXP_W{1'b1}}, {MAN_W{1'b0}}};
    wire [EXP_W-1:0] big_exp   = swap_e ? b_exp : a_exp;
    wire [EXP_W-1:0] exp_diff  = swap_e ? (b_exp - a_exp) : (a_exp - b_exp);
    wire [P-1:0]     big_sig   = swap_e ? b_sig : a_sig;
    wire [P-1:0]     small_sig = swap_e ? a_sig : b_sig;
    wire unused_class = &{1'b0, a_zero, b_zero, a_sub, b_sub, 1'b0};

    localparam S1_W = 1 + 1 + W + 1 + EXP_W + EXP_W + P + P + 2;
    wire            s1_valid;
    wire [S1_W-1:0] s1_data;
    pipe_stage #(.WIDTH(S1_W), .REGISTER(LATENCY >= 3)) u_cut1 (
        .clk(clk), .rst(rst), .en(en), .in_valid(s_valid),
        .in_data({u_special, u_nv, u_special_res, big_sign, big_exp, exp_diff, big_sig, small_sig, eff_sub,
                  flip}),
        .out_valid(s1_valid), .out_data(s1_data));
    wire             a1_special, a1_nv, a1_sign, a1_sub, a1_flip;
    wire [W-1:0]     a1_special_res;
    wire [EXP_W-1:0] a1_exp, a1_diff;
    wire [P-1:0]     a1_big, a1_small;
    assign {a1_special, a1_nv, a1_special_res, a1_sign, a1_exp, a1_diff, a1_big, a1_small, a1_sub,
            a1_flip} = s1_data;

    // ---------------------------------------------------------------- align, add
    // Bits shifted out of the smaller operand collapse into the sticky LSB; that
    // keeps every bit above it exact for subtraction too.
    localparam [EXP_W-1:0] SW_E = SW[EXP_W-1:0];
    wire [EXP_W-1:0]  diff_clamped = (a1_diff > SW_E) ? SW_E : a1_diff;
    wire [2*SW-1:0]   small_wide   = {a1_small, {(SW-P+SW){1'b0}}} >> diff_clamped;
    wire [SW-1:0]     small_al     = {small_wide[2*SW-1:SW+1], small_wide[SW] | (|small_wide[SW-1:0])};
    wire [SW-1:0]     big_al       = {a1_big, {(SW-P){1'b0}}};
    // big -/+ small with the carry-in as an extra low bit of both operands;
    // flip: equal exponents, no shift, the second operand larger
    wire [SW+1:0]     ks_res;
    add_ks #(.WIDTH(SW + 1)) u_add (.a({big_al, a1_sub}), .b({a1_sub ? ~small_al : small_al, a1_sub}),
                                    .sum(ks_res));
    wire [SW:0]       sum_main     = {ks_res[SW+1] ^ a1_sub, ks_res[SW:1]};
    wire              unused_ks    = ks_res[0];
    wire [SW:0]       sum          = (a1_sub & a1_flip) ? ({1'b0, a1_small, {(SW-P){1'b0}}} - {1'b0, big_al})
                                   :                      sum_main;

    // the normalisation's shift limit, ahead of the cut (off the sum's path)
    wire [EXP_W:0]    max_shift_1  = {1'b0, a1_exp} - 1'b1;

    localparam S2_W = 1 + 1 + W + 1 + 1 + EXP_W + (EXP_W + 1) + SW + 1;
    wire            s2_valid;
    wire [S2_W-1:0] s2_data;
    pipe_stage #(.WIDTH(S2_W), .REGISTER(LATENCY >= 2)) u_cut2 (
        .clk(clk), .rst(rst), .en(en), .in_valid(s1_valid),
        .in_data({a1_special, a1_nv, a1_special_res, a1_sign, a1_sub, a1_exp, max_shift_1, sum}),
        .out_valid(s2_valid), .out_data(s2_data));
    wire             a2_special, a2_nv, a2_sign, a2_sub;
    wire [W-1:0]     a2_special_res;
    wire [EXP_W-1:0] a2_exp;
    wire [EXP_W:0]   max_shift;
    wire [SW:0]      a2_sum;
    assign {a2_special, a2_nv, a2_special_res, a2_sign, a2_sub, a2_exp, max_shift, a2_sum} = s2_data;

    // ---------------------------------------------------------------- normalise
    // Left shifts stop at exponent 1, which leaves a subnormal in place; a
    // carry out shifts right by one.
    wire [SH_W-1:0]  lz;
    lzc #(.WIDTH(SW), .COUNT_W(SH_W)) u_lzc (.in(a2_sum[SW-1:0]), .count(lz));
    wire             lz_fits   = ({{(EXP_W+1-SH_W){1'b0}}, lz} <= max_shift);
    wire [SH_W-1:0]  lshift    = lz_fits ? lz : max_shift[SH_W-1:0];
    wire [SW-1:0]    shifted   = a2_sum[SW-1:0] << lshift;
    wire             carry     = a2_sum[SW];
    wire [SW-1:0]    norm      = carry ? {a2_sum[SW:2], a2_sum[1] | a2_sum[0]} : shifted;
    wire [EXP_W+1:0] norm_exp  = carry       ? {2'b00, a2_exp} + 1'b1
                               : norm[SW-1]  ? {2'b00, a2_exp} - {{(EXP_W+2-SH_W){1'b0}}, lshift}
                               :               {(EXP_W+2){1'b0}};
    // Exact cancellation gives +0 (round to nearest); equal-signed zeros keep their sign.
    wire             sum_zero  = (a2_sum == {(SW+1){1'b0}});
    wire             norm_sign = a2_sign & ~(sum_zero & a2_sub);

    localparam S3_W = 1 + 1 + W + 1 + (EXP_W + 2) + SW;
    wire            s3_valid;
    wire [S3_W-1:0] s3_data;
    pipe_stage #(.WIDTH(S3_W), .REGISTER(LATENCY >= 4)) u_cut3 (
        .clk(clk), .rst(rst), .en(en), .in_valid(s2_valid),
        .in_data({a2_special, a2_nv, a2_special_res, norm_sign, norm_exp, norm}),
        .out_valid(s3_valid), .out_data(s3_data));
    wire             a3_special, a3_nv, a3_sign;
    wire [W-1:0]     a3_special_res;
    wire [EXP_W+1:0] a3_exp;
    wire [SW-1:0]    a3_norm;
    assign {a3_special, a3_nv, a3_special_res, a3_sign, a3_exp, a3_norm} = s3_data;

    // ---------------------------------------------------------------- round, pack
    wire [W-1:0] rnd_result;
    wire         rnd_of, rnd_uf, rnd_nx;
    fp_round #(.EXP_W(EXP_W), .MAN_W(MAN_W), .EXPI_W(EXP_W + 2)) u_round (
        .sign(a3_sign), .exp(a3_exp), .frac(a3_norm[SW-2:SW-1-MAN_W]),
        .rnd(a3_norm[3]), .rnd2(a3_norm[2]), .sticky(|a3_norm[1:0]),
        .result(rnd_result), .overflow(rnd_of), .underflow(rnd_uf), .inexact(rnd_nx));

    wire unused_lead = a3_norm[SW-1];   // the hidden bit is implied by the exponent
    wire [W-1:0] out_result = a3_special ? a3_special_res : rnd_result;
    wire [4:0]   out_status = a3_special ? {a3_nv, 4'b0000} : {2'b00, rnd_of, rnd_uf, rnd_nx};

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
