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
from symrnn.equation_kinds import BACKWARD, FORWARD, INITIAL_GRAD, PARAM_GRAD, READOUT
from symrnn.losses import Loss

__all__ = [
    "BACKWARD",
    "FORWARD",
    "INITIAL_GRAD",
    "PARAM_GRAD",
    "READOUT",
    "Derivation",
    "DerivationData",
    "Equation",
    "derive",
]


@dataclasses.dataclass
class Derivation(DerivationData):
    """The forward equations and the BPTT recurrences of one cell with one loss, and their outputs."""

    # ---------------------------------------------------------- outputs
    def text(self) -> str:
        from symrnn.printing.document import derivation_text

        return derivation_text(self)

    def latex(self, *, picture_rendered: bool | None = None) -> str:
        """The step-by-step LaTeX document, as ``symrnn export`` writes it (see ``printing.document``)."""
        from symrnn.printing.document import derivation_latex

        return derivation_latex(self, picture_rendered=picture_rendered)

    def markdown(self, *, picture_rendered: bool | None = None) -> str:
        """The step-by-step Markdown document, as ``symrnn export`` writes it."""
        from symrnn.printing.document import derivation_markdown

        return derivation_markdown(self, picture_rendered=picture_rendered)

    def to_json(self) -> dict:
        from symrnn.printing.document import derivation_json

        return derivation_json(self)

    def _repr_latex_(self):
        from symrnn.printing.document import derivation_aligned

        return f"$${derivation_aligned(self)}$$"

    def numpy_source(self, optimize: bool = True) -> str:
        """The standalone NumPy module (imports only NumPy) as source text.

        ``optimize=False`` gives the plain per-step ``loss_and_grads``, the reference the
        optimised one (hoisted, stacked, bulk weight gradients) is tested against.
        """
        from symrnn.codegen.numpy_module import module_source

        return module_source(self, optimize)

    def numpy(self, optimize: bool = True):
        """Compile to NumPy: an object with ``forward`` and ``loss_and_grads`` (see ``numpy_source``)."""
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

    def init_params(self, *, hidden_size: int, input_size: int, output_size: int, seed: int = 0, dtype="float64"):
        """A valid parameter dict: uniform(±1/√hidden) weights, as PyTorch initialises RNNs."""
        from symrnn.codegen.params import init_params

        return init_params(
            self, hidden_size=hidden_size, input_size=input_size, output_size=output_size, seed=seed, dtype=dtype
        )


def derive(cell: Cell | str, loss: str | Loss = "softmax_ce") -> Derivation:
    """The BPTT derivation of ``cell`` with per-step ``loss`` summed over t and the batch.

    Args:
        cell: a :class:`~symrnn.cellspec.Cell` or a catalogue name such as ``"lstm"``.
        loss: ``"softmax_ce"``, ``"bce"`` or ``"mse"``.

    Returns:
        A :class:`Derivation` with forward equations, δ recurrences, parameter
        gradients (sums over t) and initial-state gradients, and its outputs.

    Raises:
        KeyError: unknown cell or loss name (the message lists the valid ones).
    """
    data = derive_data(cell, loss)
    return Derivation(**{f.name: getattr(data, f.name) for f in dataclasses.fields(DerivationData)})
