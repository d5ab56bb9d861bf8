"""The math of a Markdown text, found by markdown-it-py with mdit-py-plugins.

markdown-it decides what is code, prose and math (CommonMark plus tables;
``dollarmath`` for ``$…$``/``$$…$$`` with pandoc's rules — no space inside the
dollars, no digit right after the closing one, so "costs $5" stays prose;
``amsmath`` for top-level ``\\begin{align}`` and friends).  One small inline
rule of ours adds MathJax's ``\\(…\\)`` and ``\\[…\\]``.

markdown-it keeps no column positions, so each math span is located again in
the source: an inline token's content is aligned line by line with the source
lines it came from, and each span found in that content, in order.  The result
is an :class:`~.source.OffsetMap` from the math's text to the file.

Two of the plugins' block rules rescan to the end of the block when a
delimiter is never closed; wrapped here with a table of where closers are,
an unclosed opener fails at once, so the whole read is linear in the text.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin

from .source import OffsetMap, SourceMap, source_map

_AMS_OPEN = re.compile(r"\\begin\{([A-Za-z]+\*?)\}")
# Math environments MathJax reads anywhere in a paragraph.
MATH_ENVIRONMENTS = frozenset(
    "equation align gather multline eqnarray flalign alignat displaymath aligned gathered split".split()
)
_INLINE_ENV = re.compile(r"\\begin\{([A-Za-z]+)(\*?)\}")
_DOLLAR_LABEL_REV = re.compile(r"^\s*\)([^)$\r\n]+?)\(\s*\${2}")


@dataclass(frozen=True)
class RawMath:
    """One math span: ``text`` (without delimiters) and where each character is.

    ``env`` is the environment of an amsmath block (``align*``); ``delimiter``
    is what opened it (``$``, ``$$``, ``\\(``, ``\\[``, ``\\begin``).
    """

    text: str
    origin: OffsetMap
    display: bool
    delimiter: str
    env: str | None = None


@dataclass(frozen=True)
class Problem:
    """Something that looks like math but is not (an unclosed ``$$``), at a text offset."""

    offset: int
    message: str
    construct: str


def markdown_math(text: str) -> tuple[list[RawMath], list[Problem]]:
    """Every math span of the Markdown ``text``, in order, and the problems found."""
    md = _markdown()
    env: dict = {"symrnn_closers": _CloserTable(text)}
    tokens = md.parse(text, env)
    smap = source_map(text)
    out: list[RawMath] = []
    problems: list[Problem] = []
    cursor: dict[int, int] = {}  # per source line: where the next inline content starts
    for token in tokens:
        if token.type == "inline" and token.map:
            _inline(token, smap, cursor, out, problems)
        elif token.type in ("math_block", "math_block_label") and token.map:
            found = _block_dollar(token, smap)
            if found is not None:
                out.append(found)
        elif token.type == "amsmath" and token.map:
            found = _amsmath(token, smap)
            if found is not None:
                out.append(found)
    return out, problems


@functools.cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table")
    dollarmath_plugin(md, allow_labels=True, allow_space=False, allow_digits=False, double_inline=True)
    amsmath_plugin(md)
    _bounded(md, "math_block", _dollar_block_possible)
    _bounded(md, "amsmath", _amsmath_possible)
    md.inline.ruler.before("escape", "math_brackets", _math_brackets)
    return md


# ---------------------------------------------------------------- linear guards


class _CloserTable:
    """Per text: which lines could close a ``$$`` block or an environment (built once, linear)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._dollar: list[int] | None = None
        self._ends: dict[str, list[int]] | None = None

    def dollar_lines(self, state) -> list[int]:
        """Lines that end with ``$$``, carry a ``$$ (label)``, or are blank (a blank line stops the search)."""
        if self._dollar is None:
            lines = []
            for line in range(len(state.bMarks) - 1):
                body = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]].strip()
                if not body or body.endswith("$$") or _DOLLAR_LABEL_REV.match(body[::-1]):
                    lines.append(line)
            self._dollar = lines
        return self._dollar

    def end_lines(self, state, closing: str) -> list[int]:
        if self._ends is None:
            ends: dict[str, list[int]] = {}
            for line in range(len(state.bMarks) - 1):
                body = state.src[state.bMarks[line] : state.eMarks[line]].rstrip()
                m = re.search(r"\\end\{[A-Za-z]+\*?\}$", body)
                if m:
                    ends.setdefault(m.group(), []).append(line)
            self._ends = ends
        return self._ends.get(closing, [])


def _bounded(md: MarkdownIt, name: str, possible) -> None:
    """Wrap block rule ``name`` so that it is only tried where it can succeed."""
    for rule in md.block.ruler.__rules__:
        if rule.name == name:
            original = rule.fn

            def guarded(state, start_line, end_line, silent, _original=original):
                table = state.env.get("symrnn_closers") if isinstance(state.env, dict) else None
                if table is not None and not possible(state, start_line, end_line, table):
                    return False
                return _original(state, start_line, end_line, silent)

            rule.fn = guarded
    md.block.ruler.__compile__()


def _dollar_block_possible(state, start: int, end: int, table: _CloserTable) -> bool:
    begin = state.bMarks[start] + state.tShift[start]
    if not state.src.startswith("$$", begin):
        return False
    body = state.src[begin : state.eMarks[start]].strip()
    if len(body) > 3 and (body.endswith("$$") or "$$" in body[2:]):
        return True  # decided on its own line
    lines = table.dollar_lines(state)
    k = bisect.bisect_right(lines, start)
    if k == len(lines) or lines[k] >= end:
        return False
    line = lines[k]
    return bool(state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]].strip())


def _amsmath_possible(state, start: int, end: int, table: _CloserTable) -> bool:
    first = state.src[state.bMarks[start] + state.tShift[start] : state.eMarks[start]]
    m = _AMS_OPEN.match(first)
    if m is None:
        return False
    lines = table.end_lines(state, f"\\end{{{m.group(1)}}}")
    k = bisect.bisect_left(lines, start)
    return k < len(lines) and lines[k] < end


def _math_brackets(state: StateInline, silent: bool) -> bool:
    r"""``\(…\)`` (inline) and ``\[…\]`` (display) inside a paragraph."""
    src, pos = state.src, state.pos
    if src[pos] != "\\" or pos + 1 >= state.posMax:
        return False
    if src[pos + 1] == "b":
        return _math_environment(state, silent)
    if src[pos + 1] not in "([":
        return False
    closer = "\\)" if src[pos + 1] == "(" else "\\]"
    end = _next_closer(state, closer, pos + 2)
    if end < 0 or end + 2 > state.posMax:
        return False
    content = src[pos + 2 : end]
    if not content.strip():
        return False
    if not silent:
        token = state.push("math_inline" if closer == "\\)" else "math_inline_double", "math", 0)
        token.content = content
        token.markup = src[pos : pos + 2]
    state.pos = end + 2
    return True


def _math_environment(state: StateInline, silent: bool) -> bool:
    r"""``\begin{align}…\end{align}`` inside a paragraph (MathJax reads it there too)."""
    m = _INLINE_ENV.match(state.src, state.pos)
    if m is None or m.group(1) not in MATH_ENVIRONMENTS:
        return False
    closer = f"\\end{{{m.group(1)}{m.group(2)}}}"
    end = _next_closer(state, closer, m.end())
    if end < 0 or end + len(closer) > state.posMax:
        return False
    if not silent:
        token = state.push("math_inline_double", "math", 0)
        token.content = state.src[state.pos : end + len(closer)]
        token.markup = ""
    state.pos = end + len(closer)
    return True


def _next_closer(state: StateInline, closer: str, start: int) -> int:
    """The first unescaped ``closer`` at or after ``start``, remembered per inline text (linear)."""
    cache = state.env.setdefault("symrnn_bracket_cache", {}) if isinstance(state.env, dict) else {}
    key = (id(state.src), closer)
    hit = cache.get(key)
    if hit is not None and hit[0] is state.src and hit[1] <= start and (hit[2] < 0 or hit[2] >= start):
        return hit[2]
    j = start
    found = -1
    while True:
        j = state.src.find(closer, j)
        if j < 0:
            break
        backslashes = 0
        k = j - 1
        while k >= start and state.src[k] == "\\":
            backslashes += 1
            k -= 1
        if backslashes % 2 == 0:
            found = j
            break
        j += 1
    cache[key] = (state.src, start, found)
    return found


# ---------------------------------------------------------------- positions


def _align(content: str, first_line: int, smap: SourceMap, cursor: dict[int, int] | None = None) -> OffsetMap:
    """An OffsetMap from ``content`` (lines cut out of source lines first_line, …) to the file."""
    starts, targets, exact = [], [], []
    index = 0
    for i, piece in enumerate(content.split("\n")):
        line = first_line + i
        text = smap.line_text(line)
        line_start = smap.offset(line)
        lo = cursor.get(line, 0) if cursor is not None else 0
        col = text.find(piece, lo) if piece else lo
        if piece and text.endswith(piece) and len(text) - len(piece) >= lo and col != len(text) - len(piece):
            col = len(text) - len(piece)
        starts.append(index)
        if col < 0:
            targets.append(line_start + lo)
            exact.append(False)
        else:
            targets.append(line_start + col)
            exact.append(True)
            if cursor is not None:
                cursor[line] = col + len(piece)
        index += len(piece) + 1
    return OffsetMap(tuple(starts), tuple(targets), tuple(exact))


def _inline(token, smap: SourceMap, cursor: dict[int, int], out: list[RawMath], problems: list[Problem]) -> None:
    content = token.content
    children = token.children or []
    if not any(c.type.startswith("math") for c in children) and "$$" not in content and "\\begin" not in content:
        return
    origin = _align(content, token.map[0] + 1, smap, cursor)
    at = 0
    for child in children:
        if child.type == "code_inline":
            found = content.find(child.markup, at)
            if found >= 0:
                close = content.find(child.markup, found + len(child.markup))
                at = close + len(child.markup) if close >= 0 else found + len(child.markup)
        elif child.type in ("math_inline", "math_inline_double"):
            opener = child.markup
            closer = {"\\(": "\\)", "\\[": "\\]"}.get(opener, opener)
            found = _find_unescaped(content, opener + child.content + closer, at)
            if found < 0:
                continue
            start = found + len(opener)
            display = child.type == "math_inline_double"
            out.append(RawMath(child.content, OffsetMap.shift(start, origin), display, opener))
            at = start + len(child.content) + len(closer)
        elif child.type == "text" and ("$$" in child.content or "\\begin" in child.content):
            _unclosed(child.content, content, at, origin, problems)


def _unclosed(text: str, content: str, at: int, origin: OffsetMap, problems: list[Problem]) -> None:
    """Report an unclosed ``$$`` or math environment left as prose in a text token."""
    found = _find_unescaped(content, "$$", at) if "$$" in text else -1
    if found >= 0:
        problems.append(Problem(origin(found), "$$ is never closed by $$", "unclosed $$"))
    for m in _INLINE_ENV.finditer(text):
        name = m.group(1) + m.group(2)
        if m.group(1) in MATH_ENVIRONMENTS:
            where = content.find(m.group(), at)
            message = f"\\begin{{{name}}} is never closed by \\end{{{name}}}"
            problems.append(Problem(origin(max(where, at)), message, f"unclosed {name}"))


def _find_unescaped(text: str, needle: str, start: int) -> int:
    j = start
    while True:
        j = text.find(needle, j)
        if j < 0:
            return -1
        k, backslashes = j - 1, 0
        while k >= 0 and text[k] == "\\":
            backslashes += 1
            k -= 1
        if backslashes % 2 == 0:
            return j
        j += 1


def _block_dollar(token, smap: SourceMap) -> RawMath | None:
    first = token.map[0] + 1
    open_col = smap.line_text(first).find("$$")
    if open_col < 0:
        return None
    # The first content line starts right after the opening $$; later lines are aligned.
    return RawMath(token.content, _align(token.content, first, smap, {first: open_col + 2}), True, "$$")


def _amsmath(token, smap: SourceMap) -> RawMath | None:
    origin = _align(token.content, token.map[0] + 1, smap)
    m = _AMS_OPEN.match(token.content)
    if m is None:
        return None
    env = m.group(1)
    end = token.content.rfind(f"\\end{{{env}}}")
    if end < m.end():
        return None
    body = token.content[m.end() : end]
    return RawMath(body, OffsetMap.shift(m.end(), origin), True, "\\begin", env)
