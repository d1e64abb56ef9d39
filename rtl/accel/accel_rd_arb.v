`default_nettype none
// Read arbiter of the accelerator's DMA: N readers (accel_rd) share one SDRAM
// read port. Requests are granted round robin (the reader after the last one
// granted first) into one output register; each granted request's (reader,
// length) enters a routing FIFO in request order, and the SDRAM's words,
// which come back in request order, go to the reader at the FIFO's head until
// its length is counted out.
//
// Ports (reader i's signal in bit i, or in bits [i*W +: W] of a packed bus):
//   req_valid/req_ready [N], req_addr [N*(AW-2)] (word addresses), req_len [N*5]
//   rd_valid/rd_ready [N], rd_data (32 bits, common to all readers)
//   mem_req_valid/ready, mem_req_addr [AW-2], mem_req_len [5]: the SDRAM requests
//   mem_rd_valid/ready, mem_rd_data: their words, in request order
// Latency: a request reaches mem_req the clock after its grant; words pass
//   combinationally (mem_rd_ready = the head reader's rd_ready).
// Throughput: one request per clock; one word per clock.
// A request is granted only while the routing FIFO has a free entry (at most
//   DEPTH requests in flight). A word with nothing in flight is not taken
//   (mem_rd_ready low; an assertion reports it in simulation).
// Reset (rst, synchronous, active high): the output register and the routing
//   FIFO empty on the next clock (the SDRAM port is reset with it).
module accel_rd_arb #(
    parameter N     = 2,    // readers, >= 1
    parameter AW    = 32,   // SDRAM byte-address bits, 8..32 (word addresses have AW-2)
    parameter DEPTH = 8     // requests in flight (routing FIFO entries), a power of two >= 2
) (
    input  wire            clk,
    input  wire            rst,
    input  wire [N-1:0]    req_valid,
    output reg  [N-1:0]    req_ready,
    input  wire [N*(AW-2)-1:0] req_addr,
    input  wire [N*5-1:0]  req_len,
    output wire [N-1:0]    rd_valid,
    input  wire [N-1:0]    rd_ready,
    output wire [31:0]     rd_data,
    output wire            mem_req_valid,
    input  wire            mem_req_ready,
    output wire [AW-3:0]   mem_req_addr,
    output wire [4:0]      mem_req_len,
    input  wire            mem_rd_valid,
    output wire            mem_rd_ready,
    input  wire [31:0]     mem_rd_data
);
    localparam IW = (N <= 1) ? 1 : $clog2(N);
    localparam DW = $clog2(DEPTH);

    initial begin
        if (N < 1) $fatal(1, "accel_rd_arb: N must be >= 1");
        if (AW < 8 || AW > 32) $fatal(1, "accel_rd_arb: AW must be 8..32");
        if (DEPTH < 2 || (1 << DW) != DEPTH) $fatal(1, "accel_rd_arb: DEPTH must be a power of two >= 2");
    end

    localparam integer DEPTH_I = DEPTH;
    localparam [DW:0] DEPTH_C = DEPTH_I[DW:0];

    reg          ov_q;                 // output register
    reg [AW-3:0] oaddr_q;
    reg [4:0]    olen_q;
    reg [IW-1:0] rr_q;                 // first reader to look at
    reg [IW+4:0] rt_q [0:DEPTH-1];     // routing FIFO: {reader, length}
    reg [DW-1:0] rt_wp_q, rt_rp_q;
    reg [DW:0]   rt_cnt_q;
    reg [4:0]    wcnt_q;               // words of the head request delivered

    // ---------------------------------------------------------------- grant
    wire         take = !ov_q || mem_req_ready;    // the output register is free this clock
    reg          found;
    reg [IW-1:0] gnt;
    reg [IW:0]   pos;
    integer      k;
    localparam integer N_I = N;
    localparam [IW:0] N_C = N_I[IW:0];
    localparam integer  LAST_I = N - 1;
    localparam [IW-1:0] LAST = LAST_I[IW-1:0];
    localparam          VP = 1 << (IW + 1);
    wire [VP-1:0]       vpad = {{(VP-N){1'b0}}, req_valid};   // indexed by pos
    always @* begin
        found     = 1'b0;
        gnt       = {IW{1'b0}};
        req_ready = {N{1'b0}};
        for (k = 0; k < N; k = k + 1) begin
            pos = {1'b0, rr_q} + k[IW:0];
            if (pos >= N_C) pos = pos - N_C;
            if (!found && vpad[pos]) begin
                found = 1'b1;
                gnt   = pos[IW-1:0];
            end
        end
        if (found && take && rt_cnt_q != DEPTH_C) req_ready[gnt] = 1'b1;
    end
    wire grant = |req_ready;
    wire [4:0] g_len = req_len[gnt*5 +: 5];

    assign mem_req_valid = ov_q;
    assign mem_req_addr  = oaddr_q;
    assign mem_req_len   = olen_q;

    // ---------------------------------------------------------------- routing
    wire [IW+4:0] head    = rt_q[rt_rp_q];
    wire [IW-1:0] head_id = head[IW+4:5];
    wire [4:0]    head_ln = head[4:0];
    wire          have    = (rt_cnt_q != 0);
    assign mem_rd_ready = have && rd_ready[head_id];
    assign rd_data      = mem_rd_data;
    genvar gi;
    generate
        for (gi = 0; gi < N; gi = gi + 1) begin : gen_rd
            assign rd_valid[gi] = mem_rd_valid && have && (head_id == gi);
        end
    endgenerate
    wire word_fire = mem_rd_valid && mem_rd_ready;
    wire pop       = word_fire && (wcnt_q + 5'd1 == head_ln);

    always @(posedge clk) begin
        if (rst) begin
            ov_q     <= 1'b0;
            rr_q     <= {IW{1'b0}};
            rt_wp_q  <= {DW{1'b0}};
            rt_rp_q  <= {DW{1'b0}};
            rt_cnt_q <= {(DW+1){1'b0}};
            wcnt_q   <= 5'd0;
        end else begin
            if (grant) begin
                ov_q    <= 1'b1;
                oaddr_q <= req_addr[gnt*(AW-2) +: (AW-2)];
                olen_q  <= g_len;
                rr_q    <= (gnt == LAST) ? {IW{1'b0}} : gnt + 1'b1;
                rt_wp_q <= rt_wp_q + 1'b1;
            end else if (mem_req_ready) begin
                ov_q <= 1'b0;
            end
            if (word_fire) wcnt_q <= pop ? 5'd0 : wcnt_q + 5'd1;
            if (pop) rt_rp_q <= rt_rp_q + 1'b1;
            rt_cnt_q <= rt_cnt_q + {{DW{1'b0}}, grant} - {{DW{1'b0}}, pop};
        end
    end
    always @(posedge clk) begin
        if (grant) rt_q[rt_wp_q] <= {gnt, g_len};
    end

`ifndef SYNTHESIS
    stream_check #(.W(AW - 2 + 5), .NAME("mem_req")) u_check_req (
        .clk(clk), .rst(rst), .valid(mem_req_valid), .ready(mem_req_ready), .data({mem_req_addr, mem_req_len}));
    genvar ci;
    generate
        for (ci = 0; ci < N; ci = ci + 1) begin : gen_check
            stream_check #(.W(32), .NAME("rd")) u_check_rd (
                .clk(clk), .rst(rst), .valid(rd_valid[ci]), .ready(rd_ready[ci]), .data(rd_data));
        end
    endgenerate
    always @(posedge clk) begin
        if (!rst) begin
            assert (!mem_rd_valid || have) else $error("%m: an SDRAM word with no request in flight");
            assert (!grant || g_len != 5'd0) else $error("%m: a request of 0 words");
        end
    end
`endif
endmodule
`default_nettype wire
