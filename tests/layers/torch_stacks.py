"""nn.LSTM / nn.GRU with several layers and both directions, their weights as per-layer dicts.

Nothing here imports symrnn.  PyTorch stacks gates (LSTM: i, f, g, o; GRU: r, z, n) in
``weight_ih_l{k}{_reverse}``; a catalogue cell that follows PyTorch names them W_i<gate>,
W_h<gate>, b_i<gate>, b_h<gate> (lstm-pytorch, gru-pytorch).
"""

from __future__ import annotations

import torch

GATES = {"lstm-pytorch": ("i", "f", "g", "o"), "gru-pytorch": ("r", "z", "n")}
MODULES = {"lstm-pytorch": torch.nn.LSTM, "gru-pytorch": torch.nn.GRU}


def layer_params(module, name: str, k: int, reverse: bool = False) -> dict:
    """Layer k's (or its reverse direction's) weights keyed by the cell's parameter names."""
    suffix = f"_l{k}" + ("_reverse" if reverse else "")
    gates = GATES[name]
    out = {}
    for kind, letter in (("weight_ih", "W_i"), ("weight_hh", "W_h"), ("bias_ih", "b_i"), ("bias_hh", "b_h")):
        chunks = getattr(module, kind + suffix).detach().chunk(len(gates))
        for gate, chunk in zip(gates, chunks, strict=True):
            out[letter + gate] = chunk.clone().numpy()
    return out


def layer_grads(module, name: str, k: int, reverse: bool = False) -> dict:
    """The .grad of layer k's weights, keyed like :func:`layer_params`."""
    suffix = f"_l{k}" + ("_reverse" if reverse else "")
    gates = GATES[name]
    out = {}
    for kind, letter in (("weight_ih", "W_i"), ("weight_hh", "W_h"), ("bias_ih", "b_i"), ("bias_hh", "b_h")):
        chunks = getattr(module, kind + suffix).grad.chunk(len(gates))
        for gate, chunk in zip(gates, chunks, strict=True):
            out[letter + gate] = chunk.numpy()
    return out
