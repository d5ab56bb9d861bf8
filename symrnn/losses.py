"""Readout losses: per-step loss L_t(ŷ_t, y_t), summed over steps and the batch.

Each loss states its prediction ŷ = pred(ȳ) from the logits ȳ = W_y h_t + b_y,
its formula, and the gradient with respect to the logits in closed form
(ŷ − y for all three: the textbook simplification of softmax or sigmoid with
cross-entropy, and of ½‖ŷ − y‖²).  ``tests/test_losses.py`` checks that closed
form against the generic VJP rules through softmax, log and the products.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from symrnn import ir
from symrnn.ir import Node


@dataclass(frozen=True)
class Loss:
    name: str
    description: str
    prediction: str | None  # "softmax", "sigmoid" or None (ŷ is the logits)
    simplification: str  # why ∂L/∂ȳ is ŷ − y, as the derivation notes it

    def predict(self, logits: Node) -> Node:
        if self.prediction == "softmax":
            return ir.softmax(logits)
        if self.prediction == "sigmoid":
            return ir.apply("sigmoid", logits)
        return logits

    def formula(self, yhat: Node, y: Node) -> Node:
        """L_t in elementary ops (used for display and by the oracle)."""
        if self.name == "softmax_ce":
            return -(y.T @ ir.apply("log", yhat))
        if self.name == "bce":
            return -(y.T @ ir.apply("log", yhat) + (1 - y).T @ ir.apply("log", 1 - yhat))
        return ir.scale(sympy.Rational(1, 2), (yhat - y).T @ (yhat - y))

    def logits_grad(self, yhat: Node, y: Node) -> Node:
        """∂L_t/∂ȳ_t in closed form."""
        return yhat - y


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            "softmax_ce",
            "softmax + cross-entropy, one-hot or probability targets",
            "softmax",
            "softmax + cross-entropy simplifies to ŷ − y",
        ),
        Loss(
            "bce",
            "sigmoid + binary cross-entropy, targets in [0, 1]",
            "sigmoid",
            "sigmoid + binary cross-entropy simplifies to ŷ − y",
        ),
        Loss("mse", "squared error ½‖ŷ − y‖², identity output", None, "derivative of ½‖ŷ − y‖²"),
    )
}


class UnknownLossError(KeyError):
    def __str__(self):
        return self.args[0]


def loss(name: str) -> Loss:
    if name not in LOSSES:
        raise UnknownLossError(f"unknown loss {name!r}; valid names: {', '.join(LOSSES)}")
    return LOSSES[name]


# ---------------------------------------------------------------- where the loss is read, and how it is reduced

AT = ("every", "last")
REDUCTIONS = ("sum", "mean")


@dataclass(frozen=True)
class LossStructure:
    """Where the per-step loss is read and how the terms are combined: J = Σ_t Σ_batch w_t L_t.

    ``at``: ``"every"`` step (sequence labelling) or each sequence's ``"last"`` real step
    (sequence classification); ``mask``: a 0/1 mask m_t per step and example says which steps
    are real (padding of ragged lengths); ``reduction``: ``"sum"`` of the terms read, or their
    ``"mean"``.  The weight w_t is what the structure makes of the loss; it multiplies the
    seed of the δ recursions, δȳ_t = w_t (ŷ_t − y_t), and nothing else changes.
    """

    at: str = "every"
    reduction: str = "sum"
    mask: bool = False

    def __post_init__(self):
        if self.at not in AT:
            raise ValueError(f"at must be one of {', '.join(AT)}; got {self.at!r}")
        if self.reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}; got {self.reduction!r}")
        if not isinstance(self.mask, bool):
            raise ValueError(f"mask must be True or False; got {self.mask!r}")

    @property
    def is_default(self) -> bool:
        """Every step, summed, no mask: J = Σ_t Σ_batch L_t, the form of the standalone modules."""
        return self == LossStructure()

    def describe(self) -> str:
        """In words, for headers and notes."""
        where = "at every step" if self.at == "every" else "at each sequence's last real step only"
        masked = ", where the mask m_t marks a real step" if self.mask and self.at == "every" else ""
        how = "summed" if self.reduction == "sum" else "averaged"
        over = (
            "over the batch"
            if self.at == "last"
            else "over the real steps"
            if self.mask
            else "over the steps and the batch"
        )
        return f"read {where}{masked}, {how} {over}"

    def weight_text(self) -> str:
        """w_t in plain text (per example of the batch)."""
        return self._weight(
            mask="m[t]",
            last="[t = T_b]",
            count_every="(T·B)" if not self.mask else "Σ_{t,b} m[t]",
            count_last="B",
            one="1",
        )

    def weight_latex(self) -> str:
        """w_t in LaTeX."""
        return self._weight(
            mask="m_{t}",
            last=r"[t = T_b]",
            count_every="T B" if not self.mask else r"\sum_{t,b} m_{t}",
            count_last="B",
            one="1",
            frac=True,
        )

    def _weight(self, *, mask, last, count_every, count_last, one, frac=False) -> str:
        top = last if self.at == "last" else (mask if self.mask else one)
        if self.reduction == "sum":
            return top
        count = count_last if self.at == "last" else count_every
        if frac:
            return rf"\frac{{{top}}}{{{count}}}"
        return f"{top}/{count}" if " " not in count and "Σ" not in count else f"{top}/({count})"

    def note(self) -> str:
        """What T_b and m_t are, where the weight uses them."""
        parts = []
        if self.at == "last":
            parts.append("T_b is the last real step of example b" + (" (the mask's last 1)" if self.mask else " (T)"))
        if self.mask and self.at == "every":
            parts.append("m_t ∈ {0, 1} marks the real steps of each example")
        return "; ".join(parts)

    def to_json(self) -> dict:
        return {"at": self.at, "reduction": self.reduction, "mask": self.mask, "weight": self.weight_text()}
