"""The one-step state Jacobian ∂s_t/∂s_{t-1} of a cell in matrix form, every block a sum of paths.

The algebra (differentials by one forward-mode rule per IR op, paths, their products and the
matrix nodes ``diag``/``embed``/``select``) is :mod:`symrnn.gradient_flow.differentials`; this
module applies it to a cell's equations in order and holds the result, :class:`Flow`, whose
printing and bound live beside it (``printing.py``, ``bound.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from symrnn.gradient_flow.differentials import (  # noqa: F401  (names kept importable from here)
    DIFFERENTIAL,
    IDENTITY,
    MATRIX_OPS,
    MATRIX_RULES,
    FlowError,
    Form,
    Path,
    Term,
    collect,
    compose,
    diag,
    differential,
    embed,
    hadamard,
    is_tracked,
    multiplicands,
    normal,
    select,
)
from symrnn.ir import Node

if TYPE_CHECKING:
    from symrnn.bptt import Equation
    from symrnn.cellspec import Cell


# ---------------------------------------------------------------- the state Jacobian


@dataclass
class Flow:
    """∂s_t/∂s_{t-1} of one cell: the differentials of its step and the blocks of the state Jacobian.

    Attributes:
        cell: the cell.
        equations: its forward equations with pre-activations named (as in the derivation).
        differentials: (lhs, dlhs) per equation, in equation order — forward mode, one step.
        blocks: (a, b) → the paths of ∂a_t/∂b_{t-1}, for states a, b in the cell's order
            (an empty tuple is the zero block).
    """

    cell: Cell
    equations: list[Equation]
    differentials: list[tuple[Node, Form]]
    blocks: dict[tuple[str, str], tuple[Path, ...]]

    @property
    def states(self) -> list[str]:
        return list(self.cell.states)

    def block(self, row: str, column: str) -> tuple[Path, ...]:
        """The paths of ∂row_t/∂column_{t-1}."""
        return self.blocks[(row, column)]

    def carries(self) -> list[tuple[str, Path]]:
        """(state, path) for the weight-free paths of the diagonal blocks: diag(f_t) in the LSTM."""
        return [(s, p) for s in self.states for p in self.blocks[(s, s)] if p.is_carry]

    def text(self) -> str:
        from symrnn.gradient_flow.printing import flow_text

        return flow_text(self)

    def latex(self) -> str:
        from symrnn.gradient_flow.printing import flow_latex

        return flow_latex(self)

    def markdown(self) -> str:
        from symrnn.gradient_flow.printing import flow_markdown

        return flow_markdown(self)

    def bound(self):
        """Pascanu et al.'s bound per block and the carry paths; see :mod:`symrnn.gradient_flow.bound`."""
        from symrnn.gradient_flow.bound import bound

        return bound(self)

    def _repr_latex_(self):
        from symrnn.gradient_flow.printing import blocks_aligned

        return f"$${blocks_aligned(self)}$$"

    def __repr__(self):  # the dataclass repr printed IR nodes the text printer has no rule for (diag)
        return f"<Flow of {self.cell.name}: ∂s_t/∂s_(t-1) over the states {', '.join(self.states)}; .text(), .latex()>"


def flow(cell) -> Flow:
    """∂s_t/∂s_{t-1} = [∂a_t/∂b_{t-1}]_{a,b} for a cell, every block as a sum of paths in matrix form.

    Args:
        cell: a :class:`~symrnn.cellspec.Cell` or a catalogue name such as ``"lstm"``.

    Returns:
        A :class:`Flow`; ``flow("rnn").text()`` includes ``∂h[t]/∂h[t-1] = diag(1 - h[t] ⊙ h[t]) W_hh``.

    Raises:
        FlowError: a step whose Jacobian is not a product of matrices (a state-dependent matrix).
        KeyError: unknown cell name.
    """
    from symrnn.bptt import derive

    d = derive(cell)
    equations = d.cell_equations
    differentials = [(eq.lhs, differential(eq.rhs, eq.lhs)) for eq in equations]
    states = list(d.cell.states)
    blocks: dict[tuple[str, str], tuple[Path, ...]] = {}
    for column in states:
        jacobians: dict[str, tuple[Path, ...]] = {}  # named value at t → its paths to column_{t-1}
        for lhs, form in differentials:
            paths: list[Term] = []
            for term in form:
                base = term.base
                if base.shift == -1:
                    inner = (IDENTITY,) if base.name == column else ()
                else:
                    inner = jacobians.get(base.name, ())
                for p in inner:
                    composed = compose(term.path, p)
                    if composed is not None:
                        paths.append(Term(composed, None))
            collected = [t.path for t in collect(tuple(paths), merge_diagonals=False)]
            # weight-free (carry) paths first: the gated copy of the state leads its block
            jacobians[lhs.name] = tuple(sorted(collected, key=lambda p: not p.is_carry))
        for row in states:
            blocks[(row, column)] = jacobians[row]
    return Flow(cell=d.cell, equations=equations, differentials=differentials, blocks=blocks)
