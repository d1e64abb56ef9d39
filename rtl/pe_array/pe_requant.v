`default_nettype none
// INT32 -> INT8 requantization of one lane (models/quant.py requantize):
// arithmetic shift right by `shift` with round to nearest, ties up, then
// saturation to [-128, 127], sign-extended back to ACC_W bits. en = 0 passes
// the partial sum through unchanged (WG results stay INT32).
module pe_requant #(
    parameter ACC_W = 32  // lane width, >= 18
) (
    input  wire             en,
    input  wire [4:0]       shift,
    input  wire [ACC_W-1:0] din,
    output wire [ACC_W-1:0] dout
);
    /*verilator no_inline_module*/
    initial begin
        if (ACC_W < 18) $fatal(1, "pe_requant: ACC_W must be >= 18");
    end

    // round(d / 2^sh) ties up = floor((floor(d / 2^(sh-1)) + 1) / 2) for sh >= 1,
    // so only t = d >>> (sh-1), two constant compares and an 8-bit increment
    // sit behind the shifter (no ACC_W-bit rounding adder).
    function [7:0] rq8;
        input [ACC_W-1:0] d;
        input [4:0]       sh;
        reg signed [ACC_W-1:0] t;
        reg [7:0]              inc;
        begin
            t   = (sh == 5'd0) ? $signed(d) : $signed(d) >>> (sh - 5'd1);
            inc = t[8:1] + {7'd0, t[0]};      // = (t[8:0] + 1) >> 1, low 8 bits
            if (sh == 5'd0)
                rq8 = (t > 127) ? 8'h7f : (t < -128) ? 8'h80 : t[7:0];
            else
                rq8 = (t > 254) ? 8'h7f : (t < -257) ? 8'h80 : inc;
        end
    endfunction

    wire [7:0] q8 = rq8(din, shift);
    assign dout = en ? {{(ACC_W-8){q8[7]}}, q8} : din;
endmodule
`default_nettype wire
