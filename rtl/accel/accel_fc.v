`default_nettype none
// FC engine of the accelerator (docs/accel.md, ops 4 FC_FP and 5 FC_BP),
// bit-exact with host/accel.ModelDevice._execute:
//   FC_FP  (x FP16 N x C, w INT8 K x C -> logits INT32 N x K):
//          logits = qx . qw^T, scale word e = ex + ew (bits 7:0, rest 0);
//   FC_BP  (g FP16 N x K, w INT8 K x C, x FP16 N x C -> dfeat FP16 N x C, dW INT32 K x C):
//          dfeat = i32_to_f16(qg . qw, eg + ew) with the tracked scale word
//          (e in bits 7:0, max|dfeat| FP16 bits in 31:16, amax_track's rule),
//          dW = qg^T . qx, scale word e = eg + ex.
// qx, qg = f16_to_i8(x, e) with e the signed byte 7:0 of the tensor's scale
// word (the word right after the tensor), quantized on the read path; qw is
// the INT8 weight tensor as stored (its exponent ew from its scale word).
//
// Sequence of a command: the fit check (N <= MAX_N, C <= MAX_C,
// K <= MAX_K, else done with status 3 and nothing read or written); per input
// tensor (FC_FP: x, w; FC_BP: g, w, x) the word holding its exponent byte (a
// 1-word read), then the tensor's words, both through one accel_rd (credit
// based requests of up to 16 words, FIFO of 32 words: rd_ready never drops
// for a stall here), unpacked one element per clock, FP16 elements through
// f16_to_i8 (LANES 1) into the on-chip buffers (rows of LANES bytes: qx
// MAX_N x MAX_C, qw MAX_K x MAX_C, qg MAX_N x MAX_K); an inf or NaN in an
// FP16 input: done with status 4 after the loads, nothing written. Then the
// products on LANES INT8 MACs (a 3-stage pipeline: buffer read, products,
// accumulate): FC_FP as dot products of LANES features per clock (one logit
// per ceil(C/LANES) clocks, lanes past C masked); FC_BP's dfeat (n, LANES
// features; sum over k) and dW (k, LANES features; sum over n) with one g
// element broadcast to LANES weights / features per clock. Results leave one
// element per clock in memory order: INT32 words, or FP16 through i32_to_f16
// (LANES 1, k = eg + ew exact in 10 bits) paired into words (strobes 0011 for
// a lone last element), amax_track watching them. Each output's scale word is
// written after its data (an odd FP16 count puts it mid-word: strobes 1100,
// then 0011 in the next word). Every byte written lies in the command's
// output regions [base, base + span).
//
// Ports:
//   clk, rst           synchronous reset, active high: drops the command in
//                      progress (no done); reads in flight must be dropped by
//                      the responder reset with rst; the engine is idle the
//                      clock after and takes the next command afresh
//   cmd_valid/ready    a decoded command (accel_cmd's m port fields): ready
//                      while idle
//   cmd_op             4 FC_FP or 5 FC_BP (another op: done, status 1)
//   cmd_flags          unused (no FC flag)
//   cmd_base[32k+:32]  operand k's byte base (4-byte aligned), command order
//   cmd_dtype          unused (accel_cmd checked the dtypes)
//   cmd_shape[64k+:64] operand k's {N, C, H, W}, 16 bits each, W low
//   done, status       one-clock pulse when the command ended (after its last
//                      write was accepted); status 0 ok, 1 not an FC op,
//                      3 a shape too big for the buffers, 4 inf/NaN input
//   rd_req_*           SDRAM read requests: word address (byte / 4), 1..16 words
//   rd_valid/ready/data  the requested words in order
//   wr_valid/ready, wr_addr (word address), wr_data, wr_strb (byte k when bit k)
//
// Clocks per command (cmd accepted -> done, LANES 4, SDRAM of latency 2 at a
// word per clock, no write backpressure; tb/test_accel_fc.py logs them):
// about 3 x (latency + 8) for the exponent reads, + one clock per input
// element (N*C + K*C, FC_BP also N*K), + FC_FP N*K*ceil(C/LANES), FC_BP
// N*ceil(C/LANES)*K + K*ceil(C/LANES)*N (+ a clock per output group and the
// pipelines). Small net (N 4, C 16, K 10): FC_FP 429, FC_BP 702; ResNet-20
// (N 8, C 64, K 10): FC_FP 2477, FC_BP 3871. Throughput: one command at a time.
//
// Parameters must satisfy: LANES a power of two 2..16; MAX_C, MAX_K powers of
// two >= 2*LANES; MAX_N >= 1; MAX_N*MAX_C, MAX_N*MAX_K, MAX_K*MAX_C < 65536.
module accel_fc #(
    parameter AW      = 32,   // SDRAM byte-address bits: 8..32 (word addresses have AW-2)
    parameter MAX_OPS = 12,   // operand slots of the cmd port (accel_cmd's MAX_OPS): 5..15
    parameter LANES   = 4,    // INT8 MACs: a power of two 2..16
    parameter MAX_N   = 128,  // batch rows the buffers hold: 1..4096
    parameter MAX_C   = 64,   // features the buffers hold: a power of two >= 2*LANES
    parameter MAX_K   = 16    // classes the buffers hold: a power of two >= 2*LANES
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  cmd_valid,
    output wire                  cmd_ready,
    input  wire [3:0]            cmd_op,
    input  wire [7:0]            cmd_flags,
    input  wire [32*MAX_OPS-1:0] cmd_base,
    input  wire [3*MAX_OPS-1:0]  cmd_dtype,
    input  wire [64*MAX_OPS-1:0] cmd_shape,
    output wire                  done,
    output wire [2:0]            status,
    output wire                  rd_req_valid,
    input  wire                  rd_req_ready,
    output wire [AW-3:0]         rd_req_addr,
    output wire [4:0]            rd_req_len,
    input  wire                  rd_valid,
    output wire                  rd_ready,
    input  wire [31:0]           rd_data,
    output wire                  wr_valid,
    input  wire                  wr_ready,
    output wire [AW-3:0]         wr_addr,
    output wire [31:0]           wr_data,
    output wire [3:0]            wr_strb
);
    localparam LW = $clog2(LANES);
    localparam CB = $clog2(MAX_C);
    localparam KB = $clog2(MAX_K);
    localparam XR = MAX_N * MAX_C / LANES;      // buffer rows of LANES bytes
    localparam WR = MAX_K * MAX_C / LANES;
    localparam GR = MAX_N * MAX_K / LANES;
    localparam XA = $clog2(XR);
    localparam WA = $clog2(WR);
    localparam GA = $clog2(GR);
    localparam XS = CB - LW;                    // row shift: rows per n (x) or per k (w)
    localparam GS = KB - LW;                    // rows per n (g)
    localparam NLW = LW + 1;                    // 0..LANES

    initial begin
        if (AW < 8 || AW > 32) $fatal(1, "accel_fc: AW must be 8..32");
        if (MAX_OPS < 5 || MAX_OPS > 15) $fatal(1, "accel_fc: MAX_OPS must be 5..15");
        if (LANES < 2 || LANES > 16 || (1 << LW) != LANES) $fatal(1, "accel_fc: LANES must be a power of two 2..16");
        if ((1 << CB) != MAX_C || MAX_C < 2 * LANES) $fatal(1, "accel_fc: MAX_C must be a power of two >= 2*LANES");
        if ((1 << KB) != MAX_K || MAX_K < 2 * LANES) $fatal(1, "accel_fc: MAX_K must be a power of two >= 2*LANES");
        if (MAX_N < 1 || MAX_N > 4096) $fatal(1, "accel_fc: MAX_N must be 1..4096");
        if (MAX_N * MAX_C > 65535 || MAX_N * MAX_K > 65535 || MAX_K * MAX_C > 65535)
            $fatal(1, "accel_fc: a buffer of more than 65535 elements");
    end

    localparam [3:0] S_IDLE = 4'd0, S_SETUP = 4'd1, S_EREQ = 4'd2, S_EWAIT = 4'd3, S_DATA = 4'd4,
                     S_CHECK = 4'd5, S_RUN = 4'd6, S_SCALE = 4'd7, S_FIN = 4'd8, S_DREQ = 4'd9;
    localparam [1:0] J_FP = 2'd0, J_DF = 2'd1, J_DW = 2'd2;     // output jobs
    localparam [1:0] B_X = 2'd0, B_W = 2'd1, B_G = 2'd2;        // buffers
    localparam integer MAX_N_I = MAX_N, MAX_C_I = MAX_C, MAX_K_I = MAX_K, LANES_I = LANES,
                       LM1_I = LANES - 1;
    localparam [15:0] MN = MAX_N_I[15:0], MC = MAX_C_I[15:0], MK = MAX_K_I[15:0], ONE = 16'd1,
                      LN = LANES_I[15:0], LM1 = LM1_I[15:0];
    localparam [NLW-1:0] LNV = LANES_I[NLW-1:0];

    // ---------------------------------------------------------------- command
    reg [3:0]  state_q;
    reg        bp_q;                  // FC_BP
    reg [15:0] n_q, c_q, k_q;         // N, C, K
    reg [15:0] cg_q;                  // ceil(C / LANES)
    reg [15:0] nc_q, kc_q, nk_q;      // element counts
    reg [31:0] bx_q, bw_q, bg_q, bo0_q, bo1_q;
    reg [7:0]  ex_q, ew_q, eg_q;
    reg        nf_q;                  // an FP16 input held inf or NaN
    reg        done_q;
    reg [2:0]  status_q;

    assign cmd_ready = (state_q == S_IDLE);
    assign done      = done_q;
    assign status    = status_q;

    wire [15:0] sh_n0 = cmd_shape[48 +: 16];
    wire [15:0] sh_c0 = cmd_shape[32 +: 16];
    wire [15:0] sh_n1 = cmd_shape[64 + 48 +: 16];
    wire [15:0] sh_c2 = cmd_shape[128 + 32 +: 16];
    wire        is_bp = (cmd_op == 4'd5);

    // ---------------------------------------------------------------- loads
    // load step 0..: FC_FP x, w; FC_BP g, w, x
    reg [1:0]  ld_q;
    wire [1:0] ld_buf = bp_q ? ((ld_q == 2'd0) ? B_G : (ld_q == 2'd1) ? B_W : B_X)
                             : ((ld_q == 2'd0) ? B_X : B_W);
    wire       ld_lastt = bp_q ? (ld_q == 2'd2) : (ld_q == 2'd1);
    wire       ld_f16 = (ld_buf != B_W);
    wire [32:0] ld_base = {1'b0, (ld_buf == B_X) ? bx_q : (ld_buf == B_W) ? bw_q : bg_q};
    wire [15:0] ld_cnt  = (ld_buf == B_X) ? nc_q : (ld_buf == B_W) ? kc_q : nk_q;
    wire [15:0] ld_cols = (ld_buf == B_G) ? k_q : c_q;
    // the scale word's first byte (the exponent) and the data words
    wire [31:0] ld_bytes = ld_f16 ? {15'd0, ld_cnt, 1'b0} : {16'd0, ld_cnt};
    wire [32:0] ld_eaddr = ld_base + {1'b0, ld_bytes};
    wire [31:0] ld_words = (ld_bytes + 32'd3) >> 2;

    reg [1:0]    elane_q;             // byte of the exponent in its word
    reg [31:0]   uw_q;                // word being unpacked
    reg          uw_v_q;
    reg [1:0]    up_q;                // element of uw_q
    reg [15:0]   el_q;                // elements emitted
    reg [15:0]   row_q, col_q;        // buffer position of the next element

    // the tensor reader (accel_rd): the exponent's word, then the tensor's words
    wire          rs_busy, rs_v, rs_last;
    wire [31:0]   rs_d;
    wire          rs_ready;
    wire          rs_start = (state_q == S_EREQ || state_q == S_DREQ) && !rs_busy;
    wire [AW-1:0] rs_base  = (state_q == S_EREQ) ? {ld_eaddr[AW-1:2], 2'b00} : ld_base[AW-1:0];
    wire [AW-3:0] rs_words = (state_q == S_EREQ) ? {{(AW-3){1'b0}}, 1'b1} : ld_words[AW-3:0];
    accel_rd #(.AW(AW), .FIFO_WORDS(32), .MAX_LEN(16)) u_rd (
        .clk(clk), .rst(rst), .start(rs_start), .base(rs_base), .nwords(rs_words), .busy(rs_busy),
        .req_valid(rd_req_valid), .req_ready(rd_req_ready), .req_addr(rd_req_addr), .req_len(rd_req_len),
        .rd_valid(rd_valid), .rd_ready(rd_ready), .rd_data(rd_data),
        .m_valid(rs_v), .m_ready(rs_ready), .m_data(rs_d), .m_last(rs_last));

    wire        emit     = (state_q == S_DATA) && uw_v_q;
    wire        el_final = (el_q == ld_cnt - ONE);
    wire        w_end    = ld_f16 ? up_q[0] : (up_q == 2'd3);
    wire        uw_drop  = emit && (w_end || el_final);
    assign rs_ready = (state_q == S_EWAIT) || (state_q == S_DATA && (!uw_v_q || uw_drop));
    wire   rd_fire  = rs_v && rs_ready;
    wire [15:0] el16 = up_q[0] ? uw_q[31:16] : uw_q[15:0];
    wire [7:0]  el8  = uw_q[8*up_q +: 8];
    wire [7:0]  e_byte = rs_d[8*elane_q +: 8];
    // buffer byte address of the element: row * MAX_C (MAX_K for g) + col
    wire [31:0] el_ba = ((ld_buf == B_G) ? ({16'd0, row_q} << KB) : ({16'd0, row_q} << CB)) + {16'd0, col_q};

    // the 2-clock path of f16_to_i8, with the buffer address beside it
    reg        d1_v_q, d2_v_q, d1_f_q, d2_f_q;
    reg [1:0]  d1_b_q, d2_b_q;
    reg [31:0] d1_a_q, d2_a_q;
    reg [7:0]  d1_r_q, d2_r_q;
    wire [7:0] q8;
    wire       q_nf;
    wire       q_valid, q_sready;
    f16_to_i8 #(.LANES(1), .E_W(8)) u_quant (
        .clk(clk), .rst(rst), .s_valid(emit && ld_f16), .s_ready(q_sready), .s_x(el16),
        .s_e((ld_buf == B_G) ? eg_q : ex_q), .m_valid(q_valid), .m_ready(1'b1), .m_q(q8), .m_nf(q_nf));
    wire [7:0] st_byte = d2_f_q ? q8 : d2_r_q;
    wire [LW-1:0] st_lane = d2_a_q[LW-1:0];

    // ---------------------------------------------------------------- buffers
    reg [8*LANES-1:0] xmem [0:XR-1];
    reg [8*LANES-1:0] wmem [0:WR-1];
    reg [8*LANES-1:0] gmem [0:GR-1];
    wire [31:0] st_row = d2_a_q >> LW;
    always @(posedge clk) begin
        if (d2_v_q && d2_b_q == B_X) xmem[st_row[XA-1:0]][8*st_lane +: 8] <= st_byte;
        if (d2_v_q && d2_b_q == B_W) wmem[st_row[WA-1:0]][8*st_lane +: 8] <= st_byte;
        if (d2_v_q && d2_b_q == B_G) gmem[st_row[GA-1:0]][8*st_lane +: 8] <= st_byte;
    end

    // ---------------------------------------------------------------- products
    // loops i (outer), j, r (inner, the sum): FC_FP (n, k, c group), dfeat
    // (n, c group, k), dW (k, c group, n)
    reg [1:0]  job_q;
    reg        gen_q;                 // beats left to issue
    reg [15:0] i_q, j_q, r_q, il_q, jl_q, rl_q;
    wire       en;                    // the product pipeline advances
    wire       g_last = (r_q == rl_q - ONE);
    wire [15:0] cgrp  = (job_q == J_FP) ? r_q : j_q;
    wire [15:0] crem  = c_q - (cgrp << LW);
    wire [NLW-1:0] nv = (crem >= LN) ? LNV : crem[NLW-1:0];
    wire [31:0] x_ra_w = (job_q == J_FP) ? (({16'd0, i_q} << XS) + {16'd0, r_q})
                                         : (({16'd0, r_q} << XS) + {16'd0, j_q});
    wire [31:0] w_ra_w = (job_q == J_FP) ? (({16'd0, j_q} << XS) + {16'd0, r_q})
                                         : (({16'd0, r_q} << XS) + {16'd0, j_q});
    wire [31:0] g_ra_w = (job_q == J_DF) ? (({16'd0, i_q} << GS) + ({16'd0, r_q} >> LW))
                                         : (({16'd0, r_q} << GS) + ({16'd0, i_q} >> LW));
    wire [LW-1:0] g_lane = (job_q == J_DF) ? r_q[LW-1:0] : i_q[LW-1:0];

    // stage 1: the buffer rows
    reg               v1_q, f1_q, l1_q;
    reg [NLW-1:0]     nv1_q;
    reg [LW-1:0]      gl1_q;
    reg [8*LANES-1:0] xr_q, wr_q, gr_q;
    always @(posedge clk) begin
        if (rst) v1_q <= 1'b0;
        else if (en) v1_q <= gen_q && state_q == S_RUN;
    end
    always @(posedge clk) begin
        if (en) begin
            xr_q  <= xmem[x_ra_w[XA-1:0]];
            wr_q  <= wmem[w_ra_w[WA-1:0]];
            gr_q  <= gmem[g_ra_w[GA-1:0]];
            f1_q  <= (r_q == 16'd0);
            l1_q  <= g_last;
            nv1_q <= nv;
            gl1_q <= g_lane;
        end
    end

    // stage 2: LANES products (FC_FP: their sum in lane 0, lanes >= C masked)
    wire [7:0]  g_sc = gr_q[8*gl1_q +: 8];
    wire [32*LANES-1:0] prod;
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : gen_mac
            wire [7:0]  a = (job_q == J_FP) ? xr_q[8*l +: 8] : g_sc;
            wire [7:0]  b = (job_q == J_DW) ? xr_q[8*l +: 8] : wr_q[8*l +: 8];
            localparam [NLW-1:0] LI = l;
            wire signed [15:0] p = $signed({{8{a[7]}}, a}) * $signed({{8{b[7]}}, b});
            wire        live = (LI < nv1_q);
            assign prod[32*l +: 32] = (live || job_q != J_FP) ? {{16{p[15]}}, p} : 32'd0;
        end
    endgenerate
    // the dot sum, a chain the synthesis tool balances
    reg [31:0] dot;
    integer    t;
    always @* begin
        dot = 32'd0;
        for (t = 0; t < LANES; t = t + 1) dot = dot + prod[32*t +: 32];
    end
    reg               v2_q, f2_q, l2_q;
    reg [NLW-1:0]     nl2_q;
    reg [32*LANES-1:0] p2_q;
    always @(posedge clk) begin
        if (rst) v2_q <= 1'b0;
        else if (en) v2_q <= v1_q;
    end
    always @(posedge clk) begin
        if (en && v1_q) begin
            p2_q  <= (job_q == J_FP) ? {prod[32*LANES-1:32], dot} : prod;
            f2_q  <= f1_q;
            l2_q  <= l1_q;
            nl2_q <= (job_q == J_FP) ? {{(NLW-1){1'b0}}, 1'b1} : nv1_q;
        end
    end

    // stage 3: the accumulators; a finished sum waits in them for the serializer
    reg [32*LANES-1:0] acc_q;
    reg                res_q;
    reg [NLW-1:0]      res_nl_q;
    reg [32*LANES-1:0] ser_q;         // results leaving one lane per clock
    reg [NLW-1:0]      ser_n_q;       // lanes left
    reg [LW-1:0]       ser_p_q;       // lane to go
    wire               ser_take = (ser_n_q == {NLW{1'b0}});
    assign en = !res_q || ser_take;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : gen_acc
            always @(posedge clk) begin
                if (en && v2_q) acc_q[32*l +: 32] <= f2_q ? p2_q[32*l +: 32] : acc_q[32*l +: 32] + p2_q[32*l +: 32];
            end
        end
    endgenerate
    always @(posedge clk) begin
        if (rst) res_q <= 1'b0;
        else if (en) res_q <= v2_q && l2_q;
        if (en && v2_q && l2_q) res_nl_q <= nl2_q;
    end

    // ---------------------------------------------------------------- outputs
    reg [15:0] oi_q;                  // output elements handed on
    wire [15:0] o_cnt  = (job_q == J_FP) ? nk_q : (job_q == J_DF) ? nc_q : kc_q;
    wire [31:0] o_base = (job_q == J_DW) ? bo1_q : bo0_q;
    wire [31:0] o_val  = ser_q[32*ser_p_q +: 32];
    wire        o_v    = !ser_take;
    reg         wr_v_q;
    reg [AW-3:0] wr_a_q;
    reg [31:0]  wr_d_q;
    reg [3:0]   wr_s_q;
    wire        wr_free = !wr_v_q || wr_ready;
    // INT32 results go straight to the write port, dfeat through i32_to_f16
    wire        o_f16  = (job_q == J_DF);
    wire        cv_sready;
    wire        o_take = o_v && (o_f16 ? cv_sready : wr_free);
    wire [9:0]  k_df   = {{2{eg_q[7]}}, eg_q} + {{2{ew_q[7]}}, ew_q};
    wire        cv_v, cv_ovf, cv_sticky;
    wire [15:0] cv_f;
    reg  [15:0] pk_q;                 // FP16 results packed
    reg  [15:0] lo_q;                 // an even element waiting for its odd partner
    wire        pk_last = (pk_q == nc_q - ONE);
    wire        cv_take = cv_v && wr_free;
    wire        pk_wr   = cv_take && (pk_q[0] || pk_last);
    i32_to_f16 #(.LANES(1), .K_W(10)) u_cvt (
        .clk(clk), .rst(rst), .s_valid(o_v && o_f16), .s_ready(cv_sready),
        .s_acc(o_val), .s_k(k_df), .m_valid(cv_v), .m_ready(wr_free), .m_f16(cv_f), .m_ovf(cv_ovf),
        .ovf_sticky(cv_sticky), .ovf_clear(1'b0));
    wire        tr_sready, tr_v, tr_nf;
    wire [7:0]  tr_e;
    wire [15:0] tr_max;
    amax_track #(.LANES(1), .E_W(8)) u_track (
        .clk(clk), .rst(rst), .s_valid(cv_take), .s_ready(tr_sready), .s_x(cv_f), .s_last(pk_last),
        .m_valid(tr_v), .m_ready(1'b1), .m_e(tr_e), .m_max(tr_max), .m_nf(tr_nf));
    reg         tr_done_q;
    reg [7:0]   tr_e_q;
    reg [15:0]  tr_max_q;

    // scale words
    reg         sc_q;                 // second half of a mid-word scale word
    wire [7:0]  e_out = (job_q == J_FP) ? ex_q + ew_q : eg_q + ex_q;
    wire [31:0] o_wbase = o_base >> 2;
    wire [32:0] o_iaddr = {1'b0, o_wbase} + {17'd0, oi_q};
    wire [32:0] o_paddr = {1'b0, o_wbase} + {18'd0, pk_q[15:1]};
    wire [15:0] sc_off = (job_q == J_DF) ? (nc_q >> 1) : o_cnt;
    wire        sc_mid = (job_q == J_DF) && nc_q[0];
    wire [32:0] sc_addr = {1'b0, o_wbase} + {17'd0, sc_off} + {32'd0, sc_q};
    wire [31:0] sc_data = (job_q != J_DF) ? {24'd0, e_out}
                        : !sc_mid ? {tr_max_q, 8'd0, tr_e_q}
                        : !sc_q ? {8'd0, tr_e_q, 16'd0} : {16'd0, tr_max_q};
    wire [3:0]  sc_strb = !sc_mid ? 4'b1111 : !sc_q ? 4'b1100 : 4'b0011;
    wire        out_all = (job_q == J_DF) ? (pk_q == nc_q && tr_done_q) : (oi_q == o_cnt);
    wire        run_end = state_q == S_RUN && !gen_q && !v1_q && !v2_q && !res_q && ser_take && out_all;

    assign wr_valid = wr_v_q;
    assign wr_addr  = wr_a_q;
    assign wr_data  = wr_d_q;
    assign wr_strb  = wr_s_q;

    // ---------------------------------------------------------------- control
    always @(posedge clk) begin
        done_q <= 1'b0;
        if (rst) begin
            state_q   <= S_IDLE;
            status_q  <= 3'd0;
            gen_q     <= 1'b0;
            uw_v_q    <= 1'b0;
            d1_v_q    <= 1'b0;
            d2_v_q    <= 1'b0;
            ser_n_q   <= {NLW{1'b0}};
            wr_v_q    <= 1'b0;
            tr_done_q <= 1'b0;
        end else begin
            // the element path into the buffers
            d1_v_q <= emit;
            d2_v_q <= d1_v_q;
            if (wr_free) wr_v_q <= 1'b0;
            case (state_q)
                S_IDLE: if (cmd_valid) begin
                    bp_q  <= is_bp;
                    n_q   <= sh_n0;
                    c_q   <= is_bp ? sh_c2 : sh_c0;
                    k_q   <= is_bp ? sh_c0 : sh_n1;
                    bx_q  <= is_bp ? cmd_base[64 +: 32] : cmd_base[0 +: 32];
                    bw_q  <= cmd_base[32 +: 32];
                    bg_q  <= cmd_base[0 +: 32];
                    bo0_q <= is_bp ? cmd_base[96 +: 32] : cmd_base[64 +: 32];
                    bo1_q <= cmd_base[128 +: 32];
                    nf_q  <= 1'b0;
                    ld_q  <= 2'd0;
                    if (cmd_op == 4'd4 || cmd_op == 4'd5) state_q <= S_SETUP;
                    else begin
                        status_q <= 3'd1;
                        done_q   <= 1'b1;
                    end
                end
                S_SETUP: begin
                    nc_q  <= n_q * c_q;
                    kc_q  <= k_q * c_q;
                    nk_q  <= n_q * k_q;
                    cg_q  <= (c_q + LM1) >> LW;
                    if (n_q > MN || c_q > MC || k_q > MK) begin
                        status_q <= 3'd3;
                        done_q   <= 1'b1;
                        state_q  <= S_IDLE;
                    end else state_q <= S_EREQ;
                end
                S_EREQ: if (rs_start) begin
                    elane_q   <= ld_eaddr[1:0];
                    el_q      <= 16'd0;
                    up_q      <= 2'd0;
                    row_q     <= 16'd0;
                    col_q     <= 16'd0;
                    state_q   <= S_EWAIT;
                end
                S_EWAIT: if (rd_fire) begin
                    if (ld_buf == B_X) ex_q <= e_byte;
                    if (ld_buf == B_W) ew_q <= e_byte;
                    if (ld_buf == B_G) eg_q <= e_byte;
                    state_q <= S_DREQ;
                end
                S_DREQ: if (rs_start) state_q <= S_DATA;
                S_DATA: begin
                    if (emit) begin
                        el_q <= el_q + ONE;
                        up_q <= uw_drop ? 2'd0 : up_q + 2'd1;
                        if (col_q == ld_cols - ONE) begin
                            col_q <= 16'd0;
                            row_q <= row_q + ONE;
                        end else col_q <= col_q + ONE;
                    end
                    if (rd_fire) begin
                        uw_q   <= rs_d;
                        uw_v_q <= 1'b1;
                    end
                    else if (uw_drop) uw_v_q <= 1'b0;
                    if (el_q == ld_cnt && !d1_v_q && !d2_v_q) begin
                        ld_q    <= ld_q + 2'd1;
                        state_q <= ld_lastt ? S_CHECK : S_EREQ;
                    end
                end
                S_CHECK: begin
                    if (nf_q) begin
                        status_q <= 3'd4;
                        done_q   <= 1'b1;
                        state_q  <= S_IDLE;
                    end else begin
                        job_q   <= bp_q ? J_DF : J_FP;
                        i_q     <= 16'd0;
                        j_q     <= 16'd0;
                        r_q     <= 16'd0;
                        il_q    <= n_q;
                        jl_q    <= bp_q ? cg_q : k_q;
                        rl_q    <= bp_q ? k_q : cg_q;
                        gen_q   <= 1'b1;
                        oi_q    <= 16'd0;
                        pk_q    <= 16'd0;
                        sc_q    <= 1'b0;
                        tr_done_q <= 1'b0;
                        state_q <= S_RUN;
                    end
                end
                S_RUN: begin
                    if (gen_q && en) begin
                        if (g_last) begin
                            r_q <= 16'd0;
                            if (j_q == jl_q - ONE) begin
                                j_q <= 16'd0;
                                if (i_q == il_q - ONE) gen_q <= 1'b0;
                                else i_q <= i_q + ONE;
                            end else j_q <= j_q + ONE;
                        end else r_q <= r_q + ONE;
                    end
                    if (run_end) state_q <= S_SCALE;
                end
                S_SCALE: if (wr_free) begin
                    wr_v_q <= 1'b1;
                    wr_a_q <= sc_addr[AW-3:0];
                    wr_d_q <= sc_data;
                    wr_s_q <= sc_strb;
                    if (sc_mid && !sc_q) sc_q <= 1'b1;
                    else if (job_q == J_DF) begin
                        // dW next
                        job_q     <= J_DW;
                        i_q       <= 16'd0;
                        j_q       <= 16'd0;
                        r_q       <= 16'd0;
                        il_q      <= k_q;
                        jl_q      <= cg_q;
                        rl_q      <= n_q;
                        gen_q     <= 1'b1;
                        oi_q      <= 16'd0;
                        sc_q      <= 1'b0;
                        tr_done_q <= 1'b0;
                        state_q   <= S_RUN;
                    end else state_q <= S_FIN;
                end
                S_FIN: if (wr_free) begin
                    status_q <= 3'd0;
                    done_q   <= 1'b1;
                    state_q  <= S_IDLE;
                end
                default: state_q <= S_IDLE;
            endcase
            // inf/NaN seen by the quantizer
            if (q_valid && d2_f_q && q_nf) nf_q <= 1'b1;
            // the serializer
            if (res_q && ser_take) begin
                ser_q   <= acc_q;
                ser_n_q <= res_nl_q;
                ser_p_q <= {LW{1'b0}};
            end else if (o_take) begin
                ser_n_q <= ser_n_q - {{(NLW-1){1'b0}}, 1'b1};
                ser_p_q <= ser_p_q + {{(LW-1){1'b0}}, 1'b1};
            end
            if (o_take) oi_q <= oi_q + ONE;
            // writes of INT32 results and packed FP16 pairs
            if (o_take && !o_f16) begin
                wr_v_q <= 1'b1;
                wr_a_q <= o_iaddr[AW-3:0];
                wr_d_q <= o_val;
                wr_s_q <= 4'b1111;
            end
            if (cv_take) begin
                pk_q <= pk_q + ONE;
                if (!pk_q[0]) lo_q <= cv_f;
            end
            if (pk_wr) begin
                wr_v_q <= 1'b1;
                wr_a_q <= o_paddr[AW-3:0];
                wr_d_q <= pk_q[0] ? {cv_f, lo_q} : {16'd0, cv_f};
                wr_s_q <= pk_q[0] ? 4'b1111 : 4'b0011;
            end
            if (tr_v) begin
                tr_done_q <= 1'b1;
                tr_e_q    <= tr_e;
                tr_max_q  <= tr_max;
            end
        end
    end
    always @(posedge clk) begin
        d1_f_q <= ld_f16;
        d2_f_q <= d1_f_q;
        d1_b_q <= ld_buf;
        d2_b_q <= d1_b_q;
        d1_a_q <= el_ba;
        d2_a_q <= d1_a_q;
        d1_r_q <= el8;
        d2_r_q <= d1_r_q;
    end

    wire unused_ok = &{1'b0, cmd_flags, cmd_dtype, q_sready, tr_sready, tr_nf, cv_ovf, cv_sticky,
                       x_ra_w[31:XA], w_ra_w[31:WA], g_ra_w[31:GA], st_row[31:XA], crem[15:NLW],
                       ld_eaddr[32:AW], ld_eaddr[1:0], ld_words[31:AW-2], ld_base[32:AW], ld_base[1:0], cmd_base, cmd_shape,
                       o_iaddr[32:AW-2], o_paddr[32:AW-2], sc_addr[32:AW-2],
                       rs_last, o_base[1:0], 1'b0};

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    stream_check #(.W(AW - 2 + 5), .NAME("rd_req")) u_check_req (
        .clk(clk), .rst(rst), .valid(rd_req_valid), .ready(rd_req_ready), .data({rd_req_addr, rd_req_len}));
    stream_check #(.W(AW - 2 + 36), .NAME("wr")) u_check_wr (
        .clk(clk), .rst(rst), .valid(wr_valid), .ready(wr_ready), .data({wr_addr, wr_data, wr_strb}));
    always @(posedge clk) begin
        if (!rst) begin
            assert (!(q_valid ^ (d2_v_q && d2_f_q))) else $error("%m: quantizer out of step with its address");
        end
    end
`endif
endmodule
`default_nettype wire
