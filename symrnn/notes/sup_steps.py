"""``y^0``, ``c^1`` in a note that writes steps above (``y^t``, ``c^{t-1}``, Greff et al. 2017): steps, not powers.

An integer above a symbol reads as a power (``x^2``).  But where the note writes
the steps of that same symbol above, ``y^0`` is the initial output and ``\\bar
z^1`` the first step's pre-activation: a zeroth or first power would be
pointless.  Only 0 and 1 are read so; ``y^2`` stays a square.
"""

from __future__ import annotations

import dataclasses

from .tree import Number, Power, Symbol, TimeIndex, compared_subtrees, map_subtrees

STEPS = frozenset({"0", "1"})


def sup_step_keys(trees) -> set[tuple]:
    """The symbols (name, accents, sub, primes, font) the note writes with a step above."""
    out = set()
    for tree in trees:
        for node in compared_subtrees(tree):
            if isinstance(node, Symbol) and node.time is not None and node.time.style == "sup" and node.sup is None:
                out.add(_key(node))
    return out


def read_sup_steps(node, keys: set[tuple]):
    """``node`` with each ``s^0`` / ``s^1`` of a symbol in ``keys`` read as the step 0 / 1."""
    if not keys:
        return node
    if isinstance(node, Power) and isinstance(node.base, Symbol) and isinstance(node.exponent, Number):
        base = node.base
        if base.time is None and base.sup is None and node.exponent.text in STEPS and _key(base) in keys:
            time = TimeIndex(None, int(node.exponent.text), style="sup")
            return dataclasses.replace(base, time=time, span=node.span)
    if not dataclasses.is_dataclass(node) or isinstance(node, TimeIndex | Symbol):
        return node
    return map_subtrees(node, lambda child: read_sup_steps(child, keys))


def _key(symbol: Symbol) -> tuple:
    return (symbol.name, symbol.accents, symbol.sub, symbol.primes, symbol.font)


__all__ = ["read_sup_steps", "sup_step_keys"]
