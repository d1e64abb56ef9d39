`default_nettype none
// Exact fixed-point quotient m * 2^-F / n for the BN means, in the form
// bn_fx_to_f16 rounds: the bits of weights 2^15 .. 2^-25 (q), sticky (the
// remainder is nonzero) and big (the quotient is >= 2^16). Restoring
// division, one quotient bit per clock, most significant first.
// Latency: start, then 41 clocks with busy high; q, big and sticky hold from
// the clock busy falls until the next start. n = 0 gives big.
module bn_stat_div #(
    parameter MW = 64,   // width of the unsigned dividend m
    parameter NW = 24,   // width of the divisor n
    parameter F  = 24    // m is in units of 2^-F (24: sums of binary16, 48: of products)
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          start,
    input  wire [MW-1:0] m,
    input  wire [NW-1:0] n,
    output reg           busy,
    output reg           big,
    output reg  [40:0]   q,
    output wire          sticky
);
    initial begin
        if (F < 24) $fatal(1, "bn_stat_div: F must be >= 24 (the last quotient bit, 2^-25, is then an integer compare)");
        if (MW < 1 || NW < 1) $fatal(1, "bn_stat_div: MW and NW must be >= 1");
    end

    // Work on 2m (units of 2^-(F+1)), so that the divisor of the bit of weight
    // 2^w is n << (w + F + 1), an integer down to w = -25. Once big is ruled
    // out, 2m < n << (F + 17): RW bits hold the remainder.
    localparam RW = NW + F + 17;
    localparam CW = (MW + 1 > RW + 1) ? MW + 1 : RW + 1;   // compare width for big
    localparam [5:0] STEPS = 6'd41;

    reg  [RW-1:0] rem_q;
    reg  [RW-1:0] div_q;
    reg  [5:0]    cnt_q;

    wire [CW-1:0] m2      = {{(CW-MW){1'b0}}, m} << 1;
    wire [CW-1:0] n_big   = {{(CW-NW){1'b0}}, n} << (F + 17);
    wire [RW-1:0] n_first = {{(RW-NW){1'b0}}, n} << (F + 16);
    wire          ge      = (rem_q >= div_q);

    always @(posedge clk) begin
        if (rst) begin
            busy  <= 1'b0;
            big   <= 1'b0;
            q     <= 41'd0;
            cnt_q <= 6'd0;
            rem_q <= {RW{1'b0}};
            div_q <= {RW{1'b0}};
        end else if (start) begin
            busy  <= 1'b1;
            big   <= (m2 >= n_big);
            q     <= 41'd0;
            cnt_q <= STEPS;
            rem_q <= m2[RW-1:0];
            div_q <= n_first;
        end else if (busy) begin
            q     <= {q[39:0], ge};
            rem_q <= ge ? rem_q - div_q : rem_q;
            div_q <= div_q >> 1;
            cnt_q <= cnt_q - 6'd1;
            busy  <= (cnt_q != 6'd1);
        end
    end
    assign sticky = |rem_q;
    wire unused = &{1'b0, m2[CW-1:RW], 1'b0};   // zero once big is ruled out
endmodule
`default_nettype wire
