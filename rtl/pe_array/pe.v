`default_nettype none
// Reconfigurable PE (paper 004, Fig. 2/3): 3 INT8 MACs, operand and route
// multiplexers, a 3-entry INT32 partial-sum register file. One beat = 3 MACs.
//   MODE_CONV 0: ps0 += a0*b0 + a1*b1 + a2*b2   (3x3 kernel row, FP/BP s1, FP s2)
//   MODE_EO   1: ps0 += a0*b0; ps1 += a1*b1 + a0*b2   (BP s2: even/odd outputs)
//   MODE_WB   2: psj += aj*b0   (row operand broadcast: WG 3x3, 1x1/FC over 3 columns)
//   MODE_BC   3: psj += a0*bj   (input broadcast, Fig. 3(f): 1x1/FC over 3 outputs)
// Partial sums wrap at ACC_W bits; a sticky overflow bit per entry records it.
//
// Pipeline, every port registered (no input-to-output path; every input pin
// loads one flop, so the array can broadcast operands and control):
//   P0 input registers -> P1 multiply -> P2 route + accumulate -> P3 shadow.
// The shadow (the PE's share of the array's output bank) is loaded with the
// partial sums 2 clocks after a beat with `last` is registered at P0, and
// shifts in sh_in (the PE OUT_ROWS rows below) the clock after `shift`.
module pe #(
    parameter ACC_W = 32  // partial-sum width, >= 18 (one beat adds at most 3*2^14)
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               en,         // execute this beat
    input  wire [1:0]         mode,       // MODE_*
    input  wire               first,      // first beat of a tile: start from zero
    input  wire               last,       // last beat of a tile: load the shadow with the result
    input  wire [23:0]        a,          // column operands {a2, a1, a0}, int8
    input  wire [23:0]        b,          // row operands {b2, b1, b0}, int8
    input  wire               shift,      // drain: shadow <= sh_in (one clock later)
    input  wire [3*ACC_W-1:0] sh_in,      // shadow of the PE below
    input  wire [2:0]         sh_ovf_in,
    output wire [3*ACC_W-1:0] sh_out,     // shadow: a finished tile's partial sums {ps2, ps1, ps0}
    output wire [2:0]         sh_ovf_out  // and their sticky overflow bits
);
    // Simulation speed-up: one C++ class for all PEs (inlining 512 copies bloats the build).
    /*verilator no_inline_module*/
    localparam [1:0] MODE_CONV = 2'd0, MODE_EO = 2'd1, MODE_WB = 2'd2, MODE_BC = 2'd3;

    initial begin
        if (ACC_W < 18) $fatal(1, "pe: ACC_W must be >= 18");
    end

    // The three products after the operand multiplexers: {p2, p1, p0}.
    function [47:0] products;
        input [1:0]  m;
        input [23:0] av, bv;
        reg signed [7:0]  a0, a1, a2, b0, b1, b2, x1, x2, y1, y2;
        reg signed [15:0] p0, p1, p2;
        begin
            a0 = av[7:0];  a1 = av[15:8];  a2 = av[23:16];
            b0 = bv[7:0];  b1 = bv[15:8];  b2 = bv[23:16];
            x1 = (m == MODE_BC) ? a0 : a1;
            x2 = (m == MODE_BC || m == MODE_EO) ? a0 : a2;
            y1 = (m == MODE_WB) ? b0 : b1;
            y2 = (m == MODE_WB) ? b0 : b2;
            p0 = a0 * b0;
            p1 = x1 * y1;
            p2 = x2 * y2;
            products = {p2, p1, p0};
        end
    endfunction

    // The route multiplexers: the products summed into the three partial sums
    // {s2, s1, s0}; the mode comes decoded (conv, eo, s2 used = WB or BC).
    function [53:0] route;
        input        conv0, conv1, eo, s2_on;
        input [47:0] pv;
        reg signed [17:0] p0, p1, p2, s0, s1, s2;
        begin
            p0 = {{2{pv[15]}}, pv[15:0]};
            p1 = {{2{pv[31]}}, pv[31:16]};
            p2 = {{2{pv[47]}}, pv[47:32]};
            s0 = conv0 ? p0 + p1 + p2 : p0;
            s1 = conv1 ? 18'sd0 : eo ? p1 + p2 : p1;
            s2 = s2_on ? p2 : 18'sd0;
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

    // ---- P0: input registers
    reg        en_q, first_q, last_q, shift_q;
    reg [1:0]  mode_q;
    reg [23:0] a_q, b_q;
    always @(posedge clk) begin
        if (rst) begin
            en_q    <= 1'b0;
            shift_q <= 1'b0;
        end else begin
            en_q    <= en;
            shift_q <= shift;
        end
    end
    always @(posedge clk) begin
        mode_q  <= mode;
        first_q <= first;
        last_q  <= last;
        a_q     <= a;
        b_q     <= b;
    end

    // ---- P1: products (captured every clock; the valid/first copies mark a beat)
    // (the mode decoded: a select per route multiplexer, each its own flop)
    reg        p1_last_q;
    reg [47:0] p_q;
    reg        conv0_q, conv1_q, eo_q, s2_on_q;
    always @(posedge clk) begin
        p1_last_q <= last_q;
        p_q       <= products(mode_q, a_q, b_q);
    end
    (* keep *) always @(posedge clk) begin
        conv0_q <= mode_q == MODE_CONV;
        conv1_q <= mode_q == MODE_CONV;
        eo_q    <= mode_q == MODE_EO;
        s2_on_q <= mode_q == MODE_WB || mode_q == MODE_BC;
    end

    // ---- P2: route and accumulate; valid and first kept once per partial
    // sum (each drives ACC_W + 1 flops: one copy would be the slowest net)
    wire [53:0]   s_all = route(conv0_q, conv1_q, eo_q, s2_on_q, p_q);
    wire [3*ACC_W-1:0] psum;
    wire [2:0]         ovf;
    reg                v0_q;
    reg                load_q;

    genvar j;
    generate
        for (j = 0; j < 3; j = j + 1) begin : gen_mac
            reg             v1_q, first1_q;
            reg [ACC_W-1:0] psum_q;
            reg             ovf_q;
            (* keep *) always @(posedge clk) begin
                v1_q     <= en_q;
                first1_q <= first_q;
            end
            wire [ACC_W-1:0] base = first1_q ? {ACC_W{1'b0}} : psum_q;
            wire [ACC_W:0]   sum  = accumulate(base, s_all[j*18 +: 18]);
            always @(posedge clk) begin
                if (v1_q) begin
                    psum_q <= sum[ACC_W-1:0];
                    ovf_q  <= (!first1_q && ovf_q) | (sum[ACC_W] ^ sum[ACC_W-1]);
                end
            end
            assign psum[j*ACC_W +: ACC_W] = psum_q;
            assign ovf[j] = ovf_q;
            if (j == 0) begin : gen_v0
                always @(*) v0_q = v1_q;
            end
        end
    endgenerate

    always @(posedge clk) load_q <= v0_q && p1_last_q;

    // ---- P3: shadow (load wins; the array never asks for both in one clock)
    reg [3*ACC_W-1:0] sh_q;
    reg [2:0]         sh_ovf_q;
    always @(posedge clk) begin
        if (load_q) begin
            sh_q     <= psum;
            sh_ovf_q <= ovf;
        end else if (shift_q) begin
            sh_q     <= sh_in;
            sh_ovf_q <= sh_ovf_in;
        end
    end
    assign sh_out     = sh_q;
    assign sh_ovf_out = sh_ovf_q;
endmodule
`default_nettype wire
