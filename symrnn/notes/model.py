"""The note's own model: its forward equations as written, its symbols, their roles and its objective.

Nothing here is shaped like a catalogue cell.  A note defines any number of
time-indexed values (states are the ones read at an earlier or later step),
parameters are the untimed names it never defines, inputs the timed ones it
never defines, and the objective is the loss the note writes (a sum or a mean
over steps, the last step only, a per-step function the note leaves generic).
The model is data; ``sizes.py`` gives it shapes and ``program.py`` unrolls it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from . import reading
from .entries import index_letters
from .formulas import formula_of
from .reading import Item, key, symbols, walk
from .tree import (
    Add,
    Apply,
    Concat,
    Derivative,
    Differential,
    Entry,
    Equation,
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

# Letters that name a step count, never a value.
STEP_COUNTS = frozenset({"T", "N", "n_T", "tau_max"})
# Untimed lower-case Greek names the note never defines are numbers (γ, λ, η), not matrices.
SCALAR_NAMES = frozenset({"gamma", "lambda", "eta", "alpha", "beta", "epsilon", "mu", "rho", "kappa"})


class ModelError(ValueError):
    """The note's forward equations cannot be made into a program (the reason names the line)."""


@dataclass(frozen=True)
class Definition:
    """One forward equation: ``lhs`` (its symbol, time shifted to offset 0) = ``rhs``."""

    key: tuple
    lhs: Symbol
    rhs: object
    item: Item
    shift: int = 0  # h_{t+1} = f(h_t) is stored as h_t = f(h_{t-1}): every offset moved by ``shift``
    implicit_step: bool = False  # Γ_u = σ(W_u [c^{<t-1>}, x^{<t>}]): written bare, per step t
    units: tuple[str, ...] = ()  # net_j(t) = …: the lhs is entry j of net(t), defined unit by unit (entries.py)
    # a_i of a_t = [a_i, a_f, a_o, a_g]: (its place, the bracket of blocks); ``rhs`` is then a_t
    block: tuple | None = None

    @property
    def timed(self) -> bool:
        return self.lhs.time is not None


@dataclass
class NoteModel:
    """The forward program of one cell of a note, in the note's own symbols."""

    definitions: dict[tuple, Definition] = field(default_factory=dict)
    step_vars: tuple[str, ...] = ("t",)
    gradient_names: dict[tuple, object] = field(default_factory=dict)  # δ_u → the Derivative it names
    objective: tuple | None = None  # key of the symbol the gradients are of (J, L, E)
    symbols: dict[tuple, Symbol] = field(default_factory=dict)  # every symbol the cell mentions, first spelling
    items: list[Item] = field(default_factory=list)
    indices: set = field(default_factory=set)  # keys of letters that sums run over (t in Σ_t)
    # Letters the note pins: g = tanh (→ "tanh"), or g(x) = 4σ(x) − 2 (→ None: a formula not applied).
    functions: dict[str, str | None] = field(default_factory=dict)
    ordered: bool = False  # the note writes Werbos' ordered derivatives ∂⁺ (so ∂ alone is explicit)
    formulas: dict = field(default_factory=dict)  # g(x) = 4σ(x) − 2: letter → the formula in z (formulas.py)
    # L(z_t; y_t) = -log softmax(z_t)_{y_t} beside L = Σ_t L(z_t; y_t): key → (its arguments, the formula)
    step_formulas: dict[tuple, tuple] = field(default_factory=dict)
    # Values the note shows are numbers: C_t of ∇_{a} C_t; in a note without vector notation, w of |w|.
    scalars: set = field(default_factory=set)
    # C_t = C(a_t, y_t) beside C = Σ_t C_t: the value of each step of a name whose total is defined
    step_definitions: dict[tuple, Definition] = field(default_factory=dict)
    # "some loss L(h^{<N>})": the objective a generic function of these values at the last step only
    last_step_args: tuple = ()
    # Letters the note's stated shapes use as sizes (N, D, H in x_t \in \mathbb{R}^{N \times D}):
    # numbers whose value is the size solved for them, never a step count (T excepted).
    size_letters: frozenset = frozenset()
    units: set = field(default_factory=set)  # unit letters (j of s_j(t)): bound to every unit, never a step

    # ------------------------------------------------------------ roles
    def is_defined(self, k: tuple) -> bool:
        return k in self.definitions

    def timed_keys(self) -> list[tuple]:
        """Keys of every symbol written with a step (defined or not), in first-use order."""
        return [k for k, s in self.symbols.items() if s.time is not None and s.time.var not in STEP_COUNTS]

    def params(self) -> list[tuple]:
        """Untimed names the note uses and never defines: its parameters."""
        return [
            k
            for k, s in self.symbols.items()
            if s.time is None and k not in self.definitions and not self.is_number(k) and not _is_loss_key(k)
        ]

    def inputs(self) -> list[tuple]:
        """Timed names the note never defines: inputs and targets."""
        return [k for k in self.timed_keys() if k not in self.definitions and not self.is_generic_loss(k)]

    def is_number(self, k: tuple) -> bool:
        name = k[0]
        if k in self.indices:
            return True
        if k in self.definitions and self.units:
            return False  # ε_{s_j}(t) = … in a note written unit by unit: a value it defines, not a number
        if name in self.size_letters and not k[2] and not k[3] and not k[1]:
            return True
        return (name in STEP_COUNTS and not k[2] and not k[3]) or name in SCALAR_NAMES

    def is_generic_loss(self, k: tuple, timed: bool = True) -> bool:
        """A per-step loss the note names but never defines (E_t, L^{(t)}): a random smooth function."""
        if not _is_loss_key(k):
            return False
        d = self.definitions.get(k)
        return d is None or (timed and not d.timed)

    def states(self) -> list[tuple]:
        """Defined names read at another step than their own (h_{t-1}): the recurrences."""
        out = []
        for d in self.definitions.values():
            for s in symbols(d.rhs):
                if key(s) in self.definitions and s.time is not None and s.time.var is not None:
                    if s.time.offset + d.shift != 0 and key(s) not in out:
                        out.append(key(s))
        return out

    def targets(self) -> list[tuple]:
        """Inputs read only by the loss: targets (one-hot rows or columns in random problems)."""
        used_forward = set()
        for d in self.definitions.values():
            if not _is_loss_key(d.key):
                used_forward |= {key(s) for s in symbols(d.rhs)}
        return [k for k in self.inputs() if k not in used_forward]


def is_loss_key(k: tuple) -> bool:
    """Is this the key of a loss name (J, E, L, ℓ, 𝓛)?"""
    return k[0] in reading.LOSS_NAMES or k[0] in ("mathcal_L", "ell")


_is_loss_key = is_loss_key


def _lhs_symbol(lhs) -> Symbol | None:
    if isinstance(lhs, Symbol):
        return lhs
    if isinstance(lhs, Apply) and isinstance(lhs.func, Symbol):
        return lhs.func  # L(ŷ, y) = … names the loss L
    if isinstance(lhs, Entry) and isinstance(lhs.operand, Symbol) and index_letters(lhs):
        return lhs.operand  # net_j(t) = …: defines net(t), one unit at a time
    return None


def build_model(cell: reading.CellText, all_items: list[Item]) -> NoteModel:
    """The model of one cell: its forward definitions, loss, gradient names and symbols.

    Args:
        cell: the cell's equations as read (reading.py).
        all_items: every equation of the note (gradient names may come before a cell).

    Returns:
        The NoteModel.

    Raises:
        ModelError: a forward equation defines a name twice at one step.
    """
    model = NoteModel(items=list(cell.items))
    steps: list[str] = []
    for item in cell.items:
        tree = item.tree
        # L(z, y) = Σ_t L(z_t; y_t): z and y on the left name whole sequences, not untimed values
        named = _sequence_names(tree) if item.kind == reading.LOSS else set()
        for node in walk(tree):
            if isinstance(node, Sum | Prod) and node.index is not None:
                model.indices.add(key(node.index))
            if isinstance(node, Entry):
                model.units.update(index_letters(node))
            if isinstance(node, Symbol) and id(node) not in named:
                model.symbols.setdefault(key(node), node)
                forward = item.kind in (reading.FORWARD, reading.LOSS)
                if forward and node.time is not None and node.time.var and node.time.var not in STEP_COUNTS:
                    if node.time.var not in steps:
                        steps.append(node.time.var)
        if not isinstance(tree, Equation):
            continue
        if item.kind in (reading.FORWARD, reading.LOSS, reading.ALIAS) and tree.ops[0] in ("=", ":=", "equiv"):
            lhs = _lhs_symbol(tree.lhs)
            if lhs is None:
                continue
            k = key(lhs)
            shift = 0
            if lhs.time is not None and lhs.time.var is not None and lhs.time.offset:
                shift = -lhs.time.offset
            if k in model.definitions:
                if item.kind == reading.LOSS and isinstance(tree.lhs, Apply) and not model.definitions[k].timed:
                    model.step_formulas.setdefault(k, (tree.lhs.args, tree.rhs))
                if item.kind == reading.FORWARD and lhs.time is not None and not model.definitions[k].timed:
                    model.step_definitions.setdefault(k, Definition(k, lhs, tree.rhs, item, shift))
                continue
            units = index_letters(tree.lhs) if isinstance(tree.lhs, Entry) else ()
            model.definitions[k] = Definition(k, lhs, tree.rhs, item, shift, units=units)
        elif item.kind == reading.SPLIT:
            parts = reading.split_parts(tree, {k for k in model.definitions if k != key(tree.lhs)})
            for j, part in enumerate(parts or ()):
                if key(part) not in model.definitions:
                    model.definitions[key(part)] = Definition(key(part), part, tree.lhs, item, block=(j, tree.rhs))
        elif item.kind == reading.GRADIENT_NAME:
            for eq in _equations(tree):
                if isinstance(eq.rhs, Derivative) and isinstance(eq.lhs, Symbol):
                    model.gradient_names[key(eq.lhs)] = eq.rhs
    model.ordered = any(  # Werbos' ∂⁺E/∂z of the loss (Pascanu's ∂⁺x_k/∂θ of a state leaves ∂E total)
        isinstance(n, Derivative) and n.kind == "partial+" and reading.is_loss_symbol(n.of)
        for item in all_items
        for n in walk(item.tree)
    )
    for item in all_items:
        if item.kind == reading.FUNCTION and isinstance(item.tree, Equation):
            _pin_function(model, item.tree)
        if item.kind == reading.GRADIENT_NAME:
            for eq in _equations(item.tree):
                if isinstance(eq.rhs, Derivative) and isinstance(eq.lhs, Symbol):
                    model.gradient_names.setdefault(key(eq.lhs), eq.rhs)
    model.step_vars = tuple(steps) or ("t",)
    if any(d.units for d in model.definitions.values()):
        model.indices.update(key(Symbol(letter)) for letter in model.units)
    else:
        model.units = set()  # entries such as p_{t, k_t} in a note not written unit by unit
    model.scalars = _scalars(cell.items)
    _time_implicit_steps(model)
    _name_subexpressions(model)
    model.objective = _objective(model)
    return model


def _same_steps(node, model: NoteModel):
    """``node`` with every step written one way (Γ_r bare for Γ_r^{<t>}, ⟨t⟩ or _t alike): for comparing."""
    import dataclasses

    if isinstance(node, Symbol):
        time = node.time
        d = model.definitions.get(key(node))
        if time is None and d is not None and d.implicit_step:
            time = d.lhs.time
        if time is not None:
            time = TimeIndex(var=time.var, offset=time.offset, style="", terms=time.terms)
        return replace(node, time=time)
    if not dataclasses.is_dataclass(node):
        return node
    changes = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if dataclasses.is_dataclass(value):
            changes[f.name] = _same_steps(value, model)
        elif isinstance(value, tuple):
            changes[f.name] = tuple(
                tuple(_same_steps(w, model) for w in v) if isinstance(v, tuple) else _same_steps(v, model)
                for v in value
            )
    return replace(node, **changes) if changes else node


def _name_subexpressions(model: NoteModel) -> None:
    """z_u^{<t>} = W_u [c^{<t-1>}, x^{<t>}] + b_u after Γ_u = σ(W_u [c^{<t-1>}, x^{<t>}] + b_u): Γ_u = σ(z_u^{<t>}).

    A value the note names later for a part of an earlier forward equation, written the same way
    and read by no other equation, is that part: the earlier equation reads it, so gradients with
    respect to it exist.  The values computed are the same.
    """
    # Read by an equation above it, a value is more than a name for a part; read only by names
    # given after it (ã_{t+1} = tanh(a_t) after a_t = …), it is still one.
    read = {key(s) for d in model.definitions.values() for s in symbols(d.rhs) if not _late_name(d, model)}
    for k, named in list(model.definitions.items()):
        if k in read or named.block is not None or _is_loss_key(k) or isinstance(named.rhs, Symbol):
            continue
        if not (named.timed and named.lhs.time.var == model.step_vars[0]):
            continue
        # Written as the note writes both (h_{t+1} = tanh(W (r_t ⊙ h_t) + …) ⊙ z_t and a_t = W (r_t ⊙ h_t)
        # + …): the part is replaced where it is written, so a shift of either equation is kept.
        if named.lhs.time.offset != 0 and named.lhs.time.offset != -named.shift:
            continue
        patterns = [_same_steps(named.rhs, model), _same_steps(_expand_late(named.rhs, named, model), model)]
        for other_key, other in list(model.definitions.items()):
            if other_key == k or other.block is not None or other.item.line >= named.item.line:
                continue
            rewritten = other.rhs
            for pattern in patterns[: 1 if patterns[0] == patterns[1] else 2]:
                rewritten = _replace_part(rewritten, pattern, named.lhs, model)
            if rewritten is not other.rhs:
                model.definitions[other_key] = replace(other, rhs=rewritten)


def _late_name(d: Definition, model: NoteModel) -> bool:
    """A definition read by no forward equation written above it: a candidate name for a part."""
    return not any(
        key(s) == d.key for o in model.definitions.values() if o.item.line < d.item.line for s in symbols(o.rhs)
    )


def _expand_late(node, named: Definition, model: NoteModel, depth: int = 0):
    """``node`` with each value named on a line of its own after the forward equations (a_t of
    h̃_{t+1} = tanh(a_t)), written as the note wrote it, replaced by its right side."""
    import dataclasses

    if depth > 8:
        return node
    if isinstance(node, Symbol):
        d = model.definitions.get(key(node))
        if (
            d is None
            or d is named
            or d.block is not None
            or d.units
            or node.time is None
            or d.lhs.time is None
            or node.time != d.lhs.time
            or not _late_name(d, model)
            or isinstance(d.rhs, Symbol)
        ):
            return node
        return _expand_late(d.rhs, named, model, depth + 1)
    if not dataclasses.is_dataclass(node):
        return node
    changes = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if dataclasses.is_dataclass(value):
            new = _expand_late(value, named, model, depth + 1)
        elif isinstance(value, tuple):
            new = tuple(v if isinstance(v, tuple) else _expand_late(v, named, model, depth + 1) for v in value)
        else:
            continue
        if new is not value:
            changes[f.name] = new
    return replace(node, **changes) if changes else node


def _replace_part(node, pattern, name: Symbol, model: NoteModel):
    """``node`` with every proper part equal to ``pattern`` (steps written alike) replaced by ``name``."""
    import dataclasses

    if not dataclasses.is_dataclass(node) or isinstance(node, Symbol):
        return node
    changes = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if dataclasses.is_dataclass(value):
            new = name if _same_steps(value, model) == pattern else _replace_part(value, pattern, name, model)
        elif isinstance(value, tuple):
            new = tuple(
                v
                if isinstance(v, tuple)
                else (name if _same_steps(v, model) == pattern else _replace_part(v, pattern, name, model))
                for v in value
            )
        else:
            continue
        if new is not value and new != value:
            changes[f.name] = new
    return replace(node, **changes) if changes else node


def _scalars(items: list[Item]) -> set[tuple]:
    """Keys of values the note writes as numbers: what a ∇ takes the gradient of (C_t of ∇_{a_τ} C_t),
    and, in a note with bars |·| and no transpose, ⊙, diag or matrix, every value (a note about one unit)."""
    out: set[tuple] = set()
    vector = False
    inside_bars: set[tuple] = set()
    for item in items:
        for node in walk(item.tree):
            if isinstance(node, Derivative) and node.style == "nabla" and isinstance(node.of, Symbol):
                out.add(key(node.of))
            if isinstance(node, Transpose) and is_number_power(node):
                continue
            if isinstance(node, Transpose | Matrix | Concat) or (
                isinstance(node, Product) and node.op in ("odot", "circ")
            ):
                vector = True
            if isinstance(node, Apply) and isinstance(node.func, Func) and node.func.name == "diag":
                vector = True
            if isinstance(node, Norm) and node.kind == "abs":
                inside_bars |= {key(s) for s in walk(node.operand) if isinstance(s, Symbol)}
    if vector or not inside_bars:
        return out
    # one unit (Bengio's latching problem): every value of the note is a number
    return out | {key(n) for item in items for n in walk(item.tree) if isinstance(n, Symbol)}


def is_number_power(node) -> bool:
    """``4^{T}``, ``\\gamma^{T}``, ``(|v|/4)^{T}``: ^T on a number is the power T, never a transpose."""
    if not isinstance(node, Transpose):
        return False

    def number(n) -> bool:
        if isinstance(n, Number) or (isinstance(n, Norm) and n.kind == "abs"):
            return True
        if isinstance(n, Symbol):
            return n.name in SCALAR_NAMES and n.time is None and not n.sub and not n.sup
        if isinstance(n, Product):
            return number(n.left) and number(n.right)
        if hasattr(n, "num") and hasattr(n, "den"):
            return number(n.num) and number(n.den)
        return False

    return number(node.operand)


def _sequence_names(tree) -> set[int]:
    """Ids of the untimed arguments of a loss written as a function on the left (z, y of L(z, y))."""
    if not isinstance(tree, Equation) or not isinstance(tree.lhs, Apply):
        return set()
    return {id(a) for a in tree.lhs.args if isinstance(a, Symbol) and a.time is None}


def _time_implicit_steps(model: NoteModel) -> None:
    """Γ_u = σ(W_u [c^{<t-1>}, x^{<t>}] + b_u): an untimed name made from step t is Γ_u at step t.

    Only the note's main step letter counts, only with no sum or product on the right (a sum over t
    binds it), never for a loss, and never where the step letter is part of the label (Γ_{o,t}).
    """
    var = model.step_vars[0]
    changed = True
    while changed:  # i = σ(a_i) with a_i a block of a_t: bare names made from bare names of step t
        changed = False
        for k, d in list(model.definitions.items()):
            if d.timed or _is_loss_key(k) or any(isinstance(n, Sum | Prod) for n in walk(d.rhs)):
                continue
            labels = [part.strip() for label in (d.lhs.sub, d.lhs.sup) if label for part in label.split(",")]
            if var in labels:  # Γ_{o,t}: the step is in the label, a reading this does not guess at
                continue
            times = [s.time for s in symbols(d.rhs) if s.time is not None]
            times += [
                model.definitions[key(s)].lhs.time
                for s in symbols(d.rhs)
                if s.time is None and key(s) in model.definitions and model.definitions[key(s)].implicit_step
            ]
            if times and all(time.var == var and not time.terms for time in times):
                style = times[0].style
                lhs = replace(d.lhs, time=TimeIndex(var=var, offset=0, style=style))
                model.definitions[k] = replace(d, lhs=lhs, implicit_step=True)
                changed = True


_CONCRETE = {"sigma": "sigmoid", "ln": "log", "ReLU": "relu"}  # the function table's names


def _pin_function(model: NoteModel, tree: Equation) -> None:
    """Record ``g = \\tanh`` (g is tanh) or ``g(x) = …`` (g is a formula) for every letter on the left."""
    read = formula_of(tree)
    if read is not None:
        model.formulas.setdefault(*read)  # applied as written
    sides = list(tree.sides)
    last = sides[-1]
    bare = isinstance(last, Func) and last.name in reading.KNOWN_FUNCTIONS  # g = tanh (not g = 2 tanh)
    concrete = _CONCRETE.get(last.name, last.name) if bare else None
    for side in sides[:-1]:
        if isinstance(side, Func | Symbol) and side.name not in reading.KNOWN_FUNCTIONS:
            model.functions.setdefault(side.name, concrete)
        elif isinstance(side, Apply) and isinstance(side.func, Func):
            model.functions.setdefault(side.func.name, _known_formula(side, last))


# Formulas a note may write for a function it names: φ(v) = 1/(1 + e^{-v}) is the logistic.
_FORMULA_CANDIDATES = {
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
    "tanh": math.tanh,
}


def _known_formula(lhs: Apply, formula) -> str | None:
    """The table function ``lhs = formula`` is (agreeing at several points), else None (a formula of its own)."""
    if len(lhs.args) != 1 or not isinstance(lhs.args[0], Symbol) or lhs.func.primes:
        return None
    points = (-1.7, -0.4, 0.3, 1.1, 2.6)
    try:
        values = [_scalar(formula, lhs.args[0], x) for x in points]
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    for name, f in _FORMULA_CANDIDATES.items():
        if all(abs(v - f(x)) < 1e-12 for v, x in zip(values, points, strict=True)):
            return name
    return None


def _scalar(node, arg: Symbol, x: float) -> float:
    """The value of a formula of one letter at ``x`` (ValueError for anything else)."""
    rec = lambda n: _scalar(n, arg, x)  # noqa: E731
    if isinstance(node, Number):
        return float(node.value)
    if isinstance(node, Symbol) and node == arg:
        return x
    if isinstance(node, Add):
        return rec(node.left) + rec(node.right)
    if isinstance(node, Sub):
        return rec(node.left) - rec(node.right)
    if isinstance(node, Neg):
        return -rec(node.operand)
    if isinstance(node, Product) and node.op in ("juxt", "*", "cdot"):
        return rec(node.left) * rec(node.right)
    if isinstance(node, Frac):
        return rec(node.num) / rec(node.den)
    if isinstance(node, Power) and isinstance(node.base, Symbol) and node.base == Symbol("e"):
        return math.exp(rec(node.exponent))
    if isinstance(node, Power):
        return rec(node.base) ** rec(node.exponent)
    if (
        isinstance(node, Apply)
        and isinstance(node.func, Func)
        and node.func.name in ("exp", "tanh")
        and len(node.args) == 1
    ):
        return {"exp": math.exp, "tanh": math.tanh}[node.func.name](rec(node.args[0]))
    raise ValueError("not a formula of one letter")


def _equations(tree) -> list[Equation]:
    if isinstance(tree, Equation):
        return [tree]
    return [e for e in getattr(tree, "equations", ()) if isinstance(e, Equation)]


def _objective(model: NoteModel) -> tuple | None:
    """The loss the gradients are of: the most frequent untimed numerator of ∂·/∂·, else a defined loss."""
    counts: dict[tuple, int] = {}
    for item in model.items:
        for node in walk(item.tree):
            if isinstance(node, Derivative):
                of = _lhs_symbol(node.of) if not isinstance(node.of, Symbol) else node.of
                if of is not None and (_is_loss_key(key(of)) or _is_cost(of, model)) and of.time is None:
                    counts[key(of)] = counts.get(key(of), 0) + 1
    if counts:
        return max(counts, key=lambda k: (counts[k], -list(counts).index(k)))
    untimed = [k for k, d in model.definitions.items() if _is_loss_key(k) and not d.timed]
    if untimed:
        return untimed[-1]
    return None


def _is_cost(of, model: NoteModel) -> bool:
    """Nielsen's C: a bare untimed name the note defines by a sum or a norm and differentiates (∂C/∂b)."""
    if not isinstance(of, Symbol) or of.sub or of.sup or of.accents or of.primes or of.time is not None:
        return False
    d = model.definitions.get(key(of))
    if d is None or d.timed or any(key(of) in {key(s) for s in symbols(o.rhs)} for o in model.definitions.values()):
        return False
    return any(isinstance(n, Sum | Norm) for n in walk(d.rhs))


def is_scalar_expr(node, model: NoteModel) -> bool:
    """A number, a step count or a scalar name: multiplies instead of taking a matrix product."""
    if isinstance(node, Number):
        return True
    if isinstance(node, Symbol):
        k = key(node)
        return model.is_number(k) or _is_loss_key(k)
    if isinstance(node, Sum):
        return is_scalar_expr(node.body, model)
    if hasattr(node, "num") and hasattr(node, "den"):
        return is_scalar_expr(node.num, model) and is_scalar_expr(node.den, model)
    if isinstance(node, Apply) and isinstance(node.func, Func):
        return all(is_scalar_expr(a, model) for a in node.args)
    return False


def has_gradient(node) -> bool:
    return any(isinstance(n, Derivative | Differential) or reading.is_delta_name(n) for n in walk(node))
