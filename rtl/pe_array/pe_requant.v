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
    // wide enough for din + 2^30 whatever ACC_W is
    /*verilator no_inline_module*/
    localparam RW = (ACC_W > 31 ? ACC_W : 31) + 2;

    initial begin
        if (ACC_W < 18) $fatal(1, "pe_requant: ACC_W must be >= 18");
    end

    function [7:0] rq8;
        input [ACC_W-1:0] d;
        input [4:0]       sh;
        reg signed [RW-1:0] ext, half, shr;
        begin
            ext  = {{(RW-ACC_W){d[ACC_W-1]}}, d};
            half = (sh == 5'd0) ? {RW{1'b0}} : {{(RW-1){1'b0}}, 1'b1} << (sh - 5'd1);
            shr  = (ext + half) >>> sh;
            if (!shr[RW-1] && shr[RW-2:7] != {(RW-8){1'b0}})
                rq8 = 8'h7f;                       // above 127
            else if (shr[RW-1] && shr[RW-2:7] != {(RW-8){1'b1}})
                rq8 = 8'h80;                       // below -128
            else
                rq8 = shr[7:0];
        end
    endfunction

    wire [7:0] q8 = rq8(din, shift);
    assign dout = en ? {{(ACC_W-8){q8[7]}}, q8} : din;
endmodule
`default_nettype wire
