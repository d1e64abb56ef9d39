`default_nettype none
// Shape and dtype rules of the accelerator's commands (status 3 of
// docs/accel.md), combinational, for accel_cmd. Operand slots in command
// order (inputs first, host/accel.SIGNATURE); bad is 1 when any rule of the
// op fails. The rules are host/accel.ModelDevice.shape_error's, rule for rule:
//   1 CONV_BN_FP  x w gamma beta | y xhat mask stats:  x FP16 (n,c,h,wd);
//                 w INT8 (m,c,3,3); stride 2 needs even h and wd;
//                 y, xhat FP16 and mask MASK (n,m,h/s,wd/s); stats FP16 (1,3m,1,1);
//                 gamma, beta FP16 (1,m,1,1)
//   2 ADD_RELU_FP b h | out mask:  b FP16, h FP16; out FP16 and mask MASK of
//                 b's shape; shortcut A: h.N = b.N, ceil(h.H/s) = b.H,
//                 ceil(h.W/s) = b.W, b.C >= h.C; else h's shape = b's
//   3 POOL_FP     x | out:  x FP16; out FP16 (x.N, x.C, 1, 1)
//   4 FC_FP       x w | out:  x FP16, x.H = x.W = 1; w INT8 (k,x.C,1,1);
//                 out INT32 (x.N,k,1,1)
//   5 FC_BP       g w x | dfeat dW:  g FP16 (n,k,..), x FP16 (..,c,..);
//                 w INT8 (k,c,1,1); dfeat FP16 (n,c,1,1); dW INT32 (k,c,1,1);
//                 g.H = g.W = 1 and x (n,c,1,1)
//   6 POOL_BP     d | out:  d FP16, d.H = d.W = 1; out FP16 with d's N, C
//   7 ADD_RELU_BP d mask | ds dsc:  d FP16; mask MASK and ds FP16 of d's shape;
//                 dsc FP16; shortcut A: dsc.N = d.N, ceil(dsc.H/s) = d.H,
//                 ceil(dsc.W/s) = d.W, d.C >= dsc.C ; else dsc of d's shape
//   8 BN_CONV_BP  dy xhat mask gamma stats w x | dx dW dgamma dbeta [dX]:
//                 dy FP16 (n,m,ho,wo), x FP16 (n',c,h,wd) with n' = n;
//                 w INT8 (m,c,3,3); xhat FP16 and mask MASK of dy's shape;
//                 gamma FP16 (1,m,1,1); stats FP16 (1,3m,1,1); h/s = ho,
//                 wd/s = wo (floor), stride 2 needs even h and wd; dx FP16 of
//                 dy's shape; dW INT32 (m,c,3,3); dgamma, dbeta FP16 (1,m,1,1);
//                 dX FP16 of x's shape unless flag 8 (no dX)
//   9 ADD         a b | out:  a FP16; b and out FP16 of a's shape
// Flags: 2 stride 2, 4 shortcut A, 8 no dX; other ops and bits are ignored
// here (an unknown op is accel_cmd's status 1, never presented here).
module accel_cmd_rules #(
    parameter MAX_OPS = 12    // operand slots (12..15: BN_CONV_BP has 12)
) (
    input  wire [3:0]            op,
    input  wire [7:0]            flags,
    input  wire [MAX_OPS*3-1:0]  dtype,   // per slot: 1 FP16, 2 INT8, 3 INT32, 4 mask
    input  wire [MAX_OPS*64-1:0] shape,   // per slot {N, C, H, W}, N in the top bits
    output wire                  bad
);
    initial begin
        if (MAX_OPS < 12 || MAX_OPS > 15) $fatal(1, "accel_cmd_rules: MAX_OPS must be 12..15");
    end

    localparam [2:0]  FP16 = 3'd1, INT8 = 3'd2, INT32 = 3'd3, MASK = 3'd4;
    localparam [15:0] ONE = 16'd1, THREE = 16'd3;

    wire [2:0]  dt [0:11];
    wire [63:0] s  [0:11];
    wire [15:0] n  [0:11];
    wire [15:0] c  [0:11];
    wire [15:0] h  [0:11];
    wire [15:0] w  [0:11];
    genvar i;
    generate
        for (i = 0; i < 12; i = i + 1) begin : gen_slot
            assign dt[i] = dtype[i*3 +: 3];
            assign s[i]  = shape[i*64 +: 64];
            assign n[i]  = s[i][63:48];
            assign c[i]  = s[i][47:32];
            assign h[i]  = s[i][31:16];
            assign w[i]  = s[i][15:0];
        end
        if (MAX_OPS > 12) begin : gen_unused
            wire unused = &{1'b0, dtype[MAX_OPS*3-1:36], shape[MAX_OPS*64-1:768], 1'b0};
        end
    endgenerate

    wire s2 = flags[1];
    wire sa = flags[2];
    wire nodx = flags[3];
    wire unused_flags = &{1'b0, flags[7:4], flags[0], 1'b0};

    function [15:0] div_s;        // floor(v / stride)
        input [15:0] v;
        input        two;
        div_s = two ? {1'b0, v[15:1]} : v;
    endfunction
    function [15:0] ceil_s;       // ceil(v / stride); 65535 / 2 rounds up to 32768
        input [15:0] v;
        input        two;
        ceil_s = two ? {1'b0, v[15:1]} + {15'd0, v[0]} : v;
    endfunction
    function vec3;                // (1, 3m, 1, 1): 3m has 18 bits
        input [63:0] v;
        input [15:0] m;
        vec3 = v[63:48] == ONE && {2'b00, v[47:32]} == {2'b00, m} + {1'b0, m, 1'b0} &&
               v[31:16] == ONE && v[15:0] == ONE;
    endfunction

    // 1 CONV_BN_FP: x 0, w 1, gamma 2, beta 3, y 4, xhat 5, mask 6, stats 7
    wire [63:0] cf_out = {n[0], n[1], div_s(h[0], s2), div_s(w[0], s2)};
    wire [63:0] cf_vec = {ONE, n[1], ONE, ONE};
    wire cf_bad = dt[0] != FP16 || dt[1] != INT8 || c[1] != c[0] || h[1] != THREE || w[1] != THREE ||
                  (s2 && (h[0][0] || w[0][0])) ||
                  !(dt[4] == FP16 && s[4] == cf_out) || !(dt[5] == FP16 && s[5] == cf_out) ||
                  !(dt[6] == MASK && s[6] == cf_out) || !(dt[7] == FP16 && vec3(s[7], n[1])) ||
                  !(dt[2] == FP16 && s[2] == cf_vec) || !(dt[3] == FP16 && s[3] == cf_vec);

    // 2 ADD_RELU_FP: b 0, h 1, out 2, mask 3
    wire af_sc = sa ? (c[0] < c[1] || n[1] != n[0] || ceil_s(h[1], s2) != h[0] || ceil_s(w[1], s2) != w[0])
                    : s[1] != s[0];
    wire af_bad = dt[0] != FP16 || dt[1] != FP16 || af_sc ||
                  !(dt[2] == FP16 && s[2] == s[0]) || !(dt[3] == MASK && s[3] == s[0]);

    // 3 POOL_FP: x 0, out 1
    wire pf_bad = dt[0] != FP16 || !(dt[1] == FP16 && s[1] == {n[0], c[0], ONE, ONE});

    // 4 FC_FP: x 0, w 1, out 2
    wire ff_bad = dt[0] != FP16 || h[0] != ONE || w[0] != ONE ||
                  !(dt[1] == INT8 && c[1] == c[0] && h[1] == ONE && w[1] == ONE) ||
                  !(dt[2] == INT32 && s[2] == {n[0], n[1], ONE, ONE});

    // 5 FC_BP: g 0, w 1, x 2, dfeat 3, dW 4
    wire [63:0] fb_kc = {c[0], c[2], ONE, ONE};
    wire fb_bad = dt[0] != FP16 || dt[2] != FP16 || h[0] != ONE || w[0] != ONE ||
                  n[2] != n[0] || h[2] != ONE || w[2] != ONE ||
                  !(dt[1] == INT8 && s[1] == fb_kc) || !(dt[3] == FP16 && s[3] == {n[0], c[2], ONE, ONE}) ||
                  !(dt[4] == INT32 && s[4] == fb_kc);

    // 6 POOL_BP: d 0, out 1
    wire pb_bad = dt[0] != FP16 || h[0] != ONE || w[0] != ONE ||
                  dt[1] != FP16 || n[1] != n[0] || c[1] != c[0];

    // 7 ADD_RELU_BP: d 0, mask 1, ds 2, dsc 3
    wire ab_sc = sa ? (c[0] < c[3] || n[3] != n[0] || ceil_s(h[3], s2) != h[0] || ceil_s(w[3], s2) != w[0])
                    : s[3] != s[0];
    wire ab_bad = dt[0] != FP16 || dt[3] != FP16 || ab_sc ||
                  !(dt[1] == MASK && s[1] == s[0]) || !(dt[2] == FP16 && s[2] == s[0]);

    // 8 BN_CONV_BP: dy 0, xhat 1, mask 2, gamma 3, stats 4, w 5, x 6, dx 7, dW 8, dgamma 9, dbeta 10, dX 11
    wire [63:0] bb_wk = {c[0], c[6], THREE, THREE};
    wire [63:0] bb_vec = {ONE, c[0], ONE, ONE};
    wire bb_bad = dt[0] != FP16 || dt[6] != FP16 || n[6] != n[0] ||
                  !(dt[5] == INT8 && s[5] == bb_wk) ||
                  !(dt[1] == FP16 && s[1] == s[0]) || !(dt[2] == MASK && s[2] == s[0]) ||
                  !(dt[3] == FP16 && s[3] == bb_vec) || !(dt[4] == FP16 && vec3(s[4], c[0])) ||
                  div_s(h[6], s2) != h[0] || div_s(w[6], s2) != w[0] || (s2 && (h[6][0] || w[6][0])) ||
                  !(dt[7] == FP16 && s[7] == s[0]) || !(dt[8] == INT32 && s[8] == bb_wk) ||
                  !(dt[9] == FP16 && s[9] == bb_vec) || !(dt[10] == FP16 && s[10] == bb_vec) ||
                  (!nodx && !(dt[11] == FP16 && s[11] == s[6]));

    // 9 ADD: a 0, b 1, out 2
    wire ad_bad = dt[0] != FP16 || !(dt[1] == FP16 && s[1] == s[0]) || !(dt[2] == FP16 && s[2] == s[0]);

    reg bad_v;
    always @(*) begin
        case (op)
            4'd1: bad_v = cf_bad;
            4'd2: bad_v = af_bad;
            4'd3: bad_v = pf_bad;
            4'd4: bad_v = ff_bad;
            4'd5: bad_v = fb_bad;
            4'd6: bad_v = pb_bad;
            4'd7: bad_v = ab_bad;
            4'd8: bad_v = bb_bad;
            4'd9: bad_v = ad_bad;
            default: bad_v = 1'b0;
        endcase
    end
    assign bad = bad_v;
endmodule
`default_nettype wire
