`default_nettype none
// Training-vector memory as the compute side sees it: UNIFIED = 0 gives the
// SDRAM -> SRAM slot double buffer (mem_dbuf), UNIFIED = 1 the straight-through
// baseline (mem_unified). Same ports, status and ordering in both modes; a
// compute-side beat carries RD_WORDS consecutive words, the first in the low bits.
// Run tags (TAGS = 1): every SDRAM request carries sdram_req_tag, and the
// SDRAM returns it with each word on sdram_rd_tag. The tag is an epoch that
// advances once per reset (on the first clock of rst) and is otherwise kept
// through reset, so words of bursts issued before a reset come back with an
// old tag and are taken and dropped here, with no error; the SDRAM side need
// not be reset with this block. Its power-up value is arbitrary (a two-state
// simulator starts it at 0). With TAGS = 0 the tag ports are unused
// (sdram_req_tag = 0) and the SDRAM must be reset with this block.
module mem_ctrl #(
    parameter UNIFIED       = 0,    // 0: distributed (SRAM slots), 1: unified (no SRAM)
    parameter SLOTS         = 4,    // SRAM slots (distributed only)
    parameter VECS_PER_SLOT = 64,   // vectors per slot (distributed only)
    parameter VEC_WORDS     = 784,  // words per vector
    parameter WORD_W        = 32,   // bits per word
    parameter ADDR_W        = 24,   // SDRAM word-address bits
    parameter BURST_LEN     = 16,   // most words per SDRAM read request
    parameter VCNT_W        = 20,   // bits of cfg_num_vecs
    parameter RD_WORDS      = 1,    // words per compute-side beat (SRAM banks); divides VEC_WORDS
    parameter TAGS          = 0,    // 1: drop SDRAM words whose tag is not the current epoch
    parameter TAG_W         = 4     // bits of the request tag (2**TAG_W resets before a tag repeats)
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
    output wire [TAG_W-1:0]             sdram_req_tag,
    input  wire                         sdram_rd_valid,
    output wire                         sdram_rd_ready,
    input  wire [WORD_W-1:0]            sdram_rd_data,
    input  wire [TAG_W-1:0]             sdram_rd_tag
);
    initial begin
        if (UNIFIED != 0 && UNIFIED != 1) $fatal(1, "mem_ctrl: UNIFIED must be 0 or 1");
        if (TAGS != 0 && TAGS != 1) $fatal(1, "mem_ctrl: TAGS must be 0 or 1");
        if (TAG_W < 1) $fatal(1, "mem_ctrl: TAG_W must be >= 1");
        if (RD_WORDS < 1 || VEC_WORDS % RD_WORDS != 0) $fatal(1, "mem_ctrl: RD_WORDS must be >= 1 and divide VEC_WORDS");
    end

    // ---------------------------------------------------------------- run tags
    wire in_valid, in_ready;
    generate
        if (TAGS != 0) begin : gen_tags
            localparam [TAG_W-1:0] ONE_T = 1;
            reg  [TAG_W-1:0] epoch_q;
            reg              rst_seen_q;   // rst in the previous clock
            wire [TAG_W-1:0] epoch_d = epoch_q + ((rst && !rst_seen_q) ? ONE_T : {TAG_W{1'b0}});
            // deliberately outside the reset: the epoch must outlive it
            always @(posedge clk) begin
                rst_seen_q <= rst;
                epoch_q    <= epoch_d;
            end
            wire stale = sdram_rd_tag != epoch_q;
            assign sdram_req_tag  = epoch_q;
            assign in_valid       = sdram_rd_valid && !stale;
            assign sdram_rd_ready = in_ready || stale;
        end else begin : gen_notags
            assign sdram_req_tag  = {TAG_W{1'b0}};
            assign in_valid       = sdram_rd_valid;
            assign sdram_rd_ready = in_ready;
            wire unused_tag = &{1'b0, sdram_rd_tag, 1'b0};
        end
    endgenerate

    generate
        if (UNIFIED != 0) begin : gen_unified
            mem_unified #(
                .VEC_WORDS(VEC_WORDS), .WORD_W(WORD_W), .ADDR_W(ADDR_W),
                .BURST_LEN(BURST_LEN), .VCNT_W(VCNT_W), .RD_WORDS(RD_WORDS)
            ) u_mem (
                .clk(clk), .rst(rst), .start(start), .cfg_base(cfg_base), .cfg_num_vecs(cfg_num_vecs),
                .busy(busy), .done(done), .error(error),
                .m_valid(m_valid), .m_ready(m_ready), .m_data(m_data), .m_last(m_last),
                .sdram_req_valid(sdram_req_valid), .sdram_req_ready(sdram_req_ready),
                .sdram_req_addr(sdram_req_addr), .sdram_req_len(sdram_req_len),
                .sdram_rd_valid(in_valid), .sdram_rd_ready(in_ready),
                .sdram_rd_data(sdram_rd_data));
        end else begin : gen_dbuf
            mem_dbuf #(
                .SLOTS(SLOTS), .VECS_PER_SLOT(VECS_PER_SLOT), .VEC_WORDS(VEC_WORDS), .WORD_W(WORD_W),
                .ADDR_W(ADDR_W), .BURST_LEN(BURST_LEN), .VCNT_W(VCNT_W), .RD_WORDS(RD_WORDS)
            ) u_mem (
                .clk(clk), .rst(rst), .start(start), .cfg_base(cfg_base), .cfg_num_vecs(cfg_num_vecs),
                .busy(busy), .done(done), .error(error),
                .m_valid(m_valid), .m_ready(m_ready), .m_data(m_data), .m_last(m_last),
                .sdram_req_valid(sdram_req_valid), .sdram_req_ready(sdram_req_ready),
                .sdram_req_addr(sdram_req_addr), .sdram_req_len(sdram_req_len),
                .sdram_rd_valid(in_valid), .sdram_rd_ready(in_ready),
                .sdram_rd_data(sdram_rd_data));
        end
    endgenerate

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    stream_check #(.W(1 + RD_WORDS * WORD_W), .NAME("m")) u_check_m (
        .clk(clk), .rst(rst), .valid(m_valid), .ready(m_ready), .data({m_last, m_data}));
    stream_check #(.W(ADDR_W + $clog2(BURST_LEN+1)), .NAME("sdram_req")) u_check_req (
        .clk(clk), .rst(rst), .valid(sdram_req_valid), .ready(sdram_req_ready),
        .data({sdram_req_addr, sdram_req_len}));
    always @(posedge clk) begin
        if (!rst) assert (!$isunknown(sdram_rd_ready)) else $error("%m: sdram_rd_ready is X or Z after reset");
    end
`endif
endmodule
`default_nettype wire
