"""Find the math in a Markdown or LaTeX note: where each piece is and its raw text.

Recognised: ``$$…$$``, ``\\[…\\]``, ``\\begin{equation}`` / ``align`` / ``gather`` /
``eqnarray`` / ``displaymath`` (starred or not), and inline ``$…$``, ``\\(…\\)``.
A display is cut into one chunk per line (at top-level ``\\\\``, also inside a
``$$\\begin{aligned}…\\end{aligned}$$``) and each line again at ``\\quad``
separators (``a = b, \\quad c = d``).  Every chunk is an exact substring of the
file, so offsets into its text map straight back to the file.

Markdown code (fenced blocks and backtick spans) is skipped; in ``.tex`` files
``%`` comments are.  Inline ``$`` follows pandoc's rule (no space inside the
dollars, no digit right after the closing one), so "costs $5" stays prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import error_at
from .source import source_map

LATEX_SUFFIXES = (".tex", ".latex", ".ltx")

# Math environments we do not cut into claims: refused rather than skipped as prose.
_UNSUPPORTED_ENV = re.compile(r"\\begin\s*\{(multline|alignat|xalignat|xxalignat|dmath|dgroup)\*?\}")
_DISPLAY_ENV = re.compile(r"\\begin\s*\{(equation|align|gather|eqnarray|displaymath|flalign|math)(\*?)\}")
# A $$ display that is one alignment environment: its lines are cut like align's.
_INNER_ENV = re.compile(
    r"\s*\\begin\s*\{(aligned|align\*?|gathered|gather\*?|split|eqnarray\*?)\}(.*)\\end\s*\{\1\}\s*",
    re.S,
)
_COMMAND = re.compile(r"\\(?:[A-Za-z]+|.)", re.S)
_TICKS = re.compile(r"`+")
_BLANK_LINE = re.compile(r"\n[ \t]*\r?\n")
# Relations that make an inline $…$ an equation rather than a mention.
_RELATION_COMMANDS = frozenset(r"\approx \equiv \coloneqq \leftarrow \gets \neq \ne \le \leq \ge \geq".split())
# A piece holding only these is empty (e.g. an align line with just \label{…}).
_EMPTY_PIECE = re.compile(
    r"(?:\s|&|\\[,;:! ]|\\(?:quad|qquad|nonumber|notag)(?![A-Za-z])|\\(?:label|tag)\s*\{[^{}]*\})*"
)


@dataclass(frozen=True)
class MathChunk:
    """One piece of math: ``text`` is exactly ``source[offset:offset + len(text)]``.

    ``line``/``column`` (1-based) locate its first character in ``file``.
    ``is_equation`` is True for display math and for inline math containing a
    relation (``=``, ``\\approx``, …); other inline math is a mention such as ``$x_t$``.
    Chunks cut from the same display share ``block``.
    """

    file: str
    line: int
    column: int
    text: str
    offset: int
    display: bool
    is_equation: bool
    block: int
    source: str = field(default="", repr=False, compare=False)

    @classmethod
    def from_text(cls, text: str, file: str = "<string>", display: bool = True) -> MathChunk:
        """A chunk that is the whole of ``text`` (for parsing a formula on its own)."""
        return cls(file, 1, 1, text, 0, display, True, 0, text)


def extract_math(text: str, filename: str = "<string>") -> list[MathChunk]:
    """Every piece of math in ``text`` (a Markdown or LaTeX file), in file order."""
    return _Scanner(text, filename).run()


class _Scanner:
    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.file = filename
        self.latex = filename.lower().endswith(LATEX_SUFFIXES)
        self.chunks: list[MathChunk] = []
        self.blocks = 0

    # ---- the walk over the file

    def run(self) -> list[MathChunk]:
        text, n, i = self.text, len(self.text), 0
        while i < n:
            ch = text[i]
            if not self.latex and ch in "`~" and self._at_line_start(i):
                fence = re.match(r"`{3,}|~{3,}", text[i : i + 1000])
                if fence:
                    i = self._skip_fence(i, fence.group())
                    continue
            if not self.latex and ch == "`":
                i = self._skip_code_span(i)
                continue
            if self.latex and ch == "%":
                i = self._line_end(i)
                continue
            if ch == "\\":
                i = self._backslash(i)
                continue
            if ch == "$":
                i = self._dollar(i)
                continue
            i += 1
        return self.chunks

    def _backslash(self, i: int) -> int:
        text = self.text
        two = text[i : i + 2]
        if two == "\\[":
            close = self._find(i + 2, "\\]")
            if close < 0:
                if self.latex:
                    raise error_at(self.file, text, i, "\\[ is never closed by \\]")
                return i + 2  # Markdown: an escaped bracket, not math
            self._display(i + 2, close)
            return close + 2
        if two == "\\(":
            close = self._find(i + 2, "\\)")
            if close < 0:
                if self.latex:
                    raise error_at(self.file, text, i, "\\( is never closed by \\)")
                return i + 2
            self._inline(i + 2, close)
            return close + 2
        unsupported = _UNSUPPORTED_ENV.match(text, i)
        if unsupported:
            raise error_at(self.file, text, i, f"the math environment {unsupported.group()[6:]} is not supported")
        env = _DISPLAY_ENV.match(text, i)
        if env:
            name = env.group(1) + env.group(2)
            end = re.compile(r"\\end\s*\{" + re.escape(name) + r"\}").search(text, env.end())
            if end is None:
                raise error_at(self.file, text, i, f"\\begin{{{name}}} is never closed by \\end{{{name}}}")
            if env.group(1) == "math":
                self._inline(env.end(), end.start())
            else:
                self._display(env.end(), end.start())
            return end.end()
        # Any other command or escaped character (\$, \\) is skipped whole, so
        # an escaped dollar never opens math.
        return _COMMAND.match(text, i).end() if i + 1 < len(text) else i + 1

    def _dollar(self, i: int) -> int:
        text = self.text
        if text.startswith("$$", i):
            close = self._find(i + 2, "$$")
            if close < 0:
                raise error_at(self.file, text, i, "$$ is never closed by $$")
            self._display(i + 2, close)
            return close + 2
        close = self._inline_close(i)
        if close < 0:
            if self.latex:
                raise error_at(self.file, text, i, "$ is never closed by $")
            return i + 1  # Markdown prose: a literal dollar
        self._inline(i + 1, close)
        return close + 1

    def _inline_close(self, i: int) -> int:
        """The closing $ of inline math opened at ``i``, or -1 (pandoc's rule in Markdown)."""
        text, n = self.text, len(self.text)
        if not self.latex and (i + 1 >= n or text[i + 1].isspace()):
            return -1
        j = i + 1
        while j < n:
            ch = text[j]
            if ch == "\\":
                j += 2
                continue
            if self.latex and ch == "%":
                j = self._line_end(j)
                continue
            if ch == "\n" and _BLANK_LINE.match(text, j):
                return -1  # a blank line ends the paragraph: no inline math spans it
            if ch == "$":
                if self.latex:
                    return j
                if not text[j - 1].isspace() and not (j + 1 < n and text[j + 1].isdigit()):
                    return j
            j += 1
        return -1

    def _find(self, start: int, closer: str) -> int:
        """Offset of ``closer`` at or after ``start``, skipping escapes and comments; -1 if absent."""
        text, n, j = self.text, len(self.text), start
        while j < n:
            if text.startswith(closer, j):
                return j
            if text[j] == "\\":
                j += 2
                continue
            if self.latex and text[j] == "%":
                j = self._line_end(j)
                continue
            j += 1
        return -1

    # ---- Markdown code and LaTeX comments

    def _at_line_start(self, i: int) -> bool:
        start = self.text.rfind("\n", 0, i) + 1
        before = self.text[start:i]
        return len(before) <= 3 and before.strip(" ") == ""

    def _skip_fence(self, i: int, fence: str) -> int:
        closing = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$", re.M)
        body = self._line_end(i) + 1
        m = closing.search(self.text, body)
        return len(self.text) if m is None else m.end()

    def _skip_code_span(self, i: int) -> int:
        text = self.text
        run = len(_TICKS.match(text, i).group())
        ticks = "`" * run
        j = i + run
        while True:
            j = text.find(ticks, j)
            if j < 0:
                return i + run  # no closing run: the backticks are literal
            end = j + run
            if end < len(text) and text[end] == "`":
                j = _TICKS.match(text, end).end()
                continue  # a longer run does not close this span
            return end

    def _line_end(self, i: int) -> int:
        end = self.text.find("\n", i)
        return len(self.text) if end < 0 else end

    # ---- cutting math into chunks

    def _display(self, start: int, end: int) -> None:
        inner = _INNER_ENV.fullmatch(self.text, start, end)
        if inner:
            start, end = inner.start(2), inner.end(2)
        self._emit(start, end, display=True)

    def _inline(self, start: int, end: int) -> None:
        self._emit(start, end, display=False)

    def _emit(self, start: int, end: int, display: bool) -> None:
        seps = _top_level(self.text, start, end)
        block = self.blocks
        self.blocks += 1
        lines = _cut(start, end, seps.row_breaks) if display else [(start, end)]
        for line_start, line_end in lines:
            for s, e in _cut_quads(line_start, line_end, seps):
                s, e = self._trim(s, e)
                if _EMPTY_PIECE.fullmatch(self.text, s, e):
                    continue
                has_relation = any(s <= p < e for p in seps.relations)
                line, column = source_map(self.text).position(s)
                self.chunks.append(
                    MathChunk(
                        self.file,
                        line,
                        column,
                        self.text[s:e],
                        s,
                        display,
                        display or has_relation,
                        block,
                        self.text,
                    )
                )

    def _trim(self, s: int, e: int) -> tuple[int, int]:
        while s < e and self.text[s].isspace():
            s += 1
        while e > s and self.text[e - 1].isspace():
            e -= 1
        return s, e


@dataclass
class _Separators:
    row_breaks: list[tuple[int, int]] = field(default_factory=list)
    quads: list[tuple[int, int]] = field(default_factory=list)
    relations: list[int] = field(default_factory=list)


def _top_level(text: str, start: int, end: int) -> _Separators:
    """Row breaks ``\\\\``, ``\\quad`` separators and relations outside any brackets,
    braces or environments of ``text[start:end]``."""
    seps = _Separators()
    depth, i = 0, start
    while i < end:
        ch = text[i]
        if ch == "\\":
            m = _COMMAND.match(text, i)
            if m is None:  # a backslash ending the text
                break
            name = m.group()
            if name in ("\\begin", "\\left"):
                depth += 1
            elif name in ("\\end", "\\right"):
                depth = max(0, depth - 1)
            elif depth == 0 and name == "\\\\":
                seps.row_breaks.append((i, min(m.end(), end)))
            elif depth == 0 and name in ("\\quad", "\\qquad"):
                seps.quads.append(_widen_quad(text, i, min(m.end(), end), start, end))
            elif depth == 0 and name in _RELATION_COMMANDS:
                seps.relations.append(i)
            i = m.end()
            continue
        if ch == "%":
            # TeX (and MathJax) read % in math as a comment to the end of the line.
            nl = text.find("\n", i, end)
            i = end if nl < 0 else nl
            continue
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth = max(0, depth - 1)
        elif ch == "=" and depth == 0:
            seps.relations.append(i)
        i += 1
    return seps


def _widen_quad(text: str, s: int, e: int, lo: int, hi: int) -> tuple[int, int]:
    """Stretch a \\quad separator over the spaces and the one ,/; before it."""
    j = s
    while j > lo and text[j - 1].isspace():
        j -= 1
    if j > lo and text[j - 1] in ",;":
        s = j - 1
    while e < hi and text[e].isspace():
        e += 1
    return s, e


def _cut(start: int, end: int, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    pieces, s = [], start
    for cs, ce in cuts:
        pieces.append((s, cs))
        s = ce
    pieces.append((s, end))
    return pieces


def _cut_quads(start: int, end: int, seps: _Separators) -> list[tuple[int, int]]:
    """Pieces between \\quad separators; a separator is kept only when the pieces on
    both sides hold a relation (``a = b, \\quad c = d``), else it is mere spacing."""
    quads = [q for q in seps.quads if start <= q[0] and q[1] <= end]
    pieces = _cut(start, end, quads)

    def has_relation(piece: tuple[int, int]) -> bool:
        return any(piece[0] <= p < piece[1] for p in seps.relations)

    kept = [pieces[0]]
    for piece in pieces[1:]:
        if has_relation(kept[-1]) and has_relation(piece):
            kept.append(piece)
        else:
            kept[-1] = (kept[-1][0], piece[1])
    return kept
