`default_nettype none
// Element source of the vector engine (accel_vec): unpacks the 32-bit words
// of one tensor (from an accel_rd) into its elements, in order, and drops the
// elements a filter rejects.
//
//   start        one-clock pulse, taken while !busy: a new tensor of count
//                elements (>= 1) of 16 bits (bit1 = 0, FP16: element 2k in
//                bits 15:0 of word k) or 1 bit (bit1 = 1, a mask: element j in
//                bit j % 32 of word j / 32); the words must come in order, as
//                many as hold count elements
//   filt         filter on: the tensor is (., cs, hs, ws) in NCHW order and an
//                element at (c, y, x) is kept when clo <= c < chi and, with s2,
//                y and x are even (filt off: every element is kept)
//   w_*          word stream in; o_* the kept elements (o_data: the element in
//                bits 15:0, a mask bit in bit 0)
//   o_valid2     (with o_valid) two elements are offered: o_data and o_data2,
//                the next two of one word (no filter, >= 2 left; 16-bit: the
//                word's two halves; bits: not the word's last bit); o_take2 with
//                o_ready takes both
//   busy         elements of the tensor are left (kept or not)
// Throughput: one element (kept or dropped) per clock, or a pair with o_take2,
//   or an element with the dropped second half of its word;
//   the next word loads while the last element of the word leaves.
// Reset (rst, synchronous, active high): idle on the next clock.
module accel_vec_src #(
    parameter CNT_W = 36    // element count bits, >= 2
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             start,
    input  wire [CNT_W-1:0] count,
    input  wire             bit1,
    input  wire             filt,
    input  wire [15:0]      cs,
    input  wire [15:0]      hs,
    input  wire [15:0]      ws,
    input  wire [15:0]      clo,
    input  wire [15:0]      chi,
    input  wire             s2,
    output wire             busy,
    input  wire             w_valid,
    output wire             w_ready,
    input  wire [31:0]      w_data,
    output wire             o_valid,
    input  wire             o_ready,
    output wire [15:0]      o_data,
    output wire             o_valid2,
    input  wire             o_take2,
    output wire [15:0]      o_data2
);
    initial begin
        if (CNT_W < 2) $fatal(1, "accel_vec_src: CNT_W must be >= 2");
    end

    reg [CNT_W-1:0] left_q;
    reg             bit1_q, filt_q, s2_q;
    reg [15:0]      cs_q, hs_q, ws_q, clo_q, chi_q;
    reg [31:0]      hold_q;
    reg             hv_q;
    reg [4:0]       idx_q;
    reg [15:0]      xx_q, yy_q, cc_q;

    wire keep = !filt_q || ((cc_q >= clo_q) && (cc_q < chi_q) && (!s2_q || (!yy_q[0] && !xx_q[0])));
    wire [15:0] elem = bit1_q ? {15'd0, hold_q[idx_q]} : (idx_q[0] ? hold_q[31:16] : hold_q[15:0]);
    wire u_valid = hv_q;
    wire u_ready = keep ? o_ready : 1'b1;
    wire u_fire  = u_valid && u_ready;
    wire two     = u_fire && o_take2 && o_valid2;
    // a word's second half that the filter drops leaves with its first (kept
    // and taken, or dropped): the stride-2 pattern and dropped channels move a
    // word per clock
    wire [15:0] xx_n1  = xx_q + 16'd1;
    wire same_row      = (xx_n1 != ws_q);
    wire keep_n1       = !filt_q || ((cc_q >= clo_q) && (cc_q < chi_q) && (!s2_q || (!yy_q[0] && !xx_n1[0])));
    wire skip2         = u_fire && !two && !bit1_q && (idx_q == 5'd0) && same_row && !keep_n1
                      && (left_q > {{(CNT_W-2){1'b0}}, 2'd1});
    wire step2         = two || skip2;
    wire [4:0] idx_max = bit1_q ? 5'd31 : 5'd1;
    wire [CNT_W-1:0] left_after = left_q - (step2 ? {{(CNT_W-2){1'b0}}, 2'd2}
                                                  : {{(CNT_W-1){1'b0}}, u_fire});
    wire wdone = u_fire && ((step2 ? (!bit1_q || idx_q == 5'd30) : (idx_q == idx_max))
                         || (left_after == {CNT_W{1'b0}}));
    wire row_end = step2 ? (xx_q + 16'd2 == ws_q) : (xx_q == ws_q - 16'd1);

    assign busy    = (left_q != {CNT_W{1'b0}});
    assign o_valid = u_valid && keep;
    assign o_data  = elem;
    wire [4:0] idx_n1 = idx_q + 5'd1;
    assign o_valid2 = hv_q && !filt_q && (bit1_q ? (idx_q != 5'd31) : (idx_q == 5'd0))
                   && (left_q > {{(CNT_W-2){1'b0}}, 2'd1});
    assign o_data2 = bit1_q ? {15'd0, hold_q[idx_n1]} : hold_q[31:16];
    assign w_ready = busy && (!hv_q || wdone) && (left_after != {CNT_W{1'b0}});
    wire w_fire = w_valid && w_ready;

    always @(posedge clk) begin
        if (rst) begin
            left_q <= {CNT_W{1'b0}};
            hv_q   <= 1'b0;
        end else if (start && !busy) begin
            left_q <= count;
            hv_q   <= 1'b0;
            idx_q  <= 5'd0;
            bit1_q <= bit1;
            filt_q <= filt;
            s2_q   <= s2;
            cs_q   <= cs;
            hs_q   <= hs;
            ws_q   <= ws;
            clo_q  <= clo;
            chi_q  <= chi;
            xx_q   <= 16'd0;
            yy_q   <= 16'd0;
            cc_q   <= 16'd0;
        end else begin
            if (u_fire) begin
                left_q <= left_after;
                idx_q  <= idx_q + (step2 ? 5'd2 : 5'd1);
                if (row_end) begin
                    xx_q <= 16'd0;
                    if (yy_q == hs_q - 16'd1) begin
                        yy_q <= 16'd0;
                        cc_q <= (cc_q == cs_q - 16'd1) ? 16'd0 : cc_q + 16'd1;
                    end else begin
                        yy_q <= yy_q + 16'd1;
                    end
                end else begin
                    xx_q <= xx_q + (step2 ? 16'd2 : 16'd1);
                end
            end
            if (w_fire) begin
                hold_q <= w_data;
                hv_q   <= 1'b1;
                idx_q  <= 5'd0;
            end else if (wdone) begin
                hv_q <= 1'b0;
            end
        end
    end

`ifndef SYNTHESIS
    stream_check #(.W(33), .NAME("o")) u_check_o (
        .clk(clk), .rst(rst), .valid(o_valid), .ready(o_ready), .data({o_valid2, o_data2, o_data}));
    always @(posedge clk) begin
        if (!rst) assert (!(o_take2 && o_ready && o_valid) || o_valid2) else $error("%m: o_take2 without a pair");
    end
`endif
endmodule
`default_nettype wire
