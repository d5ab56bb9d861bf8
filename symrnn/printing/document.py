"""A whole derivation as text, LaTeX, Markdown or JSON: the same sections in each.

Sections follow the order a textbook appendix uses: forward equations, the δ
recurrences (t = T … 1, with every δ at T+1 zero), parameter gradients as sums
over t, and the gradient of the initial state.
"""

from __future__ import annotations

from symrnn.printing.latex import latex, shape_latex
from symrnn.printing.text import text


def _sections(d):
    return [
        ("Forward pass (t = 1, …, T)", d.forward),
        ("Backward pass (t = T, …, 1; every δ at step T+1 is zero)", d.backward),
        ("Parameter gradients", d.param_grads),
        ("Initial state", d.initial_grads),
    ]


def _header_lines(d) -> list[str]:
    cell = d.cell
    return [
        f"cell: {cell.name} ({cell.family})",
        f"source: {cell.source}",
        f"convention: {cell.convention}",
        f"loss: {d.loss.name} — {d.loss.description}; J = Σ_t Σ_batch L_t",
    ]


def derivation_text(d) -> str:
    lines = _header_lines(d)
    for title, eqs in _sections(d):
        lines += ["", title]
        lines += [f"  {eq.text()}" for eq in eqs]
    return "\n".join(lines) + "\n"


def _latex_escape(s: str) -> str:
    table = {
        "&": r"\&",
        "%": r"\%",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "$": r"\$",
        "~": r"\~{}",
        "^": r"\^{}",
        "\\": r"\textbackslash{}",
    }
    unicode = {
        "⊙": r"$\odot$",
        "Σ": r"$\Sigma$",
        "—": "---",
        "…": r"\dots{}",
        "ŷ": r"$\hat{y}$",
        "−": "-",
        "½": r"$\frac12$",
        "‖": r"$\|$",
        "σ": r"$\sigma$",
        "²": r"$^2$",
        "h̃": r"$\tilde{h}$",
    }
    out = "".join(table.get(ch, ch) for ch in s)
    for k, v in unicode.items():
        out = out.replace(k, v)
    return "".join(ch if ord(ch) < 128 else "?" for ch in out)


def derivation_aligned(d) -> str:
    """Every equation in one ``aligned`` block (for Jupyter)."""
    rows = []
    for _, eqs in _sections(d):
        rows += [eq.latex().replace(" = ", " &= ", 1) for eq in eqs]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def derivation_latex(d) -> str:
    """A complete amsmath document that compiles with plain pdflatex."""
    cell = d.cell
    out = [
        r"\documentclass{article}",
        r"\usepackage{amsmath}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\allowdisplaybreaks",
        rf"\title{{BPTT for the \texttt{{{_latex_escape(cell.name)}}} cell}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
        r"\begin{itemize}",
    ]
    out += [rf"\item {_latex_escape(line)}" for line in _header_lines(d)]
    out += [r"\end{itemize}", r"\section*{Shapes}", r"\begin{tabular}{ll}"]
    for _name, node in d.params.items():
        out.append(rf"${latex(node)}$ & ${shape_latex(node.shape)}$ \\")
    out.append(r"\end{tabular}")
    for title, eqs in _sections(d):
        out += [rf"\section*{{{_latex_escape(title)}}}", r"\begin{align}"]
        out.append(" \\\\\n".join(eq.latex().replace(" = ", " &= ", 1) for eq in eqs))
        out.append(r"\end{align}")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


def derivation_markdown(d) -> str:
    """Markdown that renders on GitHub: math in ```math blocks."""
    out = [f"# BPTT for the `{d.cell.name}` cell", ""]
    out += [f"- {line}" for line in _header_lines(d)]
    out += ["", "| symbol | shape |", "|---|---|"]
    for _name, node in d.params.items():
        out.append(f"| ${latex(node)}$ | ${shape_latex(node.shape)}$ |")
    for title, eqs in _sections(d):
        out += ["", f"## {title}", "", "```math", r"\begin{aligned}"]
        out.append(" \\\\\n".join(eq.latex().replace(" = ", " &= ", 1) for eq in eqs))
        out += [r"\end{aligned}", "```"]
    return "\n".join(out) + "\n"


def derivation_json(d) -> dict:
    def eq_json(eq):
        return {"kind": eq.kind, "lhs": text(eq.lhs), "text": eq.text(), "latex": eq.latex(), "note": eq.note}

    return {
        "cell": d.cell.name,
        "family": d.cell.family,
        "source": d.cell.source,
        "convention": d.cell.convention,
        "loss": d.loss.name,
        "params": {name: [str(s) for s in node.shape] for name, node in d.params.items()},
        "states": list(d.cell.states),
        "forward": [eq_json(e) for e in d.forward],
        "backward": [eq_json(e) for e in d.backward],
        "param_grads": [eq_json(e) for e in d.param_grads],
        "initial_grads": [eq_json(e) for e in d.initial_grads],
    }
