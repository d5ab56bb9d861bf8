"""The one evaluator of the IR: a rule per op, pluggable arithmetic, one value layout, one BPTT driver.

**Layout.**  A batched value (an input, a state, a gate) is an array ``(batch, rows, cols)``;
a shared value (a parameter) keeps the shape of the math, ``(rows, cols)``.  Batch 1 is the
math of one example.  ``np.matmul`` broadcasts a shared matrix over the batch and works on
NumPy object arrays, so float64, 40-digit mpmath and exact SymPy numbers share one code path.

**Arithmetic.**  An :class:`Arithmetic` is a number system: how numbers and arrays are made,
the element-wise functions by name (:meth:`Arithmetic.function`, the one place they are looked
up), softmax, and how "equal" is decided.  :data:`FLOAT64`, :data:`MPMATH` (40 digits) and
:data:`EXACT` (SymPy) are the three; :func:`mpmath_arithmetic` gives other precisions.

**Rules.**  :data:`RULES` maps each op of ``symrnn.ir.OPS`` to one short rule
``rule(evaluator, node, *operand_values) -> value``.  An :class:`Evaluator` walks an expression
in post-order, memoised, and calls the rule of each node; a client with nodes of its own (the
gradient flow's ``diag``/``embed``/``select``) passes ``rules={**RULES, **its_rules}``.

**BPTT.**  :func:`run_forward` runs a derivation's forward equations over a :class:`Problem`
and returns a :class:`Tape`; :func:`run_backward` runs its δ recurrences over the tape, with
options for which steps' losses are differentiated, extra seeds on chosen values (rows of a
Jacobian) and upstream gradients given instead of a loss.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import numpy as np
import sympy

from symrnn import ir
from symrnn.functions import function_spec
from symrnn.ir import Node

DIGITS = 40  # the precision of MPMATH: enough to tell a wrong formula from rounding at any size used


class Unsupported(ValueError):
    """Something the evaluator has no numeric meaning for (a generic f in float64, an unknown op)."""


# ---------------------------------------------------------------- arithmetic


@dataclass(frozen=True)
class Arithmetic:
    """A number system for the evaluator.

    Attributes:
        name: ``"float64"``, ``"mpmath40"``, ``"exact"``, …
        number: a Python/NumPy/SymPy/mpmath number → a number of this system.
        forms: φ by name → an element-wise callable on arrays of this system, or None if unknown.
        rtol: :meth:`close`'s tolerance relative to the larger magnitude.
        dtype: the NumPy dtype of its arrays (``float`` or ``object``).
    """

    name: str
    number: Callable[[object], object]
    forms: Callable[[str], Callable | None]
    rtol: float
    dtype: type = object
    exp: Callable | None = None  # element-wise exp for softmax (float64 uses a max-shifted np.exp)

    @property
    def precise(self) -> bool:
        """True for arithmetic beyond float64 (object arrays)."""
        return self.dtype is object

    def array(self, values) -> np.ndarray:
        """An array of this system from numbers, nested lists, arrays or a SymPy matrix."""
        if isinstance(values, sympy.MatrixBase):
            values = values.tolist()
        if self.dtype is float:
            if isinstance(values, np.ndarray) and values.dtype == object:
                return np.vectorize(self.number, otypes=[float])(values)
            return np.array(values, dtype=float)
        out = np.empty(np.shape(values), dtype=object)
        source = np.asarray(values, dtype=object)
        for index, v in np.ndenumerate(source):
            out[index] = self.number(v)
        return out

    def zeros(self, shape) -> np.ndarray:
        """An array of zeros of this system."""
        if self.dtype is float:
            return np.zeros(shape)
        out = np.empty(shape, dtype=object)
        out.fill(self.number(0))
        return out

    def has_function(self, name: str) -> bool:
        """Whether φ = ``name`` has a meaning in this system."""
        return self.forms(name) is not None

    def function(self, name: str) -> Callable[[np.ndarray], np.ndarray]:
        """φ by name, element-wise on arrays of this system.

        Raises:
            Unsupported: the function has no meaning in this system (a generic f in float64).
        """
        form = self.forms(name)
        if form is None:
            raise Unsupported(f"no {self.name} meaning for the element-wise function {name!r}")
        return form

    def softmax(self, a: np.ndarray) -> np.ndarray:
        """softmax over the rows of each column (axis -2)."""
        if self.dtype is float:
            e = np.exp(a - a.max(axis=-2, keepdims=True))
        else:
            e = np.vectorize(self.exp, otypes=[object])(a) if a.size else a
        return e / e.sum(axis=-2, keepdims=True)

    def close(self, a, b) -> tuple[bool, float]:
        """(equal, relative difference): max|a − b| ≤ rtol · max(|a|, |b|, 10⁻³).

        Exact arithmetic compares at 60 digits, and by expansion where entries stay symbolic.
        """
        a, b = np.asarray(a, dtype=self.dtype), np.asarray(b, dtype=self.dtype)
        if a.shape != b.shape:
            raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
        if not a.size:
            return True, 0.0
        if self.name == "exact":
            return _exact_close(a, b, self.rtol)
        diff = float(np.max(np.abs(a - b)))
        scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), 1e-3)
        return diff <= self.rtol * scale, diff / scale


def _exact_close(a, b, rtol) -> tuple[bool, float]:
    worst, scale = 0.0, 1e-3
    for x, y in zip(a.flat, b.flat, strict=True):
        d = sympy.sympify(x - y)
        if d.free_symbols:
            if sympy.expand(d) != 0 and sympy.simplify(d) != 0:
                return False, float("inf")
            continue
        worst = max(worst, float(abs(sympy.N(d, 60))))
        scale = max(scale, float(abs(sympy.N(x, 30))), float(abs(sympy.N(y, 30))))
    return worst <= rtol * scale, worst / scale


def _float64_sigmoid(a):
    e = np.exp(-np.abs(a))  # never overflows: |a| ≥ 50 gives 1 or a tiny positive number
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# Numeric forms of the function table's functions (and of sin, cos, softplus, which notes
# substitute for an unnamed f).  When the table carries numeric columns these maps go, and
# only the ``forms`` lookups below change.
_FLOAT64_FORMS = {
    "sigmoid": _float64_sigmoid,
    "tanh": np.tanh,
    "identity": lambda a: a,
    "relu": lambda a: np.maximum(a, 0.0),
    "step": lambda a: (a > 0).astype(float),
    "exp": np.exp,
    "log": np.log,
    "reciprocal": lambda a: 1.0 / a,
    "sin": np.sin,
    "cos": np.cos,
    "softplus": lambda a: np.logaddexp(0.0, a),
}


def _mpmath_forms(ctx) -> dict[str, Callable]:
    scalar = {
        "sigmoid": lambda v: 1 / (1 + ctx.exp(-v)),
        "tanh": ctx.tanh,
        "identity": lambda v: v,
        "relu": lambda v: v if v > 0 else ctx.zero,
        "step": lambda v: ctx.one if v > 0 else ctx.zero,
        "exp": ctx.exp,
        "log": ctx.log,
        "reciprocal": lambda v: 1 / v,
        "sin": ctx.sin,
        "cos": ctx.cos,
        "softplus": lambda v: ctx.log1p(ctx.exp(v)) if v < 0 else v + ctx.log1p(ctx.exp(-v)),
    }
    return {name: _elementwise(f) for name, f in scalar.items()}


def _elementwise(f: Callable) -> Callable[[np.ndarray], np.ndarray]:
    vectorised = np.vectorize(f, otypes=[object])
    return lambda a: vectorised(a) if np.size(a) else np.asarray(a, dtype=object)


_EXACT_EXTRA = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "softplus": lambda x: sympy.log(1 + sympy.exp(x)),
}


def _exact_form(name: str) -> Callable | None:
    if name in _EXACT_EXTRA:
        return _elementwise(_EXACT_EXTRA[name])
    try:
        return _elementwise(function_spec(name).sympy_fn)  # generic f stays symbolic: f(x)
    except KeyError:
        return None


def _float64_number(v) -> float:
    if isinstance(v, sympy.Basic) and v.free_symbols:
        raise Unsupported(f"float64 arithmetic has no value for the symbolic {v}")
    return float(v)


def _exact_number(v):
    if isinstance(v, sympy.Basic):
        return v
    if isinstance(v, bool | np.bool_):
        return sympy.Integer(int(v))
    if isinstance(v, numbers.Integral):
        return sympy.Integer(int(v))
    if isinstance(v, Fraction):
        return sympy.Rational(v.numerator, v.denominator)
    if isinstance(v, float | np.floating):
        return sympy.Rational(float(v))  # the binary value itself, exactly
    if hasattr(v, "_mpf_"):  # an mpf of any mpmath context, at its own precision
        prec = getattr(getattr(v, "context", None), "prec", mpmath.mp.prec)
        return sympy.Float._new(v._mpf_, prec)
    raise TypeError(f"not a number: {v!r}")


def mpmath_arithmetic(digits: int) -> Arithmetic:
    """mpmath numbers at ``digits`` significant digits, in a context of their own (no global state)."""
    ctx = mpmath.MPContext()
    ctx.dps = digits

    def number(v):
        if isinstance(v, sympy.Rational):
            return ctx.mpf(int(v.p)) / int(v.q)
        if isinstance(v, sympy.Float):
            return ctx.convert(v)
        if isinstance(v, sympy.Basic):
            if v.free_symbols:
                raise Unsupported(f"mpmath arithmetic has no value for the symbolic {v}")
            return ctx.convert(v.evalf(digits + 10))
        if isinstance(v, Fraction):
            return ctx.mpf(v.numerator) / v.denominator
        if isinstance(v, np.floating | np.integer):
            return ctx.mpf(v.item())
        return ctx.convert(v)

    forms = _mpmath_forms(ctx)
    return Arithmetic(f"mpmath{digits}", number, forms.get, 10.0 ** (15 - digits), object, ctx.exp)


FLOAT64 = Arithmetic("float64", _float64_number, _FLOAT64_FORMS.get, 1e-7, float)
MPMATH = mpmath_arithmetic(DIGITS)
EXACT = Arithmetic("exact", _exact_number, _exact_form, 1e-45, object, sympy.exp)
ARITHMETICS = (FLOAT64, MPMATH, EXACT)


# ---------------------------------------------------------------- rules


def _concat(ev: Evaluator, node: Node, *parts):
    return np.concatenate(parts, axis=-2)  # ir.concat broadcasts shared blocks of a batched stack


def _rows(ev: Evaluator, node: Node, a):
    start, stop = (ev.size(s) for s in node.attrs)
    return a[..., start:stop, :]


def _scale(ev: Evaluator, node: Node, a):
    c = node.attrs[0]
    if isinstance(c, sympy.Basic) and c.free_symbols:  # a constant written with the sizes, e.g. 1/hidden_size
        c = c.xreplace({s: ev.size(s) for s in c.free_symbols})
    return ev.arith.number(c) * a


# One rule per IR op: rule(evaluator, node, *values of node.args) -> the node's value.
RULES: dict[str, Callable] = {
    "var": lambda ev, node: ev.leaf_value(node),
    "zeros": lambda ev, node: ev.arith.zeros(ev.shape(node)),
    "matmul": lambda ev, node, a, b: np.matmul(a, b),
    "add": lambda ev, node, a, b: a + b,
    "sub": lambda ev, node, a, b: a - b,
    "mul": lambda ev, node, a, b: a * b,
    "div": lambda ev, node, a, b: a / b,
    "scale": _scale,
    "one_minus": lambda ev, node, a: 1 - a,
    "apply": lambda ev, node, a: ev.arith.function(node.attrs[0])(a),
    "concat": _concat,
    "rows": _rows,
    "transpose": lambda ev, node, a: np.swapaxes(a, -1, -2),
    "broadcast": lambda ev, node, a: np.broadcast_to(a, (ev.batch, *a.shape)),
    "batch_sum": lambda ev, node, a: a.sum(axis=0),
    "softmax": lambda ev, node, a: ev.arith.softmax(a),
}


# ---------------------------------------------------------------- evaluator


def size_table(sizes: Mapping) -> dict[str, int]:
    """Concrete sizes by symbol name, from keys that are size symbols or their names."""
    table = {}
    for key, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"the size {key} must be an int, got {value!r}")
        table[str(key)] = int(value)
    return table


def concrete_size(expr, sizes: Mapping) -> int:
    """A size (an int, or an expression such as ``hidden_size + input_size``) at concrete sizes.

    Args:
        expr: the size.
        sizes: ints keyed by size symbol or its name.

    Raises:
        Unsupported: a symbol of ``expr`` has no size in ``sizes``.
    """
    if isinstance(expr, numbers.Integral):
        return int(expr)
    table = sizes if all(isinstance(k, str) for k in sizes) else size_table(sizes)
    missing = sorted(s.name for s in expr.free_symbols if s.name not in table)
    if missing:
        raise Unsupported(f"no size given for {', '.join(missing)} (sizes: {', '.join(sorted(table)) or 'none'})")
    return int(expr.xreplace({s: table[s.name] for s in expr.free_symbols}))


class Evaluator:
    """Values of IR expressions: a memoised post-order walk, one rule per op.

    Args:
        arith: the number system (:data:`FLOAT64`, :data:`MPMATH`, :data:`EXACT`, …).
        sizes: concrete int sizes keyed by size symbol or its name, e.g. ``{ir.HIDDEN: 3}``
            or ``{"hidden_size": 3}``; any symbol a shape uses must be there.
        leaf: the values of ``var`` leaves: a callable ``leaf(node) -> array`` or a mapping
            from nodes to arrays, in the layout ``(batch, rows, cols)`` (batched) or
            ``(rows, cols)`` (shared), arrays of ``arith``'s numbers.
        batch: the batch size of batched values.
        rules: the rule table (default :data:`RULES`); extend it for ops of your own.

    The memo lives as long as the evaluator: bind leaves that do not change while it is used.
    """

    def __init__(self, arith: Arithmetic, sizes: Mapping, leaf, *, batch: int = 1, rules: Mapping | None = None):
        self.arith, self.batch = arith, int(batch)
        self.sizes = size_table(sizes)
        self._leaf = leaf if callable(leaf) else _mapping_leaf(leaf)
        self.rules = RULES if rules is None else rules
        self.memo: dict[Node, np.ndarray] = {}
        self._size_cache: dict = {}

    def size(self, expr) -> int:
        """A size expression (``hidden_size + input_size``) as an int."""
        if isinstance(expr, numbers.Integral):
            return int(expr)
        if expr not in self._size_cache:
            self._size_cache[expr] = concrete_size(expr, self.sizes)
        return self._size_cache[expr]

    def shape(self, node: Node) -> tuple[int, ...]:
        """The array shape of ``node``'s value: (batch, rows, cols) or, shared, (rows, cols)."""
        rows, cols = self.size(node.shape[0]), self.size(node.shape[1])
        return (self.batch, rows, cols) if node.batched else (rows, cols)

    def leaf_value(self, node: Node) -> np.ndarray:
        """The bound value of a ``var`` leaf, its shape checked against the layout."""
        value = self._leaf(node)
        expected = self.shape(node)
        if np.shape(value) != expected:
            what = "batched (batch, rows, cols)" if node.batched else "shared (rows, cols)"
            raise ValueError(
                f"the value bound to {_leaf_name(node)} has shape {np.shape(value)}; expected {expected}, {what}"
            )
        return value

    def value(self, node: Node) -> np.ndarray:
        """The value of ``node`` (operands first, each subexpression once)."""
        memo = self.memo
        stack = [node]
        while stack:
            n = stack[-1]
            if n in memo:
                stack.pop()
                continue
            pending = [a for a in n.args if a not in memo]
            if pending:
                stack.extend(reversed(pending))
                continue
            stack.pop()
            rule = self.rules.get(n.op)
            if rule is None:
                raise Unsupported(f"the evaluator has no rule for the op {n.op!r}")
            memo[n] = rule(self, n, *(memo[a] for a in n.args))
        return memo[node]


def example_value(node: Node, env: Mapping, sizes: Mapping, arith: Arithmetic | None = None) -> np.ndarray:
    """The value of ``node`` for one example, leaves given in the shapes of the math.

    Args:
        node: the expression.
        env: leaf node → its value as a (rows, cols) matrix (a SymPy matrix, array or nested list),
            batched leaves included: batch 1 is added and removed here.
        sizes: concrete sizes, keyed by size symbol or name.
        arith: the number system (default :data:`EXACT`).

    Returns:
        A (rows, cols) array of ``arith``'s numbers.
    """
    arith = EXACT if arith is None else arith
    bound = {leaf: arith.array(v)[None] if leaf.batched else arith.array(v) for leaf, v in env.items()}
    value = Evaluator(arith, sizes, bound).value(node)
    return value[0] if node.batched else value


def _mapping_leaf(mapping: Mapping):
    def leaf(node: Node):
        if node not in mapping:
            raise KeyError(f"no value bound for {_leaf_name(node)}")
        return mapping[node]

    return leaf


def _leaf_name(node: Node) -> str:
    if node.op != "var":
        return repr(node)
    time = "" if node.shift is None else ("_t" if node.shift == 0 else f"_(t{node.shift:+d})")
    return f"{'δ' if node.kind == ir.GRAD else ''}{node.name}{time} ({node.kind})"


# ---------------------------------------------------------------- BPTT


@dataclass
class Problem:
    """One instance of a derivation's inputs, in the evaluator's layout.

    Attributes:
        sizes: concrete sizes, e.g. ``{ir.HIDDEN: 3, ir.INPUT: 2, ir.OUTPUT: 2}``.
        steps: T.
        params: parameter arrays (rows, cols), biases (rows, 1).
        inputs: by input name, a list of T arrays (batch, rows, 1).
        targets: T arrays (batch, rows, 1), or None: no loss (forward only, or ``upstream``).
        initial: s_0 by state name, (batch, rows, 1).
        batch: the batch size.
    """

    sizes: dict
    steps: int
    params: dict
    inputs: dict
    targets: list | None
    initial: dict
    batch: int = 1


@dataclass
class Tape:
    """The forward pass of a derivation on a problem: every value at every step, and J.

    ``values[(name, t)]`` for t = 1 … T, and ``values[(state, 0)]`` = s_0.  ``loss`` is
    J = Σ_t Σ_batch L_t (None without targets).
    """

    derivation: object
    problem: Problem
    arith: Arithmetic
    params: dict
    inputs: dict
    targets: list | None
    values: dict = field(default_factory=dict)
    loss: object = None

    @property
    def steps(self) -> int:
        return self.problem.steps

    def evaluator(self, step: int, grads: Mapping | None = None) -> Evaluator:
        """An evaluator of expressions at step ``step``: leaves read this tape (and ``grads`` for δ leaves)."""
        return Evaluator(self.arith, self.problem.sizes, self._leaf(step, grads), batch=self.problem.batch)

    def _leaf(self, step: int, grads: Mapping | None):
        def leaf(node: Node):
            kind = node.kind
            if kind == ir.PARAM:
                return self.params[node.name]
            if kind == ir.INPUT_KIND:
                return self.inputs[node.name][step - 1]
            if kind == ir.TARGET:
                if self.targets is None:
                    raise Unsupported("the problem has no targets")
                return self.targets[step - 1]
            key = (node.name, step + node.shift)
            source = grads if kind == ir.GRAD else self.values
            if source is None or key not in source:
                raise KeyError(f"no value for {_leaf_name(node)} at step {step}")
            return source[key]

        return leaf


@dataclass
class Gradients:
    """A backward pass: δ of every value at every step it ran over, parameter sums, δs_{first-1}.

    ``values[(name, t)]``; ``params[name]`` = Σ_t of the parameter gradient; ``initial[state]``
    (also ``values[(state, first - 1)]``) is the gradient of the first step's previous state.
    """

    values: dict
    params: dict
    initial: dict

    def with_initial(self) -> dict:
        """Parameter gradients and initial-state gradients keyed ``"<state>_0"``, as ``loss_and_grads``."""
        return {**self.params, **{f"{s}_0": v for s, v in self.initial.items()}}


def run_forward(derivation, problem: Problem, arith: Arithmetic = FLOAT64) -> Tape:
    """Every forward value of ``derivation`` at every step of ``problem``, and the loss J.

    Args:
        derivation: a :class:`~symrnn.derivation.Derivation` (its ``forward`` equations are run).
        problem: the sizes, parameters, inputs, targets and initial states.
        arith: the number system; the problem's numbers are converted into it.

    Returns:
        A :class:`Tape`.  Without targets the loss equation is skipped.
    """
    convert = arith.array
    tape = Tape(
        derivation,
        problem,
        arith,
        {k: convert(v) for k, v in problem.params.items()},
        {k: [convert(x) for x in xs] for k, xs in problem.inputs.items()},
        None if problem.targets is None else [convert(y) for y in problem.targets],
    )
    for name, value in problem.initial.items():
        tape.values[(name, 0)] = convert(value)
    total = arith.number(0)
    for step in range(1, problem.steps + 1):
        ev = tape.evaluator(step)
        for eq in derivation.forward:
            if eq.lhs.name == "L" and tape.targets is None:
                continue
            tape.values[(eq.lhs.name, step)] = ev.value(eq.rhs)
        if tape.targets is not None:
            total = total + tape.values[("L", step)].sum()
    tape.loss = total if tape.targets is not None else None
    return tape


def run_backward(
    tape: Tape,
    *,
    loss_steps=None,
    seeds: Mapping | None = None,
    upstream: Mapping | None = None,
    last: int | None = None,
    first: int = 1,
) -> Gradients:
    """The derivation's δ recurrences over a tape: δ of every value, parameter sums, δs_{first-1}.

    Args:
        tape: a :func:`run_forward` result.
        loss_steps: the steps whose loss L_t is differentiated (None: every step, the whole J;
            an empty set: no loss, for ``seeds`` or ``upstream`` alone).  With ``upstream``
            given and ``loss_steps`` None, no loss is differentiated.
        seeds: ``{(name, t): array}`` added to δname_t (a unit array gives a row of the
            Jacobian ∂name_t/∂·).
        upstream: ``{name: [Δ_1, …, Δ_T]}``, gradients of an outer objective with respect to
            each step's value, added to δname_t at every step.
        last, first: the steps the pass runs over, from ``last`` (default T) down to ``first``;
            ``first = k`` holds s_{k-1} fixed, ``last = k`` drops everything after step k.

    Returns:
        :class:`Gradients`.

    Raises:
        ValueError: a seed or upstream gradient names a value the derivation has no δ for,
            or a step outside the pass.
    """
    d, arith = tape.derivation, tape.arith
    last = tape.steps if last is None else last
    if not 1 <= first <= last + 1 or last > tape.steps:
        raise ValueError(f"a backward pass over steps {last} … {first} of a problem with T = {tape.steps}")
    if loss_steps is None and upstream is not None:
        loss_steps = frozenset()
    if loss_steps is None and tape.targets is None:
        raise ValueError("the problem has no targets: give upstream gradients or seeds with loss_steps=()")
    extra = _extra_gradients(d, tape, seeds, upstream, last, first)
    grads: dict = {}
    totals = {name: arith.zeros(value.shape) for name, value in tape.params.items()}
    carry: dict = {s: None for s in d.cell.states}
    for step in range(last, first - 1, -1):
        ev = tape.evaluator(step, grads)
        for eq in d.backward:
            name = eq.lhs.name
            if name == d.logits and not (loss_steps is None or step in loss_steps):
                value = arith.zeros(tape.values[(name, step)].shape)
            else:
                value = ev.value(d.local_grads[name])
            if carry.get(name) is not None:
                value = value + carry[name]
            for add in extra.get((name, step), ()):
                value = value + add
            grads[(name, step)] = value
        for eq in d.param_grads:
            if eq.rhs.op != "zeros":
                totals[eq.lhs.name] = totals[eq.lhs.name] + ev.value(eq.rhs)
        for s in d.cell.states:
            c = d.carries[s]
            carry[s] = ev.value(c) if c.op != "zeros" else arith.zeros(tape.values[(s, 0)].shape)
    initial = {}
    for s in d.cell.states:
        initial[s] = carry[s] if carry[s] is not None else arith.zeros(tape.values[(s, 0)].shape)
        grads[(s, first - 1)] = initial[s]
    return Gradients(grads, totals, initial)


def _extra_gradients(d, tape: Tape, seeds, upstream, last: int, first: int) -> dict:
    """{(name, t): [arrays]} of seeds and upstream gradients, checked against the derivation."""
    names = {eq.lhs.name for eq in d.backward}
    extra: dict = {}

    def add(name, step, value, what):
        if name not in names:
            raise ValueError(f"{what} for {name}: the derivation has a δ only for {', '.join(sorted(names))}")
        if not first <= step <= last:
            return
        value = tape.arith.array(value)
        shape = tape.values[(name, step)].shape
        if value.shape != shape:
            raise ValueError(f"{what} for {name} at step {step} has shape {value.shape}; expected {shape}")
        extra.setdefault((name, step), []).append(value)

    for (name, step), value in (seeds or {}).items():
        if not 1 <= step <= tape.steps:
            raise ValueError(f"a seed for {name} at step {step}: the problem has steps 1 … {tape.steps}")
        add(name, step, value, "a seed")
    for name, per_step in (upstream or {}).items():
        if len(per_step) != tape.steps:
            raise ValueError(f"upstream gradients for {name}: {len(per_step)} given for T = {tape.steps} steps")
        for step, value in enumerate(per_step, start=1):
            add(name, step, value, "an upstream gradient")
    return extra


# ---------------------------------------------------------------- the generated code's layout


def problem_from_code(derivation, params: dict, xs, ys, initial: dict, sizes: Mapping) -> Problem:
    """A :class:`Problem` from arrays in the generated code's layout.

    Args:
        params: biases 1-D, matrices as in the math (``Derivation.init_params``).
        xs, ys: (T, batch, size) arrays (``ys`` may be None).
        initial: s_0 by state, (batch, size).
        sizes: the concrete sizes.
    """
    inputs = list(derivation.cell.inputs)
    if len(inputs) != 1:
        raise ValueError(f"the generated code's layout has one input; cell {derivation.cell.name} has {len(inputs)}")
    xs = np.asarray(xs)
    steps, batch = xs.shape[0], xs.shape[1]
    columns = {
        name: np.asarray(value)[:, None] if np.ndim(value) == 1 else np.asarray(value) for name, value in params.items()
    }
    return Problem(
        sizes=dict(sizes),
        steps=steps,
        params=columns,
        inputs={inputs[0]: [x[..., None] for x in xs]},
        targets=None if ys is None else [y[..., None] for y in np.asarray(ys)],
        initial={s: np.asarray(v)[..., None] for s, v in initial.items()},
        batch=batch,
    )


def grads_to_code(derivation, gradients: Gradients) -> dict:
    """Gradients in the generated code's layout: biases 1-D, ``"<state>_0"`` as (batch, size)."""
    out = {}
    for name, value in gradients.params.items():
        out[name] = value[:, 0] if derivation.params[name].is_column else value
    for s, value in gradients.initial.items():
        out[f"{s}_0"] = value[..., 0]
    return out


def stack_steps(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Per-step arrays (batch, rows, 1) as one (T, batch, rows) array, the code's tape layout."""
    return np.stack([a[..., 0] for a in arrays])
