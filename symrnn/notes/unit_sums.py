"""Sums over the units of a vector: ``\\sum_j e^{y_{t,j}}`` is the sum of the entries of exp(y_t).

A sum whose index is written as the label of names in its body (``y_{t,j}`` read as y_j at step t)
runs over the entries of those names, not over steps: the body, with the label taken off, is
computed element-wise and its entries are added.  Only bodies that are element-wise as written
(functions of one argument, integer powers, sums, scaling by numbers) are read this way; any other
body is refused with a reason, never unrolled as a sum over steps.
"""

from __future__ import annotations

import dataclasses

from .reading import key, symbols, walk
from .tree import Add, Apply, Func, Neg, Number, Power, Product, Sub, Sum, Symbol, map_subtrees

_ELEMENTWISE_NODES = (Symbol, Number, Neg, Add, Sub, Apply, Func, Power, Product)


def labelled_by_index(node: Sum) -> bool:
    """Does the sum's index appear as the label of a name in its body (``y_{t,j}`` under ``\\sum_j``)?"""
    return node.index is not None and any(s.sub == node.index.name for s in symbols(node.body))


def unit_sum_body(node: Sum, quantities) -> tuple[object | None, str]:
    """(the body with the label taken off, "") for a sum over units, else (None, why it is not read)."""
    index = node.index.name
    if node.lower is not None and not (isinstance(node.lower, Number) and node.lower.value == 1):
        return None, f"a sum over the units {index} that does not start at the first one"
    if node.upper is not None and not (isinstance(node.upper, Symbol) and node.upper.time is None):
        return None, f"a sum over the units {index} up to something other than a size"
    for n in walk(node.body):
        if not isinstance(n, _ELEMENTWISE_NODES):
            return None, f"a sum over the units {index} of a {type(n).__name__}"
        if isinstance(n, Apply) and (not isinstance(n.func, Func) or len(n.args) != 1 or n.func.name == "softmax"):
            return None, f"a sum over the units {index} of a function that is not element-wise"
        if isinstance(n, Power) and not isinstance(n.exponent, Number):
            return None, f"a sum over the units {index} of a power that is not a number"
        if isinstance(n, Product) and n.op not in ("odot", "circ", "ast", "*") and not _number_factor(n):
            if n.op not in ("juxt", "cdot", "times") or not (_labelled(n.left, index) and _labelled(n.right, index)):
                return None, f"a sum over the units {index} of a product that is not element-wise"
        if isinstance(n, Symbol) and n.sub == index:
            if key(dataclasses.replace(n, sub=None)) not in quantities:
                return None, f"a sum over the units {index} of {n.name}, which the note does not define"
        elif isinstance(n, Symbol) and n.time is not None:
            return None, f"a sum over the units {index} of {n.name}, which is not taken unit by unit"
    return _strip(node.body, index), ""


def _number_factor(n: Product) -> bool:
    return isinstance(n.left, Number) or isinstance(n.right, Number)


def _labelled(node, index: str) -> bool:
    return any(s.sub == index for s in symbols(node))


def _strip(node, index: str):
    """The body with every label ``index`` taken off and every product of two labelled factors element-wise."""
    if isinstance(node, Symbol):
        return dataclasses.replace(node, sub=None) if node.sub == index else node
    if isinstance(node, Product) and not _number_factor(node):
        return Product("odot", _strip(node.left, index), _strip(node.right, index), span=node.span)
    if isinstance(node, tuple):
        return tuple(_strip(n, index) for n in node)
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return node
    return map_subtrees(node, lambda child: _strip(child, index))


__all__ = ["labelled_by_index", "unit_sum_body"]
