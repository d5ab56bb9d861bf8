"""Derived cells as layers: forward over a sequence and the derived BPTT as a vector-Jacobian product.

``Layer(cell)`` (NumPy or torch arrays), ``stack(...)``, ``bidirectional(cell)``,
``torch_module(cell)`` (an ``nn.Module`` whose backward is the derived one) and
``jax_function(cell)`` (``jax.custom_vjp``).  torch and JAX are imported only by their modules.
"""

from symrnn.layers.derive import LayerDerivation, LayerError, derive_layer
from symrnn.layers.run import Bidirectional, Layer, Stack, bidirectional, stack

__all__ = ["Bidirectional", "Layer", "LayerDerivation", "LayerError", "Stack", "bidirectional", "derive_layer", "stack"]
