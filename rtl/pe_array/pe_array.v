`default_nettype none
// ROWS x COLS array of 3-MAC PEs (paper 004, III-A/III-C). Rows share the row
// operands (weights, or errors in WG), columns share the column operands
// (inputs). One input beat carries every operand of one clock: 3 bytes per
// row and 3 bytes per column, the mode and the tile markers. A beat with
// `last` copies every partial sum into the PEs' shadow registers (the output
// bank, distributed), which shift OUT_ROWS PE rows toward row 0 per output
// group (requantized to INT8 when `rq`) while the next tile computes. A beat
// that continues a tile that is not open, or with another mode, is dropped
// and sets the sticky `err`.
// Timing: every PE port is registered inside the PE, and the glue drives the
// PEs from per-row copies of its control registers (kept apart, so no net
// fans out to more than COLS PEs); the drain is requested 2 clocks ahead into
// a 5-entry output FIFO, so m_ready reaches no PE. The requantizer is split
// across the FIFO (shift and saturation before it, rounding after it).
// Drain rule: a tile's last beat (whose shadow load overwrites every group
// not yet captured) waits until at most 3 groups of the previous tile are
// still to be requested and the FIFO can hold them all: they then go out on
// the next 3 clocks whatever m_ready does, the last one captured no later
// than the load.
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
    localparam GLANES  = OUT_ROWS * COLS * 3;
    // a last beat executed at clock T: the shadows load at the end of T + 4, a
    // drain request acts 2 clocks after it, so its tile's first request may go at T + LD_LAT + 1
    localparam LD_LAT  = 2;
    localparam [2:0] DEPTH = 3'd5;           // output FIFO: the 2-clock drain request + 3 groups
    localparam       ND    = 5;              // DEPTH as an integer (one-hot read pointers)
    localparam       MW    = ACC_W + 1;      // FIFO lane: the requantizer's intermediate
    localparam [8:0] NG9   = NGROUPS;

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

    // output side state
    reg [LD_LAT-1:0]  ldp_q;       // last beats on their way to the shadows
    reg [8:0]         avail_q;     // groups in the shadows not yet requested
    reg [1:0]         reqp_q;      // drain requests in flight (captured at reqp_q[1])
    reg [2:0]         cnt_q;       // FIFO entries

    // the groups in the FIFO, in flight and still to request, all fit (<= 8)
    wire [3:0] owed  = {1'b0, cnt_q} + {3'b0, reqp_q[0]} + {3'b0, reqp_q[1]} + {2'b0, avail_q[1:0]};
    wire drain_ok    = (ldp_q == {LD_LAT{1'b0}}) && (avail_q[8:2] == 7'd0) && (owed <= {1'b0, DEPTH});
    wire bad     = in_valid_q && !first_q && (!tile_open_q || mode_q != tile_mode_q);
    wire blocked = last_q && !drain_ok;         // the shadows still hold groups to drain
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

    // ---- drain requests: one group per clock while the FIFO has room
    // (this clock's pop is not counted: m_ready stays off the request path)
    wire pop = (cnt_q != 3'd0) && m_ready;
    wire req = (avail_q != 9'd0) && ({1'b0, cnt_q} + {3'b0, reqp_q[0]} + {3'b0, reqp_q[1]} < {1'b0, DEPTH});
    wire cap = reqp_q[1];                       // the PEs shift at this edge: take row 0's group

    // ---- operand register and per-row control copies (fan-out COLS each)
    reg [COLS*24-1:0] a1_q;
    reg [ROWS*24-1:0] b1_q;
    always @(posedge clk) begin
        a1_q <= a_q;
        b1_q <= b_q;
    end

    localparam SHW = 3 * ACC_W;
    wire [ROWS*COLS*SHW-1:0] sh;
    wire [ROWS*COLS*3-1:0]   sh_ovf;
    genvar r, c;
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : gen_row
            reg       rst_q, en_q, first_q2, last_q2, shift_q2;
            reg [1:0] mode_q2;
            (* keep *) always @(posedge clk) begin
                rst_q    <= rst;
                en_q     <= !rst && exec;
                shift_q2 <= !rst && req;
                mode_q2  <= mode_q;
                first_q2 <= first_q;
                last_q2  <= last_q;
            end
            for (c = 0; c < COLS; c = c + 1) begin : gen_col
                localparam I = r * COLS + c;
                wire [SHW-1:0] below;
                wire [2:0]     below_ovf;
                if (r + OUT_ROWS < ROWS) begin : gen_chain
                    assign below     = sh[(I + OUT_ROWS * COLS)*SHW +: SHW];
                    assign below_ovf = sh_ovf[(I + OUT_ROWS * COLS)*3 +: 3];
                end else begin : gen_bottom
                    assign below     = {SHW{1'b0}};
                    assign below_ovf = 3'b000;
                end
                pe #(.ACC_W(ACC_W)) u_pe (
                    .clk(clk), .rst(rst_q), .en(en_q), .mode(mode_q2), .first(first_q2), .last(last_q2),
                    .a(a1_q[24*c +: 24]), .b(b1_q[24*r +: 24]),
                    .shift(shift_q2), .sh_in(below), .sh_ovf_in(below_ovf),
                    .sh_out(sh[I*SHW +: SHW]), .sh_ovf_out(sh_ovf[I*3 +: 3])
                );
            end
        end
    endgenerate

    // ---- output side: shadow loads, drain requests, FIFO
    reg       pend_rq_q;
    reg [4:0] pend_shift_q;
    reg [7:0] cap_group_q;
    reg [2:0] wr_q, rd_q;
    reg       set_q;                       // the lanes' copies take the new tile's requant setting
    wire [2:0] wr_d   = !cap ? wr_q : (wr_q == DEPTH - 3'd1) ? 3'd0 : wr_q + 3'd1;
    wire [2:0] rd_d   = !pop ? rd_q : (rd_q == DEPTH - 3'd1) ? 3'd0 : rd_q + 3'd1;
    always @(posedge clk) begin
        if (rst) begin
            ldp_q       <= {LD_LAT{1'b0}};
            avail_q     <= 9'd0;
            reqp_q      <= 2'b00;
            cap_group_q <= 8'd0;
            cnt_q       <= 3'd0;
            wr_q        <= 3'd0;
            rd_q        <= 3'd0;
            set_q       <= 1'b0;
        end else begin
            ldp_q  <= {ldp_q[LD_LAT-2:0], exec && last_q};
            reqp_q <= {reqp_q[0], req};
            if (ldp_q[LD_LAT-1]) avail_q <= NG9;
            else if (req) avail_q <= avail_q - 9'd1;
            if (cap) cap_group_q <= (cap_group_q == NGROUPS - 1) ? 8'd0 : cap_group_q + 8'd1;
            cnt_q <= cnt_q + {2'b0, cap} - {2'b0, pop};
            set_q <= ldp_q[LD_LAT-1];
            wr_q  <= wr_d;
            rd_q  <= rd_d;
        end
    end
    always @(posedge clk) begin
        if (exec && last_q) begin
            pend_rq_q    <= rq_q;
            pend_shift_q <= shift_q;
        end
    end

    // the group's tag: group number, last group, overflow
    reg  [9:0] tag_q [0:DEPTH-1];
    wire [9:0] tag = {|sh_ovf[GLANES-1:0], cap_group_q == NGROUPS - 1, cap_group_q};
    always @(posedge clk) begin
        if (cap) tag_q[wr_q] <= tag;
    end
    wire [9:0] head = tag_q[rd_q];

    // One FIFO slice per lane, each with its own pointers and requantizer
    // setting, fed through one more register per LPC lanes: every flop here
    // drives at most about LPC x 6 gates (ABC buffers no flop output).
    // A lane's setting changes at the clock the new tile's first group is
    // captured (shadow load + 1), after the previous tile's last capture.
    localparam LPC = 16;                         // lanes per copy
    localparam NCP = (GLANES + LPC - 1) / LPC;   // copies
    // the slices' pointers reset 2 clocks late (rst itself reaches few flops):
    // no capture and no pop can come before the FIFO fills again
    wire [NCP-1:0]   req_c, rq_c, rst_c;
    wire [NCP*5-1:0] shift_c;
    reg              rst_q;
    always @(posedge clk) rst_q <= rst;
    // m_ready reaches only these copies of pop (and cnt_q, rd_q): a lane's read
    // pointer lags one clock and the copy, last clock's pop, advances it on the way out
    localparam LPP = 4;                          // lanes per pop copy
    localparam NPP = (GLANES + LPP - 1) / LPP;
    wire [NPP-1:0] pop_c;
    genvar l, k;
    generate
        for (k = 0; k < NPP; k = k + 1) begin : gen_pop
            reg pop_k;
            (* keep *) always @(posedge clk) pop_k <= pop;
            assign pop_c[k] = pop_k;
        end
        for (k = 0; k < NCP; k = k + 1) begin : gen_copy
            reg       req_k, rq_k, rst_k;
            reg [4:0] shift_k;
            (* keep *) always @(posedge clk) begin
                rst_k <= rst_q;
                req_k <= !rst && req;
                if (set_q) begin
                    rq_k    <= pend_rq_q;
                    shift_k <= pend_shift_q;
                end
            end
            assign req_c[k]         = req_k;
            assign rst_c[k]         = rst_k;
            assign rq_c[k]          = rq_k;
            assign shift_c[5*k +: 5] = shift_k;
        end
        for (l = 0; l < GLANES; l = l + 1) begin : gen_lane
            reg          cap_l, rq_l;
            reg [2:0]    wr_l;
            reg [ND-1:0] rd_l;                   // one-hot, last clock's read pointer
            reg [4:0]    shift_l;
            wire [ND-1:0] rd_now = pop_c[l / LPP] ? {rd_l[ND-2:0], rd_l[ND-1]} : rd_l;
            // the copy's request is one clock old: cap_l is cap
            (* keep *) always @(posedge clk) begin
                cap_l   <= req_c[l / LPC];
                rq_l    <= rq_c[l / LPC];
                shift_l <= shift_c[5*(l / LPC) +: 5];
                if (rst_c[l / LPC]) begin
                    wr_l <= 3'd0;
                    rd_l <= {{(ND-1){1'b0}}, 1'b1};
                end else begin
                    if (cap_l) wr_l <= (wr_l == DEPTH - 3'd1) ? 3'd0 : wr_l + 3'd1;
                    rd_l <= rd_now;
                end
            end
            wire [MW-1:0] q;
            pe_requant #(.ACC_W(ACC_W), .PART(1)) u_rq (
                .en(rq_l), .shift(shift_l), .din(sh[l*ACC_W +: ACC_W]), .dout(q)
            );
            reg [MW-1:0] f_q [0:ND-1];
            reg [MW-1:0] head_l;
            integer e;
            always @(posedge clk) begin
                for (e = 0; e < ND; e = e + 1)
                    if (cap_l && wr_l == e[2:0]) f_q[e] <= q;
            end
            always @(*) begin
                head_l = {MW{1'b0}};
                for (e = 0; e < ND; e = e + 1)
                    head_l = head_l | ({MW{rd_now[e]}} & f_q[e]);
            end
            pe_requant #(.ACC_W(ACC_W), .PART(2)) u_rnd (
                .en(1'b0), .shift(5'd0), .din(head_l), .dout(m_data[l*ACC_W +: ACC_W])
            );
        end
    endgenerate

    assign m_valid = cnt_q != 3'd0;
    assign m_group = head[7:0];
    assign m_tlast = head[8];
    assign m_ovf   = head[9];
endmodule
`default_nettype wire
