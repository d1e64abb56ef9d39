`default_nettype none
// Weight buffer of the PE array with the cyclic arrangement (paper 004,
// III-C): the 3x3 kernel w[m, c] sits in bank (m + c) % ROWS at kernel slot
// (m / ROWS) * C + c, one word per kernel row {w[ky][2], w[ky][1], w[ky][0]}.
// FP reads kernels (r0 + r, c) for rows r, BP reads (m, r0 + r): either way
// the ROWS kernels of one beat lie in ROWS different banks, so BP gets the
// transposed, 180-degree rotated kernels (bytes reversed, ky flipped by the
// caller) from the same contents without any host-side rearrangement.
// Load: kernel rows in OIHW order (m, c, ky), ld_m * ld_c * 3 words.
// Read (data one clock after rd_en, holds while rd_en is low): row r gets bank
// (r + rd_rot) % ROWS; FP: every bank at rd_addr; BP (rd_bp): bank b at
// rd_addr + 3 * ((b - rd_rot) % ROWS); rd_perm orders the bytes: reversed for
// the rotated kernel, {w2, w0, w1} for EO beats. Rows with a clear
// rd_rowmask bit read zero.
module pe_wbuf #(
    parameter ROWS  = 16,    // banks = PE rows
    parameter DEPTH = 1024,  // words (kernel rows) per bank
    parameter AW    = (DEPTH > 1) ? $clog2(DEPTH) : 1,   // word address bits
    parameter RW    = (ROWS > 1) ? $clog2(ROWS) : 1      // bank index bits
) (
    input  wire                clk,
    input  wire                rst,
    // load
    input  wire                ld_start,  // arms the loader (ignored while loading)
    input  wire [15:0]         ld_m,      // output channels, >= 1
    input  wire [15:0]         ld_c,      // input channels, >= 1
    output wire                ld_busy,
    input  wire                s_valid,
    output wire                s_ready,
    input  wire [23:0]         s_data,
    // read
    input  wire                rd_en,
    input  wire                rd_bp,
    input  wire [1:0]          rd_perm,   // bytes out: 0 {w2,w1,w0}, 1 {w0,w1,w2}, 2 {w2,w0,w1}
    input  wire [AW-1:0]       rd_addr,
    input  wire [RW-1:0]       rd_rot,    // < ROWS
    input  wire [ROWS-1:0]     rd_rowmask,
    output wire [ROWS*24-1:0]  rd_data    // row r: {b2, b1, b0}
);
    initial begin
        if (ROWS < 1 || DEPTH < 2) $fatal(1, "pe_wbuf: ROWS >= 1 and DEPTH >= 2");
        if ((1 << AW) < DEPTH || (1 << RW) < ROWS) $fatal(1, "pe_wbuf: AW or RW too small");
    end

    // ---- loader: bank (m % R + c % R) % R, address (m / R) * 3C + 3c + ky
    reg          ld_busy_q;
    reg [15:0]   m_q, c_q, m_n_q, c_n_q;
    reg [1:0]    ky_q;
    reg [RW-1:0] mmod_q, cmod_q;
    reg [AW-1:0] mbase_q, off_q;
    localparam integer  RMAX_I = ROWS - 1;
    localparam [RW-1:0] RMAX = RMAX_I[RW-1:0];
    wire         wfire = ld_busy_q && s_valid;
    wire [RW:0]  bsum = {1'b0, mmod_q} + {1'b0, cmod_q};
    wire [RW:0]  bank = (bsum >= ROWS) ? bsum - ROWS : bsum;
    wire         c_end = ky_q == 2'd2 && c_q == c_n_q - 16'd1;
    assign s_ready = ld_busy_q;
    assign ld_busy = ld_busy_q;

    always @(posedge clk) begin
        if (rst) begin
            ld_busy_q <= 1'b0;
            {m_q, c_q, m_n_q, c_n_q, ky_q, mmod_q, cmod_q, mbase_q, off_q} <= 0;
        end else if (!ld_busy_q) begin
            if (ld_start) begin
                ld_busy_q <= ld_m != 16'd0 && ld_c != 16'd0;
                m_n_q     <= ld_m;
                c_n_q     <= ld_c;
                {m_q, c_q, ky_q, mmod_q, cmod_q, mbase_q, off_q} <= 0;
            end
        end else if (wfire) begin
            ky_q  <= (ky_q == 2'd2) ? 2'd0 : ky_q + 2'd1;
            off_q <= off_q + 1'b1;
            if (ky_q == 2'd2) begin
                c_q    <= c_q + 16'd1;
                cmod_q <= (cmod_q == RMAX) ? {RW{1'b0}} : cmod_q + 1'b1;
            end
            if (c_end) begin
                c_q    <= 16'd0;
                cmod_q <= {RW{1'b0}};
                off_q  <= {AW{1'b0}};
                m_q    <= m_q + 16'd1;
                mmod_q <= (mmod_q == RMAX) ? {RW{1'b0}} : mmod_q + 1'b1;
                // 3C words per kernel slot row: off_q + 1 = 3C here
                if (mmod_q == RMAX) mbase_q <= mbase_q + off_q + 1'b1;
                if (m_q == m_n_q - 16'd1) ld_busy_q <= 1'b0;
            end
        end
    end

    // ---- banks
    reg [RW-1:0]   rot_q;
    reg  [1:0]     perm_q;
    reg [ROWS-1:0] rowmask_q;
    always @(posedge clk) begin
        if (rd_en) begin
            rot_q     <= rd_rot;
            perm_q    <= rd_perm;
            rowmask_q <= rd_rowmask;
        end
    end

    wire [ROWS*24-1:0] bank_data;
    genvar b, r;
    generate
        for (b = 0; b < ROWS; b = b + 1) begin : gen_bank
            // row served by this bank in BP: (b - rot) % R
            wire [31:0]   t    = (b >= rd_rot) ? b - {{(32-RW){1'b0}}, rd_rot} : b + ROWS - {{(32-RW){1'b0}}, rd_rot};
            wire [AW-1:0] addr = rd_bp ? rd_addr + t[AW-1:0] * 3 : rd_addr;
            wire          unused_t = &{1'b0, t[31:AW], 1'b0};   // t < ROWS
            ram_1r1w #(.WIDTH(24), .DEPTH(DEPTH), .AW(AW)) u_ram (
                .clk(clk), .wr_en(wfire && bank == b), .wr_addr(mbase_q + off_q), .wr_data(s_data),
                .rd_en(rd_en), .rd_addr(addr), .rd_data(bank_data[b*24 +: 24])
            );
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
