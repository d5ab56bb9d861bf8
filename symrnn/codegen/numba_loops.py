"""Fused loops for the compiled backend: IR statements over (batch, size) entries.

A *schedule* takes statements ``place ← expression`` in order and prints them as *phases*:
each phase is a few matrix products (the module's ``_mm``, which calls BLAS) and then
one loop over the batch and the entries that computes every element-wise statement of the
phase, a scalar at a time (so a step's element-wise work is one fused loop, and nothing is
allocated inside it).  A statement joins the current phase unless it reads a product the
phase feeds, or reads an entry the phase writes at another index; products with the same
operand in one phase are one product with the matrices side by side (the optimiser's
stacking, found here on the statements rather than per cell).

Shared values (weights, biases, any expression of parameters) are not computed in the loops:
:class:`Kernel` collects them as arguments the Python wrapper evaluates once per call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from symrnn import ir
from symrnn.codegen.numpy_printer import CodegenError, NumpyPrinter, dim_code, python_number
from symrnn.ir import Node

# How the fused loops spell each element-wise function on one number; ``{one}``/``{zero}`` are
# the working dtype's constants (a Python float would turn float32 arithmetic into float64).
# ``_exp`` is the module's polynomial exp (numba's np.exp calls libm once per entry, which keeps
# the loop vectorizer from widening the loop).
SCALAR_FUNCTIONS = {
    "sigmoid": "{one} / ({one} + _exp(-{0}))",  # e^{-x} = inf for very negative x: the exact limit 0
    "tanh": None,  # numba's np.tanh is a libm call per entry: see _Body._tanh
    "identity": "{0}",
    "relu": "max({0}, {zero})",
    "step": "({one} if {0} > {zero} else {zero})",
    "exp": "_exp({0})",
    "log": "np.log({0})",
    "reciprocal": "{one} / {0}",
    "softplus": "(max({0}, {zero}) + np.log1p(_exp(-abs({0}))))",
    "sin": "np.sin({0})",
    "cos": "np.cos({0})",
}


ACCUMULATE = "Σ"  # the step of a 1-D sum over all steps and examples


class NotCompilable(ValueError):
    """A derivation or expression the compiled backend cannot express (the NumPy backend serves)."""


@dataclass(frozen=True)
class Place:
    """Where a batched value lives: ``array[step, b, offset + i]`` (or ``array[b, offset + i]``).

    ``steps`` is the array's number of step rows (``T + 1`` for tapes whose row 0 is the
    initial state, ``T`` otherwise); ``cols`` its row width; ``size`` the value's own width.
    """

    array: str
    step: str | None
    offset: sympy.Expr
    size: sympy.Expr
    cols: sympy.Expr
    steps: str | None = None

    @property
    def key(self) -> tuple:
        return (self.array, self.step, self.offset)

    @property
    def full(self) -> bool:
        return self.cols is not None and self.offset == 0 and sympy.simplify(self.size - self.cols) == 0

    def at(self, i: str) -> str:
        column = _col(self.offset, i)
        if self.step == ACCUMULATE:
            return f"{self.array}[{column}]"
        return f"{self.array}[{self.step}, b, {column}]" if self.step else f"{self.array}[b, {column}]"

    def step_view(self) -> str:
        """This step's (batch, size) block, for a product."""
        base = f"{self.array}[{self.step}]" if self.step else self.array
        if self.full:
            return base
        return f"{base}[:, {dim_code(self.offset)}:{dim_code(self.offset + self.size)}]"

    def all_view(self) -> str:
        """Every step's block as (T · batch, size) rows, for a product over all steps."""
        rows = {"T + 1": "(T + 1) * batch_size", "T": "T * batch_size"}[self.steps]
        flat = f"{self.array}.reshape({rows}, {dim_code(self.cols)})"
        if self.steps == "T + 1":
            flat += "[batch_size:]" if self.step == "t + 1" else "[: T * batch_size]"
        elif self.step != "t":
            raise AssertionError(self)
        if self.full:
            return flat
        return f"{flat}[:, {dim_code(self.offset)}:{dim_code(self.offset + self.size)}]"


def buffer_place(name: str, size, steps: str | None) -> Place:
    """A value in an array of its own: (batch, size) per step, or (steps, batch, size)."""
    step = None if steps is None else "t"
    return Place(name, step, sympy.Integer(0), sympy.sympify(size), sympy.sympify(size), steps)


@dataclass
class Gemm:
    """``out = operand @ [M_1ᵀ | M_2ᵀ | …]``: the products of one operand in one phase."""

    operand: Place
    matrices: list[Node]
    out: str  # a buffer of its own (unless ``target``)
    target: Place | None = None  # the one statement's target, written by the product itself
    vertical: bool = False  # operands side by side: [v_1 | v_2 | …] @ [M_1ᵀ; M_2ᵀ; …]
    width: sympy.Expr = sympy.Integer(0)


@dataclass
class Phase:
    size: sympy.Expr | None = None
    gemms: list[Gemm] = field(default_factory=list)
    before: list[str] = field(default_factory=list)  # other statements before the loop
    jobs: list[tuple[Place, Node, Node | None, bool]] = field(default_factory=list)
    writes: set = field(default_factory=set)


class Kernel:
    """What a compiled function needs beyond its loops: shared arguments, buffers, constants."""

    def __init__(self, param_names: dict[Node, str]):
        self.param_names = param_names
        self.shared: dict[tuple, tuple[str, str]] = {}  # key → (argument name, NumPy code)
        self.constants: dict[str, str] = {}  # value code → local name
        self.buffers: dict[str, tuple[str, ...]] = {}  # name → shape codes
        self.counter = 0

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"

    def const(self, value) -> str:
        code = python_number(value)
        if code not in self.constants:
            self.constants[code] = f"_c{len(self.constants)}"
        return self.constants[code]

    def shared_arg(self, code: str, key=None) -> str:
        """A shared array the wrapper computes once per call (``code`` is NumPy over the parameters)."""
        key = key or ("code", code)
        if key not in self.shared:
            self.shared[key] = (f"_m{len(self.shared)}", code)
        return self.shared[key][0]

    def vector(self, node: Node) -> str:
        """A shared column (a bias, or any expression of parameters) as a 1-D argument."""
        code = NumpyPrinter(self.param_names).doprint(node)
        return self.shared_arg(f"np.ascontiguousarray(np.reshape({code}, -1))", ("vector", node))

    def buffer(self, name: str, *shape: str) -> str:
        self.buffers[name] = shape
        return name


class Schedule:
    """Statements of one loop body (``steps`` None: inside the time loop) or over all steps."""

    def __init__(self, kernel: Kernel, shared: dict[Node, Place], steps: str | None, hoisted=None):
        self.kernel = kernel
        self.shared = shared  # every schedule's: leaves and named values on tapes
        self.places = dict(shared)  # this schedule's own: also its buffers and products
        self.steps = steps  # None: one step of the time loop; "T": every step at once
        self.hoisted = hoisted  # a Schedule over all steps for products of inputs only
        self.phases: list[Phase] = [Phase()]
        self.extra: list[str] = []  # statements after the last phase

    # ------------------------------------------------------------ statements
    def assign(self, place: Place, node: Node, alias: Node | None = None, accumulate: bool = False):
        """``place ← node`` (``+=`` with ``accumulate``); ``alias`` (the equation's left side) reads it after."""
        direct = not accumulate and place.full and place.step != ACCUMULATE
        if direct and node.op == "matmul" and node not in self.places:
            self._materialize_inside(node, root=False)
            self._gemm(node, place)  # the product straight into its target
            self.places[node] = place
        else:
            self._materialize_inside(node)
            self._elementwise(place, node, accumulate, alias)
        if alias is not None:
            self.places[alias] = place
            if place.steps is not None:  # on a tape: every later schedule reads it there
                self.shared[alias] = place

    def stacked(self, stand_in: Node, operand: Place, matrices: list[Node]):
        """``stand_in ← Σ_k M_k v_k`` for operands v_k side by side in ``operand``: one product."""
        phase = self.phases[-1]
        if operand.key in phase.writes or any(key[0] == operand.array for key in phase.writes):
            phase = Phase()
            self.phases.append(phase)
        gemm = Gemm(operand, matrices, self.kernel.fresh("prod"), vertical=True)
        gemm.width = stand_in.shape[0]
        phase.gemms.append(gemm)
        self.places[stand_in] = Place(gemm.out, self._step(), sympy.Integer(0), stand_in.shape[0], None, self.steps)

    def line(self, text: str):
        """A statement after everything scheduled so far (closes the phase)."""
        self.phases.append(Phase(before=[text]))

    # ------------------------------------------------------------ what needs an array first
    def _materialize_inside(self, node: Node, root: bool = True):
        subs = ir.postorder(node) if root else ir.postorder(node)[:-1]
        for sub in subs:
            if sub in self.places or not sub.batched:
                continue
            if sub.op == "matmul":
                self._gemm(sub, None)
            elif sub.op == "concat":
                name = self._new_buffer("cat", sub.shape[0])
                offset = sympy.Integer(0)
                for part in sub.args:
                    self._elementwise(
                        Place(name, self._step(), offset, part.shape[0], sub.shape[0], self.steps), part, False
                    )
                    offset += part.shape[0]
                self.places[sub] = buffer_place(name, sub.shape[0], self.steps)
            elif sub.op == "softmax":
                if self.steps is None:
                    raise NotCompilable("softmax inside the time loop")
                z = self._contiguous(sub.args[0])
                name = self._new_buffer("softmax", sub.shape[0])
                out = buffer_place(name, sub.shape[0], self.steps)
                self._close_if_written(z)
                self.phases[-1].before.append(f"_softmax_rows({z.all_view()}, {out.all_view()})")
                self.phases.append(Phase())
                self.places[sub] = out
            elif sub.op in ("transpose", "batch_sum") or (sub.shape[1] != ir.ONE):
                raise NotCompilable(f"{sub.op} of shape {ir.fmt_shape(sub.shape)} inside a loop")

    def _gemm(self, node: Node, target: Place | None):
        matrix, operand = node.args
        if matrix.batched or not operand.batched or not operand.is_column:
            raise NotCompilable(f"a product of shapes {ir.fmt_shape(matrix.shape)} and {ir.fmt_shape(operand.shape)}")
        static = self.hoisted is not None and all(
            leaf.kind in (ir.PARAM, ir.INPUT_KIND) and (leaf.shift in (0, None)) for leaf in ir.leaves(operand)
        )
        if static and target is None:  # inputs only: every step's product before the loop
            self.hoisted._materialize_inside(node)
            place = self.hoisted.places[node]
            self.places[node] = Place(place.array, "t", place.offset, place.size, place.cols, place.steps)
            return
        op_place = self._contiguous(operand)
        phase = self.phases[-1]
        # after the loop that writes its operand; a product into a target waits for the loop too,
        # which may read the target's old value
        if op_place.key in phase.writes or (phase.jobs and target is not None):
            phase = Phase()
            self.phases.append(phase)
        if target is not None:
            gemm = Gemm(op_place, [matrix], target.array, target=target)
            phase.gemms.append(gemm)
            return
        gemm = next((g for g in phase.gemms if g.operand == op_place and not g.target), None)
        if gemm is None:  # one product per operand and phase: matrices side by side
            gemm = Gemm(op_place, [], self.kernel.fresh("prod"))
            phase.gemms.append(gemm)
        # cols None: the buffer's width is known once every product of the phase is in
        self.places[node] = Place(gemm.out, self._step(), gemm.width, matrix.shape[0], None, self.steps)
        gemm.matrices.append(matrix)
        gemm.width = gemm.width + matrix.shape[0]

    def operand(self, node: Node) -> Place:
        """A place holding ``node`` as whole rows (a product's operand), copying it there if needed."""
        self._materialize_inside(node)
        return self._contiguous(node)

    def _contiguous(self, node: Node) -> Place:
        place = self.places.get(node)
        if place is not None and place.full and (self.steps is None or place.steps is not None):
            return place
        name = self._new_buffer("op", node.shape[0])
        out = buffer_place(name, node.shape[0], self.steps)
        self._elementwise(out, node, False)
        return out

    def _new_buffer(self, stem: str, size) -> str:
        name = self.kernel.fresh(stem)
        if size is not None:
            shape = ("batch_size", dim_code(size)) if self.steps is None else ("T", "batch_size", dim_code(size))
            self.kernel.buffer(name, *shape)
        return name

    def _step(self) -> str | None:
        return None if self.steps is None else "t"

    def _close_if_written(self, place: Place):
        if place.key in self.phases[-1].writes:
            self.phases.append(Phase())

    def _elementwise(self, place: Place, node: Node, accumulate: bool, alias: Node | None = None):
        phase = self.phases[-1]
        size = node.shape[0]
        reads = _accesses(node, self.places)
        clash = any(key in phase.writes and shift != 0 for key, shift in reads)
        if clash or (phase.size is not None and sympy.simplify(phase.size - size) != 0):
            phase = Phase()
            self.phases.append(phase)
        phase.size = size
        phase.jobs.append((place, node, alias, accumulate))
        phase.writes.add(place.key)
        if not accumulate:
            self.places.setdefault(node, place)

    # ------------------------------------------------------------ printing
    def lines(self, indent: str) -> list[str]:
        out: list[str] = []
        for phase in self.phases:
            for gemm in phase.gemms:
                out.append(indent + self._gemm_code(gemm))
            out += [indent + text for text in phase.before]
            if not phase.jobs:
                continue
            inner = indent
            if self.steps is not None:
                out.append(f"{indent}for t in range(T):")
                inner += "    "
            out.append(f"{inner}for b in range(batch_size):")
            out.append(f"{inner}    for i in range({dim_code(phase.size)}):")
            body = _Body(self.kernel, self.places)
            for place, node, alias, accumulate in phase.jobs:
                value = body.value(node, "i", root=True)
                body.lines.append(f"{place.at('i')} {'+=' if accumulate else '='} {value}")
                if not accumulate:
                    body.memo[(node, "i")] = value
                    if alias is not None:
                        body.memo[(alias, "i")] = value
            out += [f"{inner}        {text}" for text in body.lines]
        return out

    def _gemm_code(self, gemm: Gemm) -> str:
        names = self.kernel.param_names
        parts = [NumpyPrinter(names).doprint(ir.transpose(m)) for m in gemm.matrices]
        axis = 0 if gemm.vertical else 1
        code = parts[0] if len(parts) == 1 else f"np.concatenate(({', '.join(parts)}), axis={axis})"
        matrix = self.kernel.shared_arg(code)
        view = gemm.operand.step_view() if self.steps is None else gemm.operand.all_view()
        zero = self.kernel.const(0)
        if gemm.target is not None:
            out = gemm.target.step_view() if self.steps is None else gemm.target.all_view()
            return f"_mm({view}, {matrix}, {out}, {zero}, blas)"
        width = dim_code(gemm.width)
        shape = ("batch_size", width) if self.steps is None else ("T", "batch_size", width)
        self.kernel.buffers[gemm.out] = shape
        out = gemm.out if self.steps is None else f"{gemm.out}.reshape(T * batch_size, {width})"
        return f"_mm({view}, {matrix}, {out}, {zero}, blas)"


def accumulator_place(name: str, offset, size) -> Place:
    """A 1-D sum over all steps and examples (``g[i] += …``)."""
    return Place(name, ACCUMULATE, sympy.sympify(offset), sympy.sympify(size), sympy.sympify(size))


def _col(offset, i: str) -> str:
    return i if offset == 0 else f"{dim_code(offset)} + {i}"


def _accesses(node: Node, places: dict[Node, Place], shift=0) -> list[tuple[tuple, object]]:
    """(place key, index shift) of every stored value an element-wise expression reads."""
    if node in places:
        return [(places[node].key, shift)]
    if node.op == "rows":
        return _accesses(node.args[0], places, shift + node.attrs[0])
    return [a for arg in node.args for a in _accesses(arg, places, shift)]


class _Body:
    """The statements of one fused loop: each node once per index, as a scalar local."""

    def __init__(self, kernel: Kernel, places: dict[Node, Place]):
        self.kernel = kernel
        self.places = places
        self.memo: dict[tuple[Node, str], str] = {}
        self.lines: list[str] = []
        self.count = 0

    def local(self) -> str:
        """A fresh scalar local's name."""
        self.count += 1
        return f"v{self.count}"

    def value(self, node: Node, i: str, root: bool = False) -> str:
        """A scalar local holding ``node`` at entry ``i``; ``root``: the node a statement writes
        (computed, not read from its own target)."""
        key = (node, i)
        if key in self.memo:
            return self.memo[key]
        code = self._code(node, i, root)
        if node.op in ("zeros",):
            return code
        name = self.local()
        self.lines.append(f"{name} = {code}")
        self.memo[key] = name
        return name

    def _code(self, node: Node, i: str, root: bool = False) -> str:
        k = self.kernel
        if node in self.places and not (root and node.op != "var"):
            place = self.places[node]
            if place.cols is None:  # a product's buffer: its width is known when printing
                place = Place(place.array, place.step, place.offset, place.size, place.size, place.steps)
            return place.at(i)
        if not node.batched:
            if not node.is_column:
                raise NotCompilable(f"a shared matrix {node!r} in an element-wise expression")
            index = "0" if node.shape[0] == ir.ONE else i
            return f"{k.vector(node)}[{index}]"
        op = node.op
        if op == "broadcast":
            return self._code(node.args[0], i)
        if op == "zeros":
            return k.const(0)
        if op in ("add", "sub", "mul", "div"):
            a, b = (
                self.value(arg, "0" if arg.shape[0] == ir.ONE and node.shape[0] != ir.ONE else i) for arg in node.args
            )
            return f"{a} {dict(add='+', sub='-', mul='*', div='/')[op]} {b}"
        if op == "scale":
            c = node.attrs[0]
            if not c.is_number:
                raise NotCompilable(f"a symbolic constant {c} (the compiled code needs numbers)")
            if c == -1:
                return f"-{self.value(node.args[0], i)}"
            return f"{k.const(c)} * {self.value(node.args[0], i)}"
        if op == "one_minus":
            return f"{k.const(1)} - {self.value(node.args[0], i)}"
        if op == "apply":
            name = node.attrs[0]
            if name not in SCALAR_FUNCTIONS:
                raise NotCompilable(f"the function {name!r} has no compiled form")
            arg = self.value(node.args[0], i)
            if name == "tanh":
                return self._tanh(arg)
            return SCALAR_FUNCTIONS[name].format(arg, one=k.const(1), zero=k.const(0))
        if op == "rows":
            start = node.attrs[0]
            return self.value(node.args[0], i if start == 0 else f"{i} + {dim_code(start)}")
        raise CodegenError(f"internal: {op} reached a fused loop unmaterialised")

    def _tanh(self, x: str) -> str:
        """tanh through one exp, 2 / (1 + e^{-2x}) - 1 (exact limits ±1 where e^{-2x} is 0 or inf),
        and for |x| ≤ 1/16, where that form loses digits, its Taylor polynomial (error < 1e-17 |x|)."""
        k = self.kernel
        out = self.local()
        x2 = f"{out}_x2"
        series = [1, sympy.Rational(-1, 3), sympy.Rational(2, 15), sympy.Rational(-17, 315)]
        series += [sympy.Rational(62, 2835), sympy.Rational(-1382, 155925)]
        poly = k.const(series[-1])
        for c in reversed(series[:-1]):
            poly = f"{k.const(c)} + {x2} * ({poly})"
        self.lines += [
            f"if abs({x}) > {k.const(sympy.Rational(1, 16))}:",
            f"    {out} = {k.const(2)} / ({k.const(1)} + _exp({k.const(-2)} * {x})) - {k.const(1)}",
            "else:",
            f"    {x2} = {x} * {x}",
            f"    {out} = {x} * ({poly})",
        ]
        return out
