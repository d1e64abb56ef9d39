`default_nettype none
// Field decode of a pe_ctrl layer descriptor (layout in pe_ctrl.v): the
// mapping's mode bits and the column tensor's shape. No arithmetic beyond
// compares and shifts; the counts and capacity come from pe_desc. `wgt`
// (WG 3x3 stride 2 with x on the rows) is pe_desc's result.
module pe_desc_dec (
    input  wire [95:0] desc,
    input  wire        wgt,
    output wire [1:0]  k,
    output wire [15:0] n, c, m, h, w,
    output wire        bp,         // BP phase
    output wire        wg,         // WG phase
    output wire        w3,         // WG 3x3
    output wire        wgc,        // WG 3x3 stride 1: CONV beats
    output wire        wgw,        // WG 3x3 stride 2, dout on the rows (WB)
    output wire        bc,         // BC counters: 1x1, FC or WG
    output wire        eo,         // BP 3x3 stride 2: EO beats
    output wire        cs,         // the columns read dout
    output wire [15:0] cx,         // channels read by the columns
    output wire [15:0] rows,       // channels on the rows
    output wire [15:0] ho, wo,     // output map
    output wire [15:0] hx, wx,     // the column tensor's map
    output wire [1:0]  sw,         // walker step over it
    output wire        shape_bad   // illegal shape (err_code 1)
);
    wire [1:0] phase  = desc[1:0];
    wire [1:0] stride = desc[5:4];
    wire [1:0] pad    = desc[7:6];
    wire       unused = &{1'b0, desc[15:8], 1'b0};
    assign k = desc[3:2];
    assign n = desc[31:16];
    assign c = desc[47:32];
    assign m = desc[63:48];
    assign h = desc[79:64];
    assign w = desc[95:80];
    assign bp   = phase == 2'd1;
    assign wg   = phase == 2'd2;
    assign w3   = wg && k == 2'd3;
    assign wgc  = w3 && stride == 2'd1;
    assign wgw  = w3 && !wgc && !wgt;
    assign bc   = k == 2'd1 || wg;
    assign eo   = bp && stride == 2'd2 && !bc;
    assign cs   = bp || (wgt && w3 && !wgc);
    assign cx   = cs ? m : c;
    assign rows = bp ? c : m;
    assign ho   = stride == 2'd2 ? h >> 1 : h;
    assign wo   = stride == 2'd2 ? w >> 1 : w;
    assign hx   = cs ? ho : h;
    assign wx   = cs ? wo : w;
    assign sw   = cs ? 2'd1 : stride;
    assign shape_bad = phase == 2'd3 || n == 0 || c == 0 || m == 0 || h == 0 || w == 0 ||
                       !(k == 2'd1 || k == 2'd3) || !(stride == 2'd1 || stride == 2'd2) ||
                       {1'b0, pad} != {1'b0, k} >> 1 ||
                       (stride == 2'd2 && (h[0] || w[0]));
endmodule
`default_nettype wire
