"""A sequence length written ``n`` (Jurafsky & Martin: ``x_1, \\dots, x_n``, ``h^f_n``), read as the last step T.

Notes name the last step T, N, or (in Jurafsky & Martin's SLP) n.  ``n`` is the
length only when the note says so: it closes a range of steps (``x_1, \\dots,
x_n``, ``t = 1, \\dots, n``) or a sum over steps (``\\sum_{t=1}^{n}``), and the note
never uses T, never sums over n and never states a size with n
(``\\mathbb{R}^{n}``).  Then every step n (``h_n``, ``h_{n+1}``) and the bare
letter in limits are renamed T, which the checker knows as the number of steps.
"""

from __future__ import annotations

import dataclasses

from .tree import Dots, Equation, Power, Sum, Symbol, TimeIndex, Tuple, compared_subtrees, map_subtrees

LETTER = "n"
LAST = "T"


def length_letter(trees) -> str | None:
    """LETTER when the note uses it as its sequence length (see the module docstring), else None."""
    trees = list(trees)
    closes = False
    for tree in trees:
        for node in compared_subtrees(tree):
            if isinstance(node, Symbol) and (node.name == LAST or (node.time is not None and _uses(node.time, LAST))):
                return None  # the note has a T of its own
            if isinstance(node, Sum):
                if node.index is not None and node.index.name == LETTER:
                    return None  # n indexes a sum: a unit or sample index, not the length
                if _is_letter(node.upper) and node.index is not None and node.index.name != LETTER:
                    closes = True
            if isinstance(node, Equation) and "in" in node.ops:
                space = node.sides[node.ops.index("in") + 1]
                if isinstance(space, Power) and any(_is_letter(n) for n in compared_subtrees(space.exponent)):
                    return None  # \mathbb{R}^{n}: n is a size
            if isinstance(node, Tuple) and any(isinstance(i, Dots) for i in node.items):
                last = node.items[-1]
                if _is_letter(last) or (
                    isinstance(last, Symbol) and last.time is not None and last.time == TimeIndex(LETTER)
                ):
                    closes = True
    return LETTER if closes else None


def rename_length(node, letter: str):
    """``node`` with the step ``letter`` (and the bare letter) written as T."""
    if isinstance(node, Symbol):
        if node.time is not None and _uses(node.time, letter):
            time = node.time
            terms = tuple((sign, LAST if name == letter else name) for sign, name in time.terms)
            var = LAST if time.var == letter else (time.var.replace(letter, LAST) if terms else time.var)
            return dataclasses.replace(node, time=dataclasses.replace(time, var=var, terms=terms))
        if _is_letter(node, letter):
            return dataclasses.replace(node, name=LAST)
        return node
    if not dataclasses.is_dataclass(node) or isinstance(node, TimeIndex):
        return node
    return map_subtrees(node, lambda child: rename_length(child, letter))


def _uses(time: TimeIndex, letter: str) -> bool:
    return time.var == letter or any(name == letter for _, name in time.terms)


def _is_letter(node, letter: str = LETTER) -> bool:
    return isinstance(node, Symbol) and node == Symbol(letter)


__all__ = ["LAST", "LETTER", "length_letter", "rename_length"]
