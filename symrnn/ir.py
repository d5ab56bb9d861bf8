"""The matrix IR: immutable expression nodes with symbolic shapes.

A cell is written per example, in the notation of papers: column vectors such as
``h`` of shape (hidden_size, 1), matrices such as ``W_hh`` of shape
(hidden_size, hidden_size).  Every node also knows whether it is *batched* (one
value per example: inputs, states, gates) or shared across the batch
(parameters).  Mixing the two is explicit: ``broadcast`` lifts a shared value to
every example and ``batch_sum`` is its adjoint.

Nodes are frozen dataclasses compared and hashed by structure, so equal
subexpressions are one key in a dict: that is the whole of common-subexpression
detection, in a deterministic order.

Shapes are checked when a node is built; a mismatch raises :class:`ShapeError`
naming the source line of the equation being written and both shapes.
"""

from __future__ import annotations

import inspect
import numbers
import os
import re
from dataclasses import dataclass, field
from typing import Any

import sympy

from symrnn.functions import function_spec

# Symbolic sizes.  Names are what users pass to ``init_params``.
HIDDEN = sympy.Symbol("hidden_size", positive=True, integer=True)
INPUT = sympy.Symbol("input_size", positive=True, integer=True)
OUTPUT = sympy.Symbol("output_size", positive=True, integer=True)
DIMS = (HIDDEN, INPUT, OUTPUT)
ONE = sympy.Integer(1)

Shape = tuple[sympy.Expr, sympy.Expr]


class ShapeError(ValueError):
    """Two operands whose shapes do not fit; the message names the equation."""


def _where() -> str:
    """The first caller outside this module: the line of the equation being built."""
    here = os.path.abspath(__file__)
    for frame in inspect.stack()[2:]:
        if os.path.abspath(frame.filename) != here:
            code = (frame.code_context or [""])[0].strip()
            return f"{os.path.basename(frame.filename)}:{frame.lineno}: {code}"
    return "<unknown>"  # pragma: no cover - there is always a caller


def size(value) -> sympy.Expr:
    """A size as a SymPy expression: an int or an expression of the size symbols, never text.

    Strings are refused: ``sympify`` would evaluate them.
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, sympy.Expr)):
        raise TypeError(f"a size must be an int or a SymPy expression of the size symbols, got {value!r}")
    return sympy.Integer(int(value)) if isinstance(value, numbers.Integral) else value


def fmt_shape(shape: Shape) -> str:
    return f"{shape[0]}×{shape[1]}"


# Leaf kinds of ``var`` nodes.
PARAM, INPUT_KIND, TARGET, STATE, VALUE, GRAD = (
    "param",
    "input",
    "target",
    "state",
    "value",
    "grad",
)


@dataclass(frozen=True, eq=True)
class Node:
    """One IR node: an op name, its operands, hashable attributes, a shape.

    Build nodes with the functions of this module (``var``, ``matmul``, ...),
    which check shapes; the Python operators ``@ * + -`` and ``1 - x`` call them.
    """

    op: str
    args: tuple[Node, ...] = ()
    attrs: tuple[Any, ...] = ()
    shape: Shape = field(default=(ONE, ONE), compare=True)
    batched: bool = True
    _hash: int = field(default=0, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "_hash", hash((self.op, self.args, self.attrs, self.shape, self.batched)))

    def __hash__(self):
        return self._hash

    # Operators read like the paper: W @ x, f * c, 1 - z, a + b.
    def __matmul__(self, other):
        return matmul(self, other)

    def __mul__(self, other):
        if isinstance(other, Node):
            return mul(self, other)
        return scale(other, self)

    def __rmul__(self, other):
        return scale(other, self)

    def __add__(self, other):
        return add(self, other)

    def __sub__(self, other):
        return sub(self, other)

    def __rsub__(self, other):
        if other == 1:
            return one_minus(self)
        raise TypeError("only 1 - x is defined between a number and a vector")

    def __neg__(self):
        return scale(-1, self)

    def __truediv__(self, other):
        return div(self, other)

    @property
    def T(self):
        return transpose(self)

    # Leaf accessors
    @property
    def name(self) -> str:
        return self.attrs[0]

    @property
    def kind(self) -> str:
        return self.attrs[1]

    @property
    def shift(self):
        return self.attrs[2]

    @property
    def is_column(self) -> bool:
        return self.shape[1] == ONE

    @property
    def is_row(self) -> bool:
        return self.shape[0] == ONE

    def __repr__(self):
        formula = _PRINTERS["text"](self)
        return f"<{self.op} {formula} : {fmt_shape(self.shape)}{'' if self.batched else ' shared'}>"

    def _repr_latex_(self):
        latex = _PRINTERS["latex"]
        return None if latex is None else f"${latex(self)}$"


def _prefix_text(node: Node) -> str:
    """The formula in prefix form, ``sigmoid(add(matmul(W, x[t]), b))``: repr before a printer registers."""
    if node.op == "var":
        if node.shift is None:
            return node.name
        return f"{node.name}[t{node.shift:+d}]" if node.shift else f"{node.name}[t]"
    if node.op == "apply":
        return f"{node.attrs[0]}({_prefix_text(node.args[0])})"
    args = [_prefix_text(a) for a in node.args] + [str(a) for a in node.attrs]
    return f"{node.op}({', '.join(args)})"


# How a node shows itself (repr and Jupyter). The printers sit above the IR, so they register
# here when symrnn.printing is imported (the IR never imports them); until then repr is the
# prefix form and Jupyter falls back to repr.
_PRINTERS: dict[str, Any] = {"text": _prefix_text, "latex": None}


def register_printers(*, text, latex) -> None:
    """Make ``repr(node)`` and Jupyter's rendering use these printers.

    Args:
        text: ``Node -> str``, the plain-text formula inside ``repr``.
        latex: ``Node -> str``, the LaTeX formula Jupyter renders (without ``$``).

    Returns:
        None.
    """
    _PRINTERS["text"] = text
    _PRINTERS["latex"] = latex


def _fail(message: str):
    raise ShapeError(f"{message}\n  in {_where()}")


def _same_shape(op: str, a: Node, b: Node) -> Shape:
    if a.shape == b.shape:
        return a.shape
    _fail(f"{op} needs equal shapes: {fmt_shape(a.shape)} and {fmt_shape(b.shape)} ({a!r}, {b!r})")


def _scalar_or_same(op: str, a: Node, b: Node) -> Shape:
    """Element-wise product/quotient: equal shapes, or a 1×1 scalar times anything."""
    if a.shape == (ONE, ONE):
        return b.shape
    if b.shape == (ONE, ONE):
        return a.shape
    return _same_shape(op, a, b)


def _lift(a: Node, b: Node) -> tuple[Node, Node]:
    """Broadcast a shared operand over the batch when the other one is batched."""
    if a.batched and not b.batched:
        b = broadcast(b)
    elif b.batched and not a.batched:
        a = broadcast(a)
    return a, b


def _check(x) -> Node:
    if not isinstance(x, Node):
        raise TypeError(f"expected an IR node, got {type(x).__name__}: {x!r}")
    return x


# ---------------------------------------------------------------- leaves


_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_,']*$")


def var(name: str, shape: Shape, kind: str = VALUE, shift: int | None = 0) -> Node:
    """A named symbol. Parameters are shared (``shift`` None); the rest are batched.

    ``shift`` is the time offset relative to the current step t (-1 for t-1).
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"invalid symbol name {name!r}: letters, digits, _ , and primes only")
    shape = (size(shape[0]), size(shape[1]))
    if kind == PARAM:
        shift = None
    return Node("var", (), (name, kind, shift), shape, kind != PARAM)


def grad(of: Node) -> Node:
    """δv: the total gradient of the loss with respect to the named value v."""
    assert of.op == "var", of
    return Node("var", (), (of.name, GRAD, of.shift), of.shape, of.batched)


def zeros(shape: Shape, batched: bool = True) -> Node:
    return Node("zeros", (), (), shape, batched)


# ---------------------------------------------------------------- ops


def matmul(a: Node, b: Node) -> Node:
    """Matrix product A B."""
    a, b = _check(a), _check(b)
    if a.shape[1] != b.shape[0]:
        _fail(
            f"matrix product needs columns of the left ({a.shape[1]}) to equal rows of the "
            f"right ({b.shape[0]}): {fmt_shape(a.shape)} times {fmt_shape(b.shape)} "
            f"({a!r} @ {b!r})"
        )
    return Node("matmul", (a, b), (), (a.shape[0], b.shape[1]), a.batched or b.batched)


def add(a: Node, b: Node) -> Node:
    a, b = _lift(_check(a), _check(b))
    return Node("add", (a, b), (), _same_shape("sum", a, b), a.batched)


def sub(a: Node, b: Node) -> Node:
    a, b = _lift(_check(a), _check(b))
    return Node("sub", (a, b), (), _same_shape("difference", a, b), a.batched)


def mul(a: Node, b: Node) -> Node:
    """Element-wise (Hadamard) product a ⊙ b."""
    a, b = _lift(_check(a), _check(b))
    return Node("mul", (a, b), (), _scalar_or_same("element-wise product", a, b), a.batched)


def div(a: Node, b: Node) -> Node:
    """Element-wise quotient a ⊘ b."""
    a, b = _lift(_check(a), _check(b))
    return Node("div", (a, b), (), _scalar_or_same("element-wise quotient", a, b), a.batched)


def scale(coefficient, a: Node) -> Node:
    """A scalar multiple c·a with a rational or symbolic constant c."""
    c = sympy.nsimplify(coefficient)
    a = _check(a)
    if c == 1:
        return a
    if a.op == "scale":  # c·(d·a) = (cd)·a keeps expressions flat
        return scale(c * a.attrs[0], a.args[0])
    return Node("scale", (a,), (c,), a.shape, a.batched)


def one_minus(a: Node) -> Node:
    """1 - a, element-wise."""
    a = _check(a)
    return Node("one_minus", (a,), (), a.shape, a.batched)


def apply(function: str, a: Node) -> Node:
    """An element-wise function φ(a); see :mod:`symrnn.functions`."""
    function_spec(function)  # unknown names fail here, not when printing
    a = _check(a)
    return Node("apply", (a,), (function,), a.shape, a.batched)


def derivative(function: str, x: Node, y: Node) -> Node | None:
    """φ'(x) as an IR node in x and y = φ(x), from the function table's formula; None when φ' = 1."""
    formula = function_spec(function).derivative
    return None if formula is None else _formula_node(formula, x, y)


def _formula_node(formula, x: Node, y: Node) -> Node:
    if formula == "x":
        return x
    if formula == "y":
        return y
    if formula in ("zero", "one"):
        node = zeros(x.shape, x.batched)
        return node if formula == "zero" else one_minus(node)
    op, *args = formula
    if op == "apply":
        return apply(args[0], _formula_node(args[1], x, y))
    parts = [_formula_node(a, x, y) for a in args]
    if op == "one_minus":
        return one_minus(parts[0])
    if op == "neg":
        return -parts[0]
    return {"mul": mul, "add": add, "sub": sub}[op](*parts)


def concat(*parts: Node) -> Node:
    """Vertical concatenation [a; b; ...] of blocks with equal column counts."""
    parts = tuple(_check(p) for p in parts)
    if len(parts) < 2:
        raise ValueError("concatenation needs at least two blocks")
    cols = parts[0].shape[1]
    for p in parts[1:]:
        if p.shape[1] != cols:
            _fail(
                f"vertical concatenation needs equal column counts: {fmt_shape(parts[0].shape)} "
                f"and {fmt_shape(p.shape)} ({parts[0]!r}; {p!r})"
            )
    batched = any(p.batched for p in parts)
    if batched:
        parts = tuple(p if p.batched else broadcast(p) for p in parts)
    rows = sympy.Add(*[p.shape[0] for p in parts])
    return Node("concat", parts, (), (rows, cols), batched)


def rows(a: Node, start, stop) -> Node:
    """Rows start..stop-1 of a: the split that undoes a concatenation."""
    a = _check(a)
    start, stop = size(start), size(stop)
    return Node("rows", (a,), (start, stop), (sympy.expand(stop - start), a.shape[1]), a.batched)


def transpose(a: Node) -> Node:
    a = _check(a)
    if a.op == "transpose":
        return a.args[0]
    return Node("transpose", (a,), (), (a.shape[1], a.shape[0]), a.batched)


def broadcast(a: Node) -> Node:
    """A shared value (a bias) used by every example of the batch."""
    a = _check(a)
    if a.batched:
        return a
    return Node("broadcast", (a,), (), a.shape, True)


def batch_sum(a: Node) -> Node:
    """Σ over the examples of a batch: the adjoint of ``broadcast``."""
    a = _check(a)
    if not a.batched:
        return a
    if a.op == "broadcast":
        raise ValueError("batch_sum of a broadcast value multiplies by the batch size")
    return Node("batch_sum", (a,), (), a.shape, False)


def softmax(a: Node) -> Node:
    """softmax over the rows of a column vector."""
    a = _check(a)
    if not a.is_column:
        _fail(f"softmax needs a column vector, got {fmt_shape(a.shape)} ({a!r})")
    return Node("softmax", (a,), (), a.shape, a.batched)


# Every op the IR has; a test requires each to have a VJP, LaTeX, text and NumPy rule.
OPS = (
    "var",
    "zeros",
    "matmul",
    "add",
    "sub",
    "mul",
    "div",
    "scale",
    "one_minus",
    "apply",
    "concat",
    "rows",
    "transpose",
    "broadcast",
    "batch_sum",
    "softmax",
)


def rebuild(node: Node, args: tuple[Node, ...]) -> Node:
    """The same op over new operands, through the checking constructors."""
    op = node.op
    if not args or args == node.args:
        return node
    if op == "matmul":
        return matmul(*args)
    if op in ("add", "sub", "mul", "div"):
        return {"add": add, "sub": sub, "mul": mul, "div": div}[op](*args)
    if op == "scale":
        return scale(node.attrs[0], args[0])
    if op == "one_minus":
        return one_minus(args[0])
    if op == "apply":
        return apply(node.attrs[0], args[0])
    if op == "concat":
        return concat(*args)
    if op == "rows":
        return rows(args[0], *node.attrs)
    if op == "transpose":
        return transpose(args[0])
    if op == "broadcast":
        return broadcast(args[0])
    if op == "batch_sum":
        return batch_sum(args[0])
    if op == "softmax":
        return softmax(args[0])
    raise KeyError(op)  # pragma: no cover - OPS completeness test guards this


def substitute(node: Node, mapping: dict[Node, Node]) -> Node:
    """Replace subtrees by the mapping (memoised: shared subtrees are visited once)."""
    memo: dict[Node, Node] = {}

    def walk(n: Node) -> Node:
        if n in mapping:
            return mapping[n]
        if n in memo:
            return memo[n]
        out = rebuild(n, tuple(walk(a) for a in n.args)) if n.args else n
        memo[n] = out
        return out

    return walk(node)


def shift_time(node: Node, by: int) -> Node:
    """The same expression one or more steps later (t → t + by) for every time-indexed leaf."""

    def walk(n: Node) -> Node:
        if n.op == "var":
            if n.shift is None:
                return n
            return Node("var", (), (n.name, n.kind, n.shift + by), n.shape, n.batched)
        return rebuild(n, tuple(walk(a) for a in n.args)) if n.args else n

    return walk(node)


def leaves(node: Node) -> list[Node]:
    """The distinct ``var`` leaves of an expression, in first-visit order."""
    seen: dict[Node, None] = {}

    def walk(n: Node):
        if n.op == "var":
            seen.setdefault(n)
        for a in n.args:
            walk(a)

    walk(node)
    return list(seen)


def postorder(node: Node) -> list[Node]:
    """Every distinct subexpression, operands before users, first-visit order."""
    out: dict[Node, None] = {}

    def walk(n: Node):
        if n in out:
            return
        for a in n.args:
            walk(a)
        out[n] = None

    walk(node)
    return list(out)
