`default_nettype none
// Tiling controller of the PE array: a loader takes a layer descriptor and
// loads the input and weight buffers; a runner reads a loaded layer into the
// array one beat per clock. A layer that fits half of both buffers loads into
// the half the running layer does not read (ping-pong), so it loads while the
// previous one computes; a larger layer waits for the runner to finish and
// holds the loader until it has run. The runner reads in
// the order of models/pe_array.py (_conv3_os, _bp3_s2_eo): for each block of
// ROWS output rows, for each block of COLS output positions (n, yo, xo), for
// each column channel cx and kernel row ky, one CONV beat (3 MACs = kx).
//   FP 3x3 s1/s2: rows = output channels M, columns read x (N, C, H, W).
//   BP 3x3 s1:    rows = input channels C, columns read dout (N, M, H, W),
//                 kernels rotated 180 degrees by the weight buffer (pe_wbuf).
//   BP 3x3 s2:    _bp3_s2_eo: EO beats, rows = input channels, columns =
//                 output pairs (n, y of one parity, x = 2u, 2u+1), loop
//                 (m, ky in the taps of that parity); no zero-inserted error.
//   FP/BP 1x1 (any stride) and FC (= 1x1 on 1x1 images): BC beats (input
//                 broadcast, output-stationary, _matmul mode BC with the
//                 weights on the rows): rows = 3 row channels P each (FP: M,
//                 BP: C), columns = positions of the column tensor (n, y, x),
//                 one beat per reduction channel r (FP: C, BP: M), a0 = the
//                 input at (n, r, y*s, x*s); stride-2 BP writes only the
//                 strided din positions (the others are zero).
//   WG 1x1, FC:   BC beats, _matmul(dout, x) with dout on the rows (3
//                 output channels M each; dout arrives on the weight stream),
//                 columns = c, one beat per position r = (n, yo, xo), a0 =
//                 x[n, c, yo*s, xo*s].
//   WG 3x3:       _wg3_ctrl; the weight stream carries pe_array.wg3_words.
//                 Stride 1, CONV beats: rows = output channels m (dout, 3
//                 consecutive output positions p of one image per word),
//                 columns = taps (c, ky, kx) reading x, lane k byte p_k +
//                 c*H*W + ky*W + kx: a byte triple, also across a row end;
//                 padding masked per column, lane and position.
//                 Stride 2, one output position per beat, whichever takes
//                 fewer tiles (wg3_transposed, x on the rows on a tie):
//                 BC, rows = kernel rows (c, ky) (words = the strided x
//                 patch bytes kx = 0..2), columns = output channels m reading
//                 dout (the activation stream carries dout); or WB, rows =
//                 output channels m (dout), columns = kernel rows (c, ky)
//                 reading x, lanes = kx, padding masked. Only the strided
//                 positions are read (input division): MACs issued = nominal.
// A position walker fills the next tile's column descriptors (address, pad
// masks), WALK columns per clock, while the current tile computes. The same
// walk gives each column's placement part (pl_col: its share of the flat
// output element index); with the row block's part it leaves on pl_* when
// the tile's last beat issues, for pe_top's m_pos_* (docs/pe_array_results.md).
// Descriptor (s_desc_data): [1:0] phase (0 FP, 1 BP, 2 WG), [3:2] K,
// [5:4] stride, [7:6] padding, [8] requantize, [13:9] shift, [31:16] N,
// [47:32] C, [63:48] M, [79:64] H, [95:80] W.
// pe_desc checks a descriptor and derives its counts over several clocks
// (67 to 130 on 16 x 32; the loader takes its result, so the next layer's
// check runs while this one loads). A rejected descriptor loads nothing,
// sets err and err_code and returns to idle: 1 illegal shape (a zero size, K not 1/3, stride not 1/2, padding not
// K/2, odd H or W at stride 2, phase 3), 3 above buffer capacity. err_code 2:
// a stream's s_last did not match the descriptor's size (pe_ibuf, pe_wbuf);
// that layer still runs (on the data taken up to its count or its s_last)
// and ends normally.
module pe_ctrl #(
    parameter ROWS   = 16,    // PE rows
    parameter COLS   = 32,    // PE columns
    parameter IDEPTH = 1024,  // input buffer words per byte-RAM (3*IDEPTH bytes)
    parameter WDEPTH = 1024,  // weight buffer words per bank
    parameter WALK   = 4,     // columns the walker fills per clock; divides COLS
    parameter IAW    = (IDEPTH > 1) ? $clog2(IDEPTH) : 1,   // input word address bits
    parameter WAW    = (WDEPTH > 5) ? $clog2(WDEPTH / 3) : 1,   // weight kernel slot address bits
    parameter RW     = (ROWS > 1) ? $clog2(ROWS) : 1        // row index bits
) (
    input  wire                 clk,
    input  wire                 rst,
    // descriptor
    input  wire                 s_desc_valid,
    output wire                 s_desc_ready,
    input  wire [95:0]          s_desc_data,
    // input buffer
    output wire                 ib_ld_start,
    output wire [31:0]          ib_ld_count,
    output wire [IAW+1:0]       ib_ld_a,     // first byte address
    input  wire                 ib_ld_busy,
    input  wire                 ib_ld_err,
    output wire                 ib_rd_en,
    output wire [COLS*(IAW+2)-1:0] ib_rd_a,  // column c: byte address of kx = 0
    output wire [COLS*3-1:0]    ib_rd_mask,
    // weight buffer
    output wire                 wb_ld_start,
    output wire [15:0]          wb_ld_m,
    output wire [15:0]          wb_ld_c,
    output wire [WAW-1:0]       wb_ld_base,   // first kernel slot
    input  wire                 wb_ld_busy,
    input  wire                 wb_ld_err,
    output wire                 wb_rd_en,
    output wire                 wb_rd_bp,
    output wire [1:0]           wb_rd_perm,
    output wire [WAW-1:0]       wb_rd_addr,
    output wire [1:0]           wb_rd_ky,
    output wire [RW-1:0]        wb_rd_rot,
    output wire [ROWS-1:0]      wb_rd_rowmask,
    // array beat control (operands come from the buffers)
    output wire                 a_valid,
    input  wire                 a_ready,
    output wire [1:0]           a_mode,
    output wire                 a_first,
    output wire                 a_last,
    output wire                 a_rq,
    output wire [4:0]           a_shift,
    // result placement of a tile, given when its last beat issues (pe_top keeps it
    // with the tile's result beats; docs/pe_array_results.md): output element
    // (PE row r, column c, lane j) = pl_rb + r*pl_rs + j*pl_ls + column c's
    // pl_col, when pl_cv[c], j < 3 with pl_nl[j] and 3r + j < pl_lrem
    output wire                 pl_valid,
    output wire [COLS*32-1:0]   pl_col,
    output wire [COLS-1:0]      pl_cv,
    output wire [31:0]          pl_rb,
    output wire [31:0]          pl_rs,
    output wire [31:0]          pl_ls,
    output wire [17:0]          pl_lrem,
    output wire [2:0]           pl_nl,
    // status
    output wire                 busy,
    output wire                 err,       // sticky until reset
    output wire [1:0]           err_code   // the latest error: rejected descriptor (1, 3) or misplaced s_last (2)
);
    localparam QW = IAW + 2;              // walker address bits (byte addresses < 4 * 2^IAW), with headroom
    localparam KW = (COLS > 1) ? $clog2(COLS) : 1;
    localparam integer  WALK_I = WALK;
    localparam integer  RMAX_I = ROWS - 1;
    localparam [KW-1:0] WALK_K = WALK_I[KW-1:0];
    localparam [RW-1:0] RMAX = RMAX_I[RW-1:0];
    localparam integer   ROWS_I = ROWS;
    localparam [WAW-1:0] ROWS_S = ROWS_I[WAW-1:0];
    // loader and runner states
    localparam [1:0] L_IDLE = 2'd0, L_LOAD = 2'd2, L_FIT = 2'd3;   // (1: unused)
    localparam [1:0] R_IDLE = 2'd0, R_SETUP = 2'd1, R_PREP = 2'd2, R_RUN = 2'd3;
    // buffer halves: input HB = 3 * (IDEPTH / 2) bytes, weights HS kernel slots
    localparam integer   HQ_I = IDEPTH / 2;
    localparam integer   HB_I = 3 * HQ_I;
    localparam integer   HS_I = WDEPTH / 6;
    localparam [IAW+1:0] HB = HB_I[IAW+1:0];
    localparam [WAW-1:0] HS = HS_I[WAW-1:0];

    initial begin
        if (ROWS < 1 || COLS < 1) $fatal(1, "pe_ctrl: ROWS and COLS must be >= 1");
        if (WALK < 1 || COLS % WALK != 0) $fatal(1, "pe_ctrl: WALK must divide COLS");
        if (IDEPTH < 2 || WDEPTH < 6) $fatal(1, "pe_ctrl: IDEPTH >= 2 and WDEPTH >= 6");
        if ((1 << RW) < ROWS || (1 << IAW) < IDEPTH || (1 << WAW) < WDEPTH / 3)
            $fatal(1, "pe_ctrl: RW, IAW or WAW too small");
    end

    // byte addresses into a bank (x and its padding), QW + 2 bits (< 3 * 2^QW)
    function [QW+1:0] bx;
        input [QW-1:0] v;
        bx = {2'b00, v};
    endfunction

    reg [1:0] l_state_q, r_state_q;
    reg       err_q;
    // the loaded layer waiting for the runner, and the running layer's buffer half
    reg        pend_v_q, pend_half_q, pend_full_q, l_half_q, l_full_q, run_half_q, run_full_q;
    wire       r_setup = r_state_q == R_SETUP;
    wire       r_run   = r_state_q == R_RUN;
    reg [1:0] err_code_q;

    // ---- descriptor check (pe_desc: counts, capacity, half fit over several
    // clocks); the loader takes its result, the runner gets it with the layer
    wire          chk_valid, chk_wgt, chk_fit;
    wire [1:0]    chk_code, chk_kyl;
    wire [95:0]   chk_desc;
    wire [31:0]   chk_count;
    wire [15:0]   chk_ld_m, chk_ld_c, chk_g, chk_c3;
    wire [QW-1:0] chk_base, chk_hw, chk_chw;
    wire          take = l_state_q == L_IDLE && chk_valid;
    pe_desc #(.ROWS(ROWS), .COLS(COLS), .IDEPTH(IDEPTH), .WDEPTH(WDEPTH), .QW(QW)) u_desc (
        .clk(clk), .rst(rst), .s_valid(s_desc_valid), .s_ready(s_desc_ready), .s_data(s_desc_data),
        .m_valid(chk_valid), .m_ready(take), .m_desc(chk_desc), .m_code(chk_code), .m_fit(chk_fit),
        .m_count(chk_count), .m_ld_m(chk_ld_m), .m_ld_c(chk_ld_c), .m_base(chk_base), .m_wgt(chk_wgt),
        .m_g(chk_g), .m_c3(chk_c3), .m_kyl(chk_kyl), .m_hw(chk_hw), .m_chw(chk_chw));

    // the loader's layer {desc, wgt, g, c3, kyl, hw, chw}, then the pending one
    localparam DV = 96 + 1 + 16 + 16 + 2 + 2 * QW;
    reg  [DV-1:0] ld_dv_q, pend_dv_q;
    reg  [1:0]    chk_code_q;
    reg           chk_fit_q;
    reg  [31:0]   chk_count_q;
    reg  [15:0]   chk_m_q, chk_c_q;
    reg  [IAW+1:0] chk_base_q;

    // ---- the pending layer's fields (registered as layer constants in R_SETUP)
    wire [95:0]   dsel   = pend_dv_q[DV-1 -: 96];
    wire          d_wgt  = pend_dv_q[2*QW + 34];
    wire [15:0]   g_d    = pend_dv_q[2*QW + 18 +: 16];
    wire [15:0]   c3_d   = pend_dv_q[2*QW + 2 +: 16];
    wire [1:0]    kyl_d  = pend_dv_q[2*QW +: 2];
    wire [QW-1:0] hw     = pend_dv_q[QW +: QW];
    wire [QW-1:0] chw    = pend_dv_q[0 +: QW];
    wire [1:0]    d_k, sw_d;
    wire [15:0]   d_n, d_c, d_m, d_h, d_w, d_cx, d_rows, ho_d, wo_d, hx_d, wx_d;
    wire          d_bp, d_wg, d_w3, d_wgc, d_wgw, d_bc, d_eo, d_cs, d_bad;
    pe_desc_dec u_dec (
        .desc(dsel), .wgt(d_wgt), .k(d_k), .n(d_n), .c(d_c), .m(d_m), .h(d_h), .w(d_w), .bp(d_bp),
        .wg(d_wg), .w3(d_w3), .wgc(d_wgc), .wgw(d_wgw), .bc(d_bc), .eo(d_eo), .cs(d_cs), .cx(d_cx),
        .rows(d_rows), .ho(ho_d), .wo(wo_d), .hx(hx_d), .wx(wx_d), .sw(sw_d), .shape_bad(d_bad));
    wire [16:0] s2w      = sw_d == 2'd2 ? {wx_d, 1'b0} : {1'b0, wx_d};
    wire [16:0] s2w1     = {wx_d, 1'b1};
    wire run_busy = r_state_q != R_IDLE;
    wire can_load = !pend_v_q && (chk_fit_q ? !(run_busy && run_full_q) : !run_busy);
    wire ld_half  = chk_fit_q && run_busy && !run_half_q;

    wire start     = l_state_q == L_FIT && chk_code_q == 2'd0 && can_load;

    // layer constants, registered when the runner sets up (from pend_q)
    reg          bp_q, eo_q, rq_q, s2_q, bc_q, wg_q, k1_q, wgc_q, wgw_q, wgt_q;
    reg [15:0]   ph_q, pw_q, pho_q, pwo_q;              // WG: x map and position grid
    reg [QW+1:0] pk_s_q, pk_sw_q, pk_chw_q;             // WG: position steps in x
    reg          ps2_q;
    reg  [1:0]   kyl_q;
    reg [4:0]    shift_q;
    reg [15:0]   n_n_q, cx_n_q, rows_n_q, hx_q, wx_q, ho_n_q, wo_n_q;
    reg [QW+1:0] k_w_q, k_2w_q, k_w1_q, k_2w1_q, k_hw_q, k_chw_q, k_s_q, k_sw_q;
    reg [WAW-1:0] c1_q;                                  // kernel slots per row block
    // result placement (flat output element indices, 32 bits): the column walk's
    // steps per x, y and image (q_xs, q_ys, q_ns), a row item's and a lane's step,
    // EO's odd-row offset W, the row-lane limit and the lanes a tile fills
    reg [31:0]   q_xs_q, q_ys_q, q_ns_q, q_rs_q, q_ls_q, q_pw_q, q_rblk_q;
    reg [17:0]   q_l0_q;
    reg [2:0]    q_nl_q;

    assign ib_ld_start = start;
    assign ib_ld_count = chk_count_q;
    assign ib_ld_a = chk_base_q + (ld_half ? HB : {(IAW+2){1'b0}});
    // sizes above capacity are rejected before these truncations matter
    wire unused = &{1'b0, dsel[15:14], d_bad, d_w3, d_cs, s2w[16:QW], s2w1[16:QW], 1'b0};
    assign wb_ld_start = start;
    assign wb_ld_m = chk_m_q;
    assign wb_ld_c = chk_c_q;
    assign wb_ld_base = ld_half ? HS : {WAW{1'b0}};

    // ---- placement constants. The output image's size (FP: M*Ho*Wo, BP: C*H*W) is
    // the only product; its two halves are registered from the pending layer
    // (stable from the clock it is loaded until R_SETUP ends, at least 2 clocks)
    wire        d_s2  = dsel[5:4] == 2'd2;
    wire        d_1x1 = d_k == 2'd1;
    wire [31:0] hw32  = {{(32-QW){1'b0}}, hw};
    // one output map: FP Ho*Wo (column tensor x: H*W, /4 at stride 2), BP H*W (dout: Ho*Wo, *4)
    wire [31:0] rs1   = d_bp ? (d_s2 ? {hw32[29:0], 2'b00} : hw32) : (d_s2 ? {2'b00, hw32[31:2]} : hw32);
    wire [15:0] mfa   = d_bp ? d_c : d_m;
    wire [31:0] c32   = {16'd0, d_c};
    wire [31:0] c9    = {c32[28:0], 3'b000} + c32;
    wire [31:0] c3x   = {c32[30:0], 1'b0} + c32;
    wire [31:0] w32   = {16'd0, d_w};
    reg  [31:0] mlo_q;
    reg  [23:0] mhi_q;
    always @(posedge clk) begin
        mlo_q <= rs1 * {24'd0, mfa[7:0]};
        mhi_q <= rs1[23:0] * {16'd0, mfa[15:8]};
    end
    wire [31:0] img_out = mlo_q + {mhi_q, 8'd0};
    localparam integer ROWS3_I = 3 * ROWS;
    localparam [17:0]  ROWS3   = ROWS3_I[17:0];
    localparam [31:0]  ROWS32  = ROWS_I;
    always @(posedge clk) begin
        if (r_setup) begin
            q_ns_q <= d_wg ? (d_1x1 ? 32'd1 : 32'd9) : img_out;
            q_ys_q <= d_wg ? 32'd3 : d_bp ? (d_s2 ? {w32[30:0], 1'b0} : w32) : {16'd0, wo_d};
            q_xs_q <= d_wgt ? c9 : (d_bp && d_s2) ? 32'd2 : 32'd1;
            q_rs_q <= d_wgt ? 32'd3 : d_w3 ? c9 : d_wg ? c3x : d_1x1 ? {rs1[30:0], 1'b0} + rs1 : rs1;
            q_ls_q <= d_w3 ? 32'd1 : d_wg ? c32 : d_1x1 ? rs1 : 32'd1;
            q_pw_q <= w32;
            q_nl_q <= d_eo ? 3'b011 : (d_wgc || !d_bc) ? 3'b001 : 3'b111;
            q_l0_q <= d_1x1 ? {2'b00, d_rows} : {1'b0, (d_bc ? g_d : d_rows), 1'b0} + {2'b00, (d_bc ? g_d : d_rows)};
        end
        if (r_state_q == R_PREP) q_rblk_q <= q_rs_q * ROWS32;
    end

    always @(posedge clk) begin
        if (take) begin
            ld_dv_q     <= {chk_desc, chk_wgt, chk_g, chk_c3, chk_kyl, chk_hw, chk_chw};
            chk_code_q  <= chk_code;
            chk_fit_q   <= chk_fit;
            chk_count_q <= chk_count;
            chk_m_q     <= chk_ld_m;
            chk_c_q     <= chk_ld_c;
            chk_base_q  <= chk_base[IAW+1:0];
        end
        if (r_setup) begin
            bp_q     <= d_bp;
            eo_q     <= d_eo;
            bc_q     <= d_bc;
            wg_q     <= d_wg;
            k1_q     <= d_k == 2'd1;
            wgc_q    <= d_wgc;
            wgw_q    <= d_wgw;
            wgt_q    <= d_wgt;
            ph_q     <= d_h;
            pw_q     <= d_w;
            pho_q    <= ho_d;
            pwo_q    <= wo_d;
            pk_s_q   <= bx({{(QW-2){1'b0}}, sw_d});
            ps2_q    <= sw_d == 2'd2;
            pk_sw_q  <= bx(s2w[QW-1:0]);
            pk_chw_q <= bx(chw[QW-1:0]);
            kyl_q    <= kyl_d[1:0];
            rq_q     <= dsel[8];
            shift_q  <= dsel[13:9];
            s2_q     <= sw_d == 2'd2 && !d_wg;
            n_n_q    <= d_wgt ? 16'd1 : d_wg ? d_c : d_n;
            cx_n_q   <= d_bc ? c3_d[15:0] : d_cx;
            rows_n_q <= d_bc ? g_d[15:0] : d_rows;
            hx_q     <= d_wg ? 16'd3 : hx_d;
            wx_q     <= d_wgw ? 16'd1 : d_wg ? 16'd3 : wx_d;
            ho_n_q   <= d_wgt ? 16'd1 : d_wg ? {14'd0, d_k} : ho_d;
            wo_n_q   <= d_wgt ? d_m : d_wgw ? 16'd1 : d_wg ? {14'd0, d_k} : wo_d;
            k_w_q    <= bx(wx_d[QW-1:0]);
            k_2w_q   <= bx({wx_d[QW-2:0], 1'b0});
            k_w1_q   <= bx(wx_d[QW-1:0] + 1'b1);
            k_2w1_q  <= bx(s2w1[QW-1:0]);
            k_hw_q   <= bx(hw[QW-1:0]);
            k_chw_q  <= d_wg ? bx(hw[QW-1:0]) : bx(chw[QW-1:0]);
            k_s_q    <= d_wgt ? bx(hw[QW-1:0]) : d_wg ? bx({{(QW-1){1'b0}}, 1'b1}) : bx({{(QW-2){1'b0}}, sw_d});
            k_sw_q   <= d_wg ? bx(wx_d[QW-1:0]) : bx(s2w[QW-1:0]);
            c1_q     <= d_bc ? c3_d[WAW-1:0] : d_c[WAW-1:0];
        end
    end

    // ---- position walker: fills the next tile's column descriptors, WALK per clock
    // state {end, n, y, x, y*s, x*s, base, row base, image base}
    localparam WS = 1 + 5 * 16 + 3 * (QW + 2);
    localparam integer  KLAST_I = COLS - WALK;
    localparam [KW-1:0] KLAST = KLAST_I[KW-1:0];
    reg  [WS-1:0] w_q;
    reg  [KW-1:0] w_k_q;
    reg           nx_full_q, nx_lastq_q;
    reg  [COLS*(QW+2)-1:0] nx_base_q, cu_base_q;
    reg  [COLS*6-1:0]      nx_msk_q, cu_msk_q;      // {colmask, rowmask} per column
    reg  [COLS-1:0]        nx_v_q, cu_v_q;
    reg                    cu_lastq_q, tile_q;

    wire take_next;
    wire w_emit = r_run && !nx_full_q;
    wire w_tend = w_k_q == KLAST;
    wire [15:0] s16 = s2_q ? 16'd2 : 16'd1;
    wire [WS-1:0] w_d;                             // the walker state after WALK steps
    wire [WALK*(QW+9)-1:0] w_ent;                  // {valid, mask, base} per step
    // placement: the column part of each position {col, row start, image start}, walked alongside
    // (one variable per step: the steps do not form one vector that feeds itself)
    reg  [95:0]          wp_q;
    wire [95:0]          wp_d;
    wire [WALK*32-1:0]   p_ent;
    reg  [COLS*32-1:0]   nx_pos_q, cu_pos_q;

    genvar i;
    generate
        for (i = 0; i < WALK; i = i + 1) begin : gen_walk
            // one variable per step (not one vector that feeds itself: no circular logic in Verilator)
            wire [WS-1:0] st;
            if (i == 0) begin : gen_s0
                assign st = w_q;
            end else begin : gen_si
                assign st = gen_walk[i-1].nxt;
            end
            wire          e  = st[WS-1];
            wire [15:0]   n  = st[WS-2 -: 16], y = st[WS-18 -: 16], x = st[WS-34 -: 16];
            wire [15:0]   ys = st[WS-50 -: 16], xs = st[WS-66 -: 16];
            wire [QW+1:0] base = st[3*(QW+2)-1 -: QW+2], row = st[2*(QW+2)-1 -: QW+2];
            wire [QW+1:0] nb = st[QW+1:0];
            wire xwrap = x == wo_n_q - 16'd1;
            wire ywrap = y == ho_n_q - 16'd1;
            wire nwrap = n == n_n_q - 16'd1;
            wire [QW+1:0] row_y = row + k_sw_q;
            wire [QW+1:0] nb_n  = nb + k_chw_q;
            reg  [WS-1:0] nxt;
            always @(*) begin
                if (e)           nxt = st;
                else if (!xwrap) nxt = {1'b0, n, y, x + 16'd1, ys, xs + s16, (base + k_s_q), row, nb};
                else if (!ywrap) nxt = {1'b0, n, y + 16'd1, 16'd0, ys + s16, 16'd0, row_y, row_y, nb};
                else if (!nwrap) nxt = {1'b0, n + 16'd1, 64'd0, nb_n, nb_n, nb_n};
                else             nxt = {1'b1, st[WS-2:0]};
            end
            wire [95:0]   ps;
            if (i == 0) begin : gen_p0
                assign ps = wp_q;
            end else begin : gen_pi
                assign ps = gen_walk[i-1].pnx;
            end
            wire [31:0]   pc = ps[95:64], pr = ps[63:32], pn = ps[31:0];
            wire [31:0]   pr_y = pr + q_ys_q, pn_n = pn + q_ns_q;
            reg  [95:0]   pnx;
            always @(*) begin
                if (e)           pnx = ps;
                else if (!xwrap) pnx = {pc + q_xs_q, pr, pn};
                else if (!ywrap) pnx = {pr_y, pr_y, pn};
                else if (!nwrap) pnx = {pn_n, pn_n, pn_n};
                else             pnx = ps;
            end
            assign p_ent[i*32 +: 32] = pc;
            assign w_ent[i*(QW+9) +: QW+9] = {!e, xs + 16'd1 < wx_q, 1'b1, xs != 16'd0,
                                              ys + 16'd1 < hx_q, 1'b1, ys != 16'd0, base};
        end
    endgenerate
    assign w_d = gen_walk[WALK-1].nxt;
    wire w_end_d = w_d[WS-1];
    assign wp_d = gen_walk[WALK-1].pnx;

    integer j;
    wire [31:0] w_k32 = {{(32-KW){1'b0}}, w_k_q};
    always @(posedge clk) begin
        if (rst || !r_run) begin
            w_q        <= {WS{1'b0}};
            wp_q       <= 96'd0;
            w_k_q      <= {KW{1'b0}};
            nx_full_q  <= 1'b0;
            nx_lastq_q <= 1'b0;
        end else begin
            if (w_emit) begin
                for (j = 0; j < WALK; j = j + 1) begin
                    nx_base_q[(w_k32 + j)*(QW+2) +: QW+2] <= w_ent[j*(QW+9) +: QW+2];
                    nx_msk_q[(w_k32 + j)*6 +: 6]          <= w_ent[j*(QW+9)+QW+2 +: 6];
                    nx_v_q[w_k32 + j]                     <= w_ent[j*(QW+9)+QW+8];
                    nx_pos_q[(w_k32 + j)*32 +: 32]        <= p_ent[j*32 +: 32];
                end
                w_k_q <= w_tend ? {KW{1'b0}} : w_k_q + WALK_K;
                if (w_tend) begin
                    nx_full_q  <= 1'b1;
                    nx_lastq_q <= w_end_d;
                end
                // positions start again after the tile that ran out of them
                w_q <= (w_tend && w_end_d) ? {WS{1'b0}} : w_d;
                wp_q <= (w_tend && w_end_d) ? 96'd0 : wp_d;
            end
            if (take_next) nx_full_q <= 1'b0;
        end
    end

    // ---- beat generator
    reg  [15:0]    cx_q, r0_q;
    reg  [RW-1:0]  cxmod_q;
    reg  [1:0]     ky_q;
    reg  [QW+1:0]  offc_q;
    reg            par_q;                          // EO: odd input rows
    reg  [1:0]     p_mode_q;
    reg  [WAW-1:0] cxs_q, cxd_q, r0s_q, rbc_q;      // kernel slots
    reg            p_valid_q, p_first_q, p_last_q, p_rq_q;
    reg  [4:0]     p_shift_q;
    // WG: output position (yo, xo) of the beat, its input row/column, the row and image byte offsets
    reg  [15:0]    py_q, px_q, pys_q, pxs_q;
    reg  [QW+1:0]  prow_q, pimg_q;
    wire [15:0]    ps16 = ps2_q ? 16'd2 : 16'd1;
    wire [QW+1:0]  prow_n = prow_q + pk_sw_q;
    wire [QW+1:0]  pimg_n = pimg_q + pk_chw_q;
    wire p_top = pys_q == 16'd0, p_bot = pys_q + 16'd1 >= ph_q;
    wire p_lft = pxs_q == 16'd0, p_rgt = pxs_q + 16'd1 >= pw_q;

    // WG stride 1: the next position {valid, y, x} in the image (invalid past its end)
    function [32:0] pstep;
        input        v;
        input [15:0] y, x, h, w;
        begin
            if (!v)                  pstep = {1'b0, y, x};
            else if (x != w - 16'd1) pstep = {1'b1, y, x + 16'd1};
            else if (y != h - 16'd1) pstep = {1'b1, y + 16'd1, 16'd0};
            else                     pstep = {1'b0, y, x};
        end
    endfunction
    // lane k of the beat, lanes[33k +: 33] = {valid, y, x}; lane 3 = the next beat's lane 0
    wire [4*33-1:0] lanes;
    assign lanes[32:0] = {1'b1, py_q, px_q};
    genvar l;
    generate
        for (l = 1; l < 4; l = l + 1) begin : gen_lane
            // each lane from the previous lane's variable, not from `lanes` (no circular logic)
            wire [32:0] pl;
            if (l == 1) begin : gen_l1
                assign pl = {1'b1, py_q, px_q};
            end else begin : gen_ln
                assign pl = gen_lane[l-1].nl;
            end
            wire [32:0] nl = pstep(pl[32], pl[31:16], pl[15:0], ph_q, pw_q);
            assign lanes[l*33 +: 33] = nl;
        end
    endgenerate
    // per lane: valid and on the top, bottom, left, right edge
    wire [2:0] l_v, l_top, l_bot, l_lft, l_rgt;
    generate
        for (l = 0; l < 3; l = l + 1) begin : gen_lane_edge
            wire [32:0] pl = lanes[l*33 +: 33];
            assign l_v[l]   = pl[32];
            assign l_top[l] = pl[31:16] == 16'd0;
            assign l_bot[l] = pl[31:16] == ph_q - 16'd1;
            assign l_lft[l] = pl[15:0] == 16'd0;
            assign l_rgt[l] = pl[15:0] == pw_q - 16'd1;
        end
    endgenerate
    wire [32:0] l_next = lanes[3*33 +: 33];
    wire [QW+1:0] offc3 = offc_q + {{QW{1'b0}}, 2'd3};

    wire issue     = r_run && tile_q && (!p_valid_q || a_ready);
    // kernel rows of a beat group: 0, 1, 2; EO even rows: 1; EO odd rows: 0, 2
    wire [1:0] ky_first = (eo_q && !par_q) ? 2'd1 : 2'd0;
    wire       cx_end   = cx_q == cx_n_q - 16'd1;
    wire [1:0] ky_lastv = (eo_q && !par_q) ? 2'd1 : (bc_q && cx_end) ? kyl_q : 2'd2;
    wire [1:0] ky_step  = eo_q ? 2'd2 : 2'd1;
    wire t_last    = ky_q == ky_lastv && cx_end;
    wire last_rb   = {1'b0, r0_q} + ROWS >= {1'b0, rows_n_q};
    wire par_d     = (eo_q && cu_lastq_q) ? !par_q : par_q;    // after this tile
    wire layer_end = issue && t_last && cu_lastq_q && last_rb && (!eo_q || par_q);
    // column offset of the beat: channel + kernel row (EO: dout row t or t+1, from x = u)
    // BC: byte (y*s + 1, x*s + 1) of the padded map, channel 3*cx + ky
    wire [QW+1:0] koff = (wg_q && !k1_q && !wgt_q) ? {(QW+2){1'b0}} : bc_q ? k_w1_q : eo_q ? (ky_q == 2'd0 ? k_2w1_q : k_w1_q) :
                         ky_q == 2'd0 ? {(QW+2){1'b0}} : ky_q == 2'd1 ? k_w_q : k_2w_q;
    wire [QW+1:0] off_q = offc_q + koff;
    assign take_next = r_run && nx_full_q && !layer_end && (!tile_q || (issue && t_last));

    always @(posedge clk) begin
        if (rst || !r_run) begin
            {cx_q, r0_q, cxmod_q, offc_q, cxs_q, cxd_q, r0s_q, rbc_q} <= 0;
            {py_q, px_q, pys_q, pxs_q, prow_q, pimg_q} <= 0;
            ky_q   <= eo_q ? 2'd1 : 2'd0;
            par_q  <= 1'b0;
            tile_q <= 1'b0;
        end else begin
            if (issue) begin
                if (ky_q != ky_lastv) begin
                    ky_q  <= ky_q + ky_step;
                    if (bc_q) offc_q <= offc_q + k_hw_q;
                end else if (!t_last) begin
                    ky_q    <= ky_first;
                    cx_q    <= cx_q + 16'd1;
                    cxmod_q <= (cxmod_q == RMAX) ? {RW{1'b0}} : cxmod_q + 1'b1;
                    cxs_q   <= cxs_q + 1'b1;
                    if (cxmod_q == RMAX) cxd_q <= cxd_q + c1_q;
                    offc_q  <= offc_q + k_hw_q;
                end else begin
                    {cx_q, cxmod_q, cxs_q, cxd_q, offc_q} <= 0;
                    ky_q  <= (eo_q && !par_d) ? 2'd1 : 2'd0;
                    par_q <= par_d;
                    if (cu_lastq_q && (!eo_q || par_q)) begin
                        r0_q   <= r0_q + ROWS;
                        r0s_q  <= r0s_q + ROWS_S;
                        rbc_q  <= rbc_q + c1_q;
                    end
                    tile_q <= 1'b0;
                end
            end
            if (issue && wg_q) begin
                if (t_last) begin
                    {py_q, px_q, pys_q, pxs_q, prow_q, pimg_q} <= 0;
                end else if (wgc_q) begin
                    // 3 positions per beat; an image's last beat ends it
                    if (l_next[32]) begin
                        py_q   <= l_next[31:16];
                        px_q   <= l_next[15:0];
                        offc_q <= offc3;
                    end else begin
                        {py_q, px_q} <= 0;
                        offc_q <= pimg_n;
                        pimg_q <= pimg_n;
                    end
                end else if (px_q != pwo_q - 16'd1) begin
                    px_q   <= px_q + 16'd1;
                    pxs_q  <= pxs_q + ps16;
                    offc_q <= offc_q + pk_s_q;
                end else if (py_q != pho_q - 16'd1) begin
                    {px_q, pxs_q} <= 0;
                    py_q   <= py_q + 16'd1;
                    pys_q  <= pys_q + ps16;
                    offc_q <= prow_n;
                    prow_q <= prow_n;
                end else begin
                    {px_q, pxs_q, py_q, pys_q} <= 0;
                    offc_q <= pimg_n;
                    prow_q <= pimg_n;
                    pimg_q <= pimg_n;
                end
            end
            if (take_next) tile_q <= 1'b1;
        end
    end
    // ---- placement of the tile whose last beat issues: its row block's base
    // (r0 * row step, EO's odd rows + W) and the lanes left below the rows' end
    reg  [31:0] rb_q;
    reg  [17:0] lrem_q;
    wire        r_adv = issue && t_last && cu_lastq_q && (!eo_q || par_q);
    always @(posedge clk) begin
        if (rst || !r_run) begin
            rb_q   <= 32'd0;
            lrem_q <= q_l0_q;
        end else if (r_adv) begin
            rb_q   <= rb_q + q_rblk_q;
            lrem_q <= lrem_q - ROWS3;
        end
    end
    assign pl_valid = issue && t_last;
    assign pl_col   = cu_pos_q;
    assign pl_cv    = cu_v_q;
    assign pl_rb    = rb_q + ((eo_q && par_q) ? q_pw_q : 32'd0);
    assign pl_rs    = q_rs_q;
    assign pl_ls    = q_ls_q;
    assign pl_lrem  = lrem_q;
    assign pl_nl    = q_nl_q;

    // the running half's byte offset goes into the column bases here, off the read-address path
    wire [QW+1:0] half_b = run_half_q ? {{(QW-IAW){1'b0}}, HB} : {(QW+2){1'b0}};
    integer jc;
    always @(posedge clk) begin
        if (take_next) begin
            for (jc = 0; jc < COLS; jc = jc + 1)
                cu_base_q[jc*(QW+2) +: QW+2] <= nx_base_q[jc*(QW+2) +: QW+2] + half_b;
            cu_msk_q   <= nx_msk_q;
            cu_pos_q   <= nx_pos_q;
            cu_v_q     <= nx_v_q;
            cu_lastq_q <= nx_lastq_q;
        end
    end

    // buffer read addresses of this beat
    genvar k, r;
    generate
        for (k = 0; k < COLS; k = k + 1) begin : gen_col
            wire [QW+1:0] a   = cu_base_q[k*(QW+2) +: QW+2] + off_q;
            wire [5:0]    msk = cu_msk_q[k*6 +: 6];
            // EO reads dout x = u, u+1 (a0, a1) of row t (ky 1, 2) or t+1 (ky 0)
            wire          row_ok = cu_v_q[k] && (eo_q ? (ky_q != 2'd0 || msk[2]) : msk[{1'b0, ky_q}]);
            wire [2:0]    col_ok = eo_q ? {1'b0, msk[5], 1'b1} : msk[5:3];
            assign ib_rd_a[k*(IAW+2) +: IAW+2] = a[IAW+1:0];
            // WG 3x3: kernel tap (ky, kx) of this column off the map at this position
            wire          wg_pad = !k1_q && ((!msk[0] && p_top) || (!msk[2] && p_bot) ||
                                             (!msk[3] && p_lft) || (!msk[5] && p_rgt));
            wire          bc_ok  = cu_v_q[k] && !(wg_q && wg_pad);
            // WG 3x3 stride 1: lane j = position j of the beat, this column's tap
            wire [2:0]    c_pad  = ({3{!msk[0]}} & l_top) | ({3{!msk[2]}} & l_bot) |
                                   ({3{!msk[3]}} & l_lft) | ({3{!msk[5]}} & l_rgt);
            wire [2:0]    wgc_ok = {3{cu_v_q[k]}} & l_v & ~c_pad;
            // WG 3x3 stride 2: the column is kernel row ky, lane j = kx
            wire          w_row  = cu_v_q[k] && !((!msk[0] && p_top) || (!msk[2] && p_bot));
            wire [2:0]    wgw_ok = {3{w_row}} & {!p_rgt, 1'b1, !p_lft};
            assign ib_rd_mask[k*3 +: 3]  = wgc_q ? wgc_ok : wgw_q ? wgw_ok : wgt_q ? {2'b00, cu_v_q[k]} :
                                           bc_q ? {2'b00, bc_ok} :
                                           row_ok ? col_ok : 3'b000;
            wire unused_hi = &{1'b0, a[QW+1:IAW+2], 1'b0};   // headroom, bounded by the capacity check
        end
        for (r = 0; r < ROWS; r = r + 1) begin : gen_rowmask
            assign wb_rd_rowmask[r] = {1'b0, r0_q} + r < {1'b0, rows_n_q};
        end
    endgenerate
    assign ib_rd_en   = issue;
    assign wb_rd_en   = issue;
    wire   bpk        = bp_q && !bc_q;           // BP reads rotated kernels; BC words come transposed
    assign wb_rd_bp   = bpk;
    assign wb_rd_perm = eo_q ? 2'd2 : bpk ? 2'd1 : 2'd0;
    assign wb_rd_addr = ((eo_q || bpk) ? cxd_q + r0s_q : rbc_q + cxs_q) + (run_half_q ? HS : {WAW{1'b0}});
    assign wb_rd_ky   = (bpk && !eo_q) ? 2'd2 - ky_q : ky_q;
    assign wb_rd_rot  = cxmod_q;

    // ---- beat register: the buffers' read data is the beat's operands
    always @(posedge clk) begin
        if (rst) begin
            p_valid_q <= 1'b0;
        end else if (issue) begin
            p_valid_q <= 1'b1;
        end else if (a_ready) begin
            p_valid_q <= 1'b0;
        end
    end
    always @(posedge clk) begin
        if (issue) begin
            p_first_q <= ky_q == ky_first && cx_q == 16'd0;
            p_mode_q  <= wgc_q ? 2'd0 : wgw_q ? 2'd2 : bc_q ? 2'd3 : eo_q ? 2'd1 : 2'd0;
            p_last_q  <= t_last;
            p_rq_q    <= rq_q;
            p_shift_q <= shift_q;
        end
    end
    assign a_valid = p_valid_q;
    assign a_first = p_first_q;
    assign a_mode  = p_mode_q;
    assign a_last  = p_last_q;
    assign a_rq    = p_rq_q;
    assign a_shift = p_shift_q;

    // ---- layer state: the loader checks and loads, the runner computes the
    // pending layer; results leave in descriptor order
    always @(posedge clk) begin
        if (rst) begin
            l_state_q  <= L_IDLE;
            r_state_q  <= R_IDLE;
            pend_v_q   <= 1'b0;
            err_q      <= 1'b0;
            err_code_q <= 2'd0;
        end else begin
            case (l_state_q)
                L_IDLE:  if (take) l_state_q <= L_FIT;
                L_FIT:   begin
                    if (chk_code_q != 2'd0) begin
                        l_state_q  <= L_IDLE;
                        err_q      <= 1'b1;
                        err_code_q <= chk_code_q;
                    end else if (can_load) begin
                        l_state_q  <= L_LOAD;
                    end
                end
                L_LOAD:  if (!ib_ld_busy && !wb_ld_busy) begin
                    l_state_q <= L_IDLE;
                    pend_v_q  <= 1'b1;
                end
                default: l_state_q <= L_IDLE;
            endcase
            case (r_state_q)
                R_IDLE:  if (pend_v_q) r_state_q <= R_SETUP;
                R_SETUP: begin
                    r_state_q <= R_PREP;
                    pend_v_q  <= 1'b0;
                end
                R_PREP:  r_state_q <= R_RUN;
                R_RUN:   if (layer_end) r_state_q <= R_IDLE;
                default: r_state_q <= R_IDLE;
            endcase
            // s_last misplaced: the layer still runs on what was loaded
            if (ib_ld_err || wb_ld_err) begin
                err_q      <= 1'b1;
                err_code_q <= 2'd2;
            end
        end
    end
    always @(posedge clk) begin
        if (start) begin
            l_half_q <= ld_half;
            l_full_q <= !chk_fit_q;
        end
        if (l_state_q == L_LOAD) begin
            pend_dv_q   <= ld_dv_q;
            pend_half_q <= l_half_q;
            pend_full_q <= l_full_q;
        end
        if (r_setup) begin
            run_half_q <= pend_half_q;
            run_full_q <= pend_full_q;
        end
    end
    assign busy     = !s_desc_ready || l_state_q != L_IDLE || pend_v_q || run_busy || p_valid_q;
    assign err      = err_q;
    assign err_code = err_code_q;
endmodule
`default_nettype wire
