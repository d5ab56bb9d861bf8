"""The value of a note's expression on one problem: forward values, true gradients, Jacobians.

Symbols read as the note means them: ``h^{(t-1)}`` is the forward value, δv and
∂J/∂v the total gradient of the loss (of one step's loss for ∂E_k/∂v), and a
Jacobian factor ∂a_k/∂b inside a chain is one step's ("immediate", the earlier
state held fixed) or the total one, as the caller chooses.  Anything at step T+1
is a term that vanishes (:data:`ZERO`), as notes mean by "terms at T+1 are zero".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import reading
from .build import FUNCTION_NAMES, NoteCell
from .numeric import Run, Unsupported
from .tree import (
    Add,
    Apply,
    Concat,
    Derivative,
    Differential,
    Frac,
    Func,
    Matrix,
    Neg,
    Number,
    Power,
    Product,
    Sub,
    Sum,
    Symbol,
    Transpose,
)

# Words written \mathrm{step}(·), \mathrm{relu}(·) that read as functions applied.
FUNCTION_WORDS = frozenset({"step", "relu", "ReLU", "softplus"})


class _Zero:
    """A term that names step T+1: it vanishes from the sum it stands in."""

    def __repr__(self):
        return "ZERO"


ZERO = _Zero()


class ShapeClash(ValueError):
    """The claim combines values whose shapes do not fit (a definite error of the claim)."""


@dataclass
class Jacobian:
    """∂a/∂b as a matrix: rows over a's entries, columns over b's (row-major), b's shape kept."""

    matrix: np.ndarray
    wrt_shape: tuple


def time_step(symbol: Symbol, bound: dict[str, int]) -> int | None:
    """The absolute step of a symbol (None when it has no time index)."""
    time = symbol.time
    if time is None:
        return None
    if time.var is None:
        return time.offset
    if time.var == "T":
        return bound["T"] + time.offset
    if time.var not in bound:
        raise Unsupported(f"the step {time.var} is not bound")
    return bound[time.var] + time.offset


class Evaluator:
    """Evaluates note trees against one :class:`~symrnn.notes.numeric.Run` of the note's cell."""

    def __init__(self, note: NoteCell, run: Run | None, *, reading_mode: str = "immediate", env: dict | None = None):
        self.note, self.run, self.mode = note, run, reading_mode
        self.arith = run.arith if run else None
        self.env = env or {}  # symbol IR name → array, for claims about free symbols
        self.chain = 0  # > 0 while evaluating the factors of a product: one-step Jacobians there

    # ------------------------------------------------------------ names
    def _name(self, symbol: Symbol) -> str:
        return self.note.notation.ir_name(symbol)

    def _role(self, name: str) -> str:
        """The derivation's name for a note name (the readout's ŷ is y_hat)."""
        readout = self.note.readout
        if readout and name == readout.value:
            return "y_hat"
        if readout and name == readout.logits:
            return "y_bar"
        return name

    def _step(self, symbol: Symbol, bound) -> int:
        step = time_step(symbol, bound)
        if step is None:
            if "t" not in bound:
                raise Unsupported(f"{symbol.name} has no step and no step t is bound")
            step = bound["t"]
        return step

    def symbol(self, symbol: Symbol, bound: dict) -> object:
        name = self._name(symbol)
        if name in self.env:
            return self.env[name]
        note, run = self.note, self.run
        if name in note.aliases:
            return self.value(note.aliases[name], bound)
        if reading.is_delta_name(symbol) and name in note.gradient_names:
            return self._gradient(note.gradient_names[name], self._step(symbol, bound), None)
        if run is None:
            raise Unsupported(f"{symbol.name} is not defined")
        if name in run.params:
            return run.params[name]
        role = self._role(name)
        # Steps outside the sequence name terms that do not exist: after T, and before 1
        # for anything but a state's initial value s_0.
        if name in note.inputs:
            step = self._step(symbol, bound)
            return ZERO if not 1 <= step <= run.steps else run.inputs[name][step - 1]
        if name in note.values or role == "y_hat":
            step = self._step(symbol, bound)
            if step > run.steps or (role, step) not in run.values:
                return ZERO
            return run.values[(role, step)]
        if symbol.time is not None and note.readout is not None and not reading.is_loss_symbol(symbol):
            step = self._step(symbol, bound)  # an undefined step quantity beside a readout: the target
            return ZERO if not 1 <= step <= run.steps else run.targets[step - 1]
        raise Unsupported(f"{_show(symbol)} is not defined in the note")

    # ------------------------------------------------------------ gradients
    def _gradient(self, name: str, step: int | None, loss_steps) -> object:
        run = self.run
        role = self._role(name)
        grads, totals = run.loss_backward(loss_steps)
        if step is None:
            if name not in totals:
                raise Unsupported(f"∂J/∂{name}: {name} is not a parameter")
            return totals[name]
        if step > run.steps or step < 0 or (step == 0 and (role, 0) not in grads):
            return ZERO
        if (role, step) not in grads:
            raise Unsupported(f"the checker has no gradient for {name} at step {step}")
        return grads[(role, step)]

    def _wrt(self, wrt, bound) -> tuple[str, int | None]:
        if not isinstance(wrt, Symbol):
            raise Unsupported("a derivative with respect to an expression")
        name = self._name(wrt)
        if name in self.run.params:
            return name, None
        if name not in self.note.values and self._role(name) != "y_hat":
            raise Unsupported(f"∂/∂{_show(wrt)}: {_show(wrt)} is not a quantity of the cell")
        return name, self._step(wrt, bound)

    def derivative(self, node: Derivative, bound: dict) -> object:
        of, wrt = node.of, node.wrt
        if reading.is_loss_symbol(of):
            symbol = of.func if isinstance(of, Apply) else of
            step = time_step(symbol, bound) if isinstance(symbol, Symbol) else None
            loss_steps = None if step is None else frozenset({step})
            if step is not None and step > self.run.steps:
                return ZERO
            name, at = self._wrt(wrt, bound)
            return self._gradient(name, at, loss_steps)
        if not isinstance(of, Symbol):
            raise Unsupported("a derivative of an expression")
        return self.jacobian(of, wrt, bound)

    def jacobian(self, of: Symbol, wrt, bound: dict) -> Jacobian:
        """∂of_k/∂wrt, one step (immediate reading) or through every earlier step (total)."""
        run = self.run
        name, k = self._name(of), self._step(of, bound)
        if name not in self.note.values:
            raise Unsupported(f"∂{_show(of)}/∂…: {_show(of)} is not a quantity of the cell")
        wrt_name, j = self._wrt(wrt, bound)
        # Inside a chain of factors ∂h_k/∂W is one step's Jacobian (the reading rule); alone it is the total.
        immediate = self.mode == "immediate" and self.chain > 0
        first = k if immediate else 1
        value = run.values[(self._role(name), k)]
        rows = []
        for index in range(value.size):
            seed = run.arith.zeros(value.shape)
            seed.flat[index] = 1
            grads, totals = run.backward(
                loss_steps=frozenset(), seed=((self._role(name), k), seed), last=k, first=first
            )
            if j is None:
                row = totals[wrt_name]
            elif j > k:
                row = run.arith.zeros(run.values[(self._role(wrt_name), j)].shape)
            elif (self._role(wrt_name), j) in grads:
                row = grads[(self._role(wrt_name), j)]
            else:
                raise Unsupported(f"∂{_show(of)}/∂{_show(wrt)} crosses more than one step; read it as a total")
            rows.append(np.asarray(row).reshape(-1))
        shape = run.params[wrt_name].shape if j is None else run.values[(self._role(wrt_name), max(j, 0))].shape
        return Jacobian(np.array(rows, dtype=object if run.arith.precise else float), shape)

    # ------------------------------------------------------------ expressions
    def integer(self, node, bound) -> int:
        match node:
            case Number():
                return int(node.value)
            case Symbol() if node.name == "T" and node.time is None:
                return bound["T"]
            case Symbol() if node.name in bound and node.time is None:
                return bound[node.name]
            case Add():
                return self.integer(node.left, bound) + self.integer(node.right, bound)
            case Sub():
                return self.integer(node.left, bound) - self.integer(node.right, bound)
        raise Unsupported("a sum whose limits are not steps")

    def value(self, node, bound: dict) -> object:
        match node:
            case Number():
                return self.arith.number(node.value) if self.arith else float(node.value)
            case Symbol():
                return self.symbol(node, bound)
            case Neg():
                return _scale(-1, self.value(node.operand, bound))
            case Add():
                return _add(self.value(node.left, bound), self.value(node.right, bound), +1)
            case Sub():
                return _add(self.value(node.left, bound), self.value(node.right, bound), -1)
            case Product():
                return self._product(node, bound)
            case Frac():
                num, den = self.value(node.num, bound), self.value(node.den, bound)
                return ZERO if num is ZERO else num / den
            case Power():
                base = self.value(node.base, bound)
                return ZERO if base is ZERO else base ** self.value(node.exponent, bound)
            case Transpose():
                a = self.value(node.operand, bound)
                if isinstance(a, Jacobian):
                    return Jacobian(a.matrix.T, (a.matrix.shape[0], 1))
                return a if a is ZERO or np.ndim(a) == 0 else a.T
            case Apply() if len(node.args) == 1 and (isinstance(node.func, Func) or node.func.name in FUNCTION_WORDS):
                arg = self.value(node.args[0], bound)
                if arg is ZERO:
                    return ZERO
                name = FUNCTION_NAMES.get(node.func.name, node.func.name)
                name = self.note.functions.get(name, name)
                if name == "softmax":
                    return self.arith.softmax(arg)
                return self.arith.apply(name + "'" * getattr(node.func, "primes", 0), arg)
            case Apply() if reading.is_loss_symbol(node):
                raise Unsupported("a loss term as a value")
            case Differential():
                if not isinstance(node.operand, Symbol):
                    raise Unsupported("δ of an expression")
                name = self._name(node.operand)
                step = time_step(node.operand, bound)
                if step is None and name not in self.run.params:
                    step = self._step(node.operand, bound)
                return self._gradient(name, step, None)
            case Derivative():
                return self.derivative(node, bound)
            case Sum():
                return self._sum(node, bound)
            case Concat():
                items = [self.value(i, bound) for i in node.items]
                if any(i is ZERO or isinstance(i, Jacobian) for i in items):
                    raise Unsupported("a stack with a vanishing or Jacobian block")
                vertical = node.sep == ";" or (node.sep == "," and all(np.shape(i)[1] == 1 for i in items))
                return _stack(items, vertical)
            case Matrix():
                rows = [_stack([self.value(c, bound) for c in row], False) for row in node.rows]
                return _stack(rows, True)
        raise Unsupported(f"cannot evaluate {type(node).__name__}")

    def _sum(self, node: Sum, bound: dict) -> object:
        index = node.index.name if node.index is not None else "t"
        lower = self.integer(node.lower, bound) if node.lower is not None else 1
        upper = self.integer(node.upper, bound) if node.upper is not None else bound["T"]
        total: object = ZERO
        for step in range(lower, upper + 1):
            total = _add(total, self.value(node.body, {**bound, index: step}), +1)
        return total

    def _product(self, node: Product, bound: dict) -> object:
        self.chain += 1
        try:
            a, b = self.value(node.left, bound), self.value(node.right, bound)
        finally:
            self.chain -= 1
        if a is ZERO or b is ZERO:
            return ZERO
        jacobian = isinstance(a, Jacobian) or isinstance(b, Jacobian)
        if not jacobian and (np.ndim(a) == 0 or np.ndim(b) == 0 or _is_scalar(a) or _is_scalar(b)):
            return a * b
        if node.op in ("*", "odot", "circ", "ast"):
            if np.shape(a) != np.shape(b):
                raise ShapeClash(f"an element-wise product of {_fmt(a)} and {_fmt(b)}")
            return a * b
        if jacobian:
            left = a.matrix if isinstance(a, Jacobian) else np.asarray(a).reshape(1, -1)
            right = b.matrix if isinstance(b, Jacobian) else np.asarray(b).reshape(-1, 1)
            if left.shape[1] != right.shape[0]:
                raise ShapeClash(f"a chain of Jacobians of {left.shape} and {right.shape}")
            wrt = b.wrt_shape if isinstance(b, Jacobian) else (right.shape[1], 1)
            return Jacobian(left @ right, wrt)
        if np.shape(a)[1] == np.shape(b)[0]:
            return a @ b
        if np.shape(a) == np.shape(b) and np.shape(a)[1] == 1:
            return a * b  # y log ŷ of two vectors: element-wise, as notes write it for one output
        raise ShapeClash(f"a matrix product of {_fmt(a)} and {_fmt(b)}")


def _is_scalar(a) -> bool:
    return isinstance(a, np.ndarray) and a.shape == (1, 1)


def _fmt(a) -> str:
    shape = np.shape(a.matrix if isinstance(a, Jacobian) else a)
    return " × ".join(str(n) for n in shape) if shape else "a number"


def _scale(c, a):
    if a is ZERO:
        return ZERO
    if isinstance(a, Jacobian):
        return Jacobian(c * a.matrix, a.wrt_shape)
    return c * a


def _add(a, b, sign: int):
    if b is ZERO:
        return a
    if a is ZERO:
        return _scale(sign, b)
    if isinstance(a, Jacobian) and isinstance(b, Jacobian):
        if a.matrix.shape != b.matrix.shape:
            raise ShapeClash(f"a sum of Jacobians of shapes {a.matrix.shape} and {b.matrix.shape}")
        return Jacobian(a.matrix + sign * b.matrix, a.wrt_shape)
    if isinstance(a, Jacobian) or isinstance(b, Jacobian):
        a, b = as_array(a, b), as_array(b, a)
    if np.ndim(a) and np.ndim(b) and np.shape(a) != np.shape(b) and not (_is_scalar(a) or _is_scalar(b)):
        raise ShapeClash(f"a sum of {_fmt(a)} and {_fmt(b)}")
    return a + b if sign > 0 else a - b


def as_array(value, like):
    """A one-row Jacobian of a scalar (∂E/∂W as a chain) in the shape of the gradient it equals."""
    if isinstance(value, Jacobian):
        if value.matrix.shape[0] != 1:
            raise ShapeClash(f"a Jacobian of {value.matrix.shape} where a gradient is expected")
        shape = np.shape(like) if like is not None and not isinstance(like, Jacobian | _Zero) else value.wrt_shape
        if np.prod(shape) != value.matrix.size:
            raise ShapeClash(f"a gradient of {value.matrix.size} entries against {_fmt(like)}")
        return value.matrix.reshape(shape)
    return value


def _stack(items, vertical: bool):
    items = [np.asarray(i).reshape(1, 1) if np.ndim(i) == 0 else i for i in items]
    try:
        return np.concatenate(items, axis=0 if vertical else 1)
    except ValueError:
        raise ShapeClash("blocks that do not fit together") from None


def _show(symbol: Symbol) -> str:
    from .show import show

    return show(symbol)
