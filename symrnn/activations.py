"""Element-wise functions as Python callables on IR nodes: ``sigmoid(W @ x + b)``.

One callable per row of the function table (:mod:`symrnn.functions`); the common ones are
written out for readers and editors, the rest come from the table by name.
"""

from __future__ import annotations

from symrnn import ir
from symrnn.ir import Node


def sigmoid(x: Node) -> Node:
    return ir.apply("sigmoid", x)


def tanh(x: Node) -> Node:
    return ir.apply("tanh", x)


def relu(x: Node) -> Node:
    return ir.apply("relu", x)


def identity(x: Node) -> Node:
    return ir.apply("identity", x)


def exp(x: Node) -> Node:
    return ir.apply("exp", x)


def log(x: Node) -> Node:
    return ir.apply("log", x)


def softmax(x: Node) -> Node:
    return ir.softmax(x)


def generic(name: str):
    """An unnamed element-wise function (``f``): its derivative stays symbolic as f'."""

    def function(x: Node) -> Node:
        return ir.apply(name, x)

    function.__name__ = name
    return function


def __getattr__(name: str):
    """Every other row of the function table as a callable too: ``activations.softplus(x)``."""
    from symrnn.functions import FUNCTIONS

    if name in FUNCTIONS:
        return generic(name)
    raise AttributeError(f"module 'symrnn.activations' has no attribute {name!r}")
