"""A reference cell over a sequence, with its readout and loss, as one torch scalar J.

J = Σ_t Σ_batch L(ŷ_t, y_t), ŷ_t = pred(W_y s_t + b_y), with the three losses written out:
softmax + cross-entropy −Σ y log softmax(ȳ), sigmoid + binary cross-entropy
−Σ (y log σ(ȳ) + (1 − y) log(1 − σ(ȳ))), and ½‖ȳ − y‖² on the logits themselves.
"""

from __future__ import annotations

import numpy as np
import torch

from tests.references import Reference


def softmax_ce(logits, y):
    return -(y * torch.log(torch.softmax(logits, dim=0))).sum()


def bce(logits, y):
    y_hat = torch.sigmoid(logits)
    return -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).sum()


def mse(logits, y):
    return 0.5 * ((logits - y) ** 2).sum()


LOSSES = {"softmax_ce": softmax_ce, "bce": bce, "mse": mse}


class Params:
    """A cell's parameters as float64 tensors: ``p.W_hh`` or ``p["W_xh,f"]``; 1-D arrays become columns.

    It records which parameters the step read, so a test can tell a reference that ignores one.
    """

    def __init__(self, tensors: dict[str, torch.Tensor]):
        self._tensors = tensors
        self.read: set[str] = set()

    def __getitem__(self, name):
        t = self._tensors[name]
        self.read.add(name)
        return t.reshape(-1, 1) if t.dim() == 1 else t

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]


def leaves(params: dict, initial: dict) -> dict[str, torch.Tensor]:
    """Float64 leaf tensors that require grad: the parameters and the initial states as "<s>_0"."""
    out = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for k, v in params.items()}
    out.update(
        {f"{s}_0": torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for s, v in initial.items()}
    )
    return out


def run(ref: Reference, tensors: dict, xs, ys=None, loss: str = "softmax_ce"):
    """(J or None, states, logits, p): J summed over steps and batch, states[s][t] batch × size.

    Args:
        ref: the reference cell.
        tensors: leaves as from :func:`leaves` (parameters and "<s>_0").
        xs: (T, batch, input); ys: (T, batch, output) or None for the forward only.
        loss: one of ``LOSSES``.
    """
    p = Params({k: v for k, v in tensors.items() if not any(k == f"{s}_0" for s in ref.states)})
    state = {s: tensors[f"{s}_0"].T for s in ref.states}  # columns: size × batch
    xs = xs if isinstance(xs, torch.Tensor) else torch.as_tensor(np.asarray(xs, dtype=np.float64))
    state_name, weight, bias = ref.readout
    J = torch.zeros((), dtype=torch.float64) if ys is not None else None
    values = {s: [] for s in ref.states}
    logits = []
    for t in range(xs.shape[0]):
        state = ref.step(p, xs[t].T, **state)
        if set(state) != set(ref.states):
            raise AssertionError(f"{ref.name}: step returned {sorted(state)}, expected {sorted(ref.states)}")
        y_bar = p[weight] @ state[state_name] + (p[bias] if bias else 0)
        logits.append(y_bar.T)
        for s in ref.states:
            values[s].append(state[s].T)
        if ys is not None:
            J = J + LOSSES[loss](y_bar, torch.as_tensor(np.asarray(ys[t], dtype=np.float64)).T)
    return J, {s: torch.stack(v) for s, v in values.items()}, torch.stack(logits), p


def gradients(ref: Reference, params: dict, initial: dict, xs, ys, loss: str):
    """(J, {name: ∂J/∂name}, names read) by torch autograd of the reference, as NumPy float64."""
    tensors = leaves(params, initial)
    J, _, _, p = run(ref, tensors, xs, ys, loss)
    names = list(tensors)
    grads = torch.autograd.grad(J, [tensors[k] for k in names], allow_unused=True)
    out = {
        k: (np.zeros(tensors[k].shape) if g is None else g.detach().numpy()) for k, g in zip(names, grads, strict=True)
    }
    return float(J.detach()), out, p.read
