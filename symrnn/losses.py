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
