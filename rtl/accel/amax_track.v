`default_nettype none
// Max-exponent tracker of the accelerator's write path (docs/accel.md,
// "Numerics"): watches the FP16 beats of a tensor and, at the beat marked
// s_last, gives the tensor's power-of-two scale, as
// models/accel_num.amax_exponent:
//   m_e   = the smallest integer with max|x| <= 127 * 2^e (0 for all zeros),
//   m_max = max|x| as FP16 bits (sign 0),
//   m_nf  = some element was NaN or inf; then m_e = 0 and m_max = 0x7E00
//           (the reference's NaN), since no scale fits.
// A sidecar: it takes the same beats as the write it watches (the writer
// moves a beat when both its sink and this s_ready take it) and passes no
// data on. FP16 magnitudes order like 15-bit integers, so the maximum is an
// integer compare (a tree over the lanes, then the running maximum), and e is
// derived from the maximum's exponent and fraction with integer logic only.
//
// Latency LATENCY = 2 clocks from the s_last beat to m_valid (lane maximum |
// running maximum and scale). Beats of the next tensor flow on behind it;
// the pipeline, and so s_ready, holds only while a result waits on m
// (s_ready = ~m_valid | m_ready). A synchronous reset drops the tensor in
// progress: the next beat starts a new one.
//
// Ports (lane i of a bus in bits [16*i +: 16]):
//   s_valid/s_ready  input beat (observed)
//   s_x              LANES x FP16
//   s_last           the tensor's last beat
//   m_valid/m_ready  one result per tensor
//   m_e              signed exponent, E_W bits
//   m_max            max|x| as FP16 bits
//   m_nf             a NaN or inf was seen in the tensor
module amax_track #(
    parameter LANES = 16,   // elements per beat, >= 1
    parameter E_W   = 8     // width of the signed exponent m_e, 6..16 (e is in -30..10)
) (
    input  wire                clk,
    input  wire                rst,
    input  wire                s_valid,
    output wire                s_ready,
    input  wire [LANES*16-1:0] s_x,
    input  wire                s_last,
    output reg                 m_valid,
    input  wire                m_ready,
    output reg  [E_W-1:0]      m_e,
    output reg  [15:0]         m_max,
    output reg                 m_nf
);
    localparam LATENCY = 2;
    // the lane maximum as a tree of LG levels over NP leaves (lanes past LANES are
    // zero), one vector per level: a single array for the whole tree reads as
    // circular logic to Verilator (UNOPTFLAT) and slows the simulation
    localparam LG = (LANES <= 1) ? 0 : $clog2(LANES);
    localparam NP = 1 << LG;
    localparam [E_W-1:0] C20 = 20, C21 = 21, C30 = 30;

    initial begin
        if (LANES < 1) $fatal(1, "amax_track: LANES must be >= 1");
        if (E_W < 6 || E_W > 16) $fatal(1, "amax_track: E_W must be 6..16");
    end

    wire en = m_ready | ~m_valid;
    assign s_ready = en;

    // ---------------------------------------------------------------- beat maximum
    wire [LANES-1:0] lane_nf;
    genvar l, i;
    generate
        for (l = 0; l <= LG; l = l + 1) begin : gen_lvl
            wire [15*(NP >> l)-1:0] node;
            if (l == 0) begin : gen_leaves
                for (i = 0; i < NP; i = i + 1) begin : gen_leaf
                    if (i < LANES) begin : gen_lane
                        assign node[15*i +: 15] = s_x[16*i +: 15];
                        assign lane_nf[i]       = (s_x[16*i + 10 +: 5] == 5'h1F);
                        wire unused_sign = s_x[16*i + 15];
                    end else begin : gen_pad
                        assign node[15*i +: 15] = 15'd0;
                    end
                end
            end else begin : gen_max
                for (i = 0; i < (NP >> l); i = i + 1) begin : gen_node
                    wire [14:0] a = gen_lvl[l-1].node[30*i +: 15];
                    wire [14:0] b = gen_lvl[l-1].node[30*i + 15 +: 15];
                    assign node[15*i +: 15] = (a > b) ? a : b;
                end
            end
        end
    endgenerate
    wire [14:0] beat_max = gen_lvl[LG].node[14:0];

    reg        v1_q, last1_q, nf1_q;
    reg [14:0] max1_q;
    always @(posedge clk) begin
        if (rst)     v1_q <= 1'b0;
        else if (en) v1_q <= s_valid;
    end
    always @(posedge clk) begin
        if (en && s_valid) begin
            max1_q  <= beat_max;
            nf1_q   <= |lane_nf;
            last1_q <= s_last;
        end
    end

    // ---------------------------------------------------------------- running maximum, scale
    reg  [14:0] run_q;
    reg         run_nf_q;
    wire [14:0] run_max = (max1_q > run_q) ? max1_q : run_q;
    wire        run_nf  = run_nf_q | nf1_q;

    // For a normal maximum (1024 + f) * 2^(E - 25): 127 * 2^t >= 1024 + f
    // first at t = 4 when f <= 1008 (127 * 16 = 2032), else at t = 5, so
    // e = E - 25 + t. For a subnormal f * 2^-24: e = -24 + t with t the
    // smallest of -6..4 where f <= floor(127 * 2^t), i.e. -30 plus the count
    // of the thresholds 1, 3, 7, ..., 508, 1016 that f exceeds.
    wire [4:0]  mx_exp  = run_max[14:10];
    wire [9:0]  mx_frac = run_max[9:0];
    reg  [3:0]  sub_cnt;
    integer     t;
    always @* begin
        sub_cnt = 4'd0;
        for (t = -6; t <= 3; t = t + 1)
            if ({22'd0, mx_frac} > ((t < 0) ? (127 >> -t) : (127 << t))) sub_cnt = sub_cnt + 4'd1;
    end
    wire [E_W-1:0] e_norm = {{(E_W-5){1'b0}}, mx_exp} - ((mx_frac <= 10'd1008) ? C21 : C20);
    wire [E_W-1:0] e_sub  = {{(E_W-4){1'b0}}, sub_cnt} - C30;
    wire [E_W-1:0] e_res  = run_nf ? {E_W{1'b0}}
                          : (run_max == 15'd0) ? {E_W{1'b0}}
                          : (mx_exp == 5'd0) ? e_sub : e_norm;

    always @(posedge clk) begin
        if (rst) begin
            run_q    <= 15'd0;
            run_nf_q <= 1'b0;
            m_valid  <= 1'b0;
        end else if (en) begin
            m_valid <= v1_q && last1_q;
            if (v1_q) begin
                run_q    <= last1_q ? 15'd0 : run_max;
                run_nf_q <= !last1_q && run_nf;
            end
        end
    end
    always @(posedge clk) begin
        if (en && v1_q && last1_q) begin
            m_e   <= e_res;
            m_max <= run_nf ? 16'h7E00 : {1'b0, run_max};
            m_nf  <= run_nf;
        end
    end

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    stream_check #(.W(E_W + 17), .NAME("m")) u_check_m (
        .clk(clk), .rst(rst), .valid(m_valid), .ready(m_ready), .data({m_e, m_max, m_nf}));
    // one result per s_last beat: at most LATENCY in flight, none out of
    // nothing (of a tensor dropped by a reset)
    localparam [1:0] LAT_C = LATENCY;
    reg [1:0] flight_q;
    always @(posedge clk) begin
        if (rst) flight_q <= 2'd0;
        else     flight_q <= flight_q + {1'd0, s_valid && s_ready && s_last} - {1'd0, m_valid && m_ready};
        if (!rst) begin
            assert (!$isunknown(s_ready)) else $error("%m: s_ready is X or Z after reset");
            assert (flight_q <= LAT_C) else $error("%m: more than LATENCY results in flight");
            assert (!m_valid || flight_q != 2'd0) else $error("%m: m_valid with no tensor ended");
        end
    end
`endif
endmodule
`default_nettype wire
