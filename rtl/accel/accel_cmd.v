`default_nettype none
// Command front end of the accelerator's global controller (docs/accel.md,
// "Tensor table and command list"): from start_addr it fetches each 64-byte
// command from SDRAM, decodes op and flags (word 0 = flags << 8 | op), reads
// the tensor-table entry of each operand (id = words 1.., as many as the op
// has: host/accel.SIGNATURE, BN_CONV_BP one fewer with flag 8), applies every
// check that needs no tensor data, exactly as host/accel.ModelDevice does
// before it executes a command, and hands the decoded command to the
// datapath on the m port. STOP ends the list: done, status 0. A failed check
// ends it with err, the status and the failing command's address; nothing of
// that command comes out on m. Status 4 (inf/NaN into a convolution) needs
// tensor data: the datapath's, never raised here.
//
// Control:
//   start         one-clock pulse, taken while !busy (ignored while busy): run
//                 the list at start_addr in an SDRAM of sdram_size bytes; the
//                 tensor table is SDRAM[0 .. start_addr) (host/accel
//                 TABLE_BASE = 0), so ids 1 .. start_addr/16 - 1 are in it
//   busy          high from the clock after start until the list ends
//   done, err     which way the last list ended; held until the next start or rst
//   err_code      0 after STOP, else the status (1, 2, 3)
//   end_addr      byte address of the command that ended the list (STOP's,
//                 or the failing command's), as ModelDevice.run's second value
// SDRAM read port (one request in flight; tb/lib/sdram.py's SdramModel with
// prefix "mem" serves it):
//   mem_req_valid/ready, mem_req_addr (32-bit word address = byte address / 4),
//   mem_req_len (words: 16 for a command, 4 for a table entry);
//   mem_rd_valid/ready/data: the request's words in order. The responder must
//   be reset with rst (words of a request in flight at a reset are dropped by
//   it, not here).
// Decoded commands (m port, valid/ready; held until taken):
//   m_op (1..9), m_flags (word 0 bits 15:8), m_nops (operands), m_addr (the
//   command's byte address); per operand slot k < m_nops, in command order:
//   m_base[32k +: 32], m_dtype[3k +: 3] (1 FP16, 2 INT8, 3 INT32, 4 mask),
//   m_shape[64k +: 64] = {N, C, H, W}, m_end[(AW+1)k +: AW+1] = base + span
//   (the first byte past the operand's region, span as below: the system's
//   write guard keeps each write of the command inside its output regions);
//   slots k >= m_nops are 0.
//
// Checks, in this order (ModelDevice's order; the first failing one stops):
//   1  MAX_CMDS commands passed without STOP: status 1 at start + 64 MAX_CMDS
//      (ModelDevice.run's max_commands), before that address is read;
//   2  the command's address is not 4-byte aligned or its 64 bytes pass
//      sdram_size: status 2 [here only: ModelDevice raises a Python error];
//   1  op not in 1..9, 15; then STOP ends the list (status 0, done);
//   2  an operand id outside 1 .. start_addr/16 - 1 (the 32-bit word);
//   2  per operand in order: its dtype byte not 1..4, a zero N, C, H or W,
//      base not 4-byte aligned, base < start_addr, or base + span > sdram_size, span = count * dtype
//      bytes + 4 (scale word), for a mask ceil(count / 8) (exact: 68 bits);
//   3  the op's shape and dtype rules (accel_cmd_rules.v lists them).
// An entry's byte 5 and last u16, and command words past the op's operands,
// are not looked at (nor are they by ModelDevice).
// Timing: 16 + 4 per operand words read; count = N*C*H*W on a shift-add
// multiplier (one clock per bit of C, H and W up to the highest set bit).
// rst (synchronous, active high): busy, done, err and the ports' valid low on
// the next clock; nothing of the list runs or comes out after it.
module accel_cmd #(
    parameter AW       = 32,     // SDRAM byte-address bits (start_addr, m_addr; sdram_size has AW+1): 8..32
    parameter MAX_OPS  = 12,     // operand slots on the m port (12..15: BN_CONV_BP has 12)
    parameter MAX_CMDS = 10000   // commands a list may run before status 1 (ModelDevice.run's max_commands)
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire                   start,
    input  wire [AW-1:0]          start_addr,
    input  wire [AW:0]            sdram_size,
    output wire                   busy,
    output wire                   done,
    output wire                   err,
    output wire [2:0]             err_code,
    output wire [AW:0]            end_addr,
    output wire                   mem_req_valid,
    input  wire                   mem_req_ready,
    output wire [AW-3:0]          mem_req_addr,
    output wire [4:0]             mem_req_len,
    input  wire                   mem_rd_valid,
    output wire                   mem_rd_ready,
    input  wire [31:0]            mem_rd_data,
    output wire                   m_valid,
    input  wire                   m_ready,
    output wire [3:0]             m_op,
    output wire [7:0]             m_flags,
    output wire [3:0]             m_nops,
    output wire [AW-1:0]          m_addr,
    output wire [MAX_OPS*32-1:0]  m_base,
    output wire [MAX_OPS*3-1:0]   m_dtype,
    output wire [MAX_OPS*64-1:0]  m_shape,
    output wire [MAX_OPS*(AW+1)-1:0] m_end
);
    initial begin
        if (AW < 8 || AW > 32) $fatal(1, "accel_cmd: AW must be 8..32");
        if (MAX_OPS < 12 || MAX_OPS > 15) $fatal(1, "accel_cmd: MAX_OPS must be 12..15");
        if (MAX_CMDS < 1 || MAX_CMDS > 16777215) $fatal(1, "accel_cmd: MAX_CMDS must be 1..2^24-1");
    end

    localparam IDW = AW - 4;                      // a table id that passed the bound
    localparam CW  = $clog2(MAX_CMDS + 1);
    localparam [CW-1:0] MAX_C = MAX_CMDS, ONE_C = 1;
    localparam [AW:0]   CMD_B = 64;       // bytes per command
    localparam [3:0] S_IDLE = 4'd0, S_CMD = 4'd1, S_CREQ = 4'd2, S_CRD = 4'd3, S_DEC = 4'd4,
                     S_EREQ = 4'd5, S_ERD = 4'd6, S_MUL = 4'd7, S_REG = 4'd8, S_RULE = 4'd9,
                     S_OUT = 4'd10;
    localparam [2:0] ST_OP = 3'd1, ST_REGION = 3'd2, ST_SHAPE = 3'd3;
    localparam [2:0] FP16 = 3'd1, INT8 = 3'd2, INT32 = 3'd3;     // and 4 mask

    reg [3:0]     state_q;
    reg [AW-1:0]  start_q;
    reg [AW:0]    size_q;
    reg [AW:0]    cmd_q;          // the command's byte address
    reg [CW-1:0]  ncmd_q;         // commands passed in this list
    reg [7:0]     op_q;
    reg [7:0]     flags_q;
    reg [3:0]     nops_q;
    reg [3:0]     wcnt_q;         // response word
    reg [3:0]     opi_q;          // operand being read
    reg           idbad_q;
    reg           dtbad_q;
    reg           zero_q;
    reg [IDW-1:0] id_q   [0:MAX_OPS-1];
    reg [31:0]    base_q [0:MAX_OPS-1];
    reg [2:0]     dt_q   [0:MAX_OPS-1];
    reg [63:0]    shp_q  [0:MAX_OPS-1];
    reg [AW:0]    end_rg_q [0:MAX_OPS-1];   // base + span: the region's first byte past it
    reg [63:0]    acc_q;          // count = N*C*H*W: sum of shifted multiplicands
    reg [63:0]    mcd_q;
    reg [15:0]    mpl_q;
    reg [1:0]     fct_q;          // factor being multiplied in: C, H, W
    reg           done_q, err_q;
    reg [2:0]     code_q;
    reg [AW:0]    end_q;

    // ---- decode of word 0
    function [3:0] n_operands;
        input [7:0] op;
        input       no_dx;
        case (op)
            8'd1: n_operands = 4'd8;
            8'd2: n_operands = 4'd4;
            8'd3: n_operands = 4'd2;
            8'd4: n_operands = 4'd3;
            8'd5: n_operands = 4'd5;
            8'd6: n_operands = 4'd2;
            8'd7: n_operands = 4'd4;
            8'd8: n_operands = no_dx ? 4'd11 : 4'd12;
            8'd9: n_operands = 4'd3;
            default: n_operands = 4'd0;
        endcase
    endfunction
    wire op_known = (op_q >= 8'd1 && op_q <= 8'd9) || op_q == 8'd15;
    wire op_stop  = op_q == 8'd15;

    // ---- response words
    wire        rd_fire = mem_rd_valid && mem_rd_ready;
    wire [3:0]  slot_w  = wcnt_q - 4'd1;          // command word k >= 1: operand k-1
    wire [3:0]  nops_w  = n_operands(op_q, flags_q[3]);
    wire [31:0] nent    = {{(36 - AW){1'b0}}, start_q[AW-1:4]};
    wire        id_ok   = mem_rd_data != 32'd0 && mem_rd_data < nent;
    wire [63:0] cur_shp = shp_q[opi_q];
    wire [31:0] cur_base = base_q[opi_q];
    wire [2:0]  cur_dt  = dt_q[opi_q];

    // ---- count multiplier: acc += mcd if the factor's bit is set; last set bit ends the factor
    wire [63:0] acc_n    = acc_q + (mpl_q[0] ? mcd_q : 64'd0);
    wire        mul_last = mpl_q[15:1] == 15'd0;

    // ---- region: base + span against the SDRAM, exact
    reg  [66:0] span;
    always @(*) begin
        case (cur_dt)
            FP16:    span = {2'b00, acc_q, 1'b0} + 67'd4;
            INT8:    span = {3'b000, acc_q} + 67'd4;
            INT32:   span = {1'b0, acc_q, 2'b00} + 67'd4;
            default: span = ({3'b000, acc_q} + 67'd7) >> 3;   // MASK: no scale word
        endcase
    end
    wire [67:0] rg_end = {1'b0, span} + {36'd0, cur_base};
    wire        rg_bad = dtbad_q || zero_q || cur_base[1:0] != 2'b00 ||
                         {1'b0, cur_base} < {{(33 - AW){1'b0}}, start_q} ||
                         rg_end > {{(67 - AW){1'b0}}, size_q};

    // ---- command-level checks before a fetch
    wire [AW+1:0] cmd_end = {1'b0, cmd_q} + {1'b0, CMD_B};
    wire          cmd_bad = cmd_q[1:0] != 2'b00 || cmd_end > {1'b0, size_q};

    // ---- op rules
    wire [MAX_OPS*3-1:0]  dt_flat;
    wire [MAX_OPS*64-1:0] shp_flat;
    wire [MAX_OPS*32-1:0] base_flat;
    wire [MAX_OPS*(AW+1)-1:0] end_flat;
    genvar g;
    generate
        for (g = 0; g < MAX_OPS; g = g + 1) begin : gen_flat
            assign dt_flat[g*3 +: 3]    = dt_q[g];
            assign shp_flat[g*64 +: 64] = shp_q[g];
            assign base_flat[g*32 +: 32] = base_q[g];
            assign end_flat[g*(AW+1) +: AW+1] = end_rg_q[g];
        end
    endgenerate
    wire rule_bad;
    accel_cmd_rules #(.MAX_OPS(MAX_OPS)) u_rules (
        .op(op_q[3:0]), .flags(flags_q), .dtype(dt_flat), .shape(shp_flat), .bad(rule_bad));

    // ---- control
    reg [3:0] state_d;
    reg       stop_err;       // end the list with err, code_d
    reg       stop_ok;        // end it at STOP
    reg [2:0] code_d;
    always @(*) begin
        state_d = state_q;
        stop_err = 1'b0;
        stop_ok = 1'b0;
        code_d = 3'd0;
        case (state_q)
            S_IDLE: if (start) state_d = S_CMD;
            S_CMD: begin
                if (ncmd_q == MAX_C) begin stop_err = 1'b1; code_d = ST_OP; end
                else if (cmd_bad)    begin stop_err = 1'b1; code_d = ST_REGION; end
                else state_d = S_CREQ;
            end
            S_CREQ: if (mem_req_ready) state_d = S_CRD;
            S_CRD:  if (rd_fire && wcnt_q == 4'd15) state_d = S_DEC;
            S_DEC: begin
                if (!op_known)    begin stop_err = 1'b1; code_d = ST_OP; end
                else if (op_stop) stop_ok = 1'b1;
                else if (idbad_q) begin stop_err = 1'b1; code_d = ST_REGION; end
                else state_d = S_EREQ;
            end
            S_EREQ: if (mem_req_ready) state_d = S_ERD;
            S_ERD:  if (rd_fire && wcnt_q == 4'd3) state_d = S_MUL;
            S_MUL:  if (zero_q || (mul_last && fct_q == 2'd2)) state_d = S_REG;
            S_REG: begin
                if (rg_bad) begin stop_err = 1'b1; code_d = ST_REGION; end
                else if (opi_q + 4'd1 == nops_q) state_d = S_RULE;
                else state_d = S_EREQ;
            end
            S_RULE: begin
                if (rule_bad) begin stop_err = 1'b1; code_d = ST_SHAPE; end
                else state_d = S_OUT;
            end
            S_OUT: if (m_ready) state_d = S_CMD;
            default: state_d = S_IDLE;
        endcase
        if (stop_err || stop_ok) state_d = S_IDLE;
    end

    always @(posedge clk) begin
        if (rst) begin
            state_q <= S_IDLE;
            done_q  <= 1'b0;
            err_q   <= 1'b0;
            code_q  <= 3'd0;
        end else begin
            state_q <= state_d;
            if (state_q == S_IDLE && start) begin
                done_q <= 1'b0;
                err_q  <= 1'b0;
                code_q <= 3'd0;
            end
            if (stop_err || stop_ok) begin
                done_q <= stop_ok;
                err_q  <= stop_err;
                code_q <= code_d;
            end
        end
    end

    integer k;
    always @(posedge clk) begin
        if (state_q == S_IDLE && start) begin
            start_q <= start_addr;
            size_q  <= sdram_size;
            cmd_q   <= {1'b0, start_addr};
            ncmd_q  <= {CW{1'b0}};
        end
        if (stop_err || stop_ok) end_q <= cmd_q;
        if (state_q == S_CMD) begin
            wcnt_q  <= 4'd0;
            idbad_q <= 1'b0;
            for (k = 0; k < MAX_OPS; k = k + 1) begin
                base_q[k] <= 32'd0;
                end_rg_q[k] <= {(AW+1){1'b0}};
                dt_q[k]   <= 3'd0;
                shp_q[k]  <= 64'd0;
            end
        end
        if (state_q == S_CRD && rd_fire) begin
            wcnt_q <= wcnt_q + 4'd1;
            if (wcnt_q == 4'd0) begin
                op_q    <= mem_rd_data[7:0];
                flags_q <= mem_rd_data[15:8];
            end else if (slot_w < nops_w) begin
                id_q[slot_w] <= mem_rd_data[IDW-1:0];
                if (!id_ok) idbad_q <= 1'b1;
            end
        end
        if (state_q == S_DEC) begin
            nops_q <= nops_w;
            opi_q  <= 4'd0;
        end
        if (state_q == S_EREQ) wcnt_q <= 4'd0;
        if (state_q == S_ERD && rd_fire) begin
            wcnt_q <= wcnt_q + 4'd1;
            case (wcnt_q[1:0])
                2'd0: base_q[opi_q] <= mem_rd_data;
                2'd1: begin
                    dt_q[opi_q] <= mem_rd_data[2:0];
                    dtbad_q <= mem_rd_data[7:0] == 8'd0 || mem_rd_data[7:0] > 8'd4;
                    shp_q[opi_q][63:48] <= mem_rd_data[31:16];
                end
                2'd2: shp_q[opi_q][47:16] <= {mem_rd_data[15:0], mem_rd_data[31:16]};
                default: begin
                    shp_q[opi_q][15:0] <= mem_rd_data[15:0];
                    zero_q <= cur_shp[63:48] == 16'd0 || cur_shp[47:32] == 16'd0 || cur_shp[31:16] == 16'd0 ||
                              mem_rd_data[15:0] == 16'd0;
                    acc_q <= 64'd0;
                    mcd_q <= {48'd0, cur_shp[63:48]};
                    mpl_q <= cur_shp[47:32];
                    fct_q <= 2'd0;
                end
            endcase
        end
        if (state_q == S_MUL && !zero_q) begin
            if (mul_last) begin
                acc_q <= fct_q == 2'd2 ? acc_n : 64'd0;
                mcd_q <= acc_n;
                mpl_q <= fct_q == 2'd0 ? cur_shp[31:16] : cur_shp[15:0];
                fct_q <= fct_q + 2'd1;
            end else begin
                acc_q <= acc_n;
                mcd_q <= {mcd_q[62:0], 1'b0};
                mpl_q <= {1'b0, mpl_q[15:1]};
            end
        end
        if (state_q == S_REG) begin
            opi_q <= opi_q + 4'd1;
            end_rg_q[opi_q] <= rg_end[AW:0];     // <= sdram_size when the region passed
        end
        if (state_q == S_OUT && m_ready) begin
            cmd_q  <= cmd_q + CMD_B;
            ncmd_q <= ncmd_q + ONE_C;
        end
    end

    assign busy          = state_q != S_IDLE;
    assign done          = done_q;
    assign err           = err_q;
    assign err_code      = code_q;
    assign end_addr      = end_q;
    assign mem_req_valid = state_q == S_CREQ || state_q == S_EREQ;
    assign mem_req_addr  = state_q == S_CREQ ? cmd_q[AW-1:2] : {id_q[opi_q], 2'b00};
    assign mem_req_len   = state_q == S_CREQ ? 5'd16 : 5'd4;
    assign mem_rd_ready  = state_q == S_CRD || state_q == S_ERD;
    assign m_valid       = state_q == S_OUT;
    assign m_op          = op_q[3:0];
    assign m_flags       = flags_q;
    assign m_nops        = nops_q;
    assign m_addr        = cmd_q[AW-1:0];
    assign m_base        = base_flat;
    assign m_dtype       = dt_flat;
    assign m_shape       = shp_flat;
    assign m_end         = end_flat;

`ifndef SYNTHESIS
    stream_check #(.W(4 + 8 + 4 + AW + MAX_OPS * (100 + AW)), .NAME("m")) u_check_m (
        .clk(clk), .rst(rst), .valid(m_valid), .ready(m_ready),
        .data({m_op, m_flags, m_nops, m_addr, m_base, m_dtype, m_shape, m_end}));
    stream_check #(.W(AW - 2 + 5), .NAME("mem_req")) u_check_req (
        .clk(clk), .rst(rst), .valid(mem_req_valid), .ready(mem_req_ready),
        .data({mem_req_addr, mem_req_len}));
    always @(posedge clk) begin
        if (!rst) begin
            assert (!(done && err) && !(busy && (done || err)))
                else $error("%m: busy, done and err not exclusive");
            assert (!mem_rd_valid || state_q == S_CRD || state_q == S_ERD)
                else $error("%m: mem_rd word with no request owed (is the responder reset with rst?)");
            assert (!m_valid || (op_known && !op_stop && nops_q != 4'd0))
                else $error("%m: m beat of op %0d", op_q);
        end
    end
`endif
endmodule
`default_nettype wire
