"""PyTorch and numpy reference models; nothing here imports cocotb."""
