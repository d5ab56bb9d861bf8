"""A claim's two sides as numbers: the note's tree evaluated on an unrolled program and its truth.

Forward symbols are the program's values at the step written; ∂J/∂v, δv, dv and
∇_v J are the program's reverse-mode gradients; a name the note gave a
gradient (δ_u^{(t)} = ∂J/∂z_u^{(t)}) is that gradient at the step used; ∂a/∂b of
two values is a Jacobian — one step's (the earlier state held fixed) or the
total one, as the claim is read.  A term at a step the program does not have
raises :class:`Missing`: a sum leaves it out when it is a gradient past the last
step (zero by the reading rules), a claim at that step is not evaluated.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, replace

import numpy as np

from . import reading
from .claim_values import (
    Jacobian,
    ShapeClash,
    SidesClash,
    as_matrix,
    chain,
    compare_values,
    elementwise,
    fmt,
    matmul,
    plus,
    scale,
)
from .entries import index_letters
from .formulas import FormulaError
from .formulas import derivative as formula_derivative
from .formulas import evaluate as evaluate_formula
from .model import STEP_COUNTS, NoteModel, is_number_power, is_scalar_expr
from .numbers import Unsupported
from .program import Program, ProgramError, function_name
from .reading import key
from .sizes import ELEMENTWISE
from .tree import (
    Add,
    Apply,
    Concat,
    Derivative,
    Differential,
    Dots,
    Entry,
    Frac,
    Func,
    Matrix,
    Neg,
    Norm,
    Number,
    Power,
    Prod,
    Product,
    Sub,
    Sum,
    Symbol,
    TimeIndex,
    Transpose,
)

ZERO = "zero"  # a term past the last step: zero by the reading rules
EMPTY = "empty product"  # ∏ over no factor, beside another factor: leaves it as it is


class Missing(Exception):
    """A value at a step the program does not have (h_{T+1}); ``gradient`` if it is a gradient."""

    def __init__(self, what: str, gradient: bool):
        super().__init__(what)
        self.gradient = gradient


@dataclass(frozen=True)
class Reading:
    """How a claim's Jacobian factors are read: one step or total; numerator or denominator layout."""

    immediate: bool = True
    layout: str = "numerator"


class ClaimEvaluator:
    """Evaluate note trees on one program, in float64 or at 40 digits."""

    def __init__(self, program: Program, precise: bool, reading_: Reading, aux: dict | None = None):
        self.program, self.precise, self.reading = program, precise, reading_
        self.model: NoteModel = program.model
        self.arith = program.arithmetic(precise)
        self.values = program.values(precise)
        self.aux = aux or {}
        self._grads: dict = {}
        self._jacobians: dict = {}
        self.missing_terms: list[str] = []

    # ------------------------------------------------------------ leaves
    def forward(self, symbol: Symbol, env: dict) -> np.ndarray:
        k = key(symbol)
        if self.model.is_number(k):
            return self.arith.array(np.array([[float(self.program.integer(symbol, env))]]))
        step = self.program.step_of_symbol(symbol, env)
        node = self._existing(k, step)
        if node is None:
            raise Missing(f"{symbol.name} at step {step}", gradient=False)
        return self.values[node]

    def _existing(self, k: tuple, step):
        """The var of k at step, if the program has it (never builds a new forward value)."""
        node = self.program.nodes.get((k, step))
        if node is not None:
            return node
        if k in self.program.shapes.of and step is None:
            d = self.model.definitions.get(k)
            if d is None or not d.timed:
                return self.program.node(k, None)  # a parameter, or a name for a block of them
        return None

    def objective_gradient(self, of: Symbol | None, env: dict, only_step=None) -> dict:
        """Cotangents of everything from the objective (of None) or from one step's loss."""
        if of is None or of.time is None:
            root = self.program.objective
            if of is not None and key(of) in self.model.definitions and of.time is None:
                root = self.program.node(key(of), None)
            elif of is not None and key(of) != self.model.objective and (of.sub or of.sup):
                # E_t (a subscript, not read as a step): one step's loss is not the whole objective.
                raise Unsupported(f"∂{_name(of)}: a loss other than the objective {self.model.objective[0]}")
        else:
            step = self.program.step_of_symbol(of, env)
            root = self._existing(key(of), step)
            if root is None:
                root = self.program.step_losses.get((key(of), step))
            if root is None:
                if step is not None and step > self.program.steps:
                    raise Missing(f"{of.name} at step {step}", gradient=True)
                raise Missing(f"{of.name} at step {step}", gradient=False)
        if root is None:
            raise Unsupported("the note names no loss to take gradients of")
        cache = (root, only_step)
        if cache not in self._grads:
            self._grads[cache] = self.program.gradient(root, self.precise, only_step)
        return self._grads[cache]

    def gradient(self, of: Symbol | None, wrt, env: dict, only_step=None) -> np.ndarray:
        """∂(loss)/∂wrt at the step written (zero past the last step; Missing where it does not exist)."""
        if isinstance(wrt, Entry) and isinstance(wrt.operand, Symbol) and self._units(wrt):
            return self.entry(self.gradient(of, wrt.operand, env), wrt, env)  # ∂E/∂v_{kj}: entry (k, j)
        if not isinstance(wrt, Symbol):
            raise Unsupported(f"a gradient with respect to a {type(wrt).__name__}")
        k = key(wrt)
        step = self.program.step_of_symbol(wrt, env)
        node = self._existing(k, step)
        if node is None:
            if k not in self.program.shapes.of:
                raise Unsupported(f"a gradient with respect to {wrt.name}, which the note does not use")
            if not any(n[0] == k for n in self.program.nodes):
                # ∂L/∂u of a u no forward equation computes: it is not zero past the last step
                # either, or a claim would hold at t = T on that zero alone.
                raise Unsupported(f"a gradient with respect to {wrt.name}, which no forward equation computes")
            if step is not None and (step > self.program.steps or step < 0):
                raise Missing(f"∂/∂{wrt.name} at step {step}", gradient=True)
            raise Missing(f"∂/∂{wrt.name} at step {step}", gradient=False)
        cot = self.objective_gradient(of, env, only_step)
        got = cot.get(node)
        if got is None:
            return self.arith.zeros(tuple(int(n) for n in node.shape))
        return got

    def jacobian(self, node: Derivative, env: dict) -> Jacobian:
        of, wrt = node.of, node.wrt
        entries = [n for n in (of, wrt) if isinstance(n, Entry) and isinstance(n.operand, Symbol) and self._units(n)]
        if entries:
            # ∂s_{c_j}(t)/∂w_{c_j m}: one entry of the Jacobian of the two values, a number
            a, b = _operand(of), _operand(wrt)
            if not isinstance(a, Symbol) or not isinstance(b, Symbol):
                raise Unsupported("a Jacobian of something other than two symbols")
            a_step = self.program.step_of_symbol(a, env)
            a_node = self._existing(key(a), a_step)
            b_node = self._existing(key(b), self.program.step_of_symbol(b, env))
            if a_node is None or b_node is None:
                raise Missing(f"∂{a.name}/∂{b.name}", gradient=False)
            only = a_step if self.reading.immediate else None
            row, col = self._flat_index(of, env), self._flat_index(wrt, env)
            flat = self.program.jacobian_row(a_node, row, b_node, self.precise, only)
            return np.asarray(flat[col : col + 1]).reshape(1, 1)
        if not isinstance(of, Symbol) or not isinstance(wrt, Symbol):
            raise Unsupported("a Jacobian of something other than two symbols")
        a_step = self.program.step_of_symbol(of, env)
        b_step = self.program.step_of_symbol(wrt, env)
        a = self._existing(key(of), a_step)
        b = self._existing(key(wrt), b_step)
        if a is None or b is None:
            # A Jacobian of a value past the last step is not zero by any reading rule (only the
            # loss's gradient of one is): that step is not evaluated.
            raise Missing(f"∂{of.name}/∂{wrt.name}", gradient=False)
        only = a_step if self.reading.immediate or node.kind == "partial+" else None  # ∂⁺x_k/∂θ: one step
        if (a, b, only) not in self._jacobians:
            self._jacobians[(a, b, only)] = self.program.jacobian(a, b, self.precise, only)
        matrix = self._jacobians[(a, b, only)]
        j = Jacobian(matrix, _shape(a), _shape(b))
        return j.T if self.reading.layout == "denominator" else j

    def _units(self, node: Entry) -> tuple[str, ...]:
        letters = index_letters(node)
        return letters if letters and set(letters) <= self.model.units else ()

    def entry(self, value, node: Entry, env: dict):
        """The entry of ``value`` at the units ``env`` binds to ``node``'s letters (a 1×1 array)."""
        if isinstance(value, Jacobian):
            raise Unsupported("an entry of a Jacobian")
        rows, cols = value.shape
        units = [self.program.integer(Symbol(letter), env) for letter in self._units(node)]
        if len(units) == 1:
            units = [units[0], 1] if cols == 1 else [1, units[0]] if rows == 1 else None
        if units is None or len(units) != 2:
            raise Unsupported(f"{len(node.indices)} indices into a {rows}×{cols} value")
        r, c = units
        if not (1 <= r <= rows and 1 <= c <= cols):
            raise Unsupported(f"an index past the {rows}×{cols} value it reads")
        return value[r - 1 : r, c - 1 : c]

    def _flat_index(self, node, env: dict) -> int:
        """Row-major position of an entry in its value (0 for a whole 1×1 value or a non-entry)."""
        if not isinstance(node, Entry):
            symbol_shape = self.program.shapes.of.get(key(node)) if isinstance(node, Symbol) else None
            if symbol_shape not in (None, (1, 1)):
                raise Unsupported("a Jacobian of an entry and a whole vector")
            return 0
        rows, cols = self.program.shapes.of[key(node.operand)]
        units = [self.program.integer(Symbol(letter), env) for letter in self._units(node)]
        if len(units) == 1:
            units = [units[0], 1] if cols == 1 else [1, units[0]]
        r, c = units
        if not (1 <= r <= rows and 1 <= c <= cols):
            raise Unsupported(f"an index past the {rows}×{cols} value it reads")
        return (r - 1) * cols + (c - 1)

    def unit_shape(self, node, env: dict) -> tuple[int, int]:
        """The shape of what an entry reads (a symbol's, or an expression's evaluated at unit 1)."""
        if isinstance(node, Symbol) and key(node) in self.program.shapes.of:
            return self.program.shapes.of[key(node)]
        if isinstance(node, Derivative):
            return self.unit_shape(node.wrt.operand if isinstance(node.wrt, Entry) else node.wrt, env)
        value = self.value(node, env)
        return tuple(np.shape(getattr(value, "matrix", value)))

    # ------------------------------------------------------------ the tree
    def value(self, node, env: dict):
        if isinstance(node, Number):
            return self.arith.array(np.array([[float(node.value)]]))
        if isinstance(node, Symbol):
            return self._symbol(node, env)
        if isinstance(node, Neg):
            return scale(-1, self.value(node.operand, env))
        if isinstance(node, Add | Sub):
            return self._add(node, env)
        if isinstance(node, Product):
            return self._product(node, env)
        if isinstance(node, Frac):
            num, den = self.value(node.num, env), self.value(node.den, env)
            if isinstance(num, Jacobian) or isinstance(den, Jacobian):
                raise Unsupported("a quotient of Jacobians")
            if den.shape == (1, 1):
                return num / den[0, 0]
            return elementwise(num, den, lambda a, b: a / b)
        if isinstance(node, Power):
            return self._power(node, env)
        if isinstance(node, Transpose):
            if is_number_power(node):
                return self._power(Power(node.operand, Symbol("T")), env)  # γ^{T}: the power T of a number
            v = self.value(node.operand, env)
            return v.T
        if isinstance(node, Apply):
            return self._apply(node, env)
        if isinstance(node, Sum):
            return self._sum(node, env)
        if isinstance(node, Prod):
            return self._prod(node, env)
        if isinstance(node, Norm):
            return self._norm(node, env)
        if isinstance(node, Derivative):
            return self._derivative(node, env)
        if isinstance(node, Differential):
            if node.kind in ("delta", "d") and isinstance(node.operand, Symbol):
                aux = self.aux.get(_aux_key(node))
                if aux is not None:
                    return self._aux(aux, node.operand, env)
                return self.gradient(None, node.operand, env)
            raise Unsupported(f"a lone {node.kind} ({node.kind} of something other than a symbol)")
        if isinstance(node, Concat | Matrix):
            return self._stack(node, env)
        if isinstance(node, Entry) and self._units(node):
            return self.entry(self.value(node.operand, env), node, env)
        raise Unsupported(f"the construct {type(node).__name__}")

    def _symbol(self, symbol: Symbol, env: dict):
        exponent = _number_power(symbol)
        if exponent is not None and self.model.is_number(key(exponent[0])):
            # γ^{t-k}, ρ^{T-k}: a number name raised to a power of steps (read as a label above it)
            base = self.value(exponent[0], env)
            n = sum(
                sign * (v if isinstance(v, int) else self.program.integer(Symbol(v), env)) for sign, v in exponent[1]
            )
            if abs(n) > 60:
                raise Unsupported(f"a power {n} (at most 60)")
            return base**n
        if exponent is not None and self._matrix_power(symbol, exponent, env):
            # W_{rec}^{t-k}: the power t-k of a parameter the note uses (no W^{t-k} of its own)
            n = sum(
                sign * (v if isinstance(v, int) else self.program.integer(Symbol(v), env)) for sign, v in exponent[1]
            )
            return self._power(Power(exponent[0], Number(str(n))), env)
        target = _one_hot_of(symbol)
        if target is not None and key(target) in self.model.targets():
            return self.forward(target, env)  # 1_{y_t}: the one-hot vector of the target class y_t
        k = key(symbol)
        aux = self.aux.get(("sym", k))
        if aux is not None:
            return self._aux(aux, symbol, env)
        if k in self.model.gradient_names and k not in self.model.definitions:
            derivative = self.model.gradient_names[k]
            return self.value(derivative, _rebind(derivative, self._at_fixed_step(symbol, env), env))
        if reading.is_loss_symbol(symbol) and k not in self.program.shapes.of:
            raise Unsupported(f"the loss {symbol.name} is not part of the program")
        if k not in self.program.shapes.of:
            raise Unsupported(f"{_name(symbol)} is not defined by the note")
        return self.forward(symbol, env)

    def _at_fixed_step(self, symbol: Symbol, env: dict) -> Symbol:
        """δ^{(T)}, o_{T+t-i}: the use at the step it names (a number), when no binding holds its letter."""
        time = symbol.time
        if time is None or time.var is None or (time.var in env and not time.terms):
            return symbol
        step = self.program.step_of_symbol(symbol, env)
        return replace(symbol, time=replace(time, var=None, offset=step, terms=()))

    def _matrix_power(self, symbol: Symbol, exponent, env: dict) -> bool:
        """Is ``W^{t-k}`` the power of a parameter: steps above it, and no value of that name of its own?"""
        base, terms = exponent
        if key(base) not in self.program.shapes.of or key(base) in self.model.definitions:
            return False
        letters = [v for _, v in terms if not isinstance(v, int)]
        if not letters or any(v not in env and v not in STEP_COUNTS for v in letters):
            return False
        k = key(symbol)
        used = any(k in {key(s) for s in reading.symbols(d.rhs)} for d in self.model.definitions.values())
        return k not in self.model.definitions and not used

    def _aux(self, aux, symbol: Symbol, env: dict):
        """A name the note defined on the way (dh_next = …): its right side at the step used."""
        if len(aux) == 3:
            return self._gradient_block(aux, symbol, env)
        lhs, rhs = aux
        return self.value(rhs, _rebind_sides(lhs, symbol, env))

    def _gradient_block(self, aux, symbol: Symbol, env: dict):
        """da^i_t of da_t = [da^i_t, …]: the block of da_t where a_t = [a_i, …] has a_i."""
        part, whole, (j, bracket) = aux
        value = self.term(whole, _rebind_sides(part, symbol, env))
        if isinstance(value, str):
            raise Missing(f"∂/∂{_name(whole.operand)} past the last step", gradient=True)
        splits = [
            d for d in self.model.definitions.values() if d.block is not None and key(d.rhs) == key(whole.operand)
        ]
        splits.sort(key=lambda d: d.block[0])
        axis = 0 if reading.split_vertical(bracket, self.program.shapes.convention) else 1
        sizes = [self.program.shape(d.key)[axis] for d in splits]
        start, stop = sum(sizes[:j]), sum(sizes[: j + 1])
        if value.shape[axis] != sum(sizes):
            raise ShapeClash(f"blocks of {sum(sizes)} where {_name(whole.operand)} has {value.shape[axis]}")
        return value[start:stop, :] if axis == 0 else value[:, start:stop]

    def _derivative(self, node: Derivative, env: dict):
        of = node.of.func if isinstance(node.of, Apply) and isinstance(node.of.func, Symbol) else node.of
        objective = isinstance(of, Symbol) and of.time is None and key(of) == self.model.objective
        if isinstance(of, Symbol) and (reading.is_loss_symbol(of) or self.model.is_generic_loss(key(of)) or objective):
            only = None
            if self.model.ordered and node.kind != "partial+":
                # Werbos: beside ∂⁺E (the total), ∂E/∂h(t) is the explicit partial: E through the
                # values of h(t)'s own step only, every other step's values held fixed.
                if not isinstance(node.wrt, Symbol) or node.wrt.time is None:
                    raise Unsupported("an explicit partial ∂E/∂v beside ∂⁺E, v a value of no one step")
                only = self.program.step_of_symbol(node.wrt, env)
            if of.time is None and key(of) != self.model.objective and key(of) not in self.model.definitions:
                if self.model.objective is not None:
                    raise Unsupported(f"∂{of.name}: a second loss beside {self.model.objective[0]}")
            return self.gradient(of, node.wrt, env, only)
        if node.style == "nabla" and isinstance(of, Symbol) and key(of) in self.model.scalars:
            return self.gradient(of, node.wrt, env)  # ∇_W C_t of a number C_t: in the shape of W
        if isinstance(of, Symbol) and isinstance(node.of, Apply) and of.time is None:
            step_loss = self._step_loss(key(of), node.of.args, env)
            if step_loss is not None:  # ∂l(o_t, y_t)/∂o_t of L = 1/T Σ_t l(o_t, y_t): that term's own gradient
                return self._gradient_from(step_loss, node.wrt, env)
        if not isinstance(node.of, Symbol) and isinstance(node.wrt, Symbol):
            return self._partial_of_expression(node, env)
        return self.jacobian(node, env)

    def _step_loss(self, k: tuple, args, env: dict):
        """The var of one step's generic loss l(o_t, y_t) the program built, if its arguments name that step."""
        steps = {self.program.step_of_symbol(a, env) for a in args if isinstance(a, Symbol) and a.time is not None}
        if len(steps) != 1 or not any(sk == k for sk, _ in self.program.step_losses):
            return None
        (step,) = steps
        root = self.program.step_losses.get((k, step))
        if root is None:
            raise Missing(f"{k[0]} at step {step}", gradient=step is not None and step > self.program.steps)
        return root

    def _gradient_from(self, root, wrt, env: dict):
        if not isinstance(wrt, Symbol):
            raise Unsupported(f"a gradient with respect to a {type(wrt).__name__}")
        node = self._existing(key(wrt), self.program.step_of_symbol(wrt, env))
        if node is None:
            raise Missing(f"∂/∂{wrt.name}", gradient=False)
        cache = (root, None)
        if cache not in self._grads:
            self._grads[cache] = self.program.gradient(root, self.precise)
        got = self._grads[cache].get(node)
        return got if got is not None else self.arith.zeros(_shape(node))

    def _partial_of_expression(self, node: Derivative, env: dict) -> Jacobian:
        """∂/∂o (φ(s) ⊙ o): the Jacobian of the expression as written, every other value held fixed."""
        from symrnn import ir, rules

        from .numbers import evaluate

        wrt = node.wrt
        b = self._existing(key(wrt), self.program.step_of_symbol(wrt, env))
        if b is None:
            raise Missing(f"∂/∂{wrt.name}", gradient=False)
        if any(isinstance(n, Apply) and isinstance(n.func, Symbol) for n in reading.walk(node.of)):
            raise Unsupported(f"∂/∂{wrt.name} of an expression with a function the note leaves generic")
        built = len(self.program.assignments)
        try:
            expr = self.program.expr(node.of, env)
        except (ProgramError, KeyError) as error:
            raise Unsupported(f"∂/∂{wrt.name} of an expression the program cannot build ({error})") from None
        if len(self.program.assignments) != built:
            # the expression made values of its own (a loss term, a function of it): not the note's values
            raise Unsupported(f"∂/∂{wrt.name} of an expression that is not made of the note's values")
        values = self.program.values(self.precise)
        g = ir.var("g_partial", expr.shape, ir.PARAM)
        share = rules.vjp(expr, g).get(b)
        rows, cols = _shape(expr)
        size = _shape(b)[0] * _shape(b)[1]
        out = []
        for i in range(rows * cols):
            seed = np.zeros(rows * cols)
            seed[i] = 1.0
            cot = self.arith.array(seed.reshape(rows, cols))
            if share is None:
                out.append(self.arith.zeros((size,)))
                continue
            leaf = lambda n, cot=cot: cot if n == g else values[n]  # noqa: E731
            out.append(np.asarray(evaluate(share, leaf, self.arith, {})).reshape(-1))
        j = Jacobian(np.array(out, dtype=object if self.precise else float), (rows, cols), _shape(b))
        return j.T if self.reading.layout == "denominator" else j

    def term(self, node, env: dict):
        """A value, or ZERO for a term that names a gradient past the last step."""
        try:
            return self.value(node, env)
        except Missing as missing:
            if missing.gradient:
                return ZERO
            raise

    def _factor(self, node, env: dict):
        """A factor's value, ZERO, or the Missing it raised (a zero factor beside it wins)."""
        try:
            if isinstance(node, Prod):
                return self._prod(node, env, empty=EMPTY)  # an empty product beside a factor is 1
            return self.term(node, env)
        except Missing as missing:
            return missing

    def _add(self, node, env: dict):
        a, b = self.term(node.left, env), self.term(node.right, env)
        sign = 1 if isinstance(node, Add) else -1
        if b is ZERO:
            if a is ZERO:
                raise Missing("a sum of terms past the last step", gradient=True)
            return a
        if a is ZERO:
            return scale(sign, b)
        if isinstance(a, Jacobian) or isinstance(b, Jacobian):
            a, b = as_matrix(a), as_matrix(b)
        if a.shape != b.shape:
            if a.shape == (1, 1) or b.shape == (1, 1):
                return a + sign * b
            if a.shape == b.T.shape and 1 in a.shape:
                b = b.T
            else:
                raise ShapeClash(f"a sum of a {fmt(a)} and a {fmt(b)} value")
        return a + sign * b

    def _product(self, node: Product, env: dict):
        if node.op == "juxt" and isinstance(node.left, Product) and isinstance(node.left.right, Dots):
            return self._dots(node.left.left, node.right, env)
        a, b = self._factor(node.left, env), self._factor(node.right, env)
        for factor in (a, b):
            if isinstance(factor, Missing) and not factor.gradient:
                # (1 - h_{t+1}^2) ⊙ ∂L/∂h_{t+1} at t = T: h_{T+1} does not exist, so the claim is
                # not about this step (a recursion "for t < T"), whatever the gradient beside it.
                raise factor
        if a is ZERO or b is ZERO:
            raise Missing("a product with a gradient past the last step", gradient=True)
        for factor in (a, b):
            if isinstance(factor, Missing):
                raise factor
        out = self._times(a, b, node.op, node.left)
        if out is EMPTY:
            raise Missing("a product of empty products", gradient=False)
        return out

    def _times(self, a, b, op: str, left):
        """``a`` times ``b`` as the note writes it (``op``; ``left`` is a's tree, for ``\\cdot``)."""
        if a is EMPTY or b is EMPTY:
            return b if a is EMPTY else a
        if isinstance(a, Jacobian) or isinstance(b, Jacobian):
            return chain(a, b)
        scalar = a.shape == (1, 1) or b.shape == (1, 1)
        if scalar:
            return a * b if a.shape != (1, 1) or b.shape == (1, 1) else b * a[0, 0]
        if op in ELEMENTWISE:
            return elementwise(a, b, lambda x, y: x * y)
        if op == "cdot" and a.shape == b.shape and a.shape[1] == 1 and not is_scalar_expr(left, self.model):
            return elementwise(a, b, lambda x, y: x * y)
        return matmul(a, b)

    def _dots(self, before, last, env: dict):
        """``A_t ⋯ A_{τ+1}``: the factors from the one before the dots down to ``last``, one step apart."""
        prefix = None
        first = before
        if isinstance(before, Product) and before.op == "juxt":
            prefix, first = before.left, before.right
        var, count = _run_length(first, last, env, self.program)
        out = None
        for i in range(count):
            factor = self.value(_shift(first, var, -i), env)
            out = factor if out is None else self._times(out, factor, "juxt", first)
        if prefix is not None:
            out = self._times(self.value(prefix, env), out, "juxt", prefix)
        return out

    def _prod(self, node: Prod, env: dict, empty=None):
        """∏_{i=lower}^{upper} A_i = A_upper ⋯ A_lower, the latest step on the left.

        An empty product is ``empty`` (EMPTY, the neutral factor, beside another factor); alone it is
        the identity of a shape the note does not write, so that step is not evaluated.
        """
        if node.over is not None:
            raise Unsupported("a product over a set")
        index = node.index.name if node.index is not None else self.model.step_vars[0]
        lower = self.program.integer(node.lower, env) if node.lower is not None else 1
        upper = self.program.integer(node.upper, env, limit=True) if node.upper is not None else self.program.steps
        if upper == lower - 1 and empty is not None:
            return empty  # ∏_{k=T+1}^{T}: no factor (a range further past its end is not evaluated)
        if upper < lower:
            raise Missing(f"an empty product over {index} from {lower} to {upper}", gradient=False)
        if upper - lower > 60:
            raise Unsupported(f"a product of {upper - lower + 1} factors")
        out = None
        for i in range(upper, lower - 1, -1):
            factor = self.value(node.body, {**env, index: i})
            out = factor if out is None else self._times(out, factor, "juxt", node.body)
        return out

    def _norm(self, node: Norm, env: dict):
        """‖x‖ (Euclidean for a vector, spectral for a matrix or a Jacobian), ‖W‖_F, |w|: a 1×1 value."""
        m = np.asarray(as_matrix(self.value(node.operand, env)))
        if node.kind == "abs" and m.shape != (1, 1):
            raise Unsupported("|·| of something that is not a number")
        if node.kind not in (None, "2", "F", "abs"):
            raise Unsupported(f"the norm ‖·‖_{node.kind}")
        frobenius = node.kind == "F" or 1 in m.shape
        return self.arith.array(np.array([[norm_of(m, frobenius, self.precise)]], dtype=object))

    def _power(self, node: Power, env: dict):
        base = self.value(node.base, env)
        try:
            n = self.program.integer(node.exponent, env)
        except ProgramError:
            raise Unsupported("a power that is not a whole number") from None
        if isinstance(base, Jacobian):
            base = base.matrix
            square = True
        else:
            square = base.shape[0] == base.shape[1] and base.shape != (1, 1) and not _is_timed(node.base)
        if abs(n) > 60:
            raise Unsupported(f"a power {n} (at most 60)")
        if square:
            if n < 0:
                # W^{t-k} at t < k: outside the steps the claim is about (it means t ≥ k).
                raise Missing(f"a matrix power {n}", gradient=False)
            out = (
                np.eye(base.shape[0], dtype=base.dtype) if not self.precise else self.arith.array(np.eye(base.shape[0]))
            )
            for _ in range(n):
                out = out @ base
            return out
        out = base * 0 + 1
        for _ in range(abs(n)):
            out = out * base
        return 1 / out if n < 0 else out

    def _apply(self, node: Apply, env: dict):
        if isinstance(node.func, Symbol) and _word_function(node.func):
            node = Apply(Func(node.func.name, node.func.primes), node.args)
        if isinstance(node.func, Symbol):
            raise Unsupported(f"the function {node.func.name} of several arguments in a claim")
        name = function_name(node.func)
        args = [self.value(a, env) for a in node.args]
        if len(args) != 1 or isinstance(args[0], Jacobian):
            raise Unsupported(f"{node.func.name} of {len(args)} arguments")
        (x,) = args
        if name == "softmax":
            axis = 0 if x.shape[1] == 1 else 1
            e = self.arith.apply("exp", x)
            return e / e.sum(axis=axis, keepdims=True)
        base = name.rstrip("'")
        if base in self.model.formulas and base not in WORDS:
            # g(x) = 4σ(x) − 2 in the note: g, g', g'' from its formula
            expr = formula_derivative(self.model.formulas[base], len(name) - len(base))
            try:
                return evaluate_formula(expr, x, self.arith.apply, x * 0 + 1)
            except FormulaError as error:
                raise Unsupported(str(error)) from None
        if name == "diag":
            flat = np.asarray(x).reshape(-1)
            out = self.arith.zeros((flat.size, flat.size))
            for i, v in enumerate(flat):
                out[i, i] = v
            return out
        return self.arith.apply(name, x)

    def _sum(self, node: Sum, env: dict):
        index = node.index.name if node.index is not None else self.model.step_vars[0]
        lower = self.program.integer(node.lower, env) if node.lower is not None else 1
        if index in self.model.units:
            try:
                upper = self.program.unit_count(node.body, index, lambda n: self.unit_shape(n, {**env, index: 1}))
            except ProgramError as error:
                raise Unsupported(str(error)) from None
        else:
            upper = self.program.integer(node.upper, env, limit=True) if node.upper is not None else self.program.steps
        if upper - lower > 200:
            raise Unsupported(f"a sum of {upper - lower + 1} terms")
        total = None
        for i in range(lower, upper + 1):
            try:
                term = self.value(node.body, {**env, index: i})
            except Missing as missing:
                if not missing.gradient:
                    # A term naming a value the program has not (ŷ at step 0): left out, and
                    # remembered, so that only a difference can come of it.
                    self.missing_terms.append(str(missing))
                continue  # a gradient past the last step is zero
            term = as_matrix(term) if isinstance(term, Jacobian) else term
            total = term if total is None else plus(total, term)
        if total is None:
            return self.arith.zeros((1, 1))
        return total

    def _stack(self, node, env: dict):
        if isinstance(node, Matrix):
            rows = [[self.value(c, env) for c in row] for row in node.rows]
            return np.concatenate([np.concatenate(r, axis=1) for r in rows], axis=0)
        parts = [self.value(i, env) for i in node.items]
        parts = [as_matrix(p) if isinstance(p, Jacobian) else p for p in parts]
        vertical = node.sep == ";" or (node.sep == "," and all(p.shape[1] == 1 for p in parts))
        return np.concatenate(parts, axis=0 if vertical else 1)


# ---------------------------------------------------------------- helpers


_POWER_TERM = re.compile(r"([+-]?)\s*([A-Za-z]+|\d+)")


def number_power(symbol: Symbol):
    """(γ, [(sign, term)]) for ``γ^{t-k}`` read as γ with the label t-k above it, else None."""
    if not symbol.sup or symbol.time is not None or symbol.primes:
        return None
    text = symbol.sup.replace(" ", "").replace("\\", "")
    terms = _POWER_TERM.findall(text)
    if not terms or "".join(sign + term for sign, term in terms) != text:
        return None
    out = []
    for sign, term in terms:
        out.append((-1 if sign == "-" else 1, int(term) if term.isdigit() else term))
    return dataclasses.replace(symbol, sup=None), out


_number_power = number_power
_ONE_HOT = re.compile(r"^([A-Za-z]+)_\{?([A-Za-z])(?:([+-])(\d+))?\}?$")


def _one_hot_of(symbol: Symbol) -> Symbol | None:
    """y_t of ``\\mathbf{1}_{y_t}`` (the one-hot vector of a class), else None."""
    if symbol.name != "1" or not symbol.sub or symbol.sup or symbol.time is not None:
        return None
    m = _ONE_HOT.match(symbol.sub.replace(" ", ""))
    if m is None:
        return None
    offset = int(m.group(4) or 0) * (-1 if m.group(3) == "-" else 1)
    return Symbol(m.group(1), time=TimeIndex(m.group(2), offset))


def _word_function(symbol: Symbol) -> bool:
    """\\mathrm{step}(z), \\mathrm{relu}(z): a word the function table knows, read as a symbol."""
    return not symbol.sub and not symbol.sup and symbol.time is None and function_name(Func(symbol.name)) in WORDS


WORDS = frozenset({"step", "relu", "softmax", "sigmoid", "tanh", "exp", "log", "identity", "diag"})


def _aux_key(node) -> tuple:
    return ("diff", node.kind, key(node.operand))


def aux_key(lhs) -> tuple | None:
    """The key under which a name defined on the way is stored (δh_next, dh^{raw}, ε_s^t)."""
    if isinstance(lhs, Differential) and isinstance(lhs.operand, Symbol):
        return _aux_key(lhs)
    if isinstance(lhs, Symbol):
        return ("sym", key(lhs))
    return None


def _rebind(derivative, symbol: Symbol, env: dict) -> dict:
    """Bind the step variable of a gradient name's definition to the step at the use site."""
    defined = [s for s in reading.symbols(derivative) if s.time is not None and s.time.var]
    return _bind_from(defined, symbol, env)


def _rebind_sides(lhs, symbol: Symbol, env: dict) -> dict:
    target = lhs.operand if isinstance(lhs, Differential) else lhs
    return _bind_from([target] if isinstance(target, Symbol) and target.time is not None else [], symbol, env, target)


def _bind_from(defined, symbol: Symbol, env: dict, target=None) -> dict:
    out = dict(env)
    if symbol.time is None:
        return out
    if target is not None and target.time is not None and target.time.var and symbol.time.var is not None:
        if symbol.time.var in env:
            out[target.time.var] = env[symbol.time.var] + symbol.time.offset - target.time.offset
        return out
    if target is not None and target.time is not None and target.time.var and symbol.time.var is None:
        out[target.time.var] = symbol.time.offset - target.time.offset
        return out
    names = {s.time.var for s in defined}
    if len(names) == 1 and symbol.time.var is not None and symbol.time.var in env:
        (name,) = names
        out[name] = env[symbol.time.var] + symbol.time.offset
    elif len(names) == 1 and symbol.time.var is None:
        (name,) = names
        out[name] = symbol.time.offset
    return out


def _times_of(node) -> list:
    return [s.time for s in reading.symbols(node)]


def _run_length(first, last, env: dict, program) -> tuple[str, int]:
    """(step letter, number of factors) of ``first ⋯ last``, the same factor at steps one apart."""
    a, b = reading.symbols(first), reading.symbols(last)
    letters = {s.time.var for s in a if s.time is not None}
    if len(a) != len(b) or len(letters) != 1 or None in letters or any(s.time is None for s in a):
        raise Unsupported("a product with dots whose first and last factors are not one factor at two steps")
    (var,) = letters
    if any(s.time.terms for s in a + b) or _strip_times(first) != _strip_times(last):
        raise Unsupported("a product with dots whose first and last factors are not one factor at two steps")
    gaps = {program.step_of_symbol(x, env) - program.step_of_symbol(y, env) for x, y in zip(a, b, strict=True)}
    if len(gaps) != 1:
        raise Unsupported("a product with dots whose factors do not move one step at a time")
    (gap,) = gaps
    if gap < 0:
        raise Missing("a product with dots that runs backwards", gradient=False)
    if gap > 60:
        raise Unsupported(f"a product of {gap + 1} factors")
    return var, gap + 1


def _strip_times(node):
    if isinstance(node, Symbol):
        return dataclasses.replace(node, time=None)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {f.name: _strip_times(getattr(node, f.name)) for f in dataclasses.fields(node)}
        return dataclasses.replace(node, **changes)
    if isinstance(node, tuple):
        return tuple(_strip_times(n) for n in node)
    return node


def _shift(node, var: str, by: int):
    """``node`` with every step ``var + o`` moved to ``var + o + by``."""
    if isinstance(node, Symbol):
        if node.time is not None and node.time.var == var:
            return dataclasses.replace(node, time=dataclasses.replace(node.time, offset=node.time.offset + by))
        return node
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {f.name: _shift(getattr(node, f.name), var, by) for f in dataclasses.fields(node)}
        return dataclasses.replace(node, **changes)
    if isinstance(node, tuple):
        return tuple(_shift(n, var, by) for n in node)
    return node


def norm_of(m: np.ndarray, frobenius: bool, precise: bool):
    """The Frobenius (a vector's Euclidean) or spectral norm of m, in float64 or in m's mpmath context."""
    if not precise:
        m = np.asarray(m, dtype=float)
        return float(np.linalg.norm(m)) if frobenius else float(np.linalg.norm(m, 2))
    ctx = next((v.context for v in m.reshape(-1) if hasattr(v, "context")), None)
    if ctx is None:
        raise Unsupported("a norm of values that are not 40-digit numbers")
    if frobenius:
        return ctx.sqrt(ctx.fsum(v * v for v in m.reshape(-1)))
    gram = ctx.matrix(
        [[ctx.fsum(m[k, i] * m[k, j] for k in range(m.shape[0])) for j in range(m.shape[1])] for i in range(m.shape[1])]
    )
    eigen = ctx.eigsy(gram, eigvals_only=True)
    return ctx.sqrt(max(max(eigen), 0))


def _operand(node):
    return node.operand if isinstance(node, Entry) else node


def _shape(node) -> tuple[int, int]:
    return (int(node.shape[0]), int(node.shape[1]))


def _is_timed(node) -> bool:
    return isinstance(node, Symbol) and node.time is not None and node.time.var not in STEP_COUNTS


def _name(symbol: Symbol) -> str:
    return symbol.name + (f"_{symbol.sub}" if symbol.sub else "") + (f"^{symbol.sup}" if symbol.sup else "")


def is_loss_node(node) -> bool:
    return isinstance(node, Symbol) and reading.is_loss_symbol(node)


__all__ = [
    "ClaimEvaluator",
    "Jacobian",
    "Missing",
    "Reading",
    "ShapeClash",
    "SidesClash",
    "aux_key",
    "compare_values",
    "Func",
]
