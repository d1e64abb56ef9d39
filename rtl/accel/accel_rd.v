`default_nettype none
// One tensor reader of the accelerator's DMA (docs/accel.md): streams the
// nwords 32-bit SDRAM words from byte address base, in order, on m.
//
// It cuts the tensor into requests of up to MAX_LEN words and keeps several
// in flight, but requests only words it has room for in its FIFO (credits:
// FIFO_WORDS slots minus the words held or still on their way), so rd_ready
// never drops because the consumer stalls: a word that arrives always fits.
// A request is issued once the credit covers its whole length (min(MAX_LEN,
// words left to request)), so requests are full-length bursts except the last.
//
// Ports:
//   start        one-clock pulse, taken while !busy (ignored while busy)
//   base         byte address of the first word (4-byte aligned: bits 1:0 ignored)
//   nwords       words to read, >= 1 (a start with 0 is ignored)
//   busy         high from the clock after start until the last word left on m
//   req_valid/req_ready, req_addr (word address = byte address / 4),
//   req_len (1..MAX_LEN words): the SDRAM read requests, held until taken
//   rd_valid/rd_ready/rd_data: the requested words, in request order
//   m_valid/m_ready/m_data: the words in order; m_last marks the final one
// Latency: req_valid rises 2 clocks after start (busy, then the request
//   register); a word taken on rd is on m the next clock (FIFO write, then read).
// Throughput: 1 word per clock in steady state when the SDRAM keeps up
//   (FIFO_WORDS >= 2 MAX_LEN keeps two full requests in flight).
// Reset (rst, synchronous, active high): busy, req_valid and m_valid low on
//   the next clock; words of requests in flight are not expected afterwards
//   (the SDRAM port is reset with the reader: the responder drops them).
module accel_rd #(
    parameter AW         = 32,   // SDRAM byte-address bits, 8..32
    parameter FIFO_WORDS = 32,   // FIFO depth in words (a power of two, >= MAX_LEN)
    parameter MAX_LEN    = 16    // longest request in words, 1..16
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          start,
    input  wire [AW-1:0] base,
    input  wire [AW-3:0] nwords,
    output wire          busy,
    output wire          req_valid,
    input  wire          req_ready,
    output wire [AW-3:0] req_addr,
    output wire [4:0]    req_len,
    input  wire          rd_valid,
    output wire          rd_ready,
    input  wire [31:0]   rd_data,
    output wire          m_valid,
    input  wire          m_ready,
    output wire [31:0]   m_data,
    output wire          m_last
);
    localparam FW = $clog2(FIFO_WORDS);
    localparam CW = FW + 1;                 // counts 0..FIFO_WORDS

    initial begin
        if (AW < 8 || AW > 32) $fatal(1, "accel_rd: AW must be 8..32");
        if (MAX_LEN < 1 || MAX_LEN > 16) $fatal(1, "accel_rd: MAX_LEN must be 1..16");
        if (FIFO_WORDS < MAX_LEN || FIFO_WORDS < 2 || (1 << FW) != FIFO_WORDS)
            $fatal(1, "accel_rd: FIFO_WORDS must be a power of two >= MAX_LEN and >= 2");
    end

    localparam integer  FULL_I = FIFO_WORDS;
    localparam integer  MAXL_I = MAX_LEN;
    localparam [CW-1:0] FULL_C = FULL_I[CW-1:0];
    localparam [AW-3:0] MAXL_A = MAXL_I[AW-3:0];

    reg          busy_q;
    reg [AW-3:0] addr_q;       // next word to request
    reg [AW-3:0] req_left_q;   // words not requested yet
    reg [AW-3:0] out_left_q;   // words not delivered on m yet
    reg [CW-1:0] credit_q;     // FIFO slots neither filled nor promised to a request
    reg          rv_q;
    reg [AW-3:0] raddr_q;
    reg [4:0]    rlen_q;
    reg [31:0]   fifo_q [0:FIFO_WORDS-1];
    reg [FW-1:0] wp_q, rp_q;
    reg [CW-1:0] cnt_q;        // words in the FIFO

    wire [AW-3:0] next_len = (req_left_q > MAXL_A) ? MAXL_A : req_left_q;
    wire [CW-1:0] next_len_c = next_len[CW-1:0];   // <= MAX_LEN <= FIFO_WORDS
    wire          issue    = busy_q && !rv_q && (req_left_q != 0) && (credit_q >= next_len_c);
    wire          rd_fire  = rd_valid && rd_ready;
    wire          m_fire   = m_valid && m_ready;

    wire unused_base = &{1'b0, base[1:0], 1'b0};   // 4-byte aligned
    assign busy      = busy_q;
    assign req_valid = rv_q;
    assign req_addr  = raddr_q;
    assign req_len   = rlen_q;
    assign rd_ready  = (cnt_q != FULL_C);
    assign m_valid   = (cnt_q != 0);
    assign m_data    = fifo_q[rp_q];
    assign m_last    = (out_left_q == {{(AW-3){1'b0}}, 1'b1});

    always @(posedge clk) begin
        if (rst) begin
            busy_q   <= 1'b0;
            rv_q     <= 1'b0;
            credit_q <= FULL_C;
            wp_q     <= {FW{1'b0}};
            rp_q     <= {FW{1'b0}};
            cnt_q    <= {CW{1'b0}};
        end else begin
            if (start && !busy_q && nwords != 0) begin
                busy_q     <= 1'b1;
                addr_q     <= base[AW-1:2];
                req_left_q <= nwords;
                out_left_q <= nwords;
                credit_q   <= FULL_C;
            end else begin
                credit_q <= credit_q - (issue ? next_len_c : {CW{1'b0}}) + {{(CW-1){1'b0}}, m_fire};
                if (issue) begin
                    addr_q     <= addr_q + next_len;
                    req_left_q <= req_left_q - next_len;
                end
                if (m_fire) begin
                    out_left_q <= out_left_q - 1'b1;
                    if (m_last) busy_q <= 1'b0;
                end
            end
            if (issue) begin
                rv_q    <= 1'b1;
                raddr_q <= addr_q;
                rlen_q  <= next_len[4:0];
            end else if (req_ready) begin
                rv_q <= 1'b0;
            end
            if (rd_fire) wp_q <= wp_q + 1'b1;
            if (m_fire)  rp_q <= rp_q + 1'b1;
            cnt_q <= cnt_q + {{(CW-1){1'b0}}, rd_fire} - {{(CW-1){1'b0}}, m_fire};
        end
    end
    always @(posedge clk) begin
        if (rd_fire) fifo_q[wp_q] <= rd_data;
    end

`ifndef SYNTHESIS
    stream_check #(.W(AW - 2 + 5), .NAME("req")) u_check_req (
        .clk(clk), .rst(rst), .valid(req_valid), .ready(req_ready), .data({req_addr, req_len}));
    stream_check #(.W(33), .NAME("m")) u_check_m (
        .clk(clk), .rst(rst), .valid(m_valid), .ready(m_ready), .data({m_data, m_last}));
    always @(posedge clk) begin
        if (!rst) begin
            assert (!rd_valid || rd_ready) else $error("%m: a word arrived with the FIFO full (more than requested)");
            assert (!rd_fire || busy_q) else $error("%m: a word arrived while idle");
        end
    end
`endif
endmodule
`default_nettype wire
