"""BPTT of a cell used as a layer: upstream gradients in, gradients of inputs and initial states out.

A layer has no readout and no loss of its own.  Its outputs are the sequence of one state
(the cell's readout state, as ``nn.LSTM`` returns h) and the final value of every state;
whatever the model does with them arrives as upstream gradients Δ_t = ∂J/∂out_t (and
∂J/∂s_T).  The recursions are those of :func:`symrnn.derivation.derive` with the readout's
seed replaced by Δ_t (Greff et al. 2017's form, δh_t = Δ_t + …), plus what ``derive``
leaves out because a loss never needs it: δx_t, the inputs' share of every equation.
"""

from __future__ import annotations

from dataclasses import dataclass

from symrnn import ir
from symrnn.bptt import Equation, _normalise
from symrnn.cellspec import Cell
from symrnn.equation_kinds import BACKWARD, INITIAL_GRAD, INPUT_GRAD, PARAM_GRAD
from symrnn.ir import Node
from symrnn.rules import vjp
from symrnn.simplify import simplify

__all__ = ["INPUT_GRAD", "LayerDerivation", "LayerError", "derive_layer"]


class LayerError(ValueError):
    """A cell that cannot be run as a layer (the message says why)."""


@dataclass(frozen=True)
class LayerDerivation:
    """The forward equations of one cell and its BPTT in layer form (a vector-Jacobian product).

    ``upstream[s]`` is the symbol Δ of the output state's gradient from outside the layer;
    ``carry_in[s]`` the symbol of what step t+1 sends back to s_t (in code, the driver's
    running carry); ``local_grads[v]`` δv from step t's own uses only.
    """

    cell: Cell
    forward: list[Equation]
    backward: list[Equation]
    input_grads: list[Equation]
    param_grads: list[Equation]
    initial_grads: list[Equation]
    local_grads: dict[str, Node]
    input_shares: dict[str, Node]
    param_shares: dict[str, Node]
    carries: dict[str, Node]
    upstream: dict[str, Node]
    carry_in: dict[str, Node]
    output: str
    params: dict[str, Node]

    @property
    def states(self) -> list[str]:
        return list(self.cell.states)

    @property
    def input(self) -> Node:
        return next(iter(self.cell.inputs.values()))

    def text(self) -> str:
        """The forward equations, then the δ recursions, input, parameter and initial-state gradients."""
        lines = [f"{self.cell.name} as a layer: outputs {self.output}_t (every t) and every state at T", ""]
        lines += [eq.text() for eq in self.forward]
        lines.append("")
        lines += [eq.text() for eq in self.backward + self.input_grads + self.param_grads + self.initial_grads]
        return "\n".join(lines) + "\n"

    def code_backward_roots(self) -> list[tuple[str, Node]]:
        """``(name, δname)`` in the order a step computes them, each with Δ and the carry as leaves."""
        out = []
        for eq in self.backward:
            name = eq.lhs.name
            parts = [self.local_grads[name]]
            if name in self.upstream:
                parts.append(self.upstream[name])
            if name in self.carry_in:
                parts.append(self.carry_in[name])
            out.append((name, _total(parts, eq.lhs.shape)))
        return out


def _total(parts: list[Node], shape, batched: bool = True) -> Node:
    """Σ parts, each simplified on its own and kept in order (so formulas read in path order)."""
    acc = ir.zeros(shape, batched)
    for p in parts:
        p = simplify(p)
        if p.op != "zeros":
            acc = p if acc.op == "zeros" else acc + p
    return acc


def derive_layer(cell: Cell | str) -> LayerDerivation:
    """The layer-form BPTT of ``cell``.

    Args:
        cell: a :class:`~symrnn.cellspec.Cell` or a catalogue name.

    Returns:
        A :class:`LayerDerivation`.

    Raises:
        LayerError: the cell has no input or several (a layer reads one input sequence).
        KeyError: unknown catalogue name.
    """
    if isinstance(cell, str):
        from symrnn.catalogue import cell as catalogue_cell

        cell = catalogue_cell(cell)
    cell.validate()
    if len(cell.inputs) != 1:
        raise LayerError(f"cell {cell.name} has inputs {list(cell.inputs)}; a layer reads exactly one input sequence")
    (x,) = cell.inputs.values()
    forward = _normalise(cell)
    output = cell.readout_state
    local: dict[str, list[Node]] = {}
    carry: dict[str, list[Node]] = {s: [] for s in cell.states}
    param_parts: dict[str, list[Node]] = {name: [] for name in cell.params}
    input_parts: list[Node] = []
    for eq in forward:
        for leaf, share in vjp(eq.rhs, ir.grad(eq.lhs), out=eq.lhs).items():
            if leaf.kind == ir.PARAM:
                param_parts[leaf.name].append(share)
            elif leaf.kind == ir.INPUT_KIND:
                input_parts.append(share)
            elif leaf.kind == ir.STATE and leaf.shift == -1:
                carry[leaf.name].append(share)
            elif leaf.kind in (ir.VALUE, ir.STATE):
                local.setdefault(leaf.name, []).append(share)

    carries = {s: _total(carry[s], node.shape) for s, node in cell.states.items()}
    state_shape = cell.states[output].shape
    upstream = {output: ir.var(f"Delta_{output}", state_shape, ir.TARGET, 0)}
    carry_in = {s: ir.var(f"carry_{s}", node.shape, ir.TARGET, 0) for s, node in cell.states.items()}
    backward, local_grads = [], {}
    for eq in reversed(forward):
        name = eq.lhs.name
        local_grads[name] = _total(local.get(name, []), eq.lhs.shape)
        parts, note = [local_grads[name]], f"from the uses of {name} at step t"
        if name in upstream:
            parts.insert(0, upstream[name])
            note = "the upstream gradient Δ_t, " + note
        if name in cell.states:
            parts.append(ir.shift_time(carries[name], +1))
            note += " and the carry from step t+1"
        backward.append(Equation(ir.grad(eq.lhs), _total(parts, eq.lhs.shape), BACKWARD, note))
    input_share = _total(input_parts, x.shape)
    input_grads = [Equation(ir.grad(x), input_share, INPUT_GRAD, "the input's share of every equation at step t")]
    param_shares = {name: _total(param_parts[name], node.shape, False) for name, node in cell.params.items()}
    param_grads = [
        Equation(ir.grad(node), param_shares[name], PARAM_GRAD, "summed over t") for name, node in cell.params.items()
    ]
    initial_grads = [
        Equation(ir.grad(cell.states[s]), carries[s], INITIAL_GRAD, "the carry of step 1", at=1) for s in cell.states
    ]
    return LayerDerivation(
        cell=cell,
        forward=forward,
        backward=backward,
        input_grads=input_grads,
        param_grads=param_grads,
        initial_grads=initial_grads,
        local_grads=local_grads,
        input_shares={x.name: input_share},
        param_shares=param_shares,
        carries=carries,
        upstream=upstream,
        carry_in=carry_in,
        output=output,
        params=dict(cell.params),
    )


def _mirror(node: Node) -> Node:
    """The expression for the reverse direction: t-1 ↔ t+1 (the previous step is the next one)."""

    def walk(n: Node) -> Node:
        if n.op == "var":
            if n.shift in (None, 0):
                return n
            return Node("var", (), (n.name, n.kind, -n.shift), n.shape, n.batched)
        return ir.rebuild(n, tuple(walk(a) for a in n.args)) if n.args else n

    return walk(node)


def reversed_text(ld: LayerDerivation) -> str:
    """:meth:`LayerDerivation.text` for the direction that runs from the last step back."""
    lines = [f"{ld.cell.name} as a layer run from t = T back to 1: outputs {ld.output}_t, states at t = 1", ""]
    for eq in ld.forward:
        lines.append(Equation(eq.lhs, _mirror(eq.rhs), eq.kind).text())
    lines.append("")
    for eq in ld.backward + ld.input_grads + ld.param_grads:
        lines.append(Equation(eq.lhs, _mirror(eq.rhs), eq.kind).text())
    for s in ld.states:
        rhs = Equation(ir.grad(ld.cell.states[s]), _mirror(ld.carries[s])).text().split(" = ", 1)[1]
        lines.append(f"∂J/∂{s}[T+1] = {rhs}  at t = T (the carry of the first step this direction runs)")
    return "\n".join(lines) + "\n"
