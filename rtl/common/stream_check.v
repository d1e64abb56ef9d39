`default_nettype none
// Simulation-only protocol checker for one valid/ready output port, placed by
// the module that drives the port (under `ifndef SYNTHESIS: never synthesized,
// live under Verilator --assert). Messages name the port as <NAME>_valid.
//   - once valid is high with ready low, valid stays high and data (every
//     field of the beat) stays put until the beat is taken;
//   - after reset valid is never X or Z. Verilator is two-state, so there the
//     check is constant; it bites under a four-state simulator. The two-state
//     counterpart: valid is low from the second clock of a reset on (reset
//     clears the port's valid).
// A clock with rst high ends a stall: a reset may drop what is in flight.
module stream_check #(
    parameter W    = 1,     // data bits
    parameter NAME = "m"    // port prefix, for the messages
) (
    input  wire         clk,
    input  wire         rst,
    input  wire         valid,
    input  wire         ready,
    input  wire [W-1:0] data
);
`ifndef SYNTHESIS
    // (an empty module under synthesis: Yosys reads the file in any source list
    // and the instances, all under `ifndef SYNTHESIS, never reach a netlist)
    reg         rst_q;
    reg         stall_q;
    reg [W-1:0] data_q;

    always @(posedge clk) begin
        rst_q   <= rst;
        stall_q <= !rst && valid && !ready;
        if (valid && !ready) data_q <= data;
        if (!rst) begin
            assert (!$isunknown(valid)) else $error("%m: %s_valid is X or Z after reset", NAME);
            if (stall_q) begin
                assert (valid) else $error("%m: %s_valid dropped while %s_ready was low", NAME, NAME);
                assert (data === data_q) else $error("%m: %s data changed while %s_ready was low", NAME, NAME);
            end
        end else if (rst_q) begin
            assert (!valid) else $error("%m: %s_valid high in reset", NAME);
        end
    end
`endif
endmodule
`default_nettype wire
