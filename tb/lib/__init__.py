"""Reusable cocotb verification library: streams, scoreboards, clock and reset."""
