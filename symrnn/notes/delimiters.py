"""Bars and angle signs told apart before the grammar sees them (one linear pass).

LaTeX writes a norm's two sides with the same sign (``\\|x\\|``, ``|w|``) and
uses ``<``/``>`` both as relations and as the brackets of a time index
(``a^{<t>}``); an LALR grammar cannot tell them apart.  This pass decides
each from its context and replaces the sign by private-use characters of the
same length, so every offset stays where it was:

* ``\\left\\|`` / ``\\lVert`` open a norm, ``\\right\\|`` / ``\\rVert`` close it; a
  bare ``\\|`` or ``\\Vert`` closes the innermost open norm of the same bracket
  level, else opens one.  Single bars (``|w|``, ``\\lvert``, ``\\vert``) likewise
  make an absolute value, except directly inside square brackets, where
  ``[W_h | W_x]`` separates blocks.  A bar left unpaired is left as it was.
* ``<`` right after ``^`` or ``^{`` opens a time index and the next ``>`` at its
  level closes it; every other ``<`` and ``>`` is a relation.
* A minus right after the limits of ``\\sum``/``\\prod`` (``\\sum_{i=1}^{n} -\\log p_i``)
  starts the body: it is marked so the body, not the sum, is negated.
"""

from __future__ import annotations

import re

NORM_OPEN = "\ue012"
NORM_CLOSE = "\ue013"
ABS_OPEN = "\ue014"
ABS_CLOSE = "\ue015"
LESS = "\ue016"
GREATER = "\ue017"
BODY_MINUS = "\ue018"
MARKERS = frozenset(NORM_OPEN + NORM_CLOSE + ABS_OPEN + ABS_CLOSE + LESS + GREATER + BODY_MINUS)

_COMMAND = re.compile(r"\\(?:[A-Za-z]+|.)", re.S)
# command → (kind, forced side): kind "norm" or "abs"; side "open", "close" or None
_BAR_COMMANDS = {
    "\\|": ("norm", None),
    "\\Vert": ("norm", None),
    "\\lVert": ("norm", "open"),
    "\\rVert": ("norm", "close"),
    "\\vert": ("abs", None),
    "\\lvert": ("abs", "open"),
    "\\rvert": ("abs", "close"),
}
_OPENERS = {"(": ")", "[": "]", "{": "}"}
# A closer looks this far down the stack for its opener (keeps the pass linear;
# brackets nest at most MAX_NESTING deep, checked before).
_MAX_LOOK = 64
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def mark_delimiters(text: str) -> str:
    """``text`` with norm bars, absolute-value bars and relation ``<``/``>`` marked (same length)."""
    if not any(c in text for c in "|<>") and "Vert" not in text and "vert" not in text:
        return text
    out = list(text)
    # stack entries: [kind, start, end] with kind "(", "[", "{", "angle", "norm", "abs"
    stack: list[list] = []
    forced: str | None = None  # "open" after \left, "close" after \right
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            m = _COMMAND.match(text, i)
            if m is None:
                break
            name = m.group()
            if name in ("\\left", "\\bigl", "\\Bigl", "\\biggl", "\\Biggl"):
                forced = "open"
            elif name in ("\\right", "\\bigr", "\\Bigr", "\\biggr", "\\Biggr"):
                forced = "close"
            elif name in _BAR_COMMANDS:
                kind, side = _BAR_COMMANDS[name]
                _bar(stack, out, kind, side or forced, i, m.end(), square_ok=True)
                forced = None
            elif name not in ("\\big", "\\Big", "\\bigg", "\\Bigg", "\\bigm", "\\Bigm"):
                forced = None
            i = m.end()
            continue
        if ch.isspace():
            i += 1
            continue
        if ch == "|":
            _bar(stack, out, "abs", forced, i, i + 1, square_ok=forced is not None)
        elif ch in _OPENERS:
            stack.append([ch, i, i + 1])
        elif ch in _CLOSERS:
            _close(stack, out, _CLOSERS[ch])
        elif ch == "<":
            if _after_caret(text, i):
                stack.append(["angle", i, i + 1])
            else:
                out[i] = LESS
        elif ch == ">":
            if stack and stack[-1][0] == "angle":
                stack.pop()
            else:
                out[i] = GREATER
        forced = None
        i += 1
    _close(stack, out, None)
    return "".join(out)


def _bar(stack: list[list], out: list[str], kind: str, side: str | None, s: int, e: int, square_ok: bool) -> None:
    top = stack[-1][0] if stack else None
    if side is None and top == "[" and kind == "abs" and not square_ok:
        return  # [A | B]: a block separator
    if side != "open" and top == kind:
        _, os_, oe = stack.pop()
        out[os_:oe] = (NORM_OPEN if kind == "norm" else ABS_OPEN) * (oe - os_)
        out[s:e] = (NORM_CLOSE if kind == "norm" else ABS_CLOSE) * (e - s)
        return
    if side == "close":
        return  # nothing to close: left as written (an error names it)
    stack.append([kind, s, e])


def _close(stack: list[list], out: list[str], opener: str | None) -> None:
    """Pop to ``opener`` (None: everything); bars still open inside stay as written."""
    if opener is not None and not any(entry[0] == opener for entry in stack[-_MAX_LOOK:]):
        return  # (a closer without its opener: the grammar reports it)
    while stack:
        entry = stack.pop()
        if entry[0] == opener:
            return


def _after_caret(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j].isspace():
        j -= 1
    if j >= 0 and text[j] == "{":
        j -= 1
        while j >= 0 and text[j].isspace():
            j -= 1
    return j >= 0 and text[j] == "^"


_BIG_OPERATOR = re.compile(r"\\(?:sum|prod)(?![A-Za-z])")
_SCRIPT_ARG = re.compile(r"\s*(?:\\[A-Za-z]+|\\.|[^{\s])")


def mark_sum_bodies(text: str) -> str:
    """``text`` with the minus that opens a sum's body marked as BODY_MINUS (same length)."""
    if "-" not in text or ("\\sum" not in text and "\\prod" not in text):
        return text
    out = None
    for m in _BIG_OPERATOR.finditer(text):
        i = after_scripts(text, m.end())
        if i < len(text) and text[i] == "-":
            out = out or list(text)
            out[i] = BODY_MINUS
    return text if out is None else "".join(out)


def after_scripts(text: str, i: int) -> int:
    """The first offset after the limits (``_{…}^{…}``, ``\\limits``) and spaces that follow ``i``."""
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if text.startswith("\\limits", i) or text.startswith("\\nolimits", i):
            i += 7 if text.startswith("\\limits", i) else 9
            continue
        if i >= n or text[i] not in "_^":
            return i
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] == "{":
            depth = 0
            while i < n:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 2 if text[i] == "\\" else 1
                if depth == 0:
                    break
        else:
            m = _SCRIPT_ARG.match(text, i)
            i = m.end() if m else n
