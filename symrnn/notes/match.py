"""Which catalogue cell a note's cell is, or which one it nearly is and where it differs.

Unnamed functions (f, g) are tried as tanh, the function every catalogue cell
uses where notes leave one unnamed.  When no cell matches, the checker swaps σ
and tanh in one equation at a time: if that makes a catalogue cell, the
equation is where the note departs from every standard variant (e.g. a σ
candidate where every LSTM has tanh) and gets a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

from symrnn import ir
from symrnn.cellspec import Cell
from symrnn.ir import Node

from .note_cell import NoteCell, _rewrite

SWAP = {"sigmoid": "tanh", "tanh": "sigmoid"}
FUNCTION_TEXT = {"sigmoid": "σ", "tanh": "tanh"}


@dataclass
class Match:
    """``name`` is equivalent to the note's cell under ``renaming`` (note name → catalogue expression)."""

    name: str
    source: str
    convention: str
    renaming: dict[str, str]
    functions: dict[str, str]  # unnamed letter → the function that made it match
    others: list[str]


@dataclass
class Departure:
    """Equivalent to ``name`` except one equation: ``value`` uses ``written`` where it has ``standard``."""

    name: str
    value: str
    written: str
    standard: str
    family: list[str]


def _generic_letters(cell: Cell) -> list[str]:
    out: dict[str, None] = {}
    for _, rhs in cell.equations:
        for node in ir.postorder(rhs):
            if node.op == "apply" and len(node.attrs[0]) == 1:
                out.setdefault(node.attrs[0])
    return list(out)


def _functions(mapping: dict[str, str]):
    def change(name: str, rhs: Node) -> Node:
        def walk(n: Node) -> Node:
            args = tuple(walk(a) for a in n.args)
            if n.op == "apply" and n.attrs[0] in mapping:
                return ir.apply(mapping[n.attrs[0]], args[0])
            return ir.rebuild(n, args) if args else n

        return walk(rhs)

    return change


def _candidates(cell: Cell) -> list[Cell]:
    from symrnn.catalogue import cell as catalogue_cell
    from symrnn.catalogue import cells

    out = []
    for name in cells():
        other = catalogue_cell(name)
        if len(other.states) == len(cell.states):
            out.append(other)
    return out


def _equivalent(candidate: Cell, note_cell: Cell, change):
    from symrnn.equivalence import compare

    try:
        result = compare(candidate, _rewrite(note_cell, change, readout=candidate))
    except Exception:  # noqa: BLE001 - a cell outside compare's family simply does not match
        return None
    return result if result.equivalent else None


def identify(note: NoteCell) -> Match | Departure | None:
    """The catalogue cell this is (Match), the one it departs from in one equation, or None."""
    if note.cell is None:
        return None
    letters = {g: "tanh" for g in _generic_letters(note.cell)}
    candidates = _candidates(note.cell)
    found = [(c, r) for c in candidates if (r := _equivalent(c, note.cell, _functions(letters)))]
    if found:
        best, result = found[0]
        renaming = {**result.state_mapping, **result.value_mapping, **result.mapping}
        renaming = {k: v for k, v in renaming.items() if k != v and k not in ("W_y", "b_y") and "(" not in k}
        return Match(
            best.name,
            best.source,
            best.convention,
            renaming,
            letters,
            [c.name for c, _ in found[1:]],
        )
    departures = []
    for lhs, rhs in note.cell.equations:
        if rhs.op != "apply" or rhs.attrs[0] not in SWAP:
            continue
        written = rhs.attrs[0]

        def change(name, expr, _target=lhs.name, _to=SWAP[written]):
            if name == _target:
                expr = ir.apply(_to, expr.args[0])
            return _functions(letters)(name, expr)

        hits = [c for c in candidates if _equivalent(c, note.cell, change)]
        if hits:
            family = [c.name for c in candidates if c.family == hits[0].family]
            departures.append(Departure(hits[0].name, lhs.name, written, SWAP[written], family))
    # c = f ⊙ c + i ⊙ g is symmetric in i and g: prefer the value the note marks as a candidate (C̃, ĉ, g).
    departures.sort(key=lambda d: not any(m in d.value for m in ("_tilde", "_hat", "_bar")) and d.value != "g")
    return departures[0] if departures else None
