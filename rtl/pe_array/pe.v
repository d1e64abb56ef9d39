`default_nettype none
// Reconfigurable PE (paper 004, Fig. 2/3): 3 INT8 MACs, operand and route
// multiplexers, a 3-entry INT32 partial-sum register file. One beat = 3 MACs.
//   MODE_CONV 0: ps0 += a0*b0 + a1*b1 + a2*b2   (3x3 kernel row, FP/BP s1, FP s2)
//   MODE_EO   1: ps0 += a0*b0; ps1 += a1*b1 + a0*b2   (BP s2: even/odd outputs)
//   MODE_WB   2: psj += aj*b0   (row operand broadcast: WG 3x3, 1x1/FC over 3 columns)
//   MODE_BC   3: psj += a0*bj   (input broadcast, Fig. 3(f): 1x1/FC over 3 outputs)
// Partial sums wrap at ACC_W bits; a sticky overflow bit per entry records it.
module pe #(
    parameter ACC_W = 32  // partial-sum width, >= 18 (one beat adds at most 3*2^14)
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               en,       // execute one beat
    input  wire [1:0]         mode,     // MODE_*
    input  wire               first,    // first beat of a tile: start from zero
    input  wire [23:0]        a,        // column operands {a2, a1, a0}, int8
    input  wire [23:0]        b,        // row operands {b2, b1, b0}, int8
    output wire [3*ACC_W-1:0] psum_d,   // partial sums after this beat {ps2, ps1, ps0}
    output wire [2:0]         ovf_d     // sticky overflow after this beat
);
    // Simulation speed-up: one C++ class for all PEs (inlining 512 copies bloats the build).
    /*verilator no_inline_module*/
    localparam [1:0] MODE_CONV = 2'd0, MODE_EO = 2'd1, MODE_WB = 2'd2, MODE_BC = 2'd3;

    initial begin
        if (ACC_W < 18) $fatal(1, "pe: ACC_W must be >= 18");
    end

    // The three products, routed to the three partial sums: {s2, s1, s0}.
    function [53:0] route;
        input [1:0]  m;
        input [23:0] av, bv;
        reg signed [7:0]  a0, a1, a2, b0, b1, b2, x1, x2, y1, y2;
        reg signed [17:0] p0, p1, p2, s0, s1, s2;
        begin
            a0 = av[7:0];  a1 = av[15:8];  a2 = av[23:16];
            b0 = bv[7:0];  b1 = bv[15:8];  b2 = bv[23:16];
            // operand multiplexers
            x1 = (m == MODE_BC) ? a0 : a1;
            x2 = (m == MODE_BC || m == MODE_EO) ? a0 : a2;
            y1 = (m == MODE_WB) ? b0 : b1;
            y2 = (m == MODE_WB) ? b0 : b2;
            p0 = a0 * b0;
            p1 = x1 * y1;
            p2 = x2 * y2;
            // route multiplexers
            s0 = (m == MODE_CONV) ? p0 + p1 + p2 : p0;
            s1 = (m == MODE_CONV) ? 18'sd0 : (m == MODE_EO) ? p1 + p2 : p1;
            s2 = (m == MODE_WB || m == MODE_BC) ? p2 : 18'sd0;
            route = {s2, s1, s0};
        end
    endfunction

    // base + s in ACC_W + 1 bits: the top two bits differ on overflow
    function [ACC_W:0] accumulate;
        input [ACC_W-1:0] base;
        input [17:0]      s;
        begin
            accumulate = {base[ACC_W-1], base} + {{(ACC_W-17){s[17]}}, s};
        end
    endfunction

    reg  [3*ACC_W-1:0] psum_q;
    reg  [2:0]         ovf_q;
    wire [53:0]        s_all = route(mode, a, b);
    wire [3*ACC_W-1:0] base  = first ? {3*ACC_W{1'b0}} : psum_q;
    wire [2:0]         ovf0  = first ? 3'b000 : ovf_q;

    genvar j;
    generate
        for (j = 0; j < 3; j = j + 1) begin : gen_mac
            wire [ACC_W:0] sum = accumulate(base[j*ACC_W +: ACC_W], s_all[j*18 +: 18]);
            assign psum_d[j*ACC_W +: ACC_W] = sum[ACC_W-1:0];
            assign ovf_d[j] = ovf0[j] | (sum[ACC_W] ^ sum[ACC_W-1]);
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            psum_q <= {3*ACC_W{1'b0}};
            ovf_q  <= 3'b000;
        end else if (en) begin
            psum_q <= psum_d;
            ovf_q  <= ovf_d;
        end
    end
endmodule
`default_nettype wire
