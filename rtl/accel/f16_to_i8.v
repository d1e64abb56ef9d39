`default_nettype none
// FP16 -> INT8 quantizer of the accelerator's read path (docs/accel.md,
// "Numerics"): per lane q = clamp(RNE(x * 2^-e), -128, 127), as
// models/accel_num.f16_to_i8. e comes with each beat and applies to all its
// lanes (the tensor's exponent from amax_track), so a stream may change it at
// any beat.
//   Not a number: +inf gives 127 and -inf gives -128 (saturation by sign,
//   as the reference's clamp does); NaN gives 0. Either raises m_nf.
//
// Latency LATENCY = 2 clocks (unpack and shift distance | shift, round,
// clamp), one beat per clock; the whole pipeline holds while
// m_valid & ~m_ready (s_ready = ~m_valid | m_ready). A synchronous reset drops
// the beats in flight.
//
// Ports (lane i of a bus in bits [W*i +: W]):
//   s_valid/s_ready  input beat
//   s_x              LANES x FP16
//   s_e              signed exponent of the beat, E_W bits
//   m_valid/m_ready  output beat
//   m_q              LANES x INT8, two's complement
//   m_nf             a lane of this beat was NaN or inf
module f16_to_i8 #(
    parameter LANES = 16,   // elements per beat, >= 1
    parameter E_W   = 8     // width of the signed exponent s_e, 5..16
) (
    input  wire                clk,
    input  wire                rst,
    input  wire                s_valid,
    output wire                s_ready,
    input  wire [LANES*16-1:0] s_x,
    input  wire [E_W-1:0]      s_e,
    output wire                m_valid,
    input  wire                m_ready,
    output wire [LANES*8-1:0]  m_q,
    output wire                m_nf
);
    localparam LATENCY = 2;
    localparam SW      = E_W + 2;      // the signed shift distance Eeff - 25 - e fits
    localparam LW      = 1 + 11 + 5 + 4;  // per lane after the first cut
    localparam [SW-1:0] C12 = 12, C25 = 25;
    localparam signed [SW-1:0] SH_MIN = -12, SH_MAX = 7;  // the shifter's range of sh

    initial begin
        if (LANES < 1) $fatal(1, "f16_to_i8: LANES must be >= 1");
        if (E_W < 5 || E_W > 16) $fatal(1, "f16_to_i8: E_W must be 5..16");
    end

    wire en = m_ready | ~m_valid;
    assign s_ready = en;

    // ---------------------------------------------------------------- unpack, shift distance
    // |x| = sig * 2^(Eeff - 25) with sig the 11-bit significand, so
    // |x| * 2^-e = sig * 2^sh, sh = Eeff - 25 - e. Only sh in -12..7 needs
    // the shifter: below, |x| * 2^-e < 1/4 rounds to 0; above, a nonzero sig
    // gives at least 256 and saturates.
    wire [SW-1:0]      e_ext = {{2{s_e[E_W-1]}}, s_e};
    wire [LANES*LW-1:0] u_lane;    // per lane {sign, sig, shift 0..19, zero, sat, nan, inf}
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : gen_unpack
            wire [15:0]   x     = s_x[16*i +: 16];
            wire [4:0]    exp   = x[14:10];
            wire          spec  = (exp == 5'h1F);
            wire          nan   = spec && (x[9:0] != 10'd0);
            wire          inf   = spec && (x[9:0] == 10'd0);
            wire [10:0]   sig   = {exp != 5'd0, x[9:0]};
            wire [4:0]    e_eff = (exp == 5'd0) ? 5'd1 : exp;
            wire [SW-1:0] sh    = {{(SW-5){1'b0}}, e_eff} - C25 - e_ext;
            wire          tiny  = $signed(sh) < SH_MIN;
            wire          huge  = $signed(sh) > SH_MAX;
            wire [SW-1:0] a     = sh + C12;                 // left shift of sig * 2^12, 0..19
            wire          zero  = (sig == 11'd0) || tiny;
            assign u_lane[LW*i +: LW] = {x[15], sig, a[4:0], zero && !spec, huge && !zero && !spec, nan, inf};
            wire unused_a = &{1'b0, a[SW-1:5], 1'b0};
        end
    endgenerate

    wire                v1;
    wire [LANES*LW-1:0] a1_lane;
    pipe_stage #(.WIDTH(LANES * LW)) u_cut1 (
        .clk(clk), .rst(rst), .en(en), .in_valid(s_valid), .in_data(u_lane),
        .out_valid(v1), .out_data(a1_lane));

    // ---------------------------------------------------------------- shift, round, clamp
    wire [LANES*8-1:0] r_q;
    wire [LANES-1:0]   r_nf;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : gen_round
            wire        sign = a1_lane[LW*i + 20];
            wire [10:0] sig  = a1_lane[LW*i + 9 +: 11];
            wire [4:0]  a    = a1_lane[LW*i + 4 +: 5];
            wire        zero = a1_lane[LW*i + 3];
            wire        sat  = a1_lane[LW*i + 2];
            wire        nan  = a1_lane[LW*i + 1];
            wire        inf  = a1_lane[LW*i];
            // sig * 2^sh with 12 fraction bits: exact, integer part in [29:12]
            wire [29:0] fx    = {19'd0, sig} << a;
            wire [17:0] ip    = fx[29:12];
            wire        guard = fx[11];
            wire        stick = |fx[10:0];
            wire [18:0] mag   = {1'b0, ip} + {18'd0, guard & (stick | ip[0])};
            // the negative side reaches -128, the positive side 127
            wire        over  = sat || inf || (sign ? (mag > 19'd128) : (mag > 19'd127));
            wire [7:0]  mag8  = mag[7:0];
            wire [7:0]  q     = (nan || zero) ? 8'd0
                              : over ? (sign ? 8'h80 : 8'h7F)
                              : sign ? (~mag8 + 8'd1) : mag8;
            assign r_q[8*i +: 8] = q;
            assign r_nf[i] = nan || inf;
        end
    endgenerate

    pipe_stage #(.WIDTH(LANES * 8 + 1)) u_cut2 (
        .clk(clk), .rst(rst), .en(en), .in_valid(v1), .in_data({r_q, |r_nf}),
        .out_valid(m_valid), .out_data({m_q, m_nf}));

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    stream_check #(.W(LANES * 8 + 1), .NAME("m")) u_check_m (
        .clk(clk), .rst(rst), .valid(m_valid), .ready(m_ready), .data({m_q, m_nf}));
    // at most LATENCY beats in flight, and no output beat out of nothing
    // (of a beat dropped by a reset)
    localparam [1:0] LAT_C = LATENCY;
    reg [1:0] flight_q;
    always @(posedge clk) begin
        if (rst) flight_q <= 2'd0;
        else     flight_q <= flight_q + {1'd0, s_valid && s_ready} - {1'd0, m_valid && m_ready};
        if (!rst) begin
            assert (!$isunknown(s_ready)) else $error("%m: s_ready is X or Z after reset");
            assert (flight_q <= LAT_C) else $error("%m: more than LATENCY beats in flight");
            assert (!m_valid || flight_q != 2'd0) else $error("%m: m_valid with no beat in flight");
        end
    end
`endif
endmodule
`default_nettype wire
