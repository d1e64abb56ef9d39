`default_nettype none
// Leading-zero count; returns WIDTH for an all-zero input.
module lzc #(
    parameter WIDTH   = 32,                  // input bits
    parameter COUNT_W = $clog2(WIDTH + 1)    // output bits
) (
    input  wire [WIDTH-1:0]   in,
    output reg  [COUNT_W-1:0] count
);
    localparam [COUNT_W-1:0] ALL_ZERO = WIDTH[COUNT_W-1:0];
    integer             i;
    reg                 found;
    reg [COUNT_W-1:0]   pos;
    always @* begin
        count = ALL_ZERO;
        found = 1'b0;
        pos   = {COUNT_W{1'b0}};
        for (i = WIDTH - 1; i >= 0; i = i - 1) begin
            if (!found && in[i]) begin
                count = pos;
                found = 1'b1;
            end
            pos = pos + 1'b1;
        end
    end
endmodule
`default_nettype wire
