`default_nettype none
// Fixed point -> binary16, round to nearest even, once. The magnitude is
// given as fx (41 bits of weights 2^15 .. 2^-25, i.e. fx * 2^-25), a sticky bit
// for anything nonzero below 2^-25, and big for anything at or above 2^16.
// Subnormal results are exact (no flush), a magnitude that rounds past 65504
// gives inf (of = 1); a zero magnitude gives a zero of the given sign.
// Combinational.
module bn_fx_to_f16 (
    input  wire        sign,
    input  wire        big,      // magnitude >= 2^16: inf
    input  wire [40:0] fx,       // magnitude bits, weights 2^15 .. 2^-25
    input  wire        sticky,   // a nonzero bit below 2^-25
    output wire [15:0] y,
    output wire        of        // rounded to inf
);
    wire [5:0]  lz;
    lzc #(.WIDTH(41)) u_lzc (.in(fx), .count(lz));

    // The leading one at bit 40 - lz has weight 2^(15 - lz): biased exponent
    // 30 - lz. Below 2^-14 (lz >= 30) the fraction is fx[10:1] at exponent 0,
    // which is the same left shift as lz = 29.
    wire        sub  = (lz >= 6'd30);
    wire [5:0]  sh   = sub ? 6'd29 : lz;
    wire [40:0] norm = fx << sh;
    wire [6:0]  expo = sub ? 7'd0 : 7'd30 - {1'b0, lz};

    wire [15:0] rounded;
    wire        r_of, r_uf, r_nx;
    fp_round #(.EXP_W(5), .MAN_W(10), .EXPI_W(7)) u_round (
        .sign(sign), .exp(expo), .frac(norm[39:30]), .rnd(norm[29]), .rnd2(norm[28]),
        .sticky((|norm[27:0]) | sticky), .result(rounded), .overflow(r_of), .underflow(r_uf),
        .inexact(r_nx));

    assign y  = big ? {sign, 15'h7c00} : rounded;
    assign of = big | r_of;
    wire unused = &{1'b0, norm[40], r_uf, r_nx, 1'b0};   // norm[40]: the hidden one
endmodule
`default_nettype wire
