`default_nettype none
// ROWS x COLS array of 3-MAC PEs (paper 004, III-A/III-C). Rows share the row
// operands (weights, or errors in WG), columns share the column operands
// (inputs). One input beat carries every operand of one clock: 3 bytes per
// row and 3 bytes per column, the mode and the tile markers. A beat with
// `last` copies every partial sum into the output bank, which drains
// OUT_ROWS PE rows per output beat (requantized to INT8 when `rq`) while the
// next tile computes. A beat that continues a tile that is not open, or with
// another mode, is dropped and sets the sticky `err`.
module pe_array #(
    parameter ROWS     = 16,  // PE rows (output channels in FP)
    parameter COLS     = 32,  // PE columns (positions / batch)
    parameter ACC_W    = 32,  // partial-sum width, >= 18
    parameter OUT_ROWS = 2    // PE rows per output beat; divides ROWS
) (
    input  wire                            clk,
    input  wire                            rst,
    // operand beats
    input  wire                            s_valid,
    output wire                            s_ready,
    input  wire [COLS*24-1:0]              s_a,      // column c: {a2, a1, a0} at [24c +: 24]
    input  wire [ROWS*24-1:0]              s_b,      // row r:    {b2, b1, b0} at [24r +: 24]
    input  wire [1:0]                      s_mode,
    input  wire                            s_first,
    input  wire                            s_last,
    input  wire                            s_rq,     // requantize this tile's outputs
    input  wire [4:0]                      s_shift,
    // result beats: lane ((r*COLS + c)*3 + j) is partial sum j of PE (group*OUT_ROWS + r, c)
    output wire                            m_valid,
    input  wire                            m_ready,
    output wire [OUT_ROWS*COLS*3*ACC_W-1:0] m_data,
    output wire [7:0]                      m_group,
    output wire                            m_tlast,  // last group of the tile
    output wire                            m_ovf,    // a lane of this beat overflowed ACC_W
    output wire                            err       // sticky: a malformed beat was dropped
);
    localparam NGROUPS = ROWS / OUT_ROWS;
    localparam LANES   = ROWS * COLS * 3;
    localparam GLANES  = OUT_ROWS * COLS * 3;

    initial begin
        if (ROWS < 1 || COLS < 1) $fatal(1, "pe_array: ROWS and COLS must be >= 1");
        if (OUT_ROWS < 1 || ROWS % OUT_ROWS != 0) $fatal(1, "pe_array: OUT_ROWS must divide ROWS");
        if (NGROUPS > 256) $fatal(1, "pe_array: at most 256 output groups");
        if (ACC_W < 18) $fatal(1, "pe_array: ACC_W must be >= 18");
    end

    // ---- input register stage
    reg               in_valid_q;
    reg [COLS*24-1:0] a_q;
    reg [ROWS*24-1:0] b_q;
    reg [1:0]         mode_q;
    reg               first_q, last_q, rq_q;
    reg [4:0]         shift_q;

    reg               tile_open_q;
    reg [1:0]         tile_mode_q;
    reg               err_q;
    reg               out_full_q;
    reg [7:0]         group_q;

    wire bad     = in_valid_q && !first_q && (!tile_open_q || mode_q != tile_mode_q);
    wire blocked = last_q && out_full_q;        // the output bank still drains
    wire advance = in_valid_q && (bad || !blocked);
    wire exec    = advance && !bad;
    assign s_ready = !in_valid_q || advance;

    always @(posedge clk) begin
        if (rst) in_valid_q <= 1'b0;
        else if (s_ready) in_valid_q <= s_valid;
    end
    always @(posedge clk) begin
        if (s_valid && s_ready) begin
            a_q     <= s_a;
            b_q     <= s_b;
            mode_q  <= s_mode;
            first_q <= s_first;
            last_q  <= s_last;
            rq_q    <= s_rq;
            shift_q <= s_shift;
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            tile_open_q <= 1'b0;
            tile_mode_q <= 2'd0;
            err_q       <= 1'b0;
        end else begin
            if (exec) tile_open_q <= !last_q;
            if (exec && first_q) tile_mode_q <= mode_q;
            if (bad) err_q <= 1'b1;
        end
    end
    assign err = err_q;

    // ---- PE grid
    wire [LANES*ACC_W-1:0] psum_d;
    wire [LANES-1:0]       ovf_d;
    genvar r, c;
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : gen_row
            for (c = 0; c < COLS; c = c + 1) begin : gen_col
                pe #(.ACC_W(ACC_W)) u_pe (
                    .clk(clk), .rst(rst), .en(exec), .mode(mode_q), .first(first_q),
                    .a(a_q[24*c +: 24]), .b(b_q[24*r +: 24]),
                    .psum_d(psum_d[(r*COLS + c)*3*ACC_W +: 3*ACC_W]),
                    .ovf_d(ovf_d[(r*COLS + c)*3 +: 3])
                );
            end
        end
    endgenerate

    // ---- output bank: loaded on a tile's last beat, shifts out one group per beat
    reg [LANES*ACC_W-1:0] bank_q;
    reg [LANES-1:0]       bank_ovf_q;
    reg                   out_rq_q;
    reg [4:0]             out_shift_q;
    wire out_fire = out_full_q && m_ready;
    wire out_done = out_fire && (group_q == NGROUPS - 1);

    always @(posedge clk) begin
        if (rst) begin
            out_full_q <= 1'b0;
            group_q    <= 8'd0;
        end else if (exec && last_q) begin
            out_full_q <= 1'b1;
            group_q    <= 8'd0;
        end else if (out_fire) begin
            out_full_q <= !out_done;
            group_q    <= group_q + 8'd1;
        end
    end
    always @(posedge clk) begin
        if (exec && last_q) begin
            bank_q      <= psum_d;
            bank_ovf_q  <= ovf_d;
            out_rq_q    <= rq_q;
            out_shift_q <= shift_q;
        end else if (out_fire) begin
            bank_q     <= bank_q >> (GLANES * ACC_W);
            bank_ovf_q <= bank_ovf_q >> GLANES;
        end
    end

    genvar l;
    generate
        for (l = 0; l < GLANES; l = l + 1) begin : gen_lane
            pe_requant #(.ACC_W(ACC_W)) u_rq (
                .en(out_rq_q), .shift(out_shift_q),
                .din(bank_q[l*ACC_W +: ACC_W]), .dout(m_data[l*ACC_W +: ACC_W])
            );
        end
    endgenerate

    assign m_valid = out_full_q;
    assign m_group = group_q;
    assign m_tlast = group_q == NGROUPS - 1;
    assign m_ovf   = |bank_ovf_q[GLANES-1:0];
endmodule
`default_nettype wire
