"""Sub- and superscripts on symbols, functions and sums: which script is a step, a label, a power.

The rules (see :mod:`.parse`) in one place: a bare script is a step when it is
one of TIME_VARS ± an integer (or an integer below), a label otherwise; ``(t)``,
``<t>`` above are steps; ``\\top``/``T`` above transposes; an integer above is a power.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lark import Token
from lark import Tree as LarkTree

from .scripts import (
    TIME_VARS,
    arg_tokens,
    compound_step,
    integer_of,
    is_transpose,
    label_of,
    matching,
    time_of,
    var_name,
)
from .tree import (
    Add,
    Apply,
    Differential,
    Equation,
    EquationList,
    Expr,
    Func,
    Indicator,
    Norm,
    Number,
    Product,
    Sub,
    Symbol,
    TimeIndex,
    Tuple,
)


class Rejected(Exception):
    """Raised inside the reader: ``message`` about chunk-relative offset ``pos``."""

    def __init__(self, pos: int, message: str, construct: str | None = None) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message
        self.construct = construct


@dataclass
class Piece:
    """One factor of a product before the reading rules join the product.

    kind: "expr" (node is the value), "func" (node is a Func that applies to the
    next factor), "letter" (a bare f/g/φ the file uses as a function), "diff"
    (bare \\delta, \\partial or \\partial^{+}), "sum" (\\sum or \\prod with its
    limits), "nabla" (\\nabla_{wrt}) and "operator" (\\frac{\\partial}{\\partial wrt}),
    which apply to the next factor.  ``condition`` marks a bracketed condition
    ``[a > 0]`` waiting for the \\mathbb{1} before it.
    """

    kind: str
    node: Expr | None
    start: int
    end: int
    args: tuple[Expr, ...] | None = None  # a parenthesis: its items
    post: tuple[tuple[str, Expr | None], ...] = ()  # scripts after a parenthesis
    power: Expr | None = None  # \tanh^2
    diff: str = ""
    limits: tuple[Symbol | None, Expr | None, Expr | None, Expr | None] = (None, None, None, None)
    is_d: bool = False  # the bare letter d
    word: bool = False  # a symbol spelled \mathrm{loss}: applied to a parenthesis after it
    wrt: Expr | None = None  # nabla, operator
    prod: bool = False  # a \prod rather than a \sum
    condition: bool = False  # node is the Equation of a bracketed condition


def start_of(node: LarkTree | Token) -> int:
    """Offset of the first character of a lark node (every rule holds a token)."""
    while not isinstance(node, Token):
        node = node.children[0]
    return node.start_pos


def end_of(node: LarkTree | Token) -> int:
    while not isinstance(node, Token):
        node = node.children[-1]
    return node.end_pos


def subtrees(tree: LarkTree) -> list[LarkTree]:
    return [c for c in tree.children if isinstance(c, LarkTree)]


class ScriptReader:
    """The script rules; TreeReader supplies span, spans, post, arg_expr, arg_value and functions."""

    functions: frozenset[str]
    step_vars: frozenset[str]

    def symbol_piece(self, symbol: Symbol, scripts: list, start: int, end: int) -> Piece:
        if symbol.font == "bb":  # \mathbb{R}^{n}: a superscript is a dimension, not a step
            return Piece("expr", self.post(symbol, self.generic_scripts(scripts)), start, end)
        if symbol.name == "1" and scripts and scripts[0].children[0].type == "SUB":
            condition = self.arg_value(scripts[0].children[1])
            if isinstance(condition, Equation):  # 1_{i = y_t}, \mathbb{1}_{a > 0}
                node = Indicator(condition, span=self.span(start, end))
                return Piece("expr", self.post(node, self.generic_scripts(scripts[1:])), start, end)
        slots = {"sub": symbol.sub, "sup": symbol.sup, "time": symbol.time}
        primes = symbol.primes
        exponent = None
        wrappers: list[tuple[str, Expr | None]] = []
        seen_marks: list[str] = []
        for script in scripts:
            mark = script.children[0]
            if mark.type == "PRIME":
                primes += 1
                continue
            arg = script.children[1]
            seen_marks.append(mark.type)
            if seen_marks.count(mark.type) > 1:
                where = "superscripts" if mark.type == "SUP" else "subscripts"
                raise Rejected(start_of(script), f"{symbol.name} has two {where}: write braces, as in {{x^a}}^b", where)
            effects = self.subscript(arg) if mark.type == "SUB" else self.superscript(arg, on_symbol=True)
            if mark.type == "SUP" and _euler(symbol, slots) and effects and effects[0][0] in ("sup", "pow"):
                exponent = self.arg_expr(arg)  # e^{y_t}: exp(y_t), not a label y_t on a letter e
                continue
            for kind, value in effects:
                if kind == "prime":
                    primes += 1
                elif kind in ("T", "pow", "entry"):
                    wrappers.append((kind, value))
                elif kind == "time" and slots["time"] is not None:
                    _two_steps(slots, value, mark.type, symbol, script)
                elif slots[kind] is not None:
                    what = "time index" if kind == "time" else ("subscript" if kind == "sub" else "superscript")
                    raise Rejected(start_of(script), f"{symbol.name} already has a {what}")
                else:
                    slots[kind] = value
        node = dataclasses.replace(symbol, primes=primes, **slots, span=self.span(start, end))
        if exponent is not None and not any(slots.values()) and primes == 0:
            node = Apply(Func("exp"), (exponent,), span=node.span)
            return Piece("expr", self.post(node, tuple(wrappers)), start, end)
        if exponent is not None:
            wrappers.insert(0, ("pow", exponent))  # e_k^{x}: a power of the name e_k, as written
        plain = not (node.sub or node.sup or node.time or node.accents or node.font)
        if plain and not wrappers and node.name in self.functions:
            return Piece("letter", Func(node.name, primes, span=node.span), start, end)
        is_d = plain and not wrappers and node.primes == 0 and node.name == "d"
        return Piece("expr", self.post(node, tuple(wrappers)), start, end, is_d=is_d)

    def func_piece(self, func: Func, scripts: list, start: int, end: int) -> Piece:
        primes, power = func.primes, None
        for script in scripts:
            mark = script.children[0]
            if mark.type == "PRIME":
                primes += 1
                continue
            if mark.type == "SUB":
                raise Rejected(start_of(script), f"a subscript on the function {func.name} is not supported")
            for kind, value in self.superscript(script.children[1], on_symbol=False):
                if kind == "prime":
                    primes += 1
                elif kind == "pow" and isinstance(value, Number) and power is None:
                    power = value
                else:
                    raise Rejected(start_of(script), f"cannot read this superscript on the function {func.name}")
        node = dataclasses.replace(func, primes=primes, span=self.span(start, end))
        return Piece("func", node, start, end, power=power)

    def sum_piece(self, scripts: list, start: int, end: int, prod: bool = False) -> Piece:
        what = "\\prod" if prod else "\\sum"
        index = lower = upper = over = None
        seen: set[str] = set()
        for script in scripts:
            mark = script.children[0]
            if mark.type == "PRIME" or mark.type in seen:
                raise Rejected(start_of(script), f"cannot read these limits of {what}", what)
            seen.add(mark.type)
            arg = script.children[1]
            if mark.type == "SUP":
                upper = self.arg_expr(arg)
                continue
            limits = _range_of(self.arg_value(arg))
            if limits is None:
                raise Rejected(
                    start_of(arg),
                    f"cannot read this index of {what}: expected a letter, as in {what}_t, {what}_{{t=1}} "
                    f"or {what}_{{1 \\le t \\le T}}",
                    f"{what} index",
                )
            index, lower, range_upper, over = limits
            upper = range_upper if range_upper is not None else upper
        return Piece("sum", None, start, end, limits=(index, lower, upper, over), prod=prod)

    def nabla_piece(self, scripts: list, start: int, end: int) -> Piece:
        """``\\nabla_{v}``: waits for the function it takes the gradient of."""
        if len(scripts) != 1 or scripts[0].children[0].type != "SUB":
            raise Rejected(start, "write the variable of a gradient below \\nabla, as in \\nabla_{v} L", "\\nabla")
        return Piece("nabla", None, start, end, wrt=self.arg_expr(scripts[0].children[1]))

    def operator_piece(self, den_arg: LarkTree, scripts: list, start: int, end: int) -> Piece:
        """``\\frac{\\partial}{\\partial v}``: waits for what it differentiates."""
        den = self.arg_expr(den_arg)
        if not isinstance(den, Differential) or den.kind != "partial" or scripts:
            raise Rejected(start, "cannot read this derivative operator: expected \\frac{\\partial}{\\partial v}")
        return Piece("operator", None, start, end, wrt=den.operand)

    def norm_piece(self, tree: LarkTree, scripts: list, start: int, end: int) -> Piece:
        """``\\|x\\|``, ``\\|W\\|_2``, ``\\|W\\|_F^2``, ``|w|^T``."""
        operand = self.expr(subtrees(tree)[0])
        kind = "abs" if tree.data == "absval" else None
        if scripts and scripts[0].children[0].type == "SUB" and kind is None:
            kind = "".join(t.value for t in arg_tokens(scripts[0].children[1]))
            if kind not in _NORM_KINDS:
                raise Rejected(
                    start_of(scripts[0]), "cannot read this norm: expected \\|x\\|, \\|x\\|_2, \\|x\\|_1 or \\|x\\|_F"
                )
            scripts = scripts[1:]
        node = Norm(operand, kind, span=self.span(start, end))
        # A norm is a number: |w|^T is the T-th power, never a transpose.
        post = tuple(
            ("pow", Symbol("T", span=node.span)) if k == "T" else (k, v) for k, v in self.generic_scripts(scripts)
        )
        return Piece("expr", self.post(node, post), start, end)

    def delta_of(self, script: LarkTree) -> Expr | None:
        """The variable of ``\\delta_{h_t}`` (a subscript that is a symbol with a step), else None."""
        if script.children[0].type != "SUB":
            return None
        arg = script.children[1]
        if isinstance(arg.children[0], Token):
            return None  # \delta_k, \delta_t: a name or a step of δ itself
        try:
            value = self.arg_value(arg)
        except Rejected:
            return None
        if isinstance(value, Symbol) and (value.time is not None or value.sub is not None):
            return value  # \delta_{h_t}, \delta_{b_f}: a name with its own step or label
        return None

    def indices(self, arg: LarkTree) -> tuple[Expr, ...]:
        """The indices of an entry: ``{n v}`` (two letters), ``{i, y_{t,i}}``, ``{y_t}``."""
        value = self.arg_value(arg)
        if isinstance(value, Tuple):
            return value.items
        if isinstance(value, (Equation, EquationList)):
            raise Rejected(start_of(arg), "an index must be an expression, not an equation")
        letters = _letters_of(value)
        return letters if letters is not None else (value,)

    def step_and_indices(self, arg: LarkTree) -> list[tuple[str, object]] | None:
        """``z_{t,i}`` (unit i at step t) or ``p_{t, k_t}`` (entry k_t of p_t), else None."""
        try:
            value = self.arg_value(arg)
        except Rejected:
            return None
        if not isinstance(value, Tuple) or len(value.items) < 2:
            return None
        step = _symbol_step(value.items[0], self.step_vars)
        if step is None:
            return None
        rest = value.items[1:]
        if not all(_index_like(item) for item in rest):
            return None
        time = TimeIndex(*step, style="sub")
        names = [_plain_name(item) for item in rest]
        if all(names):
            return [("time", time), ("sub", ",".join(names))]
        return [("time", time), ("entry", rest)]

    def expression_indices(self, arg: LarkTree) -> tuple[Expr, ...] | None:
        """``y_{w(t+1)}``-like subscripts that hold a step: entries, else None."""
        try:
            value = self.arg_value(arg)
        except Rejected:
            return None
        if isinstance(value, (Equation, EquationList, Tuple)):
            return None
        return (value,) if _has_step(value) else None

    def generic_scripts(self, scripts: list) -> tuple[tuple[str, Expr | None], ...]:
        """Scripts on something that is not a symbol: transposes and powers only."""
        out = []
        for script in scripts:
            mark = script.children[0]
            if mark.type == "SUB":  # (Y_t)_{n v}, softmax(z_t)_{y_t}: entries
                out.append(("entry", self.indices(script.children[1])))
                continue
            if mark.type != "SUP":
                raise Rejected(start_of(script), "a prime can only follow a symbol, not an expression")
            for kind, value in self.superscript(script.children[1], on_symbol=False):
                if kind not in ("T", "pow"):
                    raise Rejected(start_of(script), "a time index or label can only follow a symbol")
                out.append((kind, value))
        return tuple(out)

    def subscript(self, arg: LarkTree) -> list[tuple[str, object]]:
        tokens = arg_tokens(arg)
        time = time_of(tokens, self.step_vars, allow_number=True, any_offset=True)
        if time is not None:
            return [("time", TimeIndex(*time, style="sub"))]
        if len(tokens) > 2 and tokens[0].type in ("LPAR", "LANGLE") and matching(tokens, 0) == len(tokens) - 1:
            # h_{\langle t-1 \rangle} (Cho et al.): the step in brackets, written below
            time = time_of(tokens[1:-1], self.step_vars, allow_number=True, any_offset=True)
            if time is not None:
                style = "paren" if tokens[0].type == "LPAR" else "angle"
                return [("time", TimeIndex(*time, style=style))]
        compound = compound_step(tokens, self.step_vars)
        if compound is not None:
            return [("time", compound)]
        if any(t.type == "COMMA" for t in tokens):
            listed = self.step_and_indices(arg)
            if listed is not None:
                return listed
        label = label_of(tokens)
        if label is not None:
            return [("sub", label)]
        indices = self.expression_indices(arg)
        if indices is not None:
            return [("entry", indices)]
        raise Rejected(
            start_of(arg), "cannot read this subscript: expected a step (t, t-1, n+2, 0) or a name (hh, xh,f)"
        )

    def superscript(self, arg: LarkTree, on_symbol: bool) -> list[tuple[str, object]]:
        tokens = arg_tokens(arg)
        types = [t.type for t in tokens]
        if is_transpose(tokens):
            return [("T", None)]
        if types and all(t == "PRIMECMD" for t in types):
            return [("prime", None)] * len(types)
        if types and types[0] in ("LPAR", "LANGLE"):
            close = matching(tokens, 0)
            if close is not None and (close == len(tokens) - 1 or is_transpose(tokens[close + 1 :])):
                if not on_symbol:
                    raise Rejected(start_of(arg), "a time index can only follow a symbol")
                transpose = [("T", None)] if close < len(tokens) - 1 else []
                time = time_of(tokens[1:close], TIME_VARS, allow_number=True, any_offset=True)
                inner = tokens[1:close]
                if time is None and len(inner) == 1 and var_name(inner[0]) is not None:
                    # x^{(i)}, s^{(b)}: a sample or example index (not a step letter) is a label
                    return [("sup", f"({var_name(inner[0])})"), *transpose]
                if time is None:
                    raise Rejected(start_of(arg), "cannot read this time index: expected t, t-1, n+2, 0, …")
                style = "paren" if types[0] == "LPAR" else "angle"
                return [("time", TimeIndex(*time, style=style)), *transpose]
        integer = integer_of(tokens)
        if integer is not None:
            return [("pow", Number(integer, span=self.span(start_of(arg), end_of(arg))))]
        if on_symbol:
            time = time_of(tokens, TIME_VARS, allow_number=False)
            if time is not None:
                return [("time", TimeIndex(*time, style="sup"))]
            if types and types[0] == "LBRACK" and matching(tokens, 0) == len(tokens) - 1:
                label = label_of(tokens[1:-1])
                if label is not None:
                    return [("sup", f"[{label}]")]
            label = label_of(tokens)
            if label is not None:
                return [("sup", label)]
        return [("pow", self.arg_expr(arg))]


_NORM_KINDS = frozenset({"1", "2", "F", "p", "max"})


def _euler(symbol: Symbol, slots: dict) -> bool:
    """The bare letter e (Euler's number when it is raised to something)."""
    plain = not (symbol.accents or symbol.font or symbol.primes)
    return plain and symbol.name == "e" and not any(slots.values())


def _two_steps(slots: dict, value: TimeIndex, mark: str, symbol: Symbol, script) -> None:
    """Two step-like indices on one symbol: one is the step, the other a unit or sample label.

    ``a_j^t`` and ``h_t^j`` (unit j at step t), ``u^j_{t+1}``, ``y^{<t>}_k``,
    ``h_T^{(b)}`` (sample b), ``s^{(b)}_j``: a step that is t, T or τ, or has an
    offset, wins; else one written as ``(b)`` or ``<t>``; else the upper one
    (Graves' ``y_k^t``).  The other becomes the label on its side.
    """
    old = slots["time"]
    old_mark = "SUB" if old.style == "sub" else "SUP"
    if old_mark == mark:
        raise Rejected(start_of(script), f"{symbol.name} already has a time index")
    rank_old, rank_new = _step_rank(old, old_mark), _step_rank(value, mark)
    keep, drop, drop_mark = (value, old, old_mark) if rank_new > rank_old else (old, value, mark)
    slot = "sub" if drop_mark == "SUB" else "sup"
    label = _as_label(drop)
    if label is None or slots[slot] is not None:
        raise Rejected(start_of(script), f"{symbol.name} already has a time index")
    slots["time"], slots[slot] = keep, label


_STRONG_STEPS = frozenset({"t", "T", "tau"})


def _step_rank(step: TimeIndex, mark: str) -> tuple[int, int, int]:
    strong = step.var in _STRONG_STEPS or bool(step.terms) or (step.var is not None and step.offset != 0)
    return int(strong), int(step.style in ("paren", "angle")), int(mark == "SUP")


def _as_label(step: TimeIndex) -> str | None:
    """The label a demoted index stands for: ``j``, ``(b)``, ``2``; None for a step with an offset."""
    if step.terms or (step.var is not None and step.offset):
        return None
    name = step.var if step.var is not None else str(step.offset)
    return f"({name})" if step.style in ("paren", "angle") else name


_STRICT = {"lt": 1, "gt": 1, "le": 0, "ge": 0}


def _range_of(value) -> tuple[Symbol, Expr | None, Expr | None, Expr | None] | None:
    """(index, lower, upper) of a sum's subscript: ``t``, ``t=1``, ``1 \\le t \\le T``, ``k < t``, ``t \\ge i > k``."""
    if isinstance(value, Symbol):
        return value, None, None, None
    if not isinstance(value, Equation):
        return None
    sides, ops = value.sides, value.ops
    if ops == ("=",) and isinstance(sides[0], Symbol):
        return sides[0], sides[1], None, None
    if ops == ("in",) and isinstance(sides[0], Symbol):
        return sides[0], None, None, sides[1]
    if not all(op in _STRICT for op in ops):
        return None
    rising = all(op in ("le", "lt") for op in ops)
    falling = all(op in ("ge", "gt") for op in ops)
    if len(sides) == 3 and isinstance(sides[1], Symbol) and (rising or falling):
        low, high = (0, 2) if rising else (2, 0)
        low_op, high_op = (ops[0], ops[1]) if rising else (ops[1], ops[0])
        return sides[1], _shift(sides[low], _STRICT[low_op]), _shift(sides[high], -_STRICT[high_op]), None
    if len(sides) == 2 and isinstance(sides[0], Symbol):
        if rising:  # k < t: k runs up to t - 1
            return sides[0], None, _shift(sides[1], -_STRICT[ops[0]]), None
        return sides[0], _shift(sides[1], _STRICT[ops[0]]), None, None
    return None


def _shift(node: Expr, by: int) -> Expr:
    """``node + by`` for a strict bound (``k < t`` means k ≤ t − 1)."""
    if by == 0:
        return node
    one = Number(str(abs(by)), span=node.span)
    return Add(node, one, span=node.span) if by > 0 else Sub(node, one, span=node.span)


def _symbol_step(node, names: frozenset[str]) -> tuple[str | None, int] | None:
    """(var, offset) when ``node`` is a bare step: ``t``, ``t-1``, ``T``."""
    if isinstance(node, Symbol) and node == Symbol(node.name) and node.name in names:
        return node.name, 0
    if isinstance(node, (Add, Sub)) and isinstance(node.right, Number) and node.right.text.isdigit():
        base = _symbol_step(node.left, names)
        if base is not None:
            return base[0], int(node.right.text) * (1 if isinstance(node, Add) else -1)
    return None


def _plain_name(node) -> str | None:
    if isinstance(node, Symbol) and node == Symbol(node.name) and node.name.isalnum():
        return node.name
    if isinstance(node, Number) and node.text.isdigit():
        return node.text
    return None


def _letters_of(node) -> tuple[Symbol, ...] | None:
    """``n v`` (juxtaposed plain letters) as the letters, else None."""
    out = []
    while isinstance(node, Product) and node.op == "juxt" and _plain_name(node.right):
        out.append(node.right)
        node = node.left
    if not out or not _plain_name(node):
        return None
    return (node, *reversed(out))


def _has_step(node) -> bool:
    """Whether a symbol with a step occurs in ``node`` (walks a few node kinds only)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Symbol):
            if item.time is not None:
                return True
        elif isinstance(item, Apply):
            stack.extend(item.args)
        elif isinstance(item, (Add, Sub, Product)):
            stack.extend((item.left, item.right))
    return False


def _index_like(node) -> bool:
    """An index: a symbol (k_t, y_{t,i}), a number, or a sum or difference of those."""
    if isinstance(node, (Symbol, Number)):
        return True
    return isinstance(node, (Add, Sub)) and _index_like(node.left) and _index_like(node.right)
