"""Benchmarks: `make bench-<name>` runs bench/<name>.py, which writes reports/<report>.json;
bench/<name>_sim.py is its cocotb half (what runs inside the simulator)."""
