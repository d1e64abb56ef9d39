`default_nettype none
// Multi-ported SRAM model: one write port and RD_PORTS read ports, flip-flop
// array, synchronous read (data one clock after the read enable, held while
// the enable is low, as a compiled SRAM macro behaves). Writing and reading
// the same address in one clock returns the old word. No reset on the array.
module mem_sram #(
    parameter WORD_W   = 32,                // bits per word
    parameter DEPTH    = 1024,              // words
    parameter RD_PORTS = 1,                 // independent read ports
    parameter AW       = $clog2(DEPTH)      // address bits (derived; leave default)
) (
    input  wire                       clk,
    input  wire                       rst,
    input  wire                       we,
    input  wire [AW-1:0]              waddr,
    input  wire [WORD_W-1:0]          wdata,
    input  wire [RD_PORTS-1:0]        re,
    input  wire [RD_PORTS*AW-1:0]     raddr,
    output wire [RD_PORTS*WORD_W-1:0] rdata
);
    initial begin
        if (WORD_W < 1 || DEPTH < 2 || RD_PORTS < 1) $fatal(1, "mem_sram: WORD_W >= 1, DEPTH >= 2, RD_PORTS >= 1");
        if (AW < $clog2(DEPTH)) $fatal(1, "mem_sram: AW too small for DEPTH");
    end

    reg [WORD_W-1:0] mem_q [0:DEPTH-1];

    always @(posedge clk) begin
        if (we) mem_q[waddr] <= wdata;
    end

    genvar p;
    generate
        for (p = 0; p < RD_PORTS; p = p + 1) begin : gen_rd
            reg  [WORD_W-1:0] rdata_q;
            wire [AW-1:0]     addr = raddr[p*AW +: AW];
            always @(posedge clk) begin
                if (re[p]) rdata_q <= mem_q[addr];
            end
            assign rdata[p*WORD_W +: WORD_W] = rdata_q;
        end
    endgenerate

    wire unused_ok = &{1'b0, rst, 1'b0};
endmodule
`default_nettype wire
