"""Benchmarks for symrnn: hand-written NumPy baselines, PyTorch references, timing utilities."""
