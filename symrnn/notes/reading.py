"""What each equation of a note is: a definition (and of what) or a claim — and which cell it belongs to.

The reading rules of ML notes (tests/fixtures/notes/EXPECTED.md):

- an equation whose left side names something not defined before is a
  definition; any other is a claim to check;
- ∂J/∂v is the total gradient; δv (and dv) mean ∂J/∂v unless the note names
  them otherwise (``\\delta_u^{(t)} = \\partial J / \\partial z_u^{(t)}``);
- a loss left generic (E = Σ_t E_t) stands for arbitrary upstream gradients.

A note may define several cells (an RNN, then an LSTM).  A section (Markdown
heading or LaTeX ``\\section``) whose forward definitions rename something the
current cell already defined, or that builds on nothing of a complete cell,
starts a new cell; within a section a second equation for a defined name is a
claim about it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from .entries import apply_functions, formula_letters, other_units, pinned_functions, to_entries, unit_letters
from .labels import label_letters, relabel
from .length_letter import length_letter, rename_length
from .read import ParsedEquation, read_notes
from .source import NoteSource
from .sup_steps import read_sup_steps, sup_step_keys
from .tree import (
    Add,
    Apply,
    Cases,
    Concat,
    Derivative,
    Differential,
    Dots,
    Equation,
    EquationList,
    Func,
    Matrix,
    Number,
    Power,
    Product,
    Sub,
    Sum,
    Symbol,
    Tuple,
    map_subtrees,
    walk,
)
from .units import expand_units
from .unread import hole_of

LOSS_NAMES = frozenset({"J", "E", "L", "loss", "ell"})
_HEADING = re.compile(r"^(#{1,6}\s|\\(?:part|chapter|section|subsection|subsubsection)\*?\s*\{)")

# Item kinds.  Definitions:
FORWARD = "forward"  # a new value of the cell: h_t = tanh(...)
ALIAS = "alias"  # a parameter named from others: W_a = [W_aa | W_ax]
FUNCTION = "function"  # f = tanh
LOSS = "loss"  # J = Σ_t L_t, L(ŷ, y) = ...
GRADIENT_NAME = "gradient-name"  # δ_u = ∂J/∂z_u, or δa = ∂J/∂a restated
BOUNDARY = "boundary"  # δz^{(T+1)} = 0
RANGE = "range"  # t = 1, …, T
GENERAL = "general"  # h', y = f(h, x): the general form, nothing to check
UPDATE = "update"  # W = W − η ∂E/∂W
# Claims:
FORWARD_CLAIM = "forward-claim"
GRADIENT_CLAIM = "gradient-claim"
IDENTITY = "identity"  # a claim about symbols the note never defines: [A, B][C; D] = AC + BD
SHAPE = "shape"  # 100 × 1 = σ((100 × 1100)(1100 × 1) + 100 × 1)
OTHER = "other"
PROSE = "prose"  # math in a sentence that states a range, a step, a number or an initial value
SPLIT = "split"  # a_t = [a_i, a_f, a_o, a_g]: names for the blocks of a value already defined

DEFINITIONS = frozenset({FORWARD, ALIAS, FUNCTION, LOSS, GRADIENT_NAME, BOUNDARY, RANGE, GENERAL, UPDATE, PROSE, SPLIT})


@dataclass
class Item:
    """One equation of a note, with its reading."""

    parsed: ParsedEquation
    section: int
    kind: str = OTHER
    cell: int | None = None  # index into NoteReading.cells

    @property
    def tree(self):
        return self.parsed.tree

    @property
    def line(self) -> int:
        return self.parsed.line


@dataclass
class CellText:
    """The equations of one cell as the note wrote them (before shapes and IR)."""

    index: int
    forward: list[Item] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)  # every equation read in this cell's scope
    defined: dict[tuple, Item] = field(default_factory=dict)  # symbol key → its definition

    @property
    def lines(self) -> tuple[int, int]:
        lines = [i.line for i in self.forward] or [i.line for i in self.items]
        return min(lines), max(lines)


# ---------------------------------------------------------------- tree helpers


def key(symbol: Symbol) -> tuple:
    return (symbol.name, symbol.accents, symbol.sub, symbol.sup, symbol.primes)


def symbols(node) -> list[Symbol]:
    return [n for n in walk(node) if isinstance(n, Symbol)]


def has_gradient(node) -> bool:
    return any(isinstance(n, Derivative | Differential) or is_delta_name(n) for n in walk(node))


def is_delta_name(node) -> bool:
    """``\\delta_u``, ``\\delta^{(t)}``, ``\\boldsymbol\\delta_t``: one symbol the note may name a gradient with."""
    return (
        isinstance(node, Symbol)
        and node.name == "delta"
        and (node.sub is not None or node.sup is not None or node.time is not None)
    )


def is_loss_symbol(node) -> bool:
    if isinstance(node, Apply) and isinstance(node.func, Symbol):
        node = node.func
    return isinstance(node, Symbol) and node.name in LOSS_NAMES and not node.accents


def is_shape_line(tree) -> bool:
    nodes = list(walk(tree))
    return any(isinstance(n, Product) and n.op == "times" for n in nodes) and not any(
        isinstance(n, Symbol) for n in nodes
    )


# ---------------------------------------------------------------- sections


def section_of_lines(text: str) -> list[int]:
    """For each 1-based line, the index of the section it is in (0 before any heading)."""
    out = [0]
    section, fenced = 0, False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and _HEADING.match(line.lstrip()):
            section += 1
        out.append(section)
    out.append(section)
    return out


# ---------------------------------------------------------------- classification


def classify(tree, defined: set[tuple], gradient_names: set[tuple]) -> str:
    """The kind of one equation, given the names defined so far in its cell."""
    if not isinstance(tree, Equation):
        return OTHER
    if _stacked(tree):
        # a claim at every unit (units.py), stacked: read as its first instance
        first = Equation((tree.lhs.items[0], tree.rhs.items[0]), tree.ops, span=tree.span)
        kind = classify(first, defined, gradient_names)
        if kind in (FORWARD, ALIAS, UPDATE):
            return GRADIENT_CLAIM if has_gradient(tree) else FORWARD_CLAIM  # only claims are stacked
        return kind
    if is_shape_line(tree):
        return SHAPE
    lhs, rhs = tree.lhs, tree.rhs
    if _initial_value(lhs, rhs):
        return PROSE  # c(1) = 0.5·1, h_0 = 0: a value at one fixed step, not the recurrence
    if _binds_step(lhs, rhs):
        return PROSE  # "at t = T_x", "t = T": which step is meant, not an equation to check
    if isinstance(lhs, Func) and isinstance(rhs, Func):
        return FUNCTION
    if _defines_function(lhs):
        return FUNCTION  # g(x) = 4σ(x) − 2: the note's own function, not a claim about σ
    if _names_function(tree):
        return FUNCTION  # g = h = \tanh, θ_h = \tanh, g = 2\tanh: letters naming a function
    if (
        isinstance(lhs, Symbol)
        and lhs.time is None
        and isinstance(rhs, Tuple)
        and any(isinstance(i, Dots) for i in rhs.items)
    ):
        return RANGE
    if isinstance(lhs, Tuple):
        return GENERAL
    if isinstance(rhs, Number) and rhs.value == 0 and has_gradient(lhs) and _past_a_step(lhs):
        return BOUNDARY  # δh_{T+1} = 0; ∂L/∂g_t = 0 is a claim
    if isinstance(lhs, Symbol) and key(lhs) in gradient_names and not is_delta_name(lhs):
        return GRADIENT_CLAIM  # J_t = diag(z) + … after J_t = ∂h_t/∂h_{t-1}: a claim about the Jacobian
    if _names_jacobian(lhs, rhs) and key(lhs) not in defined:
        return GRADIENT_NAME  # J_t = ∂h_t/∂h_{t-1}: a name for a Jacobian, whatever its letter
    if is_loss_symbol(lhs):
        return LOSS if _lhs_key(lhs) not in defined else FORWARD_CLAIM
    if is_delta_name(lhs) and isinstance(rhs, Derivative) and key(lhs) not in gradient_names:
        return GRADIENT_NAME
    if isinstance(lhs, Differential) and isinstance(rhs, Derivative) and _same_symbol(lhs.operand, rhs.wrt):
        return GRADIENT_NAME
    if (
        isinstance(lhs, Differential)
        and isinstance(lhs.operand, Symbol)
        and isinstance(rhs, Derivative)
        and is_loss_symbol(rhs.of)
        and isinstance(rhs.wrt, Symbol)
        and key(rhs.wrt) != key(lhs.operand)
    ):
        return GRADIENT_NAME  # dΓ_f = ∂J/∂z_f: the note names its own gradient (Ng's convention)
    if isinstance(lhs, Derivative | Differential) or is_delta_name(lhs):
        return GRADIENT_CLAIM
    if isinstance(lhs, Symbol):
        if any(isinstance(s, Symbol) and key(s) == key(lhs) and s.time == lhs.time for s in symbols(rhs)):
            return UPDATE
        if key(lhs) in defined and split_parts(tree, defined) is not None:
            return SPLIT
        if key(lhs) in defined:
            return GRADIENT_CLAIM if has_gradient(rhs) else FORWARD_CLAIM
        if has_gradient(rhs):
            return GRADIENT_CLAIM  # a new name for a gradient expression: checked as what it claims
        if _is_alias(lhs, rhs):
            return ALIAS
        return FORWARD
    return IDENTITY


def _stacked(tree: Equation) -> bool:
    sides = tree.sides
    return (
        len(sides) == 2
        and all(isinstance(s, Concat) and s.sep == ";" and s.span is None for s in sides)
        and len(sides[0].items) == len(sides[1].items) > 1
    )


def split_parts(tree, defined) -> list[Symbol] | None:
    """The new names of ``a_t = [a_i, a_f, a_o, a_g]`` (blocks of a defined value), else None.

    Every block is a bare name defined nowhere before, untimed or at the left side's step.
    """
    if not (isinstance(tree, Equation) and len(tree.sides) == 2 and isinstance(tree.lhs, Symbol)):
        return None
    rhs = tree.rhs
    if isinstance(rhs, Concat) and rhs.sep in (",", ";", "|"):
        parts = list(rhs.items)
    elif isinstance(rhs, Matrix) and (len(rhs.rows) == 1 or all(len(r) == 1 for r in rhs.rows)):
        parts = [c for row in rhs.rows for c in row]
    else:
        return None
    if len(parts) < 2 or not all(isinstance(p, Symbol) and not p.primes for p in parts):
        return None
    keys = [key(p) for p in parts]
    if len(set(keys)) != len(keys) or any(k in defined or k == key(tree.lhs) for k in keys):
        return None
    if any(p.time is not None and p.time != tree.lhs.time for p in parts):
        return None
    return parts


def split_vertical(rhs, convention: str) -> bool:
    """Are the blocks of a split stacked (rows) rather than side by side (columns)?"""
    if isinstance(rhs, Matrix):
        return len(rhs.rows) > 1
    return rhs.sep == ";" or (rhs.sep == "," and convention == "column")


# Functions with a meaning of their own: σ(x) = 1/(1 + e^{-x}) is a claim about σ, not a definition.
KNOWN_FUNCTIONS = frozenset(
    {"sigma", "sigmoid", "tanh", "exp", "log", "ln", "relu", "ReLU", "softmax", "softplus", "sin", "cos", "step"}
)


def _defines_function(lhs) -> bool:
    """``g(x) = …`` with g an unnamed letter applied to one plain letter."""
    return (
        isinstance(lhs, Apply)
        and isinstance(lhs.func, Func)
        and lhs.func.primes == 0
        and lhs.func.name not in KNOWN_FUNCTIONS
        and len(lhs.args) == 1
        and isinstance(lhs.args[0], Symbol)
        and lhs.args[0].time is None
        and lhs.args[0].sub is None
    )


STEP_LETTERS = frozenset({"t", "k", "s", "tau", "n", "i", "j", "l", "m"})


def _binds_step(lhs, rhs) -> bool:
    """``t = T_x``, ``k = 1``, ``t = T - 1``: a bare step letter set to a step count or a number."""
    if not (isinstance(lhs, Symbol) and lhs.name in STEP_LETTERS and not lhs.accents):
        return False
    if lhs.sub is not None or lhs.sup is not None or lhs.time is not None or lhs.primes:
        return False
    for node in walk(rhs):
        if isinstance(node, Symbol) and not (node.name in ("T", "N", "L", "n") or node.name in STEP_LETTERS):
            return False
        if not isinstance(node, Symbol | Number | Add | Sub):
            return False
    return True


def _past_a_step(lhs) -> bool:
    """Does the left side name a step after another (h_{T+1}, h_{t+1}): the boundary of a recurrence?"""
    return any(isinstance(n, Symbol) and n.time is not None and n.time.offset > 0 for n in walk(lhs))


def _initial_value(lhs, rhs) -> bool:
    """``h_0 = 0``, ``c(1) = 0.5 \\cdot 1``: a symbol at a fixed step set to something without steps."""
    if not (isinstance(lhs, Symbol) and lhs.time is not None and lhs.time.var is None):
        return False
    return not any(isinstance(n, Symbol) and n.time is not None for n in walk(rhs)) and not has_gradient(rhs)


def _names_function(tree: Equation) -> bool:
    """Every side but the last a bare letter, the last a bare function (or a number times one)."""
    last = tree.sides[-1]
    if isinstance(last, Product) and isinstance(last.left, Number):
        last = last.right
    if not isinstance(last, Func):
        return False
    return all(isinstance(s, Func | Symbol) for s in tree.sides[:-1])


def _names_jacobian(lhs, rhs) -> bool:
    """``J_t = ∂h_t/∂h_{t-1}``: a plain name for the Jacobian of one value by another (no loss in it)."""
    return (
        isinstance(lhs, Symbol)
        and not is_delta_name(lhs)
        and isinstance(rhs, Derivative)
        and isinstance(rhs.of, Symbol)
        and isinstance(rhs.wrt, Symbol)
        and not is_loss_symbol(rhs.of)
        and rhs.of.time is not None
        and rhs.wrt.time is not None  # of one value by another (q = ∂h_i(t)/∂u_{mk} is read by units.py)
    )


def _step_value(item: Item, cell: CellText) -> bool:
    """``C_t = …`` (no gradient in it) where the name's untimed definition sums C over the steps."""
    lhs = item.tree.lhs
    total = cell.defined.get(key(lhs)) if isinstance(lhs, Symbol) else None
    if total is None or lhs.time is None or lhs.time.offset or has_gradient(item.tree.rhs):
        return False
    tree = total.tree
    if not isinstance(tree, Equation) or not isinstance(tree.lhs, Symbol) or tree.lhs.time is not None:
        return False
    return isinstance(tree.rhs, Sum) and any(
        isinstance(n, Symbol) and key(n) == key(lhs) and n.time is not None for n in walk(tree.rhs)
    )


def _step_term(item: Item, cell: CellText) -> bool:
    if not isinstance(item.tree.lhs, Apply | Symbol):
        return False  # a claim stacked over units (units.py) is no loss term
    return is_step_term(item.tree.lhs, cell.defined.get(_lhs_key(item.tree.lhs)))


def is_step_term(lhs, total: Item | None) -> bool:
    """``L(z_t; y_t)`` (a loss applied to values of one step) where ``total`` sums that loss over steps."""
    if total is None or not isinstance(total.tree, Equation) or not isinstance(lhs, Apply):
        return False
    if not is_loss_symbol(lhs) or not all(isinstance(a, Symbol) and a.time is not None for a in lhs.args):
        return False
    k = _lhs_key(lhs)
    return any(
        isinstance(n, Apply) and isinstance(n.func, Symbol) and key(n.func) == k and n is not lhs
        for n in walk(total.tree.rhs)
    )


def _lhs_key(lhs) -> tuple:
    return key(lhs.func if isinstance(lhs, Apply) else lhs)


def _same_symbol(a, b) -> bool:
    return isinstance(a, Symbol) and isinstance(b, Symbol) and key(a) == key(b) and a.time == b.time


def _is_alias(lhs: Symbol, rhs) -> bool:
    """W_a = [W_aa | W_ax]: an untimed name for a block of other parameters."""
    if lhs.time is not None:
        return False
    nodes = list(walk(rhs))
    if any(isinstance(n, Apply) for n in nodes):
        return False
    if any(isinstance(n, Symbol) and (n.time is not None or n.primes) for n in nodes):
        return False
    return any(isinstance(n, Concat | Matrix) for n in nodes) or isinstance(rhs, Symbol)


# ---------------------------------------------------------------- the whole note


@dataclass
class NoteText:
    file: str
    items: list[Item]
    cells: list[CellText]
    mentions: tuple[ParsedEquation, ...]
    source: str
    unreadable: tuple = ()  # read.Unreadable: math the reader could not read (each one unchecked)
    holes: tuple = ()  # unread.Hole of each: what it may define
    units: bool = False  # written in scalar index notation and expanded unit by unit (units.py): every value a number


def read_note_text(path: str | Path | NoteSource) -> NoteText:
    """Read a note and assign every equation a kind and a cell.

    Args:
        path: the note (a path, ``-`` for standard input, or a NoteSource).

    Returns:
        The NoteText; math that cannot be read is in ``unreadable`` (with the ``holes``
        it leaves in the model), every other equation is read.

    Raises:
        NoteInputError: the note cannot be read at all (missing, too large, not UTF-8).
    """
    notes = read_notes(path, strict=False)
    source = notes.source
    sections = section_of_lines(source)
    letters = label_letters([p.tree for p in notes.equations])
    equations = [dataclasses.replace(p, tree=relabel(p.tree, letters)) if letters else p for p in notes.equations]
    length = length_letter([p.tree for p in equations] + [m.tree for m in notes.mentions])
    mentions = notes.mentions
    if length is not None:  # x_1, …, x_n: the note's n is its last step T
        equations = [dataclasses.replace(p, tree=rename_length(p.tree, length)) for p in equations]
        mentions = tuple(dataclasses.replace(m, tree=rename_length(m.tree, length)) for m in mentions)
    above = sup_step_keys([p.tree for p in equations])
    if above:  # y^0, \bar z^1 beside y^t, \bar z^t: steps, not powers
        equations = [dataclasses.replace(p, tree=read_sup_steps(p.tree, above)) for p in equations]
    equations, stated = _split_stated_spaces(equations)
    # s_k(t) = Σ_l w_{kl} z_l(t): written out unit by unit (units.py) when the note sums over index sets
    # or picks by cases; otherwise a note written unit by unit is read as entries after classification
    # (entries.py: _write_entries below)
    expanded = equations if _entries_read(equations) else expand_units(equations, source)
    units, equations = expanded is not equations, expanded
    items = [Item(p, sections[min(p.line, len(sections) - 1)]) for p in equations]
    cells: list[CellText] = []
    current: CellText | None = None
    gradient_names: set[tuple] = set()

    # Forward definitions by section decide where cells begin.
    by_section: dict[int, list[Item]] = {}
    for item in items:
        by_section.setdefault(item.section, []).append(item)
    for section in sorted(by_section):
        group = by_section[section]
        seen: set[tuple] = set()
        candidates = []
        for item in group:
            tree = item.tree
            if (
                isinstance(tree, Equation)
                and item.parsed.prose is None  # γ = 1/4 in a sentence binds a number, it starts no cell
                and isinstance(tree.lhs, Symbol)
                and not is_loss_symbol(tree.lhs)
                and not has_gradient(tree)
                and not is_delta_name(tree.lhs)
                and key(tree.lhs) not in seen
                and classify(tree, set(), set()) == FORWARD
            ):
                seen.add(key(tree.lhs))
                candidates.append(item)
        if candidates and (current is None or _starts_cell(current, candidates, section)):
            current = CellText(len(cells))
            cells.append(current)
        for item in group:
            if current is None:
                current = CellText(len(cells))
                cells.append(current)
            item.kind = classify(item.tree, set(current.defined), gradient_names)
            if item.parsed.prose is not None:
                item.kind = PROSE  # 1 ≤ t ≤ T, at t = T_x, γ = 1/4, h_0 = 0: prose, not a claim
            elif item.kind == FORWARD_CLAIM and _step_term(item, current):
                item.kind = LOSS  # L(z_t; y_t) = … beside L(z, y) = Σ_t L(z_t; y_t): the formula of each term
            elif item.kind == FORWARD_CLAIM and _step_value(item, current):
                item.kind = FORWARD  # C_t = C(a_t, y_t) beside C = Σ_t C_t: what each term of the sum is
            if item.kind == FORWARD and isinstance(item.tree.lhs, Symbol):
                current.defined.setdefault(key(item.tree.lhs), item)
                current.forward.append(item)
            elif item.kind in (ALIAS, LOSS):
                current.defined[_lhs_key(item.tree.lhs)] = item
            elif item.kind == SPLIT:
                for part in split_parts(item.tree, current.defined):
                    current.defined[key(part)] = item
            elif item.kind == GRADIENT_NAME and (
                is_delta_name(item.tree.lhs) or _names_jacobian(item.tree.lhs, item.tree.rhs)
            ):
                gradient_names.add(key(item.tree.lhs))
            item.cell = current.index
            current.items.append(item)
    _apply_function_letters(items)
    _write_entries(items)
    holes = tuple(hole_of(u.line, u.column, u.latex, _reason(u), key) for u in notes.unreadable)
    return NoteText(notes.file, items, cells, mentions + stated, source, notes.unreadable, holes, units)


def _split_stated_spaces(equations: list[ParsedEquation]) -> tuple[list[ParsedEquation], tuple]:
    """``a_t = x_t W_x + b \\in \\mathbb{R}^{N \\times 4H}``: the definition, and the shape it states of a_t.

    The equation is read without its last side; ``a_t \\in \\mathbb{R}^{…}`` joins the
    note's stated shapes (as a mention, like a shape stated in prose).
    """
    out, stated = [], []
    for p in equations:
        parts = p.tree.equations if isinstance(p.tree, EquationList) else (p.tree,)
        kept = []
        for eq in parts:
            kept.append(eq)
            if not (isinstance(eq, Equation) and len(eq.sides) >= 3 and eq.ops[-1] == "in"):
                continue
            space = eq.sides[-1]
            if not (isinstance(space, Power) and isinstance(space.base, Symbol) and space.base.font == "bb"):
                continue
            if any(op not in ("=", ":=", "equiv") for op in eq.ops[:-1]):
                continue
            kept[-1] = Equation(eq.sides[:-1], eq.ops[:-1])
            stated.append(dataclasses.replace(p, tree=Equation((eq.lhs, space), ("in",)), display=False))
        if kept != list(parts):
            tree = EquationList(tuple(kept)) if isinstance(p.tree, EquationList) else kept[0]
            p = dataclasses.replace(p, tree=tree)
        out.append(p)
    return out, tuple(stated)


def _apply_function_letters(items: list[Item]) -> None:
    """``g = h = \\tanh`` makes g and h functions: every ``h (c^t)`` read as a product becomes h(c^t)."""
    letters = set()
    for item in items:
        if item.kind == FUNCTION and isinstance(item.tree, Equation):
            letters |= {s.name for s in item.tree.sides[:-1] if isinstance(s, Symbol) and s.sub is None}
    if not letters:
        return
    for item in items:
        if item.kind != FUNCTION:
            item.parsed = dataclasses.replace(item.parsed, tree=_as_applications(item.parsed.tree, letters))


def _entries_read(equations) -> bool:
    """Does entries.py read this note (unit letters, a forward value defined per unit, no index sets or cases)?"""
    trees = [p.tree for p in equations]
    if any(isinstance(n, Sum) and n.over is not None or isinstance(n, Cases) for t in trees for n in walk(t)):
        return False
    lhs_defined = [t for t in trees if isinstance(t, Equation) and isinstance(t.lhs, Symbol)]
    return bool(unit_letters(trees, lhs_defined))


def _write_entries(items: list[Item]) -> None:
    """Scalar index notation (entries.py): ``s_j(t)``, ``u_{ji}`` become entries of s(t) and u, after classification."""
    forward = [i.tree for i in items if i.kind == FORWARD and isinstance(i.tree, Equation)]
    letters = unit_letters([i.tree for i in items], forward)
    if not letters:
        return
    functions = [i.tree for i in items if i.kind == FUNCTION and isinstance(i.tree, Equation)]
    defined = {key(t.lhs) for t in forward if isinstance(t.lhs, Symbol)}
    trees = [i.tree for i in items if i.kind != FUNCTION]
    pinned = pinned_functions(functions, KNOWN_FUNCTIONS, trees, defined)  # f_{in_j} = f_k = σ
    for letter in formula_letters(items, IDENTITY, defined):
        pinned.setdefault(Symbol(letter), letter)  # h'(s) or h(x) = 2σ(x) − 1: h is a function
    forward = [apply_functions(tree, pinned) for tree in forward]
    others = other_units(forward, letters)
    reserved = set(letters) | {"t", "T", "tau"}
    reserved |= {n.index.name for i in items for n in walk(i.tree) if isinstance(n, Sum) and n.index is not None}
    for item in items:
        tree = item.parsed.tree if item.kind == FUNCTION else apply_functions(item.parsed.tree, pinned)
        item.parsed = dataclasses.replace(item.parsed, tree=to_entries(tree, letters, others, frozenset(reserved)))
        if item.kind == IDENTITY and _defines_function(tree.lhs if isinstance(tree, Equation) else None):
            item.kind = FUNCTION  # h(x) = 2σ(x) − 1, once h is read as a function


def _as_applications(node, letters: set[str]):
    if isinstance(node, Product) and node.op == "juxt" and isinstance(node.left, Symbol):
        left = node.left
        if left.name in letters and left.sub is None and left.sup is None and left.time is None:
            return Apply(Func(left.name, left.primes), (_as_applications(node.right, letters),))
    if not dataclasses.is_dataclass(node):
        return node
    return map_subtrees(node, lambda child: _as_applications(child, letters))


def _reason(unreadable) -> str:
    construct = f" ({unreadable.construct})" if unreadable.construct else ""
    return f"cannot be read{construct}: {unreadable.message}"


def _starts_cell(current: CellText, candidates: list[Item], section: int) -> bool:
    """Does this section's group of forward definitions begin a new cell?"""
    if any(key(i.tree.lhs) in current.defined for i in candidates):
        return True
    complete = any(_is_state(current, k) for k in current.defined)
    if not complete:
        return False
    used = {key(s) for i in candidates for s in symbols(i.tree.rhs)}
    return not (used & set(current.defined))


def _is_state(cell: CellText, k: tuple) -> bool:
    """A defined name used one step back (h_{t-1}) or unprimed beside h' is a state."""
    for item in cell.forward:
        for s in symbols(item.tree.rhs):
            if key(s) == k and s.time is not None and s.time.offset < 0:
                return True
            if k[4] == 1 and key(s)[:4] == k[:4] and s.primes == 0:
                return True
    return False
