`default_nettype none
// BN STAT with exact, order-free statistics (docs/accel.md "Numerics"): per
// channel the sums S1 = sum(a) and S2 = sum(a*b) of binary16 a, b (FP: a = b =
// x; BP: a = masked dy, b = xhat), accumulated exactly in fixed point, and
// RNE16(S1), RNE16(S2), RNE16(S1/N), RNE16(S2/N), each rounded once
// (subnormals kept, overflow to inf): models/bn_ref._stats_exact. Exact sums
// do not depend on the order or lane in which elements arrive.
//
// s_ (in): LANES element pairs per beat, s_keep marks the lanes that hold one
//   (any pattern, an empty beat is allowed), s_last the channel's final beat
//   (which may hold no element), s_n the commanded N, sampled on that beat.
// r_ (out): one beat per channel: the four binary16 results, r_count (the
//   elements counted, the N of the means), r_flags = {ERR, NF}:
//   NF:  a NaN or inf input (all four results are then 0x7E00) or a result
//        that overflowed to inf;
//   ERR: N = 0 (sums +0, means 0x7E00), r_count != s_n (the results use the
//        counted N), or more than 2^NW - 1 elements (all four 0x7E00).
// Datapath: binary16 a = ia * 2^-24, a*b = ip * 2^-48 with integers
//   |ia| < 2^40, |ip| < 2^80; per beat the LANES values are summed on a tree,
//   then into accumulators of 41 + NW and 81 + NW bits (exact for up to
//   2^NW - 1 elements).
// Latency: a beat is in the accumulators 4 clocks after the clock in which it
//   is taken (3 pipeline registers: significand products, signed fixed-point
//   lane values, lane sum); r_valid rises 48 clocks after the clock in which
//   the last beat is taken (4, then |S|, divider start, 41 division steps,
//   result register), the two means on two dividers in parallel.
// Throughput: one beat (LANES elements) per clock. The next channel streams
//   in while the previous one divides; only its last beat waits (s_ready low)
//   until the dividers are free (44 clocks after the previous channel's sums
//   are captured), so channels of 45 beats or more, back to back, never stall
//   (ResNet-20 at batch 8: >= 128 beats per channel at 4 lanes). The result
//   register is separate: a result waiting on r_ready holds back only the
//   end of the next channel's division.
// Reset (synchronous): drops the channel being accumulated, the one dividing
//   and a result not yet taken; nothing taken before it comes out after.
module bn_stat_exact #(
    parameter LANES = 4,    // element pairs per beat, 1..64
    parameter NW    = 24    // width of the element count: up to 2^NW - 1 elements per channel
) (
    input  wire                clk,
    input  wire                rst,
    // elements in
    input  wire                s_valid,
    output wire                s_ready,
    input  wire [16*LANES-1:0] s_a,      // lane i in bits [16i+15:16i]
    input  wire [16*LANES-1:0] s_b,
    input  wire [LANES-1:0]    s_keep,   // lanes that hold an element
    input  wire                s_last,   // the channel's final beat
    input  wire [NW-1:0]       s_n,      // commanded N (checked on the last beat)
    // channel result
    output wire                r_valid,
    input  wire                r_ready,
    output wire [15:0]         r_sum1,   // RNE16(S1)
    output wire [15:0]         r_sum2,   // RNE16(S2)
    output wire [15:0]         r_mean1,  // RNE16(S1 / N)
    output wire [15:0]         r_mean2,  // RNE16(S2 / N)
    output wire [NW-1:0]       r_count,  // N: the elements counted (mod 2^NW)
    output wire [1:0]          r_flags   // {ERR, NF}
);
    localparam LG   = $clog2(LANES);
    localparam POPW = $clog2(LANES + 1);
    localparam AW   = 41;               // one a as a signed integer times 2^-24
    localparam PW   = 81;               // one a*b as a signed integer times 2^-48
    localparam T1W  = AW + LG;          // per-beat tree sums
    localparam T2W  = PW + LG;
    localparam S1W  = AW + NW;          // accumulators
    localparam S2W  = PW + NW;

    initial begin
        if (LANES < 1 || LANES > 64) $fatal(1, "bn_stat_exact: LANES must be 1..64");
        if (NW < LG + 1 || NW > 32) $fatal(1, "bn_stat_exact: NW must be clog2(LANES)+1 .. 32");
    end

    wire stall_last;                    // the last beat waits for the dividers
    wire en = ~stall_last;              // the element pipeline advances
    assign s_ready = en;

    // ---------------------------------------------------------------- P1: significand products
    // binary16 e, f: the significand {e != 0, f} times 2^(max(e, 1) - 25)
    reg                  v1_q, last1_q, nf1_q;
    reg  [NW-1:0]        n1_q;
    reg  [POPW-1:0]      pop1_q;
    reg  [LANES-1:0]     sa1_q, sp1_q;
    reg  [11*LANES-1:0]  siga1_q;
    reg  [5*LANES-1:0]   sha1_q;
    reg  [22*LANES-1:0]  prod1_q;
    reg  [6*LANES-1:0]   shp1_q;

    wire [LANES-1:0]     lane_nf;
    wire [11*LANES-1:0]  lane_siga;
    wire [5*LANES-1:0]   lane_sha;
    wire [22*LANES-1:0]  lane_prod;
    wire [6*LANES-1:0]   lane_shp;
    wire [LANES-1:0]     lane_sp;

    genvar gi;
    generate
        for (gi = 0; gi < LANES; gi = gi + 1) begin : gen_lane
            wire [15:0] a   = s_a[16*gi +: 16];
            wire [15:0] b   = s_b[16*gi +: 16];
            wire        k   = s_keep[gi];
            wire [10:0] sga = {a[14:10] != 5'd0, a[9:0]} & {11{k}};
            wire [10:0] sgb = {b[14:10] != 5'd0, b[9:0]} & {11{k}};
            wire [4:0]  sha = (a[14:10] == 5'd0) ? 5'd0 : a[14:10] - 5'd1;
            wire [4:0]  shb = (b[14:10] == 5'd0) ? 5'd0 : b[14:10] - 5'd1;
            assign lane_nf[gi]              = k & ((&a[14:10]) | (&b[14:10]));
            assign lane_siga[11*gi +: 11]   = sga;
            assign lane_sha[5*gi +: 5]      = sha;
            assign lane_prod[22*gi +: 22]   = {11'd0, sga} * {11'd0, sgb};
            assign lane_shp[6*gi +: 6]      = {1'b0, sha} + {1'b0, shb};
            assign lane_sp[gi]              = a[15] ^ b[15];
        end
    endgenerate

    integer i;
    reg [POPW-1:0] pop;
    always @* begin
        pop = {POPW{1'b0}};
        for (i = 0; i < LANES; i = i + 1)
            pop = pop + {{(POPW-1){1'b0}}, s_keep[i]};
    end

    wire take = s_valid & s_ready;
    always @(posedge clk) begin
        if (rst) begin
            v1_q <= 1'b0;
        end else if (en) begin
            v1_q    <= s_valid;
            last1_q <= s_last;
            n1_q    <= s_n;
            nf1_q   <= |lane_nf;
            pop1_q  <= pop;
            siga1_q <= lane_siga;
            sha1_q  <= lane_sha;
            prod1_q <= lane_prod;
            shp1_q  <= lane_shp;
            sp1_q   <= lane_sp;
            for (i = 0; i < LANES; i = i + 1) sa1_q[i] <= s_a[16*i+15];
        end
    end

    // ---------------------------------------------------------------- P2: signed fixed-point lane values
    reg                  v2_q, last2_q, nf2_q;
    reg  [NW-1:0]        n2_q;
    reg  [POPW-1:0]      pop2_q;
    reg  [AW*LANES-1:0]  va2_q;
    reg  [PW*LANES-1:0]  vp2_q;

    wire [AW*LANES-1:0]  lane_va;
    wire [PW*LANES-1:0]  lane_vp;
    generate
        for (gi = 0; gi < LANES; gi = gi + 1) begin : gen_fix
            wire [AW-1:0] ma = {{(AW-11){1'b0}}, siga1_q[11*gi +: 11]} << sha1_q[5*gi +: 5];
            wire [PW-1:0] mp = {{(PW-22){1'b0}}, prod1_q[22*gi +: 22]} << shp1_q[6*gi +: 6];
            assign lane_va[AW*gi +: AW] = sa1_q[gi] ? -ma : ma;
            assign lane_vp[PW*gi +: PW] = sp1_q[gi] ? -mp : mp;
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            v2_q <= 1'b0;
        end else if (en) begin
            v2_q    <= v1_q;
            last2_q <= last1_q;
            n2_q    <= n1_q;
            nf2_q   <= nf1_q;
            pop2_q  <= pop1_q;
            va2_q   <= lane_va;
            vp2_q   <= lane_vp;
        end
    end

    // ---------------------------------------------------------------- P3: adder tree over the lanes
    reg                  v3_q, last3_q, nf3_q;
    reg  [NW-1:0]        n3_q;
    reg  [POPW-1:0]      pop3_q;
    reg  [T1W-1:0]       t1_3_q;
    reg  [T2W-1:0]       t2_3_q;

    reg  [T1W-1:0]       tree1;
    reg  [T2W-1:0]       tree2;
    always @* begin
        tree1 = {T1W{1'b0}};
        tree2 = {T2W{1'b0}};
        for (i = 0; i < LANES; i = i + 1) begin
            tree1 = tree1 + {{(T1W-AW+1){va2_q[AW*i+AW-1]}}, va2_q[AW*i +: AW-1]};
            tree2 = tree2 + {{(T2W-PW+1){vp2_q[PW*i+PW-1]}}, vp2_q[PW*i +: PW-1]};
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            v3_q <= 1'b0;
        end else if (en) begin
            v3_q    <= v2_q;
            last3_q <= last2_q;
            n3_q    <= n2_q;
            nf3_q   <= nf2_q;
            pop3_q  <= pop2_q;
            t1_3_q  <= tree1;
            t2_3_q  <= tree2;
        end
    end

    // ---------------------------------------------------------------- accumulators
    reg  [S1W-1:0]       acc1_q;
    reg  [S2W-1:0]       acc2_q;
    reg  [NW-1:0]        cnt_q;
    reg                  nf_q, cof_q;     // NaN/inf seen, count overflow

    wire [S1W-1:0]       sum1   = acc1_q + {{(S1W-T1W){t1_3_q[T1W-1]}}, t1_3_q};
    wire [S2W-1:0]       sum2   = acc2_q + {{(S2W-T2W){t2_3_q[T2W-1]}}, t2_3_q};
    wire [NW:0]          cnt_d  = {1'b0, cnt_q} + {{(NW+1-POPW){1'b0}}, pop3_q};
    wire                 nf_d   = nf_q | nf3_q;
    wire                 cof_d  = cof_q | cnt_d[NW];
    wire                 acc_in = v3_q & en;          // the P3 beat enters the sums
    wire                 capture = acc_in & last3_q;  // the channel's sums go to the finish stage

    always @(posedge clk) begin
        if (rst || capture) begin
            acc1_q <= {S1W{1'b0}};
            acc2_q <= {S2W{1'b0}};
            cnt_q  <= {NW{1'b0}};
            nf_q   <= 1'b0;
            cof_q  <= 1'b0;
        end else if (acc_in) begin
            acc1_q <= sum1;
            acc2_q <= sum2;
            cnt_q  <= cnt_d[NW-1:0];
            nf_q   <= nf_d;
            cof_q  <= cof_d;
        end
    end

    // ---------------------------------------------------------------- finish: |S|, divisions, rounding
    localparam [2:0] FS_IDLE = 3'd0, FS_ABS = 3'd1, FS_START = 3'd2, FS_RUN = 3'd3;
    reg  [2:0]           fst_q;
    reg  [S1W-1:0]       fs1_q;          // the channel's S1, then |S1|
    reg  [S2W-1:0]       fs2_q;
    reg                  sg1_q, sg2_q;   // signs of S1, S2
    reg  [NW-1:0]        fcnt_q, fn_q;
    reg                  fnf_q, fcof_q;

    wire                 div_busy1, div_busy2, big_m1, big_m2, st_m1, st_m2;
    wire [40:0]          q_m1, q_m2;
    wire                 res_free = ~rv_q | r_ready;
    wire                 done     = (fst_q == FS_RUN) & ~div_busy1 & ~div_busy2 & res_free;

    assign stall_last = v3_q & last3_q & (fst_q != FS_IDLE);

    always @(posedge clk) begin
        if (rst) begin
            fst_q <= FS_IDLE;
        end else begin
            case (fst_q)
                FS_IDLE:  if (capture) fst_q <= FS_ABS;
                FS_ABS:   fst_q <= FS_START;
                FS_START: fst_q <= FS_RUN;
                default:  if (done) fst_q <= FS_IDLE;
            endcase
        end
        if (capture) begin
            fs1_q  <= sum1;
            fs2_q  <= sum2;
            fcnt_q <= cnt_d[NW-1:0];
            fn_q   <= n3_q;
            fnf_q  <= nf_d;
            fcof_q <= cof_d;
        end
        if (fst_q == FS_ABS) begin
            sg1_q <= fs1_q[S1W-1];
            sg2_q <= fs2_q[S2W-1];
            fs1_q <= fs1_q[S1W-1] ? -fs1_q : fs1_q;
            fs2_q <= fs2_q[S2W-1] ? -fs2_q : fs2_q;
        end
    end

    // |S| < 2^(S1W-1) (2^(S2W-1)): the sign bit is zero once the magnitude is taken
    bn_stat_div #(.MW(S1W - 1), .NW(NW), .F(24)) u_div1 (
        .clk(clk), .rst(rst), .start(fst_q == FS_START), .m(fs1_q[S1W-2:0]), .n(fcnt_q),
        .busy(div_busy1), .big(big_m1), .q(q_m1), .sticky(st_m1));
    bn_stat_div #(.MW(S2W - 1), .NW(NW), .F(48)) u_div2 (
        .clk(clk), .rst(rst), .start(fst_q == FS_START), .m(fs2_q[S2W-2:0]), .n(fcnt_q),
        .busy(div_busy2), .big(big_m2), .q(q_m2), .sticky(st_m2));

    // the sums themselves: S1 in units of 2^-24, S2 of 2^-48, as fx (2^15 .. 2^-25)
    wire [15:0] y_s1, y_s2, y_m1, y_m2;
    wire        of_s1, of_s2, of_m1, of_m2;
    bn_fx_to_f16 u_rnd_s1 (
        .sign(sg1_q), .big(|fs1_q[S1W-2:40]), .fx({fs1_q[39:0], 1'b0}), .sticky(1'b0),
        .y(y_s1), .of(of_s1));
    bn_fx_to_f16 u_rnd_s2 (
        .sign(sg2_q), .big(|fs2_q[S2W-2:64]), .fx(fs2_q[63:23]), .sticky(|fs2_q[22:0]),
        .y(y_s2), .of(of_s2));
    bn_fx_to_f16 u_rnd_m1 (
        .sign(sg1_q), .big(big_m1), .fx(q_m1), .sticky(st_m1), .y(y_m1), .of(of_m1));
    bn_fx_to_f16 u_rnd_m2 (
        .sign(sg2_q), .big(big_m2), .fx(q_m2), .sticky(st_m2), .y(y_m2), .of(of_m2));

    // ---------------------------------------------------------------- result register
    localparam [15:0] QNAN = 16'h7e00;
    reg                  rv_q;
    reg  [15:0]          rs1_q, rs2_q, rm1_q, rm2_q;
    reg  [NW-1:0]        rcnt_q;
    reg                  rerr_q, rnf_q;

    wire zero_n  = (fcnt_q == {NW{1'b0}}) & ~fcof_q;
    wire all_nan = fnf_q | fcof_q;
    always @(posedge clk) begin
        if (rst) begin
            rv_q <= 1'b0;
        end else if (done) begin
            rv_q   <= 1'b1;
            rs1_q  <= all_nan ? QNAN : y_s1;
            rs2_q  <= all_nan ? QNAN : y_s2;
            rm1_q  <= (all_nan | zero_n) ? QNAN : y_m1;
            rm2_q  <= (all_nan | zero_n) ? QNAN : y_m2;
            rcnt_q <= fcnt_q;
            rerr_q <= zero_n | fcof_q | (fcnt_q != fn_q);
            rnf_q  <= fnf_q | (~all_nan & (of_s1 | of_s2 | (~zero_n & (of_m1 | of_m2))));
        end else if (r_ready) begin
            rv_q <= 1'b0;
        end
    end

    assign r_valid = rv_q;
    assign r_sum1  = rs1_q;
    assign r_sum2  = rs2_q;
    assign r_mean1 = rm1_q;
    assign r_mean2 = rm2_q;
    assign r_count = rcnt_q;
    assign r_flags = {rerr_q, rnf_q};

    wire unused = &{1'b0, take, 1'b0};

`ifndef SYNTHESIS
    // ---------------------------------------------------------------- protocol checks
    stream_check #(.W(64 + NW + 2), .NAME("r")) u_check_r (
        .clk(clk), .rst(rst), .valid(r_valid), .ready(r_ready),
        .data({r_sum1, r_sum2, r_mean1, r_mean2, r_count, r_flags}));
    // one result per last beat taken: never more, and at most 5 channels
    // between the input and the result port (P1..P3, finish, result)
    reg [3:0] chk_chan_q;
    always @(posedge clk) begin
        if (rst) chk_chan_q <= 4'd0;
        else     chk_chan_q <= chk_chan_q + {3'd0, take & s_last} - {3'd0, r_valid & r_ready};
        if (!rst) begin
            assert (!$isunknown(s_ready)) else $error("%m: s_ready is X or Z after reset");
            assert (chk_chan_q <= 4'd5) else $error("%m: %0d channels in flight", chk_chan_q);
            assert (!r_valid || chk_chan_q != 4'd0) else $error("%m: r_valid with no channel in flight");
            assert (fst_q <= FS_RUN) else $error("%m: finish state %0d", fst_q);
        end
    end
`endif
endmodule
`default_nettype wire
