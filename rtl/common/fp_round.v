`default_nettype none
// Round to nearest, ties to even, and pack. Shared by fp_add and fp_mul.
// The input is a significand already aligned to the output format: exp is the
// biased exponent (0 = subnormal or zero, >= all-ones = overflow) and frac the
// fraction, followed by two round bits and a sticky bit. The second round bit
// exists only to detect tininess after rounding (IEEE 754-2008 7.5, as RISC-V
// and x86 SSE do): a value just below 2^emin that rounds up to it at the
// subnormal precision is still tiny if it would not round up with an unbounded
// exponent range.
module fp_round #(
    parameter EXP_W  = 8,          // exponent field width
    parameter MAN_W  = 23,         // fraction field width
    parameter EXPI_W = EXP_W + 2   // width of the incoming exponent (room for overflow)
) (
    input  wire                 sign,
    input  wire [EXPI_W-1:0]    exp,
    input  wire [MAN_W-1:0]     frac,
    input  wire                 rnd,
    input  wire                 rnd2,
    input  wire                 sticky,
    output wire [EXP_W+MAN_W:0] result,
    output wire                 overflow,
    output wire                 underflow,
    output wire                 inexact
);
    localparam [EXPI_W-1:0] EXP_MAX = {{(EXPI_W-EXP_W){1'b0}}, {EXP_W{1'b1}}};

    wire                      round_up = rnd & (rnd2 | sticky | frac[0]);
    // A carry out of the fraction bumps the exponent, which also turns the
    // largest subnormal into the smallest normal.
    wire [EXPI_W+MAN_W-1:0]   rounded  = {exp, frac} + {{(EXPI_W+MAN_W-1){1'b0}}, round_up};
    wire [EXPI_W-1:0]         exp_rnd  = rounded[EXPI_W+MAN_W-1:MAN_W];
    wire                      tiny     = (exp == {EXPI_W{1'b0}}) & ~(&frac & rnd & rnd2);

    assign overflow  = (exp_rnd >= EXP_MAX);
    assign inexact   = rnd | rnd2 | sticky | overflow;
    assign underflow = tiny & inexact;
    assign result    = overflow ? {sign, {EXP_W{1'b1}}, {MAN_W{1'b0}}}
                                : {sign, exp_rnd[EXP_W-1:0], rounded[MAN_W-1:0]};
endmodule
`default_nettype wire
