"""One equation as LaTeX or text: ``lhs = rhs``, with Σ_t for parameter gradients."""

from __future__ import annotations

from symrnn.printing.latex import LatexPrinter
from symrnn.printing.notation import LATEX_OPS, TEXT_OPS
from symrnn.printing.text import TextPrinter


def _sides(eq, printer_cls, ops, **settings):
    at = eq.at if eq.at is not None else settings.pop("at", None)
    lhs_printer = printer_cls(at=at, **settings)
    rhs_printer = printer_cls(at=at, **settings)
    lhs = lhs_printer.doprint(eq.lhs)
    if eq.kind == "initial_grad":
        lhs = lhs.replace(ops["delta"], "", 1)
        lhs = ops["partial"].format(num="J", den=lhs)
    rhs = rhs_printer.doprint(eq.rhs)
    if eq.kind == "param_grad":
        rhs = ops["sum_t"] + (rhs_printer.bracket(rhs) if eq.rhs.op in ("add", "sub") else rhs)
    return lhs, rhs


def equation_latex(eq, **settings) -> str:
    lhs, rhs = _sides(eq, LatexPrinter, LATEX_OPS, **settings)
    return f"{lhs} = {rhs}"


def equation_text(eq, **settings) -> str:
    lhs, rhs = _sides(eq, TextPrinter, TEXT_OPS, **settings)
    return f"{lhs} = {rhs}"
