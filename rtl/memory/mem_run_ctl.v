`default_nettype none
// Run control shared by mem_dbuf and mem_unified: the start check and the
// busy / done / error status of a run of cfg_num_vecs vectors at cfg_base.
// A start is refused when cfg_num_vecs = 0 or the last word address
// (base + num * VEC_WORDS - 1) is past the ADDR_W-bit SDRAM space. Status:
// busy from an accepted start to fin, done sticky until the next start,
// error bits sticky until reset or an accepted start:
//   [0] start refused (bad range), [1] start while busy (ignored),
//   [2] spurious SDRAM data (reported by the parent).
// start_ok and the run's base / total words / beats (CW bits) let the parent
// load its own counters in the same clock.
module mem_run_ctl #(
    parameter ADDR_W    = 24,   // SDRAM word-address bits
    parameter VCNT_W    = 20,   // bits of cfg_num_vecs
    parameter VEC_WORDS = 784,  // words per vector
    parameter RD_WORDS  = 1,    // words per compute-side beat (divides VEC_WORDS)
    parameter CW        = 32    // parent's counter width: >= max(VCNT_W + clog2(VEC_WORDS+1), ADDR_W+1) + 1
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              start,
    input  wire [ADDR_W-1:0] cfg_base,
    input  wire [VCNT_W-1:0] cfg_num_vecs,
    input  wire              fin,       // the run's last beat has gone (ends busy, sets done)
    input  wire              spurious,  // SDRAM data with no word outstanding
    output wire              busy,
    output wire              done,
    output wire [2:0]        error,
    output wire              start_ok,  // start accepted this clock
    output wire [CW-1:0]     base,      // cfg_base, zero-extended
    output wire [CW-1:0]     total,     // words of the run
    output wire [CW-1:0]     beats      // beats of the run
);
    // the range check needs one bit over the wider of the sum's operands
    localparam R     = (RD_WORDS > 0) ? RD_WORDS : 1;  // >= 1 so an illegal width reaches $fatal
    localparam NEED0 = VCNT_W + $clog2(VEC_WORDS + 1);
    localparam NEED  = ((NEED0 > ADDR_W + 1) ? NEED0 : ADDR_W + 1) + 1;
    localparam [CW-1:0] VEC_WORDS_C = VEC_WORDS;
    localparam [CW-1:0] VEC_BEATS_C = VEC_WORDS / R;
    localparam [CW-1:0] ONE_C       = 1;

    initial begin
        if (ADDR_W < 1 || VCNT_W < 1) $fatal(1, "mem_run_ctl: ADDR_W and VCNT_W must be >= 1");
        if (VEC_WORDS < 1) $fatal(1, "mem_run_ctl: VEC_WORDS must be >= 1");
        if (RD_WORDS < 1 || VEC_WORDS % R != 0) $fatal(1, "mem_run_ctl: RD_WORDS must be >= 1 and divide VEC_WORDS");
        if (CW < NEED) $fatal(1, "mem_run_ctl: CW too narrow for the range check");
    end

    reg       run_q, done_q;
    reg [2:0] err_q;
    reg       run_d, done_d;
    reg [2:0] err_d;

    // ---------------------------------------------------------------- start check
    wire [CW-1:0] num_c   = {{(CW-VCNT_W){1'b0}}, cfg_num_vecs};
    wire [CW-1:0] end_c   = base + total - ONE_C;   // last word address
    wire          cfg_bad = (cfg_num_vecs == {VCNT_W{1'b0}}) || (|end_c[CW-1:ADDR_W]);
    wire          unused_end = &{1'b0, end_c[ADDR_W-1:0], 1'b0};  // only the overflow bits matter
    assign base     = {{(CW-ADDR_W){1'b0}}, cfg_base};
    assign total    = num_c * VEC_WORDS_C;
    assign beats    = num_c * VEC_BEATS_C;
    assign start_ok = start && !run_q && !cfg_bad;

    // ---------------------------------------------------------------- status
    always @* begin
        run_d  = run_q;
        done_d = done_q;
        err_d  = err_q;
        if (fin) begin
            run_d  = 1'b0;
            done_d = 1'b1;
        end
        if (start && run_q) err_d[1] = 1'b1;
        if (start && !run_q && cfg_bad) begin
            err_d  = 3'b001;
            done_d = 1'b0;
        end
        if (start_ok) begin
            run_d  = 1'b1;
            done_d = 1'b0;
            err_d  = 3'b000;
        end
        if (spurious) err_d[2] = 1'b1;
    end

    always @(posedge clk) begin
        if (rst) begin
            run_q  <= 1'b0;
            done_q <= 1'b0;
            err_q  <= 3'b000;
        end else begin
            run_q  <= run_d;
            done_q <= done_d;
            err_q  <= err_d;
        end
    end

    assign busy  = run_q;
    assign done  = done_q;
    assign error = err_q;
endmodule
`default_nettype wire
