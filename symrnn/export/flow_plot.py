"""The gradient-flow plot of a cell, ``NAME-flow.svg``, with symrnn's generated-file mark.

The measurement is the one the document's section reports (:func:`symrnn.printing.walkthrough.flow_measurement`:
a short window, hidden size 16, two seeds, so that exporting every cell stays fast); the figure is
drawn by :func:`symrnn.gradient_flow.plot.render`, which makes the bytes reproducible.
"""

from __future__ import annotations

from symrnn.printing.unrolled import GENERATED_MARK


def flow_svg(d) -> bytes | None:
    """The plot as SVG bytes, or None when the document does not show one (see ``gradient_flow_section``)."""
    from symrnn.gradient_flow.plot import render
    from symrnn.printing import walkthrough

    section = walkthrough.gradient_flow_section(d)
    if section is None or not any(isinstance(b, walkthrough.Plot) for b in section.blocks):
        return None
    m = walkthrough.flow_measurement(d)
    svg = render([m], "svg", fixed_layout=True).decode("utf-8")
    mark = f"<!-- {GENERATED_MARK} from the catalogue cell {d.cell.name}; regenerate with: {walkthrough.export_command(d)} -->\n"
    head, _, rest = svg.partition("\n")
    svg = f"{head}\n{mark}{rest}" if head.startswith("<?xml") else mark + svg
    return svg.encode("utf-8")
