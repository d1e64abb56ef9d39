`default_nettype none
// BN Core: the per-element transform of one lane (one PE row's results) of
// bn_rows, binary16, every operation RNE (models/bn_ref.bn_forward /
// bn_backward, the operation order of paper 004 Algorithm 1):
//   FP: t = x - mu; xhat = t * lambda; yg = xhat * gamma; y = yg + beta;
//       ReLU (y <= 0 or -0 -> +0; NaN, canonical and positive, passes),
//       mask = y > 0 (1 without ReLU).
//   BP: (dy already masked by bn_rows) t2 = dy - mean1; t1 = xhat * mean2;
//       d = t2 - t1; dx = (gamma * lambda) * d.
// Five stages, one binary16 unit each (add, mul, mul, add, mul: the shortest
// sequence holding both orders), each unit combinational (LATENCY 0) and
// followed by a register. The per-channel operands (-mean1 or -mu, lambda or
// mean2, gamma, beta, gamma*lambda) and the mode of the beat in each stage
// come from bn_rows, which keeps one copy of them for all lanes.
//
// Ports: clk; en advances every stage (the whole pipeline holds when low);
//   i_a / i_b: stage-0 lane values (FP x; BP masked dy and xhat) and the
//   per-stage controls named s<k>_*, the values belonging to the beat that is
//   in stage k's register (k = 0..4) and enters stage k+1 when en is high.
//   o_y (FP y after ReLU, BP dx), o_xhat (FP xhat, BP 0), o_mask (FP mask,
//   BP 0), o_nf (FP: y before ReLU or xhat is inf/NaN; BP: dx or
//   gamma*lambda is) are the stage-5 registers.
// Latency: 5 clocks of en from i_a to o_y. Throughput: one element per clock.
// Reset: none needed (pure datapath; bn_rows keeps the valid bits).
module bn_core (
    input  wire        clk,
    input  wire        en,
    input  wire [15:0] i_a,        // stage 0: FP x, BP masked dy
    input  wire [15:0] i_b,        // stage 0: BP xhat (unused in FP)
    input  wire [15:0] s0_nc1,     // stage 0: -mu (FP), -mean1 (BP)
    input  wire        s1_bp,      // stage 1: the beat is BP
    input  wire [15:0] s1_c2,      // stage 1: lambda (FP), mean2 (BP)
    input  wire        s2_bp,
    input  wire [15:0] s2_gamma,   // stage 2: gamma (FP)
    input  wire        s3_bp,
    input  wire [15:0] s3_beta,    // stage 3: beta (FP)
    input  wire        s4_bp,
    input  wire        s4_relu,    // stage 4: ReLU after BN (FP)
    input  wire [15:0] s4_gl,      // stage 4: gamma * lambda (BP)
    output wire [15:0] o_y,
    output wire [15:0] o_xhat,
    output wire        o_mask,
    output wire        o_nf
);
    function automatic [15:0] neg(input [15:0] v);
        neg = {~v[15], v[14:0]};
    endfunction
    function automatic nonfinite(input [4:0] e);   // the exponent field
        nonfinite = (e == 5'h1f);
    endfunction

    // ---------------------------------------------------------------- the five units
    wire [15:0] a1_y, m1_y, m2_y, a2_y, m3_y;
    wire [4:0]  st1, st2, st3, st4, st5;
    wire [4:0]  rdy, vld;
    reg  [15:0] t1_q, xh1_q;                 // stage 1: x - mu | dy - mean1; xhat (BP)
    reg  [15:0] p2_q, t2_q;                  // stage 2: xhat | t1; carried t2 (BP)
    reg  [15:0] p3_q, xh3_q, t3_q;           // stage 3: yg | t1; xhat; t2
    reg  [15:0] s4_q, xh4_q;                 // stage 4: y before ReLU | d; xhat
    reg  [15:0] y_q, xh_q;                   // stage 5
    reg         mask_q, nf_q;

    fp_add #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_a1 (
        .clk(clk), .rst(1'b0), .s_valid(1'b1), .s_ready(rdy[0]), .s_a(i_a), .s_b(s0_nc1),
        .m_valid(vld[0]), .m_ready(1'b1), .m_result(a1_y), .m_status(st1));
    fp_mul #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_m1 (
        .clk(clk), .rst(1'b0), .s_valid(1'b1), .s_ready(rdy[1]), .s_a(s1_bp ? xh1_q : t1_q), .s_b(s1_c2),
        .m_valid(vld[1]), .m_ready(1'b1), .m_result(m1_y), .m_status(st2));
    fp_mul #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_m2 (
        .clk(clk), .rst(1'b0), .s_valid(1'b1), .s_ready(rdy[2]), .s_a(p2_q), .s_b(s2_gamma),
        .m_valid(vld[2]), .m_ready(1'b1), .m_result(m2_y), .m_status(st3));
    fp_add #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_a2 (
        .clk(clk), .rst(1'b0), .s_valid(1'b1), .s_ready(rdy[3]),
        .s_a(s3_bp ? t3_q : p3_q), .s_b(s3_bp ? neg(p3_q) : s3_beta),
        .m_valid(vld[3]), .m_ready(1'b1), .m_result(a2_y), .m_status(st4));
    fp_mul #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_m3 (
        .clk(clk), .rst(1'b0), .s_valid(1'b1), .s_ready(rdy[4]), .s_a(s4_gl), .s_b(s4_q),
        .m_valid(vld[4]), .m_ready(1'b1), .m_result(m3_y), .m_status(st5));

    // ReLU on the FP output
    wire y_pos = ~s4_q[15] & (s4_q[14:0] != 15'd0);

    always @(posedge clk) begin
        if (en) begin
            t1_q   <= a1_y;
            xh1_q  <= i_b;
            p2_q   <= m1_y;
            t2_q   <= t1_q;
            p3_q   <= s2_bp ? p2_q : m2_y;
            xh3_q  <= p2_q;
            t3_q   <= t2_q;
            s4_q   <= a2_y;
            xh4_q  <= xh3_q;
            y_q    <= s4_bp ? m3_y : ((s4_relu & ~y_pos) ? 16'h0000 : s4_q);
            xh_q   <= s4_bp ? 16'h0000 : xh4_q;
            mask_q <= ~s4_bp & (~s4_relu | y_pos);
            nf_q   <= s4_bp ? (nonfinite(m3_y[14:10]) | nonfinite(s4_gl[14:10])) : (nonfinite(s4_q[14:10]) | nonfinite(xh4_q[14:10]));
        end
    end

    assign o_y    = y_q;
    assign o_xhat = xh_q;
    assign o_mask = mask_q;
    assign o_nf   = nf_q;

    wire unused = &{1'b0, st1, st2, st3, st4, st5, rdy, vld, 1'b0};
endmodule
`default_nettype wire
