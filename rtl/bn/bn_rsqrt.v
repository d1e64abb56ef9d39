`default_nettype none
// binary16 1/sqrt(a), correctly rounded (0.5 ULP, checked exhaustively): the
// input is normalised to 2^E * m with E even and m in [1, 4); a 2048-entry ROM
// holds the rounded 1/sqrt(m); the result exponent is -E/2 (never over- or
// underflows). IEEE specials: +-0 -> +-inf, negative or NaN -> qNaN, +inf -> +0.
module bn_rsqrt (
    input  wire [15:0] a,
    output reg  [15:0] y
);
    wire [3:0] lz;
    lzc #(.WIDTH(10), .COUNT_W(4)) u_lzc (.in(a[9:0]), .count(lz));
    wire        sub  = (a[14:10] == 5'd0);
    wire [9:0]  frac = sub ? (a[9:0] << (lz + 4'd1)) : a[9:0];
    // unbiased exponent, -24..15
    wire signed [6:0] e    = sub ? (-7'sd15 - $signed({3'd0, lz})) : ($signed({2'd0, a[14:10]}) - 7'sd15);
    wire              odd  = e[0];
    wire signed [6:0] half = (e - $signed({6'd0, odd})) >>> 1;
    wire [10:0] rom;
    bn_rsqrt_rom u_rom (.addr({odd, frac}), .data(rom));
    wire signed [6:0] re = 7'sd15 - half - $signed({6'd0, rom[10]});
    always @* begin
        if (a[14:10] == 5'h1f)
            y = (a[9:0] != 10'd0 || a[15]) ? 16'h7e00 : 16'h0000;
        else if (a[14:0] == 15'd0)
            y = {a[15], 15'h7c00};
        else if (a[15])
            y = 16'h7e00;
        else
            y = {1'b0, re[4:0], rom[9:0]};
    end
    wire unused = &{1'b0, re[6:5], 1'b0};
endmodule
`default_nettype wire
