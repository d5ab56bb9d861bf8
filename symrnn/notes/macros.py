"""Macros a note defines (``\\newcommand``, ``\\def``, …), expanded by us, within stated bounds.

TeX never runs: a macro's body is text substituted for its use, its ``#1``…
``#9`` replaced by the arguments written after it (a ``{group}`` or one
token; an optional first argument in ``[…]`` when the definition gives a
default).  Expansion repeats on the result up to MAX_MACRO_DEPTH times and
stops with an error when the text would grow past MAX_MACRO_EXPANSION_CHARS,
so ``\\def\\x{\\x\\x}`` costs nothing.  Every character an expansion produces
maps back to the start of the macro's use, so errors still point into the note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .limits import MAX_MACRO_DEPTH, MAX_MACRO_EXPANSION_CHARS, MAX_MACROS, too_big
from .source import OffsetMap

_NAME = re.compile(r"\\([A-Za-z]+)")


@dataclass(frozen=True)
class MacroDef:
    """``name`` (with its backslash) takes ``count`` arguments; ``default`` is the optional first one's.

    ``offset`` is where the definition starts in the note, ``body_offset`` where its body does.
    """

    name: str
    count: int
    default: str | None
    body: str
    offset: int
    body_offset: int


class MacroError(ValueError):
    """An expansion that cannot be done: ``offset`` into the text being expanded."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def macro_table(definitions: list[MacroDef]) -> dict[str, MacroDef]:
    """The macros in force after ``definitions`` (a later one replaces an earlier one)."""
    if len(definitions) > MAX_MACROS:
        raise MacroError(definitions[MAX_MACROS].offset, too_big("the note defines too many macros", MAX_MACROS))
    return {d.name: d for d in definitions}


def expand(text: str, macros: dict[str, MacroDef]) -> tuple[str, OffsetMap | None]:
    """``text`` with every use of ``macros`` expanded, and the map back to ``text`` (None: unchanged).

    Raises:
        MacroError: a use lacks its arguments, nests past MAX_MACRO_DEPTH, or the
            text grows past MAX_MACRO_EXPANSION_CHARS.
    """
    if not macros or not any(m.group() in macros for m in _NAME.finditer(text)):
        return text, None
    pieces: list[tuple[str, int, bool]] = []  # (text, offset in the original, exact)
    budget = [MAX_MACRO_EXPANSION_CHARS]
    _expand_into(text, macros, 0, pieces, budget, top=True, base=0)
    starts, targets, exact, out, index = [], [], [], [], 0
    for piece, target, is_exact in pieces:
        if not piece:
            continue
        starts.append(index)
        targets.append(target)
        exact.append(is_exact)
        out.append(piece)
        index += len(piece)
    if not starts:
        return "", OffsetMap((0,), (0,), (False,))
    return "".join(out), OffsetMap(tuple(starts), tuple(targets), tuple(exact))


def _expand_into(text, macros, depth, pieces, budget, top: bool, base: int) -> None:
    """Append the expansion of ``text`` to ``pieces``.

    At the top level pieces are exact slices of the original (``base`` + index);
    inside an expansion every piece maps to ``base``, the use's start.
    """
    if depth > MAX_MACRO_DEPTH:
        raise MacroError(base, too_big("macros expand into each other too deeply", MAX_MACRO_DEPTH, "levels"))
    i, n, plain = 0, len(text), 0
    while i < n:
        m = _NAME.match(text, i) if text[i] == "\\" else None
        if m is None:
            i += 2 if text[i] == "\\" else 1
            continue
        macro = macros.get(m.group())
        if macro is None:
            i = m.end()
            continue
        at = base + i if top else base
        args, end = _arguments(text, m.end(), macro, at)
        _emit(pieces, text[plain:i], base + plain if top else base, top, budget, at)
        # Each use costs at least one character of the budget, and its body is sized before it is built.
        grown = len(macro.body) + macro.body.count("#") * max((len(a) for a in args), default=0)
        budget[0] -= 1
        if grown > budget[0]:
            raise MacroError(
                at, too_big("macro expansion makes this math too long", MAX_MACRO_EXPANSION_CHARS, "characters")
            )
        body = _substitute(macro.body, args)
        _expand_into(body, macros, depth + 1, pieces, budget, top=False, base=at)
        i = plain = end
    _emit(pieces, text[plain:], base + plain if top else base, top, budget, base)


def _emit(pieces, piece: str, target: int, exact: bool, budget, at: int) -> None:
    budget[0] -= len(piece)
    if budget[0] < 0:
        raise MacroError(
            at, too_big("macro expansion makes this math too long", MAX_MACRO_EXPANSION_CHARS, "characters")
        )
    pieces.append((piece, target, exact))


def _arguments(text: str, i: int, macro: MacroDef, at: int) -> tuple[list[str], int]:
    args: list[str] = []
    count = macro.count
    if macro.default is not None and count > 0:
        j = _skip_spaces(text, i)
        if j < len(text) and text[j] == "[":
            close = _matching(text, j, "[", "]")
            if close < 0:
                raise MacroError(at, f"{macro.name}: its optional argument is never closed by ]")
            args.append(text[j + 1 : close])
            i = close + 1
        else:
            args.append(macro.default)
        count -= 1
    for _ in range(count):
        j = _skip_spaces(text, i)
        if j >= len(text):
            raise MacroError(at, f"{macro.name} needs {macro.count} argument(s)")
        if text[j] == "{":
            close = _matching(text, j, "{", "}")
            if close < 0:
                raise MacroError(at, f"{macro.name}: an argument is never closed by }}")
            args.append(text[j + 1 : close])
            i = close + 1
        elif text[j] == "\\":
            m = _NAME.match(text, j)
            end = m.end() if m else j + 2
            args.append(text[j:end])
            i = end
        else:
            args.append(text[j])
            i = j + 1
    return args, i


def _substitute(body: str, args: list[str]) -> str:
    if not args:
        return body
    return re.sub(r"#([1-9])", lambda m: args[int(m.group(1)) - 1] if int(m.group(1)) <= len(args) else "", body)


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\n":
        i += 1
    return i


def _matching(text: str, i: int, opener: str, closer: str) -> int:
    depth = 0
    j = i
    while j < len(text):
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return -1
