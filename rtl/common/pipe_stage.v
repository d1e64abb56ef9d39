`default_nettype none
// One pipeline cut with a valid bit. REGISTER = 0 turns it into wires, so a
// unit can place its register stages by a LATENCY parameter. The data register
// loads only with a valid input, which keeps idle datapaths from toggling.
module pipe_stage #(
    parameter WIDTH    = 1,  // data bits
    parameter REGISTER = 1   // 1: register stage, 0: pass-through
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             en,        // advance the pipeline
    input  wire             in_valid,
    input  wire [WIDTH-1:0] in_data,
    output wire             out_valid,
    output wire [WIDTH-1:0] out_data
);
    generate
        if (REGISTER != 0) begin : gen_reg
            reg             valid_q;
            reg [WIDTH-1:0] data_q;
            always @(posedge clk) begin
                if (rst) valid_q <= 1'b0;
                else if (en) valid_q <= in_valid;
            end
            always @(posedge clk) begin
                if (en && in_valid) data_q <= in_data;
            end
            assign out_valid = valid_q;
            assign out_data  = data_q;
        end else begin : gen_wire
            assign out_valid = in_valid;
            assign out_data  = in_data;
            wire unused_ok = &{1'b0, clk, rst, en, 1'b0};
        end
    endgenerate
endmodule
`default_nettype wire
