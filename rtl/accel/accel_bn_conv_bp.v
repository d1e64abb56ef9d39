`default_nettype none
// BN_CONV_BP engine of the accelerator (docs/accel.md, op 8), bit-exact with
// host/accel.ModelDevice._execute:
//   operands (command order): 0 dy FP16 (N, M, Ho, Wo), 1 xhat FP16 (same),
//   2 mask (1 bit per element), 3 gamma FP16 (1, M), 4 stats FP16 3M (lambda
//   at [2M, 3M)), 5 w INT8 (M, C, 3, 3) + scale word (e_w), 6 x FP16 (N, C,
//   H, W) + scale word (e_x); outputs 7 BN dx FP16 (N, M, Ho, Wo) + scale
//   word (e_g in bits 7:0, the rest 0), 8 dW INT32 (M, C, 3, 3) + exponent
//   word (e_g + e_x), 9 dgamma, 10 dbeta FP16 (1, M) (no scale word), 11 conv
//   dX FP16 (N, C, H, W) + tracked scale word (amax_track's rule); slot 11 is
//   absent with flag 8.
//   dx, dgamma, dbeta = models/accel.batch_norm_bp(dy, xhat, mask, gamma,
//   lambda, relu); e_g = amax_exponent(dx) (status 4 if any dx is inf/NaN);
//   q = f16_to_i8(dx, e_g); dW = conv_wg(f16_to_i8(x, e_x), q);
//   dX = i32_to_f16(conv_bp(q, w), e_g + e_w).
//   Flags: 1 ReLU (mask dy), 2 stride 2, 8 no conv dX.
//
// Dataflow (one phase after the other; one SDRAM read port, one write port):
//  1. scale words of x and w (one 1-word read each); gamma and lambda into two
//     small buffers; a scan of x for inf/NaN (status 4 at once, nothing
//     written: ModelDevice's quantisation of x would raise it after BN).
//  2. BN, round 0 (dry): per channel m, pass 1 (bn_rows st_, st_bp = 1) then
//     pass 2 (t_, t_bp = 1), each over the channel's N segments of Ho*Wo
//     elements. A segment is read in chunks of 32 elements: one request for
//     the chunk's mask word, one for its 16 dy words (held in a 16-word
//     buffer), one for its 16 xhat words, each of which goes into bn_rows as
//     it arrives, with its dy word and mask bits (33 SDRAM words per 16
//     beats; the requests run ahead of the data). dx is only watched by
//     amax_track: e_g and the finite flag over the whole dx. A non-finite dx
//     (or x) -> status 4, nothing written.
//     Chosen: recompute rather than buffer (no dx-sized memory on chip):
//     round 1 runs both passes again (bn_rows needs a pass 1 before each
//     pass 2) and writes dx to its region, dgamma and dbeta (captured from
//     bn_rows' r_ beats), then BN dx's scale word {0, e_g}.
//  3. conv dX (without flag 8): pe_top BP 3x3 (phase 1); s_act = BN dx read
//     back from SDRAM through f16_to_i8 (e_g), s_wgt = w's kernel rows; each
//     result element placed by pe_top's side band (m_pos_*: flat NCHW index
//     = m_pos_row[3i+j] + m_pos_col[c]), one per clock through i32_to_f16
//     (k = e_g + e_w), written as one FP16 half word, or two elements a clock
//     as one word where the partner lane holds the next (even-aligned)
//     element (stride 1: the next column; stride 2: the PE's lane j + 1);
//     amax_track watches them -> dX's scale word {max, 0, e}.
//  4. dW: pe_top WG 3x3 (phase 2); s_act = x through f16_to_i8 (e_x); s_wgt =
//     the WG 3x3 words of docs/pe_array_results.md section 4 built from BN dx
//     read back through f16_to_i8 (e_g): stride 1 one word per 3 positions of
//     an image (zero past its end), stride 2 (dout on the rows, WB) one word
//     {0, 0, q} per position, each output channel's words padded to a
//     multiple of 3 words (one 3-word beat). INT32 results placed by the side
//     band, one word per clock; then dW's exponent word.
//
// Limits (status 3, checked before anything is read or written): M > MAX_M;
// Ho*Wo not a multiple of 32 (a chunk is one mask word); N*Ho*Wo >=
// 2^NW; with dX an odd N*C*H*W; a BP or WG layer pe_top's buffers do not hold
// (IDEPTH, WDEPTH: models/pe_array.ctrl_check's rule, no splitting yet); WG 3x3
// stride 2 with x on the rows (BC: pe_top picks it when it takes fewer tiles,
// e.g. every stride-2 layer of ResNet-20): its weight stream (strided x
// patches) is not built yet.
//
// Ports: the engine convention of docs/accel.md ("Inside the controller"):
//   clk, rst           synchronous reset, active high: drops the command in
//                      progress (no done), resets pe_top and bn_rows
//   cmd_valid/ready    a decoded command; cmd_op 8 (another op: done, status 1),
//                      cmd_flags, cmd_base[32k+:32], cmd_shape[64k+:64] =
//                      {N, C, H, W} (W low) of operand k; cmd_dtype unused
//   done, status       one-clock pulse after the last write was accepted: 0 ok,
//                      1 not BN_CONV_BP, 3 does not fit, 4 inf/NaN in dx or x
//   rd_req_*, rd_*     SDRAM reads (word address, 1..16 words; words in order)
//   wr_*               SDRAM writes (word address, data, byte strobes)
module accel_bn_conv_bp #(
    parameter AW      = 32,     // SDRAM byte-address bits: 8..32
    parameter MAX_OPS = 12,     // operand slots of the cmd port: 12..15
    parameter ROWS    = 16,     // pe_top PE rows
    parameter COLS    = 32,     // pe_top PE columns
    parameter OUT_ROWS = 2,     // pe_top PE rows per result beat; divides ROWS
    parameter IDEPTH  = 4096,   // pe_top input buffer: 3*IDEPTH bytes
    parameter WDEPTH  = 1024,   // pe_top weight buffer kernel rows per bank
    parameter MAX_M   = 64,     // output channels: power of two >= 2
    parameter NW      = 24      // bn_rows element count width: N*Ho*Wo < 2^NW
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
    localparam CW  = $clog2(MAX_M);
    localparam GW  = (MAX_M / 2 > 1) ? $clog2(MAX_M / 2) : 1;
    localparam NL  = OUT_ROWS * COLS * 3;       // result lanes
    localparam NLW = (NL > 1) ? $clog2(NL) : 1;
    localparam ACC_W = 32;

    initial begin
        if (AW < 8 || AW > 32) $fatal(1, "accel_bn_conv_bp: AW must be 8..32");
        if (MAX_OPS < 12 || MAX_OPS > 15) $fatal(1, "accel_bn_conv_bp: MAX_OPS must be 12..15");
        if (MAX_M < 2 || (1 << CW) != MAX_M) $fatal(1, "accel_bn_conv_bp: MAX_M must be a power of two >= 2");
        if (ROWS % OUT_ROWS != 0) $fatal(1, "accel_bn_conv_bp: OUT_ROWS must divide ROWS");
    end

    localparam [5:0] S_IDLE = 6'd0, S_SET1 = 6'd1, S_SET2 = 6'd2, S_SET3 = 6'd3, S_SET4 = 6'd4,
                     S_EX = 6'd5, S_EW = 6'd6, S_G = 6'd7, S_L = 6'd8, S_XS = 6'd9,
                     S_BN = 6'd10,
                     S_R0END = 6'd15, S_R1END = 6'd16, S_WGB = 6'd17, S_WSC = 6'd18,
                     S_BDESC = 6'd19, S_BDW = 6'd20, S_BA = 6'd21, S_BW = 6'd22, S_BC = 6'd23, S_BSC = 6'd24,
                     S_GDESC = 6'd25, S_GDW = 6'd26, S_GA = 6'd27, S_GW = 6'd28, S_GC = 6'd29, S_GSC = 6'd30,
                     S_FIN = 6'd31, S_PRST = 6'd32;

    // ---------------------------------------------------------------- command
    reg  [5:0]  state_q;
    reg         done_q;
    reg  [2:0]  status_q;
    reg         relu_q, s2_q, nodx_q;
    reg  [15:0] n_q, c_q, h_q, w_q, m_q, ho_q, wo_q;
    reg  [31:0] bdy_q, bxh_q, bmk_q, bg_q, bst_q, bw_q, bx_q, bdx_q, bdw_q, bdg_q, bdb_q, bcx_q;
    reg  [31:0] nc_q, hw_q, howo_q, nm_q, mc_q;
    reg  [31:0] cntx_q;          // x elements (= dX elements)
    reg  [31:0] cnty_q;          // dy elements
    reg  [31:0] wbytes_q;        // 9 M C
    reg  [31:0] nxw_q;           // x words
    reg  [31:0] hw2_q;           // words per segment (Ho*Wo/2)
    reg  [31:0] hw32_q;          // mask words per segment
    reg  [31:0] mhw2_q;          // M*Ho*Wo/2
    reg  [31:0] nhw_q;           // elements per channel (N*Ho*Wo)
    reg  [31:0] spanb_q, spang_q, wordsb_q, wordsg_q, lw_q, wgtot_q;
    reg         tr_q;            // WG stride 2 would put x on the rows
    reg  [7:0]  ex_q, ew_q, eg_q;
    reg         xnf_q;
    reg  [2:0]  prst_q;
    reg  [2:0]  fin_st_q;

    assign cmd_ready = (state_q == S_IDLE);
    assign done      = done_q;
    assign status    = status_q;

    wire [15:0] dy_n = cmd_shape[48 +: 16], dy_m = cmd_shape[32 +: 16], dy_h = cmd_shape[16 +: 16],
                dy_w = cmd_shape[0 +: 16];
    wire [15:0] x_c = cmd_shape[6*64 + 32 +: 16], x_h = cmd_shape[6*64 + 16 +: 16], x_w = cmd_shape[6*64 +: 16];
    localparam integer MAX_M_I = MAX_M;
    localparam [15:0]  MAX_M16 = MAX_M_I[15:0];
    localparam integer IDEPTH3 = 3 * IDEPTH;
    localparam [31:0]  IDEPTH3_32 = IDEPTH3;
    localparam integer WDEPTH_I = WDEPTH;
    localparam [31:0]  WDEPTH32 = WDEPTH_I;
    localparam integer ROWS_I = ROWS, COLS_I = COLS;
    localparam [31:0]  ROWS32 = ROWS_I, COLS32 = COLS_I;

    function automatic [31:0] cdiv(input [31:0] a, input [31:0] b);
        cdiv = (a + b - 32'd1) / b;
    endfunction

    // ---------------------------------------------------------------- SDRAM reader
    // a job: nseg segments of seg_words words, segment starts seg_stride words apart
    reg  [AW-3:0] rq_addr_q, rq_next_q;
    reg  [31:0]   rq_left_q, rq_segw_q;
    reg  [AW-3:0] rq_stride_q;
    reg  [15:0]   rq_segs_q;
    reg  [31:0]   rcv_q;
    reg  [31:0]   rtot_q;
    wire [31:0]   rq_len32 = (rq_left_q > 32'd16) ? 32'd16 : rq_left_q;
    wire          rq_on = (state_q == S_EX || state_q == S_EW || state_q == S_G || state_q == S_L ||
                           state_q == S_XS || state_q == S_BA || state_q == S_BW || state_q == S_GA || state_q == S_GW);
    // BN rounds: chunk requests (mask word, 16 dy words, 16 xhat words) from the BN request walk
    wire          bn_on = (state_q == S_BN);
    reg           rr_done_q;
    reg  [1:0]    rr_k_q;                // 0 mask, 1 dy, 2 xhat
    reg           rr_pas_q;
    reg  [15:0]   rr_ch_q, rr_n_q;
    reg  [31:0]   rr_q_q;                // chunk in the segment
    wire [31:0]   rr_seg = {16'd0, rr_n_q} * {16'd0, m_q} + {16'd0, rr_ch_q};
    wire [31:0]   rr_dwo = rr_seg * hw2_q + {rr_q_q[27:0], 4'b0000};
    wire [31:0]   rr_mwo = rr_seg * hw32_q + rr_q_q;
    wire [AW-3:0] rr_addr = (rr_k_q == 2'd0) ? bmk_q[AW-1:2] + rr_mwo[AW-3:0]
                          : ((rr_k_q == 2'd1) ? bdy_q[AW-1:2] : bxh_q[AW-1:2]) + rr_dwo[AW-3:0];
    assign rd_req_valid = bn_on ? !rr_done_q : (rq_on && rq_left_q != 32'd0);
    assign rd_req_addr  = bn_on ? rr_addr : rq_addr_q;
    assign rd_req_len   = bn_on ? ((rr_k_q == 2'd0) ? 5'd1 : 5'd16) : rq_len32[4:0];
    wire          rq_fire = rd_req_valid && rd_req_ready && !bn_on;
    wire          rr_fire = rd_req_valid && rd_req_ready && bn_on;
    wire          rq_idle = (rq_left_q == 32'd0);

    task automatic rd_start(input [AW-3:0] waddr, input [31:0] words, input [15:0] segs,
                            input [AW-3:0] stride);
        begin
            rq_addr_q   <= waddr;
            rq_next_q   <= waddr + stride;
            rq_left_q   <= words;
            rq_segw_q   <= words;
            rq_stride_q <= stride;
            rq_segs_q   <= segs - 16'd1;
            rcv_q       <= 32'd0;
            rtot_q      <= words * {16'd0, segs};
        end
    endtask

    localparam [AW-3:0] ST0 = {(AW-2){1'b0}};
    wire [31:0]   a_ex = bx_q + {cntx_q[30:0], 1'b0};
    wire [31:0]   a_ew = bw_q + wbytes_q;
    wire [31:0]   a_lam = bst_q + {14'd0, m_q, 2'b00};
    wire [AW-3:0] bdx_w = bdx_q[AW-1:2], bdw_w = bdw_q[AW-1:2], bdg_w = bdg_q[AW-1:2],
                  bdb_w = bdb_q[AW-1:2];

    // ---------------------------------------------------------------- BN loop state
    reg          rnd_q;          // 0 dry (track dx), 1 write
    reg          pas_q;          // 0 statistics (st_), 1 transform (t_)
    reg  [15:0]  ch_q, nn_q;
    reg  [31:0]  k_q;            // beat in the segment being streamed
    reg  [31:0]  dbuf [0:15];             // a chunk's dy words
    reg  [31:0]  mreg_q;                  // its mask word
    reg  [5:0]   p_q;                     // word of the chunk arriving: 0 mask, 1..16 dy, 17..32 xhat
    reg  [15:0]  gmem [0:MAX_M-1];
    reg  [15:0]  lmem [0:MAX_M-1];
    reg  [15:0]  dgm  [0:MAX_M-1];
    reg  [15:0]  dbm  [0:MAX_M-1];
    wire [31:0]  s_dy = dbuf[k_q[3:0]];
    wire [31:0]  s_xh = rd_data;
    wire [1:0]   s_m  = mreg_q[{k_q[3:0], 1'b0} +: 2];
    wire         s_last = (k_q == hw2_q - 32'd1) && (nn_q == n_q - 16'd1);
    wire [CW-1:0] ch_cw = ch_q[CW-1:0];
    wire         str_on = bn_on && p_q > 6'd16 && rd_valid;     // an xhat word: a beat
    wire         st_ready, t_ready, r_valid, r_bp, m_valid, m_bp, m_last, m_nf;
    wire [CW-1:0] r_ch, m_ch;
    wire [15:0]  r_a, r_b, r_c;
    wire [NW-1:0] r_count;
    wire [2:0]   r_flags;
    wire [31:0]  m_y, m_xhat;
    wire [1:0]   m_mask, m_keep;
    wire         str_take = str_on && (pas_q ? t_ready : st_ready);

    // writes: one register
    reg            wr_v_q;
    reg  [AW-3:0]  wr_a_q;
    reg  [31:0]    wr_d_q;
    reg  [3:0]     wr_s_q;
    wire           wr_free = !wr_v_q || wr_ready;

    // dx beats out of bn_rows (in the order they went in: channel, image, word)
    wire           tr_sready, tr_v, tr_nf;
    wire [7:0]     tr_e;
    wire [15:0]    tr_max;
    reg            tr_done_q;
    reg            tnf_q;
    wire           bm_ready = rnd_q ? wr_free : tr_sready;
    wire           bm_take  = m_valid && bm_ready;
    reg  [31:0]    ob_q, ok_q, oseg_q, ochs_q;
    reg  [15:0]    on_q;
    wire [31:0]    o_w = oseg_q + ok_q;
    wire [31:0]    ytot = cnty_q >> 1;          // dx beats per round

    bn_rows #(.LANES(2), .NW(NW), .MAX_C(MAX_M)) u_bn (
        .clk(clk), .rst(rst),
        .st_valid(str_on && !pas_q), .st_ready(st_ready), .st_bp(1'b1), .st_relu(relu_q),
        .st_ch(ch_cw), .st_a(s_dy), .st_b(s_xh), .st_m(s_m), .st_keep(2'b11), .st_last(s_last),
        .st_n(nhw_q[NW-1:0]),
        .r_valid(r_valid), .r_ready(1'b1), .r_ch(r_ch), .r_bp(r_bp), .r_a(r_a), .r_b(r_b), .r_c(r_c),
        .r_count(r_count), .r_flags(r_flags),
        .t_valid(str_on && pas_q), .t_ready(t_ready), .t_bp(1'b1), .t_relu(relu_q),
        .t_ch(ch_cw), .t_a(s_dy), .t_b(s_xh), .t_m(s_m), .t_keep(2'b11), .t_last(s_last),
        .t_gamma(gmem[ch_cw]), .t_beta(16'd0), .t_lam(lmem[ch_cw]),
        .m_valid(m_valid), .m_ready(bm_ready), .m_ch(m_ch), .m_bp(m_bp), .m_y(m_y), .m_xhat(m_xhat),
        .m_mask(m_mask), .m_keep(m_keep), .m_last(m_last), .m_nf(m_nf));

    amax_track #(.LANES(2), .E_W(8)) u_track (
        .clk(clk), .rst(rst), .s_valid(m_valid && !rnd_q), .s_ready(tr_sready), .s_x(m_y),
        .s_last(ob_q == ytot - 32'd1),
        .m_valid(tr_v), .m_ready(1'b1), .m_e(tr_e), .m_max(tr_max), .m_nf(tr_nf));

    // ---------------------------------------------------------------- quantizer (BN dx or x) -> s_act / WG words
    reg  [31:0] xb_q;                          // s_act beats taken
    reg  [31:0] nact_q;                        // s_act beats of the layer
    wire        q_on   = (state_q == S_BA || state_q == S_GA || state_q == S_GW);
    wire        x_in_last = (state_q == S_GA) && (rcv_q == nxw_q - 32'd1) && cntx_q[0];
    wire [31:0] q_word = x_in_last ? {16'd0, rd_data[15:0]} : rd_data;
    wire        q_sready, q_valid, q_nf;
    wire [15:0] q_data;
    wire        pe_act_ready, pe_wgt_ready, pe_desc_ready;
    wire        pk_ready;
    wire        act_on = (state_q == S_BA || state_q == S_GA);
    wire        q_mready = act_on ? pe_act_ready : (state_q == S_GW) ? pk_ready : 1'b0;
    f16_to_i8 #(.LANES(2), .E_W(8)) u_quant (
        .clk(clk), .rst(rst), .s_valid(q_on && rd_valid), .s_ready(q_sready), .s_x(q_word),
        .s_e(state_q == S_GA ? ex_q : eg_q), .m_valid(q_valid), .m_ready(q_mready), .m_q(q_data), .m_nf(q_nf));
    wire        act_take = act_on && q_valid && pe_act_ready;

    // ---------------------------------------------------------------- w bytes -> kernel rows (BP)
    reg  [127:0] wb_q;
    reg  [4:0]   wn_q;
    reg  [31:0]  wrow_q;
    wire         w_valid = (state_q == S_BW) && wn_q >= 5'd9 && wrow_q != mc_q;
    wire         w_take  = w_valid && pe_wgt_ready;
    wire [4:0]   wn_mid  = w_take ? wn_q - 5'd9 : wn_q;
    wire [127:0] wb_mid  = w_take ? {72'd0, wb_q[127:72]} : wb_q;

    // ---------------------------------------------------------------- q(dx) -> WG 3x3 words (WG)
    reg  [191:0] pk_q;                         // bytes waiting, byte 0 first
    reg  [4:0]   pkn_q;
    reg  [31:0]  wgb_q;                        // weight beats sent
    reg  [31:0]  gk_q;                         // quantizer beats: word in segment
    reg  [15:0]  gn_q;                         // image
    reg  [15:0]  gi_q;                         // items whose reads were started
    wire         g_valid = (state_q == S_GW) && pkn_q >= 5'd9;
    wire         g_take  = g_valid && pe_wgt_ready;
    wire [4:0]   pkn_mid = g_take ? pkn_q - 5'd9 : pkn_q;
    wire [191:0] pk_mid  = g_take ? {72'd0, pk_q[191:72]} : pk_q;
    assign       pk_ready = (pkn_mid <= 5'd9);
    wire         pk_in   = (state_q == S_GW) && q_valid && pk_ready;
    wire         g_segend = (gk_q == hw2_q - 32'd1);
    wire         g_itemend = g_segend && (gn_q == n_q - 16'd1);
    wire [47:0]  pk_ins  = s2_q ? {16'd0, q_data[15:8], 16'd0, q_data[7:0]} : {32'd0, q_data};
    wire [4:0]   pk_n1   = pkn_mid + (s2_q ? 5'd6 : 5'd2);
    wire [4:0]   pk_n2   = (!s2_q && g_segend && pk_n1 % 5'd3 != 5'd0) ? pk_n1 + 5'd3 - pk_n1 % 5'd3 : pk_n1;
    wire [4:0]   pk_n3   = (g_itemend && pk_n2 % 5'd9 != 5'd0) ? pk_n2 + 5'd9 - pk_n2 % 5'd9 : pk_n2;
    wire [191:0] pk_new  = pk_mid | ({144'd0, pk_ins} << {pkn_mid, 3'b000});

    // ---------------------------------------------------------------- pe_top
    reg         pe_rst_q;
    wire        pe_rst = rst | pe_rst_q;
    wire        wg_ph = (state_q >= S_GDESC && state_q <= S_GSC);
    wire [95:0] desc = {w_q, h_q, m_q, c_q, n_q, 2'b00, 5'd0, 1'b0, 2'd1, s2_q ? 2'd2 : 2'd1, 2'd3,
                        wg_ph ? 2'd2 : 2'd1};
    wire                        pe_m_valid, pe_busy, pe_err;
    wire                        pe_m_ready;
    wire [OUT_ROWS*COLS*3*ACC_W-1:0] pe_m_data;
    wire [7:0]                  pe_m_group;
    wire                        pe_m_tlast, pe_m_ovf;
    wire [COLS*32-1:0]          pos_col;
    wire [COLS-1:0]             pos_cv;
    wire [OUT_ROWS*3*32-1:0]    pos_row;
    wire [OUT_ROWS*3-1:0]       pos_rv;
    wire [1:0]                  pe_err_code;
    wire        wgt_valid = (state_q == S_BW) ? w_valid : g_valid;
    wire [71:0] wgt_data  = (state_q == S_BW) ? wb_q[71:0] : pk_q[71:0];
    wire        wgt_last  = (state_q == S_BW) ? (wrow_q == mc_q - 32'd1) : (wgb_q == wgtot_q - 32'd1);
    pe_top #(.ROWS(ROWS), .COLS(COLS), .ACC_W(ACC_W), .OUT_ROWS(OUT_ROWS), .IDEPTH(IDEPTH), .WDEPTH(WDEPTH),
             .ACT_BYTES(2), .WGT_WORDS(3), .WALK(4)) u_pe (
        .clk(clk), .rst(pe_rst),
        .s_desc_valid(state_q == S_BDESC || state_q == S_GDESC), .s_desc_ready(pe_desc_ready),
        .s_desc_data(desc),
        .s_act_valid(act_on && q_valid), .s_act_ready(pe_act_ready), .s_act_data(q_data),
        .s_act_last(xb_q == nact_q - 32'd1),
        .s_wgt_valid(wgt_valid), .s_wgt_ready(pe_wgt_ready), .s_wgt_data(wgt_data),
        .s_wgt_last(wgt_last),
        .m_valid(pe_m_valid), .m_ready(pe_m_ready), .m_data(pe_m_data), .m_group(pe_m_group),
        .m_tlast(pe_m_tlast), .m_ovf(pe_m_ovf),
        .m_pos_col(pos_col), .m_pos_cv(pos_cv), .m_pos_row(pos_row), .m_pos_rv(pos_rv),
        .busy(pe_busy), .err(pe_err), .err_code(pe_err_code));

    // ---------------------------------------------------------------- results: one lane per clock
    // lane L = (i*COLS + c)*3 + j: PE row i of the beat, column c, lane j
    wire [NL-1:0] lane_v;
    genvar gi, gc, gj;
    generate
        for (gi = 0; gi < OUT_ROWS; gi = gi + 1) begin : gen_lr
            for (gc = 0; gc < COLS; gc = gc + 1) begin : gen_lc
                for (gj = 0; gj < 3; gj = gj + 1) begin : gen_lj
                    assign lane_v[(gi*COLS + gc)*3 + gj] = pos_rv[3*gi + gj] & pos_cv[gc];
                end
            end
        end
    endgenerate
    reg  [NL-1:0]  dm_q;
    wire [NL-1:0]  rem = pe_m_valid ? (lane_v & ~dm_q) : {NL{1'b0}};
    reg  [NLW-1:0] sel;
    reg  [31:0]    sel_r, sel_c;                // row-part index (3i + j), column
    integer        li, lc, lj, ln;
    always @* begin
        sel   = {NLW{1'b0}};
        ln    = 0;
        sel_r = 32'd0;
        sel_c = 32'd0;
        for (li = OUT_ROWS - 1; li >= 0; li = li - 1)
            for (lc = COLS - 1; lc >= 0; lc = lc - 1)
                for (lj = 2; lj >= 0; lj = lj - 1)
                    if (rem[(li*COLS + lc)*3 + lj]) begin
                        ln    = (li*COLS + lc)*3 + lj;
                        sel   = ln[NLW-1:0];
                        sel_r = 3*li + lj;
                        sel_c = lc;
                    end
    end
    wire           res_bp = (state_q == S_BC);
    wire           res_wg = (state_q == S_GC);
    wire           cv_sready;
    reg  [3:0]     ixn_q;                       // indices beside the converter
    wire           any_rem = (rem != {NL{1'b0}});
    wire           r_take = any_rem && ((res_bp && cv_sready && ixn_q < 4'd6) || (res_wg && wr_free));
    wire [31:0]    r_acc  = pe_m_data[sel * ACC_W +: ACC_W];
    wire [31:0]    r_idx  = pos_row[sel_r * 32 +: 32] + pos_col[sel_c * 32 +: 32];
    // conv dX pairs: the partner lane holds the next element (stride 1: the next column's
    // lane of the same PE row; stride 2 (EO): lane j + 1 of the same PE) and the first
    // is even: both go through the converter together and are written as one word
    wire           p_ok   = res_bp && (s2_q ? (sel_r % 3 == 0) : (sel_c != COLS32 - 32'd1));
    wire [31:0]    p_r    = s2_q ? sel_r + 32'd1 : sel_r;
    wire [31:0]    p_c    = s2_q ? sel_c : sel_c + 32'd1;
    wire [NLW:0]   p_lane = {1'b0, sel} + (s2_q ? {{NLW{1'b0}}, 1'b1} : {{(NLW-1){1'b0}}, 2'd3});
    wire [31:0]    p_idx  = p_ok ? pos_row[p_r * 32 +: 32] + pos_col[p_c * 32 +: 32] : 32'd0;
    wire [31:0]    p_acc  = p_ok ? pe_m_data[p_lane * ACC_W +: ACC_W] : 32'd0;
    wire           pair   = p_ok && rem[p_lane[NLW-1:0]] && !r_idx[0] && p_idx == r_idx + 32'd1;
    wire [NL-1:0]  sel_oh = r_take ? (({{(NL-1){1'b0}}, 1'b1} << sel) |
                                      ({{(NL-1){1'b0}}, pair} << p_lane[NLW-1:0])) : {NL{1'b0}};
    assign pe_m_ready = (res_bp || res_wg) && ((rem & ~sel_oh) == {NL{1'b0}});

    wire [9:0]     k_cv = {{2{eg_q[7]}}, eg_q} + {{2{ew_q[7]}}, ew_q};
    wire           cv_valid, cv_ovf, cv_sticky;
    wire [31:0]    cv_f;
    wire           trx_sready, trx_v, trx_nf;
    wire [7:0]     trx_e;
    wire [15:0]    trx_max;
    reg            trx_done_q;
    reg  [7:0]     trx_e_q;
    reg  [15:0]    trx_max_q;
    wire           cv_take = cv_valid && wr_free && trx_sready;
    i32_to_f16 #(.LANES(2), .K_W(10)) u_cvt (
        .clk(clk), .rst(rst), .s_valid(res_bp && r_take), .s_ready(cv_sready), .s_acc({pair ? p_acc : 32'd0, r_acc}),
        .s_k(k_cv),
        .m_valid(cv_valid), .m_ready(wr_free && trx_sready), .m_f16(cv_f), .m_ovf(cv_ovf),
        .ovf_sticky(cv_sticky), .ovf_clear(1'b0));
    reg  [31:0]    ix_q [0:7];
    reg  [7:0]     ixp_q;                       // a pair
    reg  [2:0]     ix_wr_q, ix_rd_q;
    wire [31:0]    cv_idx = ix_q[ix_rd_q];
    wire [32:0]    cv_ba  = {1'b0, bcx_q} + {cv_idx, 1'b0};
    wire           cv_pair = ixp_q[ix_rd_q];
    reg  [31:0]    cvw_q;                       // dX elements written / dW words written
    amax_track #(.LANES(2), .E_W(8)) u_trackx (
        .clk(clk), .rst(rst), .s_valid(cv_take), .s_ready(trx_sready),
        .s_x(cv_pair ? cv_f : {16'd0, cv_f[15:0]}),
        .s_last(cvw_q + (cv_pair ? 32'd2 : 32'd1) == cntx_q),
        .m_valid(trx_v), .m_ready(1'b1), .m_e(trx_e), .m_max(trx_max), .m_nf(trx_nf));

    // ---------------------------------------------------------------- read data acceptance
    assign rd_ready = (state_q == S_EX || state_q == S_EW || state_q == S_G || state_q == S_L ||
                       state_q == S_XS || (bn_on && p_q <= 6'd16)) ? 1'b1
                    : bn_on ? (pas_q ? t_ready : st_ready)
                    : q_on ? q_sready
                    : (state_q == S_BW) ? (rcv_q != rtot_q && wn_mid <= 5'd12) : 1'b0;
    wire           rd_fire = rd_valid && rd_ready;
    wire           rd_lastw = rd_fire && (rcv_q == rtot_q - 32'd1);
    wire           x_hi_ok = !(rcv_q == nxw_q - 32'd1 && cntx_q[0]);   // the word's upper half is x
    wire           xs_bad  = rd_fire && (rd_data[14:10] == 5'h1f || (x_hi_ok && rd_data[30:26] == 5'h1f));

    assign wr_valid = wr_v_q;
    assign wr_addr  = wr_a_q;
    assign wr_data  = wr_d_q;
    assign wr_strb  = wr_s_q;

    wire [31:0]    mh = ({16'd0, m_q} + 32'd1) >> 1;   // words of dgamma (and of dbeta)
    wire [31:0]    gbi = (cvw_q < mh) ? cvw_q : cvw_q - mh;
    wire [CW:0]    gb0 = {gbi[CW-1:0], 1'b0};
    wire [15:0]    gb_lo = (cvw_q < mh) ? dgm[gb0[CW-1:0]] : dbm[gb0[CW-1:0]];
    wire [15:0]    gb_hi = (cvw_q < mh) ? dgm[gb0[CW-1:0] | {{(CW-1){1'b0}}, 1'b1}] : dbm[gb0[CW-1:0] | {{(CW-1){1'b0}}, 1'b1}];
    wire           gb_full = ({gbi[30:0], 1'b1} < {16'd0, m_q});
    wire [32:0]    scx_ba = {1'b0, bcx_q} + {cntx_q, 1'b0};
    wire [31:0]    sdx_wo = cnty_q >> 1;                // BN dx scale word offset (words)

    // ---------------------------------------------------------------- control
    always @(posedge clk) begin
        done_q <= 1'b0;
        if (rst) begin
            state_q    <= S_IDLE;
            status_q   <= 3'd0;
            rq_left_q  <= 32'd0;
            rq_segs_q  <= 16'd0;
            wr_v_q     <= 1'b0;
            pe_rst_q   <= 1'b0;
            ix_wr_q    <= 3'd0;
            ix_rd_q    <= 3'd0;
            ixn_q      <= 4'd0;
            dm_q       <= {NL{1'b0}};
            tr_done_q  <= 1'b0;
            trx_done_q <= 1'b0;
            rnd_q      <= 1'b0;
        end else begin
            if (wr_free) wr_v_q <= 1'b0;
            if (rq_fire) begin
                if (rq_len32 == rq_left_q && rq_segs_q != 16'd0) begin
                    rq_addr_q <= rq_next_q;
                    rq_next_q <= rq_next_q + rq_stride_q;
                    rq_left_q <= rq_segw_q;
                    rq_segs_q <= rq_segs_q - 16'd1;
                end else begin
                    rq_addr_q <= rq_addr_q + {{(AW-7){1'b0}}, rd_req_len};
                    rq_left_q <= rq_left_q - rq_len32;
                end
            end
            if (rd_fire) rcv_q <= rcv_q + 32'd1;
            if (act_take) xb_q <= xb_q + 32'd1;

            // BN statistics beats: dbeta, dgamma per channel
            if (r_valid) begin
                dbm[r_ch] <= r_a;
                dgm[r_ch] <= r_b;
            end
            // dx beats
            if (bm_take) begin
                ob_q <= ob_q + 32'd1;
                if (rnd_q) begin
                    wr_v_q <= 1'b1;
                    wr_a_q <= bdx_w + o_w[AW-3:0];
                    wr_d_q <= m_y;
                    wr_s_q <= 4'b1111;
                end
                if (ok_q == hw2_q - 32'd1) begin
                    ok_q <= 32'd0;
                    if (on_q == n_q - 16'd1) begin
                        on_q   <= 16'd0;
                        ochs_q <= ochs_q + hw2_q;
                        oseg_q <= ochs_q + hw2_q;
                    end else begin
                        on_q   <= on_q + 16'd1;
                        oseg_q <= oseg_q + mhw2_q;
                    end
                end else ok_q <= ok_q + 32'd1;
            end
            if (tr_v) begin
                tr_done_q <= 1'b1;
                eg_q      <= tr_e;
                tnf_q     <= tr_nf;
            end

            // kernel-row regrouping (BP)
            if (state_q == S_BW) begin
                wb_q <= (rd_fire ? ({96'd0, rd_data} << (8 * wn_mid)) : 128'd0) | wb_mid;
                wn_q <= wn_mid + (rd_fire ? 5'd4 : 5'd0);
                if (w_take) wrow_q <= wrow_q + 32'd1;
            end
            // WG words
            if (state_q == S_GW) begin
                pk_q  <= pk_in ? pk_new : pk_mid;
                pkn_q <= pk_in ? pk_n3 : pkn_mid;
                if (g_take) wgb_q <= wgb_q + 32'd1;
                if (pk_in) begin
                    if (g_segend) begin
                        gk_q <= 32'd0;
                        gn_q <= (gn_q == n_q - 16'd1) ? 16'd0 : gn_q + 16'd1;
                    end else gk_q <= gk_q + 32'd1;
                end
                if (rq_idle && rq_segs_q == 16'd0 && gi_q != m_q) begin
                    rd_start(bdx_w + (hw2_q[AW-3:0] * gi_q), hw2_q, n_q, mhw2_q[AW-3:0]);
                    gi_q <= gi_q + 16'd1;
                end
            end

            // result lanes
            if (pe_m_valid && pe_m_ready) dm_q <= {NL{1'b0}};
            else dm_q <= dm_q | sel_oh;
            if (res_bp && r_take) begin
                ix_q[ix_wr_q] <= r_idx;
                ixp_q[ix_wr_q] <= pair;
                ix_wr_q <= ix_wr_q + 3'd1;
            end
            if (cv_take) begin
                ix_rd_q <= ix_rd_q + 3'd1;
                cvw_q   <= cvw_q + (cv_pair ? 32'd2 : 32'd1);
                wr_v_q  <= 1'b1;
                wr_a_q  <= cv_ba[AW-1:2];
                wr_d_q  <= cv_pair ? cv_f : {cv_f[15:0], cv_f[15:0]};
                wr_s_q  <= cv_pair ? 4'b1111 : cv_ba[1] ? 4'b1100 : 4'b0011;
            end
            ixn_q <= ixn_q + ((res_bp && r_take) ? 4'd1 : 4'd0) - (cv_take ? 4'd1 : 4'd0);
            if (res_wg && r_take) begin
                cvw_q  <= cvw_q + 32'd1;
                wr_v_q <= 1'b1;
                wr_a_q <= bdw_w + r_idx[AW-3:0];
                wr_d_q <= r_acc;
                wr_s_q <= 4'b1111;
            end
            if (trx_v) begin
                trx_done_q <= 1'b1;
                trx_e_q    <= trx_e;
                trx_max_q  <= trx_max;
            end

            case (state_q)
                S_IDLE: if (cmd_valid) begin
                    relu_q  <= cmd_flags[0];
                    s2_q    <= cmd_flags[1];
                    nodx_q  <= cmd_flags[3];
                    n_q     <= dy_n;
                    m_q     <= dy_m;
                    ho_q    <= dy_h;
                    wo_q    <= dy_w;
                    c_q     <= x_c;
                    h_q     <= x_h;
                    w_q     <= x_w;
                    bdy_q   <= cmd_base[0 +: 32];
                    bxh_q   <= cmd_base[32 +: 32];
                    bmk_q   <= cmd_base[64 +: 32];
                    bg_q    <= cmd_base[96 +: 32];
                    bst_q   <= cmd_base[128 +: 32];
                    bw_q    <= cmd_base[160 +: 32];
                    bx_q    <= cmd_base[192 +: 32];
                    bdx_q   <= cmd_base[224 +: 32];
                    bdw_q   <= cmd_base[256 +: 32];
                    bdg_q   <= cmd_base[288 +: 32];
                    bdb_q   <= cmd_base[320 +: 32];
                    bcx_q   <= cmd_base[352 +: 32];
                    xnf_q   <= 1'b0;
                    tr_done_q  <= 1'b0;
                    trx_done_q <= 1'b0;
                    if (cmd_op == 4'd8) state_q <= S_SET1;
                    else begin
                        status_q <= 3'd1;
                        done_q   <= 1'b1;
                    end
                end
                S_SET1: begin
                    nc_q    <= {16'd0, n_q} * {16'd0, c_q};
                    hw_q    <= {16'd0, h_q} * {16'd0, w_q};
                    howo_q  <= {16'd0, ho_q} * {16'd0, wo_q};
                    nm_q    <= {16'd0, n_q} * {16'd0, m_q};
                    mc_q    <= {16'd0, m_q} * {16'd0, c_q};
                    tr_q    <= cdiv(3 * {16'd0, c_q}, ROWS32) * cdiv({16'd0, m_q}, COLS32) <=
                               cdiv({16'd0, m_q}, ROWS32) * cdiv(3 * {16'd0, c_q}, COLS32);
                    state_q <= S_SET2;
                end
                S_SET2: begin
                    cntx_q   <= nc_q * hw_q;
                    cnty_q   <= nm_q * howo_q;
                    wbytes_q <= {mc_q[28:0], 3'b000} + mc_q;
                    hw2_q    <= howo_q >> 1;
                    hw32_q   <= howo_q >> 5;
                    mhw2_q   <= {16'd0, m_q} * (howo_q >> 1);
                    nhw_q    <= {16'd0, n_q} * howo_q;
                    lw_q     <= {16'd0, n_q} * (s2_q ? howo_q : cdiv(hw_q, 32'd3));
                    state_q  <= S_SET3;
                end
                S_SET3: begin
                    nxw_q    <= (cntx_q + 32'd1) >> 1;
                    spanb_q  <= cnty_q + {15'd0, wo_q, 1'b0} + 32'd3;
                    spang_q  <= cntx_q + {15'd0, w_q, 1'b0} + 32'd3;
                    wordsb_q <= cdiv({16'd0, m_q}, ROWS32) * 3 * {16'd0, c_q};
                    wordsg_q <= cdiv({16'd0, m_q}, ROWS32) * 3 * cdiv(lw_q, 32'd3);
                    wgtot_q  <= {16'd0, m_q} * cdiv(lw_q, 32'd3);
                    state_q  <= S_SET4;
                end
                S_SET4: begin
                    if (m_q > MAX_M16 || howo_q[4:0] != 5'd0 || (nhw_q >> NW) != 32'd0 ||
                        (!nodx_q && (cntx_q[0] || spanb_q > IDEPTH3_32 || wordsb_q > WDEPTH32)) ||
                        spang_q > IDEPTH3_32 || wordsg_q > WDEPTH32 || nhw_q >= 32'd65536 ||
                        (s2_q && tr_q)) begin
                        status_q <= 3'd3;
                        done_q   <= 1'b1;
                        state_q  <= S_IDLE;
                    end else begin
                        rd_start(a_ex[AW-1:2], 32'd1, 16'd1, ST0);
                        state_q <= S_EX;
                    end
                end
                S_EX: if (rd_fire) begin
                    ex_q <= cntx_q[0] ? rd_data[23:16] : rd_data[7:0];
                    rd_start(a_ew[AW-1:2], 32'd1, 16'd1, ST0);
                    state_q <= S_EW;
                end
                S_EW: if (rd_fire) begin
                    ew_q <= rd_data[8 * wbytes_q[1:0] +: 8];
                    rd_start(bg_q[AW-1:2], mh, 16'd1, ST0);
                    state_q <= S_G;
                end
                S_G: begin
                    if (rd_fire) begin
                        gmem[{rcv_q[GW-1:0], 1'b0}] <= rd_data[15:0];
                        gmem[{rcv_q[GW-1:0], 1'b1}] <= rd_data[31:16];
                    end
                    if (rd_lastw) begin
                        rd_start(a_lam[AW-1:2], mh, 16'd1, ST0);
                        state_q <= S_L;
                    end
                end
                S_L: begin
                    if (rd_fire) begin
                        lmem[{rcv_q[GW-1:0], 1'b0}] <= rd_data[15:0];
                        lmem[{rcv_q[GW-1:0], 1'b1}] <= rd_data[31:16];
                    end
                    if (rd_lastw) begin
                        rd_start(bx_q[AW-1:2], nxw_q, 16'd1, ST0);
                        state_q <= S_XS;
                    end
                end
                S_XS: begin
                    if (xs_bad) xnf_q <= 1'b1;
                    if (rd_lastw && (xnf_q || xs_bad)) begin      // status 4 before BN runs
                        status_q <= 3'd4;
                        done_q   <= 1'b1;
                        state_q  <= S_IDLE;
                    end else if (rd_lastw) begin
                        rnd_q   <= 1'b0;
                        pas_q   <= 1'b0;
                        ch_q    <= 16'd0;
                        nn_q    <= 16'd0;
                        k_q     <= 32'd0;
                        p_q     <= 6'd0;
                        rr_done_q <= 1'b0;
                        rr_k_q  <= 2'd0;
                        rr_pas_q <= 1'b0;
                        rr_ch_q <= 16'd0;
                        rr_n_q  <= 16'd0;
                        rr_q_q  <= 32'd0;
                        ob_q    <= 32'd0;
                        ok_q    <= 32'd0;
                        on_q    <= 16'd0;
                        oseg_q  <= 32'd0;
                        ochs_q  <= 32'd0;
                        state_q <= S_BN;
                    end
                end
                // ---- BN: chunks requested by the walk rr_*, streamed as the xhat words arrive
                S_BN: begin
                    if (rr_fire) begin
                        rr_k_q <= (rr_k_q == 2'd2) ? 2'd0 : rr_k_q + 2'd1;
                        if (rr_k_q == 2'd2) begin
                            if (rr_q_q != hw32_q - 32'd1) rr_q_q <= rr_q_q + 32'd1;
                            else begin
                                rr_q_q <= 32'd0;
                                if (rr_n_q != n_q - 16'd1) rr_n_q <= rr_n_q + 16'd1;
                                else begin
                                    rr_n_q   <= 16'd0;
                                    rr_pas_q <= ~rr_pas_q;
                                    if (rr_pas_q) begin
                                        rr_ch_q <= rr_ch_q + 16'd1;
                                        if (rr_ch_q == m_q - 16'd1) rr_done_q <= 1'b1;
                                    end
                                end
                            end
                        end
                    end
                    if (rd_fire && p_q == 6'd0) mreg_q <= rd_data;
                    if (rd_fire && p_q != 6'd0 && p_q <= 6'd16) dbuf[p_q[3:0] - 4'd1] <= rd_data;
                    if (rd_fire) p_q <= (p_q == 6'd32) ? 6'd0 : p_q + 6'd1;
                    if (str_take) begin
                        k_q <= k_q + 32'd1;
                        if (k_q == hw2_q - 32'd1) begin
                            k_q <= 32'd0;
                            if (nn_q != n_q - 16'd1) nn_q <= nn_q + 16'd1;
                            else begin
                                nn_q <= 16'd0;
                                if (!pas_q) pas_q <= 1'b1;
                                else begin
                                    pas_q <= 1'b0;
                                    ch_q  <= ch_q + 16'd1;
                                    if (ch_q == m_q - 16'd1) state_q <= rnd_q ? S_R1END : S_R0END;
                                end
                            end
                        end
                    end
                end
                S_R0END: if (tr_done_q) begin
                    if (tnf_q) begin
                        status_q <= 3'd4;
                        done_q   <= 1'b1;
                        state_q  <= S_IDLE;
                    end else begin
                        rnd_q   <= 1'b1;
                        pas_q   <= 1'b0;
                        ch_q    <= 16'd0;
                        nn_q    <= 16'd0;
                        k_q     <= 32'd0;
                        p_q     <= 6'd0;
                        rr_done_q <= 1'b0;
                        rr_k_q  <= 2'd0;
                        rr_pas_q <= 1'b0;
                        rr_ch_q <= 16'd0;
                        rr_n_q  <= 16'd0;
                        rr_q_q  <= 32'd0;
                        ob_q    <= 32'd0;
                        ok_q    <= 32'd0;
                        on_q    <= 16'd0;
                        oseg_q  <= 32'd0;
                        ochs_q  <= 32'd0;
                        state_q <= S_BN;
                    end
                end
                S_R1END: if (ob_q == ytot && wr_free) begin
                    cvw_q   <= 32'd0;
                    state_q <= S_WGB;
                end
                S_WGB: if (wr_free) begin           // dgamma words, then dbeta words
                    wr_v_q  <= 1'b1;
                    wr_a_q  <= ((cvw_q < mh) ? bdg_w : bdb_w) + gbi[AW-3:0];
                    wr_d_q  <= {gb_hi, gb_lo};
                    wr_s_q  <= gb_full ? 4'b1111 : 4'b0011;
                    cvw_q   <= cvw_q + 32'd1;
                    if (cvw_q == {mh[30:0], 1'b0} - 32'd1) state_q <= S_WSC;
                end
                S_WSC: if (wr_free) begin
                    wr_v_q  <= 1'b1;
                    wr_a_q  <= bdx_w + sdx_wo[AW-3:0];
                    wr_d_q  <= {24'd0, eg_q};
                    wr_s_q  <= 4'b1111;
                    state_q <= nodx_q ? S_GDESC : S_BDESC;
                end
                // ---- conv dX: pe_top BP 3x3
                S_BDESC: if (pe_desc_ready) state_q <= S_BDW;
                S_BDW: begin
                    if (pe_err) begin
                        fin_st_q <= 3'd3;
                        prst_q   <= 3'd3;
                        state_q  <= S_PRST;
                    end else if (pe_act_ready) begin
                        rd_start(bdx_w, ytot, 16'd1, ST0);
                        xb_q    <= 32'd0;
                        nact_q  <= ytot;
                        state_q <= S_BA;
                    end
                end
                S_BA: if (xb_q == nact_q) begin
                    rd_start(bw_q[AW-1:2], (wbytes_q + 32'd3) >> 2, 16'd1, ST0);
                    wn_q    <= 5'd0;
                    wrow_q  <= 32'd0;
                    state_q <= S_BW;
                end
                S_BW: if (wrow_q == mc_q && rcv_q == rtot_q) begin
                    cvw_q   <= 32'd0;
                    state_q <= S_BC;
                end
                S_BC: if (cvw_q == cntx_q && wr_free && trx_done_q) state_q <= S_BSC;
                S_BSC: if (wr_free) begin
                    wr_v_q  <= 1'b1;
                    wr_a_q  <= scx_ba[AW-1:2];
                    wr_d_q  <= {trx_max_q, 8'd0, trx_e_q};
                    wr_s_q  <= 4'b1111;
                    state_q <= S_GDESC;
                end
                // ---- dW: pe_top WG 3x3
                S_GDESC: if (pe_desc_ready) state_q <= S_GDW;
                S_GDW: begin
                    if (pe_err) begin
                        fin_st_q <= 3'd3;
                        prst_q   <= 3'd3;
                        state_q  <= S_PRST;
                    end else if (pe_act_ready) begin
                        rd_start(bx_q[AW-1:2], nxw_q, 16'd1, ST0);
                        xb_q    <= 32'd0;
                        nact_q  <= nxw_q;
                        state_q <= S_GA;
                    end
                end
                S_GA: if (xb_q == nact_q) begin
                    pk_q    <= 192'd0;
                    pkn_q   <= 5'd0;
                    wgb_q   <= 32'd0;
                    gk_q    <= 32'd0;
                    gn_q    <= 16'd0;
                    gi_q    <= 16'd0;
                    rq_segs_q <= 16'd0;
                    state_q <= S_GW;
                end
                S_GW: if (wgb_q == wgtot_q) begin
                    cvw_q   <= 32'd0;
                    state_q <= S_GC;
                end
                S_GC: if (cvw_q == {wbytes_q[31:0]} && wr_free) state_q <= S_GSC;
                S_GSC: if (wr_free) begin
                    wr_v_q  <= 1'b1;
                    wr_a_q  <= bdw_w + wbytes_q[AW-3:0];
                    wr_d_q  <= {24'd0, eg_q + ex_q};
                    wr_s_q  <= 4'b1111;
                    state_q <= S_FIN;
                end
                S_FIN: if (wr_free) begin
                    status_q <= 3'd0;
                    done_q   <= 1'b1;
                    state_q  <= S_IDLE;
                end
                S_PRST: begin
                    pe_rst_q <= 1'b1;
                    prst_q   <= prst_q - 3'd1;
                    if (prst_q == 3'd0) begin
                        pe_rst_q <= 1'b0;
                        status_q <= fin_st_q;
                        done_q   <= 1'b1;
                        state_q  <= S_IDLE;
                    end
                end
                default: state_q <= S_IDLE;
            endcase
        end
    end

    wire unused_ok = &{1'b0, cmd_dtype, cmd_flags[7:4], cmd_flags[2], a_ex[1:0], a_ew[1:0], a_lam[1:0], cmd_base,
                       cmd_shape, pe_m_group, pe_m_tlast, pe_m_ovf, pe_busy, pe_err_code, cv_ovf, cv_sticky,
                       r_bp, r_c, r_count, r_flags, m_ch, m_bp, m_last, m_nf, m_keep, m_xhat, m_mask,
                       trx_nf, q_nf, scx_ba[32], scx_ba[1:0], cv_ba[32], cv_ba[0], bdy_q[1:0], bxh_q[1:0],
                       bmk_q[1:0], bg_q[1:0], bst_q[1:0], bx_q[1:0], bdx_q[1:0], bdw_q[1:0], bdg_q[1:0],
                       bdb_q[1:0], bcx_q[1:0], rcv_q, sel_r, sel_c, lw_q, gb0[CW], tr_max, o_w, gbi, sdx_wo, ln, rr_dwo[31:30], rr_mwo[31:30], p_lane[NLW], 1'b0};

`ifndef SYNTHESIS
    stream_check #(.W(AW - 2 + 5), .NAME("rd_req")) u_check_req (
        .clk(clk), .rst(rst), .valid(rd_req_valid), .ready(rd_req_ready), .data({rd_req_addr, rd_req_len}));
    stream_check #(.W(AW - 2 + 36), .NAME("wr")) u_check_wr (
        .clk(clk), .rst(rst), .valid(wr_valid), .ready(wr_ready), .data({wr_addr, wr_data, wr_strb}));
    always @(posedge clk) begin
        if (!rst) begin
            assert (!(bm_take && !rnd_q && !tr_sready)) else $error("%m: dx tracker not ready");
            assert (!(bm_take && rnd_q && (cv_take || state_q == S_WGB || state_q == S_WSC)))
                else $error("%m: two writers in one clock");
            assert (!(r_valid && !r_bp)) else $error("%m: FP statistics beat");
        end
    end
`endif
endmodule
`default_nettype wire
