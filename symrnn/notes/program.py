"""The note's model unrolled at concrete sizes and T: IR per step, forward values, reverse mode.

Every value of every step is one IR ``var`` (h at step 3 is its own leaf of
its own shape); each forward equation instance is an assignment of an IR
expression over those leaves.  The truth of a gradient is reverse mode over
these assignments with the VJP rules of ``symrnn.rules`` — one rule per IR op,
the same rules ``derive`` uses, but applied to this program and evaluated at
numbers, never to the catalogue cell the note may resemble.  Parameters,
inputs, initial states (h_0, or h_{T+1} for a recurrence that runs backwards)
and the coefficients of losses the note leaves generic are random leaves.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy

from symrnn import ir, rules
from symrnn.functions import FUNCTIONS

from .entries import FUNCTION_LETTERS, index_letters, unit_positions
from .formulas import FormulaError, to_ir
from .model import STEP_COUNTS, NoteModel, is_loss_key, is_scalar_expr
from .note_cell import FUNCTION_NAMES
from .numbers import NoteArithmetic, Unsupported, evaluate
from .reading import key, symbols
from .sizes import ELEMENTWISE, ONES, Shapes
from .tree import (
    Add,
    Apply,
    Concat,
    Entry,
    Frac,
    Func,
    Matrix,
    Neg,
    Norm,
    Number,
    Power,
    Product,
    Sub,
    Sum,
    Symbol,
    Transpose,
)
from .unit_sums import labelled_by_index, unit_sum_body

# Stand-ins for labelled function letters the note leaves unnamed (f_{in_j}, f_k), one each.
LABELLED_STANDINS = ("softplus", "sin", "tanh", "sigmoid", "exp")
MAX_STEPS = 40  # a claim that needs longer problems than this is unchecked, with this number in its reason


def _cotangent_leaf(g_var: ir.Node, cotangent, values: dict):
    """Leaves of one VJP: the cotangent for its g, every other var's forward value."""

    def leaf(node: ir.Node):
        return cotangent if node == g_var else values[node]

    return leaf


# T_x, T_y (the sequence-models lectures): the input and output lengths of a one-to-one cell.
SEQUENCE_LENGTH_LABELS = frozenset({"x", "y"})


def _diag_operand(node):
    """v of ``diag(v)``, else None."""
    if isinstance(node, Apply) and isinstance(node.func, Func) and node.func.name == "diag" and len(node.args) == 1:
        return node.args[0]
    return None


class ProgramError(Unsupported):
    """A forward equation the unrolled program cannot express (the verdict says unchecked and why)."""


def function_name(func: Func) -> str:
    """The function table's name for a written function (σ → sigmoid; f stays f)."""
    name = FUNCTION_NAMES.get(func.name, func.name)
    return name + "'" * func.primes


class Program:
    """One random instance of a note's model, unrolled over ``steps`` steps.

    Args:
        model: the note's model.
        shapes: solved shapes of its symbols.
        steps: T.
        seed: random seed of the leaves.
        functions: generic function letter → substitute (f → sin).
        scale: the standard deviation of random leaves (parameters, inputs, initial states).
    """

    def __init__(
        self, model: NoteModel, shapes: Shapes, steps: int, seed: int, functions: dict | None = None, scale: float = 0.6
    ):
        self.model, self.shapes, self.steps, self.seed = model, shapes, steps, seed
        self.scale = scale  # the spread of random leaves (bounds are tried at several)
        self.functions = dict(functions or {})
        self.rng = np.random.default_rng(seed)
        self.leaf_values: dict[ir.Node, np.ndarray] = {}
        self.nodes: dict[tuple, ir.Node] = {}  # (key, step) → its var
        self.assignments: list[tuple[ir.Node, ir.Node]] = []
        self.step_of: dict[ir.Node, int | None] = {}
        self._building: set[tuple] = set()
        self._vjp_cache: dict[int, dict] = {}
        self._jacobian_rows: dict[tuple, list] = {}
        self._entry_passes: dict[tuple, dict] = {}  # (of, row, precise, only_step) → one reverse pass
        self._values: dict[bool, dict] = {}
        self._targets = set(model.targets())
        self.step_losses: dict[tuple, ir.Node] = {}  # (key, step) → that step's generic loss E_t
        self.objective = self._objective()
        # Every value of every step exists before any number is computed (claims read them all).
        for k, d in model.definitions.items():
            for step in range(1, steps + 1) if d.timed else (None,):
                self.node(k, step)
        for k in model.params():
            if k in shapes.of:
                self.node(k, None)

    # ------------------------------------------------------------ leaves and nodes
    def _new_var(self, shape, value: np.ndarray | None, step: int | None) -> ir.Node:
        node = ir.var(f"v{len(self.step_of)}", shape, ir.PARAM)
        self.step_of[node] = step
        if value is not None:
            self.leaf_values[node] = value
        return node

    def shape(self, k: tuple) -> tuple[int, int]:
        if k not in self.shapes.of:
            raise ProgramError(f"no shape for {k[0]}")
        return self.shapes.of[k]

    def ones(self, shape) -> ir.Node:
        shape = (int(shape[0]), int(shape[1]))
        if ("ones", shape) not in self.nodes:
            self.nodes[("ones", shape)] = self._new_var(shape, np.ones(shape), None)
        return self.nodes[("ones", shape)]

    def constant(self, value, shape) -> ir.Node:
        """A constant array: ``value`` (an int or a Fraction) times ones."""
        ones = self.ones(shape)
        if value == 1:
            return ones
        return ir.scale(
            sympy.Rational(value.numerator, value.denominator) if isinstance(value, Fraction) else value, ones
        )

    def node(self, k: tuple, step: int | None) -> ir.Node:
        """The var of symbol ``k`` at ``step`` (None: untimed), built on first use."""
        if (k, step) in self.nodes:
            return self.nodes[(k, step)]
        definition = self.model.definitions.get(k)
        shape = self.shape(k)
        if definition is not None and not definition.timed and step is not None:
            # E = Σ_t E_t defines E; E_t itself is left to the note (generic) unless it says what it is
            definition = self.model.step_definitions.get(k)
        if definition is not None and (
            not definition.timed or 1 <= (step or 0) <= self.steps or self._before_first(k, step)
        ):
            if (k, step) in self._building:
                raise ProgramError(f"{k[0]} depends on itself at one step")
            self._building.add((k, step))
            env = {v: step for v in self.model.step_vars} if step is not None else {}
            if definition.units:
                expr = self._by_units(definition, shape, env)
            else:
                expr = self.expr(definition.rhs, env, definition.shift)
            self._building.discard((k, step))
            if definition.block is not None:
                expr = self._block(expr, definition.block)
            if expr.shape != (sympy.Integer(shape[0]), sympy.Integer(shape[1])):
                expr = self._fit(expr, shape, definition.item.line)
            var = self._new_var(shape, None, step)
            self.assignments.append((var, expr))
        elif self.model.is_generic_loss(k, step is not None):
            var = self._generic_loss(k, step)
        else:
            var = self._new_var(shape, self._random(k, shape), step)
        self.nodes[(k, step)] = var
        return var

    def _before_first(self, k: tuple, step: int | None, seen: frozenset = frozenset()) -> bool:
        """A value at a step before the first (r_0 of h_{t+1} = f(r_t, h_t), t = 0, …) that its own
        equation computes from that step's leaves: it reads no value of an earlier step, and every
        value it reads at its step is either computed the same way or a state's initial value (h_0
        of a state that reads itself one step back).  Otherwise (a_0 = W h_{-1} + …) it is a leaf."""
        definition = self.model.definitions.get(k)
        if step is None or step >= 1 or definition is None or not definition.timed or definition.units:
            return False
        if (k, step) in seen or len(seen) > 32:
            return False
        if definition.block is not None or k in self.model.step_definitions:
            return False
        env = {v: step for v in self.model.step_vars}
        for s in symbols(definition.rhs):
            other = self.model.definitions.get(key(s))
            if s.time is None or other is None or not other.timed:
                continue
            try:
                at = self.step_of_symbol(s, env, definition.shift)
            except ProgramError:
                return False
            if at is None or at < step:
                return False
            if at >= 1 or self._initial_state(key(s)):
                continue
            if not self._before_first(key(s), at, seen | {(k, step)}):
                return False
        return True

    def _initial_state(self, k: tuple) -> bool:
        """A state whose own equation reads it one step back (h_{t+1} = … h_t …): its first value is a leaf."""
        d = self.model.definitions.get(k)
        if d is None:
            return False
        return any(
            key(s) == k and s.time is not None and s.time.var is not None and s.time.offset + d.shift < 0
            for s in symbols(d.rhs)
        )

    def _by_units(self, definition, shape, env: dict) -> ir.Node:
        """net_j(t) = …: the vector net(t), entry j the right side with j bound to each unit."""
        if len(definition.units) != 1:
            raise ProgramError(f"line {definition.item.line}: a matrix defined entry by entry")
        (letter,) = definition.units
        rows, cols = (int(n) for n in shape)
        count = rows if cols == 1 else cols
        if 1 not in (rows, cols):
            raise ProgramError(f"line {definition.item.line}: entries of a {rows}×{cols} value by one index")
        entries = []
        step = next(iter(env.values()), None) if definition.timed else None
        for unit in range(1, count + 1):
            value = self.expr(definition.rhs, {**env, letter: unit}, definition.shift)
            if value.shape != (1, 1):
                raise ProgramError(f"line {definition.item.line}: entry {letter} = {unit} is not a number")
            entries.append(self.assign(value, step))  # each unit its own small assignment
        column = entries[0] if count == 1 else ir.concat(*entries)
        return column if cols == 1 else ir.transpose(column)

    def basis(self, size: int, unit: int, row: bool) -> ir.Node:
        """The constant 1×size (row) or size×1 unit vector with a 1 at ``unit`` (1-based)."""
        k = ("basis", size, unit, row)
        if k not in self.nodes:
            value = np.zeros((1, size) if row else (size, 1))
            value.reshape(-1)[unit - 1] = 1.0
            self.nodes[k] = self._new_var(value.shape, value, None)
        return self.nodes[k]

    def _unit_entry(self, node: Entry, env: dict, shift: int) -> ir.Node:
        """s_j(t), u_{ji}, [W x]_j at the units ``env`` binds: a 1×1 value."""
        letters = index_letters(node)
        v = self.expr(node.operand, env, shift)
        rows, cols = (int(n) for n in v.shape)
        units = [self.integer(Symbol(letter), env) for letter in letters]
        if len(units) == 1:
            if cols == 1:
                units = [units[0], 1]
            elif rows == 1:
                units = [1, units[0]]
            else:
                raise ProgramError(f"one index into a {rows}×{cols} value")
        (r, c) = units
        if not (1 <= r <= rows and 1 <= c <= cols):
            raise ProgramError(f"an index past the {rows}×{cols} value it reads")
        out = v if rows == 1 else ir.matmul(self.basis(rows, r, True), v)
        return out if cols == 1 else ir.matmul(out, self.basis(cols, c, False))

    def unit_count(self, body, letter: str, value_shape) -> int:
        """How many units ``letter`` runs over in ``body``: the size of every dimension it indexes."""
        sizes = set()
        for entry, position in unit_positions(body, letter):
            rows, cols = value_shape(entry.operand)
            if len(entry.indices) == 1:
                sizes.add(rows if cols == 1 else cols)
            else:
                sizes.add((rows, cols)[position])
        if not sizes:
            raise ProgramError(f"a sum over {letter}, which indexes nothing in it")
        if len(sizes) > 1:
            raise ProgramError(f"the unit letter {letter} runs over {' and '.join(map(str, sorted(sizes)))} units")
        return sizes.pop()

    def _block(self, whole: ir.Node, block: tuple) -> ir.Node:
        """Block ``j`` of a_t = [a_i, a_f, a_o, a_g]: rows (a stack) or columns (side by side) of a_t."""
        from .reading import split_vertical

        j, bracket = block
        parts = [c for row in bracket.rows for c in row] if isinstance(bracket, Matrix) else list(bracket.items)
        axis = 0 if split_vertical(bracket, self.shapes.convention) else 1
        sizes = [self.shape(key(p))[axis] for p in parts]
        start, stop = sum(sizes[:j]), sum(sizes[: j + 1])
        if axis == 0:
            return ir.rows(whole, start, stop)
        return ir.transpose(ir.rows(ir.transpose(whole), start, stop))

    def _fit(self, expr: ir.Node, shape, line: int) -> ir.Node:
        if expr.shape == (1, 1):
            return self._spread(expr, shape)
        if shape == (1, 1):
            return self.total(expr)  # a scalar defined by a vector expression: Σ_i y_i log ŷ_i
        raise ProgramError(f"line {line}: the right side is {ir.fmt_shape(expr.shape)}, the left {shape[0]}×{shape[1]}")

    def _random(self, k: tuple, shape) -> np.ndarray:
        if k[0] == ONES and not k[1] and not k[3]:
            return np.ones(shape)  # \mathbf{1}_N: ones, not a random parameter
        if k[0] in ("delta", "Delta", "epsilon", "varepsilon") or (k[0] == "d" and k[2]):
            return np.zeros(shape)  # a gradient the note recurs on is zero past the last step
        if k in self._targets:
            out = np.zeros(shape)
            flat = out.reshape(-1)
            flat[int(self.rng.integers(flat.size))] = 1.0
            return out
        return self.rng.normal(scale=self.scale, size=shape)

    def _generic_loss(self, k: tuple, step: int | None) -> ir.Node:
        """E_t the note never defines: a random smooth function of the step's terminal values."""
        args = [self.node(t, step) for t in self._terminals()] if step is not None else []
        if not args:
            raise ProgramError(f"{k[0]} is never defined and no value of its step is left to feed it")
        return self.assign(self.smooth_of(args), step)

    def assign(self, expr: ir.Node, step: int | None) -> ir.Node:
        """A new var holding ``expr`` (so reverse mode can seed it)."""
        var = self._new_var((int(expr.shape[0]), int(expr.shape[1])), None, step)
        self.assignments.append((var, expr))
        return var

    def smooth_of(self, args: list[ir.Node]) -> ir.Node:
        """Σ (a ⊙ v + b ⊙ v ⊙ v + c ⊙ tanh v) with random a, b, c per argument: a generic smooth loss."""
        total = None
        for v in args:
            shape = (int(v.shape[0]), int(v.shape[1]))
            a, b, c = (self._new_var(shape, self.rng.normal(size=shape), None) for _ in range(3))
            term = ir.add(ir.add(ir.mul(a, v), ir.mul(b, ir.mul(v, v))), ir.mul(c, ir.apply("tanh", v)))
            term = self.total(term)
            total = term if total is None else ir.add(total, term)
        return total

    def total(self, node: ir.Node) -> ir.Node:
        """The sum of every entry, as a 1×1 node."""
        r, c = int(node.shape[0]), int(node.shape[1])
        if (r, c) == (1, 1):
            return node
        left = self.constant(1.0, (1, r))
        out = ir.matmul(left, node)
        if c != 1:
            out = ir.matmul(out, self.constant(1.0, (c, 1)))
        return out

    def _terminals(self) -> list[tuple]:
        """Timed defined values no other forward equation reads: what a per-step loss sees."""
        read = set()
        for d in self.model.definitions.values():
            read |= {key(s) for s in symbols(d.rhs)}
        timed = [k for k, d in self.model.definitions.items() if d.timed and not self.model.is_generic_loss(k)]
        timed = [k for k in timed if k[0] not in ("L", "E", "J", "ell", "loss")]
        return [k for k in timed if k not in read] or timed[-1:]

    def _objective(self) -> ir.Node | None:
        k = self.model.objective
        if k is None:
            return None
        if k in self.model.definitions:
            return self.node(k, None)
        if self.model.last_step_args:
            # L(h^{<N>}): one generic function of the last step's values, not a loss at every step
            args = [self.node(key(a), self.step_of_symbol(a, {})) for a in self.model.last_step_args]
            return self.assign(self.smooth_of(args), None)
        timed = [s for s in self.model.symbols if s[0] == k[0] and self.model.symbols[s].time is not None]
        per_step = timed[0] if timed else None
        terms = []
        for step in range(1, self.steps + 1):
            terms.append(self.node(per_step, step) if per_step else self._generic_loss(k, step))
        out = terms[0]
        for t in terms[1:]:
            out = ir.add(out, t)
        return self.assign(out, None)

    # ------------------------------------------------------------ note tree → IR
    def integer(self, node, env: dict, limit: bool = False) -> int:
        """A step or a sum limit as an integer (t+1, T-1, 3); an unbound letter as a limit is T."""
        if isinstance(node, Number) and isinstance(node.value, int):
            return node.value
        if isinstance(node, Symbol) and not node.sub and not node.sup and node.time is None:
            if node.name in env:
                return env[node.name]
            if node.name in self.model.size_letters and node.name in self.shapes.sizes:
                return self.shapes.sizes[node.name]  # N of x_t \in \mathbb{R}^{N \times D}: a size, not T
            if node.name in STEP_COUNTS or (limit and len(node.name) == 1):
                return self.steps
        if isinstance(node, Symbol) and node.name == "T" and node.sub in SEQUENCE_LENGTH_LABELS and not node.sup:
            # T_x, T_y: the input and output sequence lengths; one sequence per step, so both are T.
            if node.time is None:
                return self.steps
        if isinstance(node, Add):
            return self.integer(node.left, env) + self.integer(node.right, env)
        if isinstance(node, Sub):
            return self.integer(node.left, env) - self.integer(node.right, env)
        if isinstance(node, Neg):
            return -self.integer(node.operand, env)
        if isinstance(node, Product) and node.op == "juxt":
            return self.integer(node.left, env) * self.integer(node.right, env)
        raise ProgramError(f"cannot read {type(node).__name__} as a step number")

    def step_of_symbol(self, symbol: Symbol, env: dict, shift: int = 0) -> int | None:
        time = symbol.time
        if time is None:
            definition = self.model.definitions.get(key(symbol))
            implicit = definition.lhs.time if definition is not None and definition.implicit_step else None
            if implicit is not None and implicit.var in env:  # Γ_u written bare for Γ_u^{<t>}
                return env[implicit.var] + shift
            return None
        if time.var is None:
            return time.offset
        if time.terms:  # o_{T+t-i}: a step of several letters
            total = time.offset + shift
            for sign, letter in time.terms:
                if letter in STEP_COUNTS:
                    total += sign * self.steps
                elif letter in env:
                    total += sign * env[letter]
                else:
                    raise ProgramError(f"the step {letter} of {symbol.name} is not bound")
            return total
        if time.var in STEP_COUNTS:
            return self.steps + time.offset
        if time.var not in env:
            raise ProgramError(f"the step {time.var} of {symbol.name} is not bound")
        return env[time.var] + time.offset + shift

    def expr(self, node, env: dict, shift: int = 0) -> ir.Node:
        """The IR of a forward right-hand side at the steps of ``env``."""
        rec = lambda n: self.expr(n, env, shift)  # noqa: E731
        if isinstance(node, Symbol):
            k = key(node)
            if self.model.is_number(k):
                return self.constant(self.integer(node, env), (1, 1))
            return self.node(k, self.step_of_symbol(node, env, shift))
        if isinstance(node, Number):
            return self.constant(Fraction(node.text), (1, 1))
        if isinstance(node, Neg):
            return ir.scale(-1, rec(node.operand))
        if isinstance(node, Add | Sub):
            a, b = rec(node.left), rec(node.right)
            a, b = self._broadcast(a, b)
            return ir.add(a, b) if isinstance(node, Add) else ir.sub(a, b)
        if isinstance(node, Product) and node.op == "juxt" and self._loss_letter(node.left):
            # ℓ_t(h_t), E_t(y_t): a per-step loss the note leaves generic, applied (not a factor ℓ_t · h_t)
            return self._apply(Apply(node.left, (node.right,)), env, shift)
        if isinstance(node, Product) and node.op == "juxt" and _diag_operand(node.left) is not None:
            # diag(v) x = v ⊙ x for columns x of v's size (the only diag the forward program builds)
            v, x = rec(_diag_operand(node.left)), rec(node.right)
            if v.shape[1] == 1 and x.shape == v.shape:
                return ir.mul(*self._broadcast(v, x))
            if v.shape[1] == 1 and x.shape[0] == v.shape[0]:
                # diag(v) M scales row i of M by v_i: (v 1ᵀ) ⊙ M
                return ir.mul(ir.matmul(v, self.ones((1, int(x.shape[1])))), x)
            raise ProgramError("diag(v) times something other than a column or matrix of v's size")
        if isinstance(node, Product) and node.op == "juxt" and _diag_operand(node.right) is not None:
            # M diag(v) scales column j of M by v_j: M ⊙ (1 vᵀ)
            x, v = rec(node.left), rec(_diag_operand(node.right))
            if v.shape[1] != 1 or x.shape[1] != v.shape[0] or x.shape == (1, 1):
                raise ProgramError("something other than a matrix of v's width times diag(v)")
            return ir.mul(x, ir.matmul(self.ones((int(x.shape[0]), 1)), ir.transpose(v)))
        if isinstance(node, Product):
            a, b = rec(node.left), rec(node.right)
            vectors = node.op == "juxt" and a.shape == b.shape and 1 in (a.shape[0], a.shape[1])
            if a.shape == (1, 1) or b.shape == (1, 1) or node.op in ELEMENTWISE or vectors:
                return ir.mul(*self._broadcast(a, b)) if node.op in ELEMENTWISE else ir.mul(a, b)
            return ir.matmul(a, b)
        if isinstance(node, Frac):
            num, den = rec(node.num), rec(node.den)
            if den.shape == (1, 1) and den.op in ("var", "scale") and self._constant_value(den) is not None:
                return ir.scale(1 / self._constant_value(den), num)
            num, den = self._broadcast(num, den)
            return ir.div(num, den)
        if isinstance(node, Power) and isinstance(node.base, Norm):
            if node.base.kind not in (None, "2", "F") or self.integer(node.exponent, env) != 2:
                raise ProgramError("a norm other than a squared Euclidean one")
            x = rec(node.base.operand)  # ‖x‖² = Σ of the squares of x's entries, a number
            rows, cols = (int(n) for n in x.shape)
            return ir.matmul(ir.matmul(self.ones((1, rows)), ir.mul(x, x)), self.ones((cols, 1)))
        if isinstance(node, Norm):
            raise ProgramError("a norm that is not squared")
        if isinstance(node, Power):
            base = rec(node.base)
            n = self.integer(node.exponent, env)
            if n < 1 or n > 50:
                raise ProgramError(f"a power {n}")
            out = base
            square = base.shape[0] == base.shape[1] and not is_scalar_expr(node.base, self.model)
            for _ in range(n - 1):
                out = ir.matmul(out, base) if square and base.shape != (1, 1) else ir.mul(out, base)
            return out
        if isinstance(node, Transpose):
            return ir.transpose(rec(node.operand))
        if isinstance(node, Apply):
            return self._apply(node, env, shift)
        if isinstance(node, Sum):
            return self._sum(node, env, shift)
        if isinstance(node, Entry):
            return self._entry(node, env, shift)
        if isinstance(node, Concat):
            return self._concat([rec(i) for i in node.items], node.sep)
        if isinstance(node, Matrix):
            rows = [self._concat([rec(c) for c in row], "|") if len(row) > 1 else rec(row[0]) for row in node.rows]
            return rows[0] if len(rows) == 1 else ir.concat(*rows)
        raise ProgramError(f"the construct {type(node).__name__} in a forward equation")

    def _loss_letter(self, node) -> bool:
        """Is ``node`` a per-step loss letter the note never defines (ℓ_t, E_t)?"""
        if not (isinstance(node, Symbol) and node.time is not None and is_loss_key(key(node))):
            return False
        return self.model.is_generic_loss(key(node)) and key(node) not in self.model.definitions

    def _broadcast(self, a: ir.Node, b: ir.Node) -> tuple[ir.Node, ir.Node]:
        if a.shape == (1, 1) and b.shape != (1, 1):
            return self._spread(a, b.shape), b
        if b.shape == (1, 1) and a.shape != (1, 1):
            return a, self._spread(b, a.shape)
        return self._repeat(a, b.shape), self._repeat(b, a.shape)

    def _repeat(self, v: ir.Node, shape) -> ir.Node:
        """A bias row (or column) repeated over the rows (columns) of a minibatch value of ``shape``."""
        rows, cols = int(v.shape[0]), int(v.shape[1])
        r, c = int(shape[0]), int(shape[1])
        if rows == 1 and cols == c and r > 1:
            return ir.matmul(self.ones((r, 1)), v)
        if cols == 1 and rows == r and c > 1:
            return ir.matmul(v, self.ones((1, c)))
        return v

    def _spread(self, scalar: ir.Node, shape) -> ir.Node:
        """A 1×1 value as an array of ``shape`` (a constant stays a constant)."""
        ones = self.ones(shape)
        if scalar.op == "var" and scalar == self.nodes.get(("ones", (1, 1))):
            return ones
        if scalar.op == "scale" and scalar.args[0] == self.nodes.get(("ones", (1, 1))):
            return ir.scale(scalar.attrs[0], ones)
        return ir.mul(scalar, ones)

    def _constant_value(self, node: ir.Node):
        one = self.nodes.get(("ones", (1, 1)))
        if node == one:
            return sympy.Integer(1)
        if node.op == "scale" and node.args[0] == one:
            return sympy.nsimplify(node.attrs[0]) if not isinstance(node.attrs[0], sympy.Basic) else node.attrs[0]
        return None

    def _concat(self, parts: list[ir.Node], sep: str) -> ir.Node:
        if len(parts) == 1:
            return parts[0]  # [x]: brackets that only group
        vertical = sep == ";" or (
            sep == "," and all(p.shape[1] == 1 for p in parts) and self.shapes.convention == "column"
        )
        if vertical:
            return ir.concat(*parts)
        return ir.transpose(ir.concat(*[ir.transpose(p) for p in parts]))

    def _apply(self, node: Apply, env: dict, shift: int) -> ir.Node:
        args = [self.expr(a, env, shift) for a in node.args]
        func = node.func
        if isinstance(func, Symbol) and not func.sub and not func.sup and func.time is None:
            if FUNCTION_NAMES.get(func.name, func.name) in FUNCTIONS or func.name == "softmax":
                node = Apply(Func(func.name, func.primes), node.args)
        if isinstance(func, Symbol) and func.name in self.model.functions:
            node = Apply(Func(func.name, func.primes), node.args)  # g(z̄) where the note says g = tanh
        if isinstance(node.func, Symbol):
            k = key(node.func)
            step = self.step_of_symbol(node.func, env, shift)
            d = self.model.definitions.get(k)
            term = self._term_step(node, env, shift) if d is not None and not d.timed and step is None else None
            # C_t = C(a_t, y_t): the letter C applied is a generic function, not the value C_t itself
            same_letter = d is not None and d.timed and step is None and bool(node.args)
            if term is None and d is not None and (d.timed or step is None) and not same_letter:
                return self.node(k, step)
            if term is not None:
                # L(z_t; y_t) inside L = Σ_t L(z_t; y_t): the loss of one step, not the total again
                step = term
                formula = self.model.step_formulas.get(k)
                if formula is not None:
                    return self.total(self._step_formula(formula, node, env, shift))
            # E_t(y^t) beside E = Σ_t E_t(y^t): one step's generic loss, a random smooth function,
            # kept per step so ∂E_t/∂y^t can be asked for.
            value = self.assign(self.smooth_of(args), step)  # a var, so reverse mode can seed it
            if step is None and d is None:
                step = self._term_step(node, env, shift)  # l(o_t, y_t): a letter of no step, applied at step t
            if step is not None:
                self.step_losses.setdefault((k, step), value)
            return value
        name = function_name(node.func)
        if len(args) != 1:
            raise ProgramError(f"{node.func.name} with {len(args)} arguments")
        (x,) = args
        if name == "softmax":
            if self.shapes.convention == "row" or x.shape[1] != 1:
                return ir.transpose(ir.softmax(ir.transpose(x)))
            return ir.softmax(x)
        base = name.rstrip("'")
        if base in self.model.formulas and base not in FUNCTIONS:
            if name != base:
                raise ProgramError(f"the derivative {name} of a formula in a forward equation")
            try:
                return to_ir(self.model.formulas[base], x, self.ones((int(x.shape[0]), int(x.shape[1]))))
            except FormulaError as error:
                raise ProgramError(str(error)) from None
        if "_" in base and base.split("_")[0] in FUNCTION_LETTERS and base not in FUNCTIONS:
            # f_{in_j}, f_k (entries.py): a function of its own, none of which the note pins; each gets
            # a different smooth function, so a claim that confuses two of them cannot hold.
            if base not in self.functions:
                taken = set(self.functions.values())
                self.functions[base] = next((f for f in LABELLED_STANDINS if f not in taken), "cos")
            return ir.apply(self.functions[base] + name[len(base) :], x)
        if base not in FUNCTIONS and not (len(base) == 1 or base in ("phi", "psi", "varphi")):
            raise ProgramError(f"the function {node.func.name}")
        if len(base) == 1 or base in ("phi", "psi", "varphi"):
            self.functions.setdefault(base, "sin" if not self.functions else "softplus")
        return ir.apply(name, x)

    def _term_step(self, node: Apply, env: dict, shift: int) -> int | None:
        """The one step of a loss applied to values of one step (L(z_t; y_t)), else None."""
        steps = {self.step_of_symbol(a, env, shift) for a in node.args if isinstance(a, Symbol)}
        if len(steps) != 1 or None in steps or len(node.args) != sum(isinstance(a, Symbol) for a in node.args):
            return None
        return steps.pop()

    def _step_formula(self, formula: tuple, node: Apply, env: dict, shift: int) -> ir.Node:
        """The note's formula of one step's loss, its arguments bound to the step of the call."""
        formal, rhs = formula
        if len(formal) != len(node.args):
            raise ProgramError(f"{node.func.name} called with {len(node.args)} arguments, defined with {len(formal)}")
        inner = dict(env)
        for f, a in zip(formal, node.args, strict=True):
            if key(f) != key(a) or f.time.var is None:
                raise ProgramError(f"{node.func.name} called with other arguments than its formula names")
            inner[f.time.var] = self.step_of_symbol(a, env, shift) - f.time.offset
        return self.expr(rhs, inner, 0)

    def _entry(self, node: Entry, env: dict, shift: int) -> ir.Node:
        """``softmax(z_t)_{y_t}`` with y_t a target class: the entry picked by y_t's one-hot vector."""
        letters = index_letters(node)
        if letters and set(letters) <= self.model.units:
            return self._unit_entry(node, env, shift)
        (index,) = node.indices if len(node.indices) == 1 else (None,)
        if not isinstance(index, Symbol) or key(index) not in self._targets:
            raise ProgramError("an entry picked by something other than a target class")
        x = self.expr(node.operand, env, shift)
        onehot = self.expr(index, env, shift)
        if onehot.shape != x.shape:
            raise ProgramError("a target class of another size than the vector it picks from")
        return self.total(ir.mul(onehot, x))

    def _sum(self, node: Sum, env: dict, shift: int) -> ir.Node:
        if labelled_by_index(node):
            body, why = unit_sum_body(node, set(self.model.definitions) | set(self.shapes.of))
            if body is None:
                raise ProgramError(why)
            return self.total(self.expr(body, env, shift))  # Σ_j e^{y_{t,j}} = 1ᵀ exp(y_t)
        index = node.index.name if node.index is not None else self.model.step_vars[0]
        lower = self.integer(node.lower, env) if node.lower is not None else 1
        if index in self.model.units:
            # Σ_i over units: as many terms as the dimension i indexes has units
            upper = self.unit_count(node.body, index, lambda n: self._value_shape(n, {**env, index: 1}, shift))
        else:
            upper = self.integer(node.upper, env, limit=True) if node.upper is not None else self.steps
        if upper - lower > MAX_STEPS:
            raise ProgramError(f"a sum of {upper - lower + 1} terms (at most {MAX_STEPS} are unrolled)")
        out = None
        for i in range(lower, upper + 1):
            term = self.expr(node.body, {**env, index: i}, shift)
            out = term if out is None else ir.add(*self._broadcast(out, term))
        if out is None:
            raise ProgramError("an empty sum")
        return out

    def _value_shape(self, node, env: dict, shift: int) -> tuple[int, int]:
        if isinstance(node, Symbol) and key(node) in self.shapes.of:
            return self.shapes.of[key(node)]
        expr = self.expr(node, env, shift)
        return (int(expr.shape[0]), int(expr.shape[1]))

    # ------------------------------------------------------------ numbers
    def arithmetic(self, precise: bool) -> NoteArithmetic:
        return NoteArithmetic(precise, self.functions)

    def values(self, precise: bool = False) -> dict[ir.Node, np.ndarray]:
        """Every leaf's and every assignment's value, in float64 or at 40 digits."""
        if precise in self._values:
            return self._values[precise]
        arith = self.arithmetic(precise)
        out = {leaf: arith.array(v) for leaf, v in self.leaf_values.items()}
        memo: dict = {}
        for var, expr in self.assignments:
            out[var] = evaluate(expr, out.__getitem__, arith, memo)
            memo[var] = out[var]
        self._values[precise] = out
        return out

    def backward(self, seeds: dict, precise: bool = False, only_step: int | None = None) -> dict:
        """Cotangents of every var from ``seeds`` (var → ∂J/∂var), by reverse mode over the program.

        Args:
            seeds: initial cotangents.
            precise: 40-digit arithmetic.
            only_step: propagate only through the assignments of this step (an immediate partial:
                values of other steps are held fixed and only receive their share).

        Returns:
            var → its cotangent (vars that receive none are absent).
        """
        arith = self.arithmetic(precise)
        values = self.values(precise)
        cot = {k: v for k, v in seeds.items()}
        for index in range(len(self.assignments) - 1, -1, -1):
            var, expr = self.assignments[index]
            if var not in cot:
                continue
            step = self.step_of[var]
            if only_step is not None and step is not None and step != only_step and var not in seeds:
                continue
            g_var, table = self._vjp(index)
            leaf = _cotangent_leaf(g_var, cot[var], values)
            memo: dict = {}
            for target, share in table.items():
                value = evaluate(share, leaf, arith, memo)
                cot[target] = cot[target] + value if target in cot else value
        return cot

    def _vjp(self, index: int):
        if index not in self._vjp_cache:
            var, expr = self.assignments[index]
            g = ir.var("g_cot", expr.shape, ir.PARAM)
            self._vjp_cache[index] = (g, rules.vjp(expr, g, out=var))
        return self._vjp_cache[index]

    def gradient(self, of: ir.Node, precise: bool = False, only_step: int | None = None) -> dict:
        """∂of/∂var for every var, ``of`` a 1×1 node (the objective or one step's loss)."""
        arith = self.arithmetic(precise)
        return self.backward({of: arith.array(np.ones((1, 1)))}, precise, only_step)

    def jacobian(self, of: ir.Node, wrt: ir.Node, precise: bool = False, only_step: int | None = None) -> np.ndarray:
        """The matrix ∂of_i/∂wrt_j (entries in row-major order of each shape)."""
        return self._jacobian(of, wrt, precise, only_step)

    def jacobian_row(self, of: ir.Node, row: int, wrt: ir.Node, precise: bool = False, only_step=None) -> np.ndarray:
        """Row ``row`` (row-major entry of ``of``) of ∂of/∂wrt, flat: one reverse pass, shared across wrt."""
        cache = (of, row, precise, only_step)
        arith = self.arithmetic(precise)
        if cache not in self._entry_passes:
            shape = (int(of.shape[0]), int(of.shape[1]))
            seed = np.zeros(shape[0] * shape[1])
            seed[row] = 1.0
            self._entry_passes[cache] = self.backward({of: arith.array(seed.reshape(shape))}, precise, only_step)
        got = self._entry_passes[cache].get(wrt)
        size = int(wrt.shape[0]) * int(wrt.shape[1])
        return np.asarray(got).reshape(-1) if got is not None else arith.zeros((size,))

    def _jacobian(self, of: ir.Node, wrt: ir.Node, precise: bool, only_step: int | None) -> np.ndarray:
        arith = self.arithmetic(precise)
        shape = (int(of.shape[0]), int(of.shape[1]))
        cache = (of, precise, only_step)
        if cache not in self._jacobian_rows:
            # One reverse pass per entry of ``of`` gives its row for every var at once (∂x_t/∂x_k, all k).
            passes = []
            for i in range(shape[0] * shape[1]):
                seed = np.zeros(shape[0] * shape[1])
                seed[i] = 1.0
                passes.append(self.backward({of: arith.array(seed.reshape(shape))}, precise, only_step))
            self._jacobian_rows[cache] = passes
        rows = []
        for cot in self._jacobian_rows[cache]:
            got = cot.get(wrt)
            size = int(wrt.shape[0]) * int(wrt.shape[1])
            rows.append(np.asarray(got).reshape(-1) if got is not None else arith.zeros((size,)))
        return np.array(rows, dtype=object if precise else float)
