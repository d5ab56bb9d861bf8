"""PyTorch references: ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` built from our parameter dicts.

Used (a) as the PyTorch timing reference ("PyTorch nn.LSTM forward+backward":
forward through the one-layer module, ``nn.Linear`` readout, summed
cross-entropy, ``backward()``), and (b) in the tests, as an autograd oracle for
the RNN and LSTM baselines.

Weight mapping (one layer, ``batch_first=False``, sequences (T, B, X)):

* ``nn.RNN`` (tanh): ``weight_ih_l0 = W_xh``, ``weight_hh_l0 = W_hh``,
  ``bias_ih_l0 = b_h``, ``bias_hh_l0 = 0`` -- the same function as ours.
* ``nn.LSTM``: PyTorch stacks the gates in the order i, f, g, o:
  ``weight_ih_l0 = vstack(W_xi, W_xf, W_xg, W_xo)``,
  ``weight_hh_l0 = vstack(W_hi, W_hf, W_hg, W_ho)``,
  ``bias_ih_l0 = concat(b_i, b_f, b_g, b_o)``, ``bias_hh_l0 = 0`` -- the same
  function as ours (the gradient of ``bias_ih`` is the gradient of our biases).
* ``nn.GRU`` is **not** the same function as our GRU, for two reasons: PyTorch
  applies the reset gate *after* the recurrent product,
  ``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`` (ours: ``W_hh (r ⊙ h)``),
  and its update gate keeps the *old* state, ``h' = (1 - z) ⊙ n + z ⊙ h`` (ours:
  ``z`` takes the candidate).  The weights are still copied (gate order r, z, n)
  so the module has the same sizes and realistic values, but the GRU reference
  is for **timing only**; never compare its values or gradients with ours.

Convert inputs once with :func:`to_torch` outside any timed region; the timed
callable is ``lambda: torch_loss_and_backward(module, readout, xs_t, ys_t)``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "torch_rnn",
    "torch_lstm",
    "torch_gru",
    "build_torch_model",
    "to_torch",
    "torch_loss_and_backward",
    "torch_loss_and_grads",
]

_TORCH_LSTM_ORDER = ("i", "f", "g", "o")
_TORCH_GRU_ORDER = ("r", "z", "h")  # PyTorch's r, z, n; our candidate is "h"


def _t(a, dtype):
    return torch.from_numpy(np.ascontiguousarray(a)).to(dtype)


def _torch_dtype(params):
    return {np.dtype("float32"): torch.float32, np.dtype("float64"): torch.float64}[np.asarray(params["W_y"]).dtype]


def _readout(params, dtype):
    Y, H = params["W_y"].shape
    lin = nn.Linear(H, Y).to(dtype)
    with torch.no_grad():
        lin.weight.copy_(_t(params["W_y"], dtype))
        lin.bias.copy_(_t(params["b_y"], dtype))
    return lin


def _fill(module, w_ih, w_hh, b_ih):
    with torch.no_grad():
        module.weight_ih_l0.copy_(w_ih)
        module.weight_hh_l0.copy_(w_hh)
        module.bias_ih_l0.copy_(b_ih)
        module.bias_hh_l0.zero_()


def torch_rnn(params):
    """``(nn.RNN(tanh), nn.Linear)`` computing exactly our RNN."""
    dt = _torch_dtype(params)
    H, X = params["W_xh"].shape
    m = nn.RNN(X, H, num_layers=1, nonlinearity="tanh", batch_first=False).to(dt)
    _fill(m, _t(params["W_xh"], dt), _t(params["W_hh"], dt), _t(params["b_h"], dt))
    return m, _readout(params, dt)


def torch_lstm(params):
    """``(nn.LSTM, nn.Linear)`` computing exactly our LSTM (gate order i, f, g, o)."""
    dt = _torch_dtype(params)
    H, X = params["W_xi"].shape
    m = nn.LSTM(X, H, num_layers=1, batch_first=False).to(dt)
    _fill(
        m,
        _t(np.vstack([params["W_x" + k] for k in _TORCH_LSTM_ORDER]), dt),
        _t(np.vstack([params["W_h" + k] for k in _TORCH_LSTM_ORDER]), dt),
        _t(np.concatenate([params["b_" + k] for k in _TORCH_LSTM_ORDER]), dt),
    )
    return m, _readout(params, dt)


def torch_gru(params):
    """``(nn.GRU, nn.Linear)`` of the same sizes -- TIMING ONLY.

    PyTorch's GRU applies the reset gate after the recurrent product and lets
    ``z`` keep the old state, so it is a different function from our
    Chung-2014 GRU; the weights are copied (order r, z, n) for realism only.
    """
    dt = _torch_dtype(params)
    H, X = params["W_xh"].shape
    m = nn.GRU(X, H, num_layers=1, batch_first=False).to(dt)
    _fill(
        m,
        _t(np.vstack([params["W_x" + k] for k in _TORCH_GRU_ORDER]), dt),
        _t(np.vstack([params["W_h" + k] for k in _TORCH_GRU_ORDER]), dt),
        _t(np.concatenate([params["b_" + k] for k in _TORCH_GRU_ORDER]), dt),
    )
    return m, _readout(params, dt)


_BUILDERS = {"rnn": torch_rnn, "lstm": torch_lstm, "gru": torch_gru}


def build_torch_model(cell, params):
    """``(module, readout)`` for ``cell`` in ``{"rnn", "lstm", "gru"}`` (GRU: timing only)."""
    return _BUILDERS[cell](params)


def to_torch(xs, ys, initial_state=None, requires_grad=False):
    """Convert ``xs``, ``ys`` (and an initial-state dict) to tensors (shared memory).

    Returns ``(xs_t, ys_t, hx)`` where ``hx`` is ``None``, ``h0`` of shape
    (1, B, H), or the tuple ``(h0, c0)`` when the dict has a ``"c"`` entry.
    With ``requires_grad`` the initial-state tensors are leaves requiring grad.
    """
    xs_t = torch.from_numpy(np.ascontiguousarray(xs))
    ys_t = torch.from_numpy(np.ascontiguousarray(ys))
    hx = None
    if initial_state is not None:
        parts = []
        for key in ("h", "c"):
            if initial_state.get(key) is not None:
                v = torch.from_numpy(np.array(initial_state[key])[None])
                v.requires_grad_(requires_grad)
                parts.append(v)
        hx = parts[0] if len(parts) == 1 else tuple(parts)
    return xs_t, ys_t, hx


def torch_loss_and_backward(module, readout, xs, ys, hx=None):
    """Forward + readout + summed cross-entropy + ``backward()``; returns the loss tensor.

    ``xs`` (T, B, X) and ``ys`` (T, B, Y) are tensors (see :func:`to_torch`).
    Parameter gradients are reset to ``None`` first (``zero_grad(set_to_none=True)``
    semantics, what a training loop does), so repeated calls do not accumulate.
    """
    for p in module.parameters():
        p.grad = None
    for p in readout.parameters():
        p.grad = None
    out, _ = module(xs, hx)
    logits = readout(out)
    Y = logits.shape[-1]
    loss = F.cross_entropy(logits.reshape(-1, Y), ys.reshape(-1, Y), reduction="sum")
    loss.backward()
    return loss


def torch_loss_and_grads(cell, params, xs, ys, initial_state=None):
    """Autograd oracle: ``(loss, grads)`` in our layout, for ``cell`` "rnn" or "lstm".

    Gradients w.r.t. the initial state come back as ``"h_0"`` (and ``"c_0"``);
    a ``None`` initial state is passed to torch as explicit zeros so that those
    gradients exist.
    """
    if cell not in ("rnn", "lstm"):
        raise ValueError("torch oracle only for 'rnn' and 'lstm' (nn.GRU is a different function)")
    module, readout = build_torch_model(cell, params)
    T, B, _ = np.shape(xs)
    H = params["W_hh"].shape[0] if cell == "rnn" else params["W_hi"].shape[0]
    dtype = np.asarray(xs).dtype
    if initial_state is None:
        initial_state = {"h": np.zeros((B, H), dtype)}
        if cell == "lstm":
            initial_state["c"] = np.zeros((B, H), dtype)
    if cell == "rnn":
        initial_state = {"h": initial_state["h"]}
    xs_t, ys_t, hx = to_torch(xs, ys, initial_state, requires_grad=True)
    loss = torch_loss_and_backward(module, readout, xs_t, ys_t, hx)

    def g(p):
        return p.grad.detach().numpy().copy()

    grads = {"W_y": g(readout.weight), "b_y": g(readout.bias)}
    if cell == "rnn":
        grads.update(
            W_xh=g(module.weight_ih_l0),
            W_hh=g(module.weight_hh_l0),
            b_h=g(module.bias_ih_l0),
            h_0=hx.grad[0].numpy().copy(),
        )
    else:
        gi, gh, gb = g(module.weight_ih_l0), g(module.weight_hh_l0), g(module.bias_ih_l0)
        for n, k in enumerate(_TORCH_LSTM_ORDER):
            rows = slice(n * H, (n + 1) * H)
            grads["W_x" + k] = gi[rows]
            grads["W_h" + k] = gh[rows]
            grads["b_" + k] = gb[rows]
        grads["h_0"] = hx[0].grad[0].numpy().copy()
        grads["c_0"] = hx[1].grad[0].numpy().copy()
    return loss.item(), grads
