"""Numbers for checking claims: a derivation run step by step in float64 or at high precision.

:class:`Arithmetic` is the number system (float64 NumPy arrays, or NumPy object
arrays of mpmath numbers at 40 digits for the confirmation of a "wrong").
:class:`Run` evaluates a derivation of the note's cell on one random problem
(one example, columns): every forward value at every step, and backward passes
on demand — the whole loss J, the loss of chosen steps only (∂E_k/∂·), or a
seed on one value (the rows of a Jacobian), over all earlier steps (total) or
one step with the earlier state held fixed (immediate).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy

from symrnn import ir
from symrnn.ir import Node

DIGITS = 40

# Concrete functions for unnamed f, g: each with its derivatives (index = primes).
SUBSTITUTES = {
    "tanh": ("tanh", "tanh'", "tanh''"),
    "sin": ("sin", "cos", "-sin"),
    "softplus": ("softplus", "sigmoid", "sigmoid'"),
    "sigmoid": ("sigmoid", "sigmoid'", "sigmoid''"),
}


def _mp_sigmoid(v):
    return 1 / (1 + mpmath.exp(-v))


_FLOAT = {
    "sigmoid": lambda a: np.where(a >= 0, 1 / (1 + np.exp(-np.abs(a))), np.exp(-np.abs(a)) / (1 + np.exp(-np.abs(a)))),
    "tanh": np.tanh,
    "exp": np.exp,
    "log": np.log,
    "identity": lambda a: a,
    "relu": lambda a: np.maximum(a, 0),
    "step": lambda a: (a > 0).astype(float),
    "reciprocal": lambda a: 1 / a,
    "sin": np.sin,
    "cos": np.cos,
    "-sin": lambda a: -np.sin(a),
    "softplus": lambda a: np.logaddexp(0, a),
    "tanh'": lambda a: 1 - np.tanh(a) ** 2,
    "tanh''": lambda a: -2 * np.tanh(a) * (1 - np.tanh(a) ** 2),
}
_FLOAT["sigmoid'"] = lambda a: _FLOAT["sigmoid"](a) * (1 - _FLOAT["sigmoid"](a))
_FLOAT["sigmoid''"] = lambda a: _FLOAT["sigmoid'"](a) * (1 - 2 * _FLOAT["sigmoid"](a))

_MP = {
    "sigmoid": _mp_sigmoid,
    "tanh": mpmath.tanh,
    "exp": mpmath.exp,
    "log": mpmath.log,
    "identity": lambda v: v,
    "relu": lambda v: max(v, 0),
    "step": lambda v: mpmath.mpf(1) if v > 0 else mpmath.mpf(0),
    "reciprocal": lambda v: 1 / v,
    "sin": mpmath.sin,
    "cos": mpmath.cos,
    "-sin": lambda v: -mpmath.sin(v),
    "softplus": lambda v: mpmath.log(1 + mpmath.exp(v)),
    "tanh'": lambda v: 1 - mpmath.tanh(v) ** 2,
    "tanh''": lambda v: -2 * mpmath.tanh(v) * (1 - mpmath.tanh(v) ** 2),
    "sigmoid'": lambda v: _mp_sigmoid(v) * (1 - _mp_sigmoid(v)),
    "sigmoid''": lambda v: _mp_sigmoid(v) * (1 - _mp_sigmoid(v)) * (1 - 2 * _mp_sigmoid(v)),
}


class Unsupported(ValueError):
    """Something a claim uses that the checker cannot evaluate (the verdict is "unchecked")."""


@dataclass(frozen=True)
class Arithmetic:
    """float64, or mpmath at ``DIGITS`` digits in NumPy object arrays."""

    precise: bool = False
    functions: dict = field(default_factory=dict)  # generic name (f, f', g) → concrete name

    def array(self, values: np.ndarray) -> np.ndarray:
        if not self.precise:
            return np.asarray(values, dtype=float)
        out = np.empty(np.shape(values), dtype=object)
        for index, v in np.ndenumerate(np.asarray(values, dtype=float)):
            out[index] = mpmath.mpf(float(v))
        return out

    def number(self, value) -> object:
        if isinstance(value, sympy.Rational):
            return mpmath.mpf(value.p) / value.q if self.precise else float(value)
        return mpmath.mpf(value) if self.precise else float(value)

    def zeros(self, shape) -> np.ndarray:
        return self.array(np.zeros(shape))

    def apply(self, name: str, a: np.ndarray) -> np.ndarray:
        name = self.concrete(name)
        if not self.precise:
            if name not in _FLOAT:
                raise Unsupported(f"no numeric meaning for the function {name}")
            return _FLOAT[name](a)
        if name not in _MP:
            raise Unsupported(f"no numeric meaning for the function {name}")
        return np.vectorize(_MP[name], otypes=[object])(a)

    def concrete(self, name: str) -> str:
        """An unnamed f (or f', f'') as the function substituted for it."""
        base = name.rstrip("'")
        primes = len(name) - len(base)
        if base in self.functions:
            return SUBSTITUTES[self.functions[base]][primes]
        if primes:
            if base in SUBSTITUTES:
                return SUBSTITUTES[base][primes]
            raise Unsupported(f"no numeric meaning for {name}")
        return name

    def softmax(self, a: np.ndarray) -> np.ndarray:
        if not self.precise:
            e = np.exp(a - a.max(axis=0, keepdims=True))
            return e / e.sum(axis=0, keepdims=True)
        e = np.vectorize(mpmath.exp, otypes=[object])(a)
        return e / e.sum(axis=0, keepdims=True)

    def close(self, a: np.ndarray, b: np.ndarray) -> tuple[bool, float]:
        """Equal up to rounding: relative to the larger magnitude, 1e-7 (float64) or 1e-25."""
        a, b = np.asarray(a), np.asarray(b)
        diff = float(np.max(np.abs(a - b))) if a.size else 0.0
        scale = max(float(np.max(np.abs(a))) if a.size else 0.0, float(np.max(np.abs(b))) if b.size else 0.0, 1e-3)
        tolerance = 1e-25 if self.precise else 1e-7
        return diff <= tolerance * scale, diff / scale


def evaluate(node: Node, leaf, sizes: dict, arith: Arithmetic, memo: dict | None = None) -> np.ndarray:
    """The value of an IR expression for one example (columns); ``leaf(var)`` gives the leaves."""
    memo = {} if memo is None else memo
    if node in memo:
        return memo[node]
    op = node.op
    if op == "var":
        out = leaf(node)
    elif op == "zeros":
        out = arith.zeros((_size(node.shape[0], sizes), 1 if node.batched else _size(node.shape[1], sizes)))
    else:
        a = [evaluate(x, leaf, sizes, arith, memo) for x in node.args]
        if op == "matmul":
            out = a[0] @ a[1]
        elif op == "add":
            out = a[0] + a[1]
        elif op == "sub":
            out = a[0] - a[1]
        elif op == "mul":
            out = a[0] * a[1]
        elif op == "div":
            out = a[0] / a[1]
        elif op == "scale":
            out = arith.number(node.attrs[0]) * a[0]
        elif op == "one_minus":
            out = 1 - a[0]
        elif op == "apply":
            out = arith.apply(node.attrs[0], a[0])
        elif op == "concat":
            out = np.concatenate(a, axis=0)
        elif op == "rows":
            start, stop = (_size(s, sizes) for s in node.attrs)
            out = a[0][start:stop]
        elif op == "transpose":
            out = a[0].T
        elif op in ("broadcast", "batch_sum"):
            out = a[0]
        elif op == "softmax":
            out = arith.softmax(a[0])
        else:  # pragma: no cover - the IR completeness test lists every op
            raise Unsupported(op)
    memo[node] = out
    return out


def _size(expr, sizes) -> int:
    return int(expr.xreplace(sizes)) if isinstance(expr, sympy.Basic) else int(expr)


@dataclass
class Problem:
    """One random instance: sizes, steps, parameters, inputs, targets, initial states (float64)."""

    sizes: dict  # {HIDDEN: 3, INPUT: 2, OUTPUT: 2}
    steps: int
    params: dict[str, np.ndarray]
    inputs: dict[str, list[np.ndarray]]
    targets: list[np.ndarray]
    initial: dict[str, np.ndarray]


def random_problem(d, *, hidden: int, input: int, output: int, steps: int, seed: int, target: str) -> Problem:
    """Parameters and data at moderate scale, so every nonlinearity is away from saturation."""
    rng = np.random.default_rng(seed)
    sizes = {ir.HIDDEN: hidden, ir.INPUT: input, ir.OUTPUT: output}

    def shape(node):
        return tuple(_size(s, sizes) for s in node.shape)

    params = {name: rng.uniform(-0.8, 0.8, shape(node)) for name, node in d.params.items()}
    inputs = {name: [rng.normal(size=shape(node)) for _ in range(steps)] for name, node in d.cell.inputs.items()}
    initial = {name: rng.uniform(-0.5, 0.5, shape(node)) for name, node in d.cell.states.items()}
    if target == "onehot":
        targets = [np.eye(output)[:, [rng.integers(output)]] for _ in range(steps)]
    else:  # in (0, 1): valid for every loss; for a generic loss, arbitrary upstream gradients
        targets = [rng.uniform(0.05, 0.95, (output, 1)) for _ in range(steps)]
    return Problem(sizes, steps, params, inputs, targets, initial)


class Run:
    """A derivation evaluated on one problem: forward values, and backward passes on demand."""

    def __init__(self, d, problem: Problem, arith: Arithmetic):
        self.d, self.problem, self.arith = d, problem, arith
        self.params = {k: arith.array(v) for k, v in problem.params.items()}
        self.inputs = {k: [arith.array(x) for x in xs] for k, xs in problem.inputs.items()}
        self.targets = [arith.array(y) for y in problem.targets]
        self.values: dict[tuple[str, int], np.ndarray] = {}
        for name, value in problem.initial.items():
            self.values[(name, 0)] = arith.array(value)
        self._forward()
        self._backward_cache: dict = {}

    @property
    def steps(self) -> int:
        return self.problem.steps

    def _leaf(self, step: int, grads: dict | None = None):
        def leaf(node: Node) -> np.ndarray:
            if node.kind == ir.PARAM:
                return self.params[node.name]
            if node.kind == ir.INPUT_KIND:
                return self.inputs[node.name][step - 1]
            if node.kind == ir.TARGET:
                return self.targets[step - 1]
            if node.kind == ir.GRAD:
                return grads[(node.name, step + node.shift)]
            return self.values[(node.name, step + node.shift)]

        return leaf

    def _forward(self):
        for step in range(1, self.steps + 1):
            for eq in self.d.forward:
                self.values[(eq.lhs.name, step)] = evaluate(eq.rhs, self._leaf(step), self.problem.sizes, self.arith)

    def backward(self, *, loss_steps=None, seed: tuple | None = None, last: int | None = None, first: int = 1):
        """δ of every value at every step, parameter gradients and δs_{first-1}.

        Args:
            loss_steps: steps whose loss is differentiated (None: all, the whole J).
            seed: ((name, step), array) added to δ name at that step (a row of a Jacobian).
            last, first: the steps the pass runs over, from ``last`` down to ``first``.
        """
        d, arith, sizes = self.d, self.arith, self.problem.sizes
        last = self.steps if last is None else last
        grads: dict[tuple[str, int], np.ndarray] = {}
        totals = {name: arith.zeros(self.params[name].shape) for name in self.params}
        carry: dict[str, np.ndarray | None] = {s: None for s in d.cell.states}
        for step in range(last, first - 1, -1):
            for eq in d.backward:
                name = eq.lhs.name
                if name == d.logits:
                    on = loss_steps is None or step in loss_steps
                    value = (
                        evaluate(d.local_grads[name], self._leaf(step, grads), sizes, arith)
                        if on
                        else arith.zeros(self.values[(name, step)].shape)
                    )
                else:
                    value = evaluate(d.local_grads[name], self._leaf(step, grads), sizes, arith)
                    if carry.get(name) is not None:
                        value = value + carry[name]
                if seed is not None and seed[0] == (name, step):
                    value = value + seed[1]
                grads[(name, step)] = value
            for eq in d.param_grads:
                if eq.rhs.op != "zeros":
                    totals[eq.lhs.name] = totals[eq.lhs.name] + evaluate(eq.rhs, self._leaf(step, grads), sizes, arith)
            for s in d.cell.states:
                c = d.carries[s]
                carry[s] = (
                    evaluate(c, self._leaf(step, grads), sizes, arith)
                    if c.op != "zeros"
                    else arith.zeros(self.values[(s, 0)].shape)
                )
        for s in d.cell.states:
            grads[(s, first - 1)] = carry[s]
        return grads, totals

    def loss_backward(self, loss_steps: frozenset | None):
        """Cached backward pass of J (None) or of the losses at ``loss_steps``."""
        if loss_steps not in self._backward_cache:
            self._backward_cache[loss_steps] = self.backward(loss_steps=loss_steps)
        return self._backward_cache[loss_steps]
