"""The right-hand side that holds, in the note's notation: the catalogue's derivation, where it names the cell.

The verdict never depends on this: it comes from the note's own model (judge.py).  When the
note's cell is a catalogue cell under a renaming, the derivation's right-hand side for the
claim's left side is printed beside a WRONG, at the step the note wrote.
"""

from __future__ import annotations

from symrnn import ir

from . import reading
from .note_cell import NoteCell
from .reading import Item, walk
from .tree import Derivative, Differential, Sum, Symbol


def expected_or_none(item: Item, note: NoteCell | None) -> str | None:
    """The right-hand side the catalogue derivation gives, where the note's cell could be derived."""
    if note is None or note.cell is None:
        return None
    try:
        d = note.forward_derivation() if item.kind == reading.FORWARD_CLAIM else note.derivation()
        return _expected(item, note, d)
    except Exception:  # noqa: BLE001 - identification is optional; a failure here must not hide the verdict
        return None


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
