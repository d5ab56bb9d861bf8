"""The tree of one equation read from a note: frozen dataclasses, compared by structure.

Every node carries ``span``, where it was written in the note file; spans (and a
few other notation-only details marked below) take no part in equality, so
``h_t`` and ``h^{(t)}`` read from two notes are the same symbol.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """Where a node was written: 1-based line and column, end column exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Node:
    span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class TimeIndex:
    """A step index ``var + offset``: ``t-1`` is ("t", -1); a bare step ``0`` is (None, 0).

    ``style`` is how the note wrote it ("sub" for h_t, "sup" for h^t, "paren" for
    h^{(t)}, "angle" for h^{<t>}, "call" for h(t)); it is notation only and not compared.

    A step of several letters (``o_{T+t-i}``) lists them in ``terms`` as
    (sign, letter) pairs, with ``var`` the letters as written ("T+t-i") so that
    code reading only ``var`` never mistakes it for a single step letter.
    """

    var: str | None
    offset: int = 0
    style: str = field(default="sub", compare=False)
    terms: tuple[tuple[int, str], ...] = ()

    def __str__(self) -> str:
        if self.var is None:
            return str(self.offset)
        if self.offset == 0:
            return self.var
        return f"{self.var}{self.offset:+d}"


@dataclass(frozen=True)
class Symbol(Node):
    """A variable: ``\\tilde{c}^{(t)}`` is Symbol("c", accents=("tilde",), time=t).

    ``name`` is a letter or a Greek name without backslash ("Gamma", "delta"),
    or the word of ``\\mathrm{loss}``.  ``sub``/``sup`` are name labels written
    below/above ("hh" of W_{hh}, "xh,f" of W_{xh,f}, "h" of W^h).  ``font`` is
    "cal", "bb", "scr" or "frak" (bold and \\vec are not kept).
    """

    name: str
    accents: tuple[str, ...] = ()
    sub: str | None = None
    sup: str | None = None
    time: TimeIndex | None = None
    primes: int = 0
    font: str | None = None


@dataclass(frozen=True)
class Number(Node):
    text: str

    @property
    def value(self) -> int | float:
        return float(self.text) if "." in self.text else int(self.text)


@dataclass(frozen=True)
class Dots(Node):
    """``\\dots`` and friends, as in ``t = 1, \\dots, T``."""


@dataclass(frozen=True)
class Func(Node):
    """A function name: "sigma", "tanh", "log", "exp", "softmax", or a letter
    such as "f" that the note uses as a function.  ``primes`` counts derivatives."""

    name: str
    primes: int = 0


@dataclass(frozen=True)
class Apply(Node):
    """``func(args)``; func is a Func, or a Symbol applied to several arguments
    such as ``L^{(t)}(\\hat{y}, y)``."""

    func: Func | Symbol
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Neg(Node):
    operand: Expr


@dataclass(frozen=True)
class Add(Node):
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Sub(Node):
    left: Expr
    right: Expr


# Product.op values.  "juxt" is juxtaposition (W x): matrix product or scaling,
# depending on shapes; the others name the sign the note wrote.
# "cup" and "cap" join index sets (U \cup I), never values.
PRODUCT_OPS = ("juxt", "*", "cdot", "odot", "circ", "times", "otimes", "ast", "cup", "cap")


@dataclass(frozen=True)
class Product(Node):
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Frac(Node):
    """``\\frac{num}{den}`` or ``num / den`` (style, not compared)."""

    num: Expr
    den: Expr
    style: str = field(default="frac", compare=False)


@dataclass(frozen=True)
class Power(Node):
    base: Expr
    exponent: Expr


@dataclass(frozen=True)
class Transpose(Node):
    operand: Expr


@dataclass(frozen=True)
class Differential(Node):
    """``\\delta v`` (kind "delta"), ``dv`` ("d") or a lone ``\\partial v`` ("partial").

    ``\\delta_{h_t}`` (a δ whose subscript is a symbol with a step) is
    Differential("delta", h_t) with style "sub"; style is notation only.
    """

    kind: str
    operand: Expr
    style: str = field(default="prefix", compare=False)


@dataclass(frozen=True)
class Derivative(Node):
    """``\\frac{\\partial of}{\\partial wrt}`` or ``\\partial of / \\partial wrt``.

    ``kind`` is "partial", "d" (for dJ/dW) or "partial+" (Werbos' ordered
    derivative ``\\partial^{+} E / \\partial h``).  ``\\nabla_{v} L`` is
    Derivative(L, v) with style "nabla" (the gradient of L, in v's shape), and
    ``\\frac{\\partial}{\\partial v}(\\dots)`` (the operator applied to what follows it)
    is Derivative with style "operator"; ``style`` ("frac", "slash", "nabla",
    "operator") is not compared.
    """

    of: Expr
    wrt: Expr
    kind: str = "partial"
    style: str = field(default="frac", compare=False)


@dataclass(frozen=True)
class Sum(Node):
    """``\\sum_{index=lower}^{upper} body``; absent limits are None.

    A range written in the subscript (``\\sum_{1 \\le t \\le T}``, ``\\sum_{k < t}``)
    is read into the same fields (strict bounds as ±1); ``\\sum_{k \\in U}`` has
    ``over`` (the set, as written) and no limits.
    """

    body: Expr
    index: Symbol | None = None
    lower: Expr | None = None
    upper: Expr | None = None
    over: Expr | None = None  # \sum_{k \in U}: the set the index runs over


@dataclass(frozen=True)
class Prod(Node):
    """``\\prod_{index=lower}^{upper} body``: an ordered product, the first factor at ``upper``.

    Written ``\\prod_{i=k+1}^{t} A_i``, the factors run A_t A_{t-1} … A_{k+1} (the
    latest step on the left), as in the Jacobian products of BPTT notes; for
    element-wise or scalar factors the order does not matter.  Limits written as
    a range (``\\prod_{t \\ge i > k}``) are read into ``lower``/``upper``.
    """

    body: Expr
    index: Symbol | None = None
    lower: Expr | None = None
    upper: Expr | None = None
    over: Expr | None = None


@dataclass(frozen=True)
class Norm(Node):
    """``\\|x\\|`` (kind None), ``\\|W\\|_2`` ("2"), ``\\|W\\|_F`` ("F"), ``|w|`` ("abs")."""

    operand: Expr
    kind: str | None = None


@dataclass(frozen=True)
class Entry(Node):
    """Entries of a vector or matrix, by index: ``p_{t, k_t}`` is Entry(p_t, (k_t,)).

    Also ``(Y_t)_{n v}`` (Entry(Y_t, (n, v))), ``\\operatorname{softmax}(z_t)_{y_t}``,
    ``[W x]_j`` and Mikolov's ``y_{w(t+1)}(t)`` (Entry(y(t), (w(t+1),))).  An index
    is an expression: a letter the note sums over, or a target such as ``k_t``.
    """

    operand: Expr
    indices: tuple[Expr, ...]


@dataclass(frozen=True)
class Indicator(Node):
    """``\\mathbb{1}[a_t > 0]``, ``1_{i = y_t}``: 1 where ``condition`` holds, else 0 (element-wise)."""

    condition: Equation


@dataclass(frozen=True)
class Concat(Node):
    """A bracket of items: ``[a; b]`` (sep ";"), ``[a, b]`` (","), ``[A \\mid B]`` ("|").

    Whether it stacks vectors or sets matrices side by side depends on shapes.
    """

    items: tuple[Expr, ...]
    sep: str


@dataclass(frozen=True)
class Matrix(Node):
    """``\\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix}``: rows of cells."""

    rows: tuple[tuple[Expr, ...], ...]


@dataclass(frozen=True)
class Cases(Node):
    """``\\begin{cases} a & k \\in T \\\\ 0 & \\text{otherwise} \\end{cases}``: (value, condition) rows.

    A condition is an Equation (``k \\in T``) or what the row wrote instead (``\\text{otherwise}``).
    """

    rows: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True)
class Tuple(Node):
    """Comma-separated items that are not arguments: ``h', y`` or ``1, \\dots, T``."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Continued(Node):
    """The left side of an align line that starts with ``&=``; read_equations
    replaces it by the last side of the line before."""


# Equation.ops values: "=", ":=", "approx", "equiv", "leftarrow", "neq", "le",
# "ge", "lt", "gt", "in", "propto", "simeq".
@dataclass(frozen=True)
class Equation(Node):
    """``a = b`` or a chain ``a = b = c``: sides[i] ops[i] sides[i+1]."""

    sides: tuple[Expr, ...]
    ops: tuple[str, ...]

    @property
    def lhs(self) -> Expr:
        return self.sides[0]

    @property
    def rhs(self) -> Expr:
        return self.sides[-1]


@dataclass(frozen=True)
class EquationList(Node):
    """Several equations in one piece of math, separated by commas."""

    equations: tuple[Equation, ...]


# What parse_equation returns: an Equation, an EquationList, or (for a mention
# such as $x_t$) a bare expression.
Expr = (
    Symbol
    | Number
    | Dots
    | Func
    | Apply
    | Neg
    | Add
    | Sub
    | Product
    | Frac
    | Power
    | Transpose
    | Differential
    | Derivative
    | Sum
    | Prod
    | Norm
    | Indicator
    | Entry
    | Concat
    | Matrix
    | Cases
    | Tuple
    | Continued
)
Tree = Expr | Equation | EquationList


# ---------------------------------------------------------------- walking and rebuilding trees


def children(node):
    """The direct subtrees of a tree node (fields, tuples of them, and matrix rows)."""
    for value in vars(node).values():
        for v in value if isinstance(value, tuple) else (value,):
            if isinstance(v, tuple):
                yield from (w for w in v if hasattr(w, "span"))
            elif hasattr(v, "span"):
                yield v


def walk(node):
    """Every tree node below ``node`` (itself first)."""
    yield node
    for child in children(node):
        yield from walk(child)


def compared_subtrees(node):
    """``node`` and every node below it through the fields that compare (not spans or styles).

    A :class:`TimeIndex` is yielded but not entered: it holds letters and numbers only.
    """
    yield node
    if not dataclasses.is_dataclass(node) or isinstance(node, TimeIndex):
        return
    for f in dataclasses.fields(node):
        if not f.compare:
            continue
        value = getattr(node, f.name)
        for v in value if isinstance(value, tuple) else (value,):
            for w in v if isinstance(v, tuple) else (v,):
                if dataclasses.is_dataclass(w) and not isinstance(w, type):
                    yield from compared_subtrees(w)


def map_subtrees(node, rewrite):
    """``node`` with ``rewrite`` applied to every direct subtree of its compared fields.

    Tuples (and tuples of tuples, a matrix's rows) are mapped item by item; a field whose
    subtrees all come back unchanged (``is``) is kept, and ``node`` itself is returned when
    nothing changed, so a rewrite that finds nothing to do allocates nothing.  A rewriter
    handles the nodes it cares about and calls this for the rest.
    """
    changes = {}
    for f in dataclasses.fields(node):
        if not f.compare:
            continue
        value = getattr(node, f.name)
        new = _map_value(value, rewrite)
        if new is not value:
            changes[f.name] = new
    return dataclasses.replace(node, **changes) if changes else node


def _map_value(value, rewrite):
    if isinstance(value, tuple):
        items = tuple(_map_value(v, rewrite) for v in value)
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return rewrite(value)
    return value
