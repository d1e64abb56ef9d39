`default_nettype none
// Multi-bank input buffer of the PE array: one bank per PE column, so every
// column reads its own operands each clock. A bank is L = max(4, BYTES)
// byte-wide RAMs interleaved by byte address mod L: a load beat of BYTES
// consecutive bytes and the kernel-row triple at a, a+1, a+2 both hit each
// RAM at most once.
// The load stream writes the same bytes into every bank (banks are copies),
// BYTES per beat (byte k at bits 8k) at consecutive addresses from ld_a,
// ld_count bytes; the final beat carries s_last and may be partial. s_last
// frames the layer: a beat with s_last before the count ends the load early;
// the count's final beat without s_last ends it too, and the beats after it
// are dropped up to and including the next one with s_last, so the next load
// starts on a layer boundary (while dropping, s_ready is high and ld_start
// still arms the next load). Either case pulses ld_err.
// Read: data one clock after rd_en; byte kx of column c is zero where its mask
// bit is clear (padding, idle column). The read data holds while rd_en is low.
module pe_ibuf #(
    parameter COLS  = 32,    // banks = PE columns
    parameter DEPTH = 1024,  // a bank holds 3*DEPTH bytes
    parameter BYTES = 16,    // bytes per load beat: 1 or a power of two
    parameter AW    = (DEPTH > 1) ? $clog2(DEPTH) : 1   // 2^AW >= DEPTH; byte addresses have AW + 2 bits
) (
    input  wire                 clk,
    input  wire                 rst,
    // load
    input  wire                 ld_start,   // arms the loader (ignored while loading)
    input  wire [31:0]          ld_count,   // bytes to accept, >= 1
    input  wire [AW+1:0]        ld_a,       // first byte address
    output wire                 ld_busy,
    output wire                 ld_err,     // one clock: s_last misplaced
    input  wire                 s_valid,
    output wire                 s_ready,
    input  wire [BYTES*8-1:0]   s_data,
    input  wire                 s_last,
    // read
    input  wire                 rd_en,
    input  wire [COLS*(AW+2)-1:0] rd_a,     // column c: byte address of kx = 0
    input  wire [COLS*3-1:0]    rd_mask,    // column c: kx valid bits
    output wire [COLS*24-1:0]   rd_data     // column c: {a2, a1, a0}
);
    localparam L   = (BYTES > 4) ? BYTES : 4;
    localparam LW  = $clog2(L);
    localparam BA  = AW + 2;                       // byte address bits (< 4 * 2^AW)
    localparam LD  = (3 * DEPTH + L - 1) / L;      // words per byte-RAM
    localparam LAW = (LD > 1) ? $clog2(LD) : 1;

    initial begin
        if (COLS < 1 || DEPTH < 2) $fatal(1, "pe_ibuf: COLS >= 1 and DEPTH >= 2");
        if ((1 << AW) < DEPTH) $fatal(1, "pe_ibuf: AW too small for DEPTH");
        if (BYTES < 1 || (BYTES & (BYTES - 1)) != 0) $fatal(1, "pe_ibuf: BYTES must be a power of two");
        if (LW + LAW > BA) $fatal(1, "pe_ibuf: a bank must hold more than one word per byte-RAM (3*DEPTH > L)");
    end

    // ---- loader: byte k of a beat goes to address wa + k, RAM (wa + k) % L
    reg [31:0]   ld_left_q;
    reg [BA-1:0] wa_q;
    wire         wfire, ld_busy_w;
    wire         fin   = ld_left_q <= BYTES;        // this beat holds the count's end
    pe_load_frame u_frame (
        .clk(clk), .rst(rst), .start(ld_start), .empty(ld_count == 32'd0), .fin(fin),
        .s_valid(s_valid), .s_last(s_last), .s_ready(s_ready), .wfire(wfire), .busy(ld_busy_w),
        .err(ld_err));
    assign ld_busy = ld_busy_w;

    always @(posedge clk) begin
        if (rst) begin
            ld_left_q <= 32'd0;
            wa_q      <= {BA{1'b0}};
        end else if (!ld_busy_w) begin
            if (ld_start) begin
                ld_left_q <= ld_count;
                wa_q      <= ld_a;
            end
        end else if (wfire) begin
            ld_left_q <= ld_left_q - BYTES;
            wa_q      <= wa_q + BYTES[BA-1:0];
        end
    end

    wire [LW-1:0]  wlo = wa_q[LW-1:0];
    localparam [LW-1:0] ONE = 1, TWO = 2;

    // ---- banks
    genvar c, j;
    generate
        for (c = 0; c < COLS; c = c + 1) begin : gen_bank
            wire [BA-1:0] a  = rd_a[c*BA +: BA];
            wire [LW-1:0] lo = a[LW-1:0];
            // byte a + rk of the triple sits in RAM j = (lo + rk) % L at word
            // a / L, or a / L + 1 where the triple wraps past RAM L-1 (j < lo):
            // two word addresses per bank instead of an adder per RAM
            wire [LAW-1:0] hi  = a[LW +: LAW];
            wire [LAW-1:0] hi1 = hi + 1'b1;
            reg  [LW-1:0] lo_q;
            reg  [2:0]    mask_q;
            wire [L*8-1:0] sub;     // byte j = RAM j's word
            always @(posedge clk) begin
                if (rd_en) begin
                    lo_q   <= lo;
                    mask_q <= rd_mask[c*3 +: 3];
                end
            end
            for (j = 0; j < L; j = j + 1) begin : gen_sub
                localparam integer J = j;
                // this RAM holds byte a + rk of the triple (rk = kx when < 3)
                // and byte wa + wk of the load beat
                wire [LW-1:0] rk   = J[LW-1:0] - lo;
                wire [LW-1:0] wk   = J[LW-1:0] - wlo;
                wire [BA-1:0] wb   = wa_q + {{(BA-LW){1'b0}}, wk};
                wire [31:0]   wk32 = {{(32-LW){1'b0}}, wk};
                wire          wen  = wfire && wk32 < BYTES && wk32 < ld_left_q;
                wire          unused_a = &{1'b0, wb[LW-1:0], 1'b0};   // hi1, wb >> LW < LD by the capacity check
                ram_1r1w #(.WIDTH(8), .DEPTH(LD), .AW(LAW)) u_ram (
                    .clk(clk), .wr_en(wen), .wr_addr(wb[LW +: LAW]), .wr_data(s_data[(wk32 % BYTES)*8 +: 8]),
                    .rd_en(rd_en && rk < 3), .rd_addr(J < lo ? hi1 : hi), .rd_data(sub[j*8 +: 8])
                );
            end
            wire [LW-1:0] l0 = lo_q, l1 = lo_q + ONE, l2 = lo_q + TWO;
            wire [7:0] b0 = sub[l0*8 +: 8];
            wire [7:0] b1 = sub[l1*8 +: 8];
            wire [7:0] b2 = sub[l2*8 +: 8];
            assign rd_data[c*24 +: 24] = {mask_q[2] ? b2 : 8'd0, mask_q[1] ? b1 : 8'd0,
                                          mask_q[0] ? b0 : 8'd0};
        end
    endgenerate
endmodule
`default_nettype wire
