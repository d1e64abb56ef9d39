`default_nettype none
// binary32 -> binary16, round to nearest even, subnormal results exact,
// overflow to inf (of = 1). NaN -> canonical qNaN 0x7E00.
module bn_f32_to_f16 (
    input  wire [31:0] a,
    output wire [15:0] y,
    output wire        of    // finite input rounded to inf
);
    wire [7:0]  e8  = a[30:23];
    wire [23:0] sig = {1'b1, a[22:0]};
    // binary16 biased exponent e8 - 112, saturated: >= 31 overflows in fp_round
    wire        is_norm = (e8 >= 8'd113);
    wire [6:0]  exp_n   = (e8 >= 8'd143) ? 7'd31 : e8[6:0] - 7'd112;
    // subnormal: the value in units of 2^-24 is sig >> (126 - e8)
    wire [7:0]  sh_full = 8'd126 - e8;
    wire [5:0]  sh      = (e8 < 8'd77) ? 6'd49 : sh_full[5:0];
    wire [49:0] t       = {sig, 26'd0} >> sh;
    wire [9:0]  frac    = is_norm ? a[22:13] : t[35:26];
    wire        rnd     = is_norm ? a[12] : t[25];
    wire        rnd2    = is_norm ? a[11] : t[24];
    wire        sticky  = is_norm ? (|a[10:0]) : (|t[23:0]);
    wire [15:0] rounded;
    wire        r_of, r_uf, r_nx;
    fp_round #(.EXP_W(5), .MAN_W(10), .EXPI_W(7)) u_round (
        .sign(a[31]), .exp(is_norm ? exp_n : 7'd0), .frac(frac), .rnd(rnd), .rnd2(rnd2),
        .sticky(sticky), .result(rounded), .overflow(r_of), .underflow(r_uf), .inexact(r_nx));
    wire special = (e8 == 8'hff);
    wire zero    = (e8 == 8'd0);   // binary32 zero or subnormal: far below 2^-25
    assign y  = special ? ((a[22:0] != 23'd0) ? 16'h7e00 : {a[31], 15'h7c00})
              : zero    ? {a[31], 15'd0} : rounded;
    assign of = ~special & ~zero & r_of;
    wire unused = &{1'b0, r_uf, r_nx, sh_full[7:6], t[49:36], 1'b0};
endmodule
`default_nettype wire
