"""Jacobians and differentials as LaTeX, text and Markdown.

The printers of ``symrnn.printing`` extended by the three matrix nodes of
:mod:`symrnn.gradient_flow.jacobian` (diag, the blocks [0; I; 0] and [0 I 0]);
the extra notation lives in one table per output, as in ``printing/notation.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy

from symrnn.gradient_flow.differentials import Path, Term
from symrnn.ir import Node
from symrnn.printing.latex import LatexPrinter
from symrnn.printing.notation import latex_name, text_name
from symrnn.printing.text import TextPrinter

if TYPE_CHECKING:
    from symrnn.gradient_flow.jacobian import Flow

FLOW_LATEX = {
    "diag": r"\operatorname{{diag}}\left({0}\right)",
    "identity": "I",
    "zero": "0",
    "differential": r"\mathrm{{d}}{0}",
    "partial": r"\frac{{\partial {num}}}{{\partial {den}}}",
    "column": r"\begin{{bmatrix}} {0} \end{{bmatrix}}",
    "row": r"\begin{{bmatrix}} {0} \end{{bmatrix}}",
    "column_sep": r" \\ ",
    "row_sep": " & ",
    "norm": r"\|{0}\|",
    "minus": "-",
}
FLOW_TEXT = {
    "diag": "diag({0})",
    "identity": "I",
    "zero": "0",
    "differential": "d{0}",
    "partial": "∂{num}/∂{den}",
    "column": "[{0}]",
    "row": "[{0}]",
    "column_sep": "; ",
    "row_sep": " ",
    "norm": "‖{0}‖",
    "minus": "-",
}


def _blocks(node: Node) -> list[str]:
    """The block pattern of [0; I; 0] or [0 I 0]: which blocks are zero."""
    offset, total = node.attrs
    width = node.shape[1] if node.op == "embed" else node.shape[0]
    out = ["0"] if offset != 0 else []
    out.append("I")
    if sympy.expand(total - offset - width) != 0:
        out.append("0")
    return out


class _FlowPrinting:
    """The three matrix nodes, for either base printer."""

    flow_ops: dict[str, str] = {}

    def _print_diag(self, node: Node) -> str:
        return self.flow_ops["diag"].format(self.doprint(node.args[0]))

    def _print_embed(self, node: Node) -> str:
        return self.flow_ops["column"].format(self.flow_ops["column_sep"].join(_blocks(node)))

    def _print_select(self, node: Node) -> str:
        return self.flow_ops["row"].format(self.flow_ops["row_sep"].join(_blocks(node)))

    def factor(self, node: Node) -> str:
        return self.paren(node, 31)  # a per-example product p pᵀ in brackets; Wᵀ as it is


class FlowLatexPrinter(_FlowPrinting, LatexPrinter):
    flow_ops = FLOW_LATEX


class FlowTextPrinter(_FlowPrinting, TextPrinter):
    flow_ops = FLOW_TEXT


def _printer(latex: bool):
    return FlowLatexPrinter() if latex else FlowTextPrinter()


def _path(path: Path, printer, ops: dict) -> tuple[bool, str]:
    """(negative, the path without its sign): ``diag(f[t])``, ``2 W``, ``I``."""
    c = path.coefficient
    body = printer.ops["matmul"].join(printer.factor(f) for f in path.factors) or ops["identity"]
    magnitude = abs(c)
    if magnitude != 1:
        body = f"{printer.coefficient(magnitude)} {body}"
    return c < 0, body


def signed_terms(items: list[tuple[Path, str]], latex: bool) -> list[str]:
    """Each path · suffix with its sign: ``["diag(1 - z[t])", "+ diag(…) W_hz"]``; the first has no ``+``."""
    printer, ops = _printer(latex), FLOW_LATEX if latex else FLOW_TEXT
    out = []
    for path, suffix in items:
        negative, body = _path(path, printer, ops)
        if suffix:
            body = body + printer.ops["matmul"] + suffix if path.factors or path.coefficient != 1 else suffix
        if not out:
            out.append(f"{ops['minus']}{body}" if negative else body)
        else:
            out.append(f"{ops['minus'] if negative else '+'} {body}")
    return out


def sum_of_paths(items: list[tuple[Path, str]], latex: bool) -> str:
    """Σ path · suffix, signs folded: ``diag(1 - z) + diag(…) W_hz``; the empty sum is 0."""
    return " ".join(signed_terms(items, latex)) or (FLOW_LATEX if latex else FLOW_TEXT)["zero"]


def _var(node: Node, latex: bool) -> str:
    return latex_name(node.name, node.shift) if latex else text_name(node.name, node.shift)


def partial(row: str, column: str, latex: bool) -> str:
    """∂row_t/∂column_{t-1}."""
    ops = FLOW_LATEX if latex else FLOW_TEXT
    name = latex_name if latex else text_name
    return ops["partial"].format(num=name(row, 0), den=name(column, -1))


def block_equation(flow: Flow, row: str, column: str, latex: bool) -> str:
    """``∂h[t]/∂h[t-1] = diag(1 - h[t] ⊙ h[t]) W_hh``."""
    rhs = sum_of_paths([(p, "") for p in flow.block(row, column)], latex)
    return f"{partial(row, column, latex)} = {rhs}"


def block_rows(flow: Flow, row: str, column: str) -> str:
    """The block as rows of an ``align``: ``lhs &= path`` then ``&\\quad + path`` per further path."""
    terms = signed_terms([(p, "") for p in flow.block(row, column)], True) or [FLOW_LATEX["zero"]]
    return f"{partial(row, column, True)} &= " + " \\\\\n&\\quad ".join(terms)


def _all_block_rows(flow: Flow) -> str:
    return " \\\\\n".join(block_rows(flow, a, b) for a in flow.states for b in flow.states)


def differential_equation(lhs: Node, form: tuple[Term, ...], latex: bool) -> str:
    """``dh[t] = diag(1 - h[t] ⊙ h[t]) dh̄[t]``."""
    ops = FLOW_LATEX if latex else FLOW_TEXT
    items = [(t.path, ops["differential"].format(_var(t.base, latex))) for t in form]
    return f"{ops['differential'].format(_var(lhs, latex))} = {sum_of_paths(items, latex)}"


def norm(node: Node, latex: bool) -> str:
    ops = FLOW_LATEX if latex else FLOW_TEXT
    return ops["norm"].format(_printer(latex).doprint(node))


# ---------------------------------------------------------------- whole documents

LAYOUT = (
    "Numerator layout: row i of ∂a_t/∂b_{t-1} is the derivative of the i-th entry of a_t, "
    "so BPTT reads δs_{t-1} = (∂s_t/∂s_{t-1})ᵀ δs_t (Pascanu et al. write the transpose in their eq. 5)."
)
LAYOUT_LATEX = (
    r"Numerator layout: row $i$ of $\partial a_t/\partial b_{t-1}$ is the derivative of the $i$-th entry of "
    r"$a_t$ (Pascanu et al. write the transpose in their eq.~5), so BPTT reads "
    r"\[\delta s_{t-1} = \left(\partial s_t/\partial s_{t-1}\right)^\top \delta s_t.\]"
)


def _state_vector(flow: Flow, shift: int, latex: bool) -> str:
    name = latex_name if latex else text_name
    parts = [name(s, shift) for s in flow.states]
    if len(parts) == 1:
        return parts[0]
    ops = FLOW_LATEX if latex else FLOW_TEXT
    return ops["column"].format(ops["column_sep"].join(parts))


def block_matrix(flow: Flow, latex: bool) -> str:
    """∂s_t/∂s_{t-1} as a matrix of named blocks (one state: the block itself)."""
    if len(flow.states) == 1:
        return partial(flow.states[0], flow.states[0], latex)
    ops = FLOW_LATEX if latex else FLOW_TEXT
    rows = [
        ops["row_sep"].join(partial(a, b, latex) for b in flow.states) for a in flow.states
    ]  # one row of blocks per state at t
    if latex:
        return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"
    return "[" + "; ".join(rows) + "]"


def state_jacobian_heading(flow: Flow, latex: bool) -> str:
    ops = FLOW_LATEX if latex else FLOW_TEXT
    lhs = ops["partial"].format(num=_state_vector(flow, 0, latex), den=_state_vector(flow, -1, latex))
    return f"{lhs} = {block_matrix(flow, latex)}"


def blocks_aligned(flow: Flow) -> str:
    """Every block equation in one ``aligned`` environment (Jupyter, Markdown)."""
    return r"\begin{aligned}" + _all_block_rows(flow) + r"\end{aligned}"


def _bound_lines(flow: Flow, latex: bool) -> list[str]:
    return flow.bound().lines(latex=latex)


def _heading_rows(flow: Flow) -> list[str]:
    """The block-matrix row of an ``align``, for cells with more than one state."""
    if len(flow.states) == 1:
        return []
    return [state_jacobian_heading(flow, True).replace(" = ", " &= ", 1) + r" \\"]


def flow_text(flow: Flow) -> str:
    cell = flow.cell
    lines = [f"cell: {cell.name} ({cell.family}) — gradient flow through one step", LAYOUT, ""]
    lines.append("One step in differentials (forward mode; parameters and x_t held fixed)")
    lines += [f"  {differential_equation(lhs, form, False)}" for lhs, form in flow.differentials if form]
    lines += ["", "State Jacobian"]
    if len(flow.states) > 1:
        lines.append(f"  {state_jacobian_heading(flow, False)}")
    lines += [f"  {block_equation(flow, a, b, False)}" for a in flow.states for b in flow.states]
    lines += ["", "Bound", *[f"  {line}" for line in _bound_lines(flow, False)]]
    return "\n".join(lines) + "\n"


def flow_latex_body(flow: Flow) -> str:
    """The LaTeX of the state Jacobian, its blocks and the bound: no preamble, for a document's section."""
    out = [
        r"\begin{align*}",
        *_heading_rows(flow),
        _all_block_rows(flow),
        r"\end{align*}",
        r"\begin{itemize}",
        *[rf"\item {line}" for line in _bound_lines(flow, True)],
        r"\end{itemize}",
    ]
    return "\n".join(out) + "\n"


def flow_latex(flow: Flow) -> str:
    """The differentials, blocks and bound as LaTeX (an amsmath fragment)."""
    differentials = [
        differential_equation(lhs, form, True).replace(" = ", " &= ", 1) for lhs, form in flow.differentials if form
    ]
    return "\n".join([r"\begin{align*}", " \\\\\n".join(differentials), r"\end{align*}", flow_latex_body(flow)])


def flow_markdown(flow: Flow) -> str:
    """Markdown that renders on GitHub: the blocks in a ```math block, the bound as a list."""
    out = ["```math", r"\begin{aligned}", *_heading_rows(flow)]
    out.append(_all_block_rows(flow))
    out += [r"\end{aligned}", "```", ""]
    out += [f"- {line}" for line in _bound_lines(flow, False)]
    return "\n".join(out) + "\n"
