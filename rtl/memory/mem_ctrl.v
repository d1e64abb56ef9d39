`default_nettype none
// Training-vector memory as the compute side sees it: UNIFIED = 0 gives the
// SDRAM -> SRAM slot double buffer (mem_dbuf), UNIFIED = 1 the straight-through
// baseline (mem_unified). Same ports, status and ordering in both modes.
module mem_ctrl #(
    parameter UNIFIED       = 0,    // 0: distributed (SRAM slots), 1: unified (no SRAM)
    parameter SLOTS         = 4,    // SRAM slots (distributed only)
    parameter VECS_PER_SLOT = 64,   // vectors per slot (distributed only)
    parameter VEC_WORDS     = 784,  // words per vector
    parameter WORD_W        = 32,   // bits per word
    parameter ADDR_W        = 24,   // SDRAM word-address bits
    parameter BURST_LEN     = 16,   // most words per SDRAM read request
    parameter VCNT_W        = 20    // bits of cfg_num_vecs
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
    output wire [WORD_W-1:0]            m_data,
    output wire                         m_last,
    output wire                         sdram_req_valid,
    input  wire                         sdram_req_ready,
    output wire [ADDR_W-1:0]            sdram_req_addr,
    output wire [$clog2(BURST_LEN+1)-1:0] sdram_req_len,
    input  wire                         sdram_rd_valid,
    output wire                         sdram_rd_ready,
    input  wire [WORD_W-1:0]            sdram_rd_data
);
    initial begin
        if (UNIFIED != 0 && UNIFIED != 1) $fatal(1, "mem_ctrl: UNIFIED must be 0 or 1");
    end

    generate
        if (UNIFIED != 0) begin : gen_unified
            mem_unified #(
                .VEC_WORDS(VEC_WORDS), .WORD_W(WORD_W), .ADDR_W(ADDR_W),
                .BURST_LEN(BURST_LEN), .VCNT_W(VCNT_W)
            ) u_mem (
                .clk(clk), .rst(rst), .start(start), .cfg_base(cfg_base), .cfg_num_vecs(cfg_num_vecs),
                .busy(busy), .done(done), .error(error),
                .m_valid(m_valid), .m_ready(m_ready), .m_data(m_data), .m_last(m_last),
                .sdram_req_valid(sdram_req_valid), .sdram_req_ready(sdram_req_ready),
                .sdram_req_addr(sdram_req_addr), .sdram_req_len(sdram_req_len),
                .sdram_rd_valid(sdram_rd_valid), .sdram_rd_ready(sdram_rd_ready),
                .sdram_rd_data(sdram_rd_data));
        end else begin : gen_dbuf
            mem_dbuf #(
                .SLOTS(SLOTS), .VECS_PER_SLOT(VECS_PER_SLOT), .VEC_WORDS(VEC_WORDS), .WORD_W(WORD_W),
                .ADDR_W(ADDR_W), .BURST_LEN(BURST_LEN), .VCNT_W(VCNT_W)
            ) u_mem (
                .clk(clk), .rst(rst), .start(start), .cfg_base(cfg_base), .cfg_num_vecs(cfg_num_vecs),
                .busy(busy), .done(done), .error(error),
                .m_valid(m_valid), .m_ready(m_ready), .m_data(m_data), .m_last(m_last),
                .sdram_req_valid(sdram_req_valid), .sdram_req_ready(sdram_req_ready),
                .sdram_req_addr(sdram_req_addr), .sdram_req_len(sdram_req_len),
                .sdram_rd_valid(sdram_rd_valid), .sdram_rd_ready(sdram_rd_ready),
                .sdram_rd_data(sdram_rd_data));
        end
    endgenerate
endmodule
`default_nettype wire
