"""PyTorch interop: catalogue parameters ↔ ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (and their ``*Cell``).

PyTorch stacks its gates by rows: ``weight_ih`` is [W_i·; ...] (gates × hidden
rows, input columns), likewise ``weight_hh``, ``bias_ih`` and ``bias_hh``, in
the gate order i, f, g, o (LSTM) and r, z, n (GRU).  A catalogue cell keeps one
parameter per gate, so a row block of a PyTorch tensor is one of our
parameters:

==============  =========  ==================================================
cell            module     parameters (per gate ·)
==============  =========  ==================================================
rnn, rnn-relu   RNN        W_xh, W_hh, b_h = bias_ih + bias_hh
lstm            LSTM       W_x·, W_h·, b_· = bias_ih + bias_hh  (· in i f g o)
lstm-pytorch    LSTM       W_i·, W_h·, b_i·, b_h·               (· in i f g o)
gru-pytorch     GRU        W_i·, W_h·, b_i·, b_h·               (· in r z n)
==============  =========  ==================================================

A merged bias b = b_ih + b_hh is exact only because PyTorch adds both biases
to one pre-activation; :func:`to_torch` writes it to ``bias_ih`` and zeros to
``bias_hh``.  (``gru``, with the reset gate before the product, is a different
function from ``nn.GRU``: use ``gru-pytorch``.)  The readout W_y, b_y is not
part of PyTorch's recurrent modules; it is an ``nn.Linear``.

Only one-layer, unidirectional modules without projections are supported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from symrnn.cellspec import Cell, register_torch_bridge


@dataclass(frozen=True)
class _Spec:
    kind: str  # "RNN", "LSTM" or "GRU"
    gates: tuple[str, ...]
    w_ih: str  # format strings over the gate
    w_hh: str
    b_ih: str
    b_hh: str | None  # None: one merged bias, named by b_ih
    nonlinearity: str = "tanh"


SPECS: dict[str, _Spec] = {
    "rnn": _Spec("RNN", ("",), "W_xh", "W_hh", "b_h", None),
    "rnn-relu": _Spec("RNN", ("",), "W_xh", "W_hh", "b_h", None, "relu"),
    "lstm": _Spec("LSTM", ("i", "f", "g", "o"), "W_x{}", "W_h{}", "b_{}", None),
    "lstm-pytorch": _Spec("LSTM", ("i", "f", "g", "o"), "W_i{}", "W_h{}", "b_i{}", "b_h{}"),
    "gru-pytorch": _Spec("GRU", ("r", "z", "n"), "W_i{}", "W_h{}", "b_i{}", "b_h{}"),
}

_MODULES = {
    "RNN": (nn.RNN, nn.RNNCell),
    "LSTM": (nn.LSTM, nn.LSTMCell),
    "GRU": (nn.GRU, nn.GRUCell),
}

_TENSORS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class TorchModel(nn.Module):
    """A PyTorch recurrent module and its ``nn.Linear`` readout: logits (T, B, output) from xs (T, B, input)."""

    def __init__(self, recurrent: nn.Module, readout: nn.Linear | None, kind: str):
        super().__init__()
        self.recurrent = recurrent
        self.readout = readout
        self.kind = kind

    def forward(self, xs: torch.Tensor, initial_state: dict | None = None) -> torch.Tensor:
        """Logits W_y h_t + b_y at every step; ``initial_state`` maps "h" (and "c") to (B, hidden)."""
        state = initial_state or {}
        batch = xs.shape[1]
        hidden = self.recurrent.hidden_size
        zeros = xs.new_zeros(batch, hidden)
        h0, c0 = state.get("h", zeros), state.get("c", zeros)
        if isinstance(self.recurrent, nn.RNNCellBase):
            hs, h, c = [], h0, c0
            for t in range(xs.shape[0]):
                if self.kind == "LSTM":
                    h, c = self.recurrent(xs[t], (h, c))
                else:
                    h = self.recurrent(xs[t], h)
                hs.append(h)
            out = torch.stack(hs)
        else:
            hx = (h0[None], c0[None]) if self.kind == "LSTM" else h0[None]
            out, _ = self.recurrent(xs, hx)
        return self.readout(out) if self.readout is not None else out


def _spec(cell: Cell | str) -> tuple[Cell, _Spec]:
    from symrnn.catalogue import cell as catalogue_cell

    cell = catalogue_cell(cell) if isinstance(cell, str) else cell
    if cell.name not in SPECS:
        hint = (
            " (use gru-pytorch: PyTorch applies the reset gate after the product)"
            if cell.name.startswith("gru")
            else ""
        )
        raise ValueError(f"cell {cell.name} has no PyTorch module{hint}; supported: {', '.join(SPECS)}")
    return cell, SPECS[cell.name]


def _state_dict(module) -> dict[str, torch.Tensor]:
    """weight_ih, weight_hh, bias_ih, bias_hh of a one-layer module, a ``*Cell`` or a state dict."""
    if isinstance(module, TorchModel):
        module = module.recurrent
    if isinstance(module, nn.Module):
        if getattr(module, "num_layers", 1) != 1 or getattr(module, "bidirectional", False):
            raise ValueError("only one-layer, unidirectional modules are supported")
        if getattr(module, "proj_size", 0):
            raise ValueError("LSTM projections (proj_size > 0) are not supported")
        state = module.state_dict()
    else:
        state = dict(module)
    out = {}
    for key, value in state.items():
        m = re.search(r"(?:^|\.)(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)(_l(\d+))?(_reverse)?$", key)
        if not m:
            raise ValueError(f"unexpected tensor {key!r} in a recurrent module's state dict")
        if m.group(1) == "weight_hr" or m.group(4) or (m.group(3) not in (None, "0")):
            raise ValueError(f"{key!r}: only one-layer, unidirectional modules without projections are supported")
        out[m.group(1)] = value.detach()
    if "weight_ih" not in out or "weight_hh" not in out:
        raise ValueError("the state dict has no weight_ih/weight_hh")
    return out


def _chunks(tensor: torch.Tensor, n: int) -> list[np.ndarray]:
    a = tensor.detach().cpu().numpy()
    if a.shape[0] % n:
        raise ValueError(f"a tensor of {a.shape[0]} rows does not split into {n} gates")
    return [c.copy() for c in np.split(a, n, axis=0)]


def _check_kind(module, spec: _Spec):
    if isinstance(module, TorchModel):
        module = module.recurrent
    if not isinstance(module, nn.Module):
        return
    if not isinstance(module, _MODULES[spec.kind]):
        raise ValueError(f"expected nn.{spec.kind} or nn.{spec.kind}Cell, got {type(module).__name__}")
    nonlinearity = getattr(module, "nonlinearity", "tanh")
    if spec.kind == "RNN" and nonlinearity != spec.nonlinearity:
        raise ValueError(f"the module uses {nonlinearity}; the cell uses {spec.nonlinearity}")


def _readout_params(cell: Cell, readout) -> dict[str, np.ndarray]:
    if readout is None:
        return {}
    state = readout.state_dict() if isinstance(readout, nn.Module) else dict(readout)
    out = {}
    if cell.readout_weight:
        out[cell.readout_weight] = state["weight"].detach().cpu().numpy().copy()
    if cell.readout_bias:
        if "bias" not in state:
            raise ValueError(f"the readout has no bias but the cell has {cell.readout_bias}")
        out[cell.readout_bias] = state["bias"].detach().cpu().numpy().copy()
    return out


def from_torch(cell: Cell | str, module, readout=None) -> dict[str, np.ndarray]:
    """The cell's parameters from a PyTorch module: per-gate row blocks, merged biases summed.

    Args:
        cell: ``"rnn"``, ``"rnn-relu"``, ``"lstm"``, ``"lstm-pytorch"`` or ``"gru-pytorch"`` (or the Cell).
        module: ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (one layer), the matching
            ``nn.*Cell``, a :class:`TorchModel`, or their state dict.
        readout: an ``nn.Linear`` (or its state dict) for W_y, b_y; a
            :class:`TorchModel` brings its own.

    Returns:
        NumPy arrays in the layout of the generated code (biases 1-D), in the
        module's dtype; without a readout, W_y and b_y are absent.

    Raises:
        ValueError: an unsupported cell, module kind, nonlinearity, layer count or direction.
    """
    cell, spec = _spec(cell)
    _check_kind(module, spec)
    if readout is None and isinstance(module, TorchModel):
        readout = module.readout
    state = _state_dict(module)
    n = len(spec.gates)
    parts = {k: _chunks(state[k], n) for k in _TENSORS if k in state}
    params: dict[str, np.ndarray] = {}
    for k, gate in enumerate(spec.gates):
        params[spec.w_ih.format(gate)] = parts["weight_ih"][k]
        params[spec.w_hh.format(gate)] = parts["weight_hh"][k]
        zeros = np.zeros(parts["weight_hh"][k].shape[0], parts["weight_hh"][k].dtype)
        b_ih = parts["bias_ih"][k] if "bias_ih" in parts else zeros
        b_hh = parts["bias_hh"][k] if "bias_hh" in parts else zeros
        if spec.b_hh is None:
            params[spec.b_ih.format(gate)] = b_ih + b_hh
        else:
            params[spec.b_ih.format(gate)] = b_ih
            params[spec.b_hh.format(gate)] = b_hh
    ordered = {name: params[name] for name in cell.params if name in params}
    return ordered | _readout_params(cell, readout)


def grads_from_torch(cell: Cell | str, module, readout=None) -> dict[str, np.ndarray]:
    """∂J/∂(the cell's parameters) from the ``.grad`` of a module after ``backward()``.

    A merged bias b = b_ih + b_hh has the gradient of ``bias_ih`` (equal to that of ``bias_hh``).
    """
    cell, spec = _spec(cell)
    recurrent = module.recurrent if isinstance(module, TorchModel) else module
    if readout is None and isinstance(module, TorchModel):
        readout = module.readout
    named = dict(recurrent.named_parameters())
    grads = {}
    for key, p in named.items():
        base = re.sub(r"_l0$", "", key)
        if p.grad is None:
            raise ValueError(f"{key} has no gradient; call backward() first")
        grads[base] = p.grad
    if spec.b_hh is None and "bias_ih" in grads:
        grads = {**grads, "bias_hh": torch.zeros_like(grads["bias_ih"])}
    out = from_torch(cell, grads)
    if readout is not None:
        g = {"weight": readout.weight.grad}
        if readout.bias is not None:
            g["bias"] = readout.bias.grad
        out |= _readout_params(cell, g)
    return out


def to_torch(cell: Cell | str, params: dict, *, step: bool = False) -> TorchModel:
    """A PyTorch module computing the cell with these parameters, and its ``nn.Linear`` readout.

    Args:
        cell: a supported cell (see :data:`SPECS`) or its name.
        params: the cell's parameters (layout of the generated code); W_y and
            b_y, if present, become the readout.
        step: build ``nn.RNNCell``/``nn.LSTMCell``/``nn.GRUCell`` instead of the
            sequence module.

    Returns:
        A :class:`TorchModel` (``.recurrent``, ``.readout``) in the parameters' dtype.
    """
    cell, spec = _spec(cell)
    first = np.asarray(params[spec.w_ih.format(spec.gates[0])])
    hidden, inputs = first.shape
    dtype = {np.dtype("float32"): torch.float32, np.dtype("float64"): torch.float64}.get(first.dtype, torch.float64)
    sequence, single = _MODULES[spec.kind]
    kwargs = {"nonlinearity": spec.nonlinearity} if spec.kind == "RNN" else {}
    recurrent = (single if step else sequence)(inputs, hidden, **kwargs).to(dtype)

    def stack(fmt):
        rows = [np.asarray(params[fmt.format(g)]) for g in spec.gates]
        return torch.from_numpy(np.concatenate(rows, axis=0)).to(dtype)

    suffix = "" if step else "_l0"
    with torch.no_grad():
        getattr(recurrent, "weight_ih" + suffix).copy_(stack(spec.w_ih))
        getattr(recurrent, "weight_hh" + suffix).copy_(stack(spec.w_hh))
        getattr(recurrent, "bias_ih" + suffix).copy_(stack(spec.b_ih))
        if spec.b_hh is None:
            getattr(recurrent, "bias_hh" + suffix).zero_()
        else:
            getattr(recurrent, "bias_hh" + suffix).copy_(stack(spec.b_hh))
    readout = None
    if cell.readout_weight and cell.readout_weight in params:
        W = np.asarray(params[cell.readout_weight])
        readout = nn.Linear(W.shape[1], W.shape[0], bias=bool(cell.readout_bias)).to(dtype)
        with torch.no_grad():
            readout.weight.copy_(torch.from_numpy(W).to(dtype))
            if cell.readout_bias:
                readout.bias.copy_(torch.from_numpy(np.asarray(params[cell.readout_bias])).to(dtype))
    return TorchModel(recurrent, readout, spec.kind)


register_torch_bridge(from_torch=from_torch, to_torch=to_torch)
