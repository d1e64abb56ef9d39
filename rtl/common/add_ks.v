`default_nettype none
// a + b as a Kogge-Stone prefix adder: Yosys maps `+` to a ripple carry chain
// that ABC does not shorten enough on the float units' critical stages.
module add_ks #(
    parameter WIDTH = 32    // operand bits (>= 2); the sum has WIDTH + 1
) (
    input  wire [WIDTH-1:0] a,
    input  wire [WIDTH-1:0] b,
    output wire [WIDTH:0]   sum
);
    initial begin
        if (WIDTH < 2) $fatal(1, "add_ks: WIDTH must be >= 2");
    end

    reg [WIDTH-1:0] g, p, g_n, p_n;
    integer l, i;
    always @* begin
        g = a & b;
        p = a ^ b;
        for (l = 1; l < WIDTH; l = l * 2) begin
            g_n = g;
            p_n = p;
            for (i = l; i < WIDTH; i = i + 1) begin
                g_n[i] = g[i] | (p[i] & g[i-l]);
                p_n[i] = p[i] & p[i-l];
            end
            g = g_n;
            p = p_n;
        end
    end
    assign sum = {g[WIDTH-1], (a ^ b) ^ {g[WIDTH-2:0], 1'b0}};
endmodule
`default_nettype wire
