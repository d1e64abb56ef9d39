`default_nettype none
// The accelerator's global controller and its engines as one block
// (docs/accel.md): from start_addr it runs a command list in SDRAM. The
// command front end (accel_cmd) fetches and checks each command; the
// dispatcher hands it to the engine of its op, which reads its operands and
// writes its results over the same SDRAM port; the write guard keeps every
// write inside the regions the command declares as its outputs.
//
// Engines (each executes its ops bit for bit as host/accel.ModelDevice, and
// refuses layers beyond its limits with status 3: docs/accel.md's table):
//   accel_vec         2 ADD_RELU_FP, 3 POOL_FP, 6 POOL_BP, 7 ADD_RELU_BP, 9 ADD
//   accel_fc          4 FC_FP, 5 FC_BP
//   accel_conv_bn_fp  1 CONV_BN_FP (its own pe_top and bn_rows)
//   accel_bn_conv_bp  8 BN_CONV_BP (its own pe_top and bn_rows)
// (accel_cmd passes only ops 1..9 to the dispatcher.)
// One command runs at a time: the front end fetches the next command after
// the engine has finished (its reads are held back while an engine runs).
//
// Control:
//   start       one-clock pulse, taken while !busy: run the list at
//               start_addr in an SDRAM of sdram_size bytes (the tensor table
//               is SDRAM[0 .. start_addr), as accel_cmd)
//   busy        high from the clock after start until the list has ended and
//               every word requested from the SDRAM has arrived
//   done, err   how the last list ended; held until the next start or rst
//   err_code    0 after STOP; else the status: 1 op, 2 region (a table entry,
//               or a write outside the command's output regions), 3 shape,
//               4 inf or NaN where the op forbids it; an engine's own limit
//               (a layer too big for its buffers) is status 3
//   end_addr    byte address of the command that ended the list
// SDRAM: a read port (mem_req_*: word address and 1..16 words; mem_rd_*: the
// words of the requests in order) and a write port (mem_wr_*: one word per
// handshake, byte k written when mem_wr_strb[k]). The responder is reset
// with rst and answers a request no earlier than the clock after it is taken.
// rst (synchronous, active high): every engine and the front end stop; busy,
// done, err and every valid are low on the next clock; nothing of the list
// is written after it.
module accel_top #(
    parameter AW       = 32,     // SDRAM byte-address bits: 8..32
    parameter MAX_CMDS = 10000,  // commands a list may run before status 1
    parameter ROWS     = 16,     // PE rows of the conv engines' pe_top
    parameter COLS     = 32,     // PE columns
    parameter OUT_ROWS = 2,      // pe_top PE rows per result beat; divides ROWS
    parameter IDEPTH   = 4096,   // pe_top input buffer: 3*IDEPTH bytes per column
    parameter WDEPTH   = 1024,   // pe_top weight buffer kernel rows per bank
    parameter MAX_M    = 64      // channels the BN rows and the conv engines' buffers hold
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              start,
    input  wire [AW-1:0]     start_addr,
    input  wire [AW:0]       sdram_size,
    output wire              busy,
    output wire              done,
    output wire              err,
    output wire [2:0]        err_code,
    output wire [AW:0]       end_addr,
    output wire              mem_req_valid,
    input  wire              mem_req_ready,
    output wire [AW-3:0]     mem_req_addr,
    output wire [4:0]        mem_req_len,
    input  wire              mem_rd_valid,
    output wire              mem_rd_ready,
    input  wire [31:0]       mem_rd_data,
    output wire              mem_wr_valid,
    input  wire              mem_wr_ready,
    output wire [AW-3:0]     mem_wr_addr,
    output wire [31:0]       mem_wr_data,
    output wire [3:0]        mem_wr_strb
);
    initial begin
        if (AW < 8 || AW > 32) $fatal(1, "accel_top: AW must be 8..32");
    end

    localparam MAX_OPS = 12;                    // BN_CONV_BP's operands
    localparam NE      = 4;                     // engines
    localparam EW      = 2;                     // engine index bits
    localparam [EW-1:0] E_VEC = 2'd0, E_FC = 2'd1, E_CONV_FP = 2'd2, E_CONV_BP = 2'd3;
    localparam [2:0] ST_REGION = 3'd2;
    localparam [2:0] T_IDLE = 3'd0, T_RUN = 3'd1, T_EXEC = 3'd2, T_ABORT = 3'd3, T_DRAIN = 3'd4;

    // ---- the front end
    wire                     c_busy, c_done, c_err;
    wire [2:0]               c_code;
    wire [AW:0]              c_end;
    wire                     c_req_valid, c_req_ready, c_rd_ready;
    wire [AW-3:0]            c_req_addr;
    wire [4:0]               c_req_len;
    wire                     m_valid, m_ready;
    wire [3:0]               m_op, m_nops;
    wire [7:0]               m_flags;
    wire [AW-1:0]            m_addr;
    wire [MAX_OPS*32-1:0]    m_base;
    wire [MAX_OPS*3-1:0]     m_dtype;
    wire [MAX_OPS*64-1:0]    m_shape;
    wire [MAX_OPS*(AW+1)-1:0] m_end;

    reg  [2:0]  state_q;
    reg         abort_q;          // stops the front end and the engines for one clock
    reg         start_cmd_q;
    reg  [EW-1:0] eng_q;          // the engine running the command
    reg  [AW-1:0] cmd_addr_q;
    reg  [3:0]  n_in_q, nops_q;
    reg  [AW:0] lo_q [0:MAX_OPS-1];
    reg  [AW:0] hi_q [0:MAX_OPS-1];
    reg         done_q, err_q;
    reg  [2:0]  code_q;
    reg  [AW:0] end_q;
    reg  [2:0]  fin_code_q;       // the list's end, reported once the reads drained
    reg         fin_err_q;
    reg  [AW:0] fin_end_q;
    reg  [15:0] owed_q;           // words requested and not yet arrived
    reg         stall_q;          // a read request waited on mem_req_ready in the last clock

    accel_cmd #(.AW(AW), .MAX_OPS(MAX_OPS), .MAX_CMDS(MAX_CMDS)) u_cmd (
        .clk(clk), .rst(rst || abort_q),
        .start(start_cmd_q), .start_addr(cmd_addr_q), .sdram_size(sdram_size),
        .busy(c_busy), .done(c_done), .err(c_err), .err_code(c_code), .end_addr(c_end),
        .mem_req_valid(c_req_valid), .mem_req_ready(c_req_ready), .mem_req_addr(c_req_addr),
        .mem_req_len(c_req_len), .mem_rd_valid(mem_rd_valid && state_q == T_RUN),
        .mem_rd_ready(c_rd_ready), .mem_rd_data(mem_rd_data),
        .m_valid(m_valid), .m_ready(m_ready), .m_op(m_op), .m_flags(m_flags), .m_nops(m_nops),
        .m_addr(m_addr), .m_base(m_base), .m_dtype(m_dtype), .m_shape(m_shape), .m_end(m_end));

    // ---- dispatch: the op's engine and its number of inputs (host/accel.SIGNATURE)
    reg [EW-1:0] m_eng;
    reg [3:0]    m_n_in;
    always @(*) begin
        case (m_op)
            4'd2, 4'd3, 4'd6, 4'd7, 4'd9: m_eng = E_VEC;
            4'd4, 4'd5:                   m_eng = E_FC;
            4'd1:                         m_eng = E_CONV_FP;
            default:                      m_eng = E_CONV_BP;    // 8
        endcase
        case (m_op)
            4'd1:       m_n_in = 4'd4;
            4'd2, 4'd4, 4'd7, 4'd9: m_n_in = 4'd2;
            4'd5:       m_n_in = 4'd3;
            4'd8:       m_n_in = 4'd7;
            default:    m_n_in = 4'd1;     // 3 POOL_FP, 6 POOL_BP
        endcase
    end

    // ---- the engines
    wire [NE-1:0]       e_cmd_valid, e_cmd_ready, e_done;
    wire [NE*3-1:0]     e_status;
    wire [NE-1:0]       e_req_valid, e_wr_valid;
    wire [NE*(AW-2)-1:0] e_req_addr, e_wr_addr;
    wire [NE*5-1:0]     e_req_len;
    wire [NE-1:0]       e_rd_ready;
    wire [NE*32-1:0]    e_wr_data;
    wire [NE*4-1:0]     e_wr_strb;
    wire                e_rst = rst || abort_q;
    wire                exec  = state_q == T_EXEC;
    wire                req_own;      // the engine owns the read request port
    wire                guard_ok;

    genvar g;
    generate
        for (g = 0; g < NE; g = g + 1) begin : gen_cmd_valid
            assign e_cmd_valid[g] = state_q == T_RUN && m_valid && m_eng == g;
        end
    endgenerate

    accel_vec #(.AW(AW), .MAX_OPS(MAX_OPS)) u_vec (
        .clk(clk), .rst(e_rst),
        .cmd_valid(e_cmd_valid[E_VEC]), .cmd_ready(e_cmd_ready[E_VEC]), .cmd_op(m_op),
        .cmd_flags(m_flags), .cmd_base(m_base), .cmd_dtype(m_dtype), .cmd_shape(m_shape),
        .done(e_done[E_VEC]), .status(e_status[3*E_VEC +: 3]),
        .rd_req_valid(e_req_valid[E_VEC]), .rd_req_ready(mem_req_ready && req_own && eng_q == E_VEC),
        .rd_req_addr(e_req_addr[(AW-2)*E_VEC +: AW-2]), .rd_req_len(e_req_len[5*E_VEC +: 5]),
        .rd_valid(mem_rd_valid && exec && eng_q == E_VEC), .rd_ready(e_rd_ready[E_VEC]),
        .rd_data(mem_rd_data),
        .wr_valid(e_wr_valid[E_VEC]), .wr_ready(mem_wr_ready && exec && eng_q == E_VEC && guard_ok),
        .wr_addr(e_wr_addr[(AW-2)*E_VEC +: AW-2]), .wr_data(e_wr_data[32*E_VEC +: 32]),
        .wr_strb(e_wr_strb[4*E_VEC +: 4]));

    accel_fc #(.AW(AW), .MAX_OPS(MAX_OPS)) u_fc (
        .clk(clk), .rst(e_rst),
        .cmd_valid(e_cmd_valid[E_FC]), .cmd_ready(e_cmd_ready[E_FC]), .cmd_op(m_op),
        .cmd_flags(m_flags), .cmd_base(m_base), .cmd_dtype(m_dtype), .cmd_shape(m_shape),
        .done(e_done[E_FC]), .status(e_status[3*E_FC +: 3]),
        .rd_req_valid(e_req_valid[E_FC]), .rd_req_ready(mem_req_ready && req_own && eng_q == E_FC),
        .rd_req_addr(e_req_addr[(AW-2)*E_FC +: AW-2]), .rd_req_len(e_req_len[5*E_FC +: 5]),
        .rd_valid(mem_rd_valid && exec && eng_q == E_FC), .rd_ready(e_rd_ready[E_FC]),
        .rd_data(mem_rd_data),
        .wr_valid(e_wr_valid[E_FC]), .wr_ready(mem_wr_ready && exec && eng_q == E_FC && guard_ok),
        .wr_addr(e_wr_addr[(AW-2)*E_FC +: AW-2]), .wr_data(e_wr_data[32*E_FC +: 32]),
        .wr_strb(e_wr_strb[4*E_FC +: 4]));

    accel_conv_bn_fp #(.AW(AW), .MAX_OPS(MAX_OPS), .ROWS(ROWS), .COLS(COLS), .OUT_ROWS(OUT_ROWS),
                       .IDEPTH(IDEPTH), .WDEPTH(WDEPTH), .MAX_M(MAX_M)) u_conv_fp (
        .clk(clk), .rst(e_rst),
        .cmd_valid(e_cmd_valid[E_CONV_FP]), .cmd_ready(e_cmd_ready[E_CONV_FP]), .cmd_op(m_op),
        .cmd_flags(m_flags), .cmd_base(m_base), .cmd_dtype(m_dtype), .cmd_shape(m_shape),
        .done(e_done[E_CONV_FP]), .status(e_status[3*E_CONV_FP +: 3]),
        .rd_req_valid(e_req_valid[E_CONV_FP]), .rd_req_ready(mem_req_ready && req_own && eng_q == E_CONV_FP),
        .rd_req_addr(e_req_addr[(AW-2)*E_CONV_FP +: AW-2]), .rd_req_len(e_req_len[5*E_CONV_FP +: 5]),
        .rd_valid(mem_rd_valid && exec && eng_q == E_CONV_FP), .rd_ready(e_rd_ready[E_CONV_FP]),
        .rd_data(mem_rd_data),
        .wr_valid(e_wr_valid[E_CONV_FP]), .wr_ready(mem_wr_ready && exec && eng_q == E_CONV_FP && guard_ok),
        .wr_addr(e_wr_addr[(AW-2)*E_CONV_FP +: AW-2]), .wr_data(e_wr_data[32*E_CONV_FP +: 32]),
        .wr_strb(e_wr_strb[4*E_CONV_FP +: 4]));

    accel_bn_conv_bp #(.AW(AW), .MAX_OPS(MAX_OPS), .ROWS(ROWS), .COLS(COLS), .OUT_ROWS(OUT_ROWS),
                       .IDEPTH(IDEPTH), .WDEPTH(WDEPTH), .MAX_M(MAX_M)) u_conv_bp (
        .clk(clk), .rst(e_rst),
        .cmd_valid(e_cmd_valid[E_CONV_BP]), .cmd_ready(e_cmd_ready[E_CONV_BP]), .cmd_op(m_op),
        .cmd_flags(m_flags), .cmd_base(m_base), .cmd_dtype(m_dtype), .cmd_shape(m_shape),
        .done(e_done[E_CONV_BP]), .status(e_status[3*E_CONV_BP +: 3]),
        .rd_req_valid(e_req_valid[E_CONV_BP]), .rd_req_ready(mem_req_ready && req_own && eng_q == E_CONV_BP),
        .rd_req_addr(e_req_addr[(AW-2)*E_CONV_BP +: AW-2]), .rd_req_len(e_req_len[5*E_CONV_BP +: 5]),
        .rd_valid(mem_rd_valid && exec && eng_q == E_CONV_BP), .rd_ready(e_rd_ready[E_CONV_BP]),
        .rd_data(mem_rd_data),
        .wr_valid(e_wr_valid[E_CONV_BP]), .wr_ready(mem_wr_ready && exec && eng_q == E_CONV_BP && guard_ok),
        .wr_addr(e_wr_addr[(AW-2)*E_CONV_BP +: AW-2]), .wr_data(e_wr_data[32*E_CONV_BP +: 32]),
        .wr_strb(e_wr_strb[4*E_CONV_BP +: 4]));

    wire          a_req_valid = e_req_valid[eng_q];
    wire [AW-3:0] a_req_addr  = e_req_addr[(AW-2)*eng_q +: AW-2];
    wire [4:0]    a_req_len   = e_req_len[5*eng_q +: 5];
    wire          a_wr_valid  = e_wr_valid[eng_q];
`ifndef SYNTHESIS
    // error injection for the write guard's test (tb/test_accel_top.py sets it; nothing in
    // the design drives it): flips bits of the running engine's write address
    reg  [AW-3:0] inject_wr_xor = {(AW-2){1'b0}};
`else
    wire [AW-3:0] inject_wr_xor = {(AW-2){1'b0}};
`endif
    wire [AW-3:0] a_wr_addr   = e_wr_addr[(AW-2)*eng_q +: AW-2] ^ inject_wr_xor;
    wire [3:0]    a_wr_strb   = e_wr_strb[4*eng_q +: 4];
    wire          a_done      = e_done[eng_q];
    wire [2:0]    a_status    = e_status[3*eng_q +: 3];

    // ---- write guard: the strobed bytes' first and last address inside one output region
    reg [1:0] lo_b, hi_b;
    always @(*) begin
        lo_b = a_wr_strb[0] ? 2'd0 : a_wr_strb[1] ? 2'd1 : a_wr_strb[2] ? 2'd2 : 2'd3;
        hi_b = a_wr_strb[3] ? 2'd3 : a_wr_strb[2] ? 2'd2 : a_wr_strb[1] ? 2'd1 : 2'd0;
    end
    wire [AW:0] w_lo = {1'b0, a_wr_addr, lo_b};
    wire [AW:0] w_hi = {1'b0, a_wr_addr, hi_b};
    wire [MAX_OPS-1:0] in_region;
    generate
        for (g = 0; g < MAX_OPS; g = g + 1) begin : gen_guard
            assign in_region[g] = g >= n_in_q && g < nops_q && lo_q[g] <= w_lo && w_hi < hi_q[g];
        end
    endgenerate
    assign guard_ok = |in_region;
    wire violation = exec && a_wr_valid && !guard_ok;

    // ---- control
    wire m_fire   = m_valid && m_ready;
    assign m_ready = state_q == T_RUN && e_cmd_ready[m_eng];
    wire req_fire = mem_req_valid && mem_req_ready;
    wire rd_fire  = mem_rd_valid && mem_rd_ready;

    integer k;
    always @(posedge clk) begin
        start_cmd_q <= 1'b0;
        abort_q     <= 1'b0;
        if (rst) begin
            state_q <= T_IDLE;
            done_q  <= 1'b0;
            err_q   <= 1'b0;
            code_q  <= 3'd0;
            end_q   <= {(AW+1){1'b0}};
            owed_q  <= 16'd0;
            eng_q   <= E_VEC;
        end else begin
            stall_q <= mem_req_valid && !mem_req_ready;   // (the request is held: valid/ready)
            owed_q <= owed_q + (req_fire ? {11'd0, mem_req_len} : 16'd0) - (rd_fire ? 16'd1 : 16'd0);
            case (state_q)
                T_IDLE: if (start) begin
                    state_q     <= T_RUN;
                    start_cmd_q <= 1'b1;
                    cmd_addr_q  <= start_addr;
                    done_q      <= 1'b0;
                    err_q       <= 1'b0;
                    code_q      <= 3'd0;
                end
                T_RUN: begin
                    if (!start_cmd_q && (c_done || c_err)) begin   // STOP or a failed check (not the last list's)
                        state_q    <= T_DRAIN;
                        fin_err_q  <= c_err;
                        fin_code_q <= c_code;
                        fin_end_q  <= c_end;
                    end else if (m_fire) begin
                        state_q    <= T_EXEC;
                        eng_q      <= m_eng;
                        fin_end_q  <= {1'b0, m_addr};
                        n_in_q     <= m_n_in;
                        nops_q     <= m_nops;
                        for (k = 0; k < MAX_OPS; k = k + 1) begin
                            lo_q[k] <= {1'b0, m_base[32*k +: AW]};
                            hi_q[k] <= m_end[(AW+1)*k +: AW+1];
                        end
                    end
                end
                T_EXEC: begin
                    if (violation) begin            // the engine stops once its read request is out
                        state_q    <= T_ABORT;
                        fin_err_q  <= 1'b1;
                        fin_code_q <= ST_REGION;
                    end else if (a_done && a_status != 3'd0) begin
                        state_q    <= T_DRAIN;
                        abort_q    <= 1'b1;
                        fin_err_q  <= 1'b1;
                        fin_code_q <= a_status;
                    end else if (a_done) begin
                        state_q <= T_RUN;
                    end
                end
                T_ABORT: if (!(stall_q && !mem_req_ready)) begin
                    state_q <= T_DRAIN;
                    abort_q <= 1'b1;
                end
                T_DRAIN: if (owed_q == 16'd0 && !abort_q) begin
                    state_q <= T_IDLE;
                    done_q  <= !fin_err_q;
                    err_q   <= fin_err_q;
                    code_q  <= fin_code_q;
                    end_q   <= fin_end_q;
                end
                default: state_q <= T_IDLE;
            endcase
        end
    end

    // ---- the SDRAM ports: the front end while it fetches, the engine while it runs
    assign c_req_ready   = mem_req_ready && state_q == T_RUN;
    // after a write outside the regions only a request already waiting goes out (valid/ready)
    assign req_own       = exec || (state_q == T_ABORT && stall_q);
    assign mem_req_valid = state_q == T_RUN ? c_req_valid : req_own && a_req_valid;
    assign mem_req_addr  = state_q == T_RUN ? c_req_addr : a_req_addr;
    assign mem_req_len   = state_q == T_RUN ? c_req_len : a_req_len;
    assign mem_rd_ready  = state_q == T_RUN ? c_rd_ready : exec ? e_rd_ready[eng_q] :
                           state_q == T_ABORT || state_q == T_DRAIN;   // drained: the words are dropped
    assign mem_wr_valid  = exec && a_wr_valid && guard_ok;
    assign mem_wr_addr   = a_wr_addr;
    assign mem_wr_data   = e_wr_data[32*eng_q +: 32];
    assign mem_wr_strb   = a_wr_strb;

    wire unused_c_busy = &{1'b0, c_busy, 1'b0};   // done/err tell the list's end
    assign busy     = state_q != T_IDLE;
    assign done     = done_q;
    assign err      = err_q;
    assign err_code = code_q;
    assign end_addr = end_q;

`ifndef SYNTHESIS
    stream_check #(.W(AW - 2 + 5), .NAME("mem_req")) u_check_req (
        .clk(clk), .rst(rst), .valid(mem_req_valid), .ready(mem_req_ready),
        .data({mem_req_addr, mem_req_len}));
    stream_check #(.W(AW - 2 + 36), .NAME("mem_wr")) u_check_wr (
        .clk(clk), .rst(rst), .valid(mem_wr_valid), .ready(mem_wr_ready),
        .data({mem_wr_addr, mem_wr_data, mem_wr_strb}));
    always @(posedge clk) begin
        if (!rst) begin
            assert (!(done && err) && !(busy && (done || err)))
                else $error("%m: busy, done and err not exclusive");
            assert (!mem_rd_valid || owed_q != 16'd0)
                else $error("%m: mem_rd word with no request owed (is the responder reset with rst?)");
        end
    end
`endif
endmodule
`default_nettype wire
