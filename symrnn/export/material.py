"""What the export computes and draws for a derivation document: pictures, the gradient flow, the code.

:func:`document_material` returns the :class:`~symrnn.printing.walkthrough.material.Material` the
printers arrange, and the picture files (SVG for Markdown, PDF for LaTeX) that go beside the
documents.  It is the only place a document's content is computed: the printers compute nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symrnn.export.names import cell_picture_stem, export_command, flow_plot_stem, generated_by, unrolled_picture_stem
from symrnn.printing.blocks import Code, Picture
from symrnn.printing.walkthrough.material import Material

FLOW_STEPS = 50  # the measured window of the section and the plot: modest, so exporting every cell stays fast
FLOW_SEEDS = (0, 1)
FLOW_HIDDEN = 16


class PictureError(RuntimeError):
    """A picture could not be drawn; the message names its file."""


@dataclass
class Made:
    """A document's material and the picture files it refers to (file name → format → bytes)."""

    material: Material
    pictures: dict[str, dict[str, bytes]] = field(default_factory=dict)  # stem → {"svg": …, "pdf": …}


def flow_initialisation():
    from symrnn.gradient_flow.measurement import Initialisation

    return Initialisation(hidden_size=FLOW_HIDDEN)


def _code(d) -> tuple[str | None, str]:
    try:
        return d.numpy_source(optimize=False), ""
    except ValueError as e:  # the code generator refuses some cells (a generic f has no NumPy form)
        return None, str(e)


def _draw(stem: str, draw_files) -> dict[str, bytes]:
    try:
        return draw_files()
    except Exception as e:  # matplotlib's errors are of many kinds; each is named with its file
        raise PictureError(f"{stem}: the picture could not be drawn: {type(e).__name__}: {e}") from e


def document_material(d, *, pictures: bool = True, formats=("svg", "pdf"), source: str | None = None) -> Made:
    """Everything a derivation document shows besides the derivation: computed here, once.

    Args:
        d: the derivation.
        pictures: False to leave the pictures (and the plot) out, e.g. when matplotlib is missing.
        formats: the picture formats to draw ("svg" for Markdown, "pdf" for LaTeX).
        source: the note or ``module.py:name`` the cell came from (None: the catalogue).

    Raises:
        PictureError: a picture could not be drawn (the message names it).
    """
    from symrnn.gradient_flow import FlowError, flow
    from symrnn.gradient_flow.section import flow_document_section, plot_caption

    mark = generated_by(d, source)
    made = Made(Material())
    code, refused = _code(d)
    cell_picture = unrolled_picture = plot = None
    if pictures:
        from symrnn.export.cell_diagram import cell_diagram
        from symrnn.export.figures import default_legend, draw
        from symrnn.export.unrolled import unrolled_diagram

        stem = cell_picture_stem(d)

        def cell_files():
            diagram = cell_diagram(d.cell)
            diagram.legend = default_legend({a.kind for a in diagram.arrows})
            return draw(diagram, formats, mark)

        made.pictures[stem] = _draw(stem, cell_files)
        cell_picture = Picture(
            stem,
            (f"{d.cell.name}: one step of the cell, drawn from its equations (weights left out).",),
        )
        stem = unrolled_picture_stem(d)
        made.pictures[stem] = _draw(stem, lambda: draw(unrolled_diagram(d), formats, mark))
        unrolled_picture = Picture(
            stem,
            (
                f"{d.cell.name}: the forward computation for t = 1, 2, 3, and the δ terms of the states "
                "(red, dashed), drawn by ",
                Code(export_command(d, source)),
                ".",
            ),
        )
    try:
        f = flow(d.cell)
    except FlowError:
        f = None
    section = None
    if f is not None:
        measurement = None
        if code is not None:
            from symrnn.gradient_flow.measurement import measure

            measurement = measure(d.cell, steps=FLOW_STEPS, init=flow_initialisation(), seeds=FLOW_SEEDS)
        if measurement is not None and pictures:
            from symrnn.gradient_flow.plot import render

            stem = flow_plot_stem(d)
            made.pictures[stem] = _draw(stem, lambda: _plot_files(render, measurement, formats, mark))
            plot = Picture(stem, plot_caption(d.cell.name))
        section = flow_document_section(d, f, measurement, plot)
    made.material = Material(
        cell_picture=cell_picture,
        unrolled_picture=unrolled_picture,
        flow=section,
        code=code,
        code_refused=refused,
        code_command=f"symrnn derive {d.cell.name} --format numpy",
        generated_by=mark,
    )
    return made


def _plot_files(render, measurement, formats, mark: str) -> dict[str, bytes]:
    return {fmt: render([measurement], fmt, fixed_layout=True, creator=mark) for fmt in formats}
