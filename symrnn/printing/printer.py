"""Printing by visitor: one ``_print_<op>`` method per IR op, brackets by precedence.

:class:`MathPrinter` writes the per-example mathematics; its subclasses only pick
a notation table (LaTeX or plain text).  Broadcast and batch sums are invisible
in the mathematics: a formula is written for one example, and parameter
gradients sum over the batch as they sum over t.
"""

from __future__ import annotations

from symrnn import ir
from symrnn.functions import function_spec
from symrnn.ir import Node

PRECEDENCE = {
    "add": 10,
    "sub": 10,
    "one_minus": 10,
    "scale": 20,
    "mul": 20,
    "div": 20,
    "matmul": 30,
    "transpose": 90,
}
ATOM = 100


def precedence(node: Node) -> int:
    if node.op in ("broadcast", "batch_sum"):
        return precedence(node.args[0])
    if node.op == "scale" and node.attrs[0] == -1:
        return 15
    return PRECEDENCE.get(node.op, ATOM)


class MathPrinter:
    """Base printer.  Settings: ``at`` (absolute step for t) and ``time_style``."""

    ops: dict[str, str] = {}
    default_settings = {"at": None, "time_style": "sub"}

    def __init__(self, **settings):
        unknown = set(settings) - set(self.default_settings)
        if unknown:
            raise TypeError(f"unknown printer settings: {', '.join(sorted(unknown))}")
        self.settings = {**self.default_settings, **settings}

    def doprint(self, node: Node) -> str:
        return getattr(self, f"_print_{node.op}")(node)

    def paren(self, node: Node, level: int, strict: bool = False) -> str:
        inner = self.doprint(node)
        p = precedence(node)
        if p < level or (strict and p == level):
            return self.bracket(inner)
        return inner

    def bracket(self, s: str) -> str:
        return f"({s})"

    # ------------------------------------------------------------ ops
    def _print_zeros(self, node):
        return self.ops["zero"]

    def _print_add(self, node):
        a, b = node.args
        return f"{self.paren(a, 10)} {self.ops['add']} {self.paren(b, 10)}"

    def _print_sub(self, node):
        a, b = node.args
        return f"{self.paren(a, 10)} {self.ops['sub']} {self.paren(b, 10, strict=True)}"

    def _print_one_minus(self, node):
        return f"1 {self.ops['sub']} {self.paren(node.args[0], 10, strict=True)}"

    def _print_mul(self, node):
        a, b = node.args
        return f"{self.paren(a, 20)} {self.ops['mul']} {self.paren(b, 20, strict=True)}"

    def _print_div(self, node):
        a, b = node.args
        return f"{self.paren(a, 20)} {self.ops['div']} {self.paren(b, 20, strict=True)}"

    def _print_scale(self, node):
        c, (a,) = node.attrs[0], node.args
        if c == -1:
            return f"-{self.paren(a, 20)}"
        return f"{self.coefficient(c)} {self.paren(a, 20)}"

    def _print_matmul(self, node):
        a, b = node.args
        return f"{self.paren(a, 30)}{self.ops['matmul']}{self.paren(b, 30, strict=True)}"

    def _print_transpose(self, node):
        return f"{self.paren(node.args[0], ATOM)}{self.ops['transpose']}"

    def _print_apply(self, node):
        spec = function_spec(node.attrs[0])
        return f"{self.function_name(spec)}{self.bracket(self.doprint(node.args[0]))}"

    def _print_softmax(self, node):
        return f"{self.ops['softmax']}{self.bracket(self.doprint(node.args[0]))}"

    def _print_broadcast(self, node):
        return self.doprint(node.args[0])

    def _print_batch_sum(self, node):
        return self.doprint(node.args[0])

    def _print_var(self, node):
        if node.kind == ir.GRAD:
            name = self.name(node.name, node.shift)
            if node.shift is None:
                return self.ops["partial"].format(num="J", den=name)
            return f"{self.ops['delta']}{name}"
        return self.name(node.name, node.shift)

    # ------------------------------------------------------------ hooks
    def name(self, name: str, shift) -> str:
        raise NotImplementedError

    def function_name(self, spec) -> str:
        raise NotImplementedError

    def coefficient(self, c) -> str:
        return str(c)
