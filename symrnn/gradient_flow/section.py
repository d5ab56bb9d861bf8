"""The gradient-flow section of a derivation document: the Jacobian, the bound, measured rates.

Text only (no plot, no files): the document writer places the picture of
:func:`symrnn.gradient_flow.plot.plot_flow` next to it.
"""

from __future__ import annotations

from symrnn.gradient_flow.jacobian import flow
from symrnn.gradient_flow.printing import LAYOUT, LAYOUT_LATEX, flow_latex_body, flow_markdown


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
