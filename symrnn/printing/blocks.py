"""The document model: sections of paragraphs, numbered equations, tables, pictures and code.

:mod:`symrnn.printing.walkthrough` builds one :class:`Document` per derivation; the LaTeX and
Markdown renderers (:mod:`~symrnn.printing.latex_document`, :mod:`~symrnn.printing.markdown_document`)
turn the same model into either format, so the two never drift apart.  Mathematics is held as
LaTeX (what both formats display); prose is plain Unicode text, escaped by each renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Math:
    """Inline mathematics, as LaTeX."""

    latex: str


@dataclass(frozen=True)
class Code:
    """Inline code or a file name, set in a monospaced font."""

    text: str


Inline = str | Math | Code
Text = tuple[Inline, ...]


@dataclass(frozen=True)
class Paragraph:
    parts: Text


@dataclass(frozen=True)
class Items:
    """A bulleted list; each item is a run of inline parts."""

    items: tuple[Text, ...]


@dataclass(frozen=True)
class Line:
    """One row of a display: ``lhs = rhs`` (``lhs`` empty on a continuation row), its number and a note."""

    lhs: str
    rhs: str
    tag: int | None = None
    note: Text = ()


@dataclass(frozen=True)
class Equations:
    """Aligned, numbered rows (LaTeX ``align``; ``aligned`` in a Markdown math block)."""

    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Text, ...], ...]


@dataclass(frozen=True)
class Picture:
    """A figure written beside the document: ``stem.svg`` for Markdown, ``stem.pdf`` for LaTeX.

    The export draws both at the size they are printed (at most the LaTeX text width), so LaTeX
    includes the PDF at its natural size and the labels keep their point size.
    """

    stem: str
    caption: Text


@dataclass(frozen=True)
class Listing:
    """A block of source code, shown verbatim."""

    language: str
    source: str


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple
    appendix: bool = False


@dataclass(frozen=True)
class Document:
    title: Text
    sections: tuple[Section, ...]
    generated_by: str  # one line naming the command that regenerates the document


def render_inline(parts: Text, math: Callable, code: Callable, prose: Callable) -> str:
    """Inline parts as one string, each through the renderer's function for its kind."""
    return "".join(math(p) if isinstance(p, Math) else code(p) if isinstance(p, Code) else prose(p) for p in parts)


def render_block(block, renderers: dict[type, Callable], format_name: str) -> list[str]:
    """A block's lines, by the renderer's function for the block's type."""
    render = renderers.get(type(block))
    if render is None:
        raise TypeError(f"no {format_name} rendering for {type(block).__name__}")
    return render(block)
