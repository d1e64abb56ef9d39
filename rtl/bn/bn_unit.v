`default_nettype none
// FP16 batch-norm training unit (paper 004 III-B, Algorithm 1): BN STAT, BN
// Core and ReLU for one channel at a time, FP (lines 1-9) and BP (10-18) on
// one datapath. Per channel: one command, then 2*count element beats on s_
// (pass 1: statistics, pass 2: the same elements again for the transform),
// count results on m_, and one channel result on r_.
//   BN STAT: binary32 accumulators (exact fp16 -> fp32 widening and exact
//     fp32 products), mean = sum * RNE32(1/count); 1/count by a restoring
//     divider that runs during pass 1 (exact shift when count = 2^k).
//   BN Core: two binary16 adders, two binary16 multipliers; lambda (or
//     gamma*lambda) once per channel on the same units, then a 4-stage
//     pipeline, one element per clock, stalled as a whole by m_ready.
// r_status = {ERR: count = 0 (no beats taken), NF: a channel scalar or an
// output was inf/NaN, VZ: var <= 0 (clamped to +0; lambda = rsqrt(eps))}.
module bn_unit #(
    parameter NW = 24   // width of the per-channel element count, 1..24
) (
    input  wire          clk,
    input  wire          rst,
    // command, one per channel
    input  wire          c_valid,
    output wire          c_ready,
    input  wire          c_mode,     // 0 forward, 1 backward
    input  wire          c_relu,     // FP: ReLU after BN; BP: mask dy with s_mask
    input  wire [NW-1:0] c_count,    // elements per channel (batch * H * W)
    input  wire [15:0]   c_gamma,
    input  wire [15:0]   c_beta,
    input  wire [15:0]   c_eps,
    input  wire [15:0]   c_lambda,   // BP: lambda saved from FP
    // elements in
    input  wire          s_valid,
    output wire          s_ready,
    input  wire [15:0]   s_x,        // FP: x, BP: dy
    input  wire [15:0]   s_xhat,     // BP: xhat saved from FP
    input  wire          s_mask,     // BP: ReLU mask saved from FP
    // elements out
    output wire          m_valid,
    input  wire          m_ready,
    output wire [15:0]   m_y,        // FP: y (after ReLU), BP: dx
    output wire [15:0]   m_xhat,     // FP: xhat to save (0 in BP)
    output wire          m_mask,     // FP: y > 0 (0 in BP)
    // channel result
    output wire          r_valid,
    input  wire          r_ready,
    output wire [15:0]   r_a,        // FP: mu,  BP: dbeta
    output wire [15:0]   r_b,        // FP: var, BP: dgamma
    output wire [15:0]   r_lambda,   // FP: lambda, BP: gamma*lambda
    output wire [2:0]    r_status    // {ERR, NF, VZ}
);
    initial begin
        if (NW < 1 || NW > 24) $fatal(1, "bn_unit: NW must be 1..24");
    end

    localparam [3:0] ST_IDLE = 4'd0, ST_STAT = 4'd1, ST_MEAN1 = 4'd2, ST_MEAN2 = 4'd3,
                     ST_L0 = 4'd4, ST_L1 = 4'd5, ST_L2 = 4'd6, ST_L3 = 4'd7,
                     ST_XFORM = 4'd8, ST_RES = 4'd9;

    reg  [3:0]    state_q, state_d;
    reg           mode_q, relu_q, err_q, nf_q, vz_q;
    reg  [NW-1:0] count_q, cnt_q;
    reg  [15:0]   gamma_q, beta_q, eps_q, lam_q;
    reg  [31:0]   sum1_q, sum2_q, pa_q, pp_q;
    reg           pv_q;
    reg  [15:0]   mean1_q, mean2_q, dsum1_q, dsum2_q, t_q, var_q, ve_q;
    // Core pipeline
    reg           v1_q, v2_q, v3_q, vo_q;
    reg  [15:0]   s1a_q, s1b_q, s2_q, s3_q, s3x_q, y_q, xh_q;
    reg           mask_q;

    function automatic nonfinite(input [4:0] exp);
        nonfinite = (exp == 5'h1f);
    endfunction
    function automatic [15:0] neg(input [15:0] v);
        neg = {~v[15], v[14:0]};
    endfunction

    wire st_idle  = (state_q == ST_IDLE);
    wire st_stat  = (state_q == ST_STAT);
    wire st_xform = (state_q == ST_XFORM);
    wire en       = ~vo_q | m_ready;
    wire all_in   = (cnt_q == count_q);

    assign c_ready  = st_idle;
    assign s_ready  = st_stat | (st_xform & en & ~all_in);
    wire   s_fire   = s_valid & s_ready;
    wire   c_fire   = c_valid & c_ready;

    // BP: dy through the ReLU mask
    wire [15:0] in_a = (mode_q & relu_q & ~s_mask) ? 16'h0000 : s_x;
    wire [15:0] in_b = mode_q ? s_xhat : s_x;

    // ---------------------------------------------------------------- 1/count
    wire        inv_done;
    wire [31:0] inv_n;
    bn_recip #(.NW(NW)) u_recip (.clk(clk), .rst(rst), .start(c_fire), .n(c_count),
        .done(inv_done), .result(inv_n));

    // ---------------------------------------------------------------- BN STAT
    wire [31:0] a32, b32, mul32_y, acc1_y, acc2_y;
    bn_f16_to_f32 u_wa (.a(in_a), .y(a32));
    bn_f16_to_f32 u_wb (.a(in_b), .y(b32));
    wire [31:0] mul32_a = st_stat ? a32 : (state_q == ST_MEAN1) ? sum1_q : sum2_q;
    wire [31:0] mul32_b = st_stat ? b32 : inv_n;
    wire [4:0]  st_m32, st_a1, st_a2;
    wire        rdy_m32, rdy_a1, rdy_a2, vld_m32, vld_a1, vld_a2;
    fp_mul #(.EXP_W(8), .MAN_W(23), .LATENCY(0)) u_mul32 (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(rdy_m32), .s_a(mul32_a), .s_b(mul32_b),
        .m_valid(vld_m32), .m_ready(1'b1), .m_result(mul32_y), .m_status(st_m32));
    fp_add #(.EXP_W(8), .MAN_W(23), .LATENCY(0)) u_acc1 (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(rdy_a1), .s_a(sum1_q), .s_b(pa_q),
        .m_valid(vld_a1), .m_ready(1'b1), .m_result(acc1_y), .m_status(st_a1));
    fp_add #(.EXP_W(8), .MAN_W(23), .LATENCY(0)) u_acc2 (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(rdy_a2), .s_a(sum2_q), .s_b(pp_q),
        .m_valid(vld_a2), .m_ready(1'b1), .m_result(acc2_y), .m_status(st_a2));
    wire [15:0] mean16, dsum16;
    wire        mean_of, dsum_of;
    bn_f32_to_f16 u_nm (.a(mul32_y), .y(mean16), .of(mean_of));
    bn_f32_to_f16 u_ns (.a((state_q == ST_MEAN1) ? sum1_q : sum2_q), .y(dsum16), .of(dsum_of));

    // ---------------------------------------------------------------- BN Core units
    wire [15:0] a1_y, a2_y, m1_y, m2_y, rs_y;
    wire [15:0] a1_a = st_xform ? in_a : (state_q == ST_L1) ? mean2_q : var_q;
    wire [15:0] a1_b = st_xform ? neg(mean1_q) : (state_q == ST_L1) ? neg(t_q) : eps_q;
    wire [15:0] m1_a = st_xform ? (mode_q ? in_b : s1a_q) : (mode_q ? gamma_q : mean1_q);
    wire [15:0] m1_b = st_xform ? (mode_q ? mean2_q : lam_q) : (mode_q ? lam_q : mean1_q);
    wire [15:0] a2_a = mode_q ? s1a_q : s3_q;
    wire [15:0] a2_b = mode_q ? neg(s1b_q) : beta_q;
    wire [15:0] m2_b = mode_q ? t_q : gamma_q;
    wire [4:0]  st_c1, st_c2, st_c3, st_c4;
    wire [3:0]  rdy_c, vld_c;
    fp_add #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_a1 (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(rdy_c[0]), .s_a(a1_a), .s_b(a1_b),
        .m_valid(vld_c[0]), .m_ready(1'b1), .m_result(a1_y), .m_status(st_c1));
    fp_add #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_a2 (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(rdy_c[1]), .s_a(a2_a), .s_b(a2_b),
        .m_valid(vld_c[1]), .m_ready(1'b1), .m_result(a2_y), .m_status(st_c2));
    fp_mul #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_m1 (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(rdy_c[2]), .s_a(m1_a), .s_b(m1_b),
        .m_valid(vld_c[2]), .m_ready(1'b1), .m_result(m1_y), .m_status(st_c3));
    fp_mul #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_m2 (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(rdy_c[3]), .s_a(s2_q), .s_b(m2_b),
        .m_valid(vld_c[3]), .m_ready(1'b1), .m_result(m2_y), .m_status(st_c4));
    bn_rsqrt u_rsqrt (.a(ve_q), .y(rs_y));

    // ReLU on the FP output
    wire        y_pos  = ~a2_y[15] & (a2_y[14:0] != 15'd0);
    wire [15:0] y_relu = (relu_q & ~y_pos) ? 16'h0000 : a2_y;

    // ---------------------------------------------------------------- control
    wire mean_go = inv_done & ~pv_q;
    always @* begin
        state_d = state_q;
        case (state_q)
            ST_IDLE:  if (c_fire) state_d = (c_count == {NW{1'b0}}) ? ST_RES : ST_STAT;
            ST_STAT:  if (s_fire && cnt_q == count_q - 1'b1) state_d = ST_MEAN1;
            ST_MEAN1: if (mean_go) state_d = ST_MEAN2;
            ST_MEAN2: state_d = ST_L0;
            ST_L0:    state_d = mode_q ? ST_XFORM : ST_L1;
            ST_L1:    state_d = ST_L2;
            ST_L2:    state_d = ST_L3;
            ST_L3:    state_d = ST_XFORM;
            ST_XFORM: if (all_in && !(v1_q || v2_q || v3_q || vo_q)) state_d = ST_RES;
            ST_RES:   if (r_ready) state_d = ST_IDLE;
            default:  state_d = ST_IDLE;
        endcase
    end

    always @(posedge clk) begin
        if (rst) begin
            state_q <= ST_IDLE;
            pv_q    <= 1'b0;
            v1_q    <= 1'b0;
            v2_q    <= 1'b0;
            v3_q    <= 1'b0;
            vo_q    <= 1'b0;
            err_q   <= 1'b0;
            nf_q    <= 1'b0;
            vz_q    <= 1'b0;
            cnt_q   <= {NW{1'b0}};
        end else begin
            state_q <= state_d;
            pv_q    <= st_stat & s_fire;
            if (c_fire) begin
                err_q <= (c_count == {NW{1'b0}});
                nf_q  <= 1'b0;
                vz_q  <= 1'b0;
                cnt_q <= {NW{1'b0}};
            end else if (s_fire) begin
                cnt_q <= cnt_q + 1'b1;
            end else if (state_q == ST_MEAN2 || state_q == ST_L3 || (state_q == ST_L0 && mode_q)) begin
                cnt_q <= {NW{1'b0}};   // pass 2 counts again
            end
            if (state_q == ST_MEAN1 && mean_go)
                nf_q <= nf_q | nonfinite(mean16[14:10]) | (mode_q & nonfinite(dsum16[14:10]));
            if (state_q == ST_MEAN2)
                nf_q <= nf_q | nonfinite(mean16[14:10]) | (mode_q & nonfinite(dsum16[14:10]));
            if (state_q == ST_L0 || state_q == ST_L2)
                nf_q <= nf_q | nonfinite(state_q == ST_L0 ? m1_y[14:10] : a1_y[14:10]);
            if (state_q == ST_L1) begin
                vz_q <= a1_y[15] | (a1_y[14:0] == 15'd0);
                nf_q <= nf_q | (~a1_y[15] & nonfinite(a1_y[14:10]));
            end
            if (state_q == ST_L3)
                nf_q <= nf_q | nonfinite(rs_y[14:10]);
            if (en && v3_q)
                nf_q <= nf_q | (mode_q ? nonfinite(s3_q[14:10]) : (nonfinite(a2_y[14:10]) | nonfinite(s3x_q[14:10])));
            if (en) begin
                v1_q <= st_xform & s_fire;
                v2_q <= v1_q;
                v3_q <= v2_q;
                vo_q <= v3_q;
            end
        end
    end

    // datapath registers (no reset needed: qualified by the valids and the FSM)
    always @(posedge clk) begin
        if (c_fire) begin
            mode_q  <= c_mode;
            relu_q  <= c_relu;
            count_q <= c_count;
            gamma_q <= c_gamma;
            beta_q  <= c_beta;
            eps_q   <= c_eps;
            lam_q   <= c_lambda;
            sum1_q  <= 32'd0;
            sum2_q  <= 32'd0;
        end else if (pv_q) begin
            sum1_q  <= acc1_y;
            sum2_q  <= acc2_y;
        end
        if (st_stat) begin
            pa_q <= a32;
            pp_q <= mul32_y;
        end
        if (state_q == ST_MEAN1 && mean_go) begin
            mean1_q <= mean16;
            dsum1_q <= dsum16;
        end
        if (state_q == ST_MEAN2) begin
            mean2_q <= mean16;
            dsum2_q <= dsum16;
        end
        if (state_q == ST_L0) t_q <= m1_y;
        if (state_q == ST_L1) var_q <= a1_y[15] ? 16'h0000 : a1_y;
        if (state_q == ST_L2) ve_q <= a1_y;
        if (state_q == ST_L3) lam_q <= rs_y;
        if (en) begin
            s1a_q  <= a1_y;
            s1b_q  <= m1_y;
            s2_q   <= mode_q ? a2_y : m1_y;
            s3_q   <= m2_y;
            s3x_q  <= s2_q;
            y_q    <= mode_q ? s3_q : y_relu;
            xh_q   <= mode_q ? 16'h0000 : s3x_q;
            mask_q <= ~mode_q & (~relu_q | y_pos);
        end
    end

    assign m_valid  = vo_q;
    assign m_y      = y_q;
    assign m_xhat   = xh_q;
    assign m_mask   = mask_q;
    assign r_valid  = (state_q == ST_RES);
    assign r_a      = err_q ? 16'h0000 : mode_q ? dsum1_q : mean1_q;
    assign r_b      = err_q ? 16'h0000 : mode_q ? dsum2_q : var_q;
    assign r_lambda = err_q ? 16'h0000 : mode_q ? t_q : lam_q;
    assign r_status = {err_q, nf_q, vz_q};

    wire unused = &{1'b0, rdy_m32, rdy_a1, rdy_a2, vld_m32, vld_a1, vld_a2, st_m32, st_a1, st_a2,
                    st_c1, st_c2, st_c3, st_c4, rdy_c, vld_c, mean_of, dsum_of, 1'b0};

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    stream_check #(.W(33), .NAME("m")) u_check_m (
        .clk(clk), .rst(rst), .valid(m_valid), .ready(m_ready), .data({m_y, m_xhat, m_mask}));
    stream_check #(.W(51), .NAME("r")) u_check_r (
        .clk(clk), .rst(rst), .valid(r_valid), .ready(r_ready), .data({r_a, r_b, r_lambda, r_status}));
    // a channel: at most count elements per pass, then its count of m beats
    // and only then, with the core drained, its r beat
    reg [NW-1:0] chk_out_q;   // m beats of the channel
    always @(posedge clk) begin
        if (rst || c_fire)          chk_out_q <= {NW{1'b0}};
        else if (m_valid && m_ready) chk_out_q <= chk_out_q + 1'b1;
        if (!rst) begin
            assert (!$isunknown({c_ready, s_ready})) else $error("%m: c_ready or s_ready is X or Z after reset");
            assert (st_idle || cnt_q <= count_q) else $error("%m: %0d elements taken of %0d", cnt_q, count_q);
            assert (!r_valid || (!m_valid && chk_out_q == count_q))
                else $error("%m: r_valid after %0d of %0d m beats", chk_out_q, count_q);
        end
    end
`endif
endmodule
`default_nettype wire
