`default_nettype none
// Unpacks an IEEE-754 operand into sign, effective exponent and significand,
// and classifies it. Subnormals get exponent 1 and no hidden bit, so that
// value = sig * 2^(exp_eff - bias - MAN_W) holds for every finite operand.
module fp_classify #(
    parameter EXP_W = 8,   // exponent field width (8: binary32, 5: binary16)
    parameter MAN_W = 23   // fraction field width (23: binary32, 10: binary16)
) (
    input  wire [EXP_W+MAN_W:0] op,
    output wire                 sign,
    output wire [EXP_W-1:0]     exp_eff,
    output wire [MAN_W:0]       sig,
    output wire                 is_zero,
    output wire                 is_sub,
    output wire                 is_inf,
    output wire                 is_nan,
    output wire                 is_snan
);
    wire [EXP_W-1:0] exp_field = op[EXP_W+MAN_W-1:MAN_W];
    wire [MAN_W-1:0] frac      = op[MAN_W-1:0];
    wire             exp_zero  = (exp_field == {EXP_W{1'b0}});
    wire             exp_ones  = (exp_field == {EXP_W{1'b1}});
    wire             frac_zero = (frac == {MAN_W{1'b0}});

    assign sign    = op[EXP_W+MAN_W];
    assign exp_eff = exp_zero ? {{(EXP_W-1){1'b0}}, 1'b1} : exp_field;
    assign sig     = {~exp_zero, frac};
    assign is_zero = exp_zero & frac_zero;
    assign is_sub  = exp_zero & ~frac_zero;
    assign is_inf  = exp_ones & frac_zero;
    assign is_nan  = exp_ones & ~frac_zero;
    assign is_snan = is_nan & ~frac[MAN_W-1];
endmodule
`default_nettype wire
