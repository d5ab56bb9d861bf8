"""What ``\\langle a, b \\rangle`` means in a note: the outer product ``a b^\\top`` or the inner ``a^\\top b``.

Papers use the bracket for both (Greff et al. 2017 write ``\\delta W = \\sum_t
\\langle \\delta \\bar z^t, x^t \\rangle`` with "⟨·,·⟩ the outer product";
elsewhere it is the dot product), so the note must say which.  It says so in an
equation (``\\langle a, b \\rangle = a b^\\top`` or ``= a^\\top b``) or in the
sentence that shows the bracket ("the outer product", "the inner / dot / scalar
product").  A note that says both, or neither, leaves the bracket unread.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .extract import MathChunk

OUTER, INNER = "outer", "inner"

_LETTER = r"\\?[A-Za-z]+"
_SPACE = r"(?:\s|\\[,;:!]|\\q?quad)*"
_T = r"\^\s*(?:\\top|\\intercal|T|\{\s*(?:\\top|\\intercal|T)\s*\})"
# \langle a, b \rangle = a b^\top (outer) or = a^\top b (inner), the same two letters in order.
_STATEMENT = re.compile(
    rf"^\s*\\langle\s*(?P<a>{_LETTER})\s*,\s*(?P<b>{_LETTER})\s*\\rangle\s*=\s*"
    rf"(?P<x>{_LETTER})\s*(?P<xt>{_T})?{_SPACE}(?:\\cdot\s*)?(?P<y>{_LETTER})\s*(?P<yt>{_T})?\s*[.,;]?\s*$"
)
_WORDS = {
    OUTER: re.compile(r"\bouter\s+product", re.I),
    INNER: re.compile(r"\b(?:inner|dot|scalar)\s+product", re.I),
}
# A sentence: up to a full stop followed by a space, or a blank line.
_SENTENCE = re.compile(r"(?:[^.\n]|\.(?!\s)|\n(?!\s*\n))+")


@dataclass(frozen=True)
class AngleReading:
    """The note's reading of ⟨a, b⟩ and the chunks that state it (they are notation, not claims)."""

    kind: str
    statements: frozenset[int]  # offsets of the chunks that define the bracket


def angle_reading(source: str, chunks: Iterable[MathChunk]) -> AngleReading | None:
    """OUTER or INNER as the note states it (an equation or its sentence), else None."""
    chunks = list(chunks)
    kinds: set[str] = set()
    statements = set()
    for chunk in chunks:
        kind = _stated(chunk.text)
        if kind is not None:
            kinds.add(kind)
            statements.add(chunk.offset)
    if "\\langle" in source:
        for sentence in _SENTENCE.finditer(source):
            text = sentence.group()
            if not re.search(r"\\langle(?!\s*(?:[tTnkj]|\\tau)\b)", text):
                continue  # h^{\langle t \rangle} (a time index) says nothing of products
            kinds.update(kind for kind, words in _WORDS.items() if words.search(text))
    if len(kinds) != 1:
        return None
    return AngleReading(kinds.pop(), frozenset(statements))


def _stated(text: str) -> str | None:
    m = _STATEMENT.match(text)
    if m is None or (m["a"], m["b"]) != (m["x"], m["y"]):
        return None
    if m["yt"] and not m["xt"]:
        return OUTER
    if m["xt"] and not m["yt"]:
        return INNER
    return None


__all__ = ["INNER", "OUTER", "AngleReading", "angle_reading"]
