"""Which single letters (f, g, φ, ψ) a note uses as functions.

``f(x)`` may be "f applied to x" or "f times x".  A note means the first when it
writes the bare letter right before a parenthesis (``f(``, ``f\\left(``,
``f'(``) or names a function with it (``f = \\tanh``), and never uses the bare
letter as a variable in an equation.  ``f_t`` or ``W_f`` are other names and do
not count; mentions such as "$f$ is the activation" do not count either.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

from .extract import MathChunk

# Letters that notes use for unnamed functions, spelled as in the source.
CANDIDATES = {"f": "f", "g": "g", "\\phi": "phi", "\\varphi": "varphi", "\\psi": "psi"}

_TOKEN = re.compile(
    r"\\(?:mathrm|operatorname\*?|text\w*|math[a-z]+|begin|end|label|tag)\s*\{[^{}]*\}"
    r"|(?<![A-Za-z])(?:softmax|sigmoid|tanh|relu|log|exp)(?![A-Za-z])"
    r"|\\[A-Za-z]+|\\.|\s+|.",
    re.S,
)
_SPACING = frozenset(
    ["\\,", "\\;", "\\:", "\\!", "\\ ", "~", "\\quad", "\\qquad", "\\left", "\\right"]
    + [f"\\{size}{side}" for size in ("big", "Big", "bigg", "Bigg") for side in ("", "l", "r", "m")]
)
_NAMED_FUNCTIONS = frozenset(r"\sigma \tanh \log \exp \ln \sin \cos \sinh \cosh \max \min \sqrt".split())
_WRAPPERS = frozenset(
    r"\tilde \hat \bar \widetilde \widehat \overline \check \dot \ddot \breve \vec \mathbf \boldsymbol \bm".split()
)


def function_letters(chunks: Iterable[MathChunk]) -> frozenset[str]:
    """Names (as Symbol/Func names: "f", "phi", …) the chunks use as functions."""
    applied: set[str] = set()
    as_variable: set[str] = set()
    for chunk in chunks:
        raw = _TOKEN.findall(chunk.text)
        for i, token in enumerate(raw):
            name = CANDIDATES.get(token)
            if name is None or _is_part_of_another_name(raw, i):
                continue
            after = _significant(raw, i + 1)
            while after and after[0] == "'":
                after = after[1:]
            if after[:1] in (["_"], ["^"]):
                continue  # f_t, g^{(t)}: a different name
            if after[:1] == ["("] or (after[:1] == ["="] and _is_function_name(after[1:2])):
                applied.add(name)
            elif chunk.is_equation:
                as_variable.add(name)
    return frozenset(applied - as_variable)


def _significant(raw: list[str], start: int, limit: int = 3) -> list[str]:
    """Up to ``limit`` tokens from ``start`` on, skipping spaces and spacing commands."""
    out = []
    for token in itertools.islice(raw, start, None):
        if token.isspace() or token in _SPACING:
            continue
        out.append(token)
        if len(out) == limit:
            break
    return out


def _is_part_of_another_name(raw: list[str], i: int) -> bool:
    before = [t for t in raw[max(0, i - 6) : i] if not t.isspace() and t not in _SPACING][-2:]
    if before[-1:] and (before[-1] in ("_", "^") or before[-1] in _WRAPPERS):
        return True
    if before[-2:-1] and before[-1] == "{" and before[-2] in _WRAPPERS:
        return True
    # A letter touching other letters is part of a word written without \mathrm.
    return (i > 0 and _is_letter(raw[i - 1])) or (i + 1 < len(raw) and _is_letter(raw[i + 1]))


def _is_letter(token: str) -> bool:
    return len(token) == 1 and token.isalpha()


def _is_function_name(tokens: list[str]) -> bool:
    if not tokens:
        return False
    token = tokens[0]
    if token in _NAMED_FUNCTIONS or token in ("softmax", "sigmoid", "tanh", "relu", "log", "exp"):
        return True
    m = re.fullmatch(r"\\(?:mathrm|operatorname\*?|text)\s*\{\s*([A-Za-z]{2,})\s*\}", token)
    return m is not None
