`default_nettype none
// binary16 -> binary32, exact (subnormals are normalised). NaN -> canonical qNaN.
module bn_f16_to_f32 (
    input  wire [15:0] a,
    output reg  [31:0] y
);
    wire [3:0] lz;
    lzc #(.WIDTH(10), .COUNT_W(4)) u_lzc (.in(a[9:0]), .count(lz));
    wire [9:0] sub_frac = a[9:0] << (lz + 4'd1);
    wire [7:0] sub_exp  = 8'd112 - {4'd0, lz};
    always @* begin
        if (a[14:10] == 5'h1f)
            y = (a[9:0] != 10'd0) ? 32'h7fc00000 : {a[15], 8'hff, 23'd0};
        else if (a[14:10] == 5'd0)
            y = (a[9:0] == 10'd0) ? {a[15], 31'd0} : {a[15], sub_exp, sub_frac, 13'd0};
        else
            y = {a[15], {3'd0, a[14:10]} + 8'd112, a[9:0], 13'd0};
    end
endmodule
`default_nettype wire
