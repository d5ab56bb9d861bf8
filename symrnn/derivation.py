"""BPTT in matrix form: forward equations → backward recurrences over t.

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
from symrnn.ir import Node
from symrnn.losses import Loss
from symrnn.losses import loss as loss_by_name
from symrnn.rules import vjp
from symrnn.simplify import simplify

# Equation kinds
FORWARD, READOUT, BACKWARD, PARAM_GRAD, INITIAL_GRAD = "forward", "readout", "backward", "param_grad", "initial_grad"


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


@dataclass(repr=False)
class Derivation:
    """The forward equations and the BPTT recurrences of one cell with one loss.

    ``str(d)`` is the text of :meth:`text`; ``repr(d)`` one line that says what it holds.
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

    # ---------------------------------------------------------- outputs
    def text(self) -> str:
        from symrnn.printing.document import derivation_text

        return derivation_text(self)

    def latex(self, material=None) -> str:
        """The step-by-step LaTeX document (see ``printing.document``); fast, and the same on every machine.

        ``symrnn export`` writes it with its ``material`` (pictures, gradient flow, code):
        ``symrnn.export.document(d, "tex")`` gives that text.
        """
        from symrnn.printing.document import derivation_latex

        return derivation_latex(self, material)

    def markdown(self, material=None, *, flavor: str = "github") -> str:
        """The step-by-step Markdown document; ``symrnn.export.document(d, "md")`` adds what the export adds.

        ``flavor``: "github" (```` ```math ```` blocks, ``$`…`$``, as the export writes) or "jupyter"
        (``$$…$$`` and ``$…$``, for ``display(Markdown(...))``).
        """
        from symrnn.printing.document import derivation_markdown

        return derivation_markdown(self, material, flavor)

    def html(self, material=None) -> str:
        """The step-by-step document as one HTML page, math as MathML (see ``printing.html_document``)."""
        from symrnn.printing.document import derivation_html

        return derivation_html(self, material)

    def _repr_markdown_(self) -> str:
        return self.markdown(flavor="jupyter")

    def _repr_html_(self) -> str:
        from symrnn.printing.html_document import render_html_body
        from symrnn.printing.walkthrough import walkthrough

        return render_html_body(walkthrough(self))

    def to_json(self) -> dict:
        from symrnn.printing.document import derivation_json

        return derivation_json(self)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return (
            f"<Derivation of {self.cell.name} with {self.loss.name}: {len(self.forward)} forward equations, "
            f"{len(self.backward)} δ recursions, {len(self.param_grads)} parameter gradients, "
            f"{len(self.initial_grads)} initial-state gradients; .text(), .latex(), .markdown(), .numpy()>"
        )

    def _repr_latex_(self):
        from symrnn.printing.document import derivation_aligned

        return f"$${derivation_aligned(self)}$$"

    def numpy_source(self, optimize: bool = True, backend: str = "numpy") -> str:
        """The standalone NumPy module (imports only NumPy) as source text.

        ``optimize=False`` gives the plain per-step ``loss_and_grads``, the reference the
        optimised one (hoisted, stacked, bulk weight gradients) is tested against.
        ``backend="numba"``: the module whose ``loss_and_grads`` numba compiles (imports numba too).
        """
        if backend == "numba":
            from symrnn.codegen.numba_module import module_source as numba_source

            return numba_source(self)
        if backend != "numpy":
            raise ValueError(f"backend must be 'numpy' or 'numba', got {backend!r}")
        from symrnn.codegen.numpy_module import module_source

        return module_source(self, optimize)

    def numpy(self, optimize: bool = True, backend: str = "numpy"):
        """Compile to NumPy: an object with ``forward`` and ``loss_and_grads`` (see ``numpy_source``).

        ``backend="numba"`` compiles ``loss_and_grads`` to machine code (``pip install "symrnn[numba]"``;
        an ImportError naming the extra without it); the machine code is cached across processes.
        """
        if backend == "numba":
            from symrnn.codegen.numba_module import compile_module as compile_numba

            return compile_numba(self)
        if backend != "numpy":
            raise ValueError(f"backend must be 'numpy' or 'numba', got {backend!r}")
        from symrnn.codegen.numpy_module import compile_module

        return compile_module(self, optimize)

    def torch_function(self):
        """The derived BPTT as PyTorch: ``fn(params, xs, ys, initial_state=None) -> loss``.

        ``fn`` applies a ``torch.autograd.Function`` (``fn.function``) whose forward and backward
        are the derived ones, run with torch ops on the tensors' device; ``loss.backward()``
        fills ``.grad`` of the parameter and initial-state tensors.  Imports torch.
        """
        from symrnn.codegen.torch_function import torch_function

        return torch_function(self)

    def layer(self, backend: str = "numpy"):
        """The cell as a layer (no readout): ``forward(params, xs, initial_state, mask)`` and ``backward``.

        ``backward(params, tape, grad_outputs, grad_final)`` is the derived vector-Jacobian product,
        with gradients of the parameters, ``xs`` and the initial states (:mod:`symrnn.layers`).
        """
        from symrnn.layers.run import Layer

        return Layer(self.cell, backend)

    def torch_module(self, *, input_size: int, hidden_size: int, **kw):
        """An ``nn.Module`` ``(xs, initial_state=None, mask=None) -> (outputs, final_state)`` whose
        backward is the derived one (see :func:`symrnn.layers.torch_layer.torch_module`). Imports torch."""
        from symrnn.layers.torch_layer import torch_module

        return torch_module(self.cell, input_size=input_size, hidden_size=hidden_size, **kw)

    def jax_function(self, *, reverse: bool = False):
        """``fn(params, xs, initial_state=None, mask=None) -> (outputs, final_state)`` with the
        derived backward as its ``jax.custom_vjp`` (:func:`symrnn.layers.jax_layer.jax_function`)."""
        from symrnn.layers.jax_layer import jax_function

        return jax_function(self.cell, reverse=reverse)

    def init_params(
        self, *, hidden_size: int, input_size: int, output_size: int, seed: int = 0, dtype="float64", sizes=None
    ):
        """A valid parameter dict: uniform(±1/√hidden) weights, as PyTorch initialises RNNs.

        ``sizes`` gives any further size the cell declares, e.g. ``{"proj_size": 4}``.
        """
        from symrnn.codegen.params import init_params

        return init_params(
            self,
            hidden_size=hidden_size,
            input_size=input_size,
            output_size=output_size,
            seed=seed,
            dtype=dtype,
            sizes=sizes,
        )

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


def derive(cell: Cell | str, loss: str | Loss = "softmax_ce") -> Derivation:
    """The BPTT derivation of ``cell`` with per-step ``loss`` summed over t and the batch.

    Args:
        cell: a :class:`~symrnn.cellspec.Cell` or a catalogue name such as ``"lstm"``.
        loss: ``"softmax_ce"``, ``"bce"`` or ``"mse"``.

    Returns:
        A :class:`Derivation` with forward equations, δ recurrences, parameter
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

    # One VJP per equation, each in terms of the symbol δ(lhs).  The loss block
    # (prediction and L) is replaced by its closed-form seed for δ(logits).
    skip = {prediction, "L"} if logits_name != prediction else {"L"}
    local: dict[str, list[Node]] = {}
    carry: dict[str, list[Node]] = {name: [] for name in cell.states}
    param_parts: dict[str, list[Node]] = {name: [] for name in params}
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
    return Derivation(
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
    )
