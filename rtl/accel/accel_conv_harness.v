`default_nettype none
// Simulation harness: the accelerator's three number converters side by
// side, each on its own streams, so that their tests share one Verilator
// build. i2f_: i32_to_f16, f2i_: f16_to_i8, amx_: amax_track.
module accel_conv_harness #(
    parameter LANES = 16   // elements per beat of every converter, >= 1
) (
    input  wire                clk,
    input  wire                rst,
    // i32_to_f16
    input  wire                i2f_s_valid,
    output wire                i2f_s_ready,
    input  wire [LANES*32-1:0] i2f_s_acc,
    input  wire [7:0]          i2f_s_k,
    output wire                i2f_m_valid,
    input  wire                i2f_m_ready,
    output wire [LANES*16-1:0] i2f_m_f16,
    output wire                i2f_m_ovf,
    output wire                i2f_ovf_sticky,
    input  wire                i2f_ovf_clear,
    // f16_to_i8
    input  wire                f2i_s_valid,
    output wire                f2i_s_ready,
    input  wire [LANES*16-1:0] f2i_s_x,
    input  wire [7:0]          f2i_s_e,
    output wire                f2i_m_valid,
    input  wire                f2i_m_ready,
    output wire [LANES*8-1:0]  f2i_m_q,
    output wire                f2i_m_nf,
    // amax_track
    input  wire                amx_s_valid,
    output wire                amx_s_ready,
    input  wire [LANES*16-1:0] amx_s_x,
    input  wire                amx_s_last,
    output wire                amx_m_valid,
    input  wire                amx_m_ready,
    output wire [7:0]          amx_m_e,
    output wire [15:0]         amx_m_max,
    output wire                amx_m_nf
);
    i32_to_f16 #(.LANES(LANES), .K_W(8)) u_i2f (
        .clk(clk), .rst(rst), .s_valid(i2f_s_valid), .s_ready(i2f_s_ready), .s_acc(i2f_s_acc),
        .s_k(i2f_s_k), .m_valid(i2f_m_valid), .m_ready(i2f_m_ready), .m_f16(i2f_m_f16),
        .m_ovf(i2f_m_ovf), .ovf_sticky(i2f_ovf_sticky), .ovf_clear(i2f_ovf_clear));
    f16_to_i8 #(.LANES(LANES), .E_W(8)) u_f2i (
        .clk(clk), .rst(rst), .s_valid(f2i_s_valid), .s_ready(f2i_s_ready), .s_x(f2i_s_x),
        .s_e(f2i_s_e), .m_valid(f2i_m_valid), .m_ready(f2i_m_ready), .m_q(f2i_m_q), .m_nf(f2i_m_nf));
    amax_track #(.LANES(LANES), .E_W(8)) u_amx (
        .clk(clk), .rst(rst), .s_valid(amx_s_valid), .s_ready(amx_s_ready), .s_x(amx_s_x),
        .s_last(amx_s_last), .m_valid(amx_m_valid), .m_ready(amx_m_ready), .m_e(amx_m_e),
        .m_max(amx_m_max), .m_nf(amx_m_nf));
endmodule
`default_nettype wire
