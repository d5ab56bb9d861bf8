"""Plain-text (Unicode) printing of IR expressions: ``W_hhᵀ δh̄[t+1]``."""

from __future__ import annotations

from symrnn.ir import Node
from symrnn.printing.notation import TEXT_OPS, text_name
from symrnn.printing.printer import MathPrinter


class TextPrinter(MathPrinter):
    ops = TEXT_OPS

    def name(self, name, shift):
        return text_name(name, shift, self.settings["at"])

    def function_name(self, spec):
        return spec.text

    def _print_concat(self, node: Node):
        return "[" + "; ".join(self.doprint(a) for a in node.args) + "]"

    def _print_rows(self, node: Node):
        start, stop = node.attrs
        return f"{self.paren(node.args[0], 100)}[{start}:{stop}]"

    def _print_apply(self, node):
        if node.attrs[0] == "reciprocal":
            return f"1/{self.paren(node.args[0], 100)}"
        return super()._print_apply(node)


def text(node: Node, **settings) -> str:
    return TextPrinter(**settings).doprint(node)
