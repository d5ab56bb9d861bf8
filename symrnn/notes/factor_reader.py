"""The factor reader: one factor of a product (a symbol, a bracket, a fraction, a norm) as a Piece.

The reading rules are listed in :mod:`.parse`'s docstring; this module applies them.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from lark import Token
from lark import Tree as LarkTree

if TYPE_CHECKING:
    pass

from .angle_products import OUTER
from .script_reader import Piece, Rejected, ScriptReader, end_of, start_of, subtrees
from .scripts import NAMED, arg_tokens, is_plus_script
from .tree import (
    Cases,
    Concat,
    Differential,
    Dots,
    Equation,
    EquationList,
    Expr,
    Func,
    Matrix,
    Number,
    Product,
    Symbol,
    Transpose,
    Tree,
    Tuple,
)

# F\_\hat{Y}: Werbos' ordered derivative of Ŷ, one name "F_Yhat".
_HAT_IN_NAME = re.compile(r"\\hat\s*\{([A-Za-z])\}")

# Names that \mathrm{…} or \text{…} spell as functions (other words are symbols).
FUNCTION_WORDS = frozenset(
    "softmax sigmoid tanh relu elu gelu softplus swish exp log ln sin cos sqrt max min argmax argmin "
    "diag sign abs tr det".split()
)


_ACCENTS = {
    "tilde": "tilde",
    "widetilde": "tilde",
    "hat": "hat",
    "widehat": "hat",
    "bar": "bar",
    "overline": "bar",
    "check": "check",
    "dot": "dot",
    "ddot": "ddot",
    "breve": "breve",
    "overrightarrow": "rightarrow",
    "overleftarrow": "leftarrow",
}
_FONTS = {"mathcal": "cal", "mathbb": "bb", "mathscr": "scr", "mathfrak": "frak"}
_BRACKET_SEPS = {",": ",", ";": ";", "|": "|", "\\mid": "|", "\\vert": "|"}


class FactorReader(ScriptReader):
    """Factors and the arguments of accents, fonts and fractions; TreeReader supplies the rest."""

    angle: str | None = None  # what <a, b> means in this note (angle_products.py), None: unread

    def factor(self, tree: LarkTree) -> Piece:
        primary, scripts = tree.children[0], tree.children[1:]
        start, end = start_of(tree), end_of(tree)
        if isinstance(primary, Token):
            return self.token_factor(primary, scripts, start, end)
        kind = primary.data
        if kind == "paren":
            items = tuple(self.expr(c) for c in subtrees(primary))
            inner = items[0] if len(items) == 1 else Tuple(items, span=self.spans(items[0], items[-1]))
            post = self.generic_scripts(scripts)
            return Piece("expr", self.post(inner, post), start, end, args=items, post=post)
        if kind in ("accent", "font", "group"):
            node = self.wrapped(primary)
            if isinstance(node, Symbol):
                return self.symbol_piece(node, scripts, start, end)
            if isinstance(node, Func):
                return self.func_piece(node, scripts, start, end)
            return Piece("expr", self.post(node, self.generic_scripts(scripts)), start, end)
        if kind == "frac":
            num_arg, den_arg = subtrees(primary)
            if [t.type for t in arg_tokens(num_arg)] == ["PARTIAL"]:
                return self.operator_piece(den_arg, scripts, start, end)
            node = self.divide(self.arg_expr(num_arg), self.arg_expr(den_arg), "frac")
        elif kind == "bracket":
            node = self.bracket(primary)
            if isinstance(node, Equation):
                if scripts:
                    raise Rejected(start_of(scripts[0]), "a condition in brackets cannot take a script")
                return Piece("expr", node, start, end, condition=True)
        elif kind in ("norm", "absval"):
            return self.norm_piece(primary, scripts, start, end)
        elif kind == "matrix":
            node = self.matrix(primary)
        elif kind == "cases":
            rows = tuple((self.expr(r.children[0]), self.relation(r.children[-1])) for r in subtrees(primary))
            node = Cases(rows, span=self.span(start, end))
        elif len(subtrees(primary)) > 1:
            node = self.angle_product(primary, start, end)
        else:  # angle
            raise Rejected(start, "angle brackets are read only as time indices, as in a^{<t>}", "\\langle")
        return Piece("expr", self.post(node, self.generic_scripts(scripts)), start, end)

    def angle_product(self, tree: LarkTree, start: int, end: int) -> Product:
        """``\\langle a, b \\rangle`` as the note defines it: a b^\\top (outer) or a^\\top b (inner)."""
        items = [self.expr(c) for c in subtrees(tree)]
        if self.angle is None:
            raise Rejected(
                start,
                "<a, b> (an inner or outer product) is not read: the note does not say which "
                "(state it, e.g. \\langle a, b \\rangle = a b^\\top, or write a^\\top b or a b^\\top)",
                "\\langle",
            )
        if len(items) != 2:
            raise Rejected(start, f"<…> with {len(items)} entries is not a product of two vectors", "\\langle")
        a, b = items
        span = self.span(start, end)
        if self.angle == OUTER:
            return Product("juxt", a, Transpose(b, span=b.span), span=span)
        return Product("juxt", Transpose(a, span=a.span), b, span=span)

    def token_factor(self, token: Token, scripts: list, start: int, end: int) -> Piece:
        kind, value = token.type, token.value
        if kind in ("LETTER", "GREEK", "ESCNAME", "NAMEWORD"):
            name = _HAT_IN_NAME.sub(r"\1hat", value).replace("\\_", "_").lstrip("\\")
            symbol = Symbol(name, span=self.span(token.start_pos, token.end_pos))
            return self.symbol_piece(symbol, scripts, start, end)
        if kind == "DELTA":
            if scripts:
                of = self.delta_of(scripts[0])
                if of is not None:  # \delta_{h_t}: the gradient with respect to h_t
                    node = Differential("delta", of, "sub", span=self.span(start, end))
                    return Piece("expr", self.post(node, self.generic_scripts(scripts[1:])), start, end)
                symbol = Symbol("delta", span=self.span(token.start_pos, token.end_pos))
                return self.symbol_piece(symbol, scripts, start, end)
            return Piece("diff", None, start, end, diff="delta")
        if kind == "PARTIAL":
            if len(scripts) == 1 and is_plus_script(scripts[0]):
                return Piece("diff", None, start, end, diff="partial+")
            if scripts:
                raise Rejected(
                    start_of(scripts[0]), "\\partial with a sub- or superscript is not supported", "\\partial_"
                )
            return Piece("diff", None, start, end, diff="partial")
        if kind == "NABLA":
            return self.nabla_piece(scripts, start, end)
        if kind == "BODY_MINUS":
            return Piece("neg", None, start, end)
        if kind in ("FUNC", "WORD"):
            func = Func(value.lstrip("\\"), span=self.span(token.start_pos, token.end_pos))
            return self.func_piece(func, scripts, start, end)
        if kind == "NAMED":
            node = self.named(token)
            if isinstance(node, Func):
                return self.func_piece(node, scripts, start, end)
            piece = self.symbol_piece(node, scripts, start, end)
            piece.word = len(node.name) > 1
            return piece
        if kind == "SUMOP":
            return self.sum_piece(scripts, start, end, prod=value.startswith("\\prod"))
        if kind == "NUMBER" and value == "1" and scripts and scripts[0].children[0].type == "SUB":
            # 1_{i = y_t} (an indicator) or 1_N (a vector of ones)
            return self.symbol_piece(Symbol("1", span=self.span(token.start_pos, token.end_pos)), scripts, start, end)
        if kind == "NUMBER":
            number = Number(value, span=self.span(token.start_pos, token.end_pos))
            return Piece("expr", self.post(number, self.generic_scripts(scripts)), start, end)
        if kind == "DOTS":
            if scripts:
                raise Rejected(start_of(scripts[0]), "dots cannot take a sub- or superscript")
            return Piece("expr", Dots(span=self.span(start, end)), start, end)
        # TOP, PRIMECMD
        raise Rejected(start, f"{value} belongs in a superscript")

    def named(self, token: Token) -> Symbol | Func:
        """``\\operatorname{…}`` and known function words (``\\mathrm{softmax}``) are
        functions; any other ``\\mathrm{…}``/``\\text{…}`` is a symbol (``\\mathrm{loss}``)."""
        content = NAMED.match(token.value).group(1)
        span = self.span(token.start_pos, token.end_pos)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", content):
            raise Rejected(
                token.start_pos,
                f"only a name may stand in {token.value.split('{')[0]}{{…}} (prose inside math is not supported)",
            )
        if token.value.startswith("\\operatorname") or content in FUNCTION_WORDS:
            return Func(content, span=span)
        return Symbol(content, span=span)

    def wrapped(self, tree: LarkTree) -> Expr:
        """The value of an accent, font or {group}."""
        if tree.data == "group":
            return self.single(tree.children[1], "braces")
        command, arg = tree.children
        inner = self.arg_expr(arg)
        name = command.value.lstrip("\\")
        if tree.data == "accent":
            if not isinstance(inner, Symbol):
                raise Rejected(start_of(arg), f"\\{name} must be put on a single symbol")
            return dataclasses.replace(
                inner, accents=(_ACCENTS[name], *inner.accents), span=self.span(start_of(tree), end_of(tree))
            )
        font = _FONTS.get(name)
        if isinstance(inner, Number) and inner.text == "1":
            inner = Symbol("1", span=inner.span)  # \mathbf{1}_N, \mathbb{1}[a > 0]
        word = _word_of(inner)
        if word is not None:
            inner = Symbol(word, span=inner.span)  # \mathbf{net}: one name, not n e t
        if isinstance(inner, Symbol):
            return dataclasses.replace(inner, font=font or inner.font, span=self.span(start_of(tree), end_of(tree)))
        if font is not None:
            raise Rejected(start_of(arg), f"\\{name} must be put on a single letter")
        return inner

    def arg_expr(self, arg: LarkTree) -> Expr:
        """The expression an argument (one token or a {group}) stands for."""
        value = self.arg_value(arg)
        if isinstance(value, (Equation, EquationList, Tuple)):
            raise Rejected(start_of(arg), "this argument must be one expression")
        return value

    def arg_value(self, arg: LarkTree) -> Tree:
        child = arg.children[0]
        if isinstance(child, LarkTree):
            return self.items(child.children[1])
        span = self.span(child.start_pos, child.end_pos)
        if child.type in ("LETTER", "GREEK"):
            return Symbol(child.value.lstrip("\\"), span=span)
        if child.type == "DELTA":
            return Symbol("delta", span=span)
        if child.type == "DIGIT":
            return Number(child.value, span=span)
        if child.type == "NAMED":
            return self.named(child)
        raise Rejected(child.start_pos, f"{child.value} belongs in a superscript")

    def bracket(self, tree: LarkTree) -> Concat | Equation:
        """``[a; b]`` as a Concat, or the condition ``[a_t > 0]`` of an indicator as its Equation."""
        items, seps = [], []
        for child in subtrees(tree):
            if child.data == "bsep":
                seps.append(child.children[0])
            else:
                items.append(self.relation(child))
        conditions = [i for i in items if isinstance(i, Equation)]
        if conditions:
            if len(items) > 1:
                raise Rejected(start_of(tree), "a condition in brackets must stand alone, as in \\mathbb{1}[a > 0]")
            return conditions[0]
        kinds = [_BRACKET_SEPS[s.value] for s in seps]
        for sep, kind in zip(seps, kinds, strict=True):
            if kind != kinds[0]:
                raise Rejected(sep.start_pos, f"brackets mix the separators '{kinds[0]}' and '{kind}'")
        return Concat(tuple(items), kinds[0] if kinds else ",", span=self.span(start_of(tree), end_of(tree)))

    def matrix(self, tree: LarkTree) -> Matrix:
        begin, end = tree.children[0], tree.children[-1]
        env = re.search(r"\{(\w+)\}", begin.value).group(1)
        if re.search(r"\{(\w+)\}", end.value).group(1) != env:
            raise Rejected(end.start_pos, f"\\begin{{{env}}} is closed by {end.value}")
        rows = tuple(tuple(self.expr(cell) for cell in subtrees(row)) for row in subtrees(tree))
        if len({len(r) for r in rows}) > 1:
            raise Rejected(begin.start_pos, "matrix rows have different numbers of entries")
        return Matrix(rows, span=self.span(start_of(tree), end_of(tree)))

    # ---- scripts


def _word_of(node: Expr) -> str | None:
    """``net`` for the juxtaposed letters n e t inside ``\\mathbf{net}`` (a multi-letter name)."""
    letters = []
    while isinstance(node, Product) and node.op == "juxt":
        if not _plain_letter(node.right):
            return None
        letters.append(node.right.name)
        node = node.left
    if not letters or not _plain_letter(node):
        return None
    return node.name + "".join(reversed(letters))


def _plain_letter(node: Expr) -> bool:
    return isinstance(node, Symbol) and len(node.name) == 1 and node.name.isalpha() and node == Symbol(node.name)
