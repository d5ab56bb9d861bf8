"""A LaTeX note as the body of the check report: prose as text, math as MathML with its verdicts.

pylatexenc's walker gives the note's structure with positions: sections become headings, blank
lines paragraphs, ``itemize``/``enumerate`` lists, ``\\textbf``/``\\emph`` and friends their text;
inline math, ``\\[…\\]``, ``$$…$$`` and the math environments (equation, align, gather, multline,
eqnarray and their starred forms) carry the verdicts at their lines, as in the Markdown report.
Preamble commands and comments are left out.  Nothing of the note is evaluated.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

MAX_EXPANDED = 20_000  # characters of one formula after expanding the note's macros; beyond, shown as written
_DEFINITION = re.compile(r"\\(?:re)?newcommand\*?\s*\{?\s*\\([A-Za-z]+)\s*\}?\s*(?:\[(\d)\])?\s*\{")

MATH_ENVIRONMENTS = {
    f"{name}{star}"
    for name in ("equation", "align", "gather", "multline", "eqnarray", "flalign", "alignat")
    for star in ("", "*")
}
_HEADINGS = {"part": 1, "chapter": 1, "section": 2, "subsection": 3, "subsubsection": 4, "paragraph": 5}
_TEXT_MACROS = {"textbf": "strong", "emph": "em", "textit": "em", "texttt": "code", "underline": "u", "text": None}
_SKIPPED = {
    "documentclass",
    "usepackage",
    "newcommand",
    "renewcommand",
    "providecommand",
    "DeclareMathOperator",
    "label",
    "maketitle",
    "title",
    "author",
    "date",
    "tableofcontents",
    "bibliographystyle",
    "bibliography",
    "def",
    "ref",
    "eqref",
    "cite",
}


def _group(text: str, start: int) -> tuple[str, int] | None:
    """The braced group whose ``{`` is at ``start``: (its inside, the index after it), or None if unclosed."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{" and (i == 0 or text[i - 1] != "\\"):
            depth += 1
        elif text[i] == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
    return None


def note_macros(text: str) -> dict[str, tuple[int, str]]:
    """The note's ``\\newcommand`` definitions: name → (number of arguments, body on one line)."""
    macros = {}
    for m in _DEFINITION.finditer(text):
        body = _group(text, m.end() - 1)
        if body is not None:
            macros[m.group(1)] = (int(m.group(2) or 0), body[0].replace("\n", " "))
    return macros


def _substitute(body: str, args: list[str]) -> str:
    """A macro's body with #1 … #9 replaced by its arguments (a missing one by nothing)."""
    return re.sub(r"#(\d)", lambda a: args[int(a.group(1)) - 1] if int(a.group(1)) <= len(args) else "", body)


def expand(tex: str, macros: dict[str, tuple[int, str]]) -> str:
    """``tex`` with the note's macros expanded (bounded: a blow-up is returned unexpanded)."""
    if not macros:
        return tex
    use = re.compile(r"\\(" + "|".join(sorted(map(re.escape, macros), key=len, reverse=True)) + r")(?![A-Za-z])")
    out = tex
    for _ in range(10):  # nesting depth
        m = use.search(out)
        if m is None:
            return out
        pieces, pos = [], 0
        for m in use.finditer(out):
            if m.start() < pos:
                continue
            count, body = macros[m.group(1)]
            args, end = [], m.end()
            for _ in range(count):
                while end < len(out) and out[end] == " ":
                    end += 1
                if end < len(out) and out[end] == "{":
                    group = _group(out, end)
                    if group is None:
                        return tex
                    args.append(group[0])
                    end = group[1]
                elif end < len(out):
                    args.append(out[end])
                    end += 1
            replaced = _substitute(body, args)
            pieces += [out[pos : m.start()], "{", replaced, "}"]
            pos = end
        out = "".join(pieces) + out[pos:]
        if len(out) > MAX_EXPANDED:
            return tex
    return out


@dataclass
class _Block:
    """What a display renderer needs of a math block (the shape of a markdown-it token)."""

    content: str
    map: list[int]
    type: str = "amsmath"
    meta: dict = field(default_factory=dict)


class _Writer:
    def __init__(self, note, display_block, inline_claim):
        self.note, self.text = note, note.text
        self.display_block, self.inline_claim = display_block, inline_claim
        self.left = list(note.verdicts)
        self.inline: list[dict] = []
        self.macros = note_macros(note.text)
        self.out: list[str] = []
        self.paragraph: list[str] = []

    def line(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def take(self, lo: int, hi: int, latex: str | None = None) -> list[dict]:
        def mine(v):
            inside = lo <= v.get("line", 0) <= hi
            return inside and (latex is None or str(v.get("latex", "")).strip() in latex)

        taken = [v for v in self.left if mine(v)]
        self.left = [v for v in self.left if not mine(v)]
        return taken

    def flush(self) -> None:
        text = "".join(self.paragraph).strip()
        if text:
            self.out.append(f"<p>{text}</p>")
        self.paragraph = []

    def chars(self, s: str) -> None:
        parts = s.split("\n\n")
        for k, part in enumerate(parts):
            if k:
                self.flush()
            self.paragraph.append(html.escape(part.replace("~", " ")))

    def display(self, node, content: str) -> None:
        self.flush()
        lo, hi = self.line(node.pos), self.line(node.pos + node.len - 1)
        block = _Block(expand(content, self.macros), [lo - 1, hi])
        self.out.append(self.display_block(self.note, block, self.take(lo, hi)))

    def nodes(self, nodelist) -> None:
        from pylatexenc.latexwalker import (
            LatexCharsNode,
            LatexEnvironmentNode,
            LatexGroupNode,
            LatexMacroNode,
            LatexMathNode,
            LatexSpecialsNode,
        )

        for node in nodelist or ():
            if isinstance(node, LatexCharsNode):
                self.chars(node.chars)
            elif isinstance(node, LatexSpecialsNode):
                self.chars(" ")
            elif isinstance(node, LatexMathNode):
                inner = "".join(n.latex_verbatim() for n in node.nodelist or ())
                if node.displaytype == "display":
                    self.display(node, inner)
                else:
                    lo, hi = self.line(node.pos), self.line(node.pos + node.len - 1)
                    verdicts = self.take(lo, hi, inner.strip())
                    self.inline += verdicts
                    self.paragraph.append(self.inline_claim(self.note, expand(inner, self.macros), verdicts))
            elif isinstance(node, LatexEnvironmentNode):
                self.environment(node)
            elif isinstance(node, LatexMacroNode):
                self.macro(node)
            elif isinstance(node, LatexGroupNode):
                self.nodes(node.nodelist)

    def environment(self, node) -> None:
        name = node.environmentname
        if name in MATH_ENVIRONMENTS:
            self.display(node, node.latex_verbatim())
        elif name in ("itemize", "enumerate", "description"):
            self.flush()
            tag = "ol" if name == "enumerate" else "ul"
            self.out.append(f"<{tag}><li>")
            self.in_list = True
            self.nodes(node.nodelist)
            self.flush()
            self.out.append(f"</li></{tag}>")
        else:  # document, abstract, theorem-like environments: their content
            self.nodes(node.nodelist)

    def macro(self, node) -> None:
        name = node.macroname
        args = [a for a in (node.nodeargd.argnlist if node.nodeargd else ()) if a is not None]
        if name in _HEADINGS:
            self.flush()
            level = _HEADINGS[name]
            saved, self.paragraph = self.paragraph, []
            self.nodes(args[-1:] if args else ())
            title = "".join(self.paragraph).strip()
            self.paragraph = saved
            self.out.append(f"<h{level}>{title}</h{level}>")
        elif name == "item":
            self.flush()
            if self.out and self.out[-1].endswith("<li>"):
                return
            self.out.append("</li><li>")
        elif name in _TEXT_MACROS:
            tag = _TEXT_MACROS[name]
            self.paragraph.append(f"<{tag}>" if tag else "")
            self.nodes(args[-1:])
            self.paragraph.append(f"</{tag}>" if tag else "")
        elif name in ("\\", "newline", "par"):
            self.flush() if name == "par" else self.paragraph.append("<br>")
        elif name in _SKIPPED or len(name) == 1:  # \, \; \% …: spacing or an escaped character
            if name in "%&$#_{}":
                self.paragraph.append(html.escape(name))
            elif len(name) == 1:
                self.paragraph.append(" ")
        else:  # an unknown text macro: its arguments' text
            self.nodes(args)


def latex_note_body(note, display_block, inline_claim) -> tuple[str, list[dict], list[dict]]:
    """The note's body HTML, the verdicts it could not place, and the verdicts placed inline.

    Args:
        note: a :class:`~symrnn.printing.check_report.NoteReport` whose text is LaTeX.
        display_block: renders a math block with its verdicts (the Markdown report's renderer).
        inline_claim: renders inline math with its verdicts' badges.
    """
    from pylatexenc.latexwalker import LatexWalker

    nodes, _, _ = LatexWalker(note.text, tolerant_parsing=True).get_latex_nodes()
    writer = _Writer(note, display_block, inline_claim)
    writer.nodes(nodes)
    writer.flush()
    return "\n".join(writer.out) + "\n", writer.left, writer.inline
