`default_nettype none
// RNE binary32 of 1/n for an integer n >= 1, by restoring division, one
// quotient bit per clock (26 clocks after start). For n = 2^p the result is
// exactly 2^-p, so sum * (1/n) is an exact shift. n = 0 gives +inf.
module bn_recip #(
    parameter NW = 24   // width of n, 1..24 (1/n stays a normal binary32)
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          start,
    input  wire [NW-1:0] n,
    output wire          done,
    output wire [31:0]   result
);
    initial begin
        if (NW < 1 || NW > 24) $fatal(1, "bn_recip: NW must be 1..24");
    end

    // msb position p of n, and whether n is a power of two
    integer i;
    reg [4:0] p;
    always @* begin
        p = 5'd0;
        for (i = 0; i < NW; i = i + 1)
            if (n[i]) p = i[4:0];
    end
    wire pow2 = ((n & (n - 1'b1)) == {NW{1'b0}});

    reg  [NW:0]   rem_q;
    reg  [NW-1:0] div_q;
    reg  [24:0]   quo_q;
    reg  [4:0]    cnt_q;
    reg  [7:0]    exp_q;
    reg           busy_q, zero_q;
    wire [NW+1:0] diff = {1'b0, rem_q} - {2'b0, div_q};
    wire          ge   = ~diff[NW+1];
    always @(posedge clk) begin
        if (rst) begin
            busy_q <= 1'b0;
            cnt_q  <= 5'd0;
            rem_q  <= {(NW+1){1'b0}};
            div_q  <= {NW{1'b0}};
            quo_q  <= 25'd0;
            exp_q  <= 8'd0;
            zero_q <= 1'b0;
        end else if (start) begin
            busy_q <= 1'b1;
            cnt_q  <= 5'd25;
            // 2^k / n in [1, 2): k = p for a power of two, p + 1 otherwise
            rem_q  <= pow2 ? ({{NW{1'b0}}, 1'b1} << p) : ({{NW{1'b0}}, 1'b1} << (p + 5'd1));
            div_q  <= n;
            quo_q  <= 25'd0;
            exp_q  <= 8'd127 - {3'd0, p} - {7'd0, ~pow2};
            zero_q <= (n == {NW{1'b0}});
        end else if (busy_q) begin
            quo_q  <= {quo_q[23:0], ge};
            rem_q  <= (ge ? diff[NW:0] : rem_q) << 1;
            cnt_q  <= cnt_q - 5'd1;
            busy_q <= (cnt_q != 5'd1);
        end
    end
    // quo_q = 1.xxx (24 bits) + round bit; sticky = remainder != 0
    wire        rnd_up  = quo_q[0] & ((rem_q != {(NW+1){1'b0}}) | quo_q[1]);
    wire [24:0] sig_r   = {1'b0, quo_q[24:1]} + {24'd0, rnd_up};
    wire        carry   = sig_r[24];
    assign done   = ~busy_q & ~start;
    assign result = zero_q ? 32'h7f800000
                  : {1'b0, exp_q + {7'd0, carry}, carry ? 23'd0 : sig_r[22:0]};
    wire unused = &{1'b0, sig_r[23], 1'b0};   // the hidden one
endmodule
`default_nettype wire
