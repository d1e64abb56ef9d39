`default_nettype none
// One neuron lane of the MLP trainer: an FP32 multiplier followed by an FP32
// adder (out = A * B + C, two roundings), the operand multiplexers of every
// operation the forward, backprop and gradient-descent units need, and a few
// lane registers. All lanes execute the same operation each clock (issued by
// mlp_net); the adder output fed back into C keeps ADD_LAT interleaved
// partial sums in flight during a multiply-accumulate. IN_REG and OP_REG add
// pipeline registers (lane inputs; operand muxes -> multiplier) for clock
// rate: results do not change, only the latency (see mlp_net).
module mlp_lane #(
    parameter MUL_LAT = 2,   // fp_mul register stages (1..5)
    parameter ADD_LAT = 2,   // fp_add register stages (1..4) = interleaved partial sums
    parameter IN_REG  = 0,   // 1: register every r_* input (the engine's operand path)
    parameter OP_REG  = 0,   // 1: register the selected operands before the multiplier
    parameter IDX_W   = 2,   // width of the fold index
    parameter SIGMOID = 0    // 0: piecewise-linear LUT, 1: ALU (microcoded OP_GEN steps)
) (
    input  wire             clk,
    input  wire             rst,
    // operand stage: the operation issued one clock earlier, with its RAM words
    input  wire             r_valid,
    input  wire [3:0]       r_op,
    input  wire [IDX_W-1:0] r_idx,      // FOLD: which partial sum
    input  wire             r_first,    // MAC: start from +0; DACC: first sample of the batch
    input  wire [31:0]      r_bcast,    // broadcast activation or delta
    input  wire [31:0]      r_wdata,    // this lane's weight word
    input  wire [31:0]      r_gdata,    // this lane's gradient (Delta) word
    input  wire [31:0]      r_adata,    // this lane's activation (LOADA)
    input  wire [31:0]      r_ddata,    // this lane's delta (LOADD)
    input  wire [31:0]      r_target,   // this lane's target (ODELTA)
    input  wire [31:0]      r_scale,    // 1/m (DSCALE) or -alpha (GD)
    input  wire [9:0]       r_gen,      // OP_GEN: {a_sel[2:0], b_sel[2:0], c_sel, dest[1:0], seed}
    input  wire [31:0]      r_k1,       // OP_GEN constants
    input  wire [31:0]      r_k2,
    // write-back: the result of the operation issued IN_REG + OP_REG + MUL_LAT + ADD_LAT clocks earlier
    output wire             wb_valid,
    output wire [3:0]       wb_op,
    output wire [31:0]      wb_result,
    output wire [4:0]       wb_status
);
    `include "mlp_ops.vh"

    localparam R = ADD_LAT;
    localparam [31:0] ONE = 32'h3f800000, M_ONE = 32'hbf800000, P_ZERO = 32'h0, N_ZERO = 32'h80000000;
    localparam [31:0] EIGHT = 32'h41000000;

    initial begin
        if (MUL_LAT < 1 || MUL_LAT > 5) $fatal(1, "mlp_lane: MUL_LAT must be 1..5");
        if (ADD_LAT < 1 || ADD_LAT > 4) $fatal(1, "mlp_lane: ADD_LAT must be 1..4");
        if ((1 << IDX_W) < R) $fatal(1, "mlp_lane: IDX_W too small for ADD_LAT");
        if (IN_REG < 0 || IN_REG > 1 || OP_REG < 0 || OP_REG > 1) $fatal(1, "mlp_lane: IN_REG and OP_REG must be 0 or 1");
    end

    // ---------------------------------------------------------------- input register
    // Every lane input one clock later (a copy of the op per lane: no fan-out
    // from the engine's operand stage into the operand muxes). The data loads
    // every clock: a load enable would put r_valid on all of its flops.
    localparam IN_W = 4 + IDX_W + 1 + 7 * 32 + 10 + 2 * 32;
    wire [IN_W-1:0]  in_bus = {r_op, r_idx, r_first, r_bcast, r_wdata, r_gdata, r_adata, r_ddata, r_target,
                               r_scale, r_gen, r_k1, r_k2};
    wire             x_valid;
    wire [IN_W-1:0]  x_bus;
    generate
        if (IN_REG != 0) begin : gen_in_reg
            reg            in_valid_q;
            reg [IN_W-1:0] in_q;
            always @(posedge clk) begin
                in_valid_q <= r_valid & ~rst;
                in_q       <= in_bus;
            end
            assign x_valid = in_valid_q;
            assign x_bus   = in_q;
        end else begin : gen_in_wire
            assign x_valid = r_valid;
            assign x_bus   = in_bus;
        end
    endgenerate
    wire [3:0]       x_op;
    wire [IDX_W-1:0] x_idx;
    wire             x_first;
    wire [31:0]      x_bcast, x_wdata, x_gdata, x_adata, x_ddata, x_target, x_scale, x_k1, x_k2;
    wire [9:0]       x_gen;
    assign {x_op, x_idx, x_first, x_bcast, x_wdata, x_gdata, x_adata, x_ddata, x_target, x_scale,
            x_gen, x_k1, x_k2} = x_bus;

    // ---------------------------------------------------------------- lane registers
    reg  [31:0] ps_q [0:R-1];   // the last R MAC results (newest first), then the fold
    reg  [31:0] y_q;            // sigmoid before the symmetry step
    reg  [31:0] a_q;            // this lane's activation
    reg  [31:0] d_q;            // this lane's delta (Delta accumulation)
    reg  [31:0] t1_q;           // 1 - a

    // ---------------------------------------------------------------- sigmoid LUT
    // Segment k = floor(|s| * 8) from the exponent and top mantissa bits; 64 = saturate.
    wire [31:0] s      = ps_q[0];
    wire [7:0]  s_exp  = s[30:23];
    wire        s_nan  = (s_exp == 8'hff) && (s[22:0] != 23'd0);
    wire [5:0]  s_top  = {1'b1, s[22:18]};
    wire [2:0]  s_sh   = 3'd1 - s_exp[2:0];     // 2 - (exp - 127) for exp in 124..129
    wire [6:0]  seg    = (s_exp >= 8'd130) ? 7'd64
                       : (s_exp < 8'd124)  ? 7'd0
                       : {1'b0, s_top >> s_sh};
    wire [31:0] lut_a, lut_b;
    generate
        if (SIGMOID == 0) begin : gen_lut
            sigmoid_lut_rom u_rom (.seg(seg), .coef_a(lut_a), .coef_b(lut_b));
        end else begin : gen_no_lut
            assign lut_a = P_ZERO;
            assign lut_b = P_ZERO;
        end
    endgenerate
    wire [31:0] sig_arg = s_nan ? s : (seg == 7'd64) ? EIGHT : {1'b0, s[30:0]};
    wire        s_neg   = s[31];

    reg [31:0] ps_sel;
    integer    i;
    always @* begin
        ps_sel = P_ZERO;
        for (i = 0; i < R; i = i + 1)
            if (x_idx == i[IDX_W-1:0]) ps_sel = ps_q[i];
    end

    // ---------------------------------------------------------------- ALU sigmoid step operands
    localparam [31:0] SIXTEEN = 32'h41800000, RECIP_MAGIC = 32'h7ef311c3;
    wire [2:0]  g_a = x_gen[9:7], g_b = x_gen[6:4];
    wire        g_c = x_gen[3];
    wire [1:0]  g_dest = x_gen[2:1];
    wire        g_seed = x_gen[0];
    wire [31:0] s_abs   = {1'b0, s[30:0]};
    wire [31:0] s_clamp = s_nan ? s : (s_abs > SIXTEEN) ? SIXTEEN : s_abs;   // ordered as integers
    reg  [31:0] gen_a, gen_b;
    always @* begin
        case (g_a)
            3'd0:    gen_a = ps_q[0];
            3'd1:    gen_a = y_q;
            3'd2:    gen_a = t1_q;
            3'd3:    gen_a = a_q;
            3'd4:    gen_a = x_k1;
            3'd5:    gen_a = s_clamp;
            default: gen_a = {~y_q[31], y_q[30:0]};
        endcase
        case (g_b)
            3'd0:    gen_b = ps_q[0];
            3'd1:    gen_b = y_q;
            3'd2:    gen_b = t1_q;
            3'd3:    gen_b = a_q;
            3'd4:    gen_b = x_k1;
            default: gen_b = s_neg ? M_ONE : ONE;
        endcase
    end
    wire [31:0] gen_c = g_c ? (s_neg ? ONE : N_ZERO) : x_k2;

    // ---------------------------------------------------------------- operand select
    reg [31:0] op_a, op_b, op_c;
    reg        use_fb;
    always @* begin
        op_a = P_ZERO; op_b = ONE; op_c = N_ZERO; use_fb = 1'b0;
        case (x_op)
            OP_MAC:    begin op_a = x_bcast; op_b = x_wdata; op_c = P_ZERO; use_fb = ~x_first; end
            OP_FOLD:   begin op_a = ps_sel; op_b = ONE; op_c = ps_q[0]; end
            OP_SIG1:   begin op_a = sig_arg; op_b = lut_b; op_c = lut_a; end
            OP_SIG2:   begin op_a = y_q; op_b = s_neg ? M_ONE : ONE; op_c = s_neg ? ONE : N_ZERO; end
            OP_ODELTA: begin op_a = a_q; op_b = ONE; op_c = {~x_target[31], x_target[30:0]}; end
            OP_ONEMA:  begin op_a = a_q; op_b = M_ONE; op_c = ONE; end
            OP_EA:     begin op_a = ps_q[0]; op_b = a_q; op_c = N_ZERO; end
            OP_HDELTA: begin op_a = ps_q[0]; op_b = t1_q; op_c = N_ZERO; end
            OP_DACC:   begin op_a = x_bcast; op_b = d_q; op_c = x_first ? P_ZERO : x_gdata; end
            OP_DSCALE: begin op_a = x_gdata; op_b = x_scale; op_c = N_ZERO; end
            OP_GD:     begin op_a = x_gdata; op_b = x_scale; op_c = x_wdata; end
            OP_GEN:    begin op_a = gen_a; op_b = gen_b; op_c = gen_c; end
            default:   ;
        endcase
    end
    wire gen_direct = (x_op == OP_GEN) && g_seed;   // the reciprocal seed is an integer op
    wire arith = x_valid && (x_op != OP_NOP) && (x_op != OP_LOADA) && (x_op != OP_LOADD) && (x_op != OP_CLR)
                 && !gen_direct;
    // an OP_GEN step writing the activation travels as OP_SIG2 (mlp_net writes it to the bank)
    wire [3:0] op_issue = (x_op == OP_GEN && g_dest == 2'd3) ? OP_SIG2 : x_op;

    // ---------------------------------------------------------------- operand register
    localparam OPR_W = 3 * 32 + 1 + 4 + 2;
    wire        o_arith, o_fb;
    wire [31:0] o_a, o_b, o_c;
    wire [3:0]  o_op;
    wire [1:0]  o_dest;
    pipe_stage #(.WIDTH(OPR_W), .REGISTER(OP_REG)) u_op_reg (
        .clk(clk), .rst(rst), .en(1'b1), .in_valid(arith),
        .in_data({op_a, op_b, op_c, use_fb, op_issue, g_dest}),
        .out_valid(o_arith), .out_data({o_a, o_b, o_c, o_fb, o_op, o_dest}));

    // ---------------------------------------------------------------- multiply
    wire        mul_valid, mul_ready, add_ready;
    wire        unused_ready = &{1'b0, mul_ready, add_ready};   // always 1: m_ready is tied high
    wire [31:0] mul_res;
    wire [4:0]  mul_status;
    fp_mul #(.EXP_W(8), .MAN_W(23), .LATENCY(MUL_LAT)) u_mul (
        .clk(clk), .rst(rst), .s_valid(o_arith), .s_ready(mul_ready),
        .s_a(o_a), .s_b(o_b), .m_valid(mul_valid), .m_ready(1'b1),
        .m_result(mul_res), .m_status(mul_status));

    // C, the feedback choice and the op travel beside the multiplier. The
    // feedback choice is a mask, one flop per bit: fb & ~C[k], which is fb
    // because a MAC's C is +0. As distinct functions the flops are not merged,
    // so no single flop drives 32 loads (this flow does not buffer flop outputs).
    reg [31:0] c_pipe_q  [0:MUL_LAT-1];
    reg [31:0] fb_pipe_q [0:MUL_LAT-1];
    reg [3:0]  op_pipe_q [0:MUL_LAT+ADD_LAT-1];
    reg [1:0]  dest_pipe_q [0:MUL_LAT+ADD_LAT-1];
    integer k;
    always @(posedge clk) begin
        c_pipe_q[0]  <= o_c;
        fb_pipe_q[0] <= {32{o_fb}} & ~o_c;
        op_pipe_q[0] <= o_arith ? o_op : OP_NOP;
        dest_pipe_q[0] <= o_dest;
        for (k = 1; k < MUL_LAT; k = k + 1) begin
            c_pipe_q[k]  <= c_pipe_q[k-1];
            fb_pipe_q[k] <= fb_pipe_q[k-1];
        end
        for (k = 1; k < MUL_LAT + ADD_LAT; k = k + 1) begin
            op_pipe_q[k]   <= op_pipe_q[k-1];
            dest_pipe_q[k] <= dest_pipe_q[k-1];
        end
        if (rst) for (k = 0; k < MUL_LAT + ADD_LAT; k = k + 1) op_pipe_q[k] <= OP_NOP;
    end

    // ---------------------------------------------------------------- add
    wire        add_valid;
    wire [31:0] add_res;
    wire [4:0]  add_status;
    wire [31:0] add_b = (add_res & fb_pipe_q[MUL_LAT-1]) | c_pipe_q[MUL_LAT-1];
    fp_add #(.EXP_W(8), .MAN_W(23), .LATENCY(ADD_LAT)) u_add (
        .clk(clk), .rst(rst), .s_valid(mul_valid), .s_ready(add_ready),
        .s_a(mul_res), .s_b(add_b), .m_valid(add_valid), .m_ready(1'b1),
        .m_result(add_res), .m_status(add_status));

    // Status of the multiply travels with the op so the lane reports both.
    reg [4:0] mst_pipe_q [0:ADD_LAT-1];
    always @(posedge clk) begin
        mst_pipe_q[0] <= mul_status;
        for (k = 1; k < ADD_LAT; k = k + 1) mst_pipe_q[k] <= mst_pipe_q[k-1];
    end

    // ---------------------------------------------------------------- write-back
    wire [3:0] op_wb   = op_pipe_q[MUL_LAT+ADD_LAT-1];
    wire [1:0] dest_wb = dest_pipe_q[MUL_LAT+ADD_LAT-1];
    assign wb_valid  = add_valid;
    assign wb_op     = op_wb;
    assign wb_result = add_res;
    assign wb_status = add_status | mst_pipe_q[ADD_LAT-1];

    always @(posedge clk) begin
        if (x_valid && x_op == OP_CLR) begin
            for (k = 0; k < R; k = k + 1) ps_q[k] <= P_ZERO;
        end else if (add_valid) begin
            case (op_wb)
                OP_MAC: begin
                    for (k = R - 1; k > 0; k = k - 1) ps_q[k] <= ps_q[k-1];
                    ps_q[0] <= add_res;
                end
                OP_FOLD, OP_EA: ps_q[0] <= add_res;
                default: ;
            endcase
        end
        if (add_valid && op_wb == OP_SIG1) y_q <= add_res;
        if (add_valid && op_wb == OP_GEN && dest_wb == 2'd0) y_q <= add_res;
        if (x_valid && gen_direct) t1_q <= RECIP_MAGIC - y_q;
        else if (add_valid && op_wb == OP_GEN && dest_wb == 2'd1) t1_q <= add_res;
        else if (add_valid && op_wb == OP_ONEMA) t1_q <= add_res;
        if (x_valid && x_op == OP_LOADA) a_q <= x_adata;
        else if (add_valid && (op_wb == OP_SIG2 || (op_wb == OP_GEN && dest_wb == 2'd2))) a_q <= add_res;
        if (x_valid && x_op == OP_LOADD) d_q <= x_ddata;
    end
endmodule
`default_nettype wire
