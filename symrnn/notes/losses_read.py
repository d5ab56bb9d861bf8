"""Which loss a note writes: its J = Σ_t L_t compared, by value, with the losses symrnn derives.

Notes spell one loss many ways (``-y \\log \\hat{y} - (1-y)\\log(1-\\hat{y})``,
``-{y}^\\top \\log \\hat{y}``, ``L^{(t)}(\\hat{y}, y)`` defined on its own line), so
the per-step term is evaluated at random predictions and targets and compared
with cross-entropy, binary cross-entropy and ½‖ŷ − y‖².  A per-step loss that
is only a name (E = Σ_t E_t) is generic: arbitrary upstream gradients.
"""

from __future__ import annotations

import numpy as np

from .free_values import FreeEvaluator, ShapeClash
from .numbers import NoteArithmetic, Unsupported
from .reading import is_loss_symbol, key, symbols
from .tree import Apply, Neg, Sum, Symbol

GENERIC = "generic"


def _candidates(yhat: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {
        "softmax_ce": float(-(y * np.log(yhat)).sum()),
        "bce": float(-(y * np.log(yhat) + (1 - y) * np.log(1 - yhat)).sum()),
        "mse": float(0.5 * ((yhat - y) ** 2).sum()),
    }


def classify_loss(note, items) -> tuple[str | None, object]:
    """(softmax_ce | bce | mse | generic | None when the note defines no loss, the J line)."""
    totals = [i for i in items if isinstance(i.tree.lhs, Symbol) and i.tree.lhs.time is None]
    if not totals:
        return None, None
    total = totals[0]
    body, sign = total.tree.rhs, 1
    while isinstance(body, Neg | Sum):
        if isinstance(body, Neg):
            sign, body = -sign, body.operand
        else:
            body = body.body
    if is_loss_symbol(body):  # L^{(t)}(ŷ, y) or E_t: the line that defines it, if any
        head = body.func if isinstance(body, Apply) else body
        defined = [
            i
            for i in items
            if i is not total and key(i.tree.lhs.func if isinstance(i.tree.lhs, Apply) else i.tree.lhs) == key(head)
        ]
        if not defined:
            return GENERIC, total
        body = defined[0].tree.rhs
    if note.readout is None:
        return GENERIC, total
    prediction = note.readout.value
    names = {note.notation.ir_name(s) for s in symbols(body)}
    if prediction not in names:
        return GENERIC, total
    rng = np.random.default_rng(0)
    agree = None
    for size in (1, 3):
        yhat = rng.uniform(0.1, 0.9, (size, 1))
        y = rng.uniform(0.1, 0.9, (size, 1))
        env = {name: y for name in names}
        env[prediction] = yhat
        evaluator = FreeEvaluator(note, NoteArithmetic(), env)
        try:
            value = evaluator.value(body, {"t": 1, "T": 1})
        except (Unsupported, ShapeClash, KeyError):
            continue
        if np.size(value) != 1:
            continue
        value = sign * float(np.asarray(value).reshape(-1)[0])
        matches = {k for k, v in _candidates(yhat, y).items() if abs(v - value) <= 1e-9 * max(1.0, abs(v))}
        agree = matches if agree is None else agree & matches
    if agree:
        return sorted(agree)[0], total
    return GENERIC, total
