`default_nettype none
// Word packer of the vector engine (accel_vec): packs a stream of 16-bit
// elements (bit1 = 0: FP16 values, or the halves of a scale word) or of 1-bit
// elements (bit1 = 1: a mask, element j in bit j % 32) into 32-bit SDRAM word
// writes from byte address base on, little-endian, element 0 in the low bits.
// A full word is written with strobe 1111; the element marked in_last flushes
// the word it ends in with the strobes of the bytes it has reached (so a
// tensor's last byte is the last one written; the unused high bits of a mask's
// last byte are 0).
//
//   start        one-clock pulse while !busy: a new stream from base (4-byte aligned)
//   in_*         elements (in_data bits 15:0, a mask bit in bit 0), in_last;
//                in_two (16-bit elements only): a pair, the second in bits 31:16
//                (a pair that ends the stream across a word boundary writes its
//                last word the clock after)
//   out_*        word writes (valid/ready, word address, data, strobes)
//   busy         a word waits on out, or elements are held (no in_last yet)
// Latency: a word is on out the clock after its last element is taken.
// Throughput: one element per clock; a word waiting on out stalls only the
//   element that would complete the next one.
// Reset (rst, synchronous, active high): idle and empty on the next clock.
module accel_vec_pack #(
    parameter AW = 32   // SDRAM byte-address bits, 8..32
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          start,
    input  wire [AW-1:0] base,
    input  wire          bit1,
    output wire          busy,
    input  wire          in_valid,
    output wire          in_ready,
    input  wire [31:0]   in_data,
    input  wire          in_two,
    input  wire          in_last,
    output wire          out_valid,
    input  wire          out_ready,
    output wire [AW-3:0] out_addr,
    output wire [31:0]   out_data,
    output wire [3:0]    out_strb
);
    initial begin
        if (AW < 8 || AW > 32) $fatal(1, "accel_vec_pack: AW must be 8..32");
    end

    reg          bit1_q;
    reg [31:0]   acc_q;
    reg [5:0]    pos_q;        // bits filled, 0..31
    reg          flush_q;      // the last word is still to be written (a pair ended the stream)
    reg [AW-3:0] addr_q;
    reg          ov_q;
    reg [AW-3:0] oaddr_q;
    reg [31:0]   odata_q;
    reg [3:0]    ostrb_q;

    wire        in_fire = in_valid && in_ready;
    wire        two     = !bit1_q && in_two;
    wire [63:0] ins     = bit1_q ? {63'd0, in_data[0]} : two ? {32'd0, in_data} : {48'd0, in_data[15:0]};
    wire [63:0] wide    = {32'd0, acc_q} | (ins << pos_q[4:0]);
    wire [31:0] nacc    = wide[31:0];
    wire [6:0]  npos    = {1'b0, pos_q} + (bit1_q ? 7'd1 : two ? 7'd32 : 7'd16);
    wire        full    = (npos >= 7'd32);
    wire        carry   = (npos > 7'd32);               // a pair crossed into the next word
    wire        emit    = in_fire && (full || in_last);
    wire [3:0]  nstrb   = full ? 4'hF : {npos > 7'd24, npos > 7'd16, npos > 7'd8, 1'b1};
    wire        flush   = flush_q && (!ov_q || out_ready);
    wire unused_wide    = &{1'b0, wide[63:48], 1'b0};
    wire unused_base = &{1'b0, base[1:0], 1'b0};

    // an element that completes no word is taken even while a word waits on out
    assign in_ready  = !flush_q && (!ov_q || out_ready || !(full || in_last));
    assign busy      = ov_q || (pos_q != 6'd0) || flush_q;
    assign out_valid = ov_q;
    assign out_addr  = oaddr_q;
    assign out_data  = odata_q;
    assign out_strb  = ostrb_q;

    always @(posedge clk) begin
        if (rst) begin
            ov_q    <= 1'b0;
            acc_q   <= 32'd0;
            pos_q   <= 6'd0;
            flush_q <= 1'b0;
        end else begin
            if (start && !busy) begin
                addr_q <= base[AW-1:2];
                bit1_q <= bit1;
                acc_q  <= 32'd0;
                pos_q  <= 6'd0;
            end else if (flush) begin
                acc_q   <= 32'd0;
                pos_q   <= 6'd0;
                flush_q <= 1'b0;
                addr_q  <= addr_q + 1'b1;
            end else if (in_fire) begin
                if (emit) begin
                    acc_q   <= carry ? wide[63:32] : 32'd0;
                    pos_q   <= carry ? 6'd16 : 6'd0;
                    flush_q <= carry && in_last;
                    addr_q  <= addr_q + 1'b1;
                end else begin
                    acc_q <= nacc;
                    pos_q <= npos[5:0];
                end
            end
            if (emit || flush) begin
                ov_q    <= 1'b1;
                oaddr_q <= addr_q;
                odata_q <= flush ? acc_q : nacc;
                ostrb_q <= flush ? 4'h3 : nstrb;
            end else if (out_ready) begin
                ov_q <= 1'b0;
            end
        end
    end

`ifndef SYNTHESIS
    stream_check #(.W(AW - 2 + 36), .NAME("out")) u_check_out (
        .clk(clk), .rst(rst), .valid(out_valid), .ready(out_ready), .data({out_addr, out_data, out_strb}));
`endif
endmodule
`default_nettype wire
