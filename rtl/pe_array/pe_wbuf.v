`default_nettype none
// Weight buffer of the PE array with the cyclic arrangement (paper 004,
// III-C): the 3x3 kernel w[m, c] sits in bank (m + c) % ROWS at kernel slot
// (m / ROWS) * C + c, one word per kernel row {w[ky][2], w[ky][1], w[ky][0]}.
// FP reads kernels (r0 + r, c) for rows r, BP reads (m, r0 + r): either way
// the ROWS kernels of one beat lie in ROWS different banks, so BP gets the
// transposed, 180-degree rotated kernels (bytes reversed, ky flipped by the
// caller) from the same contents without any host-side rearrangement.
// Each bank is 3 RAMs by kernel row ky (word slot * 3 + ky of the cyclic
// arrangement in RAM ky at slot), so a load beat can write whole kernels.
// Load: kernel rows in OIHW order (m, c, ky), ld_m * ld_c kernels from slot
// ld_base; WORDS = 1:
// one kernel row per beat; WORDS = 3K: K kernels (c .. c+K-1 of one output
// channel m, word i at bits 24i) per beat, each channel's kernels zero-padded
// to a multiple of K (the padding is not stored). The final beat carries
// s_last, which frames the layer as in pe_ibuf: an early s_last ends the load;
// after the count's final beat without it the beats are dropped up to and
// including the next one with s_last. Either case pulses ld_err.
// Read (data one clock after rd_en, holds while rd_en is low): row r gets bank
// (r + rd_rot) % ROWS, kernel row rd_ky; FP: every bank at slot rd_addr; BP
// (rd_bp): bank b at slot rd_addr + (b - rd_rot) % ROWS; rd_perm orders the
// bytes: reversed for the rotated kernel, {w2, w0, w1} for EO beats. Rows
// with a clear rd_rowmask bit read zero.
module pe_wbuf #(
    parameter ROWS  = 16,    // banks = PE rows
    parameter DEPTH = 1024,  // kernel rows per bank (DEPTH / 3 kernel slots)
    parameter WORDS = 12,    // kernel rows per load beat: 1 or 3K, K <= ROWS
    parameter AW    = (DEPTH > 5) ? $clog2(DEPTH / 3) : 1,   // slot address bits
    parameter RW    = (ROWS > 1) ? $clog2(ROWS) : 1      // bank index bits
) (
    input  wire                clk,
    input  wire                rst,
    // load
    input  wire                ld_start,  // arms the loader (ignored while loading)
    input  wire [15:0]         ld_m,      // output channels, >= 1
    input  wire [15:0]         ld_c,      // input channels, >= 1
    input  wire [AW-1:0]       ld_base,   // kernel slot of (0, 0)
    output wire                ld_busy,
    output wire                ld_err,    // one clock: s_last misplaced
    input  wire                s_valid,
    output wire                s_ready,
    input  wire [WORDS*24-1:0] s_data,
    input  wire                s_last,
    // read
    input  wire                rd_en,
    input  wire                rd_bp,
    input  wire [1:0]          rd_perm,   // bytes out: 0 {w2,w1,w0}, 1 {w0,w1,w2}, 2 {w2,w0,w1}
    input  wire [AW-1:0]       rd_addr,   // kernel slot
    input  wire [1:0]          rd_ky,     // kernel row, < 3
    input  wire [RW-1:0]       rd_rot,    // < ROWS
    input  wire [ROWS-1:0]     rd_rowmask,
    output wire [ROWS*24-1:0]  rd_data    // row r: {b2, b1, b0}
);
    localparam K  = (WORDS > 1) ? WORDS / 3 : 1;   // kernels per beat
    localparam SD = DEPTH / 3;                     // slots per RAM
    localparam integer K_I = K;

    initial begin
        if (ROWS < 1 || DEPTH < 6) $fatal(1, "pe_wbuf: ROWS >= 1 and DEPTH >= 6");
        if ((1 << AW) < SD || (1 << RW) < ROWS) $fatal(1, "pe_wbuf: AW or RW too small");
        if (WORDS != 1 && (WORDS % 3 != 0 || WORDS / 3 > ROWS)) $fatal(1, "pe_wbuf: WORDS must be 1 or 3K, K <= ROWS");
    end

    // ---- loader: kernel (m, c) in bank (m % R + c % R) % R, slot (m / R) * C + c
    reg [15:0]   m_q, c_q, m_n_q, c_n_q;
    reg [1:0]    ky_q;
    reg [RW-1:0] mmod_q, cmod_q;
    reg [AW-1:0] mbase_q, off_q;
    localparam integer  RMAX_I = ROWS - 1;
    localparam [RW-1:0] RMAX = RMAX_I[RW-1:0];
    localparam integer  KSTEP_I = K_I % ROWS;
    localparam [RW:0]   KSTEP = KSTEP_I[RW:0];
    wire         wfire, ld_busy_w;
    wire [RW:0]  bsum = {1'b0, mmod_q} + {1'b0, cmod_q};
    wire [RW:0]  bank = (bsum >= ROWS) ? bsum - ROWS : bsum;
    wire [16:0]  c_nx = {1'b0, c_q} + K_I[16:0];
    wire         c_end = (WORDS == 1) ? (ky_q == 2'd2 && c_q == c_n_q - 16'd1) : c_nx >= {1'b0, c_n_q};
    wire         fin   = c_end && m_q == m_n_q - 16'd1;   // the load's final beat
    wire [RW:0]  cm_nx = {1'b0, cmod_q} + KSTEP;
    wire [RW:0]  cm_w  = (cm_nx >= ROWS) ? cm_nx - ROWS : cm_nx;
    wire         unused_cm = &{1'b0, cm_w[RW], 1'b0};   // < ROWS
    pe_load_frame u_frame (
        .clk(clk), .rst(rst), .start(ld_start), .empty(ld_m == 16'd0 || ld_c == 16'd0), .fin(fin),
        .s_valid(s_valid), .s_last(s_last), .s_ready(s_ready), .wfire(wfire), .busy(ld_busy_w),
        .err(ld_err));
    assign ld_busy = ld_busy_w;

    always @(posedge clk) begin
        if (rst) begin
            {m_q, c_q, m_n_q, c_n_q, ky_q, mmod_q, cmod_q, mbase_q, off_q} <= 0;
        end else begin
            if (!ld_busy_w) begin
                if (ld_start) begin
                    m_n_q     <= ld_m;
                    c_n_q     <= ld_c;
                    {m_q, c_q, ky_q, mmod_q, cmod_q, off_q} <= 0;
                    mbase_q   <= ld_base;
                end
            end else if (wfire) begin
                if (WORDS == 1) ky_q <= (ky_q == 2'd2) ? 2'd0 : ky_q + 2'd1;
                if (WORDS != 1 || ky_q == 2'd2) begin
                    c_q    <= c_nx[15:0];
                    cmod_q <= cm_w[RW-1:0];
                    off_q  <= off_q + K_I[AW-1:0];
                end
                if (c_end) begin
                    c_q    <= 16'd0;
                    cmod_q <= {RW{1'b0}};
                    off_q  <= {AW{1'b0}};
                    m_q    <= m_q + 16'd1;
                    mmod_q <= (mmod_q == RMAX) ? {RW{1'b0}} : mmod_q + 1'b1;
                    if (mmod_q == RMAX) mbase_q <= mbase_q + c_n_q[AW-1:0];
                end
            end
        end
    end

    // ---- banks
    reg [RW-1:0]   rot_q;
    reg  [1:0]     perm_q;
    reg [ROWS-1:0] rowmask_q;
    reg  [1:0]     ky_rd_q;
    always @(posedge clk) begin
        if (rd_en) begin
            rot_q     <= rd_rot;
            perm_q    <= rd_perm;
            rowmask_q <= rd_rowmask;
            ky_rd_q   <= rd_ky;
        end
    end

    wire [ROWS*24-1:0] bank_data;
    genvar b, r, y;
    generate
        for (b = 0; b < ROWS; b = b + 1) begin : gen_bank
            // row served by this bank in BP: (b - rot) % R
            wire [31:0]   t    = (b >= rd_rot) ? b - {{(32-RW){1'b0}}, rd_rot} : b + ROWS - {{(32-RW){1'b0}}, rd_rot};
            wire [AW-1:0] addr = rd_bp ? rd_addr + t[AW-1:0] : rd_addr;
            wire          unused_t = &{1'b0, t[31:AW], 1'b0};   // t < ROWS
            // kernel i of the load beat lands here: (b - bank) % R
            wire [31:0]   i    = (b >= bank) ? b - {{(31-RW){1'b0}}, bank} : b + ROWS - {{(31-RW){1'b0}}, bank};
            wire          wk   = wfire && i < K_I && {16'd0, c_q} + i < {16'd0, c_n_q};
            wire [AW-1:0] wad  = mbase_q + off_q + i[AW-1:0];
            wire [23:0]   ky_data [0:2];
            for (y = 0; y < 3; y = y + 1) begin : gen_ky
                wire [31:0] wsel = (WORDS == 1) ? 32'd0 : i * 3 + y;
                ram_1r1w #(.WIDTH(24), .DEPTH(SD), .AW(AW)) u_ram (
                    .clk(clk), .wr_en(wk && (WORDS != 1 || ky_q == y)), .wr_addr(wad),
                    .wr_data(s_data[(wsel % WORDS)*24 +: 24]),
                    .rd_en(rd_en && rd_ky == y), .rd_addr(addr), .rd_data(ky_data[y])
                );
            end
            assign bank_data[b*24 +: 24] = ky_data[ky_rd_q == 2'd2 ? 2 : ky_rd_q == 2'd1 ? 1 : 0];
        end
        for (r = 0; r < ROWS; r = r + 1) begin : gen_row
            wire [RW:0]  sel = (r + rot_q >= ROWS) ? r + rot_q - ROWS : r + rot_q;
            wire [23:0]  w   = bank_data[sel*24 +: 24];
            wire [23:0]  wo  = perm_q == 2'd1 ? {w[7:0], w[15:8], w[23:16]} :
                               perm_q == 2'd2 ? {w[23:16], w[7:0], w[15:8]} : w;
            assign rd_data[r*24 +: 24] = rowmask_q[r] ? wo : 24'd0;
        end
    endgenerate
endmodule
`default_nettype wire
