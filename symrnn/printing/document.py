"""A whole derivation as text, LaTeX, Markdown or JSON.

Text and JSON list the equations in the order a textbook appendix uses: forward
equations, the δ recurrences (t = T … 1, with every δ at T+1 zero), parameter
gradients as sums over t, and the gradient of the initial state.  LaTeX and
Markdown are the step-by-step documents of :mod:`symrnn.printing.walkthrough`;
``symrnn export`` writes them with its pictures, gradient flow and code added.
"""

from __future__ import annotations

from symrnn.printing.text import text


def _sections(d):
    upstream = "".join(f"; Δ_{s}[t] = ∂J/∂{s}[t] given" for s in d.upstream)
    return [
        ("Forward pass (t = 1, …, T)", d.forward),
        (f"Backward pass (t = T, …, 1{upstream}; every δ at step T+1 is zero)", d.backward),
        ("Parameter gradients", d.param_grads),
        ("Input gradients (t = 1, …, T)", d.input_grads),
        ("Initial state", d.initial_grads),
    ]


def loss_summary(d) -> str:
    """J as the derivation reads it, in words and symbols (the header's loss line)."""
    if d.loss.name == "upstream":
        return f"{d.loss.name} — {d.loss.description}"
    structure = d.structure
    if structure.is_default:
        return f"{d.loss.name} — {d.loss.description}; J = Σ_t Σ_batch L_t"
    note = f"; {structure.note()}" if structure.note() else ""
    return (
        f"{d.loss.name} — {d.loss.description}; J = Σ_t Σ_batch w[t] L[t] with w[t] = {structure.weight_text()} "
        f"(the loss {structure.describe()}{note})"
    )


def _header_lines(d) -> list[str]:
    cell = d.cell
    return [
        f"cell: {cell.name} ({cell.family})",
        f"source: {cell.source}",
        f"convention: {cell.convention}",
        f"loss: {loss_summary(d)}",
    ]


def derivation_text(d) -> str:
    lines = _header_lines(d)
    for title, eqs in _sections(d):
        lines += ["", title]
        lines += [f"  {eq.text()}" for eq in eqs]
    return "\n".join(lines) + "\n"


def derivation_aligned(d) -> str:
    """Every equation in one ``aligned`` block (for Jupyter)."""
    rows = []
    for _, eqs in _sections(d):
        rows += [eq.latex().replace(" = ", " &= ", 1) for eq in eqs]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def derivation_latex(d, material=None) -> str:
    """The step-by-step document as LaTeX: a complete amsmath document that compiles with plain pdflatex.

    Args:
        d: the derivation.
        material: a :class:`~symrnn.printing.walkthrough.material.Material` (pictures, gradient
            flow, code) made by ``symrnn.export``; None for the derivation's own sections only.
    """
    from symrnn.printing.latex_document import render_latex
    from symrnn.printing.walkthrough import NOTHING, walkthrough

    return render_latex(walkthrough(d, material or NOTHING))


def derivation_markdown(d, material=None, flavor: str = "github") -> str:
    """The step-by-step document as Markdown: for GitHub (math in ```math blocks) or for Jupyter ($, $$).

    Args:
        d: the derivation.
        material: as for :func:`derivation_latex`.
        flavor: "github" or "jupyter".

    Raises:
        ValueError: an unknown flavor.
    """
    from symrnn.printing.markdown_document import render_markdown
    from symrnn.printing.walkthrough import NOTHING, walkthrough

    return render_markdown(walkthrough(d, material or NOTHING), flavor)


def derivation_html(d, material=None, *, svg_inline: dict[str, str] | None = None) -> str:
    """The step-by-step document as one HTML page, math as MathML (renders offline in any browser).

    Args:
        d: the derivation.
        material: as for :func:`derivation_latex`.
        svg_inline: picture stem → SVG text to inline (a notebook); None links ``stem.svg`` beside the page.
    """
    from symrnn.printing.html_document import render_html
    from symrnn.printing.walkthrough import NOTHING, walkthrough

    return render_html(walkthrough(d, material or NOTHING), svg_inline=svg_inline)


def derivation_json(d) -> dict:
    def eq_json(eq):
        return {"kind": eq.kind, "lhs": text(eq.lhs), "text": eq.text(), "latex": eq.latex(), "note": eq.note}

    return {
        "cell": d.cell.name,
        "family": d.cell.family,
        "source": d.cell.source,
        "convention": d.cell.convention,
        "loss": d.loss.name,
        "loss_structure": None if d.loss.name == "upstream" else d.structure.to_json(),
        "params": {name: [str(s) for s in node.shape] for name, node in d.params.items()},
        "states": list(d.cell.states),
        "forward": [eq_json(e) for e in d.forward],
        "backward": [eq_json(e) for e in d.backward],
        "param_grads": [eq_json(e) for e in d.param_grads],
        "input_grads": [eq_json(e) for e in d.input_grads],
        "initial_grads": [eq_json(e) for e in d.initial_grads],
    }
