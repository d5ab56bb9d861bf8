"""Parameter dicts for a derivation, in the layout of the generated code."""

from __future__ import annotations

import numpy as np
import sympy

from symrnn import ir


def array_shape(node, sizes: dict) -> tuple[int, ...]:
    """The NumPy shape of a parameter: biases 1-D, matrices as in the math.

    Raises:
        ValueError: a size of the parameter's shape is not in ``sizes`` (it is named).
    """
    given = {str(k) for k in sizes}
    for dim in node.shape:
        missing = sorted(str(s) for s in sympy.sympify(dim).free_symbols if str(s) not in given)
        if missing:
            raise ValueError(f"parameter {node.name!r} has a size {missing[0]}: pass sizes={{{missing[0]!r}: n}}")
    rows, cols = (int(sympy.sympify(s).subs(sizes)) for s in node.shape)
    return (rows,) if node.is_column else (rows, cols)


def init_params(
    derivation,
    *,
    hidden_size: int,
    input_size: int,
    output_size: int,
    seed: int = 0,
    dtype="float64",
    sizes: dict | None = None,
) -> dict:
    """Weights and biases uniform in ±1/√hidden_size (PyTorch's RNN initialisation).

    Args:
        hidden_size, input_size, output_size: the sizes of h, x and y.
        sizes: any further size the cell declares, by name (e.g. ``{"proj_size": 4}``).
        seed: seed of ``numpy.random.default_rng``; same seed, same parameters.
        dtype: ``"float64"`` or ``"float32"``.
    """
    extra = dict(sizes or {})
    named = (("hidden_size", hidden_size), ("input_size", input_size), ("output_size", output_size))
    for name, value in (*named, *extra.items()):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    symbols = {str(s): s for node in derivation.params.values() for d in node.shape for s in d.free_symbols}
    sizes = {ir.HIDDEN: hidden_size, ir.INPUT: input_size, ir.OUTPUT: output_size}
    sizes.update({symbols[k]: v for k, v in extra.items() if k in symbols})
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(hidden_size)
    return {
        name: rng.uniform(-bound, bound, array_shape(node, sizes)).astype(dtype)
        for name, node in derivation.params.items()
    }
