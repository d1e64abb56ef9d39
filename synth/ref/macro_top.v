`default_nettype none
// Reference design for the macro flow (tests/test_synth.py): registered
// address and data into two RAMs (two 64 x 16 instances, one 8 x 4 instance),
// the read word of the first registered after an XOR with the second. The
// RAMs become SRAM macros; the path macro clock-to-Q -> XOR -> flop is timed
// through the generated Liberty stub.
module macro_top (
    input  wire        clk,
    input  wire        rst,
    input  wire        we,
    input  wire        re,
    input  wire [5:0]  addr,
    input  wire [15:0] din,
    output reg  [15:0] dout_q
);
    reg we_q, re_q;
    reg [5:0]  addr_q;
    reg [15:0] din_q;
    wire [15:0] r0, r1;
    wire [3:0]  r2;
    always @(posedge clk) begin
        if (rst) {we_q, re_q} <= 2'b00;
        else {we_q, re_q} <= {we, re};
        addr_q <= addr;
        din_q  <= din;
        dout_q <= r0 ^ r1 ^ {12'd0, r2};
    end
    ram_1r1w #(.WIDTH(16), .DEPTH(64)) u_a (.clk(clk), .wr_en(we_q), .wr_addr(addr_q), .wr_data(din_q),
                                            .rd_en(re_q), .rd_addr(addr_q), .rd_data(r0));
    ram_1r1w #(.WIDTH(16), .DEPTH(64)) u_b (.clk(clk), .wr_en(we_q), .wr_addr(~addr_q), .wr_data(~din_q),
                                            .rd_en(re_q), .rd_addr(~addr_q), .rd_data(r1));
    ram_1r1w #(.WIDTH(4), .DEPTH(8)) u_c (.clk(clk), .wr_en(we_q), .wr_addr(addr_q[2:0]),
                                          .wr_data(din_q[3:0]), .rd_en(re_q), .rd_addr(addr_q[2:0]),
                                          .rd_data(r2));
endmodule
`default_nettype wire
