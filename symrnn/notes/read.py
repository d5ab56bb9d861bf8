"""Read a whole note file: every equation with its place and tree, and the inline mentions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from .errors import NotesSyntaxError, error_at
from .extract import MathChunk, extract_math
from .function_letters import function_letters
from .parse import parse_equation
from .tree import Continued, Equation, Tree


@dataclass(frozen=True)
class ParsedEquation:
    """One piece of math of a note: where it is (1-based), its LaTeX and its tree."""

    file: str
    line: int
    column: int
    latex: str
    tree: Tree
    display: bool


@dataclass(frozen=True)
class Notes:
    """A note file read: its equations, and the inline mentions ($x_t$) that could be read."""

    file: str
    equations: tuple[ParsedEquation, ...]
    mentions: tuple[ParsedEquation, ...]


def read_notes(path: str | Path) -> Notes:
    """Extract and parse a Markdown or LaTeX file; NotesSyntaxError on the first bad equation."""
    file = str(path)
    chunks = extract_math(Path(path).read_text(encoding="utf-8"), file)
    functions = function_letters(chunks)
    equations: list[ParsedEquation] = []
    mentions: list[ParsedEquation] = []
    previous: dict[int, Equation] = {}  # last equation of each display block
    for chunk in chunks:
        if chunk.is_equation:
            tree = _continue(parse_equation(chunk, functions), previous.get(chunk.block), chunk)
            if isinstance(tree, Equation):
                previous[chunk.block] = tree
            equations.append(_parsed(chunk, tree))
        else:
            # A mention that cannot be read is prose to us, not an error.
            try:
                mentions.append(_parsed(chunk, parse_equation(chunk, functions)))
            except NotesSyntaxError:
                pass
    return Notes(file, tuple(equations), tuple(mentions))


def read_equations(path: str | Path) -> list[ParsedEquation]:
    """Every equation of a note file (display math, and inline math with a relation)."""
    return list(read_notes(path).equations)


def _parsed(chunk: MathChunk, tree: Tree) -> ParsedEquation:
    return ParsedEquation(chunk.file, chunk.line, chunk.column, chunk.text, tree, chunk.display)


def _continue(tree: Tree, previous: Equation | None, chunk: MathChunk) -> Tree:
    """Fill the left side of an ``&= …`` line with the last side of the line before."""
    if not (isinstance(tree, Equation) and isinstance(tree.sides[0], Continued)):
        return tree
    if previous is None:
        raise error_at(
            chunk.file,
            chunk.source or chunk.text,
            chunk.offset if chunk.source else 0,
            "this line continues an equation, but none comes before it",
        )
    return dataclasses.replace(tree, sides=(previous.rhs, *tree.sides[1:]))
