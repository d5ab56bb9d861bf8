"""The gradient-flow section of a derivation document: the Jacobian, the bound, measured rates.

:func:`flow_document_section` builds the section of the walkthrough from a flow and a
measurement that the export computed (and the plot it drew); :func:`flow_section` gives the
section alone as LaTeX and Markdown text.  Nothing here measures or draws.
"""

from __future__ import annotations

from symrnn.gradient_flow.jacobian import flow
from symrnn.gradient_flow.printing import (
    LAYOUT,
    LAYOUT_LATEX,
    flow_latex_body,
    flow_markdown,
    partial,
    signed_terms,
    state_jacobian_heading,
)
from symrnn.printing.blocks import Equations, Items, Line, Math, Paragraph, Picture, Section, Text
from symrnn.printing.walkthrough.common import dollar_text, joined, tex_name


def _scientific_latex(x: float) -> str:
    mantissa, exponent = f"{x:.2e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def _measured_sentence(m, latex: bool) -> str:
    rho = f"$\\rho = {m.rate:.3f}$" if latex else f"ρ = {m.rate:.3f}"
    at = m.geometric_mean[-1]
    norm = f"${_scientific_latex(at)}$" if latex else f"{at:.2e}"
    return (
        f"Measured with the generated code ({m.init.describe(latex=latex)}; seeds {', '.join(map(str, m.seeds))}): "
        f"the gradient norm changes by a factor {rho} per step and is {norm} after {m.steps} steps."
    )


def flow_section(cell, measurement=None) -> tuple[str, str]:
    """(LaTeX, Markdown) of the section "Gradient flow" for ``cell``.

    Args:
        cell: a catalogue name or a :class:`~symrnn.cellspec.Cell`.
        measurement: an optional :class:`~symrnn.gradient_flow.measurement.Measurement` of the
            same cell; its rate is then reported too.

    Returns:
        A LaTeX fragment (``\\section*`` and amsmath, no preamble) and a Markdown fragment (``##``
        heading, ```` ```math ```` blocks), both ending in a newline.
    """
    f = flow(cell)
    latex = [r"\section*{Gradient flow}", LAYOUT_LATEX + "\n"]
    latex.append(flow_latex_body(f))
    markdown = ["## Gradient flow", "", LAYOUT, "", flow_markdown(f)]
    if measurement is not None:
        latex.append(_measured_sentence(measurement, True) + "\n")
        markdown.append(_measured_sentence(measurement, False) + "\n")
    return "\n".join(latex), "\n".join(markdown)


# ---------------------------------------------------------------- the section of a derivation document


def _flow_lines(f) -> list[Line]:
    lines = []
    if len(f.states) > 1:
        lhs, rhs = state_jacobian_heading(f, True).split(" = ", 1)
        lines.append(Line(lhs, rhs))
    for a in f.states:
        for b in f.states:
            terms = signed_terms([(p, "") for p in f.block(a, b)], True) or ["0"]
            lines.append(Line(partial(a, b, True), terms[0]))
            lines += [Line("", rf"\quad {term}") for term in terms[1:]]
    return lines


def _scientific(x: float) -> str:
    mantissa, exponent = f"{x:.2e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def plot_caption(cell_name: str) -> Text:
    """The caption of the gradient-flow plot in a derivation document."""
    return (
        f"{cell_name}: the gradient norm against the distance k on a log scale, one thin line per "
        "seed, their geometric mean (thick) and the fitted ",
        Math(r"C \rho^{k}"),
        " (dashed).",
    )


def flow_document_section(d, f, measurement=None, plot: Picture | None = None) -> Section:
    """The section "Gradient flow" of ``d``'s document, from what the export computed.

    Args:
        d: the derivation.
        f: its :class:`~symrnn.gradient_flow.jacobian.Flow` (the one-step state Jacobian).
        measurement: the :class:`~symrnn.gradient_flow.measurement.Measurement` of the cell, or None.
        plot: the picture of the measurement, or None.

    Returns:
        The Jacobian block by block, Pascanu et al.'s bound on each block and the path that keeps
        the gradient, the measured rate and the plot.
    """
    states = joined([Math(tex_name(s)) for s in f.states])
    s_t, s_prev = r"s_{t}", r"s_{t-1}"
    blocks: list = [
        Paragraph(
            (
                "Backpropagation carries the δ of the state ",
                Math(s_t),
                " (here ",
                *states,
                ") one step back by the transpose of the one-step Jacobian: ",
                Math(rf"\delta {s_prev} = \left(\partial {s_t}/\partial {s_prev}\right)^\top \delta {s_t}"),
                " plus the terms of step t−1's own loss, so over a distance k the gradient is multiplied by a "
                "product of k such Jacobians.  Numerator layout: row i of ",
                Math(r"\partial a_{t}/\partial b_{t-1}"),
                " is the derivative of the i-th entry of ",
                Math(r"a_{t}"),
                " (Pascanu et al. write the transpose in their eq. 5).  The parameters and the inputs ",
                *joined([Math(tex_name(x)) for x in d.cell.inputs]),
                " are held fixed.",
            )
        ),
        Equations(tuple(_flow_lines(f))),
        Paragraph(("Bounds on the norm of each block (Pascanu et al. 2013), and the path that keeps the gradient:",)),
        Items(tuple(dollar_text(line) for line in f.bound().lines(latex=True))),
    ]
    m = measurement
    if m is not None:
        blocks.append(
            Paragraph(
                (
                    "Measured with the generated NumPy code (",
                    *dollar_text(m.init.describe(latex=True)),
                    f"; seeds {', '.join(map(str, m.seeds))}): the gradient norm ",
                    Math(r"\|\partial L_{T}/\partial s_{T-k}\|"),
                    " changes by a factor ",
                    Math(rf"\rho = {m.rate:.3f}"),
                    " per step and is ",
                    Math(_scientific(m.geometric_mean[-1])),
                    f" at distance {m.steps}.",
                )
            )
        )
    if plot is not None:
        blocks.append(plot)
    return Section("Gradient flow", tuple(blocks))
