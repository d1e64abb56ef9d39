`default_nettype none
// Layer-descriptor check of the PE array's controller: a layer's counts,
// capacity and buffer-half fit, computed over several clocks by one
// sequential multiplier (radix 4, 2 bits of a 16-bit factor per clock) and
// divider (restoring, 1 bit per clock; a power-of-two ROWS or COLS is a
// shift). They are needed once per layer, and in one clock they were a chain
// of 64-bit products and divisions by 3 and ROWS that no clock can hold.
// Descriptor layout and the quantities' meaning: pe_ctrl.v. A step that the
// layer's kind does not need is skipped: on 16 x 32, FP/BP 3x3 takes 67 clocks,
// 1x1 / FC 103, WG 121-130 (tb/test_pe_desc.py logs them).
// Products are exact up to 2^XW; a larger one saturates, which only happens
// for a layer the capacity check rejects (every such product bounds the
// input or weight count from below).
// s_ready while idle; the result holds on m_* while m_valid, until m_ready.
module pe_desc #(
    parameter ROWS   = 16,    // PE rows
    parameter COLS   = 32,    // PE columns
    parameter IDEPTH = 1024,  // input buffer: 3*IDEPTH bytes
    parameter WDEPTH = 1024,  // weight buffer words per bank
    parameter QW     = 12     // runner address width (pe_ctrl: IAW + 2)
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          s_valid,
    output wire          s_ready,
    input  wire [95:0]   s_data,
    output wire          m_valid,
    input  wire          m_ready,
    output wire [95:0]   m_desc,
    output wire [1:0]    m_code,    // 0 accepted, 1 illegal shape, 3 above capacity
    output wire          m_fit,     // fits half of both buffers
    output wire [31:0]   m_count,   // input bytes to load
    output wire [15:0]   m_ld_m,    // weight-buffer load: rows of kernels
    output wire [15:0]   m_ld_c,    // and kernels per row
    output wire [QW-1:0] m_base,    // wx + 1: the first input byte after the top padding
    output wire          m_wgt,     // WG 3x3 stride 2 with x on the rows (BC)
    output wire [15:0]   m_g,       // row items
    output wire [15:0]   m_c3,      // BC: reduction words of 3
    output wire [1:0]    m_kyl,     // BC: channel of the last beat, mod 3
    output wire [QW-1:0] m_hw,      // hx * wx
    output wire [QW-1:0] m_chw      // cx * hx * wx
);
    localparam XW  = 34;            // krr * mc and mr * krc are below 2^34 for 16-bit fields
    localparam IAW = (IDEPTH > 1) ? $clog2(IDEPTH) : 1;
    localparam DW  = (IAW + 3 > 18) ? IAW + 3 : 18;   // dividend bits: 2^DW > 3*IDEPTH + 2 and > 3c + ROWS
    localparam DMAX = (ROWS > COLS) ? ((ROWS > 3) ? ROWS : 3) : ((COLS > 3) ? COLS : 3);
    localparam RBW = $clog2(DMAX);  // remainder bits (< divisor)
    localparam ROWS_P2 = (ROWS & (ROWS - 1)) == 0;
    localparam COLS_P2 = (COLS & (COLS - 1)) == 0;
    localparam integer ROWS_L = $clog2(ROWS), COLS_L = $clog2(COLS);
    localparam [XW:0] CAP_IN  = 3 * IDEPTH, CAP_W = WDEPTH;
    localparam [XW:0] FIT_IN  = 3 * (IDEPTH / 2), FIT_W = 3 * (WDEPTH / 6);
    localparam [XW-1:0] ROWS1 = ROWS - 1, COLS1 = COLS - 1;
    localparam [RBW:0]  DV_ROWS = ROWS, DV_COLS = COLS, DV_3 = 3;
    localparam [XW:0]   X2 = 2;
    localparam integer  DLAST_I = DW - 1;
    localparam [4:0]    DLAST = DLAST_I[4:0];

    initial begin
        if (ROWS < 1 || COLS < 1 || ROWS > 65536 || COLS > 65536) $fatal(1, "pe_desc: 1 <= ROWS, COLS <= 65536");
        if (QW < 2 || QW > 32) $fatal(1, "pe_desc: QW must be 2..32");
        if (DW > 31) $fatal(1, "pe_desc: IDEPTH must be at most 2^28 (the divider step count and XW)");
    end

    // ---- steps (a step a layer does not need is skipped)
    localparam [4:0] P_KRR = 5'd0,  P_MC  = 5'd1,  P_TXR = 5'd2,  P_MR  = 5'd3,  P_KRC = 5'd4,
                     P_TDR = 5'd5,  P_WGT = 5'd6,  P_HW  = 5'd7,  P_CHW = 5'd8,  P_IN  = 5'd9,
                     P_HOW = 5'd10, P_R   = 5'd11, P_HW3 = 5'd12, P_LC  = 5'd13, P_C3  = 5'd14,
                     P_G   = 5'd15, P_Q   = 5'd16, P_Q3  = 5'd17, P_WW  = 5'd18, P_SPAN = 5'd19,
                     P_FIN = 5'd20;
    localparam [1:0] OP_NOP = 2'd0, OP_MUL = 2'd1, OP_DIV = 2'd2;
    localparam [1:0] D_3 = 2'd0, D_ROWS = 2'd1, D_COLS = 2'd2;
    localparam [2:0] S_IDLE = 3'd0, S_STEP = 3'd1, S_MUL3 = 3'd2, S_MUL = 3'd3, S_DIV = 3'd4, S_DONE = 3'd5;

    reg  [2:0]  state_q;
    reg  [4:0]  pc_q;
    reg  [95:0] desc_q;
    reg         wgt_q;
    reg  [17:0] kr_q;      // 3c: kernel rows (c, ky)

    wire [1:0]  k;
    wire [15:0] n, c, m, h, w, cx, rows, ho, wo, hx, wx;
    wire        bp, wg, w3, wgc, wgw, bc, eo, cs, shape_bad;
    wire [1:0]  sw;
    pe_desc_dec u_dec (
        .desc(desc_q), .wgt(wgt_q), .k(k), .n(n), .c(c), .m(m), .h(h), .w(w), .bp(bp), .wg(wg),
        .w3(w3), .wgc(wgc), .wgw(wgw), .bc(bc), .eo(eo), .cs(cs), .cx(cx), .rows(rows), .ho(ho),
        .wo(wo), .hx(hx), .wx(wx), .sw(sw), .shape_bad(shape_bad));
    wire unused_dec = &{1'b0, k, h, w, bp, wgw, eo, cs, sw, 1'b0};

    // results {saturated, value}
    reg [XW:0] krr_q, mc_q, txr_q, mr_q, krc_q, tdr_q, hw_q, chw_q, in_q, how_q, r_q, hw3_q, lc_q,
               c3_q, g_q, qd_q, q3_q, ww_q, span_q;
    reg [1:0]  kyl_q;
    reg [1:0]  code_q;
    reg        fit_q;

    // red: the BC reduction length (WG 3x3 s1: beats per image x images; WG: positions)
    wire [15:0] red = wgc ? lc_q[15:0] : wg ? r_q[15:0] : cx;
    wire [XW:0] g_v = (wgt_q) ? {{(XW-17){1'b0}}, kr_q} : w3 ? {{(XW-15){1'b0}}, m} : g_q;
    function [XW:0] ext16;
        input [15:0] v;
        ext16 = {{(XW-15){1'b0}}, v};
    endfunction

    // ---- the step table: operation, operand a, factor f / divisor, skip
    reg [1:0]  op;
    reg [XW:0] a_v;
    reg [15:0] f_v;
    reg [1:0]  d_v;
    reg        skip;
    wire       tiling = w3 && !wgc;          // WG 3x3 s2: compare the two tilings
    always @(*) begin
        op = OP_NOP; a_v = {(XW+1){1'b0}}; f_v = 16'd0; d_v = D_3; skip = 1'b0;
        case (pc_q)
            P_KRR: begin op = OP_DIV; a_v = {{(XW-17){1'b0}}, kr_q} + {1'b0, ROWS1}; d_v = D_ROWS; skip = !tiling; end
            P_MC:  begin op = OP_DIV; a_v = ext16(m) + {1'b0, COLS1}; d_v = D_COLS; skip = !tiling; end
            P_TXR: begin op = OP_MUL; a_v = krr_q; f_v = mc_q[15:0]; skip = !tiling; end
            P_MR:  begin op = OP_DIV; a_v = ext16(m) + {1'b0, ROWS1}; d_v = D_ROWS; skip = bc && !tiling; end
            P_KRC: begin op = OP_DIV; a_v = {{(XW-17){1'b0}}, kr_q} + {1'b0, COLS1}; d_v = D_COLS; skip = !tiling; end
            P_TDR: begin op = OP_MUL; a_v = krc_q; f_v = mr_q[15:0]; skip = !tiling; end
            P_HW:  begin op = OP_MUL; a_v = ext16(hx); f_v = wx; end
            P_CHW: begin op = OP_MUL; a_v = hw_q; f_v = cx; end
            P_IN:  begin op = OP_MUL; a_v = chw_q; f_v = n; end
            P_HOW: begin op = OP_MUL; a_v = ext16(ho); f_v = wo; skip = !wg; end
            P_R:   begin op = OP_MUL; a_v = how_q; f_v = n; skip = !wg; end
            P_HW3: begin op = OP_DIV; a_v = hw_q + X2; d_v = D_3; skip = !wgc; end
            P_LC:  begin op = OP_MUL; a_v = hw3_q; f_v = n; skip = !wgc; end
            P_C3:  begin op = OP_DIV; a_v = ext16(red) + X2; d_v = D_3; skip = !bc; end
            P_G:   begin op = OP_DIV; a_v = ext16(rows) + X2; d_v = D_3; skip = !bc || w3; end
            P_Q:   begin op = OP_DIV; a_v = g_v + {1'b0, ROWS1}; d_v = D_ROWS; skip = !bc; end
            P_Q3:  begin op = OP_MUL; a_v = bc ? qd_q : mr_q; f_v = 16'd3; end
            P_WW:  begin op = OP_MUL; a_v = q3_q; f_v = bc ? c3_q[15:0] : c; end
            default: ;
        endcase
    end

    // x and the padding around it in the buffer (saturated stays saturated);
    // 2wx + 3 registered at the HW step, the add on a prefix adder
    reg  [17:0] wx23_q;
    wire [XW:0] span_sum;
    add_ks #(.WIDTH(XW)) u_adds (.a(in_q[XW-1:0]), .b({{(XW-18){1'b0}}, wx23_q}), .sum(span_sum));
    wire [32:0] wx1 = {17'd0, wx} + 33'd1;

    // ---- arithmetic engine
    reg [XW-1:0] a_q, p_q;
    reg [XW+1:0] a3_q;
    reg [15:0]   f_q;
    reg          asat_q, psat_q;
    reg [RBW-1:0] rem_q;
    reg [4:0]    cnt_q;
    reg [1:0]    dsel_q;
    wire [XW+2:0] a3_sum;
    add_ks #(.WIDTH(XW + 2)) u_add3 (.a({2'b00, a_q}), .b({1'b0, a_q, 1'b0}), .sum(a3_sum));
    // MUL step: p = 4p + d * a, d = the factor's top 2 bits
    wire [1:0]    dig = f_q[15:14];
    wire [XW+1:0] addend = dig == 2'd0 ? {(XW+2){1'b0}} : dig == 2'd1 ? {2'b00, a_q} :
                           dig == 2'd2 ? {1'b0, a_q, 1'b0} : a3_q;
    wire [XW+2:0] p_sum;
    add_ks #(.WIDTH(XW + 2)) u_addp (.a({p_q, 2'b00}), .b(addend), .sum(p_sum));
    wire          p_ovf = p_q[XW-1] | p_q[XW-2] | p_sum[XW+2] | p_sum[XW+1] | p_sum[XW];
    // DIV step: remainder and the dividend's next bit against the divisor
    wire [RBW:0]  dvs = dsel_q == D_ROWS ? DV_ROWS : dsel_q == D_COLS ? DV_COLS : DV_3;
    wire [RBW:0]  rem_sh = {rem_q, a_q[XW-1]};
    wire          ge = rem_sh >= dvs;
    wire [RBW:0]  rem_n = ge ? rem_sh - dvs : rem_sh;
    wire          unused_rem = rem_n[RBW];
    // a power-of-two ROWS or COLS: one-clock shift
    wire          d_p2 = (d_v == D_ROWS && ROWS_P2) || (d_v == D_COLS && COLS_P2);
    wire [XW-1:0] a_shr = d_v == D_ROWS ? a_v[XW-1:0] >> ROWS_L : a_v[XW-1:0] >> COLS_L;

    wire          step_end = (state_q == S_MUL && cnt_q == 5'd7) || (state_q == S_DIV && cnt_q == DLAST);
    wire [XW:0]   res = state_q == S_MUL ? {psat_q | asat_q | p_ovf, p_sum[XW-1:0]}
                                         : {asat_q, {(XW-DW){1'b0}}, p_q[DW-2:0], ge};
    wire [XW:0]   res_p2 = {a_v[XW], a_shr};
    wire          wr_p2 = state_q == S_STEP && !skip && op == OP_DIV && d_p2;
    wire          wr = step_end || wr_p2;
    wire [XW:0]   wr_v = wr_p2 ? res_p2 : res;

    always @(posedge clk) begin
        if (rst) begin
            state_q <= S_IDLE;
        end else begin
            case (state_q)
                S_IDLE: if (s_valid) begin
                    state_q <= S_STEP;
                end
                S_STEP: begin
                    if (pc_q == P_FIN)                                   state_q <= S_DONE;
                    else if (!skip && op == OP_MUL)                       state_q <= S_MUL3;
                    else if (!skip && op == OP_DIV && !d_p2)              state_q <= S_DIV;
                end
                S_MUL3: state_q <= S_MUL;
                S_MUL, S_DIV: if (step_end) state_q <= S_STEP;
                S_DONE: if (m_ready) state_q <= S_IDLE;
                default: state_q <= S_IDLE;
            endcase
        end
    end

    always @(posedge clk) begin
        if (state_q == S_IDLE && s_valid) begin
            desc_q <= s_data;
            kr_q   <= {2'b00, s_data[47:32]} + {1'b0, s_data[47:32], 1'b0};
            wgt_q  <= 1'b0;
            pc_q   <= P_KRR;
        end
        if (state_q == S_STEP) begin
            cnt_q  <= 5'd0;
            dsel_q <= d_v;
            a_q    <= op == OP_DIV ? a_v[XW-1:0] << (XW - DW) : a_v[XW-1:0];
            // a dividend at or above 2^DW: only hw + 2 of a layer rejected for size
            asat_q <= a_v[XW] || (op == OP_DIV && a_v[XW-1:DW] != 0);
            f_q    <= f_v;
            p_q    <= {XW{1'b0}};
            psat_q <= 1'b0;
            rem_q  <= {RBW{1'b0}};
            if (skip || op == OP_NOP || wr_p2) pc_q <= pc_q + 5'd1;
            if (pc_q == P_WGT) wgt_q <= tiling && txr_q <= tdr_q;
            if (pc_q == P_HW) wx23_q <= {1'b0, wx, 1'b1} + 18'd2;
            if (pc_q == P_SPAN) span_q <= {in_q[XW] | span_sum[XW], span_sum[XW-1:0]};
        end
        if (state_q == S_MUL3) a3_q <= a3_sum[XW+1:0];
        if (state_q == S_MUL) begin
            cnt_q  <= cnt_q + 5'd1;
            f_q    <= {f_q[13:0], 2'b00};
            p_q    <= p_sum[XW-1:0];
            psat_q <= psat_q | p_ovf;
        end
        if (state_q == S_DIV) begin
            cnt_q <= cnt_q + 5'd1;
            a_q   <= {a_q[XW-2:0], 1'b0};
            p_q   <= {p_q[XW-2:0], ge};
            rem_q <= rem_n[RBW-1:0];
        end
        if (step_end) pc_q <= pc_q + 5'd1;
        if (wr) begin
            case (pc_q)
                P_KRR: krr_q <= wr_v;
                P_MC:  mc_q  <= wr_v;
                P_TXR: txr_q <= wr_v;
                P_MR:  mr_q  <= wr_v;
                P_KRC: krc_q <= wr_v;
                P_TDR: tdr_q <= wr_v;
                P_HW:  hw_q  <= wr_v;
                P_CHW: chw_q <= wr_v;
                P_IN:  in_q  <= wr_v;
                P_HOW: how_q <= wr_v;
                P_R:   r_q   <= wr_v;
                P_HW3: hw3_q <= wr_v;
                P_LC:  lc_q  <= wr_v;
                P_C3:  begin c3_q <= wr_v; kyl_q <= rem_n[1:0]; end
                P_G:   g_q   <= wr_v;
                P_Q:   qd_q  <= wr_v;
                P_Q3:  q3_q  <= wr_v;
                P_WW:  ww_q  <= wr_v;
                default: ;
            endcase
        end
        // P_FIN: the checks on the registered counts
        if (state_q == S_STEP && pc_q == P_FIN) begin
            // WG 3x3 stride 2 with x on the rows: 3c row items must fit the 16-bit row counters
            code_q <= shape_bad ? 2'd1 :
                      (span_q > CAP_IN || ww_q > CAP_W || (wg && r_q[XW:16] != 0) ||
                       (wgt_q && kr_q[17:16] != 2'b00)) ? 2'd3 : 2'd0;
            fit_q  <= span_q <= FIT_IN && ww_q <= FIT_W;
        end
    end

    // factors and counts are 16 bits, their saturation implied by the products'
    wire unused = &{1'b0, mc_q, lc_q, c3_q, wx1, a3_sum[XW+2], 1'b0};
    assign s_ready = !rst && state_q == S_IDLE;     // nothing is taken (and lost) during reset
    assign m_valid = state_q == S_DONE;
    assign m_desc  = desc_q;
    assign m_code  = code_q;
    assign m_fit   = fit_q;
    assign m_count = in_q[31:0];
    assign m_ld_m  = bc ? g_v[15:0] : m;
    assign m_ld_c  = bc ? c3_q[15:0] : c;
    assign m_base  = wx1[QW-1:0];
    assign m_wgt   = wgt_q;
    assign m_g     = g_v[15:0];
    assign m_c3    = c3_q[15:0];
    assign m_kyl   = kyl_q;
    assign m_hw    = hw_q[QW-1:0];
    assign m_chw   = chw_q[QW-1:0];
endmodule
`default_nettype wire
