"""``symrnn check``: every equation of a note read, and every claim checked against the derivation.

A claim is evaluated on random problems of several sizes and lengths (float64);
a difference is confirmed at 40 digits before it is called wrong, and then
the report shows the sizes, the step, both values, and the right-hand side
that holds, written in the note's notation.  Unnamed functions (f, g) are
replaced by two unrelated functions (sin, softplus): a claim that holds for
both holds for any f; one that needs f = tanh says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from symrnn import ir

from . import reading
from .build import NoteCell, NoteCellError, build_cells
from .context import NoteContext, is_relation
from .evaluate import Evaluator, ShapeClash
from .judge import judge
from .match import Departure, Match, identify
from .numeric import Arithmetic, Run, Unsupported, random_problem
from .reading import Item, NoteText, children, read_note_text, symbols, walk
from .shape_lines import ShapeLineError, describe, own_shape, sizes_from
from .shapes import ShapeMismatch, Shapes, infer
from .tree import Derivative, Differential, Equation, Sum, Symbol
from .verdicts import DEFINITION, HOLDS, UNCHECKED, WARNING, WRONG, Verdict

# (seed, hidden, input, output, steps): several sizes and lengths; sizes ≥ 2 so no vector is a number.
PROBLEMS = ((1, 3, 2, 2, 3), (2, 2, 3, 3, 4))
SUBSTITUTIONS = ({"f": "sin", "g": "softplus", "phi": "sin"}, {"f": "tanh", "g": "tanh", "phi": "tanh"})


@dataclass
class NoteReading:
    """A note read: its cells (in its own names) and every equation with its reading."""

    file: str
    cells: list[NoteCell]
    items: list[Item]

    @property
    def cell(self):
        """The note's only cell (ValueError when it defines several or none)."""
        built = [c for c in self.cells if c.cell is not None]
        if len(built) != 1:
            raise ValueError(f"{self.file} defines {len(built)} cells; pick one from .cells")
        return built[0].cell

    @property
    def claims(self) -> list[Item]:
        return [i for i in self.items if i.kind not in reading.DEFINITIONS]


def read_notes(path: str | Path) -> NoteReading:
    """A note's cells and claims (NotesSyntaxError when its math cannot be read)."""
    text = read_note_text(path)
    return NoteReading(text.file, build_cells(text), text.items)


def check(path: str | Path) -> list[Verdict]:
    """One :class:`Verdict` per equation of the note at ``path``, in file order."""
    text = read_note_text(path)
    return check_text(text)


def check_text(text: NoteText) -> list[Verdict]:
    context = NoteContext(text)
    cells = build_cells(text)
    matches = {c.text.index: identify(c) for c in cells}
    out = []
    for item in text.items:
        note = cells[item.cell] if item.cell is not None else None
        out.append(_verdict(item, note, matches.get(item.cell), text, context))
    return out


# ---------------------------------------------------------------- one equation


def _make(item: Item, verdict: str, message: str, **extra) -> Verdict:
    p = item.parsed
    return Verdict(p.file, p.line, p.column, p.latex.strip(), verdict, message, item.kind, **extra)


def _verdict(item: Item, note: NoteCell | None, match, text: NoteText, context: NoteContext) -> Verdict:
    kind = item.kind
    if is_relation(item.tree) and "in" in item.tree.ops:
        return _make(item, DEFINITION, "states a shape")
    if note is not None and note.error is not None and note.error.item is item and not context.shapes_fit(item):
        severity = WRONG if "inconsistent shapes" in str(note.error) else UNCHECKED
        return _make(item, severity, f"{note.error}")
    if kind == reading.FORWARD:
        return _forward_definition(item, note, match)
    if kind in reading.DEFINITIONS:
        return _make(item, DEFINITION, _definition_message(item, note))
    if kind == reading.SHAPE:
        return _shape_line(item, note, text)
    if kind == reading.IDENTITY:
        return _identity(item, note)
    if kind in (reading.FORWARD_CLAIM, reading.GRADIENT_CLAIM):
        if context.defines_name(item):
            return _make(item, DEFINITION, "names a quantity used by later lines")
        return _claim(item, note, context)
    return _make(item, UNCHECKED, "not an equation the checker reads")


def _definition_message(item: Item, note: NoteCell | None) -> str:
    tree = item.tree
    return {
        reading.ALIAS: "names a block of parameters",
        reading.FUNCTION: "names the function",
        reading.LOSS: f"the loss{_loss_text(note)}",
        reading.GRADIENT_NAME: "names a gradient (δv = ∂J/∂v)",
        reading.BOUNDARY: "nothing comes after step T: every δ at T+1 is zero",
        reading.RANGE: "the steps",
        reading.GENERAL: "the general form of a recurrence; nothing to check",
        reading.UPDATE: "an update rule (an assignment, not an equation); nothing to check",
    }.get(item.kind, "definition") + ("" if isinstance(tree, Equation) else "")


def _loss_text(note: NoteCell | None) -> str:
    if note is None or note.cell is None:
        return ""
    try:
        name = note.derivation_loss()
    except NoteCellError:
        return ""
    return {
        "softmax_ce": " (softmax + cross-entropy: ∂J/∂logits = ŷ − y)",
        "bce": " (σ + binary cross-entropy: ∂J/∂logits = ŷ − y)",
        "mse": " (left generic: checked with arbitrary upstream gradients)",
    }[name]


def _forward_definition(item: Item, note: NoteCell, match) -> Verdict:
    name = note.notation.ir_name(item.tree.lhs)
    if isinstance(match, Departure) and match.value == name:
        written = {"sigmoid": "σ", "tanh": "tanh"}
        others = ", ".join(match.family)
        return _make(
            item,
            WARNING,
            f"uses {written[match.written]} where every standard variant ({others}) has {written[match.standard]}: "
            f"with {written[match.standard]} here the cell is `{match.name}`",
        )
    message = "definition"
    if note.text.forward and note.text.forward[0] is item:
        message = _cell_summary(note, match)
    return _make(item, DEFINITION, message)


def _cell_summary(note: NoteCell, match) -> str:
    first, last = note.lines
    head = f"definition; lines {first}–{last} define a cell with state {', '.join(note.states) or 'none'}"
    if note.error:
        return head + f" (it cannot be derived: {note.error})"
    if isinstance(match, Match):
        text = f"{head}: it is `{match.name}` ({match.source}; {match.convention})"
        if match.renaming:
            text += " under the renaming " + ", ".join(f"{k} → {v}" for k, v in match.renaming.items())
        if match.functions:
            text += "; unnamed " + ", ".join(f"{k} taken as {v}" for k, v in match.functions.items())
        if match.others:
            text += "; also equivalent: " + ", ".join(match.others)
        return text
    if isinstance(match, Departure):
        return head + f": `{match.name}` but for one equation (see its warning)"
    return head + ": it matches no catalogue cell"


# ---------------------------------------------------------------- shape lines


def _shape_line(item: Item, note: NoteCell | None, text: NoteText) -> Verdict:
    tree = item.tree
    try:
        left, right = own_shape(tree.lhs), own_shape(tree.rhs)
        if left != right:
            raise ShapeLineError(f"the left side is {left[0]} × {left[1]}, the right side {right[0]} × {right[1]}")
    except ShapeLineError as error:
        return _make(item, WRONG, f"inconsistent shape line: {error}")
    if note is None or note.cell is None:
        return _make(item, HOLDS, "the shapes fit together (no cell to compare with)")
    before = [i for i in note.text.forward if i.line <= item.line]
    if not before:
        return _make(item, HOLDS, "the shapes fit together (no equation before it)")
    equation = before[-1]
    stated = getattr(note, "stated_sizes", {})
    try:
        sizes = sizes_from(tree, equation.tree, _shape_lookup(note))
        clash = [d for d in sizes if d in stated and stated[d] != sizes[d]]
        if clash:
            raise ShapeMismatch(
                "; ".join(f"{describe({d: sizes[d]})} here but {describe({d: stated[d]})} before" for d in clash)
            )
    except ShapeLineError as error:
        return _make(item, UNCHECKED, f"the shapes fit together, but {error}")
    except ShapeMismatch as error:
        return _make(item, WRONG, f"the shape line does not fit line {equation.line}: {error}")
    stated.update(sizes)
    note.stated_sizes = stated
    return _make(item, HOLDS, f"consistent with line {equation.line}: {describe(stated)}")


def _shape_lookup(note: NoteCell):
    def lookup(symbol: Symbol):
        name = note.notation.ir_name(symbol)
        if name in note.aliases:
            return infer(note.aliases[name], lookup, Shapes())
        if name in note.params:
            return note.params[name]
        if name in note.values:
            return note.values[name]
        raise ShapeMismatch(f"{symbol.name} has no shape")

    return lookup


# ---------------------------------------------------------------- identities of free symbols


def _identity(item: Item, note: NoteCell | None) -> Verdict:
    tree = item.tree
    if not isinstance(tree, Equation):
        return _make(item, UNCHECKED, "not an equation")
    shapes, table = Shapes(), {}
    notation = note.notation if note else None

    def lookup(symbol: Symbol):
        name = notation.ir_name(symbol) if notation else symbol.name
        if name not in table:
            table[name] = (shapes.fresh("r"), shapes.fresh("c"))
        return table[name]

    try:
        shapes.same(infer(tree.lhs, lookup, shapes), infer(tree.rhs, lookup, shapes), "the two sides")
    except ShapeMismatch as error:
        return _make(item, WRONG, f"the shapes do not fit: {error}")
    rng = np.random.default_rng(0)
    free = sorted({s for shape in table.values() for d in shape for s in shapes.resolve(d).free_symbols}, key=str)
    sizes = {s: int(rng.integers(2, 5)) for s in free}
    env = {}
    for name, shape in table.items():
        dims = [int(shapes.resolve(d).xreplace(sizes)) for d in shape]
        env[name] = rng.normal(size=dims)
    evaluator = Evaluator(note, None, env=env)
    evaluator.arith = Arithmetic()
    try:
        left, right = evaluator.value(tree.lhs, {}), evaluator.value(tree.rhs, {})
    except (Unsupported, ShapeClash) as error:
        return _make(item, UNCHECKED, f"cannot evaluate: {error}")
    ok, _ = Arithmetic().close(left, right)
    if ok:
        return _make(item, HOLDS, "an identity of matrices: holds for random matrices of fitting shapes")
    return _make(item, WRONG, "an identity of matrices: fails for random matrices of fitting shapes")


# ---------------------------------------------------------------- claims


def _free_steps(tree) -> set[str]:
    """Step variables not bound by a sum: the claim must hold for every value of them."""
    out: set[str] = set()

    def visit(node, bound: frozenset):
        if isinstance(node, Sum):
            index = node.index.name if node.index is not None else "t"
            visit(node.body, bound | {index})
            return
        if isinstance(node, Symbol) and node.time is not None and node.time.var not in (None, "T"):
            if node.time.var not in bound:
                out.add(node.time.var)
        for child in children(node):
            visit(child, bound)

    visit(tree, frozenset())
    return out


def _offsets(tree, var: str) -> list[int]:
    return [s.time.offset for s in symbols(tree) if s.time is not None and s.time.var == var]


def _has_jacobian(tree) -> bool:
    return any(isinstance(n, Derivative) and not reading.is_loss_symbol(n.of) for n in walk(tree))


def _generic_letters(note: NoteCell) -> set[str]:
    letters = set()
    for _, rhs in note.cell.equations:
        for node in ir.postorder(rhs):
            if node.op == "apply" and node.attrs[0].rstrip("'") in ("f", "g", "phi"):
                letters.add(node.attrs[0].rstrip("'"))
    return letters


def _claim(item: Item, note: NoteCell | None, context: NoteContext) -> Verdict:
    """A claim checked against the note's own model (judge.py); the catalogue only names the fix."""
    tree = item.tree
    if not isinstance(tree, Equation):
        return _make(item, UNCHECKED, "not an equation")
    problems = context.problems_for(item)
    if problems is None:
        return _make(item, UNCHECKED, context.why_not(item))
    outcome = judge(tree, problems, context.aux)
    if outcome.verdict == HOLDS:
        return _make(item, HOLDS, outcome.message)
    if outcome.verdict == WRONG:
        return _make(
            item,
            WRONG,
            outcome.message,
            expected_latex=_expected_or_none(item, note),
            counterexample=outcome.counterexample,
        )
    return _make(item, UNCHECKED, outcome.message)


def _expected_or_none(item: Item, note: NoteCell | None) -> str | None:
    """The right-hand side the catalogue derivation gives, where the note's cell could be derived."""
    if note is None or note.cell is None:
        return None
    try:
        d = note.forward_derivation() if item.kind == reading.FORWARD_CLAIM else note.derivation()
        return _expected(item, note, d)
    except Exception:  # noqa: BLE001 - identification is optional; a failure here must not hide the verdict
        return None


def _holds_message(tree, mode, substitutions, letters) -> str:
    text = "holds"
    if _has_jacobian(tree):
        factors = [n for n in walk(tree) if isinstance(n, Derivative) and not reading.is_loss_symbol(n.of)]
        if mode == "immediate":
            text += " when each Jacobian factor (such as ∂h_k/∂W) is read as the immediate partial of one step"
            text += f" ({len(factors)} factors), the earlier state held fixed"
        else:
            text += " when the Jacobian factors are read as total derivatives"
    if letters:
        tried = " and ".join(", ".join(f"{k} = {v}" for k, v in s.items()) for s in substitutions)
        text += f"; {', '.join(sorted(letters))} kept generic (checked with {tried})"
    return text


def _evaluate_claim(tree, note, d, free, others, mode, functions) -> dict | None:
    """None if the claim holds on every problem and step; else a confirmed counterexample."""
    for seed, hidden, input_size, output, steps in PROBLEMS:
        bound_extra = {}
        if others:
            var = next(iter(others))
            offsets = _offsets(tree, var)
            value = max(1, 1 - min(offsets))
            steps = value + max(offsets)
            bound_extra[var] = value
        target = "onehot" if d.loss.name == "softmax_ce" else "unit"
        problem = random_problem(
            d, hidden=hidden, input=input_size, output=output, steps=steps, seed=seed, target=target
        )
        run = Run(d, problem, Arithmetic(False, functions))
        # Every step t at which each step the claim names exists (h_{t-2} needs t ≥ 2).
        ts = range(max(1, -min(_offsets(tree, "t"))), steps + 1) if "t" in free else [None]
        for t in ts:
            bound = {"T": steps, **bound_extra}
            if t is not None:
                bound["t"] = t
            ok, left, right = _compare(tree, note, run, bound, mode)
            if ok:
                continue
            precise = Run(d, problem, Arithmetic(True, functions))
            ok, left, right = _compare(tree, note, precise, bound, mode)
            if ok:
                continue
            return {
                "sizes": {"hidden": hidden, "input": input_size, "output": output},
                "steps": steps,
                "t": t,
                "seed": seed,
                **{k: v for k, v in bound_extra.items()},
                "left": _numbers(left),
                "right": _numbers(right),
                "functions": functions,
            }
    return None


def _compare(tree, note, run, bound, mode):
    evaluator = Evaluator(note, run, reading_mode=mode)
    left = evaluator.value(tree.lhs, bound)
    right = evaluator.value(tree.rhs, bound)
    if left is ZERO and right is ZERO:
        return True, 0, 0
    if isinstance(left, Jacobian) and isinstance(right, Jacobian):
        if left.matrix.shape != right.matrix.shape:
            raise ShapeClash(f"Jacobians of {left.matrix.shape} and {right.matrix.shape}")
        ok, _ = run.arith.close(left.matrix, right.matrix)
        return ok, left.matrix, right.matrix
    left = as_array(left, right) if isinstance(left, Jacobian) else left
    right = as_array(right, left) if isinstance(right, Jacobian) else right
    left = run.arith.zeros(np.shape(right)) if left is ZERO else left
    right = run.arith.zeros(np.shape(left)) if right is ZERO else right
    if np.ndim(left) and np.ndim(right) and np.shape(left) != np.shape(right):
        raise ShapeClash(f"the left side is {_shape(left)}, the right side {_shape(right)}")
    ok, _ = run.arith.close(left, right)
    return ok, left, right


def _shape(a) -> str:
    return " × ".join(str(n) for n in np.shape(a))


def _numbers(a) -> list:
    """Up to six entries, rounded: enough to see two values differ."""
    flat = np.asarray(a, dtype=float).reshape(-1)
    return [float(f"{v:.6g}") for v in flat[:6]]


# ---------------------------------------------------------------- the right-hand side that holds


def _mentioned(note: NoteCell) -> set[str]:
    """Values whose gradient the note writes (δv, ∂J/∂v or a δ name): kept in expected formulas."""
    out = set(note.gradient_names.values())
    for item in note.text.items:
        for node in walk(item.tree):
            if isinstance(node, Differential) and isinstance(node.operand, Symbol):
                out.add(note.notation.ir_name(node.operand))
            if isinstance(node, Derivative) and isinstance(node.wrt, Symbol):
                out.add(note.notation.ir_name(node.wrt))
    return out


def _expected(item: Item, note: NoteCell, d) -> str | None:
    """The derivation's right-hand side for the claim's left side, in the note's notation."""
    lhs = item.tree.lhs
    notation = note.notation
    roles = {"y_hat": note.readout.value, "y_bar": note.readout.logits} if note.readout else {}
    inverse = {v: k for k, v in roles.items()}
    at = None
    if reading.is_delta_name(lhs) and notation.ir_name(lhs) in note.gradient_names:
        name, kind = note.gradient_names[notation.ir_name(lhs)], "value"
    elif isinstance(lhs, Differential) and isinstance(lhs.operand, Symbol):
        name, kind = notation.ir_name(lhs.operand), "value"
    elif isinstance(lhs, Derivative) and reading.is_loss_symbol(lhs.of) and isinstance(lhs.wrt, Symbol):
        of = lhs.of.func if not isinstance(lhs.of, Symbol) else lhs.of
        if of.time is not None:
            return None
        name = notation.ir_name(lhs.wrt)
        kind = "param" if name in note.params else "value"
        if kind == "value" and lhs.wrt.time is not None and lhs.wrt.time.var is None and lhs.wrt.time.offset == 0:
            kind, at = "initial", 1
    elif isinstance(lhs, Symbol) and notation.ir_name(lhs) in note.values:
        name = notation.ir_name(lhs)
        for eq_lhs, rhs in note.cell.equations:
            if eq_lhs.name == name:
                return notation.print(rhs)
        return None
    else:
        return None
    role = inverse.get(name, name)
    if kind == "param":
        equations = [e for e in d.param_grads if e.lhs.name == role]
    elif kind == "initial":
        equations = [e for e in d.initial_grads if e.lhs.name == role]
    else:
        equations = [e for e in d.backward if e.lhs.name == role]
    if not equations:
        return None
    rhs = _inline(equations[0].rhs, d, _mentioned(note) | set(note.states), inverse)
    text = notation.print(rhs, at=at)
    if kind == "param":
        text = r"\sum_{t} " + text if not _has_limits(item.tree.rhs) else r"\sum_{t=1}^{T} " + text
    return text


def _has_limits(rhs) -> bool:
    return isinstance(rhs, Sum) and rhs.upper is not None


def _inline(expr, d, keep: set[str], inverse: dict) -> object:
    """Replace δ of values the note never names by their formulas (δΓ_u → δc ⊙ (c̃ − c_{t−1}))."""
    from symrnn.simplify import simplify

    for _ in range(10):
        mapping = {}
        for leaf in ir.leaves(expr):
            if leaf.kind != ir.GRAD or leaf.shift is None:
                continue
            name = leaf.name
            note_name = {v: k for k, v in inverse.items()}.get(name, name)
            if note_name in keep or name in keep or name not in d.local_grads or name in d.cell.states:
                continue
            mapping[leaf] = ir.shift_time(d.local_grads[name], leaf.shift)
        if not mapping:
            break
        expr = ir.substitute(expr, mapping)
    return simplify(expr)
