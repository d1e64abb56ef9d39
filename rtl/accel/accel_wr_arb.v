`default_nettype none
// Write arbiter of the accelerator's DMA: N word-write streams share one
// SDRAM write port, granted round robin (the stream after the last one
// granted first) into one output register.
//
// Ports (stream i's signal in bit i, or in bits [i*W +: W] of a packed bus):
//   wr_valid/wr_ready [N], wr_addr [N*(AW-2)] (word address = byte address / 4),
//   wr_data [N*32] (little-endian: byte j in bits 8j+7:8j), wr_strb [N*4]
//   (byte j is written where bit j is set)
//   mem_wr_valid/ready, mem_wr_addr [AW-2], mem_wr_data [32], mem_wr_strb [4]:
//   the SDRAM write port (a beat is written when taken)
// Latency: a granted beat is on mem_wr the clock after its grant.
// Throughput: one word per clock (the output register reloads while it is taken).
// Order: the beats of one stream reach the port in that stream's order.
// Reset (rst, synchronous, active high): the output register empties on the
//   next clock (a beat not yet taken is dropped).
module accel_wr_arb #(
    parameter N  = 2,    // write streams, >= 1
    parameter AW = 32    // SDRAM byte-address bits, 8..32 (word addresses have AW-2)
) (
    input  wire                clk,
    input  wire                rst,
    input  wire [N-1:0]        wr_valid,
    output reg  [N-1:0]        wr_ready,
    input  wire [N*(AW-2)-1:0] wr_addr,
    input  wire [N*32-1:0]     wr_data,
    input  wire [N*4-1:0]      wr_strb,
    output wire                mem_wr_valid,
    input  wire                mem_wr_ready,
    output wire [AW-3:0]       mem_wr_addr,
    output wire [31:0]         mem_wr_data,
    output wire [3:0]          mem_wr_strb
);
    localparam IW = (N <= 1) ? 1 : $clog2(N);

    initial begin
        if (N < 1) $fatal(1, "accel_wr_arb: N must be >= 1");
        if (AW < 8 || AW > 32) $fatal(1, "accel_wr_arb: AW must be 8..32");
    end

    reg          ov_q;
    reg [AW-3:0] oaddr_q;
    reg [31:0]   odata_q;
    reg [3:0]    ostrb_q;
    reg [IW-1:0] rr_q;

    wire         take = !ov_q || mem_wr_ready;
    reg          found;
    reg [IW-1:0] gnt;
    reg [IW:0]   pos;
    integer      k;
    localparam integer N_I = N;
    localparam [IW:0] N_C = N_I[IW:0];
    localparam integer  LAST_I = N - 1;
    localparam [IW-1:0] LAST = LAST_I[IW-1:0];
    localparam          VP = 1 << (IW + 1);
    wire [VP-1:0]       vpad = {{(VP-N){1'b0}}, wr_valid};   // indexed by pos
    always @* begin
        found    = 1'b0;
        gnt      = {IW{1'b0}};
        wr_ready = {N{1'b0}};
        for (k = 0; k < N; k = k + 1) begin
            pos = {1'b0, rr_q} + k[IW:0];
            if (pos >= N_C) pos = pos - N_C;
            if (!found && vpad[pos]) begin
                found = 1'b1;
                gnt   = pos[IW-1:0];
            end
        end
        if (found && take) wr_ready[gnt] = 1'b1;
    end
    wire grant = |wr_ready;

    assign mem_wr_valid = ov_q;
    assign mem_wr_addr  = oaddr_q;
    assign mem_wr_data  = odata_q;
    assign mem_wr_strb  = ostrb_q;

    always @(posedge clk) begin
        if (rst) begin
            ov_q <= 1'b0;
            rr_q <= {IW{1'b0}};
        end else if (grant) begin
            ov_q    <= 1'b1;
            oaddr_q <= wr_addr[gnt*(AW-2) +: (AW-2)];
            odata_q <= wr_data[gnt*32 +: 32];
            ostrb_q <= wr_strb[gnt*4 +: 4];
            rr_q    <= (gnt == LAST) ? {IW{1'b0}} : gnt + 1'b1;
        end else if (mem_wr_ready) begin
            ov_q <= 1'b0;
        end
    end

`ifndef SYNTHESIS
    stream_check #(.W(AW - 2 + 36), .NAME("mem_wr")) u_check_wr (
        .clk(clk), .rst(rst), .valid(mem_wr_valid), .ready(mem_wr_ready),
        .data({mem_wr_addr, mem_wr_data, mem_wr_strb}));
`endif
endmodule
`default_nettype wire
