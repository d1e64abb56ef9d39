`default_nettype none
// MLP training engine after paper 000 (III-B, III-D): P FP32 neuron lanes
// (mlp_lane) run forward propagation with sigmoid, backpropagation (eq. 2),
// Delta accumulation (eq. 1) per sample, and the gradient-descent update
// w -= alpha * Delta / m per mini-batch, on 1..3 weight layers of run-time
// sizes up to MAX_S0-MAX_S1-MAX_S2-MAX_S3. Weights, gradients, activations and
// deltas live in P banks each; weights are stored skewed (w[i][j] in bank
// (i + j) % P) so that a row (forward, update) and a column (backprop) are both
// read one word per lane per clock. models/mlp_hw.py documents the numerics
// and the memory map. The layer-0 activations (the sample) are double
// buffered: the next sample streams in while the current one computes.
module mlp_net #(
    parameter P       = 10,    // neuron lanes working in parallel (1..128)
    parameter MUL_LAT = 2,     // fp_mul register stages
    parameter ADD_LAT = 2,     // fp_add register stages (= interleaved partial sums)
    parameter IN_REG  = 0,     // 1: lanes register their inputs (RAM words, op) for clock rate
    parameter OP_REG  = 0,     // 1: lanes register their operands before the multiplier
    parameter MAX_S0  = 784,   // largest input layer
    parameter MAX_S1  = 100,   // largest first hidden (or output) layer
    parameter MAX_S2  = 100,   // largest second layer
    parameter MAX_S3  = 10,    // largest third layer
    parameter MAX_OUT = 10,    // largest output layer (targets are held in registers)
    parameter SZ_W    = 10,    // bits of a layer size
    parameter M_W     = 16,    // bits of the mini-batch size
    parameter SIGMOID = 0      // 0: piecewise-linear LUT (2 ops), 1: ALU (exp and reciprocal, 23 ops)
) (
    input  wire            clk,
    input  wire            rst,
    // configuration: accepted when idle; illegal values raise err_config
    input  wire            cfg_valid,
    output wire            cfg_ready,
    input  wire [1:0]      cfg_layers,      // weight layers, 1..3
    input  wire [SZ_W-1:0] cfg_size0,
    input  wire [SZ_W-1:0] cfg_size1,
    input  wire [SZ_W-1:0] cfg_size2,
    input  wire [SZ_W-1:0] cfg_size3,
    input  wire [M_W-1:0]  cfg_batch,       // m, samples per mini-batch
    input  wire [31:0]     cfg_alpha,       // learning rate, FP32
    input  wire            cfg_train,       // 1: train; 0: forward only (inference)
    // host weight writes, between samples
    input  wire            w_valid,
    output wire            w_ready,
    input  wire [1:0]      w_layer,
    input  wire [SZ_W-1:0] w_row,           // neuron of layer w_layer + 1
    input  wire [SZ_W-1:0] w_col,           // 0: bias, j: input j
    input  wire [31:0]     w_data,
    // samples: size0 input words then size_L target words, s_last on the final word
    input  wire            s_valid,
    output wire            s_ready,
    input  wire [31:0]     s_data,
    input  wire            s_last,
    // status
    output wire            configured,
    output wire            busy,
    output reg             err_config,      // the last configuration was illegal
    output reg             err_frame,       // a sample had the wrong length (it was dropped)
    output reg             sample_done,     // pulse: a sample's forward, backprop and Delta are done
    output reg             batch_done,      // pulse: the mini-batch's weight update is done
    output reg  [4:0]      fp_flags         // sticky IEEE flags of every lane operation
);
    `include "mlp_ops.vh"

    // ---------------------------------------------------------------- memory map
    function integer cdiv(input integer a, input integer b);
        cdiv = (a + b - 1) / b;
    endfunction
    function integer clog2i(input integer v);
        integer t;
        begin
            clog2i = 1;
            for (t = 2; t < v; t = t * 2) clog2i = clog2i + 1;
        end
    endfunction
    localparam CW0 = cdiv(MAX_S0 + 1, P), CW1 = cdiv(MAX_S1 + 1, P), CW2 = cdiv(MAX_S2 + 1, P);
    localparam CA3 = cdiv(MAX_S3 + 1, P);
    localparam WB1 = MAX_S1 * CW0, WB2 = WB1 + MAX_S2 * CW1, W_DEPTH = WB2 + MAX_S3 * CW2;
    localparam AB1 = CW0, AB2 = AB1 + CW1, AB3 = AB2 + CW2, A_DEPTH = AB3 + CA3;
    // the second sample buffer (layer 0 of the other sample) follows the layer map
    localparam AX1 = A_DEPTH, A_DEPTH_X = AX1 + CW0;
    localparam DB2 = cdiv(MAX_S1, P), DB3 = DB2 + cdiv(MAX_S2, P), D_DEPTH = DB3 + cdiv(MAX_S3, P);
    localparam WAW = clog2i(W_DEPTH), AAW = clog2i(A_DEPTH_X), DAW = clog2i(D_DEPTH);
    localparam PW  = clog2i(P);
    // one width for every index and address computation, sliced at the RAM ports
    localparam IW0 = (WAW > AAW) ? WAW : AAW;
    localparam IW1 = (IW0 > DAW) ? IW0 : DAW;
    localparam IW  = (IW1 > SZ_W + PW + 2) ? IW1 : SZ_W + PW + 2;
    localparam [IW-1:0] P_I = P[IW-1:0];
    localparam PM1 = P - 1;
    localparam [PW-1:0] P_M1 = PM1[PW-1:0];
    localparam TW  = clog2i(MAX_OUT);
    localparam R   = ADD_LAT;
    // The lanes read and write their registers IN_REG clocks after the operand
    // stage: a dependent lane-register op waits only for OP_REG + MUL_LAT + ADD_LAT.
    localparam integer PIPE = IN_REG + OP_REG + MUL_LAT + ADD_LAT;   // operand stage to write-back
    localparam integer LREG = 1 + OP_REG + MUL_LAT + ADD_LAT;  // issue to issue of a dependent lane-register op
    localparam integer LMEM = PIPE + 2;        // ... of an op that reads what the first wrote to RAM
    localparam [31:0] ONE = 32'h3f800000;

    initial begin
        if (P < 1 || P > 128) $fatal(1, "mlp_net: P must be 1..128");
        if (P >= (1 << (SZ_W + 1))) $fatal(1, "mlp_net: P must be below 2^(SZ_W + 1)");
        if (MAX_OUT > MAX_S1 && MAX_OUT > MAX_S2 && MAX_OUT > MAX_S3) $fatal(1, "mlp_net: MAX_OUT larger than every layer");
        if ((1 << SZ_W) <= MAX_S0 || (1 << SZ_W) <= MAX_S1 || (1 << SZ_W) <= MAX_S2 || (1 << SZ_W) <= MAX_S3)
            $fatal(1, "mlp_net: SZ_W too small for the layer sizes");
        if (MAX_S0 < 1 || MAX_S1 < 1 || MAX_S2 < 1 || MAX_S3 < 1) $fatal(1, "mlp_net: layer maxima must be >= 1");
        if (LMEM > 15) $fatal(1, "mlp_net: latencies too long for the wait counter");
        if (IN_REG < 0 || IN_REG > 1 || OP_REG < 0 || OP_REG > 1) $fatal(1, "mlp_net: IN_REG and OP_REG must be 0 or 1");
    end

    // ---------------------------------------------------------------- configuration
    localparam [1:0] ST_UNCONF = 2'd0, ST_RECIP = 2'd1, ST_READY = 2'd2, ST_RUN = 2'd3;
    reg [1:0]      st_q;
    reg [1:0]      layers_q;
    reg [IW-1:0]   sz_q [0:3];
    reg [M_W-1:0]  batch_q, sample_q;
    reg [31:0]     alpha_q, inv_m_q;
    reg            train_q;

    wire cfg_ok = (cfg_layers != 2'd0) && (cfg_batch != {M_W{1'b0}})
                && (cfg_size0 != 0) && (cfg_size0 <= MAX_S0)
                && (cfg_size1 != 0) && (cfg_size1 <= MAX_S1)
                && (cfg_layers < 2'd2 || ((cfg_size2 != 0) && (cfg_size2 <= MAX_S2)))
                && (cfg_layers < 2'd3 || ((cfg_size3 != 0) && (cfg_size3 <= MAX_S3)))
                && ((cfg_layers == 2'd1 ? cfg_size1 : cfg_layers == 2'd2 ? cfg_size2 : cfg_size3) <= MAX_OUT);
    assign configured = (st_q == ST_READY) || (st_q == ST_RUN);
    assign busy       = (st_q == ST_RUN) || (st_q == ST_RECIP);

    wire        recip_done, recip_dz;
    wire [31:0] recip_val;
    int_recip #(.M_W(M_W)) u_recip (
        .clk(clk), .rst(rst), .start(st_q == ST_RECIP), .m(batch_q),
        .done(recip_done), .recip(recip_val), .div_zero(recip_dz));
    wire unused_dz = recip_dz;   // m = 0 is refused at configuration

    // ---------------------------------------------------------------- per-layer constants
    function [IW-1:0] f_wbase(input [1:0] l);
        f_wbase = (l == 2'd0) ? {IW{1'b0}} : (l == 2'd1) ? WB1[IW-1:0] : WB2[IW-1:0];
    endfunction
    function [IW-1:0] f_cw(input [1:0] l);
        f_cw = (l == 2'd0) ? CW0[IW-1:0] : (l == 2'd1) ? CW1[IW-1:0] : CW2[IW-1:0];
    endfunction
    function [IW-1:0] f_abase(input [1:0] l);
        f_abase = (l == 2'd0) ? {IW{1'b0}} : (l == 2'd1) ? AB1[IW-1:0] : (l == 2'd2) ? AB2[IW-1:0] : AB3[IW-1:0];
    endfunction
    function [IW-1:0] f_dbase(input [1:0] l);
        f_dbase = (l == 2'd2) ? DB2[IW-1:0] : (l == 2'd3) ? DB3[IW-1:0] : {IW{1'b0}};
    endfunction
    function [IW-1:0] f_ext(input [SZ_W-1:0] v);
        f_ext = {{(IW-SZ_W){1'b0}}, v};
    endfunction
    function [IW-1:0] f_extp(input [PW-1:0] v);
        f_extp = {{(IW-PW){1'b0}}, v};
    endfunction

    // ---------------------------------------------------------------- sequencer state
    localparam [2:0] K_FP = 3'd0, K_BP = 3'd1, K_DACC = 3'd2, K_DSCALE = 3'd3, K_GD = 3'd4;
    localparam [3:0] LREG4 = LREG[3:0], LMEM4 = LMEM[3:0];
    localparam [3:0] SP_PRO = 4'd0, SP_PRO2 = 4'd1, SP_PRO3 = 4'd2, SP_BODY = 4'd3, SP_FOLD = 4'd4,
                     SP_SIG1 = 4'd5, SP_SIG2 = 4'd6, SP_ODELTA = 4'd7, SP_EA = 4'd8, SP_HDELTA = 4'd9,
                     SP_WAIT = 4'd10, SP_LAYER = 4'd12, SP_GEN = 4'd13;
    reg [2:0]      kind_q;
    reg [1:0]      l_q;
    reg [IW-1:0]   g_q;          // group: items g*P .. g*P+P-1
    reg [3:0]      step_q, after_wait_q;
    reg [3:0]      wait_q;
    reg [IW-1:0]   j_q, jdiv_q;  // body index (j, or i in backprop), j / P
    reg [PW-1:0]   jmod_q;       // j % P
    reg [1:0]      fold_q;
    reg [4:0]      ustep_q;      // ALU sigmoid microcode step
    wire [9:0]     u_ctrl;
    wire [31:0]    u_k1, u_k2;
    localparam     SIG_FIRST = (SIGMOID == 0) ? 5 : 13;   // SP_SIG1 or SP_GEN
    localparam [3:0] SP_SIGMOID = SIG_FIRST[3:0];
    reg [IW-1:0]   rowoff_q;     // g * P * CW[l]
    reg [IW-1:0]   ioff_q;       // i * CW[l] (backprop)

    // per-pass bounds, set by start_pass (not decoded from kind_q and l_q each clock)
    reg [IW-1:0]   items_q;      // neurons of the pass
    reg [IW-1:0]   blen_m1_q;    // body length - 1
    reg [IW-1:0]   nbase_q;      // (g + 1) * P: first item of the next group
    reg [IW-1:0]   rowstep_q;    // P * CW[l]
    wire [1:0]      last_l   = layers_q - 2'd1;
    wire            body_end = (j_q == blen_m1_q);
    wire            more_groups = (nbase_q < items_q);

    // ---------------------------------------------------------------- issue
    reg        iss_valid, iss_first;
    reg [3:0]  iss_op;
    reg [1:0]  iss_idx;
    always @* begin
        iss_valid = 1'b0; iss_op = OP_NOP; iss_idx = 2'd0; iss_first = 1'b0;
        if (st_q == ST_RUN) begin
            case (step_q)
                SP_PRO:    begin iss_valid = 1'b1; iss_op = (kind_q == K_BP) ? OP_LOADA : (kind_q == K_DACC) ? OP_LOADD : OP_CLR; end
                SP_PRO2:   begin iss_valid = 1'b1; iss_op = OP_CLR; end
                SP_PRO3:   begin iss_valid = 1'b1; iss_op = OP_ONEMA; end
                SP_BODY: begin
                    iss_valid = 1'b1;
                    case (kind_q)
                        K_FP, K_BP: begin iss_op = OP_MAC; iss_first = (j_q < R); end
                        K_DACC:     begin iss_op = OP_DACC; iss_first = (sample_q == {M_W{1'b0}}); end
                        K_DSCALE:   iss_op = OP_DSCALE;
                        default:    iss_op = OP_GD;
                    endcase
                end
                SP_FOLD:   begin iss_valid = 1'b1; iss_op = OP_FOLD; iss_idx = fold_q; end
                SP_SIG1:   begin iss_valid = 1'b1; iss_op = OP_SIG1; end
                SP_SIG2:   begin iss_valid = 1'b1; iss_op = OP_SIG2; end
                SP_ODELTA: begin iss_valid = 1'b1; iss_op = OP_ODELTA; end
                SP_EA:     begin iss_valid = 1'b1; iss_op = OP_EA; end
                SP_HDELTA: begin iss_valid = 1'b1; iss_op = OP_HDELTA; end
                SP_GEN:    begin iss_valid = 1'b1; iss_op = OP_GEN; end
                default: ;
            endcase
        end
    end
    wire body_issue = (st_q == ST_RUN) && (step_q == SP_BODY);
    wire bp_body    = body_issue && (kind_q == K_BP);
    // weight / gradient banks are read row-wise except in backprop
    wire [PW-1:0] rot_row = jmod_q;
    wire [PW-1:0] rot_col = (jmod_q == P_M1) ? {PW{1'b0}} : jmod_q + 1'b1;   // (i + 1) % P
    wire [PW-1:0] iss_rot = bp_body ? rot_col : rot_row;

    // ---------------------------------------------------------------- ALU sigmoid microcode
    localparam [4:0] U_LAST = 5'd22;
    generate
        if (SIGMOID != 0) begin : gen_alu_ucode
            sigmoid_alu_ucode u_ucode (.step(ustep_q), .ctrl(u_ctrl), .const1(u_k1), .const2(u_k2));
        end else begin : gen_no_ucode
            assign u_ctrl = 10'd0;
            assign u_k1   = 32'd0;
            assign u_k2   = 32'd0;
        end
    endgenerate

    // ---------------------------------------------------------------- bank and lane outputs
    wire [31:0] w_rd [0:P-1];
    wire [31:0] gr_rd [0:P-1];
    wire [31:0] a_rd [0:P-1];
    wire [31:0] d_rd [0:P-1];
    wire [31:0] lane_res [0:P-1];
    wire [4:0]  lane_status [0:P-1];
    wire        lane_wb_valid [0:P-1];
    wire [3:0]  lane_wb_op [0:P-1];

    // ---------------------------------------------------------------- sample loading
    // Two sample buffers (inputs in the activation banks, targets in
    // registers): the loader fills ld_buf_q while the engine computes on
    // cur_buf_q; s_ready drops while the buffer to fill still holds a sample.
    reg [IW-1:0]   ld_cnt_q;        // words of the current sample so far
    reg [PW-1:0]   ld_jmod_q;
    reg [IW-1:0]   ld_jdiv_q;
    reg            ld_bad_q;
    reg            ld_buf_q;        // buffer being filled
    reg            cur_buf_q;       // buffer of the sample computed (or next to be)
    reg [1:0]      full_q, full_d;  // buffer holds a whole sample not yet finished
    reg [31:0]     target_q [0:2*MAX_OUT-1];
    // the first input word is column 1 (column 0 is the bias)
    localparam [PW-1:0]   LD_JMOD0 = (P == 1) ? 0 : 1;
    localparam [IW-1:0]   LD_JDIV0 = (P == 1) ? 1 : 0;
    localparam [IW-1:0]   AX1_I = AX1[IW-1:0], MAX_OUT_I = MAX_OUT[IW-1:0];
    localparam [TW:0]     MAX_OUT_T = MAX_OUT[TW:0];   // targets of buffer 1 start here
    wire [IW-1:0]  sz_out    = sz_q[layers_q];
    wire [IW-1:0]  frame_len = sz_q[0] + sz_out;
    // configuration and weight writes only when nothing is loaded or computing
    wire           idle_ok   = (st_q == ST_READY) && (ld_cnt_q == 0) && (full_q == 2'b00);
    assign cfg_ready = (st_q == ST_UNCONF) || idle_ok;
    assign w_ready   = idle_ok;
    wire           w_valid_take = w_valid && idle_ok;
    // an activation write-back owns the activation banks' write port
    wire           sig_wb    = lane_wb_valid[0] && (lane_wb_op[0] == OP_SIG2);
    assign s_ready = (st_q == ST_READY || st_q == ST_RUN) && !full_q[ld_buf_q] && !sig_wb
                   && !w_valid_take && !(cfg_valid && idle_ok);
    wire           s_take   = s_valid && s_ready;
    wire           ld_input = s_take && (ld_cnt_q < sz_q[0]);
    wire           ld_final = s_take && s_last;
    wire [IW-1:0]  ld_tidx  = ld_cnt_q - sz_q[0];
    wire [TW:0]    ld_tslot = (ld_buf_q ? MAX_OUT_T : {(TW+1){1'b0}}) + {1'b0, ld_tidx[TW-1:0]};
    wire           ld_good  = ld_final && !ld_bad_q && (ld_cnt_q == frame_len - 1'b1);
    wire [IW-1:0]  ld_base  = ld_buf_q ? AX1_I : {IW{1'b0}};
    wire [IW-1:0]  cur_base = cur_buf_q ? AX1_I : {IW{1'b0}};
    // the engine finishes its sample: the last pass has drained
    wire           pass_done = (st_q == ST_RUN) && (step_q == SP_WAIT) && (wait_q == 4'd0)
                             && (after_wait_q == SP_LAYER) && (l_q == last_l);
    wire           fin = pass_done && ((kind_q == K_FP && !train_q)
                                    || (kind_q == K_DACC && sample_q + 1'b1 != batch_q)
                                    || (kind_q == K_GD));
    always @* begin
        full_d = full_q;
        if (ld_good) full_d[ld_buf_q] = 1'b1;
        if (fin)     full_d[cur_buf_q] = 1'b0;
    end

    // ---------------------------------------------------------------- operand stage registers
    reg            r_valid_q, r_first_q, r_bias_q;
    reg [3:0]      r_op_q;
    reg [1:0]      r_idx_q;
    reg [PW-1:0]   r_bsel_q;
    reg            r_bcast_delta_q;
    reg [9:0]      r_gen_q;
    reg [31:0]     r_k1_q, r_k2_q;

    // write-back descriptor, PIPE + 1 clocks behind the issue
    localparam DESC_W = 2 + IW + PW + IW + IW;
    reg [DESC_W-1:0] desc_q [0:PIPE];

    // ---------------------------------------------------------------- banks

    // The write-back addresses and bounds are computed from the descriptor one
    // clock before the write-back and registered (wb*_q): the write ports see
    // flops, not the address arithmetic.
    wire [DESC_W-1:0] pdesc = desc_q[PIPE-1];
    wire [1:0]      pb_l      = pdesc[DESC_W-1 -: 2];
    wire [IW-1:0]   pb_g      = pdesc[DESC_W-3 -: IW];
    wire [PW-1:0]   pb_jmod   = pdesc[DESC_W-3-IW -: PW];
    wire [IW-1:0]   pb_jdiv   = pdesc[DESC_W-3-IW-PW -: IW];
    wire [IW-1:0]   pb_rowoff = pdesc[IW-1:0];
    wire [IW-1:0]   pb_sz_l   = sz_q[pb_l];
    wire [IW-1:0]   pb_sz_l1  = sz_q[pb_l + 2'd1];
    wire [IW-1:0]   pb_base   = pb_g * P_I;
    wire            wb_valid  = lane_wb_valid[0];
    wire [3:0]      wb_op     = lane_wb_op[0];
    reg  [IW-1:0]   wb_aaddr_q, wb_daddr_o_q, wb_daddr_h_q;   // activation, delta (ODELTA, HDELTA) rows
    always @(posedge clk) begin
        wb_aaddr_q   <= f_abase(pb_l + 2'd1) + pb_g;
        wb_daddr_o_q <= f_dbase(pb_l + 2'd1) + pb_g;
        wb_daddr_h_q <= f_dbase(pb_l) + pb_g;
    end

    // host weight write: the port registered (w*_q), then its location: bank
    // number, row and column part (hw*_q), then a write enable per bank and the
    // address (the modulo by P and the bank compare in separate clocks: they
    // were the engine's longest path); the write lands three clocks after it is
    // taken, before any sample can be loaded and read (a write during rst is
    // ignored)
    reg             wtake_q;
    reg  [1:0]      wlayer_q;
    reg  [SZ_W-1:0] wrow_q, wcol_q;
    reg  [31:0]     wdata_q;
    always @(posedge clk) begin
        wtake_q  <= w_valid_take && !rst;
        wlayer_q <= w_layer;
        wrow_q   <= w_row;
        wcol_q   <= w_col;
        wdata_q  <= w_data;
    end
    // the bank (row + col) % P on SZ_W + 1 bits, not the address width
    localparam [SZ_W:0] P_S = P[SZ_W:0];
    wire [SZ_W:0]   hw_sum  = {1'b0, wrow_q} + {1'b0, wcol_q};
    wire [SZ_W:0]   hw_mod  = hw_sum % P_S;
    reg             hw_take_q;
    reg  [PW-1:0]   hw_bank_q;
    reg  [IW-1:0]   hw_row_q, hw_col_q, hw_addr_q;
    reg  [31:0]     hw_data_q, hw_wdata_q;
    always @(posedge clk) begin
        hw_take_q  <= wtake_q && !rst;
        hw_bank_q  <= hw_mod[PW-1:0];
        hw_row_q   <= f_wbase(wlayer_q) + f_ext(wrow_q) * f_cw(wlayer_q);
        hw_col_q   <= f_ext(wcol_q) / P_I;
        hw_data_q  <= wdata_q;
        hw_addr_q  <= hw_row_q + hw_col_q;
        hw_wdata_q <= hw_data_q;
    end

    // The bank crossbars: lane u reads weights and gradients from bank
    // (u + iss_rot) % P, bank b writes back lane (b - pb_jmod) % P. Each is a
    // rotation of all P words by one amount (a register copy per lane / bank).
    wire [P*PW-1:0] rd_rot, wb_rot_v;
    wire [P*64-1:0] wg_in, wg_rot;
    wire [P*32-1:0] lane_res_v, wb_res_v;
    wire [PW-1:0]   wb_rot = (pb_jmod == {PW{1'b0}}) ? {PW{1'b0}} : P[PW-1:0] - pb_jmod;
    rot_mod #(.N(P), .W(64), .AW(PW)) u_rd_xbar (.in(wg_in), .amt(rd_rot), .out(wg_rot));
    rot_mod #(.N(P), .W(32), .AW(PW)) u_wb_xbar (.in(lane_res_v), .amt(wb_rot_v), .out(wb_res_v));

    genvar b;
    generate
        for (b = 0; b < P; b = b + 1) begin : gen_bank
            // lane served by this bank: row-wise u = (b - rot) % P
            localparam [PW-1:0] BI = b;
            wire [PW-1:0] u_iss = (BI >= iss_rot) ? BI - iss_rot : BI + P[PW-1:0] - iss_rot;
            // row-wise reads rotate by jmod_q: row_addr needs no decode of the pass kind
            wire [PW-1:0] u_row = (BI >= rot_row) ? BI - rot_row : BI + P[PW-1:0] - rot_row;
            wire [PW-1:0] pu_wb = (BI >= pb_jmod) ? BI - pb_jmod : BI + P[PW-1:0] - pb_jmod;
            wire [PW-1:0] u_act = (b == 0) ? P[PW-1:0] - 1'b1 : BI - 1'b1;   // lane whose activation sits here
            wire           u_last   = (u_iss == P_M1);
            wire [IW-1:0]  row_addr = f_wbase(l_q) + rowoff_q + f_extp(u_row) * f_cw(l_q) + jdiv_q;
            wire [IW-1:0]  col_addr = f_wbase(l_q) + ioff_q + g_q + {{(IW-1){1'b0}}, u_last};
            // write-back of this bank, one clock ahead: lane, address, bounds
            reg [PW-1:0]   wb_rot_q;
            reg [IW-1:0]   wb_addr_q;
            reg            wb_row_ok_q, wb_act_ok_q, wb_dok_o_q, wb_dok_h_q;
            // this bank's copy of the write-back rotation (bank b takes lane (b - pb_jmod) % P)
            (* keep *) always @(posedge clk) wb_rot_q <= wb_rot;
            assign wb_rot_v[b*PW +: PW] = wb_rot_q;
            wire [31:0]    wb_res = wb_res_v[b*32 +: 32];
            assign wg_in[b*64 +: 64] = {gr_rd[b], w_rd[b]};
            always @(posedge clk) begin
                wb_addr_q   <= f_wbase(pb_l) + pb_rowoff + f_extp(pu_wb) * f_cw(pb_l) + pb_jdiv;
                wb_row_ok_q <= (pb_base + f_extp(pu_wb)) < pb_sz_l1;
                wb_act_ok_q <= (pb_base + f_extp(u_act)) < pb_sz_l1;
                wb_dok_o_q  <= (pb_base + f_extp(BI)) < pb_sz_l1;
                wb_dok_h_q  <= (pb_base + f_extp(BI)) < pb_sz_l;
            end

            // weights
            reg           hw_we_q;
            always @(posedge clk) hw_we_q <= hw_take_q && !rst && (hw_bank_q == BI);
            wire          w_we    = hw_we_q || (wb_valid && wb_op == OP_GD && wb_row_ok_q);
            wire [IW-1:0] w_wa   = hw_we_q ? hw_addr_q : wb_addr_q;
            wire [31:0]   w_wd    = hw_we_q ? hw_wdata_q : wb_res;
            ram_1r1w #(.WIDTH(32), .DEPTH(W_DEPTH), .AW(WAW)) u_wram (
                .clk(clk), .wr_en(w_we), .wr_addr(w_wa[WAW-1:0]), .wr_data(w_wd),
                .rd_en(body_issue), .rd_addr(bp_body ? col_addr[WAW-1:0] : row_addr[WAW-1:0]), .rd_data(w_rd[b]));

            // gradients (Delta, then D)
            wire          g_we = wb_valid && (wb_op == OP_DACC || wb_op == OP_DSCALE) && wb_row_ok_q;
            ram_1r1w #(.WIDTH(32), .DEPTH(W_DEPTH), .AW(WAW)) u_gram (
                .clk(clk), .wr_en(g_we), .wr_addr(wb_addr_q[WAW-1:0]), .wr_data(wb_res),
                .rd_en(body_issue), .rd_addr(row_addr[WAW-1:0]), .rd_data(gr_rd[b]));

            // activations: a[l][j] in bank j % P
            wire          a_we_ld  = ld_input && (ld_jmod_q == BI);
            localparam [IW-1:0] B0 = (b == 0) ? 1 : 0;   // activation j = g*P + P sits one row down
            wire          a_we_sig = wb_valid && (wb_op == OP_SIG2) && wb_act_ok_q;
            wire [IW-1:0] a_wa     = a_we_ld ? ld_base + ld_jdiv_q : wb_aaddr_q + B0;
            wire [IW-1:0] a_ra     = (step_q == SP_PRO && kind_q == K_BP) ? f_abase(l_q) + g_q + B0
                                   : ((l_q == 2'd0) ? cur_base : f_abase(l_q)) + jdiv_q;
            ram_1r1w #(.WIDTH(32), .DEPTH(A_DEPTH_X), .AW(AAW)) u_aram (
                .clk(clk), .wr_en(a_we_ld || a_we_sig), .wr_addr(a_wa[AAW-1:0]),
                .wr_data(a_we_ld ? s_data : lane_res[u_act]),
                .rd_en(st_q == ST_RUN), .rd_addr(a_ra[AAW-1:0]), .rd_data(a_rd[b]));

            // deltas: delta[l][i] in bank i % P
            wire          d_we   = wb_valid && (((wb_op == OP_ODELTA) && wb_dok_o_q)
                                             || ((wb_op == OP_HDELTA) && wb_dok_h_q));
            wire [IW-1:0] d_wa   = (wb_op == OP_ODELTA) ? wb_daddr_o_q : wb_daddr_h_q;
            wire [IW-1:0] d_ra   = (step_q == SP_PRO && kind_q == K_DACC) ? f_dbase(l_q + 2'd1) + g_q
                                 : f_dbase(l_q + 2'd1) + jdiv_q;
            ram_1r1w #(.WIDTH(32), .DEPTH(D_DEPTH), .AW(DAW)) u_dram (
                .clk(clk), .wr_en(d_we), .wr_addr(d_wa[DAW-1:0]), .wr_data(lane_res[b]),
                .rd_en(st_q == ST_RUN), .rd_addr(d_ra[DAW-1:0]), .rd_data(d_rd[b]));
        end
    endgenerate

    // ---------------------------------------------------------------- lanes
    wire [31:0] bcast = r_bcast_delta_q ? d_rd[r_bsel_q] : (r_bias_q ? ONE : a_rd[r_bsel_q]);
    wire [31:0] scale = (r_op_q == OP_GD) ? {~alpha_q[31], alpha_q[30:0]} : inv_m_q;
    genvar u;
    generate
        for (u = 0; u < P; u = u + 1) begin : gen_lane
            localparam [PW-1:0] UI = u;
            // this lane's copy of the read rotation (lane u reads bank (u + iss_rot) % P)
            reg [PW-1:0] rd_rot_q;
            (* keep *) always @(posedge clk) rd_rot_q <= iss_rot;
            assign rd_rot[u*PW +: PW] = rd_rot_q;
            assign lane_res_v[u*32 +: 32] = lane_res[u];
            wire [PW-1:0] abank = (u == P - 1) ? {PW{1'b0}} : UI + 1'b1;
            // this lane's target (output delta), selected a clock ahead, beside the operand stage
            wire [IW-1:0] tidx  = g_q * P_I + f_extp(UI);
            wire [TW:0]   tslot = (cur_buf_q ? MAX_OUT_T : {(TW+1){1'b0}}) + {1'b0, tidx[TW-1:0]};
            reg  [31:0]   tgt_q;
            always @(posedge clk) tgt_q <= (tidx < MAX_OUT_I) ? target_q[tslot] : 32'd0;
            mlp_lane #(.MUL_LAT(MUL_LAT), .ADD_LAT(ADD_LAT), .IN_REG(IN_REG), .OP_REG(OP_REG), .IDX_W(2),
                       .SIGMOID(SIGMOID)) u_lane (
                .clk(clk), .rst(rst),
                .r_valid(r_valid_q), .r_op(r_op_q), .r_idx(r_idx_q), .r_first(r_first_q),
                .r_bcast(bcast), .r_wdata(wg_rot[u*64 +: 32]), .r_gdata(wg_rot[u*64+32 +: 32]),
                .r_adata(a_rd[abank]), .r_ddata(d_rd[u]), .r_target(tgt_q), .r_scale(scale),
                .r_gen(r_gen_q), .r_k1(r_k1_q), .r_k2(r_k2_q),
                .wb_valid(lane_wb_valid[u]), .wb_op(lane_wb_op[u]),
                .wb_result(lane_res[u]), .wb_status(lane_status[u]));
        end
    endgenerate

    // ---------------------------------------------------------------- control
    integer k;
    reg [4:0] flags_or;
    always @* begin
        flags_or = 5'd0;
        for (k = 0; k < P; k = k + 1)
            if (lane_wb_valid[k] && (lane_wb_op[k] != OP_NOP)) flags_or = flags_or | lane_status[k];
    end

    // start of a pass (kind, layer)
    task start_pass(input [2:0] kind, input [1:0] l);
        begin
            kind_q   <= kind;
            l_q      <= l;
            g_q      <= {IW{1'b0}};
            j_q      <= {IW{1'b0}};
            jdiv_q   <= {IW{1'b0}};
            jmod_q   <= {PW{1'b0}};
            rowoff_q <= {IW{1'b0}};
            ioff_q   <= {IW{1'b0}};
            step_q   <= (kind == K_DSCALE || kind == K_GD) ? SP_BODY : SP_PRO;
            items_q   <= (kind == K_BP) ? sz_q[l] : sz_q[l + 2'd1];
            blen_m1_q <= (kind == K_BP) ? sz_q[l + 2'd1] - 1'b1 : sz_q[l];
            nbase_q   <= P_I;
            rowstep_q <= f_cw(l) * P_I;
        end
    endtask

    // the step `next` issues `cycles` clocks after the current one (cycles >= 2)
    task wait_then(input [3:0] cycles, input [3:0] next);
        begin
            wait_q       <= cycles - 4'd2;
            after_wait_q <= next;
            step_q       <= SP_WAIT;
        end
    endtask

    // after the last operation of a group: the next group, or drain and the next pass
    task advance;
        begin
            if (more_groups) begin
                g_q      <= g_q + 1'b1;
                j_q      <= {IW{1'b0}};
                jdiv_q   <= {IW{1'b0}};
                jmod_q   <= {PW{1'b0}};
                ioff_q   <= {IW{1'b0}};
                rowoff_q <= rowoff_q + rowstep_q;
                nbase_q  <= nbase_q + P_I;
                step_q   <= (kind_q == K_DSCALE || kind_q == K_GD) ? SP_BODY : SP_PRO;
            end else begin
                wait_then(LMEM4, SP_LAYER);
            end
        end
    endtask

    // the sample is done (fin is high): straight on to the other buffer's sample if loaded
    task finish_sample;
        begin
            sample_done <= 1'b1;
            cur_buf_q   <= ~cur_buf_q;
            if (full_q[~cur_buf_q]) start_pass(K_FP, 2'd0);
            else st_q <= ST_READY;
        end
    endtask

    // the pass that follows (kind_q, l_q), once its writes have landed
    task next_pass;
        begin
            case (kind_q)
                K_FP:     if (l_q != last_l) start_pass(K_FP, l_q + 2'd1);
                          else if (!train_q) finish_sample;
                          else if (layers_q > 2'd1) start_pass(K_BP, last_l);
                          else start_pass(K_DACC, 2'd0);
                K_BP:     if (l_q > 2'd1) start_pass(K_BP, l_q - 2'd1);
                          else start_pass(K_DACC, 2'd0);
                K_DACC:   if (l_q != last_l) start_pass(K_DACC, l_q + 2'd1);
                          else if (sample_q + 1'b1 == batch_q) begin
                              if (batch_q == 1) start_pass(K_GD, 2'd0);
                              else start_pass(K_DSCALE, 2'd0);
                          end else begin
                              sample_q    <= sample_q + 1'b1;
                              finish_sample;
                          end
                K_DSCALE: if (l_q != last_l) start_pass(K_DSCALE, l_q + 2'd1);
                          else start_pass(K_GD, 2'd0);
                default:  if (l_q != last_l) start_pass(K_GD, l_q + 2'd1);
                          else begin
                              sample_q    <= {M_W{1'b0}};
                              batch_done  <= 1'b1;
                              finish_sample;
                          end
            endcase
        end
    endtask

    always @(posedge clk) begin
        sample_done <= 1'b0;
        batch_done  <= 1'b0;
        // operand stage and write-back descriptor
        r_valid_q       <= iss_valid;
        r_op_q          <= iss_op;
        r_idx_q         <= iss_idx;
        r_first_q       <= iss_first;
        r_bsel_q        <= jmod_q;
        r_bias_q        <= (kind_q != K_BP) && (j_q == {IW{1'b0}});
        r_bcast_delta_q <= (kind_q == K_BP);
        r_gen_q         <= u_ctrl;
        r_k1_q          <= u_k1;
        r_k2_q          <= u_k2;
        desc_q[0]       <= {l_q, g_q, jmod_q, jdiv_q, rowoff_q};
        for (k = 1; k <= PIPE; k = k + 1) desc_q[k] <= desc_q[k-1];
        if (st_q != ST_UNCONF) fp_flags <= fp_flags | flags_or;

        if (rst) begin
            st_q       <= ST_UNCONF;
            err_config <= 1'b0;
            err_frame  <= 1'b0;
            fp_flags   <= 5'd0;
            ld_cnt_q   <= {IW{1'b0}};
            ld_bad_q   <= 1'b0;
            ld_jmod_q  <= LD_JMOD0;
            ld_jdiv_q  <= LD_JDIV0;
            ld_buf_q   <= 1'b0;
            cur_buf_q  <= 1'b0;
            full_q     <= 2'b00;
            r_valid_q  <= 1'b0;
            layers_q   <= 2'd1;
            sample_q   <= {M_W{1'b0}};
        end else begin
            full_q <= full_d;
            // loader: s_ready is only high while configured, never with a configuration
            if (s_take) begin
                if (ld_input) begin
                    ld_jmod_q <= (ld_jmod_q == P_M1) ? {PW{1'b0}} : ld_jmod_q + 1'b1;
                    if (ld_jmod_q == P_M1) ld_jdiv_q <= ld_jdiv_q + 1'b1;
                end else if (ld_cnt_q < frame_len) begin
                    target_q[ld_tslot] <= s_data;
                end
                if (ld_cnt_q >= frame_len - 1'b1 && !s_last) ld_bad_q <= 1'b1;
                ld_cnt_q <= ld_cnt_q + 1'b1;
                if (ld_final) begin
                    ld_cnt_q  <= {IW{1'b0}};
                    ld_bad_q  <= 1'b0;
                    ld_jmod_q <= LD_JMOD0;
                    ld_jdiv_q <= LD_JDIV0;
                    if (ld_good) ld_buf_q  <= ~ld_buf_q;
                    else         err_frame <= 1'b1;
                end
            end
            if (cfg_valid && cfg_ready) begin
                err_config <= !cfg_ok;
                err_frame  <= 1'b0;
                fp_flags   <= 5'd0;
                sample_q   <= {M_W{1'b0}};
                if (cfg_ok) begin
                    layers_q <= cfg_layers;
                    sz_q[0] <= f_ext(cfg_size0); sz_q[1] <= f_ext(cfg_size1);
                    sz_q[2] <= f_ext(cfg_size2); sz_q[3] <= f_ext(cfg_size3);
                    batch_q <= cfg_batch;
                    alpha_q <= cfg_alpha;
                    train_q <= cfg_train;
                    st_q    <= ST_RECIP;
                end else begin
                    st_q    <= ST_UNCONF;
                end
            end else begin
                case (st_q)
                    ST_RECIP: if (recip_done) begin
                        inv_m_q <= recip_val;
                        st_q    <= ST_READY;
                    end
                    ST_READY: if (full_q[cur_buf_q]) begin
                        st_q <= ST_RUN;
                        start_pass(K_FP, 2'd0);
                    end
                    ST_RUN: begin
                        case (step_q)
                            SP_PRO:  step_q <= (kind_q == K_BP) ? SP_PRO2 : SP_BODY;
                            SP_PRO2: step_q <= SP_PRO3;
                            SP_PRO3: step_q <= SP_BODY;
                            SP_BODY: begin
                                j_q    <= j_q + 1'b1;
                                jmod_q <= (jmod_q == P_M1) ? {PW{1'b0}} : jmod_q + 1'b1;
                                if (jmod_q == P_M1) jdiv_q <= jdiv_q + 1'b1;
                                ioff_q <= ioff_q + f_cw(l_q);
                                if (body_end) begin
                                    fold_q <= 2'd1;
                                    if (kind_q == K_FP || kind_q == K_BP)
                                        wait_then(LREG4, (R > 1) ? SP_FOLD : (kind_q == K_FP) ? SP_SIGMOID : SP_EA);
                                    else
                                        advance;
                                end
                            end
                            SP_FOLD: begin
                                fold_q <= fold_q + 1'b1;
                                wait_then(LREG4, (fold_q == R - 1) ? ((kind_q == K_FP) ? SP_SIGMOID : SP_EA) : SP_FOLD);
                                ustep_q <= 5'd0;
                            end
                            SP_SIG1:   wait_then(LREG4, SP_SIG2);
                            SP_SIG2:   if (l_q == last_l) wait_then(LREG4, SP_ODELTA); else advance;
                            SP_ODELTA: advance;
                            SP_GEN: begin
                                ustep_q <= ustep_q + 1'b1;
                                if (ustep_q != U_LAST)  wait_then(LREG4, SP_GEN);
                                else if (l_q == last_l) wait_then(LREG4, SP_ODELTA);
                                else                    advance;
                            end
                            SP_EA:     wait_then(LREG4, SP_HDELTA);
                            SP_HDELTA: advance;
                            SP_WAIT:   if (wait_q != 4'd0) wait_q <= wait_q - 1'b1;
                                       else if (after_wait_q == SP_LAYER) next_pass;
                                       else step_q <= after_wait_q;
                            default: ;
                        endcase
                    end
                    default: ;
                endcase
            end
        end
    end

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    // The ports here are all inputs with a ready: the checks are on the
    // readies and on the two sample buffers they guard.
    always @(posedge clk) begin
        if (!rst) begin
            assert (!$isunknown({cfg_ready, w_ready, s_ready})) else $error("%m: cfg_ready, w_ready or s_ready is X or Z after reset");
            assert (!s_ready || configured) else $error("%m: s_ready while not configured");
            assert (!(s_ready && cfg_valid && cfg_ready)) else $error("%m: s_ready with a configuration taken");
            assert (!(w_ready && s_ready && w_valid)) else $error("%m: s_ready with a weight write taken");
            assert (!full_q[ld_buf_q] || (ld_cnt_q == {IW{1'b0}} && !s_ready))
                else $error("%m: loading into sample buffer %0d, which holds a sample", ld_buf_q);
            assert (st_q != ST_RUN || full_q[cur_buf_q]) else $error("%m: running on sample buffer %0d, which is empty", cur_buf_q);
            assert (!batch_done || sample_done) else $error("%m: batch_done without sample_done");
        end
    end
`endif
endmodule
`default_nettype wire
