`default_nettype none
// Reference design for hierarchical synthesis (tests/test_synth.py): two
// instances of hier_leaf (a combinational adder and a register) inside
// registered glue, so that the worst path runs glue flop -> leaf adder ->
// glue adder -> glue flop, through the leaf's blackbox stub.
module hier_leaf (
    input  wire       clk,
    input  wire [7:0] a,
    input  wire [7:0] b,
    output wire [8:0] s,
    output reg  [7:0] x_q
);
    assign s = a + b;
    always @(posedge clk) x_q <= a ^ b;
endmodule

module hier_top (
    input  wire        clk,
    input  wire [7:0]  a,
    input  wire [7:0]  b,
    output reg  [9:0]  sum_q,
    output wire [7:0]  x
);
    reg  [7:0] a_q, b_q;
    wire [8:0] s0, s1;
    wire [7:0] x0, x1;
    always @(posedge clk) begin
        a_q   <= a;
        b_q   <= b;
        sum_q <= s0 + s1;
    end
    hier_leaf u0 (.clk(clk), .a(a_q), .b(b_q), .s(s0), .x_q(x0));
    hier_leaf u1 (.clk(clk), .a(b_q), .b(~a_q), .s(s1), .x_q(x1));
    assign x = x0 & x1;
endmodule
`default_nettype wire
