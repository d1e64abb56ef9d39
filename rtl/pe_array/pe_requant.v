`default_nettype none
// INT32 -> INT8 requantization of one lane (models/quant.py requantize):
// arithmetic shift right by `shift` with round to nearest, ties up, then
// saturation to [-128, 127], sign-extended back to ACC_W bits. en = 0 passes
// the partial sum through unchanged (WG results stay INT32).
// PART splits the function across a register (pe_array: its output FIFO):
// 1 = the shifter and the saturation compares, ACC_W -> ACC_W + 1 bits;
// 2 = the rounding increment, ACC_W + 1 -> ACC_W bits; 0 = both in one.
// The ACC_W + 1-bit intermediate: {1, t} = round t (the low 9 bits of the
// partial sum shifted by shift - 1) to 8 bits; {0, v} = v is the result.
module pe_requant #(
    parameter ACC_W = 32,  // lane width, >= 18
    parameter PART  = 0    // 0 whole function, 1 before the register, 2 after it
) (
    input  wire                                en,     // PART 0, 1
    input  wire [4:0]                          shift,  // PART 0, 1
    input  wire [ACC_W-1+(PART == 2 ? 1 : 0):0] din,
    output wire [ACC_W-1+(PART == 1 ? 1 : 0):0] dout
);
    /*verilator no_inline_module*/
    initial begin
        if (ACC_W < 18) $fatal(1, "pe_requant: ACC_W must be >= 18");
        if (PART < 0 || PART > 2) $fatal(1, "pe_requant: PART must be 0, 1 or 2");
    end

    // round(d / 2^sh) ties up = floor((floor(d / 2^(sh-1)) + 1) / 2) for sh >= 1,
    // so only t = d >>> (sh-1), two constant compares and an 8-bit increment
    // sit behind the shifter (no ACC_W-bit rounding adder); t = 2d >>> sh
    // keeps the decrement of sh out of the shifter's path.
    function [ACC_W:0] rq_pre;
        input             e;
        input [ACC_W-1:0] d;
        input [4:0]       sh;
        reg signed [ACC_W:0] t;
        reg [7:0]            s8;
        begin
            t  = $signed({d, 1'b0}) >>> sh;
            s8 = ($signed(d) > 127) ? 8'h7f : ($signed(d) < -128) ? 8'h80 : d[7:0];
            if (!e)
                rq_pre = {1'b0, d};
            else if (sh == 5'd0)
                rq_pre = {1'b0, {(ACC_W-8){s8[7]}}, s8};
            else if (t > 254)
                rq_pre = {1'b0, {(ACC_W-7){1'b0}}, 7'h7f};
            else if (t < -257)
                rq_pre = {1'b0, {(ACC_W-7){1'b1}}, 7'h00};
            else
                rq_pre = {1'b1, t[ACC_W-1:0]};
        end
    endfunction

    function [ACC_W-1:0] rq_post;
        input [ACC_W:0] m;
        reg [7:0] inc;
        begin
            inc   = m[8:1] + {7'd0, m[0]};    // = (t[8:0] + 1) >> 1, low 8 bits
            rq_post = m[ACC_W] ? {{(ACC_W-8){inc[7]}}, inc} : m[ACC_W-1:0];
        end
    endfunction

    generate
        if (PART == 1) begin : gen_before
            assign dout = rq_pre(en, din, shift);
        end else if (PART == 2) begin : gen_after
            assign dout = rq_post(din);
            wire unused_ok = &{1'b0, en, shift, 1'b0};
        end else begin : gen_whole
            assign dout = rq_post(rq_pre(en, din, shift));
        end
    endgenerate
endmodule
`default_nettype wire
