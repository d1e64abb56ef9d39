// Reference circuit for the power hand-check (tests/test_synth.py): four
// flops and three gates, mapped by hand to NanGate45 cells.
module ref_circuit (clk, d, y);
  input clk;
  input [3:0] d;
  output [2:0] y;
  wire q0, q1, q2, q3;
  DFF_X1 f0 (.D(d[0]), .CK(clk), .Q(q0));
  DFF_X1 f1 (.D(d[1]), .CK(clk), .Q(q1));
  DFF_X1 f2 (.D(d[2]), .CK(clk), .Q(q2));
  DFF_X1 f3 (.D(d[3]), .CK(clk), .Q(q3));
  INV_X1 u0 (.A(q0), .ZN(y[0]));
  NAND2_X1 u1 (.A1(q1), .A2(q2), .ZN(y[1]));
  XOR2_X1 u2 (.A(q2), .B(q3), .Z(y[2]));
endmodule
