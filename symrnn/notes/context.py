"""What one note gives every claim: the model of each cell, its programs, the names defined on the way.

Built once per note, before any claim is judged: each cell's forward
equations become a NoteModel (model.py) with the shapes the note states
(``W \\in \\mathbb{R}^{H \\times D}``, in display or in prose); a model that cannot
be built or shaped is recorded with its reason, so each claim of that cell
gets ``unchecked`` naming it while the other cells are still checked.
"""

from __future__ import annotations

import dataclasses
import re

from . import reading
from .claims import aux_key
from .errors import NotesSyntaxError
from .judge import Problems
from .model import SCALAR_NAMES, STEP_COUNTS, ModelError, NoteModel, build_model, has_gradient, is_loss_key
from .parse import parse_latex
from .reading import Item, NoteText, key
from .sizes import SCALAR, ShapeFailure, size_letters, solve_shapes
from .tree import (
    Apply,
    Concat,
    Differential,
    Equation,
    Frac,
    Matrix,
    Neg,
    Number,
    Power,
    Product,
    Symbol,
    TimeIndex,
    Tuple,
)
from .unread import UNKNOWN, Hole, tainted_keys

DELTA_NAMES = frozenset({"delta", "Delta", "epsilon", "varepsilon"})


class NoteContext:
    """The models of a note's cells, their random problems, and auxiliary names.

    Args:
        text: the note as read (reading.py).
    """

    def __init__(self, text: NoteText):
        self.text = text
        self.aux: dict[tuple, tuple] = {}
        self.models: dict[int, NoteModel] = {}
        self.errors: dict[int, str] = {}
        self._problems: dict[int, Problems] = {}
        stated = _stated_shapes(text)
        for cell in text.cells:
            try:
                model = build_model(cell, text.items)
                # h of \mathbb{R}^{h} beside the state h_t: a letter the note uses as a value is no size
                values = {k[0] for k, s in model.symbols.items() if s.time is not None or k in model.definitions}
                model.size_letters = size_letters(stated) - values - {k[0] for k in stated}
                solve_shapes(model, stated)
            except (ModelError, ShapeFailure) as error:
                self.errors[cell.index] = f"the forward equations cannot be unrolled: {error}"
                continue
            model.last_step_args = _last_step_args(model, text)
            self.models[cell.index] = model
            self._problems[cell.index] = Problems(model, stated)
        for item in text.items:
            # dΓ_f = ∂J/∂z_f: later lines read dΓ_f as the note defined it.
            tree = item.tree
            if item.kind == reading.GRADIENT_NAME and isinstance(tree, Equation):
                if isinstance(tree.lhs, Differential) and aux_key(tree.lhs) is not None:
                    self.aux.setdefault(aux_key(tree.lhs), (tree.lhs, tree.rhs))
        for item in text.items:
            # γ = 1/4 in prose: a number later lines use (a bound ≤ γ^{t-k}).
            tree = item.tree
            if item.kind == reading.PROSE and isinstance(tree, Equation) and _names_a_number(tree):
                self.aux.setdefault(("sym", key(tree.lhs)), (tree.lhs, tree.rhs))
        for lhs, rhs in _unit_vector_names(text, self.models.values()):
            # "$e_k$ is the $k$-th unit vector": e_{k_t} is the one-hot vector of the target k_t
            self.aux.setdefault(("sym", key(lhs)), (lhs, rhs))
        for lhs, rhs in _one_hot_names(text.source):
            # "writing $y_t$ for the one-hot vector of $w_{t+1}$": y_t is the target w_{t+1}'s one-hot vector
            self.aux.setdefault(("sym", key(lhs)), (lhs, rhs))
        self._tainted = {
            index: tainted_keys(text.holes, {k: d.rhs for k, d in model.definitions.items()}, _symbol_keys)
            for index, model in self.models.items()
        }

    def mentions_model(self, item: Item) -> bool:
        """Does the equation use a value or parameter of some cell's model (not only free letters)?"""
        mentioned = set(_symbol_keys(item.tree))
        for model in self.models.values():
            used = set(model.definitions)
            for d in model.definitions.values():
                used.update(_symbol_keys(d.rhs))
            if mentioned & used:
                return True
        return False

    def hole_for(self, item: Item) -> Hole | None:
        """The unreadable line a claim cannot be judged without, if any (see unread.py).

        A claim needs every line that defines something it mentions, and a gradient
        claim every line that defines something of its cell's model (or its loss).
        """
        if not self.text.holes:
            return None
        tainted = self._tainted.get(item.cell, set()) if item.cell is not None else set()
        if not tainted:
            tainted = {h.defines for h in self.text.holes if h.defines is not None}
        if not tainted:
            return None
        model = self.models.get(item.cell) if item.cell is not None else None
        needed = set(_symbol_keys(item.tree))
        if model is not None and (has_gradient(item.tree) or item.kind != reading.FORWARD_CLAIM):
            needed |= set(model.symbols) | set(model.definitions)
            if model.objective is not None:
                needed.add(model.objective)
            needed |= {k for k in tainted if k != UNKNOWN and is_loss_key(k)}  # the loss may be the one unread
        hit = tainted & needed
        for hole in self.text.holes:
            if hole.defines == UNKNOWN or hole.defines in hit:
                return hole
        return None

    def problems_for(self, item: Item) -> Problems | None:
        if item.cell is None:
            return None
        return self._problems.get(item.cell)

    def why_not(self, item: Item) -> str:
        if item.cell is None or item.cell not in self.errors:
            return "no forward equations come before it"
        return self.errors[item.cell]

    def shapes_fit(self, item: Item) -> bool:
        return item.cell in self.models

    def defines_name(self, item: Item) -> bool:
        """Is this line a name the note introduces on the way (dh_next = …, δh^{raw}_t = …)?

        Records the name, so later lines use its right side.
        """
        tree = item.tree
        if not isinstance(tree, Equation) or len(tree.sides) != 2:
            return False
        model = self.models.get(item.cell) if item.cell is not None else None
        if model is None:
            return False  # no model to tell a gradient of its quantities from a new name: the claim says why
        lhs = tree.lhs
        known = model.symbols
        blocks = _gradient_blocks(tree, model)
        if blocks:
            # da_t = [da^i_t, da^f_t, da^o_t, da^g_t]: names for the blocks of a gradient, split as a_t is
            for j, part in enumerate(blocks):
                self.aux[aux_key(part)] = (part, lhs, (j, tree.rhs))
            return True
        if len(self.aux.get(aux_key(lhs), ())) == 3:
            return False  # dz^p_t = …, dz^p_t named a block of dz_t before: a claim about that block
        if isinstance(lhs, Differential) and isinstance(lhs.operand, Symbol):
            # dW, δx_t, dh_0 of a quantity of the model (a value, parameter, input or initial state):
            # a claim about ∂L/∂v; dh_next, dh^{raw}_t name something the model has not: a new name.
            operand = key(lhs.operand)
            if operand in _quantities(model):
                return False
            self.aux[aux_key(lhs)] = (lhs, tree.rhs)
            return True
        if isinstance(lhs, Symbol) and has_gradient(tree.rhs):
            k = key(lhs)
            if model is not None and (k in model.gradient_names or k in model.definitions):
                return False
            if ("sym", k) in self.aux or k in known and not _only_in_claims(k, item, self.text):
                return False
            self.aux[("sym", k)] = (lhs, tree.rhs)
            return True
        return False


def _last_step_args(model: NoteModel, text: NoteText) -> tuple:
    """The values of ``L(h^{<N>})`` (the note's undefined objective applied to values at the last step)."""
    k = model.objective
    if k is None or k in model.definitions or k in model.step_formulas:
        return ()
    for tree in [m.tree for m in text.mentions] + [i.tree for i in text.items if i.kind == reading.PROSE]:
        for node in reading.walk(tree):
            if isinstance(node, Product) and node.op == "juxt" and isinstance(node.left, Symbol):
                node = Apply(node.left, (node.right,))  # L(h^{<N>}) read as a product of L and h^{<N>}
            if isinstance(node, Apply) and isinstance(node.func, Symbol) and key(node.func) == k and node.args:
                node = Apply(node.func, tuple(_at_last_step(a) for a in node.args))
                if all(
                    isinstance(a, Symbol)
                    and a.time is not None
                    and a.time.var in STEP_COUNTS
                    and key(a) in model.definitions
                    for a in node.args
                ):
                    return tuple(node.args)
    return ()


def _at_last_step(node):
    """h^{<N>} read as h with the label (N) above it: h at the last step N."""
    if isinstance(node, Symbol) and node.time is None and node.sup and node.sup.strip("()<>") in STEP_COUNTS:
        if node.sup[0] in "(<" and node.sup[-1] in ")>":
            return dataclasses.replace(node, sup=None, time=TimeIndex(node.sup.strip("()<>"), 0, style="angle"))
    return node


def _names_a_number(tree: Equation) -> bool:
    """``γ = 1/4``: a number name (model.SCALAR_NAMES) given a numeric value."""
    lhs, rhs = tree.lhs, tree.rhs
    if len(tree.sides) != 2 or tree.ops[0] != "=" or not isinstance(lhs, Symbol):
        return False
    if lhs.time is not None or lhs.sub or lhs.sup or lhs.name not in SCALAR_NAMES:
        return False
    return all(isinstance(n, Number | Frac | Neg) for n in reading.walk(rhs))


def _quantities(model: NoteModel) -> set[tuple]:
    """Keys of what the forward equations define or read (not every name a claim mentions)."""
    out = set(model.definitions)
    for d in model.definitions.values():
        out.update(_symbol_keys(d.rhs))
    return out


_ONE_HOT = re.compile(
    r"\$([^$\n]{1,80})\$\s+(?:is|be|for|as|denotes?)\s+the\s+one-hot\s+(?:vector|encoding|representation)\s+"
    r"of\s+(?:the\s+[a-z]+\s+)?\$([^$\n]{1,80})\$"
)


_UNIT_VECTOR = re.compile(
    r"\$\\?(?:mathbf\{)?([A-Za-z]+)\}?_\{?([a-z])\}?\$\s+(?:is|be|for|as|denotes?)\s+the\s+"
    r"\$([a-z])\$(?:-?th|\^\{?\\?(?:rm|text)?\{?th\}?\}?)\s+(?:unit|basis|standard\s+basis|one-hot)\s+vector"
)


def _unit_vector_names(text: NoteText, models) -> list[tuple[Symbol, Symbol]]:
    """(e_{k_t}, k_t) for a family "$e_k$ is the $k$-th unit vector" and each e_{…} the claims write
    with a target class of the model as its index: the program holds that class as its one-hot vector."""
    letters = {m.group(1) for m in _UNIT_VECTOR.finditer(text.source) if m.group(2) == m.group(3)}
    if not letters:
        return []
    targets = {k for model in models for k in model.targets()}
    out = []
    for item in text.items:
        for node in reading.walk(item.tree):
            if not (isinstance(node, Symbol) and node.name in letters and node.sub and node.time is None):
                continue
            if node.sup or node.primes or node.accents:
                continue
            try:
                index = parse_latex(node.sub)
            except NotesSyntaxError:
                continue
            if isinstance(index, Symbol) and index.time is not None and key(index) in targets:
                out.append((node, index))
    return out


def _one_hot_names(source: str) -> list[tuple[Symbol, Symbol]]:
    """(y_t, w_{t+1}) for each "$y_t$ … the one-hot vector of $w_{t+1}$" of the prose.

    The program already holds a target class as its one-hot vector (``\\hat y_t[w_{t+1}]``
    picks with it), so the name is that vector.  Only a timed symbol named for a timed one, or
    an untimed for an untimed, is taken.
    """
    out = []
    for m in _ONE_HOT.finditer(source):
        try:
            lhs, rhs = parse_latex(m.group(1)), parse_latex(m.group(2))
        except NotesSyntaxError:
            continue
        if isinstance(lhs, Symbol) and isinstance(rhs, Symbol) and (lhs.time is None) == (rhs.time is None):
            out.append((lhs, rhs))
    return out


def _gradient_blocks(tree: Equation, model) -> list | None:
    """The block names of ``dv = [dv^1, …, dv^k]`` when the model splits v into k blocks, else None."""
    lhs, rhs = tree.lhs, tree.rhs
    if model is None or not (isinstance(lhs, Differential) and isinstance(lhs.operand, Symbol)):
        return None
    if isinstance(rhs, Concat):
        parts = list(rhs.items)
    elif isinstance(rhs, Matrix) and (len(rhs.rows) == 1 or all(len(r) == 1 for r in rhs.rows)):
        parts = [c for row in rhs.rows for c in row]
    else:
        return None
    if not all(isinstance(p, Differential) and p.kind == lhs.kind and isinstance(p.operand, Symbol) for p in parts):
        return None
    used = set(model.definitions) | {k for d in model.definitions.values() for k in _symbol_keys(d.rhs)}
    if any(key(p.operand) in used for p in parts):
        return None
    splits = [d for d in model.definitions.values() if d.block is not None and key(d.rhs) == key(lhs.operand)]
    if len(splits) != len(parts) or len(parts) < 2:
        return None
    return parts


def _symbol_keys(tree) -> list[tuple]:
    return [key(s) for s in reading.symbols(tree)]


def _only_in_claims(k: tuple, item: Item, text: NoteText) -> bool:
    """Is ``k`` absent from every forward equation (so it is a new name here)?"""
    for other in text.items:
        if other.kind in (reading.FORWARD, reading.LOSS, reading.ALIAS) and other.cell == item.cell:
            tree = other.tree
            if isinstance(tree, Equation) and any(key(s) == k for s in reading.symbols(tree)):
                return False
    return True


def _stated_shapes(text: NoteText) -> dict[tuple, object]:
    """``W \\in \\mathbb{R}^{m \\times n}`` anywhere in the note (display or prose): key → exponent."""
    out: dict[tuple, object] = {}
    trees = [i.tree for i in text.items] + [m.tree for m in text.mentions]
    if text.units:
        # written unit by unit (units.py): every value is a number
        trees += [d for m in text.mentions for d in (m.tree,)]
        return {key(s): SCALAR for tree in trees for s in reading.symbols(tree)}
    for tree in trees:
        for eq in tree.equations if hasattr(tree, "equations") else (tree,):
            if not isinstance(eq, Equation) or "in" not in eq.ops:
                continue
            index = eq.ops.index("in")
            space = eq.sides[index + 1]
            if not (isinstance(space, Power) and isinstance(space.base, Symbol) and space.base.font == "bb"):
                continue
            names = eq.sides[index]
            for symbol in names.items if isinstance(names, Tuple) else (names,):
                if isinstance(symbol, Symbol):
                    out.setdefault(key(symbol), space.exponent)
    return out


def is_relation(tree) -> bool:
    return isinstance(tree, Equation) and any(op not in ("=", ":=", "equiv") for op in tree.ops)


__all__ = ["DELTA_NAMES", "NoteContext", "is_relation"]
