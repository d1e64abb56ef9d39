`default_nettype none
// CONV_BN_FP engine of the accelerator (docs/accel.md, op 1), bit-exact with
// host/accel.ModelDevice._execute:
//   operands (command order): x FP16 (N, C, H, W) + scale word (e_x in bits
//   7:0), w INT8 (M, C, 3, 3) + scale word (e_w), gamma, beta FP16 (1, M);
//   outputs: y FP16 (N, M, Ho, Wo) + tracked scale word (e in 7:0, max|y| as
//   FP16 bits in 31:16, amax_track's rule), xhat FP16 (same shape, no scale
//   word), mask (1 bit per element, 8 per byte, element 0 in bit 0), stats FP16
//   3M (mu[0..M), var, lambda).
//   y16 = i32_to_f16(conv3x3(f16_to_i8(x, e_x), w, stride, pad 1), e_x + e_w);
//   y, xhat, mask, stats = models/accel.batch_norm_fp(y16, gamma, beta, relu).
//   Flags: 1 ReLU, 2 stride 2.
//
// Dataflow (a first correct version, one phase after the other):
//  1. the scale words of x and w (one 1-word read each), gamma and beta into
//     two small buffers (ceil(M/2) words each);
//  2. the FP 3x3 descriptor to pe_top (phase 0, K 3, stride, padding 1, no
//     requantize); if pe_top rejects it (err: the layer does not fit its input
//     or weight buffer) -> status 3, pe_top reset by the engine, nothing
//     written. Else x streams word by word (2 elements) through f16_to_i8
//     (e_x) into s_act (2 bytes a beat), then w's bytes regrouped into 24-bit
//     kernel rows {w[2], w[1], w[0]} into s_wgt (WGT_WORDS 3: one 3x3 kernel,
//     9 bytes, a beat; an output channel's 3C words need no padding). An inf/NaN in
//     x (f16_to_i8's m_nf) -> status 4: pe_top computes only once the whole
//     layer is loaded, and its results are not taken before the check, so
//     nothing has been written; pe_top is reset and the command ends.
//  3. pe_top's result beats, each element placed by its side band (m_pos_*:
//     flat NCHW index = m_pos_row[3i] + m_pos_col[c], lane 0 of each PE, the
//     only lane FP 3x3 fills), one write per clock through i32_to_f16 (2
//     lanes, k = e_x + e_w) to its NCHW place in the xhat output region, which
//     serves as the staging area of the conv output (exactly its shape): two
//     elements in one word when the next column of the same PE row holds the
//     next element and the first is even (neighbouring output positions of a
//     row), else one FP16 half word with byte strobes.
//  4. per channel m, bn_rows (LANES 2: one SDRAM word a beat): the stats pass
//     reads the channel back from the staging area (N segments of Ho*Wo), its
//     r_ beat gives mu, var, lambda -> stats[m], stats[M+m], stats[2M+m] (half
//     words); the transform pass reads the channel again -> y (amax_track
//     watches every y element), xhat (over the staging data just read), mask
//     bits (a byte per 4 beats). The next channel's stats pass reads while the
//     previous channel's outputs are still being written. Then y's scale word.
//
// Cost (clocks, SDRAM at one word per clock, a write port that takes a word
// per clock): N*C*H*W/2 (x) + 9*M*C/4 (w) + pe_top's compute (overlapped with
// the result writes) + about N*M*Ho*Wo/2 (result writes, mostly pairs) + N*M*Ho*Wo/2
// (stats pass reads) + 9/8*N*M*Ho*Wo (transform: 2 words and a quarter of a
// mask byte per 2 elements on the one write port), plus about 70 clocks per
// channel (bn_rows' statistics latency) and SDRAM latencies per phase. The
// small net's five commands on 16 x 32 (tb/test_accel_conv_bn_fp.py, one word
// per clock each way): 19,680 / 22,345 / 22,345 / 14,069 (stride 2) / 12,333
// clocks, about 29x the array's own 768 beats of a 16 x 16, C = M = 8 layer:
// the two SDRAM ports carry every phase in turn, nothing overlaps the array.
//
// Limits (status 3, nothing read or written past the scale words): M > MAX_M;
// Ho*Wo not a multiple of 8 (channels would share mask bytes); N*Ho*Wo >=
// 2^NW; a layer pe_top's buffers do not hold (IDEPTH, WDEPTH: no splitting of
// the batch into chunks yet).
//
// Ports: the engine convention of docs/accel.md ("Inside the controller"):
//   clk, rst           synchronous reset, active high: drops the command in
//                      progress (no done), resets pe_top and bn_rows; reads in
//                      flight must be dropped by the responder reset with rst
//   cmd_valid/ready    a decoded command (accel_cmd's m port fields), ready
//                      while idle; cmd_op 1 (another op: done, status 1),
//                      cmd_flags (1 ReLU, 2 stride 2), cmd_base[32k+:32],
//                      cmd_shape[64k+:64] = {N, C, H, W} (W low) of operand k
//                      in command order; cmd_dtype unused (accel_cmd checked it)
//   done, status       one-clock pulse when the command ended (after its last
//                      write was accepted): 0 ok, 1 not CONV_BN_FP, 3 does not
//                      fit (above), 4 inf/NaN in x
//   rd_req_*           SDRAM read requests: word address, 1..16 words
//   rd_valid/ready/data the words in request order
//   wr_valid/ready, wr_addr (word address), wr_data, wr_strb
module accel_conv_bn_fp #(
    parameter AW      = 32,     // SDRAM byte-address bits: 8..32
    parameter MAX_OPS = 12,     // operand slots of the cmd port: 8..15
    parameter ROWS    = 16,     // pe_top PE rows
    parameter COLS    = 32,     // pe_top PE columns
    parameter OUT_ROWS = 2,     // pe_top PE rows per result beat; divides ROWS
    parameter IDEPTH  = 4096,   // pe_top input buffer: 3*IDEPTH bytes (x + 2W + 3)
    parameter WDEPTH  = 1024,   // pe_top weight buffer kernel rows per bank
    parameter MAX_M   = 64,     // output channels (gamma/beta buffers, bn_rows channels): power of two >= 4
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
    localparam NB  = OUT_ROWS * COLS;           // result lanes read (lane 0 of each PE)
    localparam NBW = (NB > 1) ? $clog2(NB) : 1;
    localparam ACC_W = 32;

    initial begin
        if (AW < 8 || AW > 32) $fatal(1, "accel_conv_bn_fp: AW must be 8..32");
        if (MAX_OPS < 8 || MAX_OPS > 15) $fatal(1, "accel_conv_bn_fp: MAX_OPS must be 8..15");
        if (MAX_M < 4 || (1 << CW) != MAX_M) $fatal(1, "accel_conv_bn_fp: MAX_M must be a power of two >= 4");
        if (ROWS % OUT_ROWS != 0) $fatal(1, "accel_conv_bn_fp: OUT_ROWS must divide ROWS");
    end

    localparam [4:0] S_IDLE = 5'd0, S_SET1 = 5'd1, S_SET2 = 5'd2, S_SET3 = 5'd3, S_EX = 5'd4, S_EW = 5'd5,
                     S_G = 5'd6, S_B = 5'd7, S_DESC = 5'd8, S_DWAIT = 5'd9, S_X = 5'd10, S_W = 5'd11,
                     S_XCHK = 5'd12, S_CONV = 5'd13, S_BST = 5'd14, S_BR = 5'd15, S_BT = 5'd16,
                     S_BEND = 5'd17, S_SCALE = 5'd18, S_FIN = 5'd19, S_PRST = 5'd20;

    // ---------------------------------------------------------------- command
    reg  [4:0]  state_q;
    reg         done_q;
    reg  [2:0]  status_q;
    reg         relu_q, s2_q;
    reg  [15:0] n_q, c_q, h_q, w_q, m_q, ho_q, wo_q;
    reg  [31:0] bx_q, bw_q, bg_q, bb_q, by_q, bxh_q, bmk_q, bst_q;
    reg  [31:0] nc_q, hw_q, howo_q, nm_q, mc_q;
    reg  [31:0] cntx_q;          // x elements
    reg  [31:0] cnty_q;          // output elements
    reg  [31:0] wbytes_q;        // 9 M C
    reg  [31:0] nxw_q;           // x words (s_act beats)
    reg  [31:0] hw2_q;           // words per output segment (Ho*Wo/2)
    reg  [31:0] mhw2_q;          // words from one image's channel to the next image's
    reg  [31:0] nhw_q;           // elements per channel (N*Ho*Wo)
    reg  [31:0] chw_q;           // words per channel (N*Ho*Wo/2)
    reg  [7:0]  ex_q, ew_q;
    reg         nf_q;
    reg  [2:0]  prst_q;          // pe_top reset clocks left
    reg  [2:0]  fin_st_q;        // status after the pe_top reset

    assign cmd_ready = (state_q == S_IDLE);
    assign done      = done_q;
    assign status    = status_q;

    wire [15:0] x_n = cmd_shape[48 +: 16], x_c = cmd_shape[32 +: 16], x_h = cmd_shape[16 +: 16],
                x_w = cmd_shape[0 +: 16], w_m = cmd_shape[64 + 48 +: 16];
    localparam integer MAX_M_I = MAX_M;
    localparam [15:0]  MAX_M16 = MAX_M_I[15:0];

    // ---------------------------------------------------------------- SDRAM reader
    // a job: nseg segments of seg_words words, segment starts seg_stride words apart
    reg  [AW-3:0] rq_addr_q, rq_next_q;
    reg  [31:0]   rq_left_q, rq_segw_q;
    reg  [AW-3:0] rq_stride_q;
    reg  [15:0]   rq_segs_q;           // segments after the current one
    reg  [31:0]   rcv_q;               // words taken in this job
    reg  [31:0]   rtot_q;              // words of the job
    wire [31:0]   rq_len32 = (rq_left_q > 32'd16) ? 32'd16 : rq_left_q;
    wire          rq_on = (state_q == S_EX || state_q == S_EW || state_q == S_G || state_q == S_B ||
                           state_q == S_X || state_q == S_W || state_q == S_BST || state_q == S_BT);
    assign rd_req_valid = rq_on && rq_left_q != 32'd0;
    assign rd_req_addr  = rq_addr_q;
    assign rd_req_len   = rq_len32[4:0];
    wire          rq_fire = rd_req_valid && rd_req_ready;

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

    // job start addresses (bytes)
    localparam [AW-3:0] ST0 = {(AW-2){1'b0}};
    reg  [15:0]   ch_q;                          // BN: channel being read
    wire [31:0]   a_ex = bx_q + {cntx_q[30:0], 1'b0};
    wire [31:0]   a_ew = bw_q + wbytes_q;
    wire [31:0]   a_ch0 = bxh_q + {hw2_q[29:0] * {14'd0, ch_q}, 2'b00};
    wire [31:0]   a_ch1 = bxh_q + {hw2_q[29:0] * {14'd0, ch_q + 16'd1}, 2'b00};

    // ---------------------------------------------------------------- x -> f16_to_i8 -> s_act
    wire        x_in_last = (rcv_q == nxw_q - 32'd1);
    wire [31:0] x_word = (x_in_last && cntx_q[0]) ? {16'd0, rd_data[15:0]} : rd_data;
    wire        q_sready, q_valid, q_nf;
    wire [15:0] q_data;
    wire        pe_act_ready, pe_wgt_ready, pe_desc_ready;
    reg  [31:0] xb_q;                 // s_act beats taken
    f16_to_i8 #(.LANES(2), .E_W(8)) u_quant (
        .clk(clk), .rst(rst), .s_valid(state_q == S_X && rd_valid), .s_ready(q_sready), .s_x(x_word),
        .s_e(ex_q), .m_valid(q_valid), .m_ready(pe_act_ready), .m_q(q_data), .m_nf(q_nf));
    wire        act_take = q_valid && pe_act_ready;

    // ---------------------------------------------------------------- w bytes -> kernel rows
    reg  [127:0] wb_q;                // bytes waiting, byte 0 first
    reg  [4:0]  wn_q;                 // how many
    reg  [31:0] wrow_q;               // kernels sent
    wire [31:0] wrows = mc_q;         // M C kernels, one a beat (3 kernel-row words)
    wire        wgt_valid = (state_q == S_W) && wn_q >= 5'd9 && wrow_q != wrows;
    wire        wgt_take  = wgt_valid && pe_wgt_ready;
    wire [4:0]  wn_mid    = wgt_take ? wn_q - 5'd9 : wn_q;
    wire [127:0] wb_mid   = wgt_take ? {72'd0, wb_q[127:72]} : wb_q;

    // ---------------------------------------------------------------- pe_top
    reg         pe_rst_q;
    wire        pe_rst = rst | pe_rst_q;
    wire [95:0] desc = {w_q, h_q, m_q, c_q, n_q, 2'b00, 5'd0, 1'b0, 2'd1, s2_q ? 2'd2 : 2'd1, 2'd3, 2'd0};
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
    pe_top #(.ROWS(ROWS), .COLS(COLS), .ACC_W(ACC_W), .OUT_ROWS(OUT_ROWS), .IDEPTH(IDEPTH), .WDEPTH(WDEPTH),
             .ACT_BYTES(2), .WGT_WORDS(3), .WALK(4)) u_pe (
        .clk(clk), .rst(pe_rst),
        .s_desc_valid(state_q == S_DESC), .s_desc_ready(pe_desc_ready), .s_desc_data(desc),
        .s_act_valid(q_valid), .s_act_ready(pe_act_ready), .s_act_data(q_data),
        .s_act_last(xb_q == nxw_q - 32'd1),
        .s_wgt_valid(wgt_valid), .s_wgt_ready(pe_wgt_ready), .s_wgt_data(wb_q[71:0]),
        .s_wgt_last(wrow_q == wrows - 32'd1),
        .m_valid(pe_m_valid), .m_ready(pe_m_ready), .m_data(pe_m_data), .m_group(pe_m_group),
        .m_tlast(pe_m_tlast), .m_ovf(pe_m_ovf),
        .m_pos_col(pos_col), .m_pos_cv(pos_cv), .m_pos_row(pos_row), .m_pos_rv(pos_rv),
        .busy(pe_busy), .err(pe_err), .err_code(pe_err_code));

    // ---------------------------------------------------------------- results -> i32_to_f16 -> staging
    // lane b = i*COLS + c (PE row i of the beat, column c), lane 0 of the PE
    wire [NB-1:0] lane_v;
    genvar gi, gc;
    generate
        for (gi = 0; gi < OUT_ROWS; gi = gi + 1) begin : gen_lr
            for (gc = 0; gc < COLS; gc = gc + 1) begin : gen_lc
                assign lane_v[gi*COLS + gc] = pos_rv[3*gi] & pos_cv[gc];
            end
        end
    endgenerate
    reg  [NB-1:0]  dm_q;                        // lanes of the current beat already taken
    wire [NB-1:0]  rem = pe_m_valid ? (lane_v & ~dm_q) : {NB{1'b0}};
    reg  [NBW-1:0] sel;
    integer        ib;
    always @* begin
        sel = {NBW{1'b0}};
        for (ib = NB - 1; ib >= 0; ib = ib - 1)
            if (rem[ib]) sel = ib[NBW-1:0];
    end
    wire           conv_on = (state_q == S_CONV);
    wire           cv_sready;
    wire           r_take  = conv_on && (rem != {NB{1'b0}}) && cv_sready;
    wire [31:0]    sel_i   = {{(32-NBW){1'b0}}, sel} / COLS;
    wire [31:0]    sel_c   = {{(32-NBW){1'b0}}, sel} % COLS;
    wire [31:0]    r_acc   = pe_m_data[sel * 3 * ACC_W +: ACC_W];
    wire [31:0]    r_idx   = pos_row[sel_i * 96 +: 32] + pos_col[sel_c * 32 +: 32];
    // a pair: the next column of the same PE row holds the next element, and the
    // first is even (both in one word): converted and written together
    wire           p_in    = (sel_c != COLS - 1);
    wire [31:0]    p_c     = p_in ? sel_c + 32'd1 : sel_c;
    wire [31:0]    p_lane  = sel_i * COLS + p_c;
    wire [31:0]    p_acc   = pe_m_data[p_lane * 3 * ACC_W +: ACC_W];
    wire [31:0]    p_idx   = pos_row[sel_i * 96 +: 32] + pos_col[p_c * 32 +: 32];
    wire           pair    = p_in && rem[p_lane[NBW-1:0]] && !r_idx[0] && p_idx == r_idx + 32'd1;
    wire [NB-1:0]  sel_oh  = r_take ? (({{(NB-1){1'b0}}, 1'b1} << sel) | ({{(NB-1){1'b0}}, pair} << p_lane[NBW-1:0]))
                                    : {NB{1'b0}};
    assign pe_m_ready = conv_on && ((rem & ~sel_oh) == {NB{1'b0}});
    wire [9:0]     k_cv    = {{2{ex_q[7]}}, ex_q} + {{2{ew_q[7]}}, ew_q};
    wire           cv_valid, cv_ovf, cv_sticky;
    wire [31:0]    cv_f;
    reg            wr_v_q;
    reg  [AW-3:0]  wr_a_q;
    reg  [31:0]    wr_d_q;
    reg  [3:0]     wr_s_q;
    wire           wr_free = !wr_v_q || wr_ready;
    i32_to_f16 #(.LANES(2), .K_W(10)) u_cvt (
        .clk(clk), .rst(rst), .s_valid(r_take), .s_ready(cv_sready), .s_acc({pair ? p_acc : 32'd0, r_acc}),
        .s_k(k_cv),
        .m_valid(cv_valid), .m_ready(wr_free), .m_f16(cv_f), .m_ovf(cv_ovf),
        .ovf_sticky(cv_sticky), .ovf_clear(1'b0));
    // the element indices beside the converter (in order; it holds at most 4)
    reg  [31:0]    ix_q [0:7];                   // element index
    reg  [7:0]     ixp_q;                        // a pair
    reg  [2:0]     ix_wr_q, ix_rd_q;
    wire           cv_take = cv_valid && wr_free;
    wire [31:0]    cv_idx  = ix_q[ix_rd_q];
    wire           cv_pair = ixp_q[ix_rd_q];
    wire [32:0]    cv_ba   = {1'b0, bxh_q} + {cv_idx, 1'b0};
    reg  [31:0]    cvw_q;                        // results written

    // ---------------------------------------------------------------- BN
    reg  [31:0]    gmem [0:MAX_M/2-1];
    reg  [31:0]    bmem [0:MAX_M/2-1];
    wire [CW-1:0]  ch_cw = ch_q[CW-1:0];
    wire [31:0]    g_word = gmem[ch_cw[CW-1:1] & {GW{1'b1}}];
    wire [31:0]    b_word = bmem[ch_cw[CW-1:1] & {GW{1'b1}}];
    wire           bn_last = (rcv_q == chw_q - 32'd1);
    wire           st_ready, t_ready, r_valid, r_bp, m_valid, m_bp, m_last, m_nf;
    wire [CW-1:0]  r_ch, m_ch;
    wire [15:0]    r_a, r_b, r_c;
    wire [NW-1:0]  r_count;
    wire [2:0]     r_flags;
    wire [31:0]    m_y, m_xhat;
    wire [1:0]     m_mask, m_keep;
    reg            stp_any_q;                   // stats writes pending
    reg  [2:0]     stp_q;
    wire           r_ready = !stp_any_q;
    // transform outputs: a sequencer writes y, xhat and (every 4 beats) the mask byte
    reg  [1:0]     sq_q;                         // 0 idle, 1 y, 2 xhat, 3 mask
    reg  [31:0]    sy_q, sxh_q;
    reg  [7:0]     mbits_q;
    reg  [31:0]    sw_q;                         // word offset of the beat in the tensor
    reg  [31:0]    ob_q;                         // m beats taken
    reg  [31:0]    ok_q, oseg_q, ochs_q;         // word in segment, segment start, channel start
    reg  [15:0]    on_q;                         // image of the segment
    wire           mcomp = (sw_q[1:0] == 2'd3);  // the beat completes a mask byte
    wire           seq_go = !stp_any_q;          // stats writes go first
    wire           sq_issue = wr_free && seq_go && sq_q != 2'd0;
    wire           bm_ready = (sq_q == 2'd0) || (sq_issue && ((sq_q == 2'd2 && !mcomp) || sq_q == 2'd3));
    wire           bm_take = m_valid && bm_ready;
    wire [31:0]    o_w = oseg_q + ok_q;          // word offset of the beat being taken
    wire [32:0]    mk_ba = {1'b0, bmk_q} + {3'd0, sw_q[31:2]};
    wire [AW-3:0]  by_w = by_q[AW-1:2];
    wire [AW-3:0]  bxh_w = bxh_q[AW-1:2];

    bn_rows #(.LANES(2), .NW(NW), .MAX_C(MAX_M)) u_bn (
        .clk(clk), .rst(rst),
        .st_valid(state_q == S_BST && rd_valid), .st_ready(st_ready), .st_bp(1'b0), .st_relu(1'b0),
        .st_ch(ch_cw), .st_a(rd_data), .st_b(32'd0), .st_m(2'b00), .st_keep(2'b11), .st_last(bn_last),
        .st_n(nhw_q[NW-1:0]),
        .r_valid(r_valid), .r_ready(r_ready), .r_ch(r_ch), .r_bp(r_bp), .r_a(r_a), .r_b(r_b), .r_c(r_c),
        .r_count(r_count), .r_flags(r_flags),
        .t_valid(state_q == S_BT && rd_valid), .t_ready(t_ready), .t_bp(1'b0), .t_relu(relu_q),
        .t_ch(ch_cw), .t_a(rd_data), .t_b(32'd0), .t_m(2'b00), .t_keep(2'b11), .t_last(bn_last),
        .t_gamma(ch_cw[0] ? g_word[31:16] : g_word[15:0]), .t_beta(ch_cw[0] ? b_word[31:16] : b_word[15:0]),
        .t_lam(16'd0),
        .m_valid(m_valid), .m_ready(bm_ready), .m_ch(m_ch), .m_bp(m_bp), .m_y(m_y), .m_xhat(m_xhat),
        .m_mask(m_mask), .m_keep(m_keep), .m_last(m_last), .m_nf(m_nf));

    // stats write data: channel and the three values
    reg  [15:0]    sch_q;
    reg  [15:0]    smu_q, svar_q, slam_q;
    wire [1:0]     stp_k = stp_q[0] ? 2'd0 : stp_q[1] ? 2'd1 : 2'd2;
    wire [31:0]    stp_off = {16'd0, sch_q} + (stp_k == 2'd0 ? 32'd0 : stp_k == 2'd1 ? {16'd0, m_q} : {15'd0, m_q, 1'b0});
    wire [32:0]    stp_ba  = {1'b0, bst_q} + {stp_off, 1'b0};
    wire [15:0]    stp_v   = (stp_k == 2'd0) ? smu_q : (stp_k == 2'd1) ? svar_q : slam_q;

    // y's tracker
    wire           tr_sready, tr_v, tr_nf;
    wire [7:0]     tr_e;
    wire [15:0]    tr_max;
    reg            tr_done_q;
    reg  [7:0]     tr_e_q;
    reg  [15:0]    tr_max_q;
    amax_track #(.LANES(2), .E_W(8)) u_track (
        .clk(clk), .rst(rst), .s_valid(bm_take), .s_ready(tr_sready), .s_x(m_y),
        .s_last(ob_q == (cnty_q >> 1) - 32'd1),
        .m_valid(tr_v), .m_ready(1'b1), .m_e(tr_e), .m_max(tr_max), .m_nf(tr_nf));
    wire [32:0]    sc_ba = {1'b0, by_q} + {cnty_q, 1'b0};

    assign rd_ready = (state_q == S_EX || state_q == S_EW || state_q == S_G || state_q == S_B) ? 1'b1
                    : (state_q == S_X) ? q_sready
                    : (state_q == S_W) ? (rcv_q != rtot_q && wn_mid <= 5'd12)
                    : (state_q == S_BST) ? st_ready
                    : (state_q == S_BT) ? t_ready : 1'b0;
    wire           rd_fire = rd_valid && rd_ready;

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
            rq_left_q <= 32'd0;
            wr_v_q    <= 1'b0;
            pe_rst_q  <= 1'b0;
            ix_wr_q   <= 3'd0;
            ix_rd_q   <= 3'd0;
            dm_q      <= {NB{1'b0}};
            stp_any_q <= 1'b0;
            stp_q     <= 3'd0;
            sq_q      <= 2'd0;
            tr_done_q <= 1'b0;
        end else begin
            if (wr_free) wr_v_q <= 1'b0;
            // reader requests
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
            if (act_take) begin
                xb_q <= xb_q + 32'd1;
                if (q_nf) nf_q <= 1'b1;
            end
            // kernel-row regrouping
            if (state_q == S_W) begin
                wb_q <= (rd_fire ? ({96'd0, rd_data} << (8 * wn_mid)) : 128'd0) | wb_mid;
                wn_q <= wn_mid + (rd_fire ? 5'd4 : 5'd0);
                if (wgt_take) wrow_q <= wrow_q + 32'd1;
            end
            // result lanes
            if (pe_m_valid && pe_m_ready) dm_q <= {NB{1'b0}};
            else dm_q <= dm_q | sel_oh;
            if (r_take) begin
                ix_q[ix_wr_q]  <= r_idx;
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
            // statistics: capture, then three half-word writes (before the sequencer's)
            if (r_valid && r_ready) begin
                sch_q     <= {{(16-CW){1'b0}}, r_ch};
                smu_q     <= r_a;
                svar_q    <= r_b;
                slam_q    <= r_c;
                stp_q     <= 3'b111;
                stp_any_q <= 1'b1;
            end else if (stp_any_q && wr_free) begin
                wr_v_q <= 1'b1;
                wr_a_q <= stp_ba[AW-1:2];
                wr_d_q <= {stp_v, stp_v};
                wr_s_q <= stp_ba[1] ? 4'b1100 : 4'b0011;
                stp_q  <= stp_q & ~(3'b001 << stp_k);
                if (stp_k == 2'd2) stp_any_q <= 1'b0;
            end
            // the transform outputs
            if (sq_issue) begin
                wr_v_q <= 1'b1;
                case (sq_q)
                    2'd1: begin
                        wr_a_q <= by_w + sw_q[AW-3:0];
                        wr_d_q <= sy_q;
                        wr_s_q <= 4'b1111;
                    end
                    2'd2: begin
                        wr_a_q <= bxh_w + sw_q[AW-3:0];
                        wr_d_q <= sxh_q;
                        wr_s_q <= 4'b1111;
                    end
                    default: begin
                        wr_a_q <= mk_ba[AW-1:2];
                        wr_d_q <= {4{mbits_q}};
                        wr_s_q <= 4'b0001 << mk_ba[1:0];
                    end
                endcase
                sq_q <= (sq_q == 2'd1) ? 2'd2 : (sq_q == 2'd2 && mcomp) ? 2'd3 : 2'd0;
            end
            if (bm_take) begin
                sq_q  <= 2'd1;
                sy_q  <= m_y;
                sxh_q <= m_xhat;
                sw_q  <= o_w;
                mbits_q[2*o_w[1:0] +: 2] <= m_mask;
                ob_q  <= ob_q + 32'd1;
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
                tr_e_q    <= tr_e;
                tr_max_q  <= tr_max;
            end

            case (state_q)
                S_IDLE: if (cmd_valid) begin
                    relu_q <= cmd_flags[0];
                    s2_q   <= cmd_flags[1];
                    n_q    <= x_n;
                    c_q    <= x_c;
                    h_q    <= x_h;
                    w_q    <= x_w;
                    m_q    <= w_m;
                    ho_q   <= cmd_flags[1] ? x_h >> 1 : x_h;
                    wo_q   <= cmd_flags[1] ? x_w >> 1 : x_w;
                    tr_done_q <= 1'b0;
                    bx_q   <= cmd_base[0 +: 32];
                    bw_q   <= cmd_base[32 +: 32];
                    bg_q   <= cmd_base[64 +: 32];
                    bb_q   <= cmd_base[96 +: 32];
                    by_q   <= cmd_base[128 +: 32];
                    bxh_q  <= cmd_base[160 +: 32];
                    bmk_q  <= cmd_base[192 +: 32];
                    bst_q  <= cmd_base[224 +: 32];
                    nf_q   <= 1'b0;
                    if (cmd_op == 4'd1) state_q <= S_SET1;
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
                    state_q <= S_SET2;
                end
                S_SET2: begin
                    cntx_q   <= nc_q * hw_q;
                    cnty_q   <= nm_q * howo_q;
                    wbytes_q <= {mc_q[28:0], 3'b000} + mc_q;
                    hw2_q    <= howo_q >> 1;
                    mhw2_q   <= {16'd0, m_q} * (howo_q >> 1);
                    nhw_q    <= {16'd0, n_q} * howo_q;
                    chw_q    <= {16'd0, n_q} * (howo_q >> 1);
                    state_q  <= S_SET3;
                end
                S_SET3: begin
                    nxw_q <= (cntx_q + 32'd1) >> 1;
                    if (m_q > MAX_M16 || howo_q[2:0] != 3'd0 || (nhw_q >> NW) != 32'd0) begin
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
                    rd_start(bg_q[AW-1:2], ({16'd0, m_q} + 32'd1) >> 1, 16'd1, ST0);
                    state_q <= S_G;
                end
                S_G: begin
                    if (rd_fire) gmem[rcv_q[GW-1:0]] <= rd_data;
                    if (rd_fire && rcv_q == rtot_q - 32'd1) begin
                        rd_start(bb_q[AW-1:2], ({16'd0, m_q} + 32'd1) >> 1, 16'd1, ST0);
                        state_q <= S_B;
                    end
                end
                S_B: begin
                    if (rd_fire) bmem[rcv_q[GW-1:0]] <= rd_data;
                    if (rd_fire && rcv_q == rtot_q - 32'd1) state_q <= S_DESC;
                end
                S_DESC: if (pe_desc_ready) state_q <= S_DWAIT;
                S_DWAIT: begin
                    if (pe_err) begin
                        fin_st_q <= 3'd3;
                        prst_q   <= 3'd3;
                        state_q  <= S_PRST;
                    end else if (pe_act_ready) begin
                        rd_start(bx_q[AW-1:2], nxw_q, 16'd1, ST0);
                        xb_q    <= 32'd0;
                        state_q <= S_X;
                    end
                end
                S_X: if (xb_q == nxw_q) begin
                    rd_start(bw_q[AW-1:2], (wbytes_q + 32'd3) >> 2, 16'd1, ST0);
                    wn_q    <= 5'd0;
                    wb_q    <= 128'd0;         // bytes above wn_q must be 0 (a reset in S_W leaves some)
                    wrow_q  <= 32'd0;
                    state_q <= S_W;
                end
                S_W: if (wrow_q == wrows && rcv_q == rtot_q) state_q <= S_XCHK;
                S_XCHK: begin
                    if (nf_q || pe_err) begin
                        fin_st_q <= nf_q ? 3'd4 : 3'd3;
                        prst_q   <= 3'd3;
                        state_q  <= S_PRST;
                    end else begin
                        cvw_q   <= 32'd0;
                        state_q <= S_CONV;
                    end
                end
                S_CONV: if (cvw_q == cnty_q && wr_free) begin
                    ch_q    <= 16'd0;
                    ob_q    <= 32'd0;
                    ok_q    <= 32'd0;
                    on_q    <= 16'd0;
                    oseg_q  <= 32'd0;
                    ochs_q  <= 32'd0;
                    rd_start(bxh_q[AW-1:2], hw2_q, n_q, mhw2_q[AW-3:0]);
                    state_q <= S_BST;
                end
                S_BST: if (rd_fire && bn_last) state_q <= S_BR;
                S_BR: if (r_valid && r_ready) begin
                    rd_start(a_ch0[AW-1:2], hw2_q, n_q, mhw2_q[AW-3:0]);
                    state_q <= S_BT;
                end
                S_BT: if (rd_fire && bn_last) begin
                    if (ch_q == m_q - 16'd1) state_q <= S_BEND;
                    else begin
                        ch_q <= ch_q + 16'd1;
                        rd_start(a_ch1[AW-1:2], hw2_q, n_q, mhw2_q[AW-3:0]);
                        state_q <= S_BST;
                    end
                end
                S_BEND: if (ob_q == cnty_q >> 1 && sq_q == 2'd0 && !stp_any_q && tr_done_q) state_q <= S_SCALE;
                S_SCALE: if (wr_free) begin
                    wr_v_q  <= 1'b1;
                    wr_a_q  <= sc_ba[AW-1:2];
                    wr_d_q  <= {tr_max_q, 8'd0, tr_e_q};
                    wr_s_q  <= 4'b1111;
                    state_q <= S_FIN;
                end
                S_FIN: if (wr_free) begin
                    status_q  <= 3'd0;
                    done_q    <= 1'b1;
                    tr_done_q <= 1'b0;
                    state_q   <= S_IDLE;
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

    wire unused_ok = &{1'b0, cmd_dtype, cmd_flags[7:2], a_ex[1:0], a_ew[1:0], a_ch0[1:0], a_ch1[1:0], cmd_base, cmd_shape, pe_m_group, pe_m_tlast, pe_m_ovf, pe_busy,
                       pe_err_code, cv_ovf, cv_sticky, r_bp, r_count, r_flags, m_ch, m_bp, m_last, m_nf,
                       m_keep, tr_sready, tr_nf, sel_i, sel_c, p_lane, cv_ba[32], cv_ba[0], stp_ba[32], stp_ba[0],
                       mk_ba[32], sc_ba[32], sc_ba[1:0], bx_q[1:0], bg_q[1:0], bb_q[1:0], by_q[1:0],
                       bxh_q[1:0], bmk_q[1:0], bst_q[1:0], pos_rv, 1'b0};

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    stream_check #(.W(AW - 2 + 5), .NAME("rd_req")) u_check_req (
        .clk(clk), .rst(rst), .valid(rd_req_valid), .ready(rd_req_ready), .data({rd_req_addr, rd_req_len}));
    stream_check #(.W(AW - 2 + 36), .NAME("wr")) u_check_wr (
        .clk(clk), .rst(rst), .valid(wr_valid), .ready(wr_ready), .data({wr_addr, wr_data, wr_strb}));
    always @(posedge clk) begin
        if (!rst) begin
            assert (!(bm_take && !tr_sready)) else $error("%m: y tracker not ready");
            assert (!(cv_take && (stp_any_q || sq_issue))) else $error("%m: two writers in one clock");
            assert (!(stp_any_q && wr_free && sq_issue)) else $error("%m: stats and sequencer write together");
        end
    end
`endif
endmodule
`default_nettype wire
