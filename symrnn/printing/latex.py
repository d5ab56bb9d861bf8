"""LaTeX printing of IR expressions (amsmath; ``\\odot`` for ⊙, ``^\\top`` for ᵀ)."""

from __future__ import annotations

import sympy

from symrnn import ir
from symrnn.ir import Node
from symrnn.printing.notation import LATEX_OPS, latex_name
from symrnn.printing.printer import MathPrinter


class LatexPrinter(MathPrinter):
    ops = LATEX_OPS

    def bracket(self, s: str) -> str:
        return rf"\left({s}\right)"

    def name(self, name, shift):
        return latex_name(name, shift, self.settings["at"], self.settings["time_style"])

    def function_name(self, spec):
        return spec.latex

    def coefficient(self, c):
        return sympy.latex(c)

    def _print_concat(self, node: Node):
        return r"\begin{bmatrix} " + r" \\ ".join(self.doprint(a) for a in node.args) + r" \end{bmatrix}"

    def _print_rows(self, node: Node):
        start, stop = node.attrs
        # Sizes as in the shape tables (n_h, n_x), not SymPy's hidden_{size}.
        return rf"\left[{self.doprint(node.args[0])}\right]_{{{sympy.latex(_dims(start))}:{sympy.latex(_dims(stop))}}}"

    def _print_apply(self, node):
        if node.attrs[0] == "reciprocal":
            return rf"\frac{{1}}{{{self.doprint(node.args[0])}}}"
        return super()._print_apply(node)


def latex(node: Node, **settings) -> str:
    """The LaTeX of one expression, e.g. ``W_{hh}^\\top \\delta\\bar{h}_{t+1}``."""
    return LatexPrinter(**settings).doprint(node)


def shape_latex(shape) -> str:
    rows, cols = (sympy.latex(_dims(s)) if s.is_Atom else rf"\left({sympy.latex(_dims(s))}\right)" for s in shape)
    return rf"{rows} \times {cols}"


def _dims(expr):
    return expr.subs({d: sympy.Symbol(s) for d, s in zip(ir.DIMS, ("n_h", "n_x", "n_y"), strict=False)})
