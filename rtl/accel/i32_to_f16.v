`default_nettype none
// INT32 -> FP16 converter of the accelerator (docs/accel.md, "Numerics"):
// per lane y = RNE16(acc * 2^k), one rounding of the exact product, as
// models/accel_num.i32_to_f16. Subnormal results are kept; a value that
// rounds beyond 65504 gives +-inf. acc = 0 gives +0; a negative acc whose
// product rounds to zero gives -0. k comes with each beat and applies to all
// its lanes (the tensor's e_x + e_w), so a stream may change it at any beat.
//
// Latency LATENCY = 3 clocks (absolute value and leading zeros | normalise
// and exponent | subnormal shift, round, pack), one beat per clock; the whole
// pipeline holds while m_valid & ~m_ready (s_ready = ~m_valid | m_ready).
// A synchronous reset drops the beats in flight and clears ovf_sticky.
//
// Ports (lane i of a bus in bits [W*i +: W]):
//   s_valid/s_ready  input beat
//   s_acc            LANES x INT32, two's complement
//   s_k              signed exponent of the beat, K_W bits
//   m_valid/m_ready  output beat
//   m_f16            LANES x FP16
//   m_ovf            a finite acc * 2^k of this beat rounded to +-inf
//   ovf_sticky       OR of m_ovf over the beats delivered since reset or ovf_clear
//   ovf_clear        clears ovf_sticky (a beat delivered in the same clock still sets it)
module i32_to_f16 #(
    parameter LANES = 16,   // elements per beat, >= 1
    parameter K_W   = 8     // width of the signed exponent s_k, 6..16
) (
    input  wire                clk,
    input  wire                rst,
    input  wire                s_valid,
    output wire                s_ready,
    input  wire [LANES*32-1:0] s_acc,
    input  wire [K_W-1:0]      s_k,
    output wire                m_valid,
    input  wire                m_ready,
    output wire [LANES*16-1:0] m_f16,
    output wire                m_ovf,
    output reg                 ovf_sticky,
    input  wire                ovf_clear
);
    localparam LATENCY = 3;
    localparam EW      = K_W + 2;      // the unbounded result exponent, signed: 46 + k - lz fits
    localparam [EW-1:0] C1 = 1, C12 = 12, C31 = 31, C46 = 46;

    initial begin
        if (LANES < 1) $fatal(1, "i32_to_f16: LANES must be >= 1");
        if (K_W < 6 || K_W > 16) $fatal(1, "i32_to_f16: K_W must be 6..16");
    end

    wire en = m_ready | ~m_valid;
    assign s_ready = en;

    // ---------------------------------------------------------------- |acc|, leading zeros
    wire [LANES*39-1:0] u_lane;        // per lane {sign, |acc| (32 bits), lz (0..32)}
    genvar i;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : gen_abs
            wire [31:0] acc = s_acc[32*i +: 32];
            // -(-2^31) = 2^31 is representable as an unsigned magnitude
            wire [31:0] mag = acc[31] ? (~acc + 32'd1) : acc;
            wire [5:0]  lz;
            lzc #(.WIDTH(32), .COUNT_W(6)) u_lzc (.in(mag), .count(lz));
            assign u_lane[39*i +: 39] = {acc[31], mag, lz};
        end
    endgenerate

    wire                v1;
    wire [LANES*39-1:0] a1_lane;
    wire [K_W-1:0]      a1_k;
    pipe_stage #(.WIDTH(LANES * 39 + K_W)) u_cut1 (
        .clk(clk), .rst(rst), .en(en), .in_valid(s_valid), .in_data({u_lane, s_k}),
        .out_valid(v1), .out_data({a1_lane, a1_k}));

    // ---------------------------------------------------------------- normalise, exponent
    // The MSB of |acc| at bit 31 - lz has weight 2^(31 - lz + k): biased FP16
    // exponent E = 46 + k - lz (unbounded; <= 0 means a subnormal result).
    wire [EW-1:0]       k_ext = {{2{a1_k[K_W-1]}}, a1_k};
    wire [LANES*(2+32+EW)-1:0] n_lane;  // per lane {sign, zero, normalised |acc|, E}
    generate
        for (i = 0; i < LANES; i = i + 1) begin : gen_norm
            wire        sign = a1_lane[39*i + 38];
            wire [31:0] mag  = a1_lane[39*i + 6 +: 32];
            wire [5:0]  lz   = a1_lane[39*i +: 6];
            wire        zero = lz[5];
            wire [31:0] norm = mag << lz[4:0];
            wire [EW-1:0] exp_b = k_ext + C46 - {{(EW-6){1'b0}}, lz};
            assign n_lane[(34+EW)*i +: 34+EW] = {sign, zero, norm, exp_b};
        end
    endgenerate

    wire                       v2;
    wire [LANES*(34+EW)-1:0]   a2_lane;
    pipe_stage #(.WIDTH(LANES * (34 + EW))) u_cut2 (
        .clk(clk), .rst(rst), .en(en), .in_valid(v1), .in_data(n_lane),
        .out_valid(v2), .out_data(a2_lane));

    // ---------------------------------------------------------------- denormalise, round, pack
    // A subnormal result shifts the significand right by 1 - E more; from 12
    // on nothing but sticky bits is left (the value is below half the
    // smallest subnormal), so the shift saturates there.
    wire [LANES*16-1:0] r_f16;
    wire [LANES-1:0]    r_ovf;
    generate
        for (i = 0; i < LANES; i = i + 1) begin : gen_round
            wire          sign  = a2_lane[(34+EW)*i + 33 + EW];
            wire          zero  = a2_lane[(34+EW)*i + 32 + EW];
            wire [31:0]   norm  = a2_lane[(34+EW)*i + EW +: 32];
            wire [EW-1:0] exp_b = a2_lane[(34+EW)*i +: EW];
            wire          sub   = exp_b[EW-1] || (exp_b == {EW{1'b0}});
            wire          big   = !exp_b[EW-1] && (exp_b >= C31);
            wire [EW-1:0] dsh_w = C1 - exp_b;        // 1 - E, for sub
            wire [3:0]    dsh   = !sub ? 4'd0 : (dsh_w >= C12) ? 4'd12 : dsh_w[3:0];
            wire [11:0]   qg    = norm[31:20] >> dsh;                      // significand, guard
            wire [5:0]    low_n = 6'd20 + {2'b00, dsh};                  // bits below the guard
            wire [31:0]   low_m = ~(32'hFFFF_FFFF << low_n);
            wire [10:0]   q     = qg[11:1];
            wire          guard = qg[0];
            wire          stick = |(norm & low_m);
            wire [11:0]   q_r   = {1'b0, q} + {11'd0, guard & (stick | q[0])};
            // (E - 1) * 2^10 + the rounded significand: a carry out of the
            // significand moves into the exponent field, a subnormal that rounds
            // up to 2^-14 becomes normal, and one past 65504 lands on 0x7C00
            wire [4:0]    e_m1  = sub ? 5'd0 : (exp_b[4:0] - 5'd1);
            wire [14:0]   pack  = {e_m1, 10'd0} + {3'd0, q_r};
            wire          ovf   = !zero && (big || (pack == 15'h7C00));
            assign r_f16[16*i +: 16] = zero ? 16'h0000 : {sign, big ? 15'h7C00 : pack};
            assign r_ovf[i] = ovf;
            wire unused_exp = &{1'b0, dsh_w[EW-1:4], 1'b0};
        end
    endgenerate

    pipe_stage #(.WIDTH(LANES * 16 + 1)) u_cut3 (
        .clk(clk), .rst(rst), .en(en), .in_valid(v2), .in_data({r_f16, |r_ovf}),
        .out_valid(m_valid), .out_data({m_f16, m_ovf}));

    always @(posedge clk) begin
        if (rst)                         ovf_sticky <= 1'b0;
        else if (m_valid && m_ready && m_ovf) ovf_sticky <= 1'b1;
        else if (ovf_clear)              ovf_sticky <= 1'b0;
    end

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    stream_check #(.W(LANES * 16 + 1), .NAME("m")) u_check_m (
        .clk(clk), .rst(rst), .valid(m_valid), .ready(m_ready), .data({m_f16, m_ovf}));
    // at most LATENCY beats in flight, and no output beat out of nothing
    // (of a beat dropped by a reset)
    localparam [2:0] LAT_C = LATENCY;
    reg [2:0] flight_q;
    always @(posedge clk) begin
        if (rst) flight_q <= 3'd0;
        else     flight_q <= flight_q + {2'd0, s_valid && s_ready} - {2'd0, m_valid && m_ready};
        if (!rst) begin
            assert (!$isunknown(s_ready)) else $error("%m: s_ready is X or Z after reset");
            assert (flight_q <= LAT_C) else $error("%m: more than LATENCY beats in flight");
            assert (!m_valid || flight_q != 3'd0) else $error("%m: m_valid with no beat in flight");
        end
    end
`endif
endmodule
`default_nettype wire
