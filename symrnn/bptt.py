"""BPTT in matrix form: forward equations → backward recurrences over t (the derivation as data).

The derivation works on the equations of one step t.  Every named value v gets
a gradient δv = ∂J/∂v_t (total, through every later step), written as the sum
of the VJPs of the equations that use v_t, plus — for a state s — the *carry*:
what step t+1 sends back through its use of s_t as s_{(t+1)-1}.  The carry is
built once from step t's own equations (their share for s_{t-1}) and shifted
to t+1, so the result is a recurrence valid for every T and every size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symrnn import ir
from symrnn.cellspec import Cell
from symrnn.equation_kinds import BACKWARD, FORWARD, INITIAL_GRAD, INPUT_GRAD, PARAM_GRAD, READOUT
from symrnn.ir import Node
from symrnn.losses import Loss, LossStructure
from symrnn.losses import loss as loss_by_name
from symrnn.rules import vjp
from symrnn.simplify import simplify


@dataclass(frozen=True)
class Equation:
    """``lhs = rhs``; a ``param_grad`` right-hand side is summed over t."""

    lhs: Node
    rhs: Node
    kind: str = FORWARD
    note: str = ""
    at: int | None = None  # absolute step that t stands for (δh_0 is written at t = 1)

    def latex(self, **settings) -> str:
        from symrnn.printing.equations import equation_latex

        return equation_latex(self, **settings)

    def text(self) -> str:
        from symrnn.printing.equations import equation_text

        return equation_text(self)

    def _repr_latex_(self):
        return f"$${self.latex()}$$"

    def __str__(self):
        return self.text()

    def __repr__(self):
        step = "" if self.at is None else f", at t = {self.at}"
        return f"<Equation {self.kind}{step}: {self.text()}>"


@dataclass
class DerivationData:
    """The forward equations and the BPTT recurrences of one cell with one loss: data only.

    :class:`symrnn.derivation.Derivation` is this with its outputs (documents, code); the
    layers between the two (code generation, checks, gradient flow) take this one.
    """

    cell: Cell
    loss: Loss
    forward: list[Equation]
    backward: list[Equation]
    param_grads: list[Equation]
    initial_grads: list[Equation]
    carries: dict[str, Node]  # state → step t's share of δs_{t-1} (before shifting)
    local_grads: dict[str, Node]  # value → its δ from step t's own uses (no carry)
    logits: str  # the name whose δ the loss seeds
    prediction: str
    params: dict[str, Node] = field(default_factory=dict)
    input_grads: list[Equation] = field(default_factory=list)  # δx_t, from step t's uses of x_t
    structure: LossStructure = field(default_factory=LossStructure)  # where the loss is read, how reduced
    upstream: dict[str, Node] = field(default_factory=dict)  # loss "upstream": output state → its given Δ_t

    @property
    def cell_equations(self) -> list[Equation]:
        """The forward equations of the cell itself, without readout and loss."""
        return [eq for eq in self.forward if eq.kind == FORWARD]

    @property
    def states(self) -> list[str]:
        return list(self.cell.states)


def _normalise(cell: Cell) -> list[Equation]:
    """Name pre-activations: v = φ(e) with e compound becomes v̄ = e; v = φ(v̄)."""
    out: list[Equation] = []
    for lhs, rhs in cell.equations:
        if rhs.op in ("apply", "softmax") and rhs.args[0].op != "var":
            pre_name = cell.preactivations.get(lhs.name, f"{lhs.name}_bar")
            pre = ir.var(pre_name, rhs.args[0].shape, ir.VALUE, 0)
            out.append(Equation(pre, rhs.args[0], FORWARD, f"pre-activation of {lhs.name}"))
            rhs = ir.rebuild(rhs, (pre,))
        out.append(Equation(lhs, rhs, FORWARD))
    return out


def _readout(cell: Cell, loss: Loss, params: dict[str, Node]) -> tuple[list[Equation], str, str]:
    state = cell.states[cell.readout_state]
    logits = ir.var(state.name, state.shape, ir.STATE, 0)
    if cell.readout_weight:
        logits = params[cell.readout_weight] @ logits
    if cell.readout_bias:
        logits = logits + params[cell.readout_bias]
    target = ir.var("y", logits.shape, ir.TARGET, 0)
    eqs = []
    if loss.prediction is None:
        yhat = ir.var("y_hat", logits.shape, ir.VALUE, 0)
        eqs.append(Equation(yhat, logits, READOUT, "readout"))
        logits_name = "y_hat"
    else:
        ybar = ir.var("y_bar", logits.shape, ir.VALUE, 0)
        yhat = ir.var("y_hat", logits.shape, ir.VALUE, 0)
        eqs.append(Equation(ybar, logits, READOUT, "readout logits"))
        eqs.append(Equation(yhat, loss.predict(ybar), READOUT, "prediction"))
        logits_name = "y_bar"
    eqs.append(Equation(ir.var("L", (1, 1), ir.VALUE, 0), loss.formula(yhat, target), READOUT, "loss at step t"))
    return eqs, logits_name, "y_hat"


def derive(cell: Cell | str, loss: str | Loss = "softmax_ce", structure: LossStructure | None = None) -> DerivationData:
    """The BPTT derivation of ``cell`` with per-step ``loss``, J = Σ_t Σ_batch w_t L_t.

    Args:
        cell: a :class:`~symrnn.cellspec.Cell` or a catalogue name such as ``"lstm"``.
        loss: ``"softmax_ce"``, ``"bce"`` or ``"mse"``.
        structure: where the loss is read and how it is reduced (default: every step, summed,
            w_t = 1); any other structure weights the seed, δȳ_t = w_t (ŷ_t − y_t).

    Returns:
        A :class:`DerivationData` with forward equations, δ recurrences, parameter
        gradients (sums over t) and initial-state gradients.

    Raises:
        KeyError: unknown cell or loss name (the message lists the valid ones).
    """
    if isinstance(cell, str):
        from symrnn.catalogue import cell as catalogue_cell

        cell = catalogue_cell(cell)
    loss = loss_by_name(loss) if isinstance(loss, str) else loss
    cell.validate()
    params = cell.all_params()
    readout, logits_name, prediction = _readout(cell, loss, params)
    forward = _normalise(cell) + readout

    by_name = {eq.lhs.name: eq for eq in forward}
    target = ir.var("y", by_name[logits_name].lhs.shape, ir.TARGET, 0)
    seed = loss.logits_grad(by_name[prediction].lhs, target)
    structure = structure or LossStructure()
    if not structure.is_default:
        # w_t: the loss structure's weight of step t's loss, one number per example (a given, like y_t)
        seed = ir.mul(ir.var("w", (1, 1), ir.TARGET, 0), seed)

    # One VJP per equation, each in terms of the symbol δ(lhs).  The loss block
    # (prediction and L) is replaced by its closed-form seed for δ(logits).
    skip = {prediction, "L"} if logits_name != prediction else {"L"}
    local: dict[str, list[Node]] = {}
    carry: dict[str, list[Node]] = {name: [] for name in cell.states}
    param_parts: dict[str, list[Node]] = {name: [] for name in params}
    input_parts: dict[str, list[Node]] = {name: [] for name in cell.inputs}
    for eq in forward:
        if eq.lhs.name in skip:
            continue
        for leaf, share in vjp(eq.rhs, ir.grad(eq.lhs), out=eq.lhs).items():
            if leaf.kind == ir.PARAM:
                param_parts[leaf.name].append(share)
            elif leaf.kind == ir.STATE and leaf.shift == -1:
                carry[leaf.name].append(share)
            elif leaf.kind in (ir.VALUE, ir.STATE):
                local.setdefault(leaf.name, []).append(share)
            elif leaf.kind == ir.INPUT_KIND and leaf.name in input_parts:
                input_parts[leaf.name].append(share)

    def total(parts: list[Node], shape, batched=True) -> Node:
        if not parts:
            return ir.zeros(shape, batched)
        # Each share is simplified on its own and the shares keep their order
        # (same-step uses first, then the carry), so formulas read in path order.
        acc = simplify(parts[0])
        for p in parts[1:]:
            p = simplify(p)
            if p.op != "zeros":
                acc = p if acc.op == "zeros" else acc + p
        return acc

    carries = {s: total(carry[s], cell.states[s].shape) for s in cell.states}
    backward: list[Equation] = []
    local_grads: dict[str, Node] = {}
    for eq in reversed(forward):
        name = eq.lhs.name
        if name in skip:
            continue
        if name == logits_name:
            backward.append(Equation(ir.grad(eq.lhs), seed, BACKWARD, loss.simplification))
            local_grads[name] = seed
            continue
        local_grads[name] = total(local.get(name, []), eq.lhs.shape)
        parts = [local_grads[name]]
        note = "from the uses of " + name + " at step t"
        if name in cell.states:
            parts.append(ir.shift_time(carries[name], +1))
            note += " and the carry from step t+1"
        backward.append(Equation(ir.grad(eq.lhs), total(parts, eq.lhs.shape), BACKWARD, note))

    param_grads = [
        Equation(ir.grad(node), total(param_parts[name], node.shape, False), PARAM_GRAD, "summed over t")
        for name, node in params.items()
    ]
    initial_grads = [
        Equation(ir.grad(cell.states[s]), carries[s], INITIAL_GRAD, "the carry of step 1", at=1) for s in cell.states
    ]
    input_grads = [
        Equation(
            ir.grad(node), total(input_parts[name], node.shape), INPUT_GRAD, "from the uses of " + name + " at step t"
        )
        for name, node in cell.inputs.items()
    ]
    return DerivationData(
        cell=cell,
        loss=loss,
        forward=forward,
        backward=backward,
        param_grads=param_grads,
        initial_grads=initial_grads,
        carries=carries,
        local_grads=local_grads,
        logits=logits_name,
        prediction=prediction,
        params=params,
        input_grads=input_grads,
        structure=structure,
    )
