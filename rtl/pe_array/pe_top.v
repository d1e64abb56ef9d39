`default_nettype none
// PE array top: descriptor, activation and weight streams in, result beats
// out. pe_ctrl tiles the layer, pe_ibuf (one bank per column) and pe_wbuf
// (cyclic arrangement) feed pe_array one beat per clock. A layer that fits
// half of both buffers loads while the previous one computes (pe_ctrl).
// Streams: s_desc (pe_ctrl layout); s_act: the column tensor in NCHW order,
// ACT_BYTES int8 per beat, byte k at bits 8k, the final beat zero-padded
// (FP, WG: x; BP and WG 3x3 stride 2 with x on the rows: dout; FC: N x C or
// N x M, H = W = 1);
// s_wgt: WGT_WORDS 24-bit words per beat, word i at bits 24i; with
// WGT_WORDS = 3K each row item (an output channel, a 3-row group, a WG 3x3
// row item) is zero-padded to a multiple of 3K words, so a beat never spans
// two items. FP/BP 3x3: the weights in OIHW order, one kernel row
// {w[..,2], w[..,1], w[..,0]} per word; FP/BP 1x1 / FC and WG 1x1 / FC: a
// matrix A with the PE-row channels first (FP: w as M x C, BP: its transpose
// C x M, WG: dout as M x (N Ho Wo)), zero-padded to multiples of 3 both ways,
// one word {A[3g+2][r], A[3g+1][r], A[3g][r]} per (g, r), in (g, r) order;
// WG 3x3: models/pe_array.wg3_words, each row item's words zero-padded to a
// multiple of 3, words {b2, b1, b0}, item-major;
// s_act_last / s_wgt_last frame each stream's beats of a layer; a misplaced
// one sets err_code 2 and the layer still runs and ends. Early (before the
// descriptor's size): the load stops there and the layer computes on stale
// buffer contents past it. Late: the beats after the size are dropped up to
// and including the one with last, so the next layer starts aligned.
// Missing: the same dropping consumes the next layer's beats up to its last,
// so that layer loads the beats after them (resend it, or reset).
// m_*: pe_array result beats in the order of models/pe_array.ctrl_program,
// layers in descriptor order; WG results are INT32 (send rq = 0). Beat lane
// ((i*COLS + c)*3 + j) (bits ACC_W*lane) is lane j of PE (m_group*OUT_ROWS + i, c).
// m_pos_*: where each value of the beat goes (docs/pe_array_results.md), held
// with the beat (valid with m_valid). Lane (i, c, j) is element
//   idx = m_pos_row[3i+j] + m_pos_col[c]   (32-bit unsigned add, mod 2^32)
// of the layer's output tensor in its flat row-major order (FP: NCHW N x M x
// Ho x Wo; BP: NCHW N x C x H x W; WG: OIHW M x C x K x K; FC: N x M, N x C,
// M x C), when m_pos_rv[3i+j] && m_pos_cv[c]; otherwise the lane is unused
// (ignore it). An INT32 result goes to byte 4*idx of the tensor, an INT8
// (rq) one to byte idx: a writer adds, never multiplies. Every element
// of the tensor is placed exactly once per layer, except BP 1x1 stride 2,
// whose elements off the stride grid are never placed (they are 0).
//   m_pos_col [32c +: 32]:      column c's part (the output position / tap / channel)
//   m_pos_cv  [c]:              column c carries results in this tile
//   m_pos_row [32(3i+j) +: 32]: row i, lane j's part (channel part, lane offset)
//   m_pos_rv  [3i+j]:           row i, lane j carries results
// The parts come from the controller's position walk for the tile (the walk
// that addresses the input buffer) and travel with the tile to its results.
// err: a descriptor was rejected or a stream's last misplaced (err_code), or
// the array dropped a beat.
// busy: a descriptor, a load, a computation or a result still inside (the
// controller's busy, or a tile whose last beat the array took and whose last
// result group has not left): a reset while busy is low loses nothing.
module pe_top #(
    parameter ROWS     = 16,    // PE rows
    parameter COLS     = 32,    // PE columns
    parameter ACC_W    = 32,    // partial-sum width, >= 18
    parameter OUT_ROWS = 2,     // PE rows per result beat; divides ROWS
    parameter IDEPTH   = 1024,  // input buffer: 3*IDEPTH bytes per column
    parameter WDEPTH   = 1024,  // weight buffer kernel rows per bank
    parameter ACT_BYTES = 16,   // s_act bytes per beat: 1 or a power of two
    parameter WGT_WORDS = 12,   // s_wgt kernel-row words per beat: 1 or 3K, K <= ROWS
    parameter WALK     = 4      // output positions the controller prepares per clock; divides COLS
) (
    input  wire                             clk,
    input  wire                             rst,
    input  wire                             s_desc_valid,
    output wire                             s_desc_ready,
    input  wire [95:0]                      s_desc_data,
    input  wire                             s_act_valid,
    output wire                             s_act_ready,
    input  wire [ACT_BYTES*8-1:0]           s_act_data,
    input  wire                             s_act_last,
    input  wire                             s_wgt_valid,
    output wire                             s_wgt_ready,
    input  wire [WGT_WORDS*24-1:0]          s_wgt_data,
    input  wire                             s_wgt_last,
    output wire                             m_valid,
    input  wire                             m_ready,
    output wire [OUT_ROWS*COLS*3*ACC_W-1:0] m_data,
    output wire [7:0]                       m_group,
    output wire                             m_tlast,
    output wire                             m_ovf,
    output wire [COLS*32-1:0]               m_pos_col,
    output wire [COLS-1:0]                  m_pos_cv,
    output wire [OUT_ROWS*3*32-1:0]         m_pos_row,
    output wire [OUT_ROWS*3-1:0]            m_pos_rv,
    output wire                             busy,
    output wire                             err,
    output wire [1:0]                       err_code
);
    localparam IAW = (IDEPTH > 1) ? $clog2(IDEPTH) : 1;
    localparam WAW = (WDEPTH > 5) ? $clog2(WDEPTH / 3) : 1;
    localparam RW  = (ROWS > 1) ? $clog2(ROWS) : 1;

    initial begin
        if (ROWS < 1 || COLS < 1 || IDEPTH < 2 || WDEPTH < 6) $fatal(1, "pe_top: bad sizes");
    end

    wire                ib_ld_start, ib_ld_busy, ib_ld_err, ib_rd_en;
    wire [31:0]         ib_ld_count;
    wire [IAW+1:0]      ib_ld_a;
    wire [COLS*(IAW+2)-1:0] ib_rd_a;
    wire [COLS*3-1:0]   ib_rd_mask;
    wire [COLS*24-1:0]  a_ops;
    wire                wb_ld_start, wb_ld_busy, wb_ld_err, wb_rd_en, wb_rd_bp;
    wire [1:0]          wb_rd_perm, wb_rd_ky, a_mode;
    wire [15:0]         wb_ld_m, wb_ld_c;
    wire [WAW-1:0]      wb_rd_addr, wb_ld_base;
    wire [RW-1:0]       wb_rd_rot;
    wire [ROWS-1:0]     wb_rd_rowmask;
    wire [ROWS*24-1:0]  b_ops;
    wire                a_valid, a_ready, a_first, a_last, a_rq, arr_err, ctrl_err, ctrl_busy;
    wire [4:0]          a_shift;
    wire                pl_valid;
    wire [COLS*32-1:0]  pl_col;
    wire [COLS-1:0]     pl_cv;
    wire [31:0]         pl_rb, pl_rs, pl_ls;
    wire [17:0]         pl_lrem;
    wire [2:0]          pl_nl;

    pe_ctrl #(.ROWS(ROWS), .COLS(COLS), .IDEPTH(IDEPTH), .WDEPTH(WDEPTH), .WALK(WALK),
              .IAW(IAW), .WAW(WAW), .RW(RW)) u_ctrl (
        .clk(clk), .rst(rst),
        .s_desc_valid(s_desc_valid), .s_desc_ready(s_desc_ready), .s_desc_data(s_desc_data),
        .ib_ld_start(ib_ld_start), .ib_ld_count(ib_ld_count), .ib_ld_a(ib_ld_a),
        .ib_ld_busy(ib_ld_busy), .ib_ld_err(ib_ld_err), .ib_rd_en(ib_rd_en), .ib_rd_a(ib_rd_a),
        .ib_rd_mask(ib_rd_mask),
        .wb_ld_start(wb_ld_start), .wb_ld_m(wb_ld_m), .wb_ld_c(wb_ld_c), .wb_ld_base(wb_ld_base), .wb_ld_busy(wb_ld_busy), .wb_ld_err(wb_ld_err),
        .wb_rd_en(wb_rd_en), .wb_rd_bp(wb_rd_bp), .wb_rd_perm(wb_rd_perm), .wb_rd_addr(wb_rd_addr), .wb_rd_ky(wb_rd_ky), .wb_rd_rot(wb_rd_rot),
        .wb_rd_rowmask(wb_rd_rowmask),
        .a_valid(a_valid), .a_ready(a_ready), .a_mode(a_mode), .a_first(a_first), .a_last(a_last), .a_rq(a_rq),
        .a_shift(a_shift),
        .pl_valid(pl_valid), .pl_col(pl_col), .pl_cv(pl_cv), .pl_rb(pl_rb), .pl_rs(pl_rs), .pl_ls(pl_ls),
        .pl_lrem(pl_lrem), .pl_nl(pl_nl),
        .busy(ctrl_busy), .err(ctrl_err), .err_code(err_code)
    );

    pe_ibuf #(.COLS(COLS), .DEPTH(IDEPTH), .BYTES(ACT_BYTES), .AW(IAW)) u_ibuf (
        .clk(clk), .rst(rst),
        .ld_start(ib_ld_start), .ld_count(ib_ld_count), .ld_a(ib_ld_a),
        .ld_busy(ib_ld_busy), .ld_err(ib_ld_err), .s_valid(s_act_valid), .s_ready(s_act_ready), .s_data(s_act_data),
        .s_last(s_act_last),
        .rd_en(ib_rd_en), .rd_a(ib_rd_a), .rd_mask(ib_rd_mask), .rd_data(a_ops)
    );

    pe_wbuf #(.ROWS(ROWS), .DEPTH(WDEPTH), .WORDS(WGT_WORDS), .AW(WAW), .RW(RW)) u_wbuf (
        .clk(clk), .rst(rst),
        .ld_start(wb_ld_start), .ld_m(wb_ld_m), .ld_c(wb_ld_c), .ld_base(wb_ld_base), .ld_busy(wb_ld_busy), .ld_err(wb_ld_err),
        .s_valid(s_wgt_valid), .s_ready(s_wgt_ready), .s_data(s_wgt_data), .s_last(s_wgt_last),
        .rd_en(wb_rd_en), .rd_bp(wb_rd_bp), .rd_perm(wb_rd_perm), .rd_addr(wb_rd_addr), .rd_ky(wb_rd_ky), .rd_rot(wb_rd_rot),
        .rd_rowmask(wb_rd_rowmask), .rd_data(b_ops)
    );

    pe_array #(.ROWS(ROWS), .COLS(COLS), .ACC_W(ACC_W), .OUT_ROWS(OUT_ROWS)) u_arr (
        .clk(clk), .rst(rst),
        .s_valid(a_valid), .s_ready(a_ready), .s_a(a_ops), .s_b(b_ops), .s_mode(a_mode),
        .s_first(a_first), .s_last(a_last), .s_rq(a_rq), .s_shift(a_shift),
        .m_valid(m_valid), .m_ready(m_ready), .m_data(m_data), .m_group(m_group),
        .m_tlast(m_tlast), .m_ovf(m_ovf), .err(arr_err)
    );

    assign err = ctrl_err | arr_err;

    // ---- tiles inside the array: from the last beat taken to the last result group out
    // (at most 7: the output FIFO and its drain requests hold 5 groups, each of
    // one tile at most, with the shadows' groups when a new tile is on its way
    // there; plus that tile and one whose last beat waits in the input register)
    reg  [3:0] tiles_q;
    wire       tile_in  = a_valid && a_ready && a_last;
    wire       tile_out = m_valid && m_ready && m_tlast;
    always @(posedge clk) begin
        if (rst) tiles_q <= 4'd0;
        else     tiles_q <= tiles_q + {3'd0, tile_in} - {3'd0, tile_out};
    end
    assign busy = ctrl_busy || tiles_q != 4'd0;

    // ---- result placement: one entry per tile, written when the tile's last
    // beat issues (pe_ctrl), read while its result groups leave, dropped with
    // the last one. Entries: from the tile in pe_ctrl's beat register to the
    // oldest one in the array: at most 1 + 7 (tiles_q).
    // {column parts, column valid, row-lane parts of group 0, group step, lane limit, lanes}
    localparam RLW = OUT_ROWS * 3;
    localparam PEW = COLS * 32 + COLS + RLW * 32 + 32 + 18 + 3;
    localparam integer GSTEP_I = 3 * OUT_ROWS;
    localparam [17:0]  GSTEP   = GSTEP_I[17:0];
    localparam integer OUT_ROWS_I = OUT_ROWS;
    localparam [31:0]  OUT_ROWS32 = OUT_ROWS_I;
    wire [RLW*32-1:0] pl_rl;
    genvar gi, gj;
    generate
        for (gi = 0; gi < OUT_ROWS; gi = gi + 1) begin : gen_pl_row
            localparam integer GI_I = gi;
            localparam [31:0]  GI32 = GI_I;
            for (gj = 0; gj < 3; gj = gj + 1) begin : gen_pl_lane
                wire [31:0] lane_off = (gj == 0) ? 32'd0 : (gj == 1) ? pl_ls : {pl_ls[30:0], 1'b0};
                assign pl_rl[(3*gi + gj)*32 +: 32] = pl_rb + pl_rs * GI32 + lane_off;
            end
        end
    endgenerate
    reg  [PEW-1:0] pf_q [0:7];
    reg  [2:0]     pf_wr_q, pf_rd_q;
    reg  [3:0]     pf_cnt_q;
    reg  [31:0]    pf_goff_q;       // row parts: group * OUT_ROWS * row step
    reg  [17:0]    pf_lc_q;         // row lanes: group * OUT_ROWS * 3
    wire           m_take = m_valid && m_ready;
    wire           pf_pop = m_take && m_tlast;
    always @(posedge clk) begin
        if (pl_valid) pf_q[pf_wr_q] <= {pl_col, pl_cv, pl_rl, pl_rs * OUT_ROWS32, pl_lrem, pl_nl};
    end
    always @(posedge clk) begin
        if (rst) begin
            pf_wr_q   <= 3'd0;
            pf_rd_q   <= 3'd0;
            pf_cnt_q  <= 4'd0;
            pf_goff_q <= 32'd0;
            pf_lc_q   <= 18'd0;
        end else begin
            if (pl_valid) pf_wr_q <= pf_wr_q + 3'd1;
            if (pf_pop)   pf_rd_q <= pf_rd_q + 3'd1;
            pf_cnt_q <= pf_cnt_q + {3'd0, pl_valid} - {3'd0, pf_pop};
            if (pf_pop) begin
                pf_goff_q <= 32'd0;
                pf_lc_q   <= 18'd0;
            end else if (m_take) begin
                pf_goff_q <= pf_goff_q + pf_gstep;
                pf_lc_q   <= pf_lc_q + GSTEP;
            end
        end
    end
    wire [PEW-1:0]    pf_head  = pf_q[pf_rd_q];
    wire [RLW*32-1:0] pf_rl    = pf_head[53 +: RLW*32];
    wire [31:0]       pf_gstep = pf_head[21 +: 32];
    wire [17:0]       pf_lrem  = pf_head[3 +: 18];
    wire [2:0]        pf_nl    = pf_head[2:0];
    assign m_pos_col = pf_head[PEW-1 -: COLS*32];
    assign m_pos_cv  = pf_head[RLW*32 + 53 +: COLS];
    generate
        for (gi = 0; gi < RLW; gi = gi + 1) begin : gen_pos_lane
            localparam integer LI = gi;
            localparam [18:0]  L19 = LI[18:0];
            assign m_pos_row[gi*32 +: 32] = pf_rl[gi*32 +: 32] + pf_goff_q;
            assign m_pos_rv[gi] = pf_nl[gi % 3] && {1'b0, pf_lc_q} + L19 < {1'b0, pf_lrem};
        end
    endgenerate

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    // The m checks are rtl/common/stream_check's, written out: an instance
    // would copy the wide m_data through its port every evaluation. Then busy
    // covers every result still inside, and no stream is ready during reset
    // (a beat offered then would be taken and lost).
    reg                                rst_q, stall_q;
    reg [OUT_ROWS*COLS*3*ACC_W+9:0]    beat_q;
    reg [COLS*33+RLW*33-1:0]           pos_q;
    always @(posedge clk) begin
        rst_q   <= rst;
        stall_q <= !rst && m_valid && !m_ready;
        if (m_valid && !m_ready) beat_q <= {m_data, m_group, m_tlast, m_ovf};
        if (m_valid && !m_ready) pos_q  <= {m_pos_col, m_pos_cv, m_pos_row, m_pos_rv};
        if (!rst) begin
            assert (!$isunknown({m_valid, s_desc_ready, s_act_ready, s_wgt_ready}))
                else $error("%m: m_valid, s_desc_ready, s_act_ready or s_wgt_ready is X or Z after reset");
            if (stall_q) begin
                assert (m_valid) else $error("%m: m_valid dropped while m_ready was low");
                assert ({m_data, m_group, m_tlast, m_ovf} === beat_q) else $error("%m: m data changed while m_ready was low");
                assert ({m_pos_col, m_pos_cv, m_pos_row, m_pos_rv} === pos_q) else $error("%m: m_pos changed while m_ready was low");
            end
            assert (!m_valid || busy) else $error("%m: m_valid with busy low");
            assert (tiles_q <= 4'd7) else $error("%m: %0d tiles in the array", tiles_q);
            assert (!tile_out || tiles_q != 4'd0) else $error("%m: a tile's last result group with no tile in the array");
            assert (!pl_valid || pf_cnt_q != 4'd8 || pf_pop) else $error("%m: result placement queue full");
            assert (!m_valid || pf_cnt_q != 4'd0) else $error("%m: a result beat without its placement");
            assert (!m_valid || pf_lc_q == GSTEP * {10'd0, m_group}) else $error("%m: placement group count %0d, m_group %0d", pf_lc_q, m_group);
        end else begin
            assert (!(s_desc_ready || s_act_ready || s_wgt_ready)) else $error("%m: a stream ready in reset");
            if (rst_q) assert (!m_valid) else $error("%m: m_valid high in reset");
        end
    end
`endif
endmodule
`default_nettype wire
