"""What every section of the walkthrough shares: equation numbers and the LaTeX of names, terms and lines."""

from __future__ import annotations

import re

from symrnn.ir import Node
from symrnn.printing.blocks import Line, Math, Text
from symrnn.printing.latex import LatexPrinter
from symrnn.printing.notation import latex_name

LINE_WIDTH = 72  # visible characters of a right-hand side before it is broken at a top-level +


class Numbers:
    """Equation numbers, assigned in reading order before any text refers to them."""

    def __init__(self):
        self._numbers: dict[tuple[str, str], int] = {}

    def assign(self, key: tuple[str, str]) -> int:
        return self._numbers.setdefault(key, len(self._numbers) + 1)

    def __getitem__(self, key: tuple[str, str]) -> int:
        return self._numbers[key]

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._numbers


def tex_name(value: str, shift: int | None = 0, at: int | None = None) -> str:
    """The LaTeX of a value at step t+shift (or at the absolute step ``at``)."""
    return latex_name(value, shift, at)


def delta(value: str, shift: int | None = 0) -> str:
    return r"\delta " + tex_name(value, shift)


def ref(n: int) -> str:
    return f"({n})"


def joined(parts: list) -> list:
    """``parts`` separated by ", " (inline parts of a paragraph)."""
    out: list = []
    for i, p in enumerate(parts):
        if i:
            out.append(", ")
        out.append(p)
    return out


def dollar_text(tex: str) -> Text:
    """LaTeX prose with ``$…$`` mathematics as inline parts (``~`` becomes a plain space)."""
    return tuple(Math(part) if i % 2 else part.replace("~", " ") for i, part in enumerate(tex.split("$")) if part)


def visible_length(tex: str) -> int:
    """Roughly how wide a LaTeX formula is: commands count as one character, braces and sizing as none."""
    tex = re.sub(r"\\(left|right)\b|\\[,;:! ]", "", tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    return len(re.sub(r"[{}^_]", "", tex))


def top_terms(node: Node) -> list[Node]:
    """The operands of a top-level chain of sums, left to right (a − b stays one term)."""
    if node.op == "add":
        return top_terms(node.args[0]) + top_terms(node.args[1])
    return [node]


def term_latex(node: Node, at: int | None = None) -> str:
    return LatexPrinter(at=at).paren(node, 10)


def equation_lines(lhs: str, rhs_terms: list[str], tag: int | None, note: Text = ()) -> list[Line]:
    """``lhs = t1 + t2 + …``, broken before a + where the line would grow wider than LINE_WIDTH."""
    rows: list[list[str]] = [[]]
    width = 0
    for term in rhs_terms:
        w = visible_length(term) + 3
        if rows[-1] and width + w > LINE_WIDTH:
            rows.append([])
            width = 0
        rows[-1].append(term)
        width += w
    lines = [Line(lhs, " + ".join(rows[0]), tag, note)]
    lines += [Line("", r"\quad + " + " + ".join(row)) for row in rows[1:]]
    return lines


def split_equation(eq) -> tuple[str, str]:
    lhs, rhs = eq.latex().split(" = ", 1)
    return lhs, rhs
