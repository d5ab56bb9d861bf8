"""A note's forward equations → a :class:`~symrnn.cellspec.Cell` in the note's own names.

States are the names used one step back (h_{t-1}, or h beside h'); inputs the
step-indexed names never defined (x_t, and an untimed x); every other undefined
name is a parameter, its shape inferred (shapes.py).  A value no state depends
on, of the form φ(W s + b), is the readout; φ picks the loss (softmax →
cross-entropy, σ → binary cross-entropy, identity → squared error), which the
note's own loss line confirms or overrides.
"""

from __future__ import annotations

import sympy

from symrnn import ir
from symrnn.cellspec import Cell, CellError
from symrnn.ir import Node

from . import reading
from .notation import Notation
from .note_cell import FUNCTION_NAMES, INPUT_NAMES, NoteCell, NoteCellError, Readout
from .reading import CellText, Item, key, symbols, walk
from .shapes import ShapeMismatch, Shapes, ShapeUnknown, infer, is_scalar, stacks_vertically
from .tree import (
    Add,
    Apply,
    Concat,
    Entry,
    Equation,
    Func,
    Matrix,
    Neg,
    Number,
    Product,
    Sub,
    Symbol,
    Transpose,
)


def build(text: CellText, items: list[Item]) -> NoteCell:
    """The NoteCell of one group of forward definitions (errors are kept on it, not raised)."""
    note = NoteCell(text, Notation())
    try:
        by_units = [i for i in text.forward if isinstance(i.tree, Equation) and isinstance(i.tree.lhs, Entry)]
        if by_units:
            # s_j(t) = …: written unit by unit (entries.py); checked on the note's program, not as a catalogue cell
            raise NoteCellError("its forward equations are written unit by unit", by_units[0])
        _read_names(note, items)
        _infer(note)
        note.cell = _to_cell(note)
        note.loss, note.loss_item = _loss(note, items)
    except NoteCellError as error:
        note.error = error
    return note


# ---------------------------------------------------------------- the loss


def _loss(note: NoteCell, items: list[Item]) -> tuple[str | None, Item | None]:
    """Which loss the note's J = Σ_t … is: compared by value with the losses symrnn knows."""
    from .losses_read import classify_loss

    return classify_loss(note, [i for i in items if i.kind == reading.LOSS])


# ---------------------------------------------------------------- names and roles


def _read_names(note: NoteCell, items: list[Item]) -> None:
    notation = note.notation
    for item in items:
        for node in walk(item.tree):
            if isinstance(node, Product):
                if node.op in ("*", "odot", "circ", "ast"):
                    notation.product_signs[node.op] += 1
            if isinstance(node, Symbol):
                notation.note_time(node)
        tree = item.tree
        if item.kind == reading.FUNCTION and isinstance(tree.rhs, Func):
            name = FUNCTION_NAMES.get(tree.rhs.name, tree.rhs.name)
            for side in tree.sides[:-1]:
                if isinstance(side, Func | Symbol):
                    note.functions[side.name] = name
        elif item.kind == reading.ALIAS:
            note.aliases[notation.ir_name(tree.lhs)] = tree.rhs
        elif item.kind == reading.GRADIENT_NAME and reading.is_delta_name(tree.lhs):
            target = notation.ir_name(tree.rhs.wrt) if isinstance(tree.rhs.wrt, Symbol) else None
            if target:
                note.gradient_names[notation.ir_name(tree.lhs)] = target
                notation.gradient_names[target] = Symbol(tree.lhs.name, tree.lhs.accents, tree.lhs.sub, tree.lhs.sup)
        elif item.kind == reading.LOSS and notation.loss_symbol is None and isinstance(tree.lhs, Symbol):
            if tree.lhs.time is None:
                notation.loss_symbol = tree.lhs
    # The states: defined names used a step back, or unprimed beside a primed definition.
    defined = {key(i.tree.lhs): i for i in note.text.forward}
    primed = {k[:4]: k for k in defined if k[4] == 1}
    for k, item in defined.items():
        name = notation.ir_name(item.tree.lhs)
        if reading._is_state(note.text, k):
            note.states.append(name)
            if k[4] == 1:  # h' is h_t, h is h_{t-1}: one IR name, the unprimed one
                unprimed = Symbol(k[0], k[1], k[2], k[3])
                del notation.symbols[name]
                name = notation.ir_name(unprimed)
                notation.names[k] = name
                note.states[-1] = name
    for item in note.text.forward:
        for s in symbols(item.tree.rhs):
            k = key(s)
            if k in defined or k[:4] in primed and s.primes == 0:
                continue
            name = notation.ir_name(s)
            if name in note.aliases:
                continue
            if s.time is not None or s.name in INPUT_NAMES:
                if name not in note.inputs:
                    note.inputs.append(name)
            else:
                note.params.setdefault(name, None)


def _is_prime_state(note: NoteCell, s: Symbol) -> bool:
    return s.primes == 0 and any(k[4] == 1 and k[:4] == key(s)[:4] for k in note.text.defined)


# ---------------------------------------------------------------- shapes


def _infer(note: NoteCell) -> None:
    shapes = Shapes()
    notation = note.notation
    table: dict[str, tuple] = {}
    hint = {}
    for name in note.states:
        hint[name] = "h"
    for name in note.inputs:
        hint[name] = "x"

    def lookup(symbol: Symbol) -> tuple:
        name = notation.ir_name(symbol)
        if name in note.aliases:
            return infer(note.aliases[name], lookup, shapes)
        if name not in table:
            if name in note.states or name in note.inputs:
                table[name] = (shapes.fresh(hint[name]), sympy.Integer(1))
            elif name in note.params:
                table[name] = (shapes.fresh("r"), shapes.fresh("c"))
            else:
                table[name] = (shapes.fresh("v"), shapes.fresh("w"))
        return table[name]

    for item in note.text.forward:
        lhs = item.tree.lhs
        try:
            value = infer(item.tree.rhs, lookup, shapes)
            if is_scalar(value):
                raise NoteCellError(f"{lhs.name} is a number, not a vector", item)
            shapes.same(lookup(lhs), value, "the two sides have different shapes")
        except ShapeUnknown as error:
            raise NoteCellError(f"cannot tell the shapes: {error}", item) from None
        except ShapeMismatch as error:
            raise NoteCellError(f"inconsistent shapes: {error}", item) from None
    _find_readout(note, table, shapes)
    # Name the sizes: states → hidden, inputs → input, readout → output.
    size_names = {}
    for name, dim in [*((s, ir.HIDDEN) for s in note.states), *((x, ir.INPUT) for x in note.inputs)]:
        rows = shapes.resolve(table[name][0])
        if rows.is_Symbol and rows not in size_names:
            size_names[rows] = dim
        elif size_names.get(rows) != dim and not rows.is_number:
            raise NoteCellError(
                f"the size of {name} is tied to another size ({rows}); symrnn cells have one hidden size"
            )
    if note.readout:
        rows = shapes.resolve(table[note.readout.value][0])
        if rows.is_Symbol and rows not in size_names:
            size_names[rows] = ir.OUTPUT
    for name, shape in table.items():
        resolved = tuple(sympy.expand(shapes.resolve(s).xreplace(size_names)) for s in shape)
        unknown = [s for s in resolved if s.free_symbols - set(ir.DIMS)]
        if unknown:
            raise NoteCellError(f"the equations do not determine the shape of {name}")
        if name in note.params:
            note.params[name] = resolved
        else:
            note.values[name] = resolved
    for name in note.params:
        if note.params[name] is None:
            raise NoteCellError(f"the equations do not determine the shape of {name}")


def _find_readout(note: NoteCell, table, shapes) -> None:
    """The value no state depends on, written φ(W s + b): the readout ŷ = φ(W s + b)."""
    notation = note.notation
    uses = {}
    for item in note.text.forward:
        uses[notation.ir_name(item.tree.lhs)] = {notation.ir_name(s) for s in symbols(item.tree.rhs)}
    needed = set()
    frontier = list(note.states)
    while frontier:
        name = frontier.pop()
        if name in needed:
            continue
        needed.add(name)
        frontier.extend(n for n in uses.get(name, ()) if n in uses)
    outputs = [i for i in note.text.forward if notation.ir_name(i.tree.lhs) not in needed]
    by_name = {notation.ir_name(i.tree.lhs): i for i in outputs}
    used = {n for i in outputs for n in uses[notation.ir_name(i.tree.lhs)]}
    finals = [i for i in outputs if notation.ir_name(i.tree.lhs) not in used]
    if len(finals) != 1 or len(outputs) > 2:
        return
    item = finals[0]
    rhs, function, logits = item.tree.rhs, "identity", None
    if isinstance(rhs, Apply) and isinstance(rhs.func, Func) and len(rhs.args) == 1:
        function = FUNCTION_NAMES.get(rhs.func.name, rhs.func.name)
        function = note.functions.get(function, function)
        rhs = rhs.args[0]
        # ŷ = softmax(ȳ) with the logits named on a line of their own: ȳ = W_y h + b_y
        if isinstance(rhs, Symbol) and notation.ir_name(rhs) in by_name:
            logits = notation.ir_name(rhs)
            rhs = by_name[logits].tree.rhs
    if len(outputs) == 2 and logits is None:
        return
    bias = None
    if isinstance(rhs, Add) and isinstance(rhs.right, Symbol) and rhs.right.time is None:
        bias, rhs = notation.ir_name(rhs.right), rhs.left
    if not (isinstance(rhs, Product) and rhs.op in ("juxt", "cdot") and isinstance(rhs.left, Symbol)):
        return
    weight, state = notation.ir_name(rhs.left), rhs.right
    if not isinstance(state, Symbol) or weight not in note.params:
        return
    state_name = notation.ir_name(state)
    if state_name not in note.states or (bias and bias not in note.params):
        return
    note.readout = Readout(notation.ir_name(item.tree.lhs), state_name, weight, bias, function, item, logits)


# ---------------------------------------------------------------- IR


def _to_cell(note: NoteCell) -> Cell:
    notation = note.notation
    cell = Cell(f"note cell {note.text.index + 1}", source="the note", convention="as written in the note")
    env: dict[tuple[str, int], Node] = {}
    for name in note.inputs:
        env[(name, 0)] = cell.input(name, note.values[name][0])
    for name in note.states:
        env[(name, -1)] = cell.state(name, note.values[name][0])
    readout_params = {note.readout.weight, note.readout.bias} - {None} if note.readout else set()
    params = {}
    for name, shape in note.params.items():
        node = ir.var(name, shape, ir.PARAM)
        if name not in readout_params:
            node = cell.param(name, *shape)
        params[name] = node
    translate = Translator(note, env, params)
    order = _dependency_order(note)
    for item in order:
        name = notation.ir_name(item.tree.lhs)
        if note.readout and name in (note.readout.value, note.readout.logits):
            continue
        try:
            expr = translate(item.tree.rhs, shift_of(item.tree.lhs))
            env[(name, 0)] = cell.let(name, expr)
        except (ir.ShapeError, CellError, KeyError, ValueError) as error:
            raise NoteCellError(str(error), item) from None
    if note.readout:
        r = note.readout
        cell.readout(r.state, r.weight, r.bias)
        notation.aliases.update({"y_hat": r.value})
        if r.logits:
            notation.aliases["y_bar"] = r.logits
    elif note.states:
        cell.readout(note.states[-1], "W_y", "b_y")
    try:
        cell.validate()
    except CellError as error:
        raise NoteCellError(str(error)) from None
    return cell


def shift_of(symbol: Symbol) -> int:
    """The step of a symbol relative to t (h' is t, untimed names are t)."""
    if symbol.time is None or symbol.time.var is None:
        return 0
    return symbol.time.offset


def _dependency_order(note: NoteCell) -> list[Item]:
    """Forward definitions in an order where each uses only values defined before (note order kept)."""
    notation = note.notation
    items = list(note.text.forward)
    names = {notation.ir_name(i.tree.lhs) for i in items}
    done: set[str] = set()
    out = []
    while items:
        for item in items:
            needs = {
                notation.ir_name(s) for s in symbols(item.tree.rhs) if shift_of(s) == 0 and not _is_prime_state(note, s)
            } & names
            if needs <= done | {notation.ir_name(item.tree.lhs)}:
                out.append(item)
                done.add(notation.ir_name(item.tree.lhs))
                items.remove(item)
                break
        else:
            raise NoteCellError("the forward equations depend on each other in a circle", items[0])
    return out


class Translator:
    """A note expression → IR, with the cell's values, states, inputs and parameters."""

    def __init__(self, note: NoteCell, env: dict, params: dict):
        self.note, self.env, self.params = note, env, params

    def __call__(self, expr, at: int = 0) -> Node:
        return self.ir(expr, at)

    def symbol(self, s: Symbol, at: int) -> Node:
        note = self.note
        name = note.notation.ir_name(s)
        if name in note.aliases:
            return self.ir(note.aliases[name], at)
        if name in self.params:
            return self.params[name]
        shift = -1 if _is_prime_state(note, s) else shift_of(s) - at
        if name in note.inputs:
            shift = 0
        if (name, shift) in self.env:
            return self.env[(name, shift)]
        raise NoteCellError(
            f"{name} at step t{shift:+d} is used before it is defined"
            if shift
            else f"{name} is used before it is defined"
        )

    def ir(self, expr, at: int) -> Node:
        match expr:
            case Symbol():
                return self.symbol(expr, at)
            case Number():
                raise NoteCellError("a number where a vector is expected")
            case Neg():
                return -self.ir(expr.operand, at)
            case Add():
                return self._sum(expr.left, expr.right, at, ir.add)
            case Sub():
                if isinstance(expr.left, Number) and expr.left.value == 1:
                    return ir.one_minus(self.ir(expr.right, at))
                return self._sum(expr.left, expr.right, at, ir.sub)
            case Product():
                return self._product(expr, at)
            case Apply() if isinstance(expr.func, Func) and len(expr.args) == 1:
                name = FUNCTION_NAMES.get(expr.func.name, expr.func.name)
                name = self.note.functions.get(name, name)
                arg = self.ir(expr.args[0], at)
                if name == "softmax":
                    return ir.softmax(arg)
                return ir.apply(name + "'" * expr.func.primes, arg)
            case Transpose():
                return ir.transpose(self.ir(expr.operand, at))
            case Concat():
                parts = [self.ir(i, at) for i in expr.items]
                if stacks_vertically(expr, [p.shape for p in parts], Shapes()):
                    return ir.concat(*parts)
                raise NoteCellError("blocks side by side ([A | B]) are only read as parameters")
            case Matrix() if all(len(row) == 1 for row in expr.rows):
                return ir.concat(*(self.ir(row[0], at) for row in expr.rows))
        raise NoteCellError(f"cannot read {type(expr).__name__} in a forward equation")

    def _sum(self, left, right, at, op) -> Node:
        if isinstance(left, Number) or isinstance(right, Number):
            raise NoteCellError("a number added to a vector")
        return op(self.ir(left, at), self.ir(right, at))

    def _product(self, expr: Product, at: int) -> Node:
        if isinstance(expr.left, Number):
            return ir.scale(sympy.Rational(expr.left.text), self.ir(expr.right, at))
        a, b = self.ir(expr.left, at), self.ir(expr.right, at)
        if expr.op in ("juxt", "cdot"):
            return ir.matmul(a, b)
        if expr.op in ("*", "odot", "circ", "ast"):
            return ir.mul(a, b)
        raise NoteCellError(f"a product written {expr.op}")


def build_cells(note_text) -> list[NoteCell]:
    """Every cell of a read note (see reading.read_note_text)."""
    return [build(c, c.items) for c in note_text.cells]
