"""Element-wise functions as Python callables on IR nodes: ``sigmoid(W @ x + b)``."""

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
