"""``symrnn check``: every equation of a note read, and every claim checked against the derivation.

A claim is evaluated on random problems of several sizes and lengths (float64);
a difference is confirmed at 40 digits before it is called wrong, and then
the report shows the sizes, the step, both values, and the right-hand side
that holds, written in the note's notation.  Unnamed functions (f, g) are
replaced by two unrelated functions (sin, softplus): a claim that holds for
both holds for any f; one that needs f = tanh says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import reading
from .build import NoteCell, NoteCellError, build_cells
from .context import NoteContext, is_relation
from .expected import expected_or_none
from .free_values import FreeEvaluator, ShapeClash
from .judge import judge
from .match import Departure, Match, identify
from .model import is_loss_key
from .numbers import NoteArithmetic, Unsupported
from .reading import Item, NoteText, read_note_text, walk
from .shape_lines import ShapeLineError, describe, own_shape, sizes_from
from .shapes import ShapeMismatch, Shapes, ShapeUnknown, infer
from .source import NoteSource
from .tree import Apply, Derivative, Differential, Entry, Equation, Func, Product, Symbol, map_subtrees
from .verdicts import DEFINITION, ERROR, HOLDS, UNCHECKED, WARNING, WRONG, Verdict

# Claims judged on the note's program (the guard on WRONG looks at these).
_MODEL_CLAIMS = frozenset({reading.FORWARD_CLAIM, reading.GRADIENT_CLAIM, reading.IDENTITY})

# Letters that name a step: an identity reading one of them as a factor misread the note's (t).
STEP_LETTERS = frozenset({"t", "T", "tau", "k", "s", "n"})


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
    """A note's cells and claims (NoteInputError when the file cannot be read at all)."""
    text = read_note_text(path)
    return NoteReading(text.file, build_cells(text), text.items)


def check(path: str | Path) -> list[Verdict]:
    """One :class:`Verdict` per equation of a note, in file order.

    Args:
        path: the note (.md, .tex, .ipynb; ``-`` reads standard input).

    Returns:
        The verdicts; a piece of math that cannot be read is ``unchecked`` naming the
        construct, and an internal error on one equation is an ``error`` verdict.

    Raises:
        NoteInputError: the file cannot be read at all (missing, too large, not UTF-8).
    """
    return check_note_text(read_note_text(path))


def check_text(text: str, name: str = "<text>", kind: str | None = None) -> list[Verdict]:
    """Check a note given as a string (``symrnn.check_text``).

    Args:
        text: the note's text.
        name: the file name verdicts carry (its suffix picks the kind when ``kind`` is None).
        kind: "markdown", "latex" or "ipynb" (None: from ``name``, else Markdown).

    Returns:
        One Verdict per equation, as :func:`check`.
    """
    return check_note_text(read_note_text(NoteSource.from_text(text, name, kind)))


def check_note_text(text: NoteText) -> list[Verdict]:
    """The verdicts of a note already read (reading.read_note_text)."""
    context = NoteContext(text)
    cells = build_cells(text)
    matches = {c.text.index: identify(c) for c in cells}
    out = [_unreadable(u) for u in text.unreadable]
    judged: list[tuple[Item, Verdict]] = []
    for item in text.items:
        note = cells[item.cell] if item.cell is not None else None
        try:
            verdict = _verdict(item, note, matches.get(item.cell), text, context)
        except Exception as error:  # noqa: BLE001 - one equation's bug must not hide the others' verdicts
            verdict = _internal(item, error)
        judged.append((item, verdict))
    out.extend(_guard_wrong(judged))
    out.sort(key=lambda v: (v.line, v.column))
    return out


def _guard_wrong(judged: list[tuple[Item, Verdict]]) -> list[Verdict]:
    """WRONG on the note's model only where at least as many claims of the same cell hold on it.

    When most claims judged on a cell's program fail, the likelier fault is our reading of
    the model (a misread size, name or convention), not most lines of the note: those
    verdicts become unchecked, saying so (exit 3, never a pass).  A WRONG among claims that
    mostly hold stands.
    """
    holds: dict = {}
    wrong: dict = {}
    for item, v in judged:
        if v.kind in _MODEL_CLAIMS and v.verdict in (HOLDS, WRONG):
            counts = holds if v.verdict == HOLDS else wrong
            counts[item.cell] = counts.get(item.cell, 0) + 1
    out = []
    for item, v in judged:
        if v.verdict == WRONG and v.kind in _MODEL_CLAIMS and holds.get(item.cell, 0) < wrong.get(item.cell, 0):
            v = Verdict(
                v.file,
                v.line,
                v.column,
                v.latex,
                UNCHECKED,
                f"{v.message.splitlines()[0]} — not called wrong: more claims of this part of the note fail than "
                "hold on the checker's reading of its model, so the reading may be at fault",
                v.kind,
            )
        out.append(v)
    return out


def _unreadable(u) -> Verdict:
    construct = f" ({u.construct})" if u.construct else ""
    message = f"cannot be read{construct}: {u.message}; every other equation is still checked"
    extra = {"construct": u.construct} if u.construct else {}
    return Verdict(u.file, u.line, u.column, u.latex.strip(), UNCHECKED, message, "unreadable", **extra)


def _internal(item: Item, error: Exception) -> Verdict:
    p = item.parsed
    message = f"internal error of the checker ({type(error).__name__}: {error}); this is a bug, not your mistake"
    return Verdict(p.file, p.line, p.column, p.latex.strip(), ERROR, message, item.kind, error=error)


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
    if kind in (reading.SHAPE, reading.IDENTITY, reading.FORWARD_CLAIM, reading.GRADIENT_CLAIM):
        hole = context.hole_for(item)
        if hole is not None:
            return _make(item, UNCHECKED, f"needs line {hole.line}, which {hole.reason}")
    if kind == reading.SHAPE:
        return _shape_line(item, note, text)
    if kind == reading.IDENTITY:
        if context.mentions_model(item):
            return _claim(item, note, context, match)  # about the note's own values: judged on its program
        return _identity(item, note, text)
    if kind in (reading.FORWARD_CLAIM, reading.GRADIENT_CLAIM):
        if context.defines_name(item):
            return _make(item, DEFINITION, "names a quantity used by later lines")
        return _claim(item, note, context, match)
    return _make(item, UNCHECKED, "not an equation the checker reads")


def _definition_message(item: Item, note: NoteCell | None) -> str:
    tree = item.tree
    return {
        reading.ALIAS: "names a block of parameters",
        reading.FUNCTION: "names the function",
        reading.LOSS: f"the loss{_loss_text(note)}",
        reading.GRADIENT_NAME: "names a gradient (later lines use it as the note defines it)",
        reading.BOUNDARY: "nothing comes after step T: every δ at T+1 is zero",
        reading.RANGE: "the steps",
        reading.PROSE: "prose math (a range, a step, a number or an initial value), not a claim",
        reading.GENERAL: "the general form of a recurrence; nothing to check",
        reading.UPDATE: "an update rule (an assignment, not an equation); nothing to check",
        reading.SPLIT: "names the blocks of a value (later lines use them)",
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
    if isinstance(item.tree.lhs, Entry):
        return _make(item, DEFINITION, "definition, unit by unit (every entry of the vector it names)")
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


def _identity(item: Item, note: NoteCell | None, text: NoteText) -> Verdict:
    """A claim about letters the note never defines: [A, B][C; D] = AC + BD, σ'(x) = σ(x)(1 − σ(x)).

    With an element-wise function in it, every letter is a number and the identity is checked
    at several random points; without, the letters are random matrices of fitting shapes.
    """
    tree = item.tree
    if not isinstance(tree, Equation):
        return _make(item, UNCHECKED, "not an equation")
    relations = [op for op in tree.ops if op not in ("=", ":=", "equiv")]
    if relations:
        return _make(item, UNCHECKED, f"the relation {', '.join(relations)} is not checked as an equation")
    letters = [s for s in walk(tree) if isinstance(s, Symbol)]
    steps = sorted({s.name for s in letters if _is_step_letter(s)})
    if steps:
        # x(t) read as the product x·t: the note's time notation was not understood, so the
        # letters are not free matrices and nothing may be concluded from them.
        return _make(item, UNCHECKED, f"reads the step letter {steps[0]} as a factor; this notation is not understood")
    functions = _function_names(text)
    misread = sorted({s.name for s in letters if s.name in functions and s.time is None})
    if misread:
        return _make(item, UNCHECKED, f"{misread[0]} is a function in this note but reads as a value here")
    elementwise = any(isinstance(n, Apply) for n in walk(tree))
    lhs = tree.lhs
    if elementwise and isinstance(lhs, Product) and lhs.op == "juxt" and isinstance(lhs.left, Symbol):
        arguments = {a.name for n in walk(tree.rhs) if isinstance(n, Apply) for a in n.args if isinstance(a, Symbol)}
        if isinstance(lhs.right, Symbol) and lhs.right.name in arguments:
            # h(x) = 2σ(x) − 1 read as h·x = …: a definition of the function h, not a claim.
            return _make(
                item,
                UNCHECKED,
                f"{lhs.left.name} {lhs.right.name} reads as a product; if "
                f"{lhs.left.name} is a function, this line defines it",
            )
    points = 6 if elementwise else 1
    for seed in range(points):
        outcome = _identity_at(item, note, tree, seed, elementwise)
        if outcome is not None:
            return outcome
    if elementwise:
        return _make(item, HOLDS, f"an element-wise identity: holds at {points} random points")
    return _make(item, HOLDS, "an identity of matrices: holds for random matrices of fitting shapes")


def _identity_at(item, note, tree, seed: int, elementwise: bool) -> Verdict | None:
    """None if the two sides agree at one random instance, else the verdict (wrong or unchecked)."""
    shapes, table = Shapes(), {}
    notation = note.notation if note else None

    def lookup(symbol: Symbol):
        name = notation.ir_name(symbol) if notation else symbol.name
        if name not in table:
            table[name] = (1, 1) if elementwise else (shapes.fresh("r"), shapes.fresh("c"))
        return table[name]

    try:
        shapes.same(infer(tree.lhs, lookup, shapes), infer(tree.rhs, lookup, shapes), "the two sides")
    except ShapeUnknown as error:
        return _make(item, UNCHECKED, f"cannot tell the shapes: {error}")
    except ShapeMismatch as error:
        if elementwise:
            return _make(item, UNCHECKED, f"cannot tell the shapes: {error}")
        return _make(item, WRONG, f"the shapes do not fit: {error}")
    rng = np.random.default_rng(seed)
    free = sorted({s for shape in table.values() for d in shape for s in shapes.resolve(d).free_symbols}, key=str)
    sizes = {s: int(rng.integers(2, 5)) for s in free}
    env = {}
    for name, shape in table.items():
        dims = [int(shapes.resolve(d).xreplace(sizes)) for d in shape]
        env[name] = rng.normal(size=dims)
    try:
        for arith in (NoteArithmetic(False), NoteArithmetic(True)):
            evaluator = FreeEvaluator(note, arith, env)
            left, right = evaluator.value(tree.lhs, {}), evaluator.value(tree.rhs, {})
            ok, _ = arith.close(left, right)
            if ok:
                return None  # agrees in float64 (or, after a float64 difference, at 40 digits)
    except (Unsupported, ShapeClash, ValueError) as error:
        return _make(item, UNCHECKED, f"cannot evaluate: {error}")
    what = "an element-wise identity" if elementwise else "an identity of matrices"
    return _make(item, WRONG, f"{what}: fails at a random instance (seed {seed}), confirmed at 40 digits")


def _function_names(text: NoteText) -> set[str]:
    """Names the note uses as functions (h in h(s_c(t)), g in g(x) = …)."""
    out = set()
    for tree in [i.tree for i in text.items] + [m.tree for m in text.mentions]:
        for node in walk(tree):
            if isinstance(node, Apply) and isinstance(node.func, Func | Symbol):
                out.add(node.func.name)
    return out


def _is_step_letter(symbol: Symbol) -> bool:
    return symbol.name in STEP_LETTERS and symbol.sub is None and symbol.sup is None


# ---------------------------------------------------------------- claims


def _claim(item: Item, note: NoteCell | None, context: NoteContext, match=None) -> Verdict:
    """A claim checked against the note's own model (judge.py); the catalogue only names the fix."""
    tree = item.tree
    if not isinstance(tree, Equation):
        return _make(item, UNCHECKED, "not an equation")
    problems = context.problems_for(item)
    if problems is None:
        return _make(item, UNCHECKED, context.why_not(item))
    lhs = tree.lhs
    if item.kind == reading.FORWARD_CLAIM and reading.is_loss_symbol(lhs):
        # E(t) = … beside E = Σ_t E(t): a per-step loss under the total's name, not a claim about E.
        return _make(
            item, UNCHECKED, f"a second equation for the loss {lhs.func.name if hasattr(lhs, 'func') else lhs.name}"
        )
    unread = _unread_step_loss(problems.model)
    if unread is not None and any(isinstance(n, Derivative) and reading.is_loss_symbol(n.of) for n in walk(tree)):
        # E = Σ_t E(t) with E(t) = ½ Σ_k (…)² written as a second equation: the program's E(t) is a
        # generic loss, so a gradient of E in the note's own terms cannot be judged on it.
        return _make(
            item,
            UNCHECKED,
            f"line {unread.line} gives the per-step loss a formula the checker does not read as its definition",
        )
    if reading.is_delta_name(lhs) and reading.key(lhs) not in problems.model.gradient_names:
        if ("sym", reading.key(lhs)) not in context.aux:
            # δ_h alone: ∂E/∂h or ∂E/∂net_h? The note does not say, and the two differ.
            return _make(item, UNCHECKED, f"the note does not say which gradient δ_{lhs.sub or lhs.sup} names")
    stray = _stray_symbol(tree, problems.model, context.aux)
    if stray is not None:
        return _make(item, UNCHECKED, f"mentions {stray}, which none of the note's forward equations uses")
    outcome = _judge_every_parameter(tree, problems, context.aux)
    if outcome.verdict == HOLDS:
        return _make(item, HOLDS, outcome.message)
    if outcome.verdict == WRONG and outcome.counterexample is None and not isinstance(match, Match):
        # A product that does not fit, in a note whose cell the catalogue does not confirm: the
        # sizes are our reading of the note, so this is not evidence enough for WRONG.
        return _make(
            item, UNCHECKED, f"{outcome.message} at the sizes the checker read; not called wrong on shapes alone"
        )
    if outcome.verdict == WRONG:
        return _make(
            item,
            WRONG,
            outcome.message,
            expected_latex=expected_or_none(item, note),
            counterexample=outcome.counterexample,
        )
    return _make(item, UNCHECKED, outcome.message)


def _judge_every_parameter(tree: Equation, problems, aux: dict):
    """A claim "for any parameter θ" (θ in no forward equation) is judged with θ each of the model's parameters.

    It holds when it holds for every one; the first parameter it fails for is named.
    """
    model = problems.model
    used = {reading.key(s) for d in model.definitions.values() for s in reading.symbols(d.rhs)}
    placeholders = {
        reading.key(s)
        for s in reading.symbols(tree)
        if s.name == "theta"
        and s.time is None
        and not (s.sub or s.sup or s.primes or s.accents)
        and reading.key(s) not in used
        and s.name not in model.functions
    }
    if len(placeholders) != 1:
        return judge(tree, problems, aux)
    (theta,) = placeholders
    params = [k for k in model.params() if k in used and k in model.symbols and not model.is_number(k)]
    if not params:
        return judge(tree, problems, aux)
    outcomes = []
    for k in params:
        outcome = judge(_substitute(tree, theta, model.symbols[k]), problems, aux)
        if outcome.verdict != HOLDS:
            outcome.message += (
                f" (with θ = {model.symbols[k].name}{'_' + model.symbols[k].sub if model.symbols[k].sub else ''})"
            )
            return outcome
        outcomes.append(outcome)
    outcomes[0].message += f"; for every parameter θ ({len(params)} of them)"
    return outcomes[0]


def _substitute(node, k: tuple, by: Symbol):
    """``node`` with every symbol of key ``k`` replaced by ``by``."""
    if isinstance(node, Symbol):
        return by if reading.key(node) == k and node.time is None else node
    if isinstance(node, tuple):
        return tuple(_substitute(n, k, by) for n in node)
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return node
    return map_subtrees(node, lambda child: _substitute(child, k, by))


def _unread_step_loss(model) -> Item | None:
    """``E(t) = …`` beside ``E = Σ_t E(t)``, read as a claim while the program's E(t) is generic."""
    for item in model.items:
        lhs = item.tree.lhs if isinstance(item.tree, Equation) else None
        if item.kind == reading.FORWARD_CLAIM and isinstance(lhs, Symbol) and reading.is_loss_symbol(lhs):
            if lhs.time is not None and model.is_generic_loss(reading.key(lhs)):
                return item
    return None


def _stray_symbol(tree, model, aux: dict) -> str | None:
    """A value the claim uses that the model knows nothing of (it would be read as a random input)."""
    used = set(model.definitions) | set(model.gradient_names) | {k[1] for k in aux if k and k[0] == "sym"}
    for d in model.definitions.values():
        used.update(reading.key(s) for s in reading.symbols(d.rhs))
    skip = set()
    for node in walk(tree):
        if isinstance(node, Derivative | Differential):
            skip.update(id(n) for n in walk(node))
    for node in walk(tree):
        if not isinstance(node, Symbol) or id(node) in skip:
            continue
        k = reading.key(node)
        if k in used or model.is_number(k) or is_loss_key(k) or node.name in STEP_LETTERS:
            continue
        if node.time is not None:
            return node.name
    return None
