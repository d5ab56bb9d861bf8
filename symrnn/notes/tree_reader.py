"""The tree reader: lark's parse tree of one piece of math into the nodes of tree.py.

The reading rules are listed in :mod:`.parse`'s docstring; this module applies them.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from lark import Token
from lark import Tree as LarkTree

if TYPE_CHECKING:
    from .extract import MathChunk
    from .parse import Locator

from .delimiters import GREATER, LESS
from .factor_reader import FUNCTION_WORDS, FactorReader
from .script_reader import Piece, Rejected, end_of, start_of, subtrees
from .scripts import TIME_VARS, bound_indices, offset_letters
from .tree import (
    Add,
    Apply,
    Continued,
    Derivative,
    Differential,
    Entry,
    Equation,
    EquationList,
    Expr,
    Frac,
    Func,
    Indicator,
    Neg,
    Number,
    Power,
    Prod,
    Product,
    Span,
    Sub,
    Sum,
    Symbol,
    TimeIndex,
    Transpose,
    Tree,
    Tuple,
)

_MULOPS = {
    "*": "*",
    "/": "/",
    "\\ast": "*",
    "\\div": "/",
    "\\cdot": "cdot",
    "\\odot": "odot",
    "\\circ": "circ",
    "\\times": "times",
    "\\otimes": "otimes",
    "\\cup": "cup",
    "\\cap": "cap",
}
_RELATIONS = {
    "=": "=",
    ":=": ":=",
    "\\coloneqq": ":=",
    "\\approx": "approx",
    "\\equiv": "equiv",
    "\\leftarrow": "leftarrow",
    "\\gets": "leftarrow",
    "\\neq": "neq",
    "\\ne": "neq",
    "\\le": "le",
    "\\leq": "le",
    "\\ge": "ge",
    "\\geq": "ge",
    "\\in": "in",
    "\\notin": "notin",
    "\\lt": "lt",
    "\\gt": "gt",
    LESS: "lt",
    GREATER: "gt",
    "\\leqslant": "le",
    "\\geqslant": "ge",
    "\\propto": "propto",
    "\\simeq": "simeq",
}


class TreeReader(FactorReader):
    """Turns lark's parse tree of one chunk into tree.py nodes."""

    def __init__(self, chunk: MathChunk, functions: frozenset[str], locate: Locator, angle: str | None = None) -> None:
        self.chunk = chunk
        self.functions = functions
        self.angle = angle
        self.locate = locate
        # Letters that index a sum or product here are steps too (a_s in \prod_{s=k+1}^{t}).
        # So are letters written with an offset here: x_i beside x_{i-1} is x at step i.
        self.step_vars = TIME_VARS | bound_indices(chunk.text) | offset_letters(chunk.text)

    def span(self, start: int, end: int) -> Span:
        return self.locate.span(start, end)

    def spans(self, first: Expr, last: Expr) -> Span | None:
        if first.span is None or last.span is None:
            return first.span or last.span
        return Span(first.span.line, first.span.column, last.span.end_line, last.span.end_column)

    # ---- statements

    def start(self, tree: LarkTree) -> Tree:
        lead = next((c for c in tree.children if isinstance(c, LarkTree) and c.data == "lead"), None)
        items = next(c for c in tree.children if isinstance(c, LarkTree) and c.data == "items")
        result = self.items(items)
        rel = [t for t in lead.children if t.type == "REL"] if lead is not None else []
        if not rel:
            return result
        # "&= c" continues the previous line: its left side is filled in by read_equations.
        continued = Continued(span=self.span(start_of(rel[0]), end_of(rel[0])))
        op = _RELATIONS[rel[0].value]
        if isinstance(result, EquationList):
            raise Rejected(start_of(items), "a continued line must hold one equation")
        if isinstance(result, Equation):
            return Equation((continued, *result.sides), (op, *result.ops), span=self.spans(continued, result))
        return Equation((continued, result), (op,), span=self.spans(continued, result))

    def items(self, tree: LarkTree) -> Tree:
        values = [self.relation(r) for r in subtrees(tree)]
        if not any(isinstance(v, Equation) for v in values):
            if len(values) == 1:
                return values[0]
            return Tuple(tuple(values), span=self.spans(values[0], values[-1]))
        # Items that are not equations join the nearest equation (see module doc).
        groups: list[tuple[list[Expr], Equation, list[Expr]]] = []
        leading: list[Expr] = []
        for value in values:
            if isinstance(value, Equation):
                groups.append((leading if not groups else [], value, []))
                leading = []
            elif groups:
                groups[-1][2].append(value)
            else:
                leading.append(value)
        equations = []
        for before, eq, after in groups:
            sides = list(eq.sides)
            if before:
                sides[0] = Tuple((*before, sides[0]), span=self.spans(before[0], sides[0]))
            if after:
                sides[-1] = Tuple((sides[-1], *after), span=self.spans(sides[-1], after[-1]))
            equations.append(Equation(tuple(sides), eq.ops, span=self.spans(sides[0], sides[-1])))
        if len(equations) == 1:
            return equations[0]
        return EquationList(tuple(equations), span=self.spans(equations[0], equations[-1]))

    def relation(self, tree: LarkTree) -> Expr | Equation:
        sides, ops = [], []
        for child in tree.children:
            if isinstance(child, LarkTree) and child.data == "rel":
                ops.append(_RELATIONS[next(t for t in child.children if t.type == "REL").value])
            else:
                sides.append(self.expr(child))
        if not ops:
            return sides[0]
        return Equation(tuple(sides), tuple(ops), span=self.spans(sides[0], sides[-1]))

    def single(self, tree: LarkTree, where: str) -> Expr:
        """The items of a {group} that must be one expression."""
        value = self.items(tree)
        if isinstance(value, (Equation, EquationList, Tuple)):
            raise Rejected(start_of(tree), f"{where} must hold one expression, not a list or an equation")
        return value

    # ---- sums and products

    def expr(self, node: LarkTree) -> Expr:
        # Walk the left spine of + and - without recursion, so long sums are fine.
        spine = []
        while node.data in ("add", "sub"):
            spine.append(node)
            node = node.children[0]
        if node.data == "neg":
            operand = self.product(node.children[1])
            result: Expr = Neg(operand, span=self.span(start_of(node), end_of(node)))
        elif node.data == "pos":
            result = self.product(node.children[1])
        else:
            result = self.product(node)
        for step in reversed(spine):
            right = self.product(step.children[2])
            cls = Add if step.data == "add" else Sub
            result = cls(result, right, span=self.spans(result, right))
        return result

    def product(self, tree: LarkTree) -> Expr:
        seq: list[tuple[str | None, Piece]] = []
        op: str | None = None
        for child in tree.children:
            if isinstance(child, Token):
                op = _MULOPS[child.value]
            else:
                seq.append((op or ("juxt" if seq else None), self.factor(child)))
                op = None
        return self.join(seq)

    def join(self, seq: list[tuple[str | None, Piece]]) -> Expr:
        """Apply the reading rules to one product's factors and build its node."""
        # 1. \sum takes everything after it in the product as its body.
        for i, (op, piece) in enumerate(seq):
            if piece.kind == "sum":
                rest = seq[i + 1 :]
                if not rest or rest[0][0] != "juxt":
                    what = "\\prod" if piece.prod else "\\sum"
                    raise Rejected(piece.start, f"{what} needs something to {what[1:]} right after it", what)
                body = self.join([(None, rest[0][1]), *rest[1:]])
                index, lower, upper, over = piece.limits
                cls = Prod if piece.prod else Sum
                node = cls(body, index, lower, upper, over, span=self.span(piece.start, rest[-1][1].end))
                seq = [*seq[:i], (op, Piece("expr", node, piece.start, rest[-1][1].end))]
                break
        # 1b. A minus that opens a sum's body negates the rest of the body.
        if seq and seq[0][1].kind == "neg":
            if len(seq) == 1:
                raise Rejected(seq[0][1].start, "a minus needs something after it")
            rest = self.join([(None, seq[1][1]), *seq[2:]])
            start = seq[0][1].start
            return Neg(rest, span=self.span(start, seq[-1][1].end))
        # 2. Prefix readings, right to left so that \log \log x nests: each takes
        #    the factor juxtaposed right after it.
        out: list[tuple[str | None, Piece]] = []
        for op, piece in reversed(seq):
            nxt = out[-1][1] if out and out[-1][0] == "juxt" else None
            joined = self.prefix(piece, nxt)
            if joined is not None:
                out.pop()
                out.append((op, joined))
            else:
                out.append((op, self.alone(piece, followed=nxt is not None)))
        out.reverse()
        for _, piece in out:
            if piece.condition:
                raise Rejected(piece.start, "a condition in brackets must follow \\mathbb{1}, as in \\mathbb{1}[a > 0]")
        # 3. Juxtaposed runs first, then the written signs, left to right.
        terms: list[tuple[str | None, Expr]] = []
        for op, piece in out:
            node = piece.node
            if op == "juxt":
                prev_op, prev = terms[-1]
                terms[-1] = (prev_op, Product("juxt", prev, node, span=self.spans(prev, node)))
            else:
                terms.append((op, node))
        for i in range(len(terms) - 1, 0, -1):
            op, node = terms[i]
            if op == "/" and isinstance(node, Differential) and isinstance(terms[i - 1][1], Differential):
                # a ⊙ ∂⁺E / ∂h(t): the slash joins the two ∂ beside it, not the product before them
                terms[i - 1 : i + 1] = [(terms[i - 1][0], self.divide(terms[i - 1][1], node, "slash"))]
        result = terms[0][1]
        for op, node in terms[1:]:
            if op == "/":
                result = self.divide(result, node, "slash")
            else:
                result = Product(op, result, node, span=self.spans(result, node))
        return result

    def prefix(self, piece: Piece, nxt: Piece | None) -> Piece | None:
        """``piece`` applied to the juxtaposed factor ``nxt`` if a rule says so, else None."""
        if nxt is None:
            return None
        start, end = piece.start, nxt.end
        step = self.paren_step(piece, nxt)
        if step is not None:
            return step
        if piece.kind == "func":
            return Piece("expr", self.apply(piece.node, piece.power, nxt, start), start, end)
        if piece.kind == "letter":
            if nxt.args is None:
                return None  # "f x": f is then an ordinary symbol, see alone()
            return Piece("expr", self.apply(piece.node, None, nxt, start), start, end)
        if piece.kind == "diff":
            node = Differential(piece.diff, nxt.node, span=self.span(start, end))
            return Piece("expr", node, start, end)
        if piece.kind in ("nabla", "operator"):
            node = Derivative(nxt.node, piece.wrt, "partial", piece.kind, span=self.span(start, end))
            return Piece("expr", node, start, end)
        if nxt.condition and isinstance(piece.node, Symbol) and piece.node.name == "1" and not piece.node.sub:
            return Piece("expr", Indicator(nxt.node, span=self.span(start, end)), start, end)
        if piece.is_d and piece.end == nxt.start and isinstance(nxt.node, Symbol) and not nxt.is_d:
            return Piece("expr", Differential("d", nxt.node, span=self.span(start, end)), start, end)
        if isinstance(piece.node, Symbol) and nxt.args is not None and (len(nxt.args) > 1 or piece.word):
            return Piece("expr", self.apply(piece.node, None, nxt, start), start, end)
        if _step_loss(piece.node) and nxt.args is not None and nxt.start == piece.end:
            # E_t(y^t), L^{(t)}(o_t): one step's loss applied to what it reads, not E_t times y^t.
            return Piece("expr", self.apply(piece.node, None, nxt, start), start, end)
        return None

    def paren_step(self, piece: Piece, nxt: Piece) -> Piece | None:
        """``h(t)``, ``\\mathbf{h}(t-1)``, ``s_{c_j}(0)``: a step in parentheses right after a symbol."""
        node, entry = piece.node, None
        if isinstance(node, Entry) and isinstance(node.operand, Symbol):
            node, entry = node.operand, node.indices  # y_{w(t+1)}(t): the entry of y(t)
        if not (piece.kind == "expr" and isinstance(node, Symbol)):
            return None
        if nxt.args is None or len(nxt.args) != 1 or nxt.start != piece.end or node.name in self.functions:
            return None
        step = _step_of(nxt.args[0], self.step_vars)
        if step is None:
            return None
        labels = {"sub": node.sub, "sup": node.sup}
        if node.time is not None:
            # c_1(t), x_k(t), y^k(t): the index names a unit; the step is in the parentheses
            index = node.time
            if (
                index.style not in labels
                or labels[index.style] is not None
                or index.terms
                or index.offset
                and index.var
            ):
                return None
            labels[index.style] = index.var if index.var is not None else str(index.offset)
        time = TimeIndex(*step, style="call")
        timed = dataclasses.replace(node, **labels, time=time, span=self.span(piece.start, nxt.end))
        if entry is not None:
            timed = Entry(timed, entry, span=timed.span)
        return Piece("expr", self.post(timed, nxt.post), piece.start, nxt.end)

    def alone(self, piece: Piece, followed: bool) -> Piece:
        """A piece that took no operand, as a plain expression.

        A letter used as a function stays a Func when nothing follows it
        (``f = \\tanh``) and is an ordinary symbol before a non-parenthesis (``f x``).
        """
        if piece.kind == "expr":
            return piece
        span = self.span(piece.start, piece.end)
        if piece.kind == "func":
            node: Expr = piece.node
            if piece.power is not None:  # 1 - \tanh^2 in prose: the function squared
                node = Power(piece.node, piece.power, span=span)
        elif piece.kind == "letter":
            func = piece.node
            node = Symbol(func.name, primes=func.primes, span=span) if followed else func
        elif piece.kind == "nabla":
            raise Rejected(piece.start, "\\nabla_{v} needs the function after it, as in \\nabla_{v} L", "\\nabla")
        elif piece.kind == "operator":
            raise Rejected(piece.start, "\\frac{\\partial}{\\partial v} needs what it differentiates after it")
        elif piece.diff == "delta":
            node = Symbol("delta", span=span)
        else:
            raise Rejected(piece.start, "\\partial needs something after it", "\\partial")
        return Piece("expr", node, piece.start, piece.end)

    def apply(self, func: Func | Symbol, power: Expr | None, arg: Piece, start: int) -> Expr:
        args = arg.args if arg.args is not None else (arg.node,)
        span = self.span(start, arg.end)
        node: Expr = Apply(func, tuple(args), span=span)
        if power is not None:
            node = Power(node, power, span=span)
        return self.post(node, arg.post if arg.args is not None else ())

    def post(self, node: Expr, scripts: tuple[tuple[str, Expr | None], ...]) -> Expr:
        for kind, value in scripts:
            if kind == "T":
                node = Transpose(node, span=node.span)
            elif kind == "entry":
                node = Entry(node, value, span=node.span)
            else:
                node = Power(node, value, span=node.span)
        return node

    def divide(self, num: Expr, den: Expr, style: str) -> Expr:
        span = self.spans(num, den)
        if isinstance(num, Differential) and isinstance(den, Differential):
            if num.kind == den.kind and num.kind in ("partial", "d"):
                return Derivative(num.operand, den.operand, num.kind, style, span=span)
            if num.kind == "partial+" and den.kind == "partial":
                return Derivative(num.operand, den.operand, "partial+", style, span=span)
        return Frac(num, den, style, span=span)

    # ---- factors


_LOSS_LETTERS = frozenset({"E", "L", "J", "ell"})


def _step_loss(node) -> bool:
    """A loss letter with a step and nothing else (E_t, L^{(t)}, ℓ_t): a per-step loss name."""
    return (
        isinstance(node, Symbol)
        and node.name in _LOSS_LETTERS
        and node.time is not None
        and not node.accents
        and node.sub is None
        and node.sup is None
    )


def _step_of(node: Expr, names: frozenset[str]) -> tuple[str | None, int] | None:
    """(var, offset) when ``node`` is a step: ``t``, ``t-1``, ``t+2``, ``0``."""
    if isinstance(node, Number) and node.text.isdigit():
        return None, int(node.text)
    if isinstance(node, Symbol) and node.name in names and node == Symbol(node.name):
        return node.name, 0
    if isinstance(node, (Add, Sub)) and isinstance(node.right, Number) and node.right.text.isdigit():
        base = _step_of(node.left, names)
        if base is not None and base[0] is not None and base[1] == 0:
            offset = int(node.right.text)
            return base[0], offset if isinstance(node, Add) else -offset
    return None


__all__ = ["FUNCTION_WORDS", "Rejected", "TreeReader"]
