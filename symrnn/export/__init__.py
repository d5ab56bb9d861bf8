"""``symrnn export``: the step-by-step derivation documents of catalogue cells, written to a directory.

For each cell ``NAME`` the export writes ``NAME.md`` and/or ``NAME.tex``, the picture of the
computation unrolled over three steps (``NAME-unrolled.dot``, and ``NAME-unrolled.svg`` when
Graphviz's ``dot`` is installed), the gradient-flow plot ``NAME-flow.svg`` (when matplotlib is
installed) and, with the format ``pdf``, ``NAME.pdf`` compiled by pdflatex.
Exporting every cell also writes ``README.md``, an index linking the documents.

Everything is planned before anything is written: the documents are built in memory, the
directory is checked for files symrnn may not replace (see :mod:`symrnn.export.ownership`), and
only then is each file replaced atomically.  The output is deterministic — byte-identical from
the same catalogue — so ``derivations/`` can be compared with a fresh export (``tests/test_export.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from symrnn.export.index import INDEX, REFRESH_COMMAND, index_page
from symrnn.export.ownership import foreign_files, same_content

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "INDEX",
    "REFRESH_COMMAND",
    "ExportError",
    "ExportResult",
    "export_documents",
    "parse_formats",
    "plan",
]

FORMATS = ("md", "tex", "pdf")
DEFAULT_FORMATS = ("md", "tex")


class ExportError(ValueError):
    """The export would replace files symrnn did not write, or was asked for something unknown."""


@dataclass
class ExportResult:
    """What an export did: files written, files already up to date, and what could not be made."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # one sentence per thing not produced, and why


def parse_formats(text: str) -> tuple[str, ...]:
    """``"md,tex"`` → ("md", "tex"); unknown names raise :class:`ExportError` listing the valid ones."""
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise ExportError(
            f"unknown format {', '.join(map(repr, unknown)) or repr(text)}; valid names: {', '.join(FORMATS)}"
        )
    return names


def _cell_files(d, formats, *, dot_available: bool, plot_available: bool, result: ExportResult) -> dict[str, bytes]:
    """File name → content for one derivation."""
    from symrnn.export import graphviz, pdflatex
    from symrnn.export.flow_plot import flow_svg
    from symrnn.printing.document import derivation_latex, derivation_markdown
    from symrnn.printing.unrolled import unrolled_dot
    from symrnn.printing.walkthrough import file_stem, flow_plot_stem, picture_stem

    stem, picture = file_stem(d), picture_stem(d)
    dot_source = unrolled_dot(d)
    files = {f"{picture}.dot": dot_source.encode("utf-8")}
    if dot_available:
        files[f"{picture}.svg"] = graphviz.render_svg(dot_source, d.cell.name).encode("utf-8")
    flow_plot = flow_svg(d) if plot_available else None
    if flow_plot is not None:
        files[f"{flow_plot_stem(d)}.svg"] = flow_plot
    if "md" in formats:
        files[f"{stem}.md"] = derivation_markdown(d, picture_rendered=dot_available).encode("utf-8")
    tex = derivation_latex(d, picture_rendered=dot_available)
    if "tex" in formats:
        files[f"{stem}.tex"] = tex.encode("utf-8")
    if "pdf" in formats:
        if pdflatex.pdflatex_program() is None:
            result.missing.append(
                f"{stem}.pdf: pdflatex was not found (on Debian: apt-get install texlive-latex-base); "
                "the .tex compiles with it"
            )
        else:
            pictures = {f"{picture}.pdf": graphviz.render_pdf(dot_source)} if dot_available else {}
            files[f"{stem}.pdf"] = pdflatex.compile_pdf(tex, stem, pictures)
    return files


def plan(cell_names: list[str] | None, formats=DEFAULT_FORMATS, *, loss: str = "softmax_ce", result=None):
    """File name → content of an export, without writing anything.

    Args:
        cell_names: catalogue names (or aliases); None or empty for every cell, which adds the index.
        formats: a subset of :data:`FORMATS`.
        loss: the loss of every derivation.
        result: an :class:`ExportResult` that collects what could not be produced.

    Raises:
        symrnn.catalogue.UnknownCellError: a name is not in the catalogue (the message lists them).
    """
    from symrnn.catalogue import cell, cells
    from symrnn.derivation import derive
    from symrnn.export.graphviz import dot_program
    from symrnn.printing import walkthrough

    result = result if result is not None else ExportResult()
    everything = not cell_names
    names = cells() if everything else list(dict.fromkeys(cell_names))
    built = [cell(name) for name in names]  # unknown names fail here, before any work
    dot_available = dot_program() is not None
    if not dot_available:
        result.missing.append(
            "pictures: Graphviz's dot was not found (on Debian: apt-get install graphviz); the .dot "
            "sources are written and the documents say how to render them"
        )
    plot_available = walkthrough.plot_available()
    if not plot_available:
        result.missing.append(
            "gradient-flow plots: matplotlib was not found (pip install 'symrnn[plot]'); the documents say so"
        )
    files: dict[str, bytes] = {}
    derivations = []
    for c in built:
        d = derive(c, loss)
        derivations.append(d)
        files.update(_cell_files(d, formats, dot_available=dot_available, plot_available=plot_available, result=result))
    if everything and ("md" in formats or "tex" in formats):
        files[INDEX] = index_page(derivations, formats)
    return files


def export_documents(
    cell_names: list[str] | None,
    out_dir: str,
    formats=DEFAULT_FORMATS,
    *,
    force: bool = False,
    loss: str = "softmax_ce",
) -> ExportResult:
    """Write the derivation documents of ``cell_names`` (every cell when empty) into ``out_dir``.

    Files symrnn exported before are replaced; any other existing file of the same name is kept
    and the export refused, unless ``force``.  Files whose content is already right are not touched.

    Raises:
        ExportError: existing files that symrnn did not write would be replaced (nothing is written).
        symrnn.catalogue.UnknownCellError: an unknown cell name.
    """
    from symrnn.files import replace_atomically

    result = ExportResult()
    files = plan(cell_names, formats, loss=loss, result=result)
    os.makedirs(out_dir, exist_ok=True)
    paths = {name: os.path.join(out_dir, name) for name in files}
    changed = {name: p for name, p in paths.items() if not same_content(p, files[name])}
    foreign = foreign_files(list(changed.values()))
    if foreign and not force:
        raise ExportError(
            f"refusing to replace {len(foreign)} file(s) that symrnn did not generate: "
            f"{', '.join(foreign)}; move them away or pass --force"
        )
    for name, path in paths.items():
        if name in changed:
            replace_atomically(path, files[name])
            result.written.append(path)
        else:
            result.unchanged.append(path)
    return result
