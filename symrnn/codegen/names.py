"""Python names in generated modules: a leaf's variable, a parameter's key, the loss call.

Shared by the plain printer (:mod:`~symrnn.codegen.numpy_module`) and the optimised one
(:mod:`~symrnn.codegen.optimized`), below both so neither imports the other for them.
"""

from __future__ import annotations

import keyword
import re

from symrnn import ir
from symrnn.ir import Node

LOSS_CODE = {
    "softmax_ce": "_softmax_ce({logits}, y)",
    "bce": "_sigmoid_bce({logits}, y)",
    "mse": "_squared_error({logits}, y)",
}


def py_name(name: str) -> str:
    out = re.sub(r"\W", "_", name)
    return out + "_" if keyword.iskeyword(out) or out in {"np", "t", "x", "y", "dtype"} else out


def leaf_name(node: Node) -> str:
    """The Python name of a leaf in generated code: W_hh, x, h_prev, d_h, g_W_hh."""
    base = py_name(node.name)
    if node.kind == ir.PARAM:
        return base
    if node.kind == ir.INPUT_KIND:
        return "x" if node.name == "x" else f"in_{base}"
    if node.kind == ir.TARGET:
        return "y"
    if node.kind == ir.GRAD:
        if node.shift is None:
            return f"g_{base}"
        assert node.shift == 0, node
        return f"d_{base}"
    if node.shift == -1:
        return f"{base}_prev"
    assert node.shift == 0, node
    return base
