`default_nettype none
// Vector engine of the accelerator (docs/accel.md): executes the element-wise
// ops of the command list exactly as host/accel.ModelDevice._execute, every
// byte it writes included:
//   2 ADD_RELU_FP  out = ReLU(RNE16(b + sc)), mask = out > 0 (8 per byte, element
//                  0 in bit 0); sc = h, or with flag 4 (option-A shortcut) h
//                  subsampled by the stride (flag 2) with its channels centred
//                  in zeros (models/accel.shortcut_fp); out's scale word tracked
//   3 POOL_FP      feat[n, c] = RNE16(RNE32(S * RNE32(1/(H W)))), S the
//                  sequential binary32 sum of x[n, c] in row-major order (from
//                  +0); scale word tracked
//   6 POOL_BP      d[n, c, :, :] = RNE16(dfeat[n, c] * RNE16(1/(H W))); tracked
//   7 ADD_RELU_BP  ds = mask ? d : +0 (tracked); dsc = ds, or with flag 4
//                  zeros with ds[:, p:p+cin] at the stride's grid
//                  (models/accel.shortcut_bp), no scale word
//   9 ADD          out = RNE16(a + b); tracked
// A tracked tensor's scale word (4 bytes right after its data, possibly at a
// 2-byte offset) = {max|x| FP16, 8'd0, e int8}, from amax_track on the write
// stream. Nothing outside [base, base + span) of the output operands is
// written (partial words by strobes). status is always 0: ModelDevice raises
// nothing for these ops (a NaN from inf - inf is the canonical 0x7E00).
//
// Structure: two tensor readers (accel_rd) on accel_rd_arb feed two element
// sources (accel_vec_src: unpack, filter for the shortcut patterns); a loop
// makes one output element per clock from them; two packers (accel_vec_pack:
// the FP16 output with its scale word, and the mask or the second FP16
// output) write through accel_wr_arb. ADD_RELU_BP with the shortcut runs two
// passes (ds, then dsc from d and the mask again); the pools first compute
// their reciprocal by a 1-bit-per-clock division (<= 58 clocks).
//
// Ports (the engine convention of the system top's dispatcher):
//   cmd_valid/cmd_ready  a decoded command (accel_cmd's m port fields): cmd_op,
//                        cmd_flags, per operand slot k in command order
//                        cmd_base[32k +: 32] (byte address, 4-byte aligned),
//                        cmd_dtype[3k +: 3], cmd_shape[64k +: 64] = {N, C, H, W};
//                        the command must have passed accel_cmd's checks
//                        (an op other than 2, 3, 6, 7, 9 finishes at once)
//   done, status         one-clock pulse when the command's last write has been
//                        accepted; status 0
//   rd_req_*, rd_*       SDRAM read port (word addresses, 1..16-word requests,
//                        the words in request order)
//   wr_*                 SDRAM write port (word address, data, byte strobes)
// Throughput: one element per clock in the loop, two where the SDRAM ports
//   allow more (POOL_FP reads, POOL_BP writes, ADD_RELU_BP's ds pass with the
//   shortcut and its stride-2 dsc pass: one word per clock); ADD, ADD_RELU_FP and ADD_RELU_BP without the
//   shortcut move one word per clock on the read or the write port at one
//   element per clock already. ADD_RELU_FP's shortcut channels at stride 2
//   take 4 source elements per output element (the whole h tensor is read and
//   filtered, one element per clock).
// Reset (rst, synchronous, active high): everything in flight is dropped
//   (the SDRAM ports are reset with the engine); idle on the next clock.
module accel_vec #(
    parameter AW      = 32,   // SDRAM byte-address bits, 8..32
    parameter MAX_OPS = 12    // operand slots of the cmd port (accel_cmd's MAX_OPS), >= 4
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
    localparam CNT_W = AW + 4;        // elements of a tensor that fits the SDRAM (a mask: 8 per byte)

    initial begin
        if (AW < 8 || AW > 32) $fatal(1, "accel_vec: AW must be 8..32");
        if (MAX_OPS < 4 || MAX_OPS > 15) $fatal(1, "accel_vec: MAX_OPS must be 4..15");
    end

    localparam [3:0] OP_ADD_RELU_FP = 4'd2, OP_POOL_FP = 4'd3, OP_POOL_BP = 4'd6, OP_ADD_RELU_BP = 4'd7,
                     OP_ADD = 4'd9;
    localparam [3:0] S_IDLE = 4'd0, S_RECIP = 4'd1, S_RFMT = 4'd2, S_CFG = 4'd3, S_GO = 4'd4, S_RUN = 4'd5,
                     S_SC0 = 4'd6, S_SC1 = 4'd7, S_DRAIN = 4'd8, S_FIN = 4'd9,
                     S_RINIT = 4'd10;
    localparam [1:0] K_EW = 2'd0, K_SCAT = 2'd1, K_PFP = 2'd2, K_PBP = 2'd3;
    localparam [1:0] E_ADD = 2'd0, E_RELU = 2'd1, E_BP1 = 2'd2;
    localparam [7:0] F_STRIDE2 = 8'd2, F_SHORTCUT = 8'd4;

    // ---------------------------------------------------------------- the command
    reg [3:0]        state_q;
    reg [3:0]        op_q;
    reg [7:0]        flags_q;
    reg [31:0]       base_q [0:3];
    reg [15:0]       c_q [0:3], h_q [0:3], w_q [0:3];
    reg [CNT_W-1:0]  cnt_q [0:3];
    reg              pass_q;
    reg              done_q;

    wire [63:0] prod_cnt [0:3];
    genvar gk;
    generate
        for (gk = 0; gk < 4; gk = gk + 1) begin : gen_cnt
            wire [15:0] sn = cmd_shape[64*gk + 48 +: 16], sc = cmd_shape[64*gk + 32 +: 16];
            wire [15:0] sh = cmd_shape[64*gk + 16 +: 16], sw = cmd_shape[64*gk +: 16];
            assign prod_cnt[gk] = ({48'd0, sn} * {48'd0, sc}) * ({48'd0, sh} * {48'd0, sw});
            wire unused_hi = &{1'b0, prod_cnt[gk][63:CNT_W], 1'b0};
        end
    endgenerate
    wire unused_cmd = &{1'b0, cmd_dtype, cmd_base[32*MAX_OPS-1:128], cmd_shape[64*MAX_OPS-1:256], 1'b0};

    assign cmd_ready = (state_q == S_IDLE);
    wire   cmd_fire  = cmd_valid && cmd_ready;
    assign done      = done_q;
    assign status    = 3'd0;

    wire shortcut = (flags_q & F_SHORTCUT) != 8'd0;
    wire stride2  = (flags_q & F_STRIDE2) != 8'd0;

    // ---------------------------------------------------------------- reciprocal 1/(H W)
    // q = floor(2^K / n) by restoring division, one quotient bit per clock.
    // binary32: K = b + 24 (b = bits of n), q has 25 bits (26 when n = 2^(b-1));
    // binary16: K = b + 11 for b <= 14, else K = 25 (a subnormal result).
    reg  [31:0] rn_q;          // n
    reg         r16_q;         // binary16 result (POOL_BP)
    reg  [5:0]  rb_q;          // bits of n
    reg  [6:0]  rk_q;          // numerator bits left
    reg         rfirst_q;      // the first numerator bit (the 1)
    reg  [33:0] rr_q;          // remainder
    reg  [25:0] rq_q;          // quotient (low bits)
    reg  [31:0] inv_q;         // RNE32(1/n) or {16'd0, RNE16(1/n)}
    reg  [5:0]  nb;
    integer     bi;
    wire [31:0] hw_prod = (op_q == OP_POOL_FP) ? ({16'd0, h_q[0]} * {16'd0, w_q[0]})
                                              : ({16'd0, h_q[1]} * {16'd0, w_q[1]});
    always @* begin
        nb = 6'd0;
        for (bi = 0; bi < 32; bi = bi + 1)
            if (hw_prod[bi]) nb = bi[5:0] + 6'd1;
    end
    wire [33:0] r2     = {rr_q[32:0], rfirst_q};
    wire        r_ge   = (r2 >= {2'd0, rn_q});
    wire        r_stk  = (rr_q != 34'd0);
    // rounding: q = {.., result lsb, round bit}
    wire [7:0]  e32    = 8'd127 - {2'd0, rb_q};
    wire [30:0] f32_t  = rq_q[25] ? {e32 + 8'd1, 23'd0} : {e32, rq_q[23:1]};
    wire [30:0] f32_r  = f32_t + {30'd0, !rq_q[25] && rq_q[0] && (r_stk || rq_q[1])};
    wire [4:0]  e16    = 5'd15 - rb_q[4:0];
    wire [14:0] f16n_t = rq_q[12] ? {e16 + 5'd1, 10'd0} : {e16, rq_q[10:1]};
    wire [14:0] f16n_r = f16n_t + {14'd0, !rq_q[12] && rq_q[0] && (r_stk || rq_q[1])};
    wire [14:0] f16s_r = {3'd0, rq_q[12:1]} + {14'd0, rq_q[0] && (r_stk || rq_q[1])};
    wire [15:0] inv16  = (rb_q <= 6'd14) ? {1'b0, f16n_r} : {1'b0, f16s_r};

    // ---------------------------------------------------------------- pass configuration
    reg [1:0]       kind_q;
    reg [1:0]       ew_q;
    reg [15:0]      it_w_q, it_h_q, it_c_q;
    reg [CNT_W-1:0] it_left_q;
    reg             t_en_q, t_s2_q;
    reg [15:0]      t_clo_q, t_chi_q;
    reg             trk_en_q;
    reg             b_en_q;
    reg             s1_en_q;
    reg        f_en_q, f_s2_q;
    reg [15:0] f_cs_q, f_hs_q, f_ws_q, f_clo_q, f_chi_q;
    reg        s1_bit_q;
    // combinational: the configuration of pass pass_q of the command held
    reg [1:0]       k_kind, k_ew;
    reg [1:0]       k_it;          // slot whose shape the loop walks
    reg             k_t_en, k_t_s2, k_trk, k_b_en, k_b_bit, k_s1, k_s1_bit, k_filt, k_f_s2;
    reg [1:0]       k_a_slot, k_b_slot, k_f_slot;
    reg [15:0]      k_t_clo, k_t_chi, k_f_clo, k_f_chi;
    always @* begin
        k_kind = K_EW;   k_ew = E_ADD;  k_it = 2'd2;
        k_t_en = 1'b0;   k_t_s2 = 1'b0; k_t_clo = 16'd0; k_t_chi = 16'd0;
        k_trk = 1'b1;    k_a_slot = 2'd2;
        k_b_en = 1'b0;   k_b_bit = 1'b0; k_b_slot = 2'd3;
        k_s1 = 1'b1;     k_s1_bit = 1'b0;
        k_filt = 1'b0;   k_f_slot = 2'd1; k_f_clo = 16'd0; k_f_chi = 16'd0; k_f_s2 = 1'b0;
        case (op_q)
            OP_ADD_RELU_FP: begin
                k_ew = E_RELU;
                k_b_en = 1'b1; k_b_bit = 1'b1;
                if (shortcut) begin
                    k_t_en  = 1'b1;
                    k_t_clo = (c_q[2] - c_q[1]) >> 1;
                    k_t_chi = ((c_q[2] - c_q[1]) >> 1) + c_q[1];
                    k_filt  = 1'b1; k_f_slot = 2'd1; k_f_clo = 16'd0; k_f_chi = c_q[1]; k_f_s2 = stride2;
                end
            end
            OP_ADD_RELU_BP: begin
                k_s1_bit = 1'b1;
                if (!pass_q) begin
                    k_ew = E_BP1; k_it = 2'd0;
                    k_b_en = !shortcut; k_b_bit = 1'b0;
                end else begin
                    k_kind = K_SCAT; k_it = 2'd3; k_t_s2 = stride2;
                    k_trk = 1'b0; k_a_slot = 2'd3;
                    k_filt = 1'b1; k_f_slot = 2'd0;
                    k_f_clo = (c_q[0] - c_q[3]) >> 1;
                    k_f_chi = ((c_q[0] - c_q[3]) >> 1) + c_q[3];
                end
            end
            OP_POOL_FP: begin
                k_kind = K_PFP; k_it = 2'd0; k_a_slot = 2'd1; k_s1 = 1'b0;
            end
            OP_POOL_BP: begin
                k_kind = K_PBP; k_it = 2'd1; k_a_slot = 2'd1; k_s1 = 1'b0;
            end
            default: ;
        endcase
    end

    // ---------------------------------------------------------------- readers, sources
    wire        s_start = (state_q == S_GO);
    wire [1:0]  rq_v, rq_r, w_v, w_r, w_last;
    wire [2*(AW-2)-1:0] rq_a;
    wire [9:0]  rq_l;
    wire [1:0]  rdv, rdr;
    wire [31:0] rdd;
    wire [63:0] w_d;
    wire [1:0]  rbusy, sbusy;
    wire [1:0]  e_v, e_r;
    wire [31:0] e_d;
    wire        e_v2, e_take2, e1_v2;     // the sources' pairs (POOL_FP, ADD_RELU_BP's ds with the shortcut)
    wire [15:0] e_d2, e1_d2;
    wire [CNT_W-1:0] s_cnt0 = cnt_q[0];
    wire [CNT_W-1:0] s_cnt1 = cnt_q[1];
    wire [CNT_W-1:0] nw0 = (s_cnt0 + 1'b1) >> 1;
    wire [CNT_W-1:0] nw1 = s1_bit_q ? ((s_cnt1 + {{(CNT_W-5){1'b0}}, 5'd31}) >> 5) : ((s_cnt1 + 1'b1) >> 1);
    wire unused_nw = &{1'b0, nw0[CNT_W-1:AW-2], nw1[CNT_W-1:AW-2], w_last, 1'b0};

    accel_rd #(.AW(AW), .FIFO_WORDS(32), .MAX_LEN(16)) u_rd0 (
        .clk(clk), .rst(rst), .start(s_start), .base(base_q[0][AW-1:0]), .nwords(nw0[AW-3:0]),
        .busy(rbusy[0]), .req_valid(rq_v[0]), .req_ready(rq_r[0]), .req_addr(rq_a[0 +: AW-2]),
        .req_len(rq_l[0 +: 5]), .rd_valid(rdv[0]), .rd_ready(rdr[0]), .rd_data(rdd),
        .m_valid(w_v[0]), .m_ready(w_r[0]), .m_data(w_d[0 +: 32]), .m_last(w_last[0]));
    accel_rd #(.AW(AW), .FIFO_WORDS(32), .MAX_LEN(16)) u_rd1 (
        .clk(clk), .rst(rst), .start(s_start && s1_en_q), .base(base_q[1][AW-1:0]), .nwords(nw1[AW-3:0]),
        .busy(rbusy[1]), .req_valid(rq_v[1]), .req_ready(rq_r[1]), .req_addr(rq_a[AW-2 +: AW-2]),
        .req_len(rq_l[5 +: 5]), .rd_valid(rdv[1]), .rd_ready(rdr[1]), .rd_data(rdd),
        .m_valid(w_v[1]), .m_ready(w_r[1]), .m_data(w_d[32 +: 32]), .m_last(w_last[1]));
    accel_rd_arb #(.N(2), .AW(AW), .DEPTH(8)) u_rd_arb (
        .clk(clk), .rst(rst), .req_valid(rq_v), .req_ready(rq_r), .req_addr(rq_a), .req_len(rq_l),
        .rd_valid(rdv), .rd_ready(rdr), .rd_data(rdd),
        .mem_req_valid(rd_req_valid), .mem_req_ready(rd_req_ready), .mem_req_addr(rd_req_addr),
        .mem_req_len(rd_req_len), .mem_rd_valid(rd_valid), .mem_rd_ready(rd_ready), .mem_rd_data(rd_data));

    // the filter of the configured pass (both sources of a pass share it)
    accel_vec_src #(.CNT_W(CNT_W)) u_src0 (
        .clk(clk), .rst(rst), .start(s_start), .count(s_cnt0), .bit1(1'b0),
        .filt(f_en_q && kind_q == K_SCAT), .cs(f_cs_q), .hs(f_hs_q), .ws(f_ws_q), .clo(f_clo_q),
        .chi(f_chi_q), .s2(f_s2_q), .busy(sbusy[0]),
        .w_valid(w_v[0]), .w_ready(w_r[0]), .w_data(w_d[0 +: 32]),
        .o_valid(e_v[0]), .o_ready(e_r[0]), .o_data(e_d[0 +: 16]),
        .o_valid2(e_v2), .o_take2(e_take2), .o_data2(e_d2));
    accel_vec_src #(.CNT_W(CNT_W)) u_src1 (
        .clk(clk), .rst(rst), .start(s_start && s1_en_q), .count(s_cnt1), .bit1(s1_bit_q),
        .filt(f_en_q), .cs(f_cs_q), .hs(f_hs_q), .ws(f_ws_q), .clo(f_clo_q),
        .chi(f_chi_q), .s2(f_s2_q), .busy(sbusy[1]),
        .w_valid(w_v[1]), .w_ready(w_r[1]), .w_data(w_d[32 +: 32]),
        .o_valid(e_v[1]), .o_ready(e_r[1]), .o_data(e_d[16 +: 16]),
        .o_valid2(e1_v2), .o_take2(e_take2), .o_data2(e1_d2));
    wire unused_e1 = &{1'b0, e1_d2[15:1], 1'b0};

    // ---------------------------------------------------------------- the element loop
    reg  [15:0] ox_q, oy_q, oc_q;
    reg  [31:0] acc_q;             // POOL_FP: running binary32 sum
    reg  [15:0] held_q;            // POOL_BP: the plane's value
    wire        plane0   = (ox_q == 16'd0) && (oy_q == 16'd0);
    // a pair: two output positions in one row at once where the ports allow
    // more than one element per clock (POOL_FP: 2 inputs, one binary32 add
    // after the other; POOL_BP: the plane's value twice; the stride-2
    // shortcut pattern of ADD_RELU_BP: an element and a zero; ADD_RELU_BP's
    // ds pass with the shortcut, which writes ds alone: two of d and the mask)
    wire        bp1_pair = (kind_q == K_EW) && (ew_q == E_BP1) && !b_en_q;
    wire        pair_ok  = (kind_q == K_PFP) ? e_v2 : bp1_pair ? (e_v2 && e1_v2)
                         : (kind_q == K_PBP) || (kind_q == K_SCAT && t_s2_q);
    wire        pair     = pair_ok && (ox_q + 16'd1 < it_w_q)
                         && (it_left_q > {{(CNT_W-2){1'b0}}, 2'd1});
    wire        xend     = pair ? (ox_q + 16'd2 == it_w_q) : (ox_q == it_w_q - 16'd1);
    wire        yend     = (oy_q == it_h_q - 16'd1);
    wire        grp_end  = xend && yend;
    wire        last_el  = (it_left_q == (pair ? {{(CNT_W-2){1'b0}}, 2'd2} : {{(CNT_W-1){1'b0}}, 1'b1}));
    wire        run_act  = (state_q == S_RUN) && (it_left_q != {CNT_W{1'b0}});
    wire        take     = (kind_q == K_SCAT) ? (!t_s2_q || (!oy_q[0] && !ox_q[0]))
                         : (!t_en_q || ((oc_q >= t_clo_q) && (oc_q < t_chi_q)));
    wire        need0    = (kind_q == K_PBP) ? plane0 : (kind_q == K_SCAT) ? take : 1'b1;
    wire        need1    = s1_en_q && take && (kind_q == K_EW || kind_q == K_SCAT);
    wire        push_a   = (kind_q != K_PFP) || grp_end;
    wire        a_rdy, b_rdy, trk_rdy;
    wire        fire     = run_act && (!need0 || e_v[0]) && (!need1 || e_v[1])
                         && (!push_a || (a_rdy && trk_rdy)) && (!b_en_q || b_rdy);
    assign e_r[0] = fire && need0;
    assign e_r[1] = fire && need1;
    assign e_take2 = fire && pair && ((kind_q == K_PFP) || bp1_pair);
    wire   two_a  = pair && (kind_q != K_PFP);      // two elements to the FP16 output

    wire        sr_a16, sr_m16, sr_a32, sr_m32;
    wire [15:0] x0 = e_d[0 +: 16];
    wire [15:0] x1 = e_d[16 +: 16];
    // binary16 a + b (b = +0 outside the shortcut's channels)
    wire [15:0] sum16;
    wire [4:0]  st_a16;
    wire        v_a16;
    fp_add #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_add16 (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(sr_a16), .s_a(x0), .s_b(take ? x1 : 16'h0000),
        .m_valid(v_a16), .m_ready(1'b1), .m_result(sum16), .m_status(st_a16));
    // binary16 dfeat * RNE16(1/(H W))
    wire [15:0] prod16;
    wire [4:0]  st_m16;
    wire        v_m16;
    fp_mul #(.EXP_W(5), .MAN_W(10), .LATENCY(0)) u_mul16 (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(sr_m16), .s_a(x0), .s_b(inv_q[15:0]),
        .m_valid(v_m16), .m_ready(1'b1), .m_result(prod16), .m_status(st_m16));
    // binary32 running sum and the scaled mean
    wire [31:0] x32, x32b, sum32a, sum32b, sum32, mean32;
    wire [4:0]  st_a32b;
    wire        v_a32b, sr_a32b;
    wire [15:0] mean16;
    wire [4:0]  st_a32, st_m32;
    wire        v_a32, v_m32, of16;
    bn_f16_to_f32 u_cvt_in (.a(x0), .y(x32));
    bn_f16_to_f32 u_cvt_in2 (.a(e_d2), .y(x32b));
    fp_add #(.EXP_W(8), .MAN_W(23), .LATENCY(0)) u_add32 (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(sr_a32), .s_a(acc_q), .s_b(x32),
        .m_valid(v_a32), .m_ready(1'b1), .m_result(sum32a), .m_status(st_a32));
    fp_add #(.EXP_W(8), .MAN_W(23), .LATENCY(0)) u_add32b (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(sr_a32b), .s_a(sum32a), .s_b(x32b),
        .m_valid(v_a32b), .m_ready(1'b1), .m_result(sum32b), .m_status(st_a32b));
    assign sum32 = pair ? sum32b : sum32a;
    fp_mul #(.EXP_W(8), .MAN_W(23), .LATENCY(0)) u_mul32 (
        .clk(clk), .rst(rst), .s_valid(1'b1), .s_ready(sr_m32), .s_a(sum32), .s_b(inv_q),
        .m_valid(v_m32), .m_ready(1'b1), .m_result(mean32), .m_status(st_m32));
    bn_f32_to_f16 u_cvt_out (.a(mean32), .y(mean16), .of(of16));
    wire unused_fp = &{1'b0, sr_a32b, v_a32b, st_a32b, sr_a16, sr_m16, sr_a32, sr_m32, st_a16, v_a16, st_m16, v_m16, st_a32, st_m32, v_a32, v_m32, of16, 1'b0};

    wire        relu_pos = !sum16[15] && (sum16[14:0] != 15'd0);
    wire [15:0] ds16     = x1[0] ? x0 : 16'h0000;
    reg  [15:0] val_a;
    always @* begin
        case (kind_q)
            K_EW:    val_a = (ew_q == E_ADD) ? sum16 : (ew_q == E_RELU) ? (relu_pos ? sum16 : 16'h0000) : ds16;
            K_SCAT:  val_a = take ? ds16 : 16'h0000;
            K_PFP:   val_a = mean16;
            default: val_a = plane0 ? prod16 : held_q;
        endcase
    end
    wire [15:0] val_b = (ew_q == E_RELU) ? {15'd0, relu_pos} : ds16;

    // ---------------------------------------------------------------- tracker, packers, writes
    wire       trk_v, trk_nf;
    wire [7:0] trk_e;
    wire [15:0] trk_max;
    wire       in_a_v = (state_q == S_RUN) ? (fire && push_a) : (state_q == S_SC0) ? trk_v : (state_q == S_SC1);
    // the pair's second element: POOL_BP the same value, the shortcut pattern a zero
    wire [15:0] val_a2 = (kind_q == K_PBP) ? val_a : bp1_pair ? (e1_d2[0] ? e_d2 : 16'h0000) : 16'h0000;
    wire [31:0] in_a_d = (state_q == S_RUN) ? {val_a2, val_a} : (state_q == S_SC0) ? {24'd0, trk_e}
                                                                                    : {16'd0, trk_max};
    wire       in_a_l = (state_q == S_RUN) ? (last_el && !trk_en_q) : (state_q == S_SC1);
    amax_track #(.LANES(2), .E_W(8)) u_trk (
        .clk(clk), .rst(rst), .s_valid((state_q == S_RUN) && trk_en_q && fire && push_a), .s_ready(trk_rdy),
        .s_x({two_a ? val_a2 : 16'h0000, val_a}), .s_last(last_el), .m_valid(trk_v), .m_ready((state_q == S_SC1) && a_rdy),
        .m_e(trk_e), .m_max(trk_max), .m_nf(trk_nf));
    wire unused_trk = &{1'b0, trk_nf, 1'b0};

    reg  [AW-1:0] a_base_q, b_base_q;
    reg         b_bit_q;
    wire [1:0]  pw_v, pw_r;
    wire [2*(AW-2)-1:0] pw_a;
    wire [63:0] pw_d;
    wire [7:0]  pw_s;
    wire        a_busy, b_busy;
    accel_vec_pack #(.AW(AW)) u_pack_a (
        .clk(clk), .rst(rst), .start(s_start), .base(a_base_q), .bit1(1'b0), .busy(a_busy),
        .in_valid(in_a_v), .in_ready(a_rdy), .in_data(in_a_d), .in_two((state_q == S_RUN) && two_a),
        .in_last(in_a_l),
        .out_valid(pw_v[0]), .out_ready(pw_r[0]), .out_addr(pw_a[0 +: AW-2]), .out_data(pw_d[0 +: 32]),
        .out_strb(pw_s[0 +: 4]));
    accel_vec_pack #(.AW(AW)) u_pack_b (
        .clk(clk), .rst(rst), .start(s_start && b_en_q), .base(b_base_q), .bit1(b_bit_q), .busy(b_busy),
        .in_valid(fire && b_en_q), .in_ready(b_rdy), .in_data({16'd0, val_b}), .in_two(1'b0), .in_last(last_el),
        .out_valid(pw_v[1]), .out_ready(pw_r[1]), .out_addr(pw_a[AW-2 +: AW-2]), .out_data(pw_d[32 +: 32]),
        .out_strb(pw_s[4 +: 4]));
    accel_wr_arb #(.N(2), .AW(AW)) u_wr_arb (
        .clk(clk), .rst(rst), .wr_valid(pw_v), .wr_ready(pw_r), .wr_addr(pw_a), .wr_data(pw_d), .wr_strb(pw_s),
        .mem_wr_valid(wr_valid), .mem_wr_ready(wr_ready), .mem_wr_addr(wr_addr), .mem_wr_data(wr_data),
        .mem_wr_strb(wr_strb));

    wire drained = !a_busy && !b_busy && !wr_valid && !(|rbusy) && !(|sbusy);
    wire is_vec  = (cmd_op == OP_ADD_RELU_FP) || (cmd_op == OP_POOL_FP) || (cmd_op == OP_POOL_BP)
                || (cmd_op == OP_ADD_RELU_BP) || (cmd_op == OP_ADD);

    // ---------------------------------------------------------------- sequencing
    integer si;
    always @(posedge clk) begin
        if (rst) begin
            state_q   <= S_IDLE;
            done_q    <= 1'b0;
            it_left_q <= {CNT_W{1'b0}};
        end else begin
            done_q <= 1'b0;
            case (state_q)
                S_IDLE: if (cmd_fire) begin
                    op_q    <= cmd_op;
                    flags_q <= cmd_flags;
                    pass_q  <= 1'b0;
                    for (si = 0; si < 4; si = si + 1) begin
                        base_q[si] <= cmd_base[32*si +: 32];
                        c_q[si]    <= cmd_shape[64*si + 32 +: 16];
                        h_q[si]    <= cmd_shape[64*si + 16 +: 16];
                        w_q[si]    <= cmd_shape[64*si +: 16];
                        cnt_q[si]  <= prod_cnt[si][CNT_W-1:0];
                    end
                    state_q <= !is_vec ? S_FIN
                             : (cmd_op == OP_POOL_FP || cmd_op == OP_POOL_BP) ? S_RINIT : S_CFG;
                end
                S_RINIT: begin
                    rn_q    <= hw_prod;
                    rb_q    <= nb;
                    r16_q   <= (op_q == OP_POOL_BP);
                    rk_q    <= (op_q == OP_POOL_BP) ? ((nb <= 6'd14) ? {1'b0, nb} + 7'd12 : 7'd26)
                                                    : {1'b0, nb} + 7'd25;
                    rfirst_q <= 1'b1;
                    rr_q    <= 34'd0;
                    rq_q    <= 26'd0;
                    state_q <= S_RECIP;
                end
                S_RECIP: begin
                    // rk_q counts the K+1 numerator bits (1, then K zeros) down
                    rfirst_q <= 1'b0;
                    rr_q <= r_ge ? r2 - {2'd0, rn_q} : r2;
                    rq_q <= {rq_q[24:0], r_ge};
                    rk_q <= rk_q - 7'd1;
                    if (rk_q == 7'd1) state_q <= S_RFMT;
                end
                S_RFMT: begin
                    inv_q   <= r16_q ? {16'd0, inv16} : {1'b0, f32_r};
                    state_q <= S_CFG;
                end
                S_CFG: begin
                    kind_q    <= k_kind;
                    ew_q      <= k_ew;
                    it_w_q    <= w_q[k_it];
                    it_h_q    <= h_q[k_it];
                    it_c_q    <= c_q[k_it];
                    it_left_q <= cnt_q[k_it];
                    t_en_q    <= k_t_en;
                    t_s2_q    <= k_t_s2;
                    t_clo_q   <= k_t_clo;
                    t_chi_q   <= k_t_chi;
                    trk_en_q  <= k_trk;
                    b_en_q    <= k_b_en;
                    b_bit_q   <= k_b_bit;
                    a_base_q  <= base_q[k_a_slot][AW-1:0];
                    b_base_q  <= base_q[k_b_slot][AW-1:0];
                    s1_en_q   <= k_s1;
                    s1_bit_q  <= k_s1_bit;
                    f_en_q    <= k_filt;
                    f_s2_q    <= k_f_s2;
                    f_cs_q    <= c_q[k_f_slot];
                    f_hs_q    <= h_q[k_f_slot];
                    f_ws_q    <= w_q[k_f_slot];
                    f_clo_q   <= k_f_clo;
                    f_chi_q   <= k_f_chi;
                    state_q   <= S_GO;
                end
                S_GO: begin
                    ox_q    <= 16'd0;
                    oy_q    <= 16'd0;
                    oc_q    <= 16'd0;
                    acc_q   <= 32'd0;
                    state_q <= S_RUN;
                end
                S_RUN: begin
                    if (fire) begin
                        it_left_q <= it_left_q - (pair ? {{(CNT_W-2){1'b0}}, 2'd2} : {{(CNT_W-1){1'b0}}, 1'b1});
                        if (xend) begin
                            ox_q <= 16'd0;
                            if (yend) begin
                                oy_q <= 16'd0;
                                oc_q <= (oc_q == it_c_q - 16'd1) ? 16'd0 : oc_q + 16'd1;
                            end else begin
                                oy_q <= oy_q + 16'd1;
                            end
                        end else begin
                            ox_q <= ox_q + (pair ? 16'd2 : 16'd1);
                        end
                        acc_q <= grp_end ? 32'd0 : sum32;
                        if (plane0) held_q <= prod16;
                        if (last_el) state_q <= trk_en_q ? S_SC0 : S_DRAIN;
                    end
                end
                S_SC0: if (trk_v && a_rdy) state_q <= S_SC1;
                S_SC1: if (a_rdy) state_q <= S_DRAIN;
                S_DRAIN: if (drained) begin
                    if (op_q == OP_ADD_RELU_BP && shortcut && !pass_q) begin
                        pass_q  <= 1'b1;
                        state_q <= S_CFG;
                    end else begin
                        state_q <= S_FIN;
                    end
                end
                S_FIN: begin
                    done_q  <= 1'b1;
                    state_q <= S_IDLE;
                end
                default: state_q <= S_IDLE;
            endcase
        end
    end

`ifndef SYNTHESIS
    always @(posedge clk) begin
        if (!rst) begin
            assert (!(state_q == S_DRAIN) || !(|e_v)) else $error("%m: source elements left at the end of a pass");
        end
    end
`endif
endmodule
`default_nettype wire
