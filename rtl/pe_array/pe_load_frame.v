`default_nettype none
// Framing of one buffer load (pe_ibuf, pe_wbuf): the loader takes beats from
// `start` until the beat that ends its count (`fin`, from the owner's
// counters) or the first `s_last`. A misplaced s_last pulses `err`; when the
// count ends without s_last, the beats up to the next s_last are dropped, so
// the next load starts on its own stream's first beat. `start` may arm the
// next load while dropping; it takes beats once the dropping ends.
module pe_load_frame (
    input  wire clk,
    input  wire rst,
    input  wire start,      // arm a load (ignored while one is busy)
    input  wire empty,      // the armed load has nothing to take
    input  wire fin,        // this beat ends the count
    input  wire s_valid,
    input  wire s_last,
    output wire s_ready,
    output wire wfire,      // a beat of the load is taken
    output wire busy,
    output wire err         // one clock: s_last misplaced
);
    reg busy_q, drop_q, err_q;
    assign wfire   = !rst && busy_q && !drop_q && s_valid;
    assign s_ready = !rst && (busy_q || drop_q);   // nothing is taken (and lost) during reset
    assign busy    = busy_q;
    assign err     = err_q;

    always @(posedge clk) begin
        if (rst) begin
            busy_q <= 1'b0;
            drop_q <= 1'b0;
            err_q  <= 1'b0;
        end else begin
            err_q <= wfire && (fin != s_last);
            if (drop_q && s_valid && s_last) drop_q <= 1'b0;
            if (wfire && fin && !s_last) drop_q <= 1'b1;
            if (!busy_q) begin
                if (start) busy_q <= !empty;
            end else if (wfire && (fin || s_last)) begin
                busy_q <= 1'b0;
            end
        end
    end
endmodule
`default_nettype wire
