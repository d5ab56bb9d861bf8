"""Section "Local derivatives": each element-wise function's derivative, written in forward values."""

from __future__ import annotations

from symrnn import ir
from symrnn.equation_kinds import FORWARD
from symrnn.functions import function_spec
from symrnn.ir import Node, derivative
from symrnn.printing.blocks import Equations, Items, Line, Math, Paragraph, Section, Text
from symrnn.printing.latex import latex
from symrnn.printing.walkthrough.common import Numbers, ref, tex_name


def _applications(d):
    """Every element-wise function the cell applies: (forward equation, the apply node), in order."""
    seen: dict[Node, None] = {}
    out = []
    for eq in d.forward:
        if eq.kind != FORWARD:
            continue
        for node in ir.postorder(eq.rhs):
            if node.op == "apply" and node not in seen:
                seen[node] = None
                out.append((eq, node))
    return out


def local_derivatives(d) -> list[tuple[str, str, str, Node]]:
    """(function, ∂value/∂argument as LaTeX, the derivative in forward values as LaTeX, the equation lhs)."""
    rows = []
    for eq, node in _applications(d):
        fn = node.attrs[0]
        (x,) = node.args
        whole = node is eq.rhs
        value = eq.lhs if whole else node
        d_node = derivative(fn, x, value)
        value_tex = latex(value)
        lhs = rf"\frac{{\partial {value_tex}}}{{\partial {latex(x)}}}"
        if d_node is None:
            rhs = "I"
        elif d_node.op == "zeros":
            rhs = "0"
        else:
            rhs = rf"\mathrm{{diag}}\left({latex(d_node)}\right)"
        rows.append((fn, lhs, rhs, eq.lhs))
    return rows


def local_section(d, numbers: Numbers) -> Section:
    rows = local_derivatives(d)
    functions = list(dict.fromkeys(fn for fn, *_ in rows))
    rules: list[Text] = []
    for fn in functions:
        spec = function_spec(fn)
        if spec.generic:
            rules.append(
                (Math(rf"{spec.latex}'(x)"), " stays symbolic: the cell does not say what ", Math(spec.latex), " is.")
            )
        else:
            rules.append((Math(spec.derivative_latex or rf"{spec.latex}'(x)"),))
    lines = [
        Line(
            lhs,
            rhs,
            numbers[("local", str(i))],
            ("in ", Math(tex_name(eq_lhs.name)), " ", ref(numbers[("forward", eq_lhs.name)])),
        )
        for i, (_fn, lhs, rhs, eq_lhs) in enumerate(rows)
    ]
    blocks: list = [
        Paragraph(
            (
                "An element-wise function has a diagonal Jacobian, so the chain rule through it is an "
                "element-wise product: ",
                Math(r"\delta \bar{v} = \delta v \odot \varphi'(\bar{v})"),
                ".  The derivatives are written in the values the forward pass already computed:",
            )
        ),
        Items(tuple(rules)),
    ]
    if lines:
        blocks.append(Paragraph(("For this cell:",)))
        blocks.append(Equations(tuple(lines)))
    else:
        blocks.append(Paragraph(("This cell applies no element-wise function.",)))
    return Section("Local derivatives", tuple(blocks))
