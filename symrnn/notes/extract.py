"""Find the math in a note and cut it into the pieces that are read one by one.

The document structure comes from well-kept libraries: markdown-it-py with
mdit-py-plugins for Markdown (:mod:`.markdown_math`), pylatexenc's walker for
LaTeX (:mod:`.latex_math`); a notebook's Markdown cells are Markdown
(:mod:`.notebook`).  This module then works on each math span:

* macros the note defined are expanded (:mod:`.macros`);
* a display that is one alignment environment (``$$\\begin{aligned}…$$``,
  ``\\begin{equation}\\begin{split}…``) is opened;
* a display is cut into rows at top-level ``\\\\``; a row with no relation of
  its own (``&\\quad + c``) continues the row above and is joined to it; the
  rows of ``multline`` are one equation;
* a row is cut again at ``\\quad`` separators that stand between two equations
  (``a = b, \\quad c = d``) and at prose ``\\text{…}`` (``\\text{for } t = 1,
  \\dots, T``: the equation before it is kept, the condition after it is a
  piece of its own when it holds a relation and is dropped otherwise).

Each piece is a :class:`MathChunk` whose ``origin`` maps every character of its
text back to the file, so line and column are exact (also inside a notebook's
JSON, across joined rows and macro expansions).
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from dataclasses import dataclass, field

from .errors import NotesSyntaxError, printable
from .latex_math import latex_math
from .limits import MAX_EQUATION_CHARS, too_big
from .macros import MacroDef, MacroError, expand, macro_table
from .markdown_math import RawMath, markdown_math
from .notebook import markdown_cells
from .source import LATEX_SUFFIXES, NoteSource, OffsetMap, error_at, kind_of, source_map

__all__ = ["LATEX_SUFFIXES", "Extracted", "MathChunk", "extract_math", "extract_note"]

# A display that is one of these environments is opened and its rows are cut.
_INNER_ENV = re.compile(
    r"\s*\\begin\s*\{(aligned|alignedat|align\*?|gathered|gather\*?|split|eqnarray\*?|multline\*?|flalign\*?|equation\*?)\}"
    r"(?:\s*\{\d+\})?(.*)\\end\s*\{\1\}\s*",
    re.S,
)
_COMMAND = re.compile(r"\\(?:[A-Za-z]+|.)", re.S)
# Relations that make an inline $…$ an equation rather than a mention.
_RELATION_COMMANDS = frozenset(
    r"\approx \equiv \coloneqq \leftarrow \gets \neq \ne \le \leq \ge \geq \lt \gt \leqslant \geqslant".split()
)
# A piece holding only these is empty (e.g. an align line with just \label{…}).
_EMPTY_PIECE = re.compile(
    r"(?:\s|&|[.,;]|\\[,;:! ]|\\(?:quad|qquad|nonumber|notag|displaystyle)(?![A-Za-z])"
    r"|\\(?:label|tag\*?|hspace\*?|vspace\*?)\s*\{[^{}]*\})*"
)
# Prose inside math: \text{for all } t, \mbox{ where }.
_PROSE_TEXT = re.compile(r"\\(?:text|textrm|mbox|textnormal|mathrm)\s*\{([^{}]*)\}")
_MACRO_DEFINITION = re.compile(r"\\(?:newcommand|renewcommand|providecommand|def|DeclareMathOperator)(?![A-Za-z])")
_ROWS_ARE_ONE_EQUATION = ("multline", "multline*")


@dataclass(frozen=True)
class MathChunk:
    """One piece of math: ``text`` is what the parser reads, ``origin`` where each character is.

    ``line``/``column`` (1-based) locate its first character in ``file``, and
    ``offset`` is that character's offset in ``source`` (the file's text).
    When ``origin`` is None the text is the slice ``source[offset:offset + len(text)]``.
    ``is_equation`` is True for display math and for inline math containing a
    relation (``=``, ``\\approx``, …); other inline math is a mention such as ``$x_t$``.
    Chunks cut from the same display share ``block``.  ``cell`` is the
    notebook cell (1-based) it came from, ``env`` the environment it was in,
    ``condition`` a prose side condition cut off after it (``\\text{for all } t``).
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
    origin: OffsetMap | None = field(default=None, repr=False, compare=False)
    cell: int | None = None
    env: str | None = None
    condition: str | None = None

    @classmethod
    def from_text(cls, text: str, file: str = "<string>", display: bool = True) -> MathChunk:
        """A chunk that is the whole of ``text`` (for parsing a formula on its own)."""
        return cls(file, 1, 1, text, 0, display, True, 0, text)

    def file_offset(self, index: int) -> int:
        """The offset in ``source`` of character ``index`` of ``text``."""
        if self.origin is not None:
            return self.origin(index)
        return self.offset + index

    @property
    def exact(self) -> bool:
        """Whether ``text`` is literally ``source[offset:offset + len(text)]``."""
        return self.source[self.offset : self.offset + len(self.text)] == self.text

    def where(self, offset: int | None = None) -> str | None:
        """ "cell 3, line 2" for a notebook chunk (``offset``: a file offset inside it), else None."""
        if self.cell is None:
            return None
        return f"cell {self.cell}"


@dataclass(frozen=True)
class Extracted:
    """The math of a note: the chunks, and the problems (unreadable spans) at their places."""

    chunks: list[MathChunk]
    problems: list[NotesSyntaxError]


def extract_math(text: str, filename: str = "<string>") -> list[MathChunk]:
    """Every piece of math in ``text`` (a Markdown, LaTeX or notebook file), in file order.

    Raises:
        NotesSyntaxError: the first problem found (an unclosed delimiter); use
            :func:`extract_note` to get every chunk and every problem instead.
    """
    found = extract_note(NoteSource(filename, text, kind_of(filename)))
    if found.problems:
        raise found.problems[0]
    return found.chunks


def extract_note(source: NoteSource) -> Extracted:
    """Every piece of math of ``source`` and every problem, each at its place in the file."""
    return _Cutter(source).run()


class _Cutter:
    def __init__(self, source: NoteSource) -> None:
        self.source = source
        self.file = source.name
        self.text = source.text
        self.chunks: list[MathChunk] = []
        self.problems: list[NotesSyntaxError] = []
        self.blocks = 0
        self.definitions: list[MacroDef] = []

    def run(self) -> Extracted:
        if self.source.kind == "ipynb":
            for cell in markdown_cells(self.text, self.file):
                math, problems = markdown_math(cell.text)
                self.take(math, problems, [], cell.origin, cell.number)
        elif self.source.kind == "latex":
            found = latex_math(self.text)
            self.take(found.math, found.problems, found.macros, None, None)
        else:
            math, problems = markdown_math(self.text)
            self.take(math, problems, [], None, None)
        self.chunks.sort(key=lambda c: c.offset)
        self.problems.sort(key=lambda e: (e.line, e.column))
        return Extracted(self.chunks, self.problems)

    def take(self, math, problems, macros, base: OffsetMap | None, cell: int | None) -> None:
        for problem in problems:
            self.problem(_rebase_offset(problem.offset, base), problem.message, problem.construct, cell)
        events = [(d.offset, 0, d) for d in macros] + [(m.origin(0), 1, m) for m in math]
        events.sort(key=lambda e: (e[0], e[1]))
        for _, kind, item in events:
            if kind == 0:
                self.definitions.append(item)
            else:
                self.span(item, base, cell)

    def problem(self, offset: int, message: str, construct: str, cell: int | None) -> None:
        error = error_at(self.file, self.text, offset, message, construct)
        error.where = f"cell {cell}" if cell is not None else None
        self.problems.append(error)

    # ---- one math span

    def span(self, raw: RawMath, base: OffsetMap | None, cell: int | None) -> None:
        origin = _rebase(raw.origin, base)
        if _MACRO_DEFINITION.search(raw.text) and self.source.kind != "latex":
            self.definitions.extend(_definitions_in(raw.text, origin))
            return  # $\newcommand{…}{…}$ in Markdown (MathJax): a definition, not math to check
        text = raw.text
        if len(text) > MAX_EQUATION_CHARS:
            message = too_big(f"this math has {len(text):,} characters", MAX_EQUATION_CHARS, "characters")
            self.problem(origin(0), message, "size", cell)
            return
        if self.definitions:
            try:
                expanded, expansion = expand(text, macro_table(self.definitions))
            except MacroError as e:
                self.problem(origin(e.offset), e.message, "macro", cell)
                return
            if expansion is not None:
                text, origin = expanded, dataclasses.replace(expansion, parent=origin)
        env = raw.env
        while True:
            inner = _INNER_ENV.fullmatch(text)
            if not inner:
                break
            env = inner.group(1)
            text, origin = inner.group(2), OffsetMap.shift(inner.start(2), origin)
        self.display(text, origin, raw.display, env, cell)

    def display(self, text: str, origin: OffsetMap, display: bool, env: str | None, cell: int | None) -> None:
        seps = _top_level(text)
        block = self.blocks
        self.blocks += 1
        rows = _cut(0, len(text), seps.row_breaks) if display else [(0, len(text))]
        if (env or "").rstrip("*") in _COLUMN_PAIRS:
            rows = [piece for row in rows for piece in _column_pairs(row, seps.amps)]
        pieces: list[tuple[list[tuple[int, int]], bool]] = []  # (text ranges, has a relation)
        for s, e in rows:
            s, e = _trim(text, s, e)
            if _EMPTY_PIECE.fullmatch(text, s, e):
                continue
            related = _any_between(seps.relations, s, e)
            if pieces and (env in _ROWS_ARE_ONE_EQUATION or not related):
                s = _skip_alignment(text, s, e)  # "&\quad + c": the & only aligns the row
                pieces[-1][0].append((s, e))  # a continuation row: joined to the row above
                pieces[-1] = (pieces[-1][0], pieces[-1][1] or related)
            else:
                pieces.append(([(s, e)], related))
        for ranges, _ in pieces:
            if len(ranges) == 1:
                for s, e, condition in _cut_quads(text, ranges[0][0], ranges[0][1], seps):
                    s, e = _trim(text, s, e)
                    if not _EMPTY_PIECE.fullmatch(text, s, e):
                        self.emit(text[s:e], OffsetMap.shift(s, origin), display, block, env, cell, condition)
            else:
                joined, joined_map = _join(text, ranges, origin)
                self.emit(joined, joined_map, display, block, env, cell, None)

    def emit(self, text, origin, display, block, env, cell, condition) -> None:
        first = origin(0)
        line, column = source_map(self.text).position(first)
        relations = _top_level(text).relations
        exact = origin.parent is None and len(origin.starts) == 1 and origin.exact[0]
        self.chunks.append(
            MathChunk(
                self.file,
                line,
                column,
                text,
                first,
                display,
                display or bool(relations),
                block,
                self.text,
                None if exact else origin,
                cell,
                env,
                condition,
            )
        )


def _rebase(origin: OffsetMap, base: OffsetMap | None) -> OffsetMap:
    """``origin`` continued by ``base`` at its end (a cell's text → the notebook file)."""
    if base is None:
        return origin
    parent = _rebase(origin.parent, base) if origin.parent is not None else base
    return dataclasses.replace(origin, parent=parent)


def _rebase_offset(offset: int, base: OffsetMap | None) -> int:
    return offset if base is None else base(offset)


def _definitions_in(text: str, origin: OffsetMap) -> list[MacroDef]:
    """Macro definitions written inside a Markdown math span (MathJax style), at file offsets."""
    found = latex_math(text)
    return [dataclasses.replace(d, offset=origin(d.offset), body_offset=origin(d.body_offset)) for d in found.macros]


_SPACING_AT_START = re.compile(r"(?:\s|\\(?:quad|qquad)(?![A-Za-z])|\\[,;:!])+")
_SPACING_AT_END = re.compile(r"(?:\s|\\(?:quad|qquad)|\\[,;:!])+\Z")


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    """``text[s:e]`` without spaces and spacing commands at either end."""
    m = _SPACING_AT_START.match(text, s, e)
    if m:
        s = m.end()
    m = _SPACING_AT_END.search(text, s, e)
    if m and not _escaped(text, m.start()):
        e = m.start()
    return s, e


def _skip_alignment(text: str, s: int, e: int) -> int:
    """``s`` moved past the ``&`` marks and spacing that open a continuation row."""
    while s < e:
        if text[s] == "&":
            s = _trim(text, s + 1, e)[0]
        else:
            return s
    return s


def _escaped(text: str, i: int) -> bool:
    """Is text[i] preceded by an odd number of backslashes (``\\\\ `` is a row break, not ``\\ ``)?"""
    k = i - 1
    while k >= 0 and text[k] == "\\":
        k -= 1
    return (i - 1 - k) % 2 == 1


def _join(text: str, ranges: list[tuple[int, int]], origin: OffsetMap) -> tuple[str, OffsetMap]:
    """Rows joined by a space into one equation, each character still mapped to its row."""
    parts, starts, targets, exact, index = [], [], [], [], 0
    for k, (s, e) in enumerate(ranges):
        if k:
            parts.append(" ")
            starts.append(index)
            targets.append(ranges[k - 1][1])
            exact.append(False)
            index += 1
        parts.append(text[s:e])
        starts.append(index)
        targets.append(s)
        exact.append(True)
        index += e - s
    return "".join(parts), OffsetMap(tuple(starts), tuple(targets), tuple(exact), origin)


@dataclass
class _Separators:
    row_breaks: list[tuple[int, int]] = field(default_factory=list)
    quads: list[tuple[int, int]] = field(default_factory=list)
    prose: list[tuple[int, int]] = field(default_factory=list)
    relations: list[int] = field(default_factory=list)
    amps: list[int] = field(default_factory=list)


def _top_level(text: str) -> _Separators:
    """Row breaks ``\\\\``, ``\\quad`` separators, prose ``\\text{…}`` and relations outside
    any brackets, braces or environments of ``text`` (one linear pass)."""
    seps = _Separators()
    depth, i, end = 0, 0, len(text)
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
                seps.row_breaks.append((i, m.end()))
            elif depth == 0 and name in ("\\quad", "\\qquad"):
                seps.quads.append(_widen(text, i, m.end()))
            elif depth == 0 and name in _RELATION_COMMANDS:
                seps.relations.append(i)
            elif depth == 0 and name in ("\\text", "\\textrm", "\\mbox", "\\textnormal"):
                prose = _PROSE_TEXT.match(text, i)
                if prose and _is_prose(prose.group(1)):
                    seps.prose.append(_widen(text, i, prose.end()))
                    i = prose.end()
                    continue
            i = m.end()
            continue
        if ch == "%":
            # TeX (and MathJax) read % in math as a comment to the end of the line.
            nl = text.find("\n", i)
            i = end if nl < 0 else nl
            continue
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth = max(0, depth - 1)
        elif ch in "=<>" and depth == 0:
            seps.relations.append(i)
        elif ch == "&" and depth == 0:
            seps.amps.append(i)
        i += 1
    return seps


def _is_prose(words: str) -> bool:
    """``\\text{for all }``, ``\\text{where}``: words, not a name such as ``\\text{softmax}``."""
    stripped = words.strip()
    return bool(stripped) and (" " in stripped or words != stripped or stripped.lower() in _PROSE_WORDS)


_PROSE_WORDS = frozenset(
    "for where and or if with when since so thus hence by as at all each every s.t. i.e. e.g.".split()
)


def _widen(text: str, s: int, e: int) -> tuple[int, int]:
    """Stretch a separator over the spaces and the one ,/; before it and the spaces after."""
    j = s
    while j > 0 and text[j - 1].isspace():
        j -= 1
    if j > 0 and text[j - 1] in ",;":
        s = j - 1
    while e < len(text) and text[e].isspace():
        e += 1
    return s, e


# Environments whose & columns come in pairs: a &= b & c &= d holds two equations.
_COLUMN_PAIRS = frozenset({"align", "aligned", "flalign", "alignat", "alignedat", "xalignat"})


def _column_pairs(row: tuple[int, int], amps: list[int]) -> list[tuple[int, int]]:
    """``row`` cut at its 2nd, 4th, … top-level ``&`` (each pair of columns is one equation)."""
    s, e = row
    k = bisect.bisect_left(amps, s)
    inside = []
    while k < len(amps) and amps[k] < e:
        inside.append(amps[k])
        k += 1
    cuts = [(a, a + 1) for a in inside[1::2]]
    return _cut(s, e, cuts) if cuts else [row]


def _cut(start: int, end: int, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    pieces, s = [], start
    for cs, ce in cuts:
        if start <= cs and ce <= end:
            pieces.append((s, cs))
            s = ce
    pieces.append((s, end))
    return pieces


def _cut_quads(text: str, start: int, end: int, seps: _Separators) -> list[tuple[int, int, str | None]]:
    """Pieces of one row: cut at prose, then at \\quad separators.

    Prose (``\\text{for all } t``) splits the row into clauses: the first is the
    equation; a later clause is a piece of its own when it holds a relation, else
    it is the condition of the piece before.  Inside a clause a \\quad is kept only
    when the pieces on both sides hold a relation (``a = b, \\quad c = d``), else
    it is mere spacing."""

    def has_relation(s: int, e: int) -> bool:
        return _any_between(seps.relations, s, e)

    clauses = _cut(start, end, [c for c in seps.prose if start <= c[0] and c[1] <= end])
    out: list[tuple[int, int, str | None]] = []
    for k, (cs, ce) in enumerate(clauses):
        cs, ce = _trim(text, cs, ce)
        if k and not has_relation(cs, ce):
            if out and cs < ce:
                s, e, _ = out[-1]
                out[-1] = (s, e, printable(text[cs:ce]))
            continue
        pieces = _cut(cs, ce, [q for q in seps.quads if cs <= q[0] and q[1] <= ce])
        kept: list[tuple[int, int, str | None]] = [(*pieces[0], None)]
        for piece in pieces[1:]:
            ps, pe = _trim(text, *piece)
            if _is_condition(text, ps, pe):  # a = b \quad (t < T): a side condition
                kept[-1] = (kept[-1][0], kept[-1][1], printable(text[ps + 1 : pe - 1].strip()))
            elif kept[-1][2] is None and has_relation(*kept[-1][:2]) and has_relation(*piece):
                kept.append((*piece, None))
            elif kept[-1][2] is None:
                kept[-1] = (kept[-1][0], piece[1], None)
        out.extend(kept)
    return out


def _any_between(sorted_offsets: list[int], s: int, e: int) -> bool:
    """Whether some offset lies in [s, e) (binary search: rows × relations stays linear)."""
    k = bisect.bisect_left(sorted_offsets, s)
    return k < len(sorted_offsets) and sorted_offsets[k] < e


_CONDITION_RELATION = re.compile(r"[<>]|\\(?:le|leq|ge|geq|lt|gt|ne|neq|in|notin)(?![A-Za-z])")


def _is_condition(text: str, s: int, e: int) -> bool:
    """``(t < T)``, ``(t \\ge 2)``: a whole parenthesis holding an order relation."""
    if e - s < 3 or text[s] != "(" or text[e - 1] != ")":
        return False
    depth = 0
    for k in range(s, e):
        depth += {"(": 1, ")": -1}.get(text[k], 0)
        if depth == 0 and k < e - 1:
            return False  # (a)(b): not one parenthesis
    return bool(_CONDITION_RELATION.search(text, s, e))
