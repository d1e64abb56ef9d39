`default_nettype none
// Distributed memory: SDRAM -> SRAM slot double buffer (paper 000, III-C).
// The SRAM holds SLOTS slots of VECS_PER_SLOT vectors of VEC_WORDS words. A
// run (start with cfg_base, cfg_num_vecs) streams vectors base, base+1, ... to
// the compute side in order. Free slots are claimed in ring order and filled
// with SDRAM bursts of at most BURST_LEN words; the compute side reads any word
// already written (so the first vector does not wait for a whole slot), and a
// slot is released and refilled once its last vector has been read out, while
// compute goes on in the other slots. The SRAM has RD_WORDS banks (mem_sram),
// so the compute side takes RD_WORDS consecutive words per beat (word j of the
// beat at m_data[j*WORD_W +: WORD_W]) while SDRAM data is written one word
// per clock: a vector is VEC_WORDS / RD_WORDS beats, m_last on the final one.
// Status (mem_run_ctl): busy during a run, done (sticky until the next start)
// when the last word has been taken, error bits (sticky until reset or an
// accepted start):
//   [0] start with cfg_num_vecs = 0 or a range past the SDRAM address space
//       (the start is refused), [1] start while busy (ignored),
//   [2] SDRAM data with no word outstanding (dropped).
// Reset drops everything in flight; the SDRAM side must be reset with it, or
// mem_ctrl's run tags (TAGS = 1) must drop the words of bursts issued before
// the reset (here they would be taken as spurious, error[2], or as new data).
module mem_dbuf #(
    parameter SLOTS         = 4,    // SRAM slots (>= 2: one is read while another fills)
    parameter VECS_PER_SLOT = 64,   // vectors per slot, the refill granule
    parameter VEC_WORDS     = 784,  // words per vector (>= 2)
    parameter WORD_W        = 32,   // bits per word
    parameter ADDR_W        = 24,   // SDRAM word-address bits
    parameter BURST_LEN     = 16,   // most words per SDRAM read request
    parameter VCNT_W        = 20,   // bits of cfg_num_vecs
    parameter RD_WORDS      = 1     // words per compute-side beat = SRAM banks (divides VEC_WORDS)
) (
    input  wire                         clk,
    input  wire                         rst,
    // control and status
    input  wire                         start,
    input  wire [ADDR_W-1:0]            cfg_base,      // SDRAM word address of vector 0
    input  wire [VCNT_W-1:0]            cfg_num_vecs,  // vectors in this run
    output wire                         busy,
    output wire                         done,
    output wire [2:0]                   error,
    // compute side: one vector = VEC_WORDS / RD_WORDS beats, m_last on the final one
    output wire                         m_valid,
    input  wire                         m_ready,
    output wire [RD_WORDS*WORD_W-1:0]   m_data,
    output wire                         m_last,
    // SDRAM burst read: request, then in-order data
    output wire                         sdram_req_valid,
    input  wire                         sdram_req_ready,
    output wire [ADDR_W-1:0]            sdram_req_addr,
    output wire [$clog2(BURST_LEN+1)-1:0] sdram_req_len,
    input  wire                         sdram_rd_valid,
    output wire                         sdram_rd_ready,
    input  wire [WORD_W-1:0]            sdram_rd_data
);
    localparam R          = (RD_WORDS > 0) ? RD_WORDS : 1;  // >= 1 so an illegal width reaches $fatal
    localparam VEC_BEATS  = (VEC_WORDS / R > 0) ? VEC_WORDS / R : 1;
    localparam SLOT_WORDS = VECS_PER_SLOT * VEC_WORDS;
    localparam SLOT_BEATS = VECS_PER_SLOT * VEC_BEATS;
    localparam CAP   = SLOTS * SLOT_WORDS;
    localparam ROWS  = SLOTS * SLOT_BEATS;   // SRAM rows of R words
    localparam ROW_W = (ROWS > 1) ? $clog2(ROWS) : 1;
    localparam BW    = (R > 1) ? $clog2(R) : 1;
    localparam VW_W  = (VEC_BEATS > 1) ? $clog2(VEC_BEATS) : 1;
    localparam SC_W  = $clog2(SLOTS + 1);
    localparam LEN_W = $clog2(BURST_LEN + 1);
    // one width for every word counter and the range check
    localparam TW0   = VCNT_W + $clog2(VEC_WORDS + 1);
    localparam CW1   = (TW0 > LEN_W) ? TW0 : LEN_W;
    localparam CW2   = (CW1 > $clog2(CAP + 1)) ? CW1 : $clog2(CAP + 1);
    localparam CW    = ((CW2 > ADDR_W + 1) ? CW2 : ADDR_W + 1) + 1;
    localparam EB    = (BURST_LEN < SLOT_WORDS) ? BURST_LEN : SLOT_WORDS;  // effective burst
    localparam [CW-1:0]    SLOT_WORDS_C = SLOT_WORDS;
    localparam [CW-1:0]    SLOT_LAST_C  = SLOT_BEATS - 1;
    localparam [CW-1:0]    BURST_C      = EB;
    localparam [CW-1:0]    ONE_C        = 1;
    localparam [CW-1:0]    R_C          = R;
    localparam [SC_W-1:0]  SLOTS_C      = SLOTS;
    localparam [SC_W-1:0]  ONE_S        = 1;
    localparam [ROW_W-1:0] ROW_LAST     = ROWS - 1;
    localparam [ROW_W-1:0] ONE_P        = 1;
    localparam [BW-1:0]    BANK_LAST    = R - 1;
    localparam [BW-1:0]    ONE_B        = 1;
    localparam [VW_W-1:0]  VEC_LAST     = VEC_BEATS - 1;
    localparam [VW_W-1:0]  ONE_V        = 1;

    initial begin
        if (SLOTS < 2) $fatal(1, "mem_dbuf: SLOTS must be >= 2 (double buffering)");
        if (VECS_PER_SLOT < 1) $fatal(1, "mem_dbuf: VECS_PER_SLOT must be >= 1");
        if (VEC_WORDS < 2) $fatal(1, "mem_dbuf: VEC_WORDS must be >= 2");
        if (RD_WORDS < 1 || VEC_WORDS % R != 0) $fatal(1, "mem_dbuf: RD_WORDS must be >= 1 and divide VEC_WORDS");
        if (WORD_W < 1 || BURST_LEN < 1 || VCNT_W < 1) $fatal(1, "mem_dbuf: WORD_W, BURST_LEN, VCNT_W must be >= 1");
        if (ADDR_W < 1 || ADDR_W > 48) $fatal(1, "mem_dbuf: ADDR_W must be 1..48");
    end

    // ---------------------------------------------------------------- state
    reg  [CW-1:0]    req_addr_q;   // next SDRAM address to request
    reg  [CW-1:0]    req_left_q;   // words of the run not yet requested
    reg  [CW-1:0]    slot_left_q;  // words of the claimed slot not yet requested
    reg  [SC_W-1:0]  claimed_q;    // slots claimed and not yet released
    reg  [CW-1:0]    outst_q;      // words requested, not yet returned
    reg  [BW-1:0]    wr_bank_q;    // SRAM bank and row of the next SDRAM word
    reg  [ROW_W-1:0] wr_row_q;
    reg  [CW-1:0]    avail_q;      // words written, not yet read
    reg  [ROW_W-1:0] rd_ptr_q;     // SRAM row of the next beat
    reg  [VW_W-1:0]  rd_word_q;    // beat index in the vector being read
    reg  [CW-1:0]    rd_sw_q;      // beat index in the slot being read
    reg  [CW-1:0]    rd_left_q;    // beats of the run not yet read
    reg              out_valid_q, out_last_q;

    // ---------------------------------------------------------------- start check, status
    wire          start_ok, spurious, fin;
    wire [CW-1:0] base_c, total_c, beats_c;
    mem_run_ctl #(.ADDR_W(ADDR_W), .VCNT_W(VCNT_W), .VEC_WORDS(VEC_WORDS), .RD_WORDS(RD_WORDS), .CW(CW)) u_run (
        .clk(clk), .rst(rst), .start(start), .cfg_base(cfg_base), .cfg_num_vecs(cfg_num_vecs),
        .fin(fin), .spurious(spurious), .busy(busy), .done(done), .error(error),
        .start_ok(start_ok), .base(base_c), .total(total_c), .beats(beats_c));

    // ---------------------------------------------------------------- requests
    wire          claim    = busy && (slot_left_q == {CW{1'b0}}) && (req_left_q != {CW{1'b0}})
                             && (claimed_q < SLOTS_C);
    wire [CW-1:0] claim_w  = (req_left_q > SLOT_WORDS_C) ? SLOT_WORDS_C : req_left_q;
    wire [CW-1:0] blen     = (slot_left_q > BURST_C) ? BURST_C : slot_left_q;
    wire          req_fire = sdram_req_valid && sdram_req_ready;

    assign sdram_req_valid = busy && (slot_left_q != {CW{1'b0}});
    assign sdram_req_addr  = req_addr_q[ADDR_W-1:0];
    assign sdram_req_len   = blen[LEN_W-1:0];
    assign sdram_rd_ready  = 1'b1;

    // ---------------------------------------------------------------- SRAM write, read
    assign        spurious = sdram_rd_valid && (outst_q == {CW{1'b0}});
    wire          wr_fire  = sdram_rd_valid && !spurious;
    wire          out_free = !out_valid_q || m_ready;
    wire          rd_issue = busy && out_free && (avail_q >= R_C);
    wire          release_slot = rd_issue && ((rd_sw_q == SLOT_LAST_C) || (rd_left_q == ONE_C));
    assign        fin      = busy && (rd_left_q == {CW{1'b0}}) && !out_valid_q;

    wire [R*WORD_W-1:0] sram_rdata;
    mem_sram #(.WORD_W(WORD_W), .BANKS(R), .ROWS(ROWS), .RAW(ROW_W), .BW(BW)) u_sram (
        .clk(clk), .rst(rst),
        .we(wr_fire), .wbank(wr_bank_q), .wrow(wr_row_q), .wdata(sdram_rd_data),
        .re(rd_issue), .rrow(rd_ptr_q), .rdata(sram_rdata));

    // ---------------------------------------------------------------- next state
    reg  [CW-1:0]    req_addr_d, req_left_d, slot_left_d, outst_d, avail_d, rd_sw_d, rd_left_d;
    reg  [SC_W-1:0]  claimed_d;
    reg  [BW-1:0]    wr_bank_d;
    reg  [ROW_W-1:0] wr_row_d, rd_ptr_d;
    reg  [VW_W-1:0]  rd_word_d;
    reg              out_valid_d, out_last_d;

    always @* begin
        req_addr_d  = req_addr_q + (req_fire ? blen : {CW{1'b0}});
        req_left_d  = req_left_q - (req_fire ? blen : {CW{1'b0}});
        slot_left_d = claim ? claim_w : slot_left_q - (req_fire ? blen : {CW{1'b0}});
        claimed_d   = claimed_q + (claim ? ONE_S : {SC_W{1'b0}}) - (release_slot ? ONE_S : {SC_W{1'b0}});
        outst_d     = outst_q + (req_fire ? blen : {CW{1'b0}}) - (wr_fire ? ONE_C : {CW{1'b0}});
        avail_d     = avail_q + (wr_fire ? ONE_C : {CW{1'b0}}) - (rd_issue ? R_C : {CW{1'b0}});
        wr_bank_d   = !wr_fire ? wr_bank_q : (wr_bank_q == BANK_LAST) ? {BW{1'b0}} : wr_bank_q + ONE_B;
        wr_row_d    = !(wr_fire && wr_bank_q == BANK_LAST) ? wr_row_q
                    : (wr_row_q == ROW_LAST) ? {ROW_W{1'b0}} : wr_row_q + ONE_P;
        rd_ptr_d    = !rd_issue ? rd_ptr_q : (rd_ptr_q == ROW_LAST) ? {ROW_W{1'b0}} : rd_ptr_q + ONE_P;
        rd_word_d   = !rd_issue ? rd_word_q : (rd_word_q == VEC_LAST) ? {VW_W{1'b0}} : rd_word_q + ONE_V;
        rd_sw_d     = !rd_issue ? rd_sw_q : (rd_sw_q == SLOT_LAST_C) ? {CW{1'b0}} : rd_sw_q + ONE_C;
        rd_left_d   = rd_left_q - (rd_issue ? ONE_C : {CW{1'b0}});
        out_valid_d = rd_issue || (out_valid_q && !m_ready);
        out_last_d  = rd_issue ? (rd_word_q == VEC_LAST) : out_last_q;
        if (start_ok) begin
            req_addr_d = base_c;
            req_left_d = total_c;
            rd_left_d  = beats_c;
            // the counters below are already idle between runs; cleared for clarity
            slot_left_d = {CW{1'b0}};
            claimed_d   = {SC_W{1'b0}};
            wr_bank_d   = {BW{1'b0}};
            wr_row_d    = {ROW_W{1'b0}};
            rd_ptr_d    = {ROW_W{1'b0}};
            rd_word_d   = {VW_W{1'b0}};
            rd_sw_d     = {CW{1'b0}};
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            req_addr_q  <= {CW{1'b0}};
            req_left_q  <= {CW{1'b0}};
            slot_left_q <= {CW{1'b0}};
            claimed_q   <= {SC_W{1'b0}};
            outst_q     <= {CW{1'b0}};
            wr_bank_q   <= {BW{1'b0}};
            wr_row_q    <= {ROW_W{1'b0}};
            avail_q     <= {CW{1'b0}};
            rd_ptr_q    <= {ROW_W{1'b0}};
            rd_word_q   <= {VW_W{1'b0}};
            rd_sw_q     <= {CW{1'b0}};
            rd_left_q   <= {CW{1'b0}};
            out_valid_q <= 1'b0;
            out_last_q  <= 1'b0;
        end else begin
            req_addr_q  <= req_addr_d;
            req_left_q  <= req_left_d;
            slot_left_q <= slot_left_d;
            claimed_q   <= claimed_d;
            outst_q     <= outst_d;
            wr_bank_q   <= wr_bank_d;
            wr_row_q    <= wr_row_d;
            avail_q     <= avail_d;
            rd_ptr_q    <= rd_ptr_d;
            rd_word_q   <= rd_word_d;
            rd_sw_q     <= rd_sw_d;
            rd_left_q   <= rd_left_d;
            out_valid_q <= out_valid_d;
            out_last_q  <= out_last_d;
        end
    end

    assign m_valid = out_valid_q;
    assign m_data  = sram_rdata;
    assign m_last  = out_last_q;

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    stream_check #(.W(1 + R * WORD_W), .NAME("m")) u_check_m (
        .clk(clk), .rst(rst), .valid(m_valid), .ready(m_ready), .data({m_last, m_data}));
    stream_check #(.W(ADDR_W + LEN_W), .NAME("sdram_req")) u_check_req (
        .clk(clk), .rst(rst), .valid(sdram_req_valid), .ready(sdram_req_ready),
        .data({sdram_req_addr, sdram_req_len}));
    // Slot accounting: the claimed slots hold every word requested and not yet
    // read or still to be requested from the claimed slot (an SDRAM word never
    // lands on an unread one), and an idle buffer holds nothing.
    localparam [CW+1:0] SLOT_WORDS_X = SLOT_WORDS;
    wire [CW+1:0] chk_held = {2'b00, outst_q} + {2'b00, avail_q} + {2'b00, slot_left_q};
    wire [CW+1:0] chk_room = {{(CW+2-SC_W){1'b0}}, claimed_q} * SLOT_WORDS_X;
    always @(posedge clk) begin
        if (!rst) begin
            assert (claimed_q <= SLOTS_C) else $error("%m: %0d slots claimed of %0d", claimed_q, SLOTS);
            assert (chk_held <= chk_room)
                else $error("%m: %0d words outstanding, unread or to request in %0d claimed slots",
                            chk_held, claimed_q);
            assert (busy || (claimed_q == {SC_W{1'b0}} && chk_held == {(CW+2){1'b0}} && !m_valid))
                else $error("%m: not busy with slots claimed, words held or m_valid");
        end
    end
`endif
endmodule
`default_nettype wire
