"""A layer with its readout and a loss of any structure, in NumPy: the loss and every gradient.

ŷ_t = pred(W_y out_t + b_y) with the cell's readout parameters; the loss is read at every
step, at each sequence's last real step (sequence classification), or where a mask says,
and summed or averaged over the terms it reads.  Targets: integer classes (softmax_ce), or
one-hot / probability / real arrays.  The readout's gradient and the loss seed ∂L/∂ȳ are the
closed forms of :mod:`symrnn.losses` (softmax + CE → p·Σy − y, sigmoid + BCE → σ(ȳ) − y,
½‖ȳ − y‖² → ȳ − y); from there the layer's derived VJP (:meth:`Layer.backward`) takes over.
"""

from __future__ import annotations

import numpy as np

from symrnn.layers.run import Layer

LOSSES = ("softmax_ce", "bce", "mse")


def _targets(targets, loss: str, n_out: int, dtype, shape: tuple[int, ...]) -> np.ndarray:
    """Targets as float arrays of ``shape + (n_out,)``; integer classes become one-hot."""
    y = np.asarray(targets)
    if y.dtype.kind in "iu":
        if loss != "softmax_ce":
            raise ValueError(f"integer class targets need loss='softmax_ce'; loss {loss!r} needs float targets")
        if y.shape != shape:
            raise ValueError(f"integer targets must have shape {shape}; got {y.shape}")
        if y.size and (y.min() < 0 or y.max() >= n_out):
            raise ValueError(f"class targets must lie in 0…{n_out - 1} (output_size {n_out}); got {y.min()}…{y.max()}")
        return np.eye(n_out, dtype=dtype)[y]
    if y.dtype.kind != "f" or y.shape != (*shape, n_out):
        raise ValueError(
            f"targets must be integer classes {shape} or a float array {(*shape, n_out)}; got {y.dtype} {y.shape}"
        )
    return y.astype(dtype, copy=False)


def _loss_and_seed(loss: str, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(per-example loss values, ∂L/∂z) for logits z and targets y, rows = examples."""
    if loss == "softmax_ce":
        shifted = z - z.max(axis=-1, keepdims=True)
        log_total = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        values = np.sum(y * (log_total - shifted), axis=-1)  # both factors ≥ 0: no digits lost
        p = np.exp(shifted - log_total)
        return values, p * y.sum(axis=-1, keepdims=True) - y
    if loss == "bce":
        values = np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), axis=-1)
        e = np.exp(-np.abs(z))
        return values, np.where(z >= 0, 1 / (1 + e), e / (1 + e)) - y
    if loss == "mse":
        return 0.5 * np.sum((z - y) ** 2, axis=-1), z - y
    raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")


def last_steps(mask, T: int, batch: int) -> np.ndarray:
    """Each sequence's last real step (T − 1 without a mask); a sequence with none is an error."""
    if mask is None:
        return np.full(batch, T - 1)
    m = np.asarray(mask)
    if not m.any(axis=0).all():
        raise ValueError("every sequence needs at least one real step (a mask column is all 0)")
    return T - 1 - np.argmax(m[::-1] != 0, axis=0)


def loss_and_grads(
    layer: Layer,
    params: dict,
    xs,
    targets,
    mask=None,
    *,
    loss: str = "softmax_ce",
    at: str = "every",
    reduction: str = "sum",
    initial_state: dict | None = None,
):
    """``(J, grads)``: the loss of the layer's readout and its gradients, inputs and states included.

    Args:
        layer: a NumPy :class:`Layer`.
        params: the cell's parameters and the readout's (``W_y``, ``b_y`` as the cell names them).
        xs: (T, batch, input_size).
        targets: ``at="every"``: (T, batch) classes or (T, batch, output_size); ``at="last"``:
            (batch,) or (batch, output_size).
        mask: (T, batch) of 0/1; the loss is read only at real steps.
        loss: ``"softmax_ce"``, ``"bce"`` or ``"mse"``.
        at: ``"every"`` step or each sequence's ``"last"`` real step.
        reduction: ``"sum"`` or ``"mean"`` over the terms read (real steps × batch, or batch).

    Returns:
        J (a float, the true loss) and a dict of gradients: every parameter, ``"xs"``, ``"<state>_0"``.
    """
    if at not in ("every", "last"):
        raise ValueError(f"at must be 'every' or 'last'; got {at!r}")
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean'; got {reduction!r}")
    cell = layer.derivation.cell
    readout = cell.readout_params()
    missing = [k for k in readout if k not in params]
    if missing:
        raise ValueError(f"missing readout parameter {missing[0]!r} (shape (output_size, …) as the cell's readout)")
    cell_params = {k: v for k, v in params.items() if k not in readout}
    out, _, tape = layer.forward(cell_params, xs, initial_state, mask)
    T, batch, size = out.shape
    W = params[cell.readout_weight] if cell.readout_weight else None
    b = params[cell.readout_bias] if cell.readout_bias else None
    if W is not None and W.shape[1:] != (size,):
        raise ValueError(f"parameter {cell.readout_weight!r} has shape {W.shape}; expected (output_size, {size})")
    n_out = W.shape[0] if W is not None else size
    if b is not None and b.shape != (n_out,):
        raise ValueError(f"parameter {cell.readout_bias!r} has shape {b.shape}; expected ({n_out},)")
    weight = np.ones((T, batch), out.dtype) if mask is None else np.asarray(mask, out.dtype)
    if at == "last":
        last = last_steps(mask, T, batch)
        weight = np.zeros((T, batch), out.dtype)
        weight[last, np.arange(batch)] = 1
        y_last = _targets(targets, loss, n_out, out.dtype, (batch,))
        y = np.zeros((T, batch, n_out), out.dtype)
        y[last, np.arange(batch)] = y_last
    else:
        y = _targets(targets, loss, n_out, out.dtype, (T, batch))
    if reduction == "mean":
        weight = weight / max(weight.sum(), 1)
    z = out if W is None else out @ W.T
    if b is not None:
        z = z + b
    values, seed = _loss_and_seed(loss, z, y)
    J = float(np.sum(weight * values))
    dz = weight[:, :, None] * seed
    grads = layer.backward(cell_params, tape, dz if W is None else dz @ W)
    if W is not None:
        grads[cell.readout_weight] = dz.reshape(-1, n_out).T @ out.reshape(-1, size)
    if b is not None:
        grads[cell.readout_bias] = dz.reshape(-1, n_out).sum(axis=0)
    return J, grads


class StructuredLoss:
    """``d.numpy()`` of a derivation whose loss is read at the last step, under a mask or averaged.

    The cell's derived layer VJP under the readout and the loss structure of the derivation
    (:func:`loss_and_grads`), so ``loss_and_grads`` gives the true loss of that structure and its
    gradients, those of ``xs`` and of the initial states included.
    """

    def __init__(self, derivation):
        self.derivation = derivation
        self.structure = derivation.structure
        self.layer = Layer(derivation.cell)

    def loss_and_grads(self, params, xs, targets, mask=None, initial_state=None):
        """``(J, grads)`` as :func:`loss_and_grads` with this derivation's loss, ``at`` and reduction."""
        if self.structure.mask and mask is None:
            raise ValueError("this derivation's loss reads a mask: pass mask, a (T, batch) array of 0/1")
        if not self.structure.mask and mask is not None:
            raise ValueError("this derivation's loss has no mask (derive(..., mask=True) for one); got mask")
        return loss_and_grads(
            self.layer,
            params,
            xs,
            targets,
            mask,
            loss=self.derivation.loss.name,
            at=self.structure.at,
            reduction=self.structure.reduction,
            initial_state=initial_state,
        )

    def loss(self, params, xs, targets, mask=None, initial_state=None) -> float:
        return self.loss_and_grads(params, xs, targets, mask, initial_state)[0]

    def __repr__(self) -> str:
        return f"<NumPy loss of {self.derivation.cell.name}: {self.derivation.loss.name}, {self.structure.describe()}>"
