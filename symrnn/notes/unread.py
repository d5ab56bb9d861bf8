"""What an equation the reader could not read may define, so no claim is judged without it.

An unreadable line is ``unchecked`` (its construct named), and every other line
is still read.  But a forward equation or a loss that could not be read leaves a
hole in the note's model: ``net_h(t)`` would look like an input, ``L`` like a
loss the note leaves generic, and a claim judged on that model could be called
WRONG (or hold) for the checker's fault.  So the left side of each unreadable
line is recovered where our own grammar reads it (the text before its first
top-level ``=``): a symbol there is *tainted*, and so is everything computed
from it; a line whose left side cannot be read at all taints the whole note.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import NotesSyntaxError
from .parse import parse_latex
from .tree import Apply, Symbol

# Brackets that nest (a ``=`` inside them is not the equation's relation).
_OPEN, _CLOSE = "{([", "})]"
UNKNOWN = ("?",)  # a taint key meaning "this line may define anything"


@dataclass(frozen=True)
class Hole:
    """An unreadable line of the note: where, why, and the key of what it may define."""

    line: int
    column: int
    reason: str
    defines: tuple | None  # a symbol key, UNKNOWN, or None when its left side is a gradient or a claim


def left_side(latex: str) -> str | None:
    """The text before the first ``=`` outside brackets (None when there is none)."""
    depth = 0
    for i, ch in enumerate(latex):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch == "=" and depth == 0:
            if i and latex[i - 1] in "<>!:\\":
                continue
            return latex[:i]
    return None


def hole_of(line: int, column: int, latex: str, reason: str, key) -> Hole:
    """The :class:`Hole` of one unreadable line.

    Args:
        line, column: where it is.
        latex: the math text the reader could not read.
        reason: why (the reader's message, with the construct).
        key: the function giving a symbol's key (reading.key).

    Returns:
        The Hole; ``defines`` is the key of a symbol on its left side, UNKNOWN when the
        left side cannot be read, None when it is no definition (no ``=``, or a gradient).
    """
    lhs_text = left_side(latex)
    if lhs_text is None:
        return Hole(line, column, reason, None)
    text = lhs_text.replace("&", " ").strip()
    if not text:
        return Hole(line, column, reason, UNKNOWN)
    try:
        tree = parse_latex(text)
    except NotesSyntaxError:
        return Hole(line, column, reason, UNKNOWN)
    if isinstance(tree, Apply) and isinstance(tree.func, Symbol):
        tree = tree.func
    if isinstance(tree, Symbol):
        # h_t = …, L = …, and also δ_u = … or dh_next = … (names later lines may use).
        return Hole(line, column, reason, key(tree))
    return Hole(line, column, reason, None)


def tainted_keys(holes, definitions: dict, symbols_of) -> set:
    """Every key a hole may define, and every defined key computed from one.

    Args:
        holes: the note's Holes.
        definitions: key → right side of each forward equation.
        symbols_of: a function giving the symbol keys of a right side.

    Returns:
        The set of tainted keys (it holds UNKNOWN when some line may define anything).
    """
    tainted = {h.defines for h in holes if h.defines is not None}
    changed = True
    while changed:
        changed = False
        for k, rhs in definitions.items():
            if k not in tainted and tainted & set(symbols_of(rhs)):
                tainted.add(k)
                changed = True
    return tainted


__all__ = ["UNKNOWN", "Hole", "hole_of", "left_side", "tainted_keys"]
