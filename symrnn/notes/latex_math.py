"""The math of a LaTeX document, found by pylatexenc's walker.

pylatexenc decides what is a comment, an environment, a macro and its
arguments; we take from its nodes the math (``$…$``, ``$$…$$``, ``\\(…\\)``,
``\\[…\\]`` and the math environments) and the macros the document defines
(``\\newcommand``, ``\\renewcommand``, ``\\providecommand``, ``\\def``,
``\\DeclareMathOperator``), which :mod:`.macros` expands — TeX never runs.
Every node carries its offset in the text, so positions are exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexEnvironmentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexWalker,
)

from .limits import MAX_DOCUMENT_NESTING, MAX_LATEX_BYTES, too_big
from .macros import MacroDef
from .markdown_math import Problem, RawMath
from .source import OffsetMap

# Environments whose body is display math (cut into rows by extract.py).
DISPLAY_ENVIRONMENTS = frozenset(
    "equation align gather multline eqnarray flalign alignat displaymath dmath xalignat".split()
)
_DEFINERS = frozenset("newcommand renewcommand providecommand DeclareMathOperator DeclareRobustCommand".split())
_CLOSERS = {"$": "$", "$$": "$$", "\\(": "\\)", "\\[": "\\]"}


@dataclass(frozen=True)
class LatexMath:
    """What a LaTeX document holds for the checker: its math, problems and macro definitions."""

    math: list[RawMath]
    problems: list[Problem]
    macros: list[MacroDef]


def latex_math(text: str) -> LatexMath:
    """The math, problems and macros of the LaTeX ``text``, in document order."""
    if len(text) > MAX_LATEX_BYTES:
        problem = Problem(
            0, too_big(f"the LaTeX document has {len(text):,} characters", MAX_LATEX_BYTES, "characters"), "size"
        )
        return LatexMath([], [problem], [])
    deep = _too_deep(text)
    if deep is not None:
        message = too_big("braces nested too deeply to read this document", MAX_DOCUMENT_NESTING, "levels")
        return LatexMath([], [Problem(deep, message, "nesting")], [])
    walker = _Walk(text)
    try:
        nodes, _, _ = LatexWalker(text, tolerant_parsing=True).get_latex_nodes()
    except RecursionError:
        return LatexMath([], [Problem(0, "the document is nested too deeply to read", "nesting")], [])
    walker.nodes(nodes)
    return LatexMath(walker.math, walker.problems, walker.macros)


def _too_deep(text: str) -> int | None:
    depth = 0
    for m in re.finditer(r"\\.|[{}]", text, re.S):
        ch = m.group()
        if ch == "{":
            depth += 1
            if depth > MAX_DOCUMENT_NESTING:
                return m.start()
        elif ch == "}":
            depth = max(0, depth - 1)
    return None


class _Walk:
    def __init__(self, text: str) -> None:
        self.text = text
        self.math: list[RawMath] = []
        self.problems: list[Problem] = []
        self.macros: list[MacroDef] = []

    def nodes(self, nodes) -> None:
        nodes = [n for n in nodes or () if n is not None]
        i = 0
        while i < len(nodes):
            node = nodes[i]
            if isinstance(node, LatexMathNode):
                self.math_node(node)
            elif isinstance(node, LatexEnvironmentNode):
                self.environment(node)
            elif isinstance(node, LatexMacroNode):
                if node.macroname == "def":
                    i = self.define(nodes, i)
                    continue
                if node.macroname in _DEFINERS:
                    self.definer(node)
                elif node.nodeargd is not None:
                    self.nodes(node.nodeargd.argnlist)
            elif isinstance(node, LatexGroupNode):
                self.nodes(node.nodelist)
            i += 1

    def math_node(self, node: LatexMathNode) -> None:
        opener = node.delimiters[0] if node.delimiters else "$"
        closer = _CLOSERS.get(opener, opener)
        start, end = node.pos + len(opener), node.pos + node.len
        if self.text[end - len(closer) : end] != closer or end - len(closer) < start:
            self.problems.append(Problem(node.pos, f"{opener} is never closed by {closer}", f"unclosed {opener}"))
            return
        body_end = end - len(closer)
        display = opener in ("$$", "\\[")
        self.math.append(RawMath(self.text[start:body_end], OffsetMap.shift(start), display, opener))

    def environment(self, node: LatexEnvironmentNode) -> None:
        name = node.environmentname or ""
        base = name.rstrip("*")
        if base not in DISPLAY_ENVIRONMENTS and base != "math":
            self.nodes(node.nodelist)
            return
        begin = re.compile(r"\\begin\s*\{" + re.escape(name) + r"\}(?:\s*\{[^{}]*\})?").match(self.text, node.pos)
        end = node.pos + node.len
        closing = re.compile(r"\\end\s*\{" + re.escape(name) + r"\}\Z")
        tail = self.text[max(node.pos, end - len(name) - 20) : end]
        m = closing.search(tail)
        if begin is None or m is None:
            self.problems.append(
                Problem(node.pos, f"\\begin{{{name}}} is never closed by \\end{{{name}}}", f"unclosed {name}")
            )
            return
        body_end = end - (len(tail) - m.start())
        body = self.text[begin.end() : body_end]
        self.math.append(RawMath(body, OffsetMap.shift(begin.end()), base != "math", "\\begin", name))

    def definer(self, node: LatexMacroNode) -> None:
        args = [a for a in node.nodeargd.argnlist] if node.nodeargd else []
        nodes = [a for a in args if a is not None]
        if node.macroname == "DeclareMathOperator":
            groups = [a for a in nodes if isinstance(a, LatexGroupNode)]
            if len(groups) >= 2:
                name = _group_text(self.text, groups[0]).strip()
                body = "\\operatorname{" + _group_text(self.text, groups[1]).strip() + "}"
                self.add(name, 0, None, body, node.pos, groups[1].pos)
            return
        # \newcommand*{\name}[n][default]{body}: pylatexenc's spec is *{[[{
        if len(args) < 5 or args[1] is None or args[4] is None:
            self.problems.append(Problem(node.pos, f"cannot read this \\{node.macroname}", node.macroname))
            return
        name = _group_text(self.text, args[1]).strip() if isinstance(args[1], LatexGroupNode) else None
        if isinstance(args[1], LatexMacroNode):
            name = "\\" + args[1].macroname
        count = 0
        if args[2] is not None:
            digits = _group_text(self.text, args[2]).strip()
            count = int(digits) if digits.isdigit() and len(digits) == 1 else -1
        default = _group_text(self.text, args[3]) if args[3] is not None else None
        body_node = args[4]
        body = (
            _group_text(self.text, body_node)
            if isinstance(body_node, LatexGroupNode)
            else _node_text(self.text, body_node)
        )
        if not name or not re.fullmatch(r"\\[A-Za-z]+", name) or count < 0:
            self.problems.append(Problem(node.pos, f"cannot read this \\{node.macroname}", node.macroname))
            return
        self.add(
            name, count, default, body, node.pos, body_node.pos + (1 if isinstance(body_node, LatexGroupNode) else 0)
        )

    def define(self, nodes, i: int) -> int:
        r"""``\def\name#1#2{body}``: the name, the parameter text and the body are separate nodes."""
        start = nodes[i].pos
        j = i + 1
        if j >= len(nodes) or not isinstance(nodes[j], LatexMacroNode):
            self.problems.append(Problem(start, "cannot read this \\def", "def"))
            return j
        name_node = nodes[j]
        name = "\\" + name_node.macroname
        j += 1
        # pylatexenc gives a known macro (\b, \v: accents) its argument: that group is the body.
        taken = [a for a in (name_node.nodeargd.argnlist if name_node.nodeargd else ()) if a is not None]
        if taken and isinstance(taken[-1], LatexGroupNode):
            body = taken[-1]
            self.add(name, 0, None, _group_text(self.text, body), start, body.pos + 1)
            return j
        params = ""
        if j < len(nodes) and isinstance(nodes[j], LatexCharsNode):
            params = _node_text(self.text, nodes[j]).strip()
            j += 1
        if j >= len(nodes) or not isinstance(nodes[j], LatexGroupNode) or not re.fullmatch(r"(?:#[1-9])*", params):
            self.problems.append(Problem(start, f"cannot read this \\def of {name} (only #1…#9 parameters)", "def"))
            return j
        body = nodes[j]
        self.add(name, len(params) // 2, None, _group_text(self.text, body), start, body.pos + 1)
        return j + 1

    def add(self, name: str, count: int, default: str | None, body: str, at: int, body_at: int) -> None:
        self.macros.append(MacroDef(name, count, default, body, at, body_at))


def _node_text(text: str, node) -> str:
    return text[node.pos : node.pos + node.len]


def _group_text(text: str, node) -> str:
    """The inside of a ``{…}`` or ``[…]`` group node."""
    raw = _node_text(text, node)
    if isinstance(node, LatexGroupNode) and len(raw) >= 2:
        return raw[1:-1]
    return raw
