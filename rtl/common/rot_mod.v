`default_nettype none
// out[u] = in[(u + amt) % N]: a rotation by a run-time amount in ceil(log2 N)
// stages of 2:1 multiplexers, stage k a fixed rotation by 2^k mod N (the
// stages compose to amt mod N for any N). A multiplexer per output over all N
// inputs grows as N^2: at N = 100 the MLP engine's bank crossbars would be a
// million multiplexer inputs.
module rot_mod #(
    parameter N  = 10,  // elements, >= 1 (need not be a power of 2)
    parameter W  = 32,  // bits per element
    parameter AW = 4    // amount bits, 2^AW >= N
) (
    input  wire [N*W-1:0]  in,
    // the amount (< N), one copy per output element: every copy must hold the
    // same value; separate registers keep each copy's fan-out at AW x W
    input  wire [N*AW-1:0] amt,
    output wire [N*W-1:0]  out
);
    initial begin
        if (N < 1 || W < 1) $fatal(1, "rot_mod: N and W must be >= 1");
        if (AW < 1 || (1 << AW) < N) $fatal(1, "rot_mod: AW >= 1 and 2^AW >= N");
    end

    // one vector per stage (gen_stage[k].q): an array of stages reads as one
    // signal feeding itself, which Verilator flags as circular (UNOPTFLAT)
    genvar k, u;
    generate
        for (k = 0; k < AW; k = k + 1) begin : gen_stage
            localparam integer S = (1 << k) % N;
            wire [N*W-1:0] d;
            wire [N*W-1:0] q;
            if (k == 0) begin : gen_in
                assign d = in;
            end else begin : gen_prev
                assign d = gen_stage[k-1].q;
            end
            for (u = 0; u < N; u = u + 1) begin : gen_elem
                assign q[u*W +: W] = amt[u*AW + k] ? d[((u + S) % N)*W +: W] : d[u*W +: W];
            end
        end
    endgenerate
    assign out = gen_stage[AW-1].q;
endmodule
`default_nettype wire
