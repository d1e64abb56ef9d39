`default_nettype none
// Test harness of the DMA blocks (unit accel_dma, tb/test_accel_vec.py): N
// accel_rd readers on one accel_rd_arb, and N write streams on one
// accel_wr_arb, each port brought out packed (reader / stream i in bit i or
// bits [i*W +: W]). Only wires: the blocks' own ports, headers and checks
// hold. The SDRAM side uses the SdramModel names (prefix mem).
module accel_vec_dma_harness #(
    parameter N          = 3,    // readers and write streams, >= 1
    parameter AW         = 24,   // SDRAM byte-address bits, 8..32
    parameter FIFO_WORDS = 16,   // each reader's FIFO (a power of two >= MAX_LEN)
    parameter MAX_LEN    = 8,    // longest request, 1..16
    parameter DEPTH      = 4     // requests in flight on the arbiter (a power of two >= 2)
) (
    input  wire                clk,
    input  wire                rst,
    input  wire [N-1:0]        start,
    input  wire [N*AW-1:0]     base,
    input  wire [N*(AW-2)-1:0] nwords,
    output wire [N-1:0]        busy,
    output wire [N-1:0]        m_valid,
    input  wire [N-1:0]        m_ready,
    output wire [N*32-1:0]     m_data,
    output wire [N-1:0]        m_last,
    input  wire [N-1:0]        s_wr_valid,
    output wire [N-1:0]        s_wr_ready,
    input  wire [N*(AW-2)-1:0] s_wr_addr,
    input  wire [N*32-1:0]     s_wr_data,
    input  wire [N*4-1:0]      s_wr_strb,
    output wire                mem_req_valid,
    input  wire                mem_req_ready,
    output wire [AW-3:0]       mem_req_addr,
    output wire [4:0]          mem_req_len,
    input  wire                mem_rd_valid,
    output wire                mem_rd_ready,
    input  wire [31:0]         mem_rd_data,
    output wire                mem_wr_valid,
    input  wire                mem_wr_ready,
    output wire [AW-3:0]       mem_wr_addr,
    output wire [31:0]         mem_wr_data,
    output wire [3:0]          mem_wr_strb
);
    initial begin
        if (N < 1) $fatal(1, "accel_vec_dma_harness: N must be >= 1");
    end

    wire [N-1:0]        rq_v, rq_r, rdv, rdr;
    wire [N*(AW-2)-1:0] rq_a;
    wire [N*5-1:0]      rq_l;
    wire [31:0]         rdd;
    genvar i;
    generate
        for (i = 0; i < N; i = i + 1) begin : gen_rd
            accel_rd #(.AW(AW), .FIFO_WORDS(FIFO_WORDS), .MAX_LEN(MAX_LEN)) u_rd (
                .clk(clk), .rst(rst), .start(start[i]), .base(base[i*AW +: AW]),
                .nwords(nwords[i*(AW-2) +: (AW-2)]), .busy(busy[i]),
                .req_valid(rq_v[i]), .req_ready(rq_r[i]), .req_addr(rq_a[i*(AW-2) +: (AW-2)]),
                .req_len(rq_l[i*5 +: 5]), .rd_valid(rdv[i]), .rd_ready(rdr[i]), .rd_data(rdd),
                .m_valid(m_valid[i]), .m_ready(m_ready[i]), .m_data(m_data[i*32 +: 32]), .m_last(m_last[i]));
        end
    endgenerate
    accel_rd_arb #(.N(N), .AW(AW), .DEPTH(DEPTH)) u_rd_arb (
        .clk(clk), .rst(rst), .req_valid(rq_v), .req_ready(rq_r), .req_addr(rq_a), .req_len(rq_l),
        .rd_valid(rdv), .rd_ready(rdr), .rd_data(rdd),
        .mem_req_valid(mem_req_valid), .mem_req_ready(mem_req_ready), .mem_req_addr(mem_req_addr),
        .mem_req_len(mem_req_len), .mem_rd_valid(mem_rd_valid), .mem_rd_ready(mem_rd_ready),
        .mem_rd_data(mem_rd_data));
    accel_wr_arb #(.N(N), .AW(AW)) u_wr_arb (
        .clk(clk), .rst(rst), .wr_valid(s_wr_valid), .wr_ready(s_wr_ready), .wr_addr(s_wr_addr),
        .wr_data(s_wr_data), .wr_strb(s_wr_strb), .mem_wr_valid(mem_wr_valid), .mem_wr_ready(mem_wr_ready),
        .mem_wr_addr(mem_wr_addr), .mem_wr_data(mem_wr_data), .mem_wr_strb(mem_wr_strb));
endmodule
`default_nettype wire
