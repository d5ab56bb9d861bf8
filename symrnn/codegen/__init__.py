"""Code generation from derivations: batched NumPy modules."""
