`default_nettype none
// float32(1/m) for an unsigned integer m >= 1, correctly rounded to nearest
// even, by restoring long division, one quotient bit per clock (at most
// M_W + 26 clocks). m = 0 returns +inf with the divide-by-zero error.
module int_recip #(
    parameter M_W = 16   // width of m (<= 24 so that m is exact in float32)
) (
    input  wire           clk,
    input  wire           rst,
    input  wire           start,
    input  wire [M_W-1:0] m,
    output reg            done,     // one-clock pulse with the result
    output reg  [31:0]    recip,
    output reg            div_zero
);
    initial begin
        if (M_W < 1 || M_W > 24) $fatal(1, "int_recip: M_W must be 1..24");
    end

    localparam TW = $clog2(M_W + 26);
    reg             busy_q;
    reg [M_W:0]     rem_q;        // partial remainder, < 2m
    reg [M_W-1:0]   m_q;
    reg [TW-1:0]    t_q;          // weight 2^-t of the bit being produced
    reg             lead_q;       // the leading one has been found
    reg [4:0]       nbits_q;      // bits collected after it
    reg [23:0]      q_q;          // the bits collected so far (the next one completes 25)

    wire            bit_t   = ({1'b0, rem_q} >= {2'b00, m_q});
    wire [M_W:0]    rem_sub = bit_t ? (rem_q - {1'b0, m_q}) : rem_q;
    wire [24:0]     q_next  = {q_q[23:0], bit_t};
    wire            last    = lead_q && (nbits_q == 5'd24);

    // rounding of the collected bits (valid when last)
    wire            sticky  = (rem_sub != {(M_W+1){1'b0}});
    wire            rnd_up  = q_next[0] & (sticky | q_next[1]);
    wire [24:0]     mant    = {1'b0, q_next[24:1]} + {24'd0, rnd_up};
    wire            carry   = mant[24];
    wire [7:0]      expo    = 8'd127 - {{(8-TW){1'b0}}, t_q} + 8'd24 + {7'd0, carry};

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            busy_q <= 1'b0;
            div_zero <= 1'b0;
        end else if (start && !busy_q) begin
            if (m == {M_W{1'b0}}) begin
                recip    <= 32'h7f800000;
                div_zero <= 1'b1;
                done     <= 1'b1;
            end else begin
                busy_q   <= 1'b1;
                div_zero <= 1'b0;
                rem_q    <= {{M_W{1'b0}}, 1'b1};
                m_q      <= m;
                t_q      <= {TW{1'b0}};
                lead_q   <= 1'b0;
                nbits_q  <= 5'd0;
                q_q      <= 24'd0;
            end
        end else if (busy_q) begin
            rem_q <= {rem_sub[M_W-1:0], 1'b0};
            t_q   <= t_q + 1'b1;
            if (lead_q || bit_t) begin
                lead_q  <= 1'b1;
                nbits_q <= nbits_q + 1'b1;
                q_q     <= q_next[23:0];
            end
            if (last) begin
                busy_q <= 1'b0;
                done   <= 1'b1;
                recip  <= {1'b0, expo, carry ? mant[23:1] : mant[22:0]};
            end
        end
    end
endmodule
`default_nettype wire
