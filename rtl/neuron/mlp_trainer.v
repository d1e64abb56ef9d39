`default_nettype none
// The MLP training engine fed from SDRAM through the training-vector memory
// (paper 000, III-C/III-D): each SDRAM vector is one sample frame, the inputs
// followed by the targets (VEC_WORDS = size0 + size_out), streamed by mem_ctrl
// into mlp_net's sample port while the engine computes.
module mlp_trainer #(
    parameter P             = 10,    // neuron lanes
    parameter MUL_LAT       = 2,     // fp_mul register stages
    parameter ADD_LAT       = 2,     // fp_add register stages
    parameter IN_REG        = 0,     // lanes register their inputs (see mlp_net)
    parameter OP_REG        = 0,     // lanes register their operands (see mlp_net)
    parameter MAX_S0        = 784,   // largest input layer
    parameter MAX_S1        = 100,   // largest first layer
    parameter MAX_S2        = 100,   // largest second layer
    parameter MAX_S3        = 10,    // largest third layer
    parameter MAX_OUT       = 10,    // largest output layer
    parameter SZ_W          = 10,    // bits of a layer size
    parameter M_W           = 16,    // bits of the mini-batch size
    parameter SIGMOID       = 0,     // 0: LUT, 1: ALU
    parameter UNIFIED       = 0,     // memory: 0 SRAM double buffer, 1 straight to SDRAM
    parameter SLOTS         = 4,     // SRAM slots
    parameter VECS_PER_SLOT = 64,    // vectors per slot
    parameter VEC_WORDS     = 794,   // words per vector = one sample frame
    parameter ADDR_W        = 24,    // SDRAM word-address bits
    parameter BURST_LEN     = 16,    // most words per SDRAM request
    parameter VCNT_W        = 20     // bits of the vector count
) (
    input  wire                          clk,
    input  wire                          rst,
    // engine configuration and host weight writes (see mlp_net)
    input  wire                          cfg_valid,
    output wire                          cfg_ready,
    input  wire [1:0]                    cfg_layers,
    input  wire [SZ_W-1:0]               cfg_size0,
    input  wire [SZ_W-1:0]               cfg_size1,
    input  wire [SZ_W-1:0]               cfg_size2,
    input  wire [SZ_W-1:0]               cfg_size3,
    input  wire [M_W-1:0]                cfg_batch,
    input  wire [31:0]                   cfg_alpha,
    input  wire                          cfg_train,
    input  wire                          w_valid,
    output wire                          w_ready,
    input  wire [1:0]                    w_layer,
    input  wire [SZ_W-1:0]               w_row,
    input  wire [SZ_W-1:0]               w_col,
    input  wire [31:0]                   w_data,
    // training-vector stream (see mem_ctrl)
    input  wire                          mem_start,
    input  wire [ADDR_W-1:0]             mem_base,
    input  wire [VCNT_W-1:0]             mem_num_vecs,
    output wire                          mem_busy,
    output wire                          mem_done,
    output wire [2:0]                    mem_error,
    output wire                          sdram_req_valid,
    input  wire                          sdram_req_ready,
    output wire [ADDR_W-1:0]             sdram_req_addr,
    output wire [$clog2(BURST_LEN+1)-1:0] sdram_req_len,
    input  wire                          sdram_rd_valid,
    output wire                          sdram_rd_ready,
    input  wire [31:0]                   sdram_rd_data,
    // engine status
    output wire                          configured,
    output wire                          busy,
    output wire                          err_config,
    output wire                          err_frame,
    output wire                          sample_done,
    output wire                          batch_done,
    output wire [4:0]                    fp_flags
);
    wire        v_valid, v_ready, v_last;
    wire [31:0] v_data;

    mem_ctrl #(
        .UNIFIED(UNIFIED), .SLOTS(SLOTS), .VECS_PER_SLOT(VECS_PER_SLOT), .VEC_WORDS(VEC_WORDS),
        .WORD_W(32), .ADDR_W(ADDR_W), .BURST_LEN(BURST_LEN), .VCNT_W(VCNT_W)
    ) u_mem (
        .clk(clk), .rst(rst), .start(mem_start), .cfg_base(mem_base), .cfg_num_vecs(mem_num_vecs),
        .busy(mem_busy), .done(mem_done), .error(mem_error),
        .m_valid(v_valid), .m_ready(v_ready), .m_data(v_data), .m_last(v_last),
        .sdram_req_valid(sdram_req_valid), .sdram_req_ready(sdram_req_ready),
        .sdram_req_addr(sdram_req_addr), .sdram_req_len(sdram_req_len),
        .sdram_rd_valid(sdram_rd_valid), .sdram_rd_ready(sdram_rd_ready), .sdram_rd_data(sdram_rd_data));

    mlp_net #(
        .P(P), .MUL_LAT(MUL_LAT), .ADD_LAT(ADD_LAT), .IN_REG(IN_REG), .OP_REG(OP_REG), .MAX_S0(MAX_S0),
        .MAX_S1(MAX_S1), .MAX_S2(MAX_S2), .MAX_S3(MAX_S3), .MAX_OUT(MAX_OUT), .SZ_W(SZ_W), .M_W(M_W), .SIGMOID(SIGMOID)
    ) u_mlp (
        .clk(clk), .rst(rst),
        .cfg_valid(cfg_valid), .cfg_ready(cfg_ready), .cfg_layers(cfg_layers), .cfg_size0(cfg_size0),
        .cfg_size1(cfg_size1), .cfg_size2(cfg_size2), .cfg_size3(cfg_size3), .cfg_batch(cfg_batch),
        .cfg_alpha(cfg_alpha), .cfg_train(cfg_train),
        .w_valid(w_valid), .w_ready(w_ready), .w_layer(w_layer), .w_row(w_row), .w_col(w_col), .w_data(w_data),
        .s_valid(v_valid), .s_ready(v_ready), .s_data(v_data), .s_last(v_last),
        .configured(configured), .busy(busy), .err_config(err_config), .err_frame(err_frame),
        .sample_done(sample_done), .batch_done(batch_done), .fp_flags(fp_flags));

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    // the ports are mem_ctrl's and mlp_net's (which check them too); the
    // vector stream between them is mem_ctrl's m port
    stream_check #(.W(ADDR_W + $clog2(BURST_LEN+1)), .NAME("sdram_req")) u_check_req (
        .clk(clk), .rst(rst), .valid(sdram_req_valid), .ready(sdram_req_ready),
        .data({sdram_req_addr, sdram_req_len}));
    always @(posedge clk) begin
        if (!rst) assert (!$isunknown({cfg_ready, w_ready, sdram_rd_ready}))
            else $error("%m: cfg_ready, w_ready or sdram_rd_ready is X or Z after reset");
    end
`endif
endmodule
`default_nettype wire
