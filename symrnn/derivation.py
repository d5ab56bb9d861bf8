"""The derivation with its outputs: ``derive(cell)`` → documents (text, LaTeX, Markdown, JSON) and code.

The recurrences themselves are :mod:`symrnn.bptt` (data, low in the layers); this module adds
the output methods, which reach the printers and the code generators above that data, so it sits
above them, and the layers in between never import it.
"""

from __future__ import annotations

import dataclasses

from symrnn.bptt import DerivationData, Equation
from symrnn.bptt import derive as derive_data
from symrnn.cellspec import Cell
from symrnn.equation_kinds import BACKWARD, FORWARD, INITIAL_GRAD, INPUT_GRAD, PARAM_GRAD, READOUT
from symrnn.losses import Loss, LossStructure

__all__ = [
    "BACKWARD",
    "FORWARD",
    "INITIAL_GRAD",
    "INPUT_GRAD",
    "PARAM_GRAD",
    "READOUT",
    "UPSTREAM",
    "LossStructure",
    "Derivation",
    "DerivationData",
    "Equation",
    "derive",
]


@dataclasses.dataclass(repr=False)
class Derivation(DerivationData):
    """The forward equations and the BPTT recurrences of one cell with one loss, and their outputs.

    ``str(d)`` is the text of :meth:`text`; ``repr(d)`` one line that says what it holds.
    """

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
        self._needs_summed_loss("a standalone module")
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
        if self.loss.name == "upstream":
            self._needs_summed_loss("d.numpy()")
        if not self.structure.is_default:
            if backend != "numpy":
                raise ValueError(
                    f"the loss {self.structure.describe()} runs on the NumPy layer code; backend {backend!r} "
                    "compiles the summed loss J = Σ_t Σ_batch L_t only"
                )
            from symrnn.layers.loss import StructuredLoss

            return StructuredLoss(self)
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
        self._needs_summed_loss("d.torch_function()")
        from symrnn.codegen.torch_function import torch_function

        return torch_function(self)

    def _needs_summed_loss(self, what: str) -> None:
        """Refuse, saying what to use instead, where the code generated has the summed loss only."""
        if self.loss.name == "upstream":
            raise ValueError(
                f"{what} needs a loss; this derivation has upstream gradients instead: "
                "run the cell as a layer with d.layer() (NumPy), d.torch_module() or d.jax_function()"
            )
        if not self.structure.is_default:
            raise ValueError(
                f"{what} computes J = Σ_t Σ_batch L_t; this derivation's loss is {self.structure.describe()}: "
                "use d.numpy() (the layer code with this loss) or d.torch_module() with your own loss"
            )

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


UPSTREAM = Loss(
    "upstream",
    "no readout: the recursions start from given upstream gradients Δ_t = ∂J/∂out_t of the outputs "
    "(the cell used as a layer)",
    None,
    "the upstream gradient is given, not derived",
)


def derive(
    cell: Cell | str,
    loss: str | Loss = "softmax_ce",
    *,
    at: str = "every",
    reduction: str = "sum",
    mask: bool = False,
) -> Derivation:
    """The BPTT derivation of ``cell``: J = Σ_t Σ_batch w_t L_t, or a layer's upstream form.

    Args:
        cell: a :class:`~symrnn.cellspec.Cell` or a catalogue name such as ``"lstm"``.
        loss: ``"softmax_ce"``, ``"bce"`` or ``"mse"`` on the cell's readout; or ``"upstream"``:
            no readout, the δ recursions start from given Δ_t = ∂J/∂out_t (Greff et al. 2017's
            form, δh_t = Δ_t + …), as when the cell is a layer of a bigger model.
        at: the loss is read at ``"every"`` step or at each sequence's ``"last"`` real step.
        reduction: ``"sum"`` or ``"mean"`` of the terms read.
        mask: a 0/1 mask m_t per step and example marks the real steps (ragged lengths).

    Returns:
        A :class:`Derivation` with forward equations, δ recurrences, parameter gradients (sums
        over t), input gradients δx_t and initial-state gradients, and its outputs.  Any loss
        structure but the default weights the seed: δȳ_t = w_t (ŷ_t − y_t).

    Raises:
        KeyError: unknown cell or loss name (the message lists the valid ones).
        ValueError: an unknown ``at`` or ``reduction``; a loss structure with ``loss="upstream"``.
    """
    structure = LossStructure(at=at, reduction=reduction, mask=mask)
    if loss == "upstream" or loss is UPSTREAM:
        if not structure.is_default:
            raise ValueError(
                "loss='upstream' has no loss to read at steps or reduce: the upstream gradients Δ_t are given; "
                "leave at, reduction and mask at their defaults"
            )
        return _upstream(cell)
    data = derive_data(cell, loss, structure)
    return Derivation(**{f.name: getattr(data, f.name) for f in dataclasses.fields(DerivationData)})


def _upstream(cell: Cell | str) -> Derivation:
    """The layer form (:func:`symrnn.layers.derive.derive_layer`) as a derivation to print."""
    from symrnn.layers.derive import derive_layer

    ld = derive_layer(cell)
    return Derivation(
        cell=ld.cell,
        loss=UPSTREAM,
        forward=ld.forward,
        backward=ld.backward,
        param_grads=ld.param_grads,
        initial_grads=ld.initial_grads,
        carries=ld.carries,
        local_grads=ld.local_grads,
        logits="",  # no loss seeds a δ: the output's δ starts from its Δ_t
        prediction="",
        params=ld.params,
        input_grads=ld.input_grads,
        upstream=ld.upstream,
    )
