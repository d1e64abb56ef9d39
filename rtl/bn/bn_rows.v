`default_nettype none
// The accelerator's BN unit, organised like paper 004's (Fig. 6): a BN STAT
// fed by all PE rows (bn_stat_exact, LANES elements per clock, exact and
// order-free) and a BN Core per PE row (bn_core, one element per clock each).
// Stream level: the CONV_BN_FP and BN_CONV_BP engines feed it; it computes
// what models/accel.batch_norm_fp / batch_norm_bp compute, bit for bit
// (models/bn_ref with exact_stats=True). Two independent input streams, so
// that one layer's statistics can accumulate while another's transform runs.
//
// Per channel ch (0..MAX_C-1), in two passes over its N elements:
//   FP pass 1, st_ with st_bp = 0: x (conv outputs, FP16), channel-major, any
//     order and lane pattern within the channel, st_last on its final beat.
//     -> bn_stat_exact: mu = RNE16(S1/N), m2 = RNE16(S2/N); then, once per
//     channel, mu2 = mu*mu, var = m2 - mu2 (clamped to +0 when negative, VZ
//     when <= 0), lambda = rsqrt(var + EPS) (correctly rounded ROM, bn_rsqrt).
//     {mu, lambda} go to the channel's entry of the stats memory, and one r_
//     beat {ch, mu, var, lambda, N, flags} comes out.
//   FP pass 2, t_ with t_bp = 0: the same elements again with gamma, beta (and
//     t_relu): m_ gives y (after ReLU when t_relu), xhat and the mask per
//     element, in the lanes and order they came in.
//   BP pass 1, st_ with st_bp = 1: dy (st_a), xhat (st_b), mask (st_m);
//     a = dy masked to +0 where st_relu & ~mask, b = xhat -> bn_stat_exact:
//     dbeta = RNE16(S1), dgamma = RNE16(S2), mean1 = RNE16(S1/N), mean2 =
//     RNE16(S2/N); {mean1, mean2} go to the stats memory, r_ gives {ch,
//     dbeta, dgamma, 0, N, flags}.
//   BP pass 2, t_ with t_bp = 1: dy, xhat, mask again with gamma and lambda:
//     m_ gives dx = RNE16(gamma*lambda) * ((dy - mean1) - xhat*mean2).
// Ordering: a t_ beat of channel ch waits (t_ready low) until ch's statistics
//   are in the stats memory (a per-channel "ready" bit, set when they are
//   written, cleared when the t_ pass's last beat is taken). So the engine
//   may send pass 2 as soon as it likes; it must send each channel's pass 2
//   once per pass 1 (a second pass 2 without a new pass 1 waits for ever),
//   and a new pass 1 of ch must not complete while ch's pass 2 still runs.
//
// Ports (lane i of a bus in bits [16i+15:16i]; s_keep-like masks: bit i):
//   st_ (in): st_bp, st_relu (BP: mask dy), st_ch, st_a, st_b, st_m, st_keep,
//     st_last, st_n (the commanded N, checked on st_last). Empty beats and an
//     empty last beat are allowed.
//   r_ (out, one beat per st_ channel): r_ch, r_bp, r_a (FP mu, BP dbeta),
//     r_b (FP var, BP dgamma), r_c (FP lambda, BP 0), r_count (elements
//     counted), r_flags = {ERR, NF, VZ}:
//     ERR: N = 0, the count differs from st_n, or a count overflow (bn_stat_exact);
//     NF:  FP: mu, m2, mu2, var, var+eps or lambda is inf/NaN; BP: mean1,
//          mean2, dbeta or dgamma is (a NaN/inf input makes them NaN);
//     VZ:  FP: var <= 0 before the clamp.
//   t_ (in): t_bp, t_relu, t_ch, t_a (FP x, BP dy), t_b (BP xhat), t_m (BP
//     mask), t_keep, t_last, t_gamma, t_beta (FP), t_lam (BP lambda).
//   m_ (out, one beat per t_ beat): m_ch, m_bp, m_keep, m_last (copied),
//     m_y (FP y, BP dx), m_xhat (FP xhat, BP 0), m_mask (FP; BP 0),
//     m_nf: a kept lane's y (before ReLU) or xhat (FP), dx or gamma*lambda
//     (BP) is inf/NaN. Lanes t_keep leaves out give 0.
// Latency: r_valid 53 clocks after the clock in which a channel's last st_
//   beat is taken (bn_stat_exact 48, then capture, mu*mu, var, var+eps and
//   lambda; BP 3 fewer); the channel's t_ beats may enter from the clock after
//   the stats are written (the clock r_valid rises). m_valid 6 clocks after
//   the clock in which a t_ beat is taken (input register, 5 core stages).
// Throughput: st_ one beat (LANES elements) per clock (bn_stat_exact: channels
//   of 45 beats or more, back to back, never stall); t_ one beat per clock,
//   no bubbles, stalled only by m_ready (the whole transform pipeline holds)
//   and by the per-channel ready bit.
// Reset (synchronous, active high): drops everything in flight on both
//   streams and clears every channel's ready bit (the stats memory's data is
//   kept but unusable until written again).
module bn_rows #(
    parameter LANES = 4,         // elements per beat (PE rows' results per clock), 1..64
    parameter NW    = 24,        // element count width: up to 2^NW - 1 elements per channel
    parameter MAX_C = 64,        // channels in the stats memory, 2..4096
    parameter [15:0] EPS = 16'h00a8,  // binary16 epsilon of var + eps (1e-5 rounded)
    parameter CW    = $clog2(MAX_C)   // channel index width (derived; do not override)
) (
    input  wire                clk,
    input  wire                rst,
    // statistics pass (FP pass 1, BP pass 1)
    input  wire                st_valid,
    output wire                st_ready,
    input  wire                st_bp,     // 0: FP (a = b = x), 1: BP (a = masked dy, b = xhat)
    input  wire                st_relu,   // BP: mask dy by st_m
    input  wire [CW-1:0]       st_ch,     // channel, constant over the channel's beats
    input  wire [16*LANES-1:0] st_a,      // FP x, BP dy
    input  wire [16*LANES-1:0] st_b,      // BP xhat
    input  wire [LANES-1:0]    st_m,      // BP ReLU mask
    input  wire [LANES-1:0]    st_keep,   // lanes that hold an element
    input  wire                st_last,   // the channel's final beat
    input  wire [NW-1:0]       st_n,      // commanded N
    // channel statistics out
    output wire                r_valid,
    input  wire                r_ready,
    output wire [CW-1:0]       r_ch,
    output wire                r_bp,
    output wire [15:0]         r_a,       // FP mu, BP dbeta
    output wire [15:0]         r_b,       // FP var, BP dgamma
    output wire [15:0]         r_c,       // FP lambda, BP 0
    output wire [NW-1:0]       r_count,
    output wire [2:0]          r_flags,   // {ERR, NF, VZ}
    // transform pass (FP pass 2, BP pass 2)
    input  wire                t_valid,
    output wire                t_ready,
    input  wire                t_bp,
    input  wire                t_relu,    // FP: ReLU after BN; BP: mask dy by t_m
    input  wire [CW-1:0]       t_ch,
    input  wire [16*LANES-1:0] t_a,       // FP x, BP dy
    input  wire [16*LANES-1:0] t_b,       // BP xhat
    input  wire [LANES-1:0]    t_m,       // BP ReLU mask
    input  wire [LANES-1:0]    t_keep,
    input  wire                t_last,    // the channel's final beat (clears its ready bit)
    input  wire [15:0]         t_gamma,
    input  wire [15:0]         t_beta,    // FP
    input  wire [15:0]         t_lam,     // BP: lambda saved by FP
    // transformed elements out
    output wire                m_valid,
    input  wire                m_ready,
    output wire [CW-1:0]       m_ch,
    output wire                m_bp,
    output wire [16*LANES-1:0] m_y,       // FP y, BP dx
    output wire [16*LANES-1:0] m_xhat,    // FP xhat, BP 0
    output wire [LANES-1:0]    m_mask,    // FP mask, BP 0
    output wire [LANES-1:0]    m_keep,
    output wire                m_last,
    output wire                m_nf
);
    initial begin
        if (LANES < 1 || LANES > 64) $fatal(1, "bn_rows: LANES must be 1..64");
        if (NW < $clog2(LANES) + 1 || NW > 32) $fatal(1, "bn_rows: NW must be clog2(LANES)+1 .. 32");
        if (MAX_C < 2 || MAX_C > 4096) $fatal(1, "bn_rows: MAX_C must be 2..4096");
        if (CW != $clog2(MAX_C)) $fatal(1, "bn_rows: CW is derived from MAX_C, do not set it");
        if (EPS[14:10] == 5'h1f || EPS[15]) $fatal(1, "bn_rows: EPS must be a finite binary16 >= 0");
    end

    function automatic [15:0] neg(input [15:0] v);
        neg = {~v[15], v[14:0]};
    endfunction
    function automatic nonfinite(input [4:0] e);   // the exponent field
        nonfinite = (e == 5'h1f);
    endfunction

    // ================================================================ statistics
    // channel id and mode of each channel inside bn_stat_exact (at most 5 there)
    localparam QD = 8;
    reg  [CW:0]          chq_q [0:QD-1];
    reg  [2:0]           chq_wr_q, chq_rd_q;
    reg  [3:0]           chq_n_q;
    wire                 chq_full = chq_n_q[3];

    wire                 ss_ready;
    wire [16*LANES-1:0]  ss_a, ss_b;
    genvar gi;
    generate
        for (gi = 0; gi < LANES; gi = gi + 1) begin : gen_st_lane
            wire [15:0] a = st_a[16*gi +: 16];
            assign ss_a[16*gi +: 16] = (st_bp & st_relu & ~st_m[gi]) ? 16'h0000 : a;
            assign ss_b[16*gi +: 16] = st_bp ? st_b[16*gi +: 16] : a;
        end
    endgenerate

    assign st_ready = ss_ready & ~chq_full;
    wire st_take = st_valid & st_ready;

    wire                 sr_valid;
    reg                  sr_ready;
    wire [15:0]          sr_sum1, sr_sum2, sr_mean1, sr_mean2;
    wire [NW-1:0]        sr_count;
    wire [1:0]           sr_flags;
    bn_stat_exact #(.LANES(LANES), .NW(NW)) u_stat (
        .clk(clk), .rst(rst),
        .s_valid(st_valid & ~chq_full), .s_ready(ss_ready), .s_a(ss_a), .s_b(ss_b),
        .s_keep(st_keep), .s_last(st_last), .s_n(st_n),
        .r_valid(sr_valid), .r_ready(sr_ready), .r_sum1(sr_sum1), .r_sum2(sr_sum2),
        .r_mean1(sr_mean1), .r_mean2(sr_mean2), .r_count(sr_count), .r_flags(sr_flags));

    wire sr_take = sr_valid & sr_ready;
    always @(posedge clk) begin
        if (rst) begin
            chq_wr_q <= 3'd0;
            chq_rd_q <= 3'd0;
            chq_n_q  <= 4'd0;
        end else begin
            if (st_take & st_last) begin
                chq_q[chq_wr_q] <= {st_bp, st_ch};
                chq_wr_q        <= chq_wr_q + 3'd1;
            end
            if (sr_take) chq_rd_q <= chq_rd_q + 3'd1;
            chq_n_q <= chq_n_q + {3'd0, st_take & st_last} - {3'd0, sr_take};
        end
    end

    // ---------------------------------------------------------------- per channel: var, lambda
    localparam [2:0] PS_IDLE = 3'd0, PS_MU2 = 3'd1, PS_VAR = 3'd2, PS_VE = 3'd3, PS_LAM = 3'd4,
                     PS_OUT = 3'd5;
    reg  [2:0]           pst_q;
    reg  [CW-1:0]        pch_q;
    reg                  pbp_q;
    reg  [15:0]          pm1_q, pm2_q, ps1_q, ps2_q, pmu2_q, pvar_q, pve_q, plam_q;
    reg  [NW-1:0]        pcnt_q;
    reg                  perr_q, pnf_q, pvz_q;

    always @* sr_ready = (pst_q == PS_IDLE);

    wire [15:0] pmul_y, padd_y, prs_y;
    wire [4:0]  pst_m, pst_a;
    wire        prdy_m, prdy_a, pvld_m, pvld_a;
    fp_mul #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_pmul (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(prdy_m), .s_a(pm1_q), .s_b(pm1_q),
        .m_valid(pvld_m), .m_ready(1'b1), .m_result(pmul_y), .m_status(pst_m));
    fp_add #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_padd (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(prdy_a),
        .s_a((pst_q == PS_VAR) ? pm2_q : pvar_q), .s_b((pst_q == PS_VAR) ? neg(pmu2_q) : EPS),
        .m_valid(pvld_a), .m_ready(1'b1), .m_result(padd_y), .m_status(pst_a));
    bn_rsqrt u_rsqrt (.a(pve_q), .y(prs_y));

    // the stats memory: FP {mu, lambda}, BP {mean1, mean2}, and a ready bit per channel
    reg  [31:0]          mem_q [0:MAX_C-1];
    reg  [MAX_C-1:0]     have_q;
    wire                 wr_fp = (pst_q == PS_LAM);
    wire                 wr_bp = (pst_q == PS_MU2) & pbp_q;
    wire                 mem_wr = wr_fp | wr_bp;

    always @(posedge clk) begin
        if (rst) begin
            pst_q <= PS_IDLE;
        end else begin
            case (pst_q)
                PS_IDLE: if (sr_valid) pst_q <= PS_MU2;
                PS_MU2:  pst_q <= pbp_q ? PS_OUT : PS_VAR;
                PS_VAR:  pst_q <= PS_VE;
                PS_VE:   pst_q <= PS_LAM;
                PS_LAM:  pst_q <= PS_OUT;
                default: if (r_ready) pst_q <= PS_IDLE;
            endcase
        end
        if (sr_take) begin
            {pbp_q, pch_q} <= chq_q[chq_rd_q];
            pm1_q  <= sr_mean1;
            pm2_q  <= sr_mean2;
            ps1_q  <= sr_sum1;
            ps2_q  <= sr_sum2;
            pcnt_q <= sr_count;
            perr_q <= sr_flags[1];
            pvz_q  <= 1'b0;
        end
        case (pst_q)
            PS_MU2: begin
                pmu2_q <= pmul_y;
                pnf_q  <= nonfinite(pm1_q[14:10]) | nonfinite(pm2_q[14:10]) |
                          (pbp_q ? (nonfinite(ps1_q[14:10]) | nonfinite(ps2_q[14:10])) : nonfinite(pmul_y[14:10]));
            end
            PS_VAR: begin
                pvar_q <= padd_y[15] ? 16'h0000 : padd_y;          // a canonical NaN is positive
                pvz_q  <= padd_y[15] | (padd_y[14:0] == 15'd0);
                pnf_q  <= pnf_q | (~padd_y[15] & nonfinite(padd_y[14:10]));
            end
            PS_VE: begin
                pve_q  <= padd_y;
                pnf_q  <= pnf_q | nonfinite(padd_y[14:10]);
            end
            PS_LAM: begin
                plam_q <= prs_y;
                pnf_q  <= pnf_q | nonfinite(prs_y[14:10]);
            end
            default: ;
        endcase
        if (mem_wr) mem_q[pch_q] <= {pm1_q, wr_fp ? prs_y : pm2_q};
    end

    assign r_valid = (pst_q == PS_OUT);
    assign r_ch    = pch_q;
    assign r_bp    = pbp_q;
    assign r_a     = pbp_q ? ps1_q : pm1_q;
    assign r_b     = pbp_q ? ps2_q : pvar_q;
    assign r_c     = pbp_q ? 16'h0000 : plam_q;
    assign r_count = pcnt_q;
    assign r_flags = {perr_q, pnf_q, pvz_q & ~pbp_q};

    // ================================================================ transform
    wire en = ~m_valid | m_ready;               // the pipeline advances
    assign t_ready = en & have_q[t_ch];
    wire t_take = t_valid & t_ready;

    always @(posedge clk) begin
        if (rst) begin
            have_q <= {MAX_C{1'b0}};
        end else begin
            if (t_take & t_last) have_q[t_ch] <= 1'b0;
            if (mem_wr)          have_q[pch_q] <= 1'b1;
        end
    end

    // stage 0 (input register) and the per-stage beat controls, shared by the lanes
    reg  [5:0]           v_q;                       // stage k holds a beat
    reg  [5:0]           bp_q, last_q;
    reg  [6*CW-1:0]      ch_q;                      // stage k in bits [k*CW +: CW]
    reg  [6*LANES-1:0]   keep_q;                    // stage k in bits [k*LANES +: LANES]
    reg                  relu0_q, relu1_q, relu2_q, relu3_q, relu4_q;
    reg  [15:0]          nc1_0_q;                   // -mu | -mean1
    reg  [15:0]          c2_0_q, c2_1_q;            // lambda | mean2
    reg  [15:0]          g0_q, g1_q, g2_q;          // gamma
    reg  [15:0]          b0_q, b1_q, b2_q, b3_q;    // beta
    reg  [15:0]          lam0_q;                    // BP lambda
    reg  [15:0]          gl1_q, gl2_q, gl3_q, gl4_q;// BP gamma * lambda
    reg  [16*LANES-1:0]  a0_q, xb0_q;

    wire [31:0] rd = mem_q[t_ch];
    wire [16*LANES-1:0] ta_m;
    generate
        for (gi = 0; gi < LANES; gi = gi + 1) begin : gen_t_lane
            assign ta_m[16*gi +: 16] = (t_bp & t_relu & ~t_m[gi]) ? 16'h0000 : t_a[16*gi +: 16];
        end
    endgenerate

    wire [15:0] gl_y;
    wire [4:0]  gl_st;
    wire        gl_rdy, gl_vld;
    fp_mul #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_gl (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(gl_rdy), .s_a(g0_q), .s_b(lam0_q),
        .m_valid(gl_vld), .m_ready(1'b1), .m_result(gl_y), .m_status(gl_st));

    always @(posedge clk) begin
        if (rst) begin
            v_q <= 6'd0;
        end else if (en) begin
            v_q <= {v_q[4:0], t_take};
        end
        if (en) begin
            bp_q    <= {bp_q[4:0], t_bp};
            last_q  <= {last_q[4:0], t_last};
            ch_q    <= {ch_q[5*CW-1:0], t_ch};
            keep_q  <= {keep_q[5*LANES-1:0], t_keep};
            {relu0_q, relu1_q, relu2_q, relu3_q, relu4_q} <= {t_relu, relu0_q, relu1_q, relu2_q, relu3_q};
            nc1_0_q <= neg(rd[31:16]);
            c2_0_q  <= rd[15:0];
            c2_1_q  <= c2_0_q;
            {g0_q, g1_q, g2_q} <= {t_gamma, g0_q, g1_q};
            {b0_q, b1_q, b2_q, b3_q} <= {t_beta, b0_q, b1_q, b2_q};
            lam0_q  <= t_lam;
            {gl1_q, gl2_q, gl3_q, gl4_q} <= {gl_y, gl1_q, gl2_q, gl3_q};
            a0_q    <= ta_m;
            xb0_q   <= t_b;
        end
    end

    // ---------------------------------------------------------------- a BN Core per lane
    wire [16*LANES-1:0] core_y, core_xh;
    wire [LANES-1:0]    core_mask, core_nf;
    generate
        for (gi = 0; gi < LANES; gi = gi + 1) begin : gen_core
            bn_core u_core (
                .clk(clk), .en(en), .i_a(a0_q[16*gi +: 16]), .i_b(xb0_q[16*gi +: 16]),
                .s0_nc1(nc1_0_q), .s1_bp(bp_q[1]), .s1_c2(c2_1_q), .s2_bp(bp_q[2]), .s2_gamma(g2_q),
                .s3_bp(bp_q[3]), .s3_beta(b3_q), .s4_bp(bp_q[4]), .s4_relu(relu4_q), .s4_gl(gl4_q),
                .o_y(core_y[16*gi +: 16]), .o_xhat(core_xh[16*gi +: 16]),
                .o_mask(core_mask[gi]), .o_nf(core_nf[gi]));
            // lanes left out give 0
            assign m_y[16*gi +: 16]    = keep_q[5*LANES+gi] ? core_y[16*gi +: 16] : 16'h0000;
            assign m_xhat[16*gi +: 16] = keep_q[5*LANES+gi] ? core_xh[16*gi +: 16] : 16'h0000;
            assign m_mask[gi]          = keep_q[5*LANES+gi] & core_mask[gi];
        end
    endgenerate

    assign m_valid = v_q[5];
    assign m_ch    = ch_q[5*CW +: CW];
    assign m_bp    = bp_q[5];
    assign m_keep  = keep_q[5*LANES +: LANES];
    assign m_last  = last_q[5];
    assign m_nf    = |(core_nf & keep_q[5*LANES +: LANES]);

    wire unused = &{1'b0, prdy_m, prdy_a, pvld_m, pvld_a, pst_m, pst_a, gl_st, gl_rdy, gl_vld,
                    sr_flags[0], relu0_q, 1'b0};

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    stream_check #(.W(CW + 1 + 48 + NW + 3), .NAME("r")) u_check_r (
        .clk(clk), .rst(rst), .valid(r_valid), .ready(r_ready),
        .data({r_ch, r_bp, r_a, r_b, r_c, r_count, r_flags}));
    stream_check #(.W(CW + 1 + 33 * LANES + LANES + 2), .NAME("m")) u_check_m (
        .clk(clk), .rst(rst), .valid(m_valid), .ready(m_ready),
        .data({m_ch, m_bp, m_y, m_xhat, m_mask, m_keep, m_last, m_nf}));
    localparam [31:0] CMAX32 = MAX_C;
    localparam [CW:0] CMAX   = CMAX32[CW:0];
    always @(posedge clk) begin
        if (!rst) begin
            assert (!$isunknown({st_ready, t_ready})) else $error("%m: st_ready or t_ready is X or Z after reset");
            assert (!st_valid || {1'b0, st_ch} < CMAX) else $error("%m: st_ch %0d >= MAX_C", st_ch);
            assert (!t_valid || {1'b0, t_ch} < CMAX) else $error("%m: t_ch %0d >= MAX_C", t_ch);
            assert (chq_n_q <= 4'd6) else $error("%m: %0d channels in the statistics", chq_n_q);
            assert (!sr_valid || chq_n_q != 4'd0) else $error("%m: a statistics result with no channel queued");
        end
    end
`endif
endmodule
`default_nettype wire
