"""Benchmarks: `make bench-<name>` runs bench/<name>.py (neuron, mnist, memory, pe, bn), which
writes reports/<report>.json stamped by tb.lib.provenance. The cocotb halves, which run inside the
simulator, are bench/*_sim.py: bn_sim (bn), memory_sim (memory), mlp_sim (neuron, mnist); bench/pe.py
runs the PE testbenches themselves (tb/test_pe_array.py, tb/test_pe_top.py) with PE_REPORT."""
