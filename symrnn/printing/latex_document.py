"""A :class:`~symrnn.printing.blocks.Document` as a complete LaTeX document.

It needs only what Debian's ``texlive-latex-base`` ships (amsmath, geometry, graphicx, longtable)
and is pure ASCII: prose is escaped and Unicode is spelled with LaTeX commands, so it compiles
with plain ``pdflatex`` and no shell escape.  Equations carry explicit ``\\tag`` numbers, the same
as in the Markdown document; figure numbers and the longtable's column widths settle on the
second run (``symrnn.export.pdflatex`` runs it twice).
"""

from __future__ import annotations

import unicodedata

from symrnn.printing.blocks import (
    Document,
    Equations,
    Items,
    Line,
    Listing,
    Paragraph,
    Picture,
    Table,
    Text,
    render_block,
    render_inline,
)
from symrnn.printing.notation import GREEK_TEXT

CODE_WIDTH = 96  # characters per line of the code appendix before a line is wrapped

_SPECIAL = {
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_UNICODE = {
    "⊙": r"$\odot$",
    "⊘": r"$\oslash$",
    "—": "---",
    "–": "--",
    "…": r"\dots{}",
    "−": "-",
    "·": r"$\cdot$",
    "×": r"$\times$",
    "′": "'",
    "’": "'",
    "‘": "`",
    "“": "``",
    "”": "''",
    "≡": r"$\equiv$",
    "↔": r"$\leftrightarrow$",
    "→": r"$\to$",
    "∂": r"$\partial$",
    "ᵀ": r"$^\top$",
    "½": r"$\frac12$",
    "‖": r"$\|$",
    "²": r"$^2$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "∈": r"$\in$",
    "Σ": r"$\Sigma$",
}
_GREEK_LATEX = {letter: rf"$\{name}$" for name, letter in GREEK_TEXT.items()}
_TEXT_ACCENTS = {
    "\u0303": "~",
    "\u0302": "^",
    "\u0304": "=",
    "\u0308": '"',
    "\u0301": "'",
    "\u0300": "`",
    "\u030c": "v",
}


def escape_text(text: str) -> str:
    """Plain Unicode prose as ASCII LaTeX: specials escaped, symbols and accents spelled out."""
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ch in _GREEK_LATEX:
            out.append(_GREEK_LATEX[ch])
        elif ch in _TEXT_ACCENTS and out:
            out[-1] = rf"\{_TEXT_ACCENTS[ch]}{{{out[-1]}}}"
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


def _inline(parts: Text) -> str:
    return render_inline(parts, lambda m: f"${m.latex}$", lambda c: rf"\texttt{{{escape_text(c.text)}}}", escape_text)


def _math_note(parts: Text) -> str:
    """A note inside a display: prose in ``\\text{}``, mathematics as it is."""
    return render_inline(
        parts, lambda m: m.latex, lambda c: rf"\text{{{escape_text(c.text)}}}", lambda s: rf"\text{{{escape_text(s)}}}"
    )


def _line(line: Line) -> str:
    row = f"{line.lhs} &= {line.rhs}" if line.lhs else f"&{line.rhs}"
    if line.note:
        row += rf" &&{_math_note(line.note)}"
    row += rf" \tag{{{line.tag}}}" if line.tag is not None else r" \notag"
    return row


def _equations(block: Equations) -> list[str]:
    return [r"\begin{align}", " \\\\\n".join(_line(line) for line in block.lines), r"\end{align}"]


def _table(block: Table) -> list[str]:
    cols = "l" * len(block.header)
    out = [rf"\begin{{longtable}}{{{cols}}}", r"\hline"]
    out.append(" & ".join(rf"\textbf{{{escape_text(h)}}}" for h in block.header) + r" \\ \hline")
    out.append(r"\endhead")
    out += [" & ".join(_inline(cell) for cell in row) + r" \\" for row in block.rows]
    out += [r"\hline", r"\end{longtable}"]
    return out


def _picture(block: Picture) -> list[str]:
    """The figure at its natural size: the export draws it no wider than the text."""
    return [
        r"\begin{figure}[htbp]",
        r"\centering",
        rf"\includegraphics{{{block.stem}.pdf}}",
        rf"\caption{{{_inline(block.caption)}}}",
        r"\end{figure}",
    ]


def _wrap_code(source: str) -> str:
    """Code lines wider than the page, broken at a space and continued after a backslash."""
    out = []
    for line in source.splitlines():
        while len(line) > CODE_WIDTH:
            cut = line.rfind(" ", 0, CODE_WIDTH - 2)
            if cut <= len(line) - len(line.lstrip()):
                break
            indent = len(line) - len(line.lstrip()) + 4
            out.append(line[:cut] + " \\")
            line = " " * indent + line[cut + 1 :]
        out.append(line)
    return "\n".join(out) + "\n"


def _ascii_code(source: str) -> str:
    """Code as ASCII for ``verbatim``: Unicode in comments and docstrings becomes its name."""
    out = []
    for ch in source:
        if ord(ch) < 128:
            out.append(ch)
        elif ch in GREEK_TEXT.values():
            out.append(next(name for name, letter in GREEK_TEXT.items() if letter == ch))
        else:
            plain = unicodedata.normalize("NFD", ch)[0]
            out.append(
                plain if ord(plain) < 128 else {"⊙": "*", "ᵀ": "^T", "∂": "d", "−": "-", "…": "..."}.get(ch, "?")
            )
    return "".join(out)


def _listing(block: Listing) -> list[str]:
    return [
        r"{\footnotesize",
        r"\begin{verbatim}",
        _wrap_code(_ascii_code(block.source)).rstrip("\n"),
        r"\end{verbatim}",
        "}",
    ]


_BLOCKS = {
    Paragraph: lambda block: [_inline(block.parts), ""],
    Items: lambda block: [r"\begin{itemize}", *(rf"\item {_inline(item)}" for item in block.items), r"\end{itemize}"],
    Equations: _equations,
    Table: _table,
    Picture: _picture,
    Listing: _listing,
}


def render_latex(doc: Document) -> str:
    """The complete ``.tex`` text: preamble, sections, appendix."""
    out = [
        r"\documentclass[a4paper,11pt]{article}",
        f"% {escape_text(doc.generated_by)}",
        r"\usepackage{amsmath}",
        r"\usepackage{graphicx}",
        r"\usepackage{longtable}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\allowdisplaybreaks",
        # pdfTeX only: no trailer ID (it hashes the build directory) and symrnn's mark in the PDF's
        # metadata, so the PDF is reproducible and recognisable as generated.
        r"\ifdefined\pdftrailerid\pdftrailerid{}\fi",
        r"\ifdefined\pdfinfo\pdfinfo{/Creator (Generated by symrnn export)}\fi",
        r"\setlength{\parindent}{0pt}",
        r"\setlength{\parskip}{0.5\baselineskip}",
        rf"\title{{{_inline(doc.title)}}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
    ]
    in_appendix = False
    for section in doc.sections:
        if section.appendix and not in_appendix:
            out.append(r"\appendix")
            in_appendix = True
        out.append(rf"\section{{{escape_text(section.title)}}}")
        for block in section.blocks:
            out += render_block(block, _BLOCKS, "LaTeX")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
