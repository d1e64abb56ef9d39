`default_nettype none
// Simulation harness: the BN unit's own float operations side by side, so
// that their exhaustive tests share one Verilator build.
module bn_ops_harness (
    input  wire        clk,
    input  wire        rst,
    input  wire [15:0] h_in,          // binary16 operand
    output wire [15:0] rsqrt_y,
    output wire [31:0] widen_y,
    input  wire [31:0] f_in,          // binary32 operand
    output wire [15:0] narrow_y,
    output wire        narrow_of,
    input  wire        start,         // bn_recip
    input  wire [23:0] n,
    output wire        done,
    output wire [31:0] recip_y
);
    bn_rsqrt      u_rsqrt  (.a(h_in), .y(rsqrt_y));
    bn_f16_to_f32 u_widen  (.a(h_in), .y(widen_y));
    bn_f32_to_f16 u_narrow (.a(f_in), .y(narrow_y), .of(narrow_of));
    bn_recip #(.NW(24)) u_recip (.clk(clk), .rst(rst), .start(start), .n(n), .done(done),
        .result(recip_y));
endmodule
`default_nettype wire
