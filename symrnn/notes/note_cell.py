"""One cell of a note as the checker holds it: its names, shapes, readout and loss, and its Cell.

Below build.py (which fills it in) and the modules that read it (match, free_values, expected), so
none of them has to import another to know what a note's cell is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from symrnn import ir
from symrnn.cellspec import Cell
from symrnn.functions import note_names
from symrnn.ir import Node

from .notation import Notation
from .reading import CellText, Item


def _bare(spelling: str) -> str:
    """The name the notes tree gives a written function: ``\\operatorname{ReLU}`` → ``ReLU``, ``\\ln`` → ``ln``."""
    inner = re.fullmatch(r"\\(?:mathrm|operatorname)\{(\w+)\}", spelling)
    return inner.group(1) if inner else spelling.lstrip("\\")


# Written name → the function table's row (σ → sigmoid); the spellings come from symrnn/functions.py.
FUNCTION_NAMES = {_bare(spelling): row for spelling, row in note_names().items() if not spelling.startswith("\\mathbb")}
FUNCTION_NAMES.update({name: name for name in set(FUNCTION_NAMES.values())})
INPUT_NAMES = frozenset({"x"})


class NoteCellError(ValueError):
    """The forward equations do not make a cell symrnn can derive; ``item`` is where."""

    def __init__(self, message: str, item: Item | None = None):
        super().__init__(message)
        self.item = item


@dataclass
class Readout:
    value: str  # IR name of the prediction ŷ
    state: str
    weight: str | None
    bias: str | None
    function: str  # softmax, sigmoid, identity, or a generic letter
    item: Item
    logits: str | None = None  # IR name the note gave the logits, if any


@dataclass
class NoteCell:
    """One cell of a note: its text, its names, and (when it builds) a Cell and a loss."""

    text: CellText
    notation: Notation
    functions: dict[str, str] = field(default_factory=dict)  # f → tanh, from "f = \tanh"
    aliases: dict[str, object] = field(default_factory=dict)  # W_a → the tree [W_aa | W_ax]
    gradient_names: dict[str, str] = field(default_factory=dict)  # IR name of δ_u → IR name of z_u
    states: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    params: dict[str, tuple] = field(default_factory=dict)  # IR name → shape
    values: dict[str, tuple] = field(default_factory=dict)  # defined IR name → shape
    targets: list[str] = field(default_factory=list)
    readout: Readout | None = None
    loss: str | None = None  # softmax_ce, bce, mse, or "generic"
    loss_item: Item | None = None
    cell: Cell | None = None
    error: NoteCellError | None = None
    _derivation: object = None

    @property
    def lines(self) -> tuple[int, int]:
        return self.text.lines

    def derivation(self):
        """The BPTT of this cell with the note's loss (NoteCellError when it has none symrnn knows)."""
        if self.error:
            raise self.error
        if self._derivation is None:
            from symrnn.derivation import derive

            self._derivation = derive(self.cell, self.derivation_loss())
        return self._derivation

    def forward_derivation(self):
        """A derivation whose forward values are the cell's, even when its readout has no loss symrnn knows."""
        try:
            return self.derivation()
        except NoteCellError:
            if self.cell is None:
                raise
        from symrnn.derivation import derive

        return derive(standard_readout(self.cell), "mse")

    def derivation_loss(self) -> str:
        """The loss symrnn derives this cell with: the readout's function decides, the note's loss confirms.

        An unnamed readout function (ŷ = g(W_y a + b_y)) takes the one the note's
        loss implies (binary cross-entropy → σ); with no loss either, it cannot be chosen.
        """
        function = self.readout.function if self.readout else "softmax"
        natural = {"softmax": "softmax_ce", "sigmoid": "bce", "identity": "mse"}.get(function)
        if natural is None and self.loss in ("softmax_ce", "bce", "mse"):
            return self.loss
        if natural is None:
            raise NoteCellError(
                f"the readout uses the unnamed function {function} and the note names no loss that fixes it; "
                "pass --loss softmax_ce, bce or mse",
                self.readout.item if self.readout else None,
            )
        if self.loss in (None, "generic", natural):
            return natural
        raise NoteCellError(
            f"the loss ({self.loss}) does not go with the readout's {function}; symrnn derives "
            "softmax + cross-entropy, σ + binary cross-entropy and identity + squared error",
            self.loss_item,
        )


def _rewrite(cell: Cell, change, readout: Cell | None = None) -> Cell:
    """A copy of ``cell`` whose equations are rebuilt through ``change(name, rhs) -> rhs``.

    The copy reads out like ``readout`` (with or without weight and bias): the
    note's own readout is not what makes it one catalogue cell or another.
    """
    copy = Cell(cell.name, cell.family, cell.source, cell.convention)
    copy.params, copy.states, copy.inputs = dict(cell.params), dict(cell.states), dict(cell.inputs)
    weight = "W_y" if readout is None or readout.readout_weight else None
    bias = "b_y" if readout is None or readout.readout_bias else None
    copy.readout(cell.readout_state, weight, bias)
    rename: dict[Node, Node] = {}
    for lhs, rhs in cell.equations:
        rhs = ir.substitute(rhs, rename) if rename else rhs
        new_rhs = change(lhs.name, rhs)
        new_lhs = copy.let(lhs.name, new_rhs)
        if new_lhs != lhs:
            rename[lhs] = new_lhs
    return copy


def standard_readout(cell: Cell) -> Cell:
    """The same cell read out as W_y s + b_y (its own readout set aside)."""
    return _rewrite(cell, lambda name, rhs: rhs)
