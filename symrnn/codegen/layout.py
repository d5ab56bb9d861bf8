"""Where the optimised code keeps things: code for sizes, gate blocks and columns, leaves.

Tapes hold one block per step: (T + 1, batch, size) for forward values (row 0 the initial
state, row t + 1 step t); the gates of a step are one contiguous block of ``tape_A``
(T + 1, gates, batch, size); their pre-activation gradients are columns of ``tape_DA``
(T, batch, gates·size), gate k in columns k·size…(k+1)·size.
"""

from __future__ import annotations

from symrnn import ir
from symrnn.codegen.numpy_printer import dim_code
from symrnn.ir import Node


def scaled(node: Node, scale: int) -> Node:
    """``scale · node`` (a gate's exp-form scale folded into one of its terms)."""
    return node if scale == 1 else ir.scale(scale, node)


def size_code(node: Node) -> str:
    """Code for the row count of a value, e.g. ``hidden_size``."""
    return dim_code(node.shape[0])


def gate_columns(first, last, origin=None) -> str:
    """Columns ``first.start·size : last.stop·size`` of a row of gate gradients (gate k: k·size…)."""
    size = first.pre.shape[0]
    offset = origin.start if origin is not None else 0
    return f"{dim_code((first.start - offset) * size)}:{dim_code((last.stop - offset) * size)}"


def gate_index(g) -> str:
    """The gate's block index in the gate buffers."""
    return dim_code(g.start)


def input_leaves(d) -> list[Node]:
    """The cell's inputs at step t, as the leaves equations read."""
    return [ir.var(name, node.shape, ir.INPUT_KIND, 0) for name, node in d.cell.inputs.items()]
