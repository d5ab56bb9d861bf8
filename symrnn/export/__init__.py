"""``symrnn export``: the step-by-step derivation documents of catalogue cells, written to a directory.

For each cell ``NAME`` the export writes ``NAME.md``, ``NAME.tex`` and/or ``NAME.html`` (math as
MathML, offline) with their pictures beside them — the one-step cell diagram ``NAME-cell``, the computation unrolled over three steps
``NAME-unrolled`` and the gradient-flow plot ``NAME-flow`` — as SVG for Markdown and as PDF for
LaTeX, drawn with matplotlib by our own layout code (no system program); with the format ``pdf``
also ``NAME.pdf``, compiled by pdflatex (two runs).  Exporting every cell also writes
``README.md``, an index linking the documents.

Everything is planned before anything is written: the documents are built in memory, the
directory is checked for files symrnn may not replace (a mark in each file says who wrote it, see
:mod:`symrnn.export.ownership`), and then the whole set is replaced atomically — all files of the
run or none (:func:`symrnn.files.replace_all_atomically`).  The output is deterministic —
byte-identical from the same catalogue — so ``derivations/`` can be compared with a fresh export
(``tests/test_export.py``).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field

from symrnn.export.index import INDEX, REFRESH_COMMAND, index_page
from symrnn.export.names import file_stem
from symrnn.export.ownership import foreign_files, same_content

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "INDEX",
    "REFRESH_COMMAND",
    "ExportError",
    "ExportResult",
    "Source",
    "document",
    "export_documents",
    "parse_formats",
    "plan",
]

FORMATS = ("md", "tex", "pdf", "html")
DEFAULT_FORMATS = ("md", "tex")


class ExportError(ValueError):
    """The export cannot be done as asked: one line naming the file or the option."""


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


def pictures_available() -> bool:
    """Whether matplotlib, which draws every picture, is importable (it is a dependency of symrnn)."""
    return importlib.util.find_spec("matplotlib") is not None


def document(d, fmt: str = "md") -> str:
    """The text ``symrnn export`` writes for ``d`` as ``fmt`` ("md" or "tex"), pictures and all.

    Unlike ``d.markdown()`` this computes: it draws the pictures, measures the gradient flow and
    generates the code (about a second).  The pictures themselves are not written anywhere.
    """
    from symrnn.export.material import document_material
    from symrnn.printing.document import derivation_latex, derivation_markdown

    if fmt not in ("md", "tex"):
        raise ExportError(f"unknown document format {fmt!r}; valid names: md, tex")
    made = document_material(d, pictures=pictures_available(), formats=("svg",) if fmt == "md" else ("pdf",))
    return (derivation_markdown if fmt == "md" else derivation_latex)(d, made.material)


@dataclass(frozen=True, eq=False)  # hashed by identity: the same source twice is exported once
class Source:
    """A derivation to export that is not a catalogue cell: from a note or a Python module.

    Attributes:
        derivation: what to write.
        argument: the command-line argument it came from (``notes.md``, ``cells.py:peephole``),
            named in the documents' mark and in the command that rewrites them.
    """

    derivation: object
    argument: str


def _cell_files(d, formats, *, pictures: bool, result: ExportResult, source: str | None = None) -> dict[str, bytes]:
    """File name → content for one derivation."""
    from symrnn.export import pdflatex
    from symrnn.export.material import PictureError, document_material
    from symrnn.printing.document import derivation_html, derivation_latex, derivation_markdown

    stem = file_stem(d)
    picture_formats = tuple(
        f
        for f, wanted in (("svg", "md" in formats or "html" in formats), ("pdf", "tex" in formats or "pdf" in formats))
        if wanted
    )
    try:
        made = document_material(d, pictures=pictures, formats=picture_formats, source=source)
    except PictureError as e:
        raise ExportError(str(e)) from None
    files: dict[str, bytes] = {}
    if "md" in formats:
        files[f"{stem}.md"] = derivation_markdown(d, made.material).encode("utf-8")
    if "html" in formats:  # math as MathML, the SVG pictures linked beside it like the Markdown's
        files[f"{stem}.html"] = derivation_html(d, made.material).encode("utf-8")
    if "md" in formats or "html" in formats:
        files.update({f"{p}.svg": data["svg"] for p, data in made.pictures.items()})
    tex = derivation_latex(d, made.material)
    figures = {f"{p}.pdf": data["pdf"] for p, data in made.pictures.items() if "pdf" in data}
    if "tex" in formats:  # self-contained: every figure the .tex includes lies beside it
        files[f"{stem}.tex"] = tex.encode("utf-8")
        files.update(figures)
    if "pdf" in formats:
        if pdflatex.pdflatex_program() is None:
            result.missing.append(
                f"{stem}.pdf: pdflatex was not found (on Debian: apt-get install texlive-latex-base); "
                "the .tex compiles with it"
            )
        else:
            try:
                files[f"{stem}.pdf"] = pdflatex.compile_pdf(tex, stem, figures)
            except pdflatex.PdflatexError as e:
                raise ExportError(str(e)) from None
    return dict(sorted(files.items()))


def plan(cell_names: list[str] | None, formats=DEFAULT_FORMATS, *, loss: str = "softmax_ce", result=None):
    """File name → content of an export, without writing anything.

    Args:
        cell_names: catalogue names (or aliases) and :class:`Source` items (a note's or a Python
            module's cell); None or empty for every catalogue cell, which adds the index.
        formats: a subset of :data:`FORMATS`.
        loss: the loss of every derivation.
        result: an :class:`ExportResult` that collects what could not be produced.

    Raises:
        symrnn.catalogue.UnknownCellError: a name is not in the catalogue (the message lists them).
        ExportError: a picture or the PDF could not be made (the message names the file).
    """
    from symrnn.catalogue import cell, cells
    from symrnn.derivation import derive

    result = result if result is not None else ExportResult()
    everything = not cell_names
    names = cells() if everything else list(dict.fromkeys(cell_names))
    built = [name if isinstance(name, Source) else cell(name) for name in names]  # unknown names fail here
    pictures = pictures_available()
    if not pictures:
        result.missing.append(
            "pictures and gradient-flow plots: matplotlib, a dependency of symrnn, is not installed "
            "(pip install matplotlib); the documents leave them out"
        )
    files: dict[str, bytes] = {}
    derivations = []
    for c in built:
        d = c.derivation if isinstance(c, Source) else derive(c, loss)
        source = c.argument if isinstance(c, Source) else None
        derivations.append(d)
        made = _cell_files(d, formats, pictures=pictures, result=result, source=source)
        clash = sorted(set(made) & set(files))
        if clash:
            raise ExportError(f"two of the cells exported would both write {clash[0]}; export them separately")
        files.update(made)
    if everything and any(f in formats for f in ("md", "tex", "html")):
        files[INDEX] = index_page(derivations, formats, pictures=pictures)
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

    Files that carry symrnn's mark are replaced; any other existing file of the same name is kept
    and the export refused, unless ``force``.  Files whose content is already right are not
    touched.  The files of the run are replaced all or none.

    Raises:
        ExportError: a file symrnn did not write would be replaced, the directory cannot be made,
            or a picture or PDF could not be made (nothing is written).
        symrnn.files.WriteError: a file could not be written (nothing is replaced).
        symrnn.catalogue.UnknownCellError: an unknown cell name.
    """
    from symrnn.files import replace_all_atomically

    result = ExportResult()
    files = plan(cell_names, formats, loss=loss, result=result)
    if os.path.islink(out_dir) and not os.path.exists(out_dir):
        raise ExportError(f"{out_dir}: the output directory is a link to {os.readlink(out_dir)}, which does not exist")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise ExportError(f"{out_dir}: cannot create the output directory: {e.strerror or e}") from None
    if not os.path.isdir(out_dir):
        raise ExportError(f"{out_dir}: not a directory")
    paths = {name: os.path.join(out_dir, name) for name in files}
    changed = {name: p for name, p in paths.items() if not same_content(p, files[name])}
    foreign = foreign_files(list(changed.values()))
    if foreign and not force:
        raise ExportError(
            f"refusing to replace {len(foreign)} file(s) that symrnn did not generate: "
            f"{', '.join(foreign)}; move them away or pass --force"
        )
    replace_all_atomically({changed[name]: files[name] for name in changed})
    for name, path in paths.items():
        (result.written if name in changed else result.unchanged).append(path)
    return result
