`default_nettype none
// Unified memory, the baseline for mem_dbuf: the compute side reads straight
// through to SDRAM. Same ports and status as mem_dbuf. A vector is requested on
// demand, when the compute side asserts m_ready with nothing of the previous
// vector left in flight (a load with no buffer to prefetch into); its words pass
// through a two-entry skid buffer, so compute waits for the SDRAM latency and
// bandwidth on every vector. m_ready must not wait for m_valid. With
// RD_WORDS > 1 the words are packed RD_WORDS to a beat (word j of the beat at
// m_data[j*WORD_W +: WORD_W]) before the skid buffer, as mem_dbuf delivers them.
module mem_unified #(
    parameter VEC_WORDS = 784,  // words per vector (>= 2)
    parameter WORD_W    = 32,   // bits per word
    parameter ADDR_W    = 24,   // SDRAM word-address bits
    parameter BURST_LEN = 16,   // most words per SDRAM read request
    parameter VCNT_W    = 20,   // bits of cfg_num_vecs
    parameter RD_WORDS  = 1     // words per compute-side beat (divides VEC_WORDS)
) (
    input  wire                         clk,
    input  wire                         rst,
    input  wire                         start,
    input  wire [ADDR_W-1:0]            cfg_base,
    input  wire [VCNT_W-1:0]            cfg_num_vecs,
    output wire                         busy,
    output wire                         done,
    output wire [2:0]                   error,
    output wire                         m_valid,
    input  wire                         m_ready,
    output wire [RD_WORDS*WORD_W-1:0]   m_data,
    output wire                         m_last,
    output wire                         sdram_req_valid,
    input  wire                         sdram_req_ready,
    output wire [ADDR_W-1:0]            sdram_req_addr,
    output wire [$clog2(BURST_LEN+1)-1:0] sdram_req_len,
    input  wire                         sdram_rd_valid,
    output wire                         sdram_rd_ready,
    input  wire [WORD_W-1:0]            sdram_rd_data
);
    localparam VW_W  = (VEC_WORDS > 2) ? $clog2(VEC_WORDS) : 1;  // >= 1 so an illegal size reaches $fatal
    localparam R     = (RD_WORDS > 0) ? RD_WORDS : 1;
    localparam BW    = (R > 1) ? $clog2(R) : 1;
    localparam DW    = R * WORD_W;    // beat bits
    localparam LEN_W = $clog2(BURST_LEN + 1);
    localparam TW0   = VCNT_W + $clog2(VEC_WORDS + 1);
    localparam CW1   = (TW0 > LEN_W) ? TW0 : LEN_W;
    localparam CW    = ((CW1 > ADDR_W + 1) ? CW1 : ADDR_W + 1) + 1;
    localparam EB    = (BURST_LEN < VEC_WORDS) ? BURST_LEN : VEC_WORDS;
    localparam [CW-1:0]   VEC_WORDS_C = VEC_WORDS;
    localparam [BW-1:0]   BANK_LAST   = R - 1;
    localparam [BW-1:0]   ONE_B       = 1;
    localparam [CW-1:0]   BURST_C     = EB;
    localparam [CW-1:0]   ONE_C       = 1;
    localparam [VW_W-1:0] VEC_LAST    = VEC_WORDS - 1;
    localparam [VW_W-1:0] ONE_V       = 1;

    initial begin
        if (VEC_WORDS < 2) $fatal(1, "mem_unified: VEC_WORDS must be >= 2");
        if (RD_WORDS < 1 || VEC_WORDS % R != 0) $fatal(1, "mem_unified: RD_WORDS must be >= 1 and divide VEC_WORDS");
        if (WORD_W < 1 || BURST_LEN < 1 || VCNT_W < 1) $fatal(1, "mem_unified: WORD_W, BURST_LEN, VCNT_W must be >= 1");
        if (ADDR_W < 1 || ADDR_W > 48) $fatal(1, "mem_unified: ADDR_W must be 1..48");
    end

    reg  [CW-1:0]    req_addr_q, req_left_q;
    reg  [CW-1:0]    vec_left_q;   // words of the demanded vector not yet requested
    reg  [CW-1:0]    outst_q;      // words requested, not yet returned
    reg  [CW-1:0]    pop_left_q;   // beats of the run not yet delivered
    reg  [VW_W-1:0]  wr_word_q;    // word index of the next returned word
    reg  [BW-1:0]    pk_cnt_q;     // words in the beat being packed
    reg  [DW:0]      buf0_q, buf1_q;  // {last, data}
    reg              head_q;
    reg  [1:0]       cnt_q;

    // ---------------------------------------------------------------- start check, status
    wire          start_ok, spurious, fin;
    wire [CW-1:0] base_c, total_c, beats_c;
    mem_run_ctl #(.ADDR_W(ADDR_W), .VCNT_W(VCNT_W), .VEC_WORDS(VEC_WORDS), .RD_WORDS(RD_WORDS), .CW(CW)) u_run (
        .clk(clk), .rst(rst), .start(start), .cfg_base(cfg_base), .cfg_num_vecs(cfg_num_vecs),
        .fin(fin), .spurious(spurious), .busy(busy), .done(done), .error(error),
        .start_ok(start_ok), .base(base_c), .total(total_c), .beats(beats_c));

    // ---------------------------------------------------------------- on-demand requests
    wire          demand   = busy && m_ready && (cnt_q == 2'd0) && (vec_left_q == {CW{1'b0}})
                             && (outst_q == {CW{1'b0}}) && (req_left_q != {CW{1'b0}});
    wire [CW-1:0] blen     = (vec_left_q > BURST_C) ? BURST_C : vec_left_q;
    wire          req_fire = sdram_req_valid && sdram_req_ready;
    assign sdram_req_valid = busy && (vec_left_q != {CW{1'b0}});
    assign sdram_req_addr  = req_addr_q[ADDR_W-1:0];
    assign sdram_req_len   = blen[LEN_W-1:0];

    // ---------------------------------------------------------------- packer, skid buffer
    wire   pk_full  = (pk_cnt_q == BANK_LAST);   // the next word completes a beat
    assign sdram_rd_ready = (cnt_q != 2'd2) || !pk_full;
    wire   rd_fire  = sdram_rd_valid && sdram_rd_ready;
    assign spurious = rd_fire && (outst_q == {CW{1'b0}});
    wire   take     = rd_fire && !spurious;
    wire   push     = take && pk_full;
    wire   pop      = m_valid && m_ready;
    wire   wr_sel   = head_q ^ cnt_q[0];
    wire [DW-1:0] beat;
    generate
        if (R > 1) begin : gen_pack
            reg [(R-1)*WORD_W-1:0] pk_q;   // words 0..R-2 of the beat
            always @(posedge clk) begin
                if (take && !pk_full) pk_q[pk_cnt_q*WORD_W +: WORD_W] <= sdram_rd_data;
            end
            assign beat = {sdram_rd_data, pk_q};
        end else begin : gen_nopack
            assign beat = sdram_rd_data;
        end
    endgenerate
    wire [DW:0] push_word = {wr_word_q == VEC_LAST, beat};
    assign fin      = busy && (pop_left_q == {CW{1'b0}});

    always @(posedge clk) begin
        if (push && !wr_sel) buf0_q <= push_word;
        if (push && wr_sel)  buf1_q <= push_word;
    end

    reg  [CW-1:0]    req_addr_d, req_left_d, vec_left_d, outst_d, pop_left_d;
    reg  [VW_W-1:0]  wr_word_d;
    reg  [BW-1:0]    pk_cnt_d;
    reg              head_d;
    reg  [1:0]       cnt_d;

    always @* begin
        req_addr_d = req_addr_q + (req_fire ? blen : {CW{1'b0}});
        req_left_d = req_left_q - (req_fire ? blen : {CW{1'b0}});
        vec_left_d = demand ? VEC_WORDS_C : vec_left_q - (req_fire ? blen : {CW{1'b0}});
        outst_d    = outst_q + (req_fire ? blen : {CW{1'b0}}) - (take ? ONE_C : {CW{1'b0}});
        pop_left_d = pop_left_q - (pop ? ONE_C : {CW{1'b0}});
        wr_word_d  = !take ? wr_word_q : (wr_word_q == VEC_LAST) ? {VW_W{1'b0}} : wr_word_q + ONE_V;
        pk_cnt_d   = !take ? pk_cnt_q : pk_full ? {BW{1'b0}} : pk_cnt_q + ONE_B;
        head_d     = head_q ^ pop;
        cnt_d      = cnt_q + {1'b0, push} - {1'b0, pop};
        if (start_ok) begin
            req_addr_d = base_c;
            req_left_d = total_c;
            pop_left_d = beats_c;
            wr_word_d  = {VW_W{1'b0}};
            pk_cnt_d   = {BW{1'b0}};
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            req_addr_q <= {CW{1'b0}};
            req_left_q <= {CW{1'b0}};
            vec_left_q <= {CW{1'b0}};
            outst_q    <= {CW{1'b0}};
            pop_left_q <= {CW{1'b0}};
            wr_word_q  <= {VW_W{1'b0}};
            pk_cnt_q   <= {BW{1'b0}};
            head_q     <= 1'b0;
            cnt_q      <= 2'd0;
        end else begin
            req_addr_q <= req_addr_d;
            req_left_q <= req_left_d;
            vec_left_q <= vec_left_d;
            outst_q    <= outst_d;
            pop_left_q <= pop_left_d;
            wr_word_q  <= wr_word_d;
            pk_cnt_q   <= pk_cnt_d;
            head_q     <= head_d;
            cnt_q      <= cnt_d;
        end
    end

    assign m_valid = (cnt_q != 2'd0);
    assign m_data  = head_q ? buf1_q[DW-1:0] : buf0_q[DW-1:0];
    assign m_last  = head_q ? buf1_q[DW] : buf0_q[DW];

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    stream_check #(.W(1 + DW), .NAME("m")) u_check_m (
        .clk(clk), .rst(rst), .valid(m_valid), .ready(m_ready), .data({m_last, m_data}));
    stream_check #(.W(ADDR_W + LEN_W), .NAME("sdram_req")) u_check_req (
        .clk(clk), .rst(rst), .valid(sdram_req_valid), .ready(sdram_req_ready),
        .data({sdram_req_addr, sdram_req_len}));
    // the skid buffer holds two beats: a push into a full one would lose one
    always @(posedge clk) begin
        if (!rst) assert (cnt_q != 2'd3) else $error("%m: skid buffer overfilled");
    end
`endif
endmodule
`default_nettype wire
