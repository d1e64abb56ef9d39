`default_nettype none
// Simple dual-port RAM: one synchronous write port, one synchronous read port
// (data one clock after the address; a read of the address being written
// returns the old word). Maps to flip-flops or an SRAM macro in synthesis.
module ram_1r1w #(
    parameter WIDTH = 32,   // word bits
    parameter DEPTH = 16,   // words
    parameter AW    = (DEPTH > 1) ? $clog2(DEPTH) : 1   // address bits
) (
    input  wire             clk,
    input  wire             wr_en,
    input  wire [AW-1:0]    wr_addr,
    input  wire [WIDTH-1:0] wr_data,
    input  wire             rd_en,
    input  wire [AW-1:0]    rd_addr,
    output reg  [WIDTH-1:0] rd_data
);
    initial begin
        if (DEPTH < 1 || (1 << AW) < DEPTH) $fatal(1, "ram_1r1w: AW too small for DEPTH");
    end

    reg [WIDTH-1:0] mem [0:DEPTH-1];

    always @(posedge clk) begin
        if (wr_en) mem[wr_addr] <= wr_data;
    end
    always @(posedge clk) begin
        if (rd_en) rd_data <= mem[rd_addr];
    end
endmodule
`default_nettype wire
