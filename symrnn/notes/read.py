"""Read a whole note: every equation with its place and tree, the mentions, and what could not be read.

One equation that cannot be read never stops the others: it becomes an
:class:`Unreadable` at its line and column, naming the construct, and every
other equation is still read.  Only a file that cannot be read at all (missing,
over the size bound, not UTF-8, not a notebook) raises :class:`NoteInputError`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from .angle_products import angle_reading
from .errors import NotesSyntaxError, printable
from .extract import MathChunk, extract_note
from .function_letters import function_letters
from .parse import parse_equation
from .prose import prose_kind
from .source import NoteInputError, NoteSource, load_note
from .tree import Continued, Equation, Tree


@dataclass(frozen=True)
class ParsedEquation:
    """One piece of math of a note: where it is (1-based), its LaTeX and its tree.

    ``prose`` says when the math is prose rather than a claim (see
    :func:`.prose.prose_kind`: "range", "step", "binding", "initial", "condition"), else None.
    ``cell`` is the notebook cell it came from; ``condition`` a prose side
    condition written after it (``\\text{for all } t``).
    """

    file: str
    line: int
    column: int
    latex: str
    tree: Tree
    display: bool
    prose: str | None = None
    cell: int | None = None
    condition: str | None = None


@dataclass(frozen=True)
class Unreadable:
    """A piece of math that could not be read: where, what (``construct``) and why.

    ``error`` is the positioned NotesSyntaxError (its str() is the full message
    with the source line and a caret, control characters escaped).
    """

    file: str
    line: int
    column: int
    latex: str
    construct: str | None
    message: str
    error: NotesSyntaxError
    display: bool = True
    cell: int | None = None


@dataclass(frozen=True)
class Notes:
    """A note read: its equations, the inline mentions ($x_t$), and what could not be read.

    ``source`` is the text positions refer to (a notebook's JSON), ``kind`` its kind.
    """

    file: str
    equations: tuple[ParsedEquation, ...]
    mentions: tuple[ParsedEquation, ...]
    unreadable: tuple[Unreadable, ...] = ()
    source: str = ""
    kind: str = "markdown"


def read_notes(path: str | os.PathLike | NoteSource, *, strict: bool = True) -> Notes:
    """Extract and parse a note (a path, ``-`` for standard input, or a NoteSource).

    Args:
        path: the note.
        strict: raise on the first piece of math that cannot be read (the old
            contract); with ``strict=False`` every such piece is an
            :class:`Unreadable` in ``Notes.unreadable`` and the rest is still read.

    Raises:
        NoteInputError: the note cannot be read at all (see :func:`.source.load_note`).
        NotesSyntaxError: (strict only) the first unreadable piece of math.
    """
    source = path if isinstance(path, NoteSource) else load_note(path)
    notes = read_source(source)
    if strict and notes.unreadable:
        raise notes.unreadable[0].error
    return notes


def read_source(source: NoteSource) -> Notes:
    """The equations, mentions and unreadable pieces of ``source``."""
    found = extract_note(source)
    chunks = found.chunks
    functions = function_letters(chunks)
    angle = angle_reading(source.text, chunks)
    equations: list[ParsedEquation] = []
    mentions: list[ParsedEquation] = []
    unreadable: list[Unreadable] = [_unreadable(e, "", True, None) for e in found.problems]
    previous: dict[int, Equation] = {}  # last equation of each display block
    for chunk in chunks:
        try:
            tree = parse_equation(chunk, functions, angle.kind if angle else None)
        except NotesSyntaxError as e:
            if chunk.is_equation:
                unreadable.append(_unreadable(e, chunk.text, chunk.display, chunk.cell))
            # A mention that cannot be read is prose to us, not an error.
            continue
        if not chunk.is_equation or (angle and chunk.offset in angle.statements):
            # \langle a, b \rangle = a b^\top states the note's notation: prose, not a claim.
            mentions.append(_parsed(chunk, tree))
            continue
        try:
            tree = _continue(tree, previous.get(chunk.block), chunk)
        except NotesSyntaxError as e:
            unreadable.append(_unreadable(e, chunk.text, chunk.display, chunk.cell))
            continue
        if isinstance(tree, Equation):
            previous[chunk.block] = tree
        equations.append(_parsed(chunk, tree))
    unreadable.sort(key=lambda u: (u.line, u.column))
    return Notes(source.name, tuple(equations), tuple(mentions), tuple(unreadable), source.text, source.kind)


def read_equations(path: str | os.PathLike | NoteSource) -> list[ParsedEquation]:
    """Every equation of a note (display math, and inline math with a relation), strictly.

    Raises:
        NotesSyntaxError: the first piece of math that cannot be read (use
            :func:`read_notes` to read every other one as well).
    """
    return list(read_notes(path, strict=True).equations)


def _parsed(chunk: MathChunk, tree: Tree) -> ParsedEquation:
    return ParsedEquation(
        chunk.file,
        chunk.line,
        chunk.column,
        chunk.text,
        tree,
        chunk.display,
        prose_kind(tree, chunk.display),
        chunk.cell,
        chunk.condition,
    )


def _unreadable(error: NotesSyntaxError, latex: str, display: bool, cell: int | None) -> Unreadable:
    message = printable(error.message)
    return Unreadable(error.file, error.line, error.column, latex, error.construct, message, error, display, cell)


def _continue(tree: Tree, previous: Equation | None, chunk: MathChunk) -> Tree:
    """Fill the left side of an ``&= …`` line with the last side of the line before."""
    if not (isinstance(tree, Equation) and isinstance(tree.sides[0], Continued)):
        return tree
    if previous is None:
        line, column = chunk.line, chunk.column
        from .source import source_map

        smap = source_map(chunk.source or chunk.text)
        raise NotesSyntaxError(
            chunk.file,
            line,
            column,
            "this line continues an equation, but none comes before it",
            smap.line_text(line),
            "continued line",
        )
    return dataclasses.replace(tree, sides=(previous.rhs, *tree.sides[1:]))


__all__ = ["NoteInputError", "Notes", "ParsedEquation", "Unreadable", "read_equations", "read_notes", "read_source"]
