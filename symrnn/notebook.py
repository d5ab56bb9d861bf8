"""symrnn in Jupyter: objects that render themselves, ``check_text`` and the ``%%symrnn_check`` magic.

``%load_ext symrnn`` registers the cell magic ``%%symrnn_check [NAME]`` (the cell's Markdown is
checked as a note and the report shown) and HTML formatters for cells, comparisons, gradient flows
and their bounds, and derivations — a derivation with its pictures (the one-step diagram, the
unrolled view, the gradient-flow plot) inlined as SVG.  Without the extension, the report of
:func:`check_text`, ``Derivation`` and ``Flow`` still render (``_repr_html_``/``_repr_markdown_``),
only without the pictures.  Math is ``$…$`` in Markdown and MathML in HTML, both offline.
"""

from __future__ import annotations

import html
import os
import tempfile

__all__ = ["CheckReport", "check", "check_text", "derivation_html", "load_ipython_extension", "to_html"]

_RENDERED_SUFFIXES = (".md", ".markdown", ".tex", ".latex", ".ltx")


class CheckReport(list):
    """The verdicts of one note (a list of :class:`~symrnn.notes.verdicts.Verdict`) that renders itself.

    ``repr`` is the one-line summary; in a notebook it is the HTML report (the note rendered, a
    badge beside each equation, the expected right side under each wrong one).
    """

    def __init__(self, verdicts, name: str, text: str | None):
        super().__init__(verdicts)
        self.name = name
        self.text = text

    def counts(self) -> dict[str, int]:
        """Verdict → how many, in the report's order."""
        from symrnn.printing.check_report import VERDICT_ORDER

        counts: dict[str, int] = {}
        for v in self:
            counts[v.verdict] = counts.get(v.verdict, 0) + 1
        return {k: counts[k] for k in (*VERDICT_ORDER, *sorted(counts)) if k in counts}

    def __repr__(self) -> str:
        summary = ", ".join(f"{n} {k}" for k, n in self.counts().items()) or "no equations"
        return f"<CheckReport {self.name}: {summary}>"

    def text_report(self) -> str:
        """The terminal report of ``symrnn check``."""
        from symrnn.notes.verdicts import render

        return render(list(self))

    def _repr_html_(self) -> str:
        from symrnn.printing.check_report import NoteReport, report_fragment

        return report_fragment([NoteReport(self.name, self.text, [v.to_json() for v in self])])


def check(path) -> CheckReport:
    """One verdict per equation of the note at ``path`` (as ``symrnn.notes.checker.check``), as a report.

    The report is a list of verdicts that shows itself in a notebook as the HTML report.

    Raises:
        as :func:`symrnn.notes.checker.check`.
    """
    from symrnn.notes.checker import check as check_note

    verdicts = check_note(path)
    name = os.fspath(path)
    text = None
    if name.lower().endswith(_RENDERED_SUFFIXES):
        try:
            with open(name, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            text = None  # the checker read it; if we cannot, the report lists the equations
    return CheckReport(verdicts, name, text)


def check_text(text: str, name: str = "note.md") -> CheckReport:
    """Check a note given as text (Markdown unless ``name`` says otherwise), as ``symrnn check`` would.

    Args:
        text: the note.
        name: the name its verdicts carry; its suffix says how to read it (.md, .tex, .ipynb).

    Returns:
        A :class:`CheckReport` (a list of verdicts that renders itself in a notebook).

    Raises:
        symrnn.notes.errors.NotesSyntaxError: the note cannot be read at all.
    """
    from symrnn.notes.checker import check

    base = os.path.basename(name) or "note.md"
    with tempfile.TemporaryDirectory(prefix="symrnn-check-") as directory:
        path = os.path.join(directory, base)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        verdicts = check(path)
    for v in verdicts:
        if v.file == path:
            v.file = name
    return CheckReport(verdicts, name, text if base.lower().endswith(_RENDERED_SUFFIXES) else None)


def derivation_html(d) -> str:
    """A derivation's whole document as an HTML fragment with its pictures inlined (about a second)."""
    from symrnn.export import pictures_available
    from symrnn.export.material import document_material
    from symrnn.printing.html_document import render_html_body
    from symrnn.printing.walkthrough import walkthrough

    made = document_material(d, pictures=pictures_available(), formats=("svg",))
    svg = {stem: data["svg"].decode("utf-8") for stem, data in made.pictures.items()}
    return render_html_body(walkthrough(d, made.material), svg_inline=svg)


def _cell_html(cell) -> str:
    from symrnn.printing.html import math_html
    from symrnn.printing.latex import latex

    rows = "".join(
        f'<tr><td style="text-align:right">{math_html(latex(lhs))}</td><td>{math_html("= " + latex(rhs))}</td></tr>'
        for lhs, rhs in cell.equations
    )
    head = f"<p><strong><code>{html.escape(cell.name)}</code></strong>"
    if cell.family:
        head += f" ({html.escape(cell.family)})"
    if cell.source:
        head += f" — {html.escape(cell.source)}"
    head += "</p>"
    convention = f"<p><em>{html.escape(cell.convention)}</em></p>" if cell.convention else ""
    return f"{head}{convention}<table>{rows}</table>"


def _flow_html(f) -> str:
    from symrnn.printing.html import markdown_html

    return markdown_html(f.markdown())


def _comparison_html(c) -> str:
    mark = "equivalent" if c.equivalent else "not equivalent"
    colour = "#2e7d32" if c.equivalent else "#c62828"
    lines = str(c).splitlines()
    body = html.escape("\n".join(lines[1:]))
    return f'<p><strong style="color:{colour}">{html.escape(lines[0])}</strong> ({mark})</p>' + (
        f"<pre>{body}</pre>" if body else ""
    )


def to_html(obj) -> str | None:
    """The HTML the extension shows for a symrnn object (None: not one it knows)."""
    from symrnn.cellspec import Cell
    from symrnn.derivation import Derivation
    from symrnn.equivalence import Comparison
    from symrnn.gradient_flow.bound import Bound
    from symrnn.gradient_flow.jacobian import Flow
    from symrnn.printing.html import markdown_html

    if isinstance(obj, Bound):
        return markdown_html(obj._repr_markdown_())
    if isinstance(obj, Derivation):
        return derivation_html(obj)
    if isinstance(obj, Flow):
        return _flow_html(obj)
    if isinstance(obj, Cell):
        return _cell_html(obj)
    if isinstance(obj, Comparison):
        return _comparison_html(obj)
    if isinstance(obj, CheckReport):
        return obj._repr_html_()
    return None


def load_ipython_extension(ipython) -> None:
    """``%load_ext symrnn``: the ``%%symrnn_check`` cell magic and HTML for symrnn's objects."""
    from IPython.display import HTML, display

    from symrnn.cellspec import Cell
    from symrnn.derivation import Derivation
    from symrnn.equivalence import Comparison
    from symrnn.gradient_flow.bound import Bound
    from symrnn.gradient_flow.jacobian import Flow

    formatter = ipython.display_formatter.formatters["text/html"]
    for kind in (Derivation, Flow, Bound, Cell, Comparison):
        formatter.for_type(kind, to_html)

    def symrnn_check(line: str, cell: str):
        """%%symrnn_check [NAME]: check the cell's Markdown as a note and show the report."""
        name = line.strip() or "cell.md"
        report = check_text(cell, name)
        display(HTML(report._repr_html_()))
        return None

    ipython.register_magic_function(symrnn_check, magic_kind="cell", magic_name="symrnn_check")
