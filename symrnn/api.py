"""The public facade: cells by name, and the PyTorch bridge on every cell.

The layers below never import upward; the few conveniences that reach up (``Cell.from_torch``,
``repr`` of IR nodes showing formulas) are registered here, so ``symrnn.cell("lstm-pytorch")
.from_torch(module)`` works while the cell builder knows nothing of PyTorch. PyTorch itself is
imported only when a converter is called.
"""

from __future__ import annotations

import symrnn.printing  # noqa: F401  (registers the IR's repr printers)
from symrnn.catalogue import cell, cells
from symrnn.cellspec import Cell, CellError, register_torch_bridge

__all__ = ["Cell", "CellError", "cell", "cells", "from_torch", "to_torch"]


def from_torch(cell: Cell | str, module, readout=None) -> dict:
    """The cell's parameters from a PyTorch RNN/LSTM/GRU module or its state dict.

    Args:
        cell: a cell or a catalogue name such as ``"lstm-pytorch"``.
        module: the PyTorch module (or its state dict).
        readout: its ``nn.Linear`` readout, if any.

    Returns:
        The parameters keyed by the cell's names, as NumPy arrays.

    Raises:
        ValueError: the cell has no PyTorch counterpart or the module does not fit it.
    """
    from symrnn.torch_interop import from_torch as convert

    return convert(cell, module, readout)


def to_torch(cell: Cell | str, params: dict, **kw):
    """A PyTorch module computing the cell with these parameters (see :func:`symrnn.torch_interop.to_torch`).

    Args:
        cell: a cell or a catalogue name.
        params: the cell's parameters by name.
        **kw: ``step=True`` for the step-by-step ``*Cell`` module.

    Returns:
        A :class:`symrnn.torch_interop.TorchModel`.
    """
    from symrnn.torch_interop import to_torch as convert

    return convert(cell, params, **kw)


register_torch_bridge(from_torch=from_torch, to_torch=to_torch)
