// Operation codes shared by mlp_net (issue) and mlp_lane (execute).
localparam [3:0] OP_NOP    = 4'd0,
                 OP_MAC    = 4'd1,   // A = bcast, B = weight, C = +0 / feedback
                 OP_FOLD   = 4'd2,   // ps[0] = ps[idx] + ps[0]
                 OP_SIG1   = 4'd3,   // y = |s| * b_k + a_k
                 OP_SIG2   = 4'd4,   // a = s < 0 ? 1 - y : y
                 OP_ODELTA = 4'd5,   // delta = a - target
                 OP_LOADA  = 4'd6,   // a = activation word (no arithmetic)
                 OP_LOADD  = 4'd7,   // d = delta word (no arithmetic)
                 OP_ONEMA  = 4'd8,   // t1 = a * -1 + 1
                 OP_EA     = 4'd9,   // ps[0] = e * a
                 OP_HDELTA = 4'd10,  // delta = (e * a) * t1
                 OP_DACC   = 4'd11,  // Delta = a_j * d + (first ? +0 : Delta)
                 OP_DSCALE = 4'd12,  // D = Delta * (1/m)
                 OP_GD     = 4'd13,  // w = D * (-alpha) + w
                 OP_CLR    = 4'd14,  // ps[*] = +0
                 OP_GEN    = 4'd15;  // microcoded step of the ALU sigmoid (r_gen, r_k1, r_k2)
