`default_nettype none
// Multi-bank input buffer of the PE array: one bank per PE column, so every
// column reads its own operands each clock. A bank is three byte-wide RAMs
// interleaved by byte address mod 3: the kernel-row triple at a, a+1, a+2
// hits each RAM once. Byte addresses come split as {q = a / 3, r = a % 3}.
// The load stream writes the same byte into every bank (banks are copies), at
// consecutive addresses from ld_q/ld_r, ld_count bytes.
// Read: data one clock after rd_en; byte kx of column c is zero where its mask
// bit is clear (padding, idle column). The read data holds while rd_en is low.
module pe_ibuf #(
    parameter COLS  = 32,    // banks = PE columns
    parameter DEPTH = 1024,  // words per byte-RAM; a bank holds 3*DEPTH bytes
    parameter AW    = (DEPTH > 1) ? $clog2(DEPTH) : 1   // word address bits
) (
    input  wire                 clk,
    input  wire                 rst,
    // load
    input  wire                 ld_start,   // arms the loader (ignored while loading)
    input  wire [31:0]          ld_count,   // bytes to accept, >= 1
    input  wire [AW-1:0]        ld_q,       // first byte address / 3
    input  wire [1:0]           ld_r,       // first byte address % 3
    output wire                 ld_busy,
    input  wire                 s_valid,
    output wire                 s_ready,
    input  wire [7:0]           s_data,
    // read
    input  wire                 rd_en,
    input  wire [COLS*AW-1:0]   rd_q,       // column c: byte address / 3 of kx = 0
    input  wire [COLS*2-1:0]    rd_r,       // column c: byte address % 3
    input  wire [COLS*3-1:0]    rd_mask,    // column c: kx valid bits
    output wire [COLS*24-1:0]   rd_data     // column c: {a2, a1, a0}
);
    initial begin
        if (COLS < 1 || DEPTH < 2) $fatal(1, "pe_ibuf: COLS >= 1 and DEPTH >= 2");
        if ((1 << AW) < DEPTH) $fatal(1, "pe_ibuf: AW too small for DEPTH");
    end

    // ---- loader
    reg          ld_busy_q;
    reg [31:0]   ld_left_q;
    reg [AW-1:0] wq_q;
    reg [1:0]    wr_q;
    wire         wfire = ld_busy_q && s_valid;
    assign s_ready = ld_busy_q;
    assign ld_busy = ld_busy_q;

    always @(posedge clk) begin
        if (rst) begin
            ld_busy_q <= 1'b0;
            ld_left_q <= 32'd0;
            wq_q      <= {AW{1'b0}};
            wr_q      <= 2'd0;
        end else if (!ld_busy_q) begin
            if (ld_start) begin
                ld_busy_q <= ld_count != 32'd0;
                ld_left_q <= ld_count;
                wq_q      <= ld_q;
                wr_q      <= ld_r;
            end
        end else if (wfire) begin
            ld_busy_q <= ld_left_q != 32'd1;
            ld_left_q <= ld_left_q - 32'd1;
            wr_q      <= (wr_q == 2'd2) ? 2'd0 : wr_q + 2'd1;
            if (wr_q == 2'd2) wq_q <= wq_q + {{(AW-1){1'b0}}, 1'b1};
        end
    end

    // ---- banks
    genvar c, j;
    generate
        for (c = 0; c < COLS; c = c + 1) begin : gen_bank
            wire [AW-1:0] q = rd_q[c*AW +: AW];
            wire [1:0]    r = rd_r[c*2 +: 2];
            reg  [1:0]    r_q;
            reg  [2:0]    mask_q;
            wire [23:0]   sub;     // byte j = RAM j's word
            always @(posedge clk) begin
                if (rd_en) begin
                    r_q    <= r;
                    mask_q <= rd_mask[c*3 +: 3];
                end
            end
            for (j = 0; j < 3; j = j + 1) begin : gen_sub
                // byte a+kx lives in RAM (r+kx)%3 at word q+1 when (r+kx) >= 3
                wire [AW-1:0] addr = q + {{(AW-1){1'b0}}, (j < r)};
                ram_1r1w #(.WIDTH(8), .DEPTH(DEPTH), .AW(AW)) u_ram (
                    .clk(clk), .wr_en(wfire && wr_q == j), .wr_addr(wq_q), .wr_data(s_data),
                    .rd_en(rd_en), .rd_addr(addr), .rd_data(sub[j*8 +: 8])
                );
            end
            wire [7:0] b0 = (r_q == 2'd0) ? sub[7:0]   : (r_q == 2'd1) ? sub[15:8]  : sub[23:16];
            wire [7:0] b1 = (r_q == 2'd0) ? sub[15:8]  : (r_q == 2'd1) ? sub[23:16] : sub[7:0];
            wire [7:0] b2 = (r_q == 2'd0) ? sub[23:16] : (r_q == 2'd1) ? sub[7:0]   : sub[15:8];
            assign rd_data[c*24 +: 24] = {mask_q[2] ? b2 : 8'd0, mask_q[1] ? b1 : 8'd0,
                                          mask_q[0] ? b0 : 8'd0};
        end
    endgenerate
endmodule
`default_nettype wire
