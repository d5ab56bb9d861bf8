"""Torch autograd references for layers: a cell's paper equations over a sequence (tests/references).

Nothing here imports symrnn.  ``layer_outputs`` runs a reference step over xs with the mask
semantics the layers document (padded steps keep the states and output 0); ``vjp`` is
∂(Σ outputs ⊙ Δ + Σ final ⊙ Δ_final)/∂(parameters, xs, initial states) by torch autograd.
"""

from __future__ import annotations

import numpy as np
import torch

from tests.references import REFERENCES
from tests.references.unroll import Params


def layer_outputs(name: str, tensors: dict, xs, initial: dict, mask=None, reverse=False):
    """(outputs (T, batch, size), final states) of catalogue cell ``name``'s reference step."""
    ref = REFERENCES[name]
    p = Params(tensors)
    state = {s: initial[s].T for s in ref.states}
    out_state = ref.readout[0]
    T = xs.shape[0]
    outputs = [None] * T
    for t in range(T - 1, -1, -1) if reverse else range(T):
        new = ref.step(p, xs[t].T, **state)
        if mask is not None:
            m = mask[t][None, :]
            new = {s: m * new[s] + (1 - m) * state[s] for s in ref.states}
            outputs[t] = (m * new[out_state]).T
        else:
            outputs[t] = new[out_state].T
        state = new
    return torch.stack(outputs), {s: v.T for s, v in state.items()}


def to_tensors(arrays: dict) -> dict:
    return {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for k, v in arrays.items()}


def vjp(name, params, xs, initial, delta, delta_final, mask=None, reverse=False):
    """(outputs, finals, grads) as NumPy: grads keyed by parameter, "xs" and "<state>_0"."""
    p = to_tensors(params)
    x = torch.tensor(xs, requires_grad=True)
    s0 = to_tensors(initial)
    m = None if mask is None else torch.tensor(mask, dtype=torch.float64)
    out, final = layer_outputs(name, p, x, s0, m, reverse)
    J = (out * torch.tensor(delta)).sum() + sum((final[s] * torch.tensor(g)).sum() for s, g in delta_final.items())
    leaves = {**p, "xs": x, **{f"{s}_0": v for s, v in s0.items()}}
    grads = torch.autograd.grad(J, list(leaves.values()), allow_unused=True)
    result = {
        k: np.zeros(tuple(v.shape)) if g is None else g.numpy() for (k, v), g in zip(leaves.items(), grads, strict=True)
    }
    return out.detach().numpy(), {s: v.detach().numpy() for s, v in final.items()}, result
