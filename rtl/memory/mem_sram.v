`default_nettype none
// Banked SRAM: BANKS banks of ROWS words, each a ram_1r1w (one write port,
// one read port), so that synthesis can map every bank to an SRAM macro.
// Word w of the memory is row w / BANKS of bank w % BANKS. The write port
// writes one word (bank, row) per clock; the read port reads one row of all
// banks per clock, BANKS consecutive words, word j of the row at
// rdata[j*WORD_W +: WORD_W]. Synchronous read: data one clock after re, held
// while re is low; reading a word written in the same clock gives the old one.
module mem_sram #(
    parameter WORD_W = 32,                          // bits per word
    parameter BANKS  = 1,                           // banks = words per read
    parameter ROWS   = 1024,                        // words per bank
    parameter RAW    = (ROWS > 1) ? $clog2(ROWS) : 1,   // row address bits (derived; leave default)
    parameter BW     = (BANKS > 1) ? $clog2(BANKS) : 1  // bank select bits (derived; leave default)
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    we,
    input  wire [BW-1:0]           wbank,
    input  wire [RAW-1:0]          wrow,
    input  wire [WORD_W-1:0]       wdata,
    input  wire                    re,
    input  wire [RAW-1:0]          rrow,
    output wire [BANKS*WORD_W-1:0] rdata
);
    initial begin
        if (WORD_W < 1 || BANKS < 1 || ROWS < 2) $fatal(1, "mem_sram: WORD_W >= 1, BANKS >= 1, ROWS >= 2");
        if ((1 << RAW) < ROWS || (1 << BW) < BANKS) $fatal(1, "mem_sram: RAW or BW too small");
    end

    genvar b;
    generate
        for (b = 0; b < BANKS; b = b + 1) begin : gen_bank
            localparam [BW-1:0] BANK_ID = b;
            ram_1r1w #(.WIDTH(WORD_W), .DEPTH(ROWS), .AW(RAW)) u_bank (
                .clk(clk),
                .wr_en(we && (wbank == BANK_ID)), .wr_addr(wrow), .wr_data(wdata),
                .rd_en(re), .rd_addr(rrow), .rd_data(rdata[b*WORD_W +: WORD_W]));
        end
    endgenerate

    // rst: the array holds data, not state; kept for the house port order
    wire unused_ok = &{1'b0, rst, 1'b0};
endmodule
`default_nettype wire
