"""The cell builder: a recurrent cell as named, shape-checked equations for one step t.

A cell function reads like its paper::

    cell = Cell("rnn", family="RNN", source="Elman 1990", convention="...")
    x, h = cell.input("x"), cell.state("h")          # x_t and h_{t-1}
    cell.let("h", tanh(cell.weight("W_hh", HIDDEN, HIDDEN) @ h + ...))  # h_t

``state(name)`` is the previous value s_{t-1}; ``let(name, ...)`` with a state's
name defines s_t.  Parameters keep the shapes of the math (W_hh is
hidden × hidden, a bias is hidden × 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy

from symrnn import ir
from symrnn.ir import HIDDEN, INPUT, Node


class CellError(ValueError):
    """A cell whose equations do not define a recurrence."""


@dataclass
class Cell:
    """A recurrent cell: its equations at step t, its parameters and states."""

    name: str
    family: str = ""
    source: str = ""
    convention: str = ""
    summary: str = ""
    equations: list[tuple[Node, Node]] = field(default_factory=list)
    params: dict[str, Node] = field(default_factory=dict)
    states: dict[str, Node] = field(default_factory=dict)  # name -> s_{t-1}
    inputs: dict[str, Node] = field(default_factory=dict)
    preactivations: dict[str, str] = field(default_factory=dict)  # value -> its pre-activation name
    readout_state: str = "h"
    readout_weight: str | None = "W_y"
    readout_bias: str | None = "b_y"
    aliases: tuple[str, ...] = ()

    # ------------------------------------------------------------ symbols
    def input(self, name: str = "x", size=INPUT) -> Node:
        """The input x_t, a column of ``size`` rows."""
        node = ir.var(name, (size, 1), ir.INPUT_KIND, 0)
        self.inputs[name] = node
        return node

    def state(self, name: str, size=HIDDEN) -> Node:
        """The state's previous value s_{t-1}; define s_t later with ``let``."""
        node = ir.var(name, (size, 1), ir.STATE, -1)
        self.states[name] = node
        return node

    def param(self, name: str, rows, cols) -> Node:
        """A parameter shared by every step and example."""
        node = ir.var(name, (rows, cols), ir.PARAM)
        if name in self.params and self.params[name] != node:
            raise CellError(f"parameter {name} declared twice with different shapes")
        self.params[name] = node
        return node

    def weight(self, name: str, rows=HIDDEN, cols=HIDDEN) -> Node:
        return self.param(name, rows, cols)

    def bias(self, name: str, size=HIDDEN) -> Node:
        return self.param(name, size, 1)

    # ------------------------------------------------------------ equations
    def let(self, name: str, expr: Node, *, pre: str | None = None) -> Node:
        """Define ``name`` at step t as ``expr``; a state's name defines s_t.

        ``pre`` names the pre-activation when ``expr`` is φ(·); by default the
        derivation calls it ``<name>_bar`` (printed \\bar{name}).
        """
        if not isinstance(expr, Node):
            raise TypeError(f"equation {name} needs an IR expression, got {expr!r}")
        if any(lhs.name == name for lhs, _ in self.equations):
            raise CellError(f"{name} is defined twice in cell {self.name}")
        if name in self.states:
            prev = self.states[name]
            if prev.shape != expr.shape:
                raise ir.ShapeError(
                    f"state {name} has shape {ir.fmt_shape(prev.shape)} at t-1 but its equation "
                    f"gives {ir.fmt_shape(expr.shape)}"
                )
            lhs = ir.var(name, expr.shape, ir.STATE, 0)
        else:
            lhs = ir.var(name, expr.shape, ir.VALUE, 0)
        if not expr.batched:
            raise CellError(f"{name} does not depend on the input or state; it is a parameter")
        if pre:
            self.preactivations[name] = pre
        self.equations.append((lhs, expr))
        return lhs

    def readout(self, state: str = "h", weight: str | None = "W_y", bias: str | None = "b_y"):
        """Which state feeds the readout ŷ_t = pred(W_y s_t + b_y), and its parameter names."""
        self.readout_state, self.readout_weight, self.readout_bias = state, weight, bias

    def readout_params(self) -> dict[str, Node]:
        """The readout's parameters W_y (output × state) and b_y, as ``derive`` uses them."""
        size = self.states[self.readout_state].shape[0]
        out: dict[str, Node] = {}
        if self.readout_weight:
            out[self.readout_weight] = ir.var(self.readout_weight, (ir.OUTPUT, size), ir.PARAM)
        if self.readout_bias:
            rows = ir.OUTPUT if self.readout_weight else size
            out[self.readout_bias] = ir.var(self.readout_bias, (rows, 1), ir.PARAM)
        return out

    def all_params(self) -> dict[str, Node]:
        """The cell's parameters, then the readout's; the cell is left unchanged."""
        params = dict(self.params)
        for name, node in self.readout_params().items():
            if name in params and params[name] != node:
                raise CellError(f"readout parameter {name} clashes with the cell parameter of that name")
            params.setdefault(name, node)
        return params

    # ------------------------------------------------------------ PyTorch
    # The PyTorch bridge (symrnn.torch_interop) sits layers above the cell builder: it registers
    # its converters here (symrnn.api does so without importing torch until one is used), so the
    # builder never imports upward.
    def from_torch(self, module, readout=None) -> dict:
        """Parameters of this cell from a PyTorch RNN/LSTM/GRU module or state dict.

        Args:
            module: an ``nn.RNN``/``LSTM``/``GRU`` (or its ``*Cell``) module, or its state dict.
            readout: the ``nn.Linear`` readout, if the cell has one.

        Returns:
            The parameters keyed by the cell's names, as NumPy arrays.

        Raises:
            ValueError: the cell has no PyTorch counterpart or the module does not fit it.
        """
        return _torch_bridge("from_torch")(self, module, readout)

    def to_torch(self, params: dict, **kw):
        """A PyTorch module (and readout Linear) holding ``params``.

        Args:
            params: the cell's parameters by name.
            **kw: ``step=True`` for the ``*Cell`` module run step by step.

        Returns:
            A :class:`symrnn.torch_interop.TorchModel`.
        """
        return _torch_bridge("to_torch")(self, params, **kw)

    # ------------------------------------------------------------ checks
    def validate(self) -> Cell:
        defined = {lhs.name for lhs, _ in self.equations}
        missing = [s for s in self.states if s not in defined]
        if missing:
            raise CellError(f"cell {self.name}: state {', '.join(missing)} has no equation for step t")
        if self.readout_state not in self.states:
            raise CellError(f"cell {self.name}: readout state {self.readout_state} is not a state")
        return self

    @property
    def dims(self) -> list[sympy.Symbol]:
        free: dict[sympy.Symbol, None] = {}
        for node in [*self.params.values(), *self.states.values(), *self.inputs.values()]:
            for d in node.shape:
                for s in sorted(d.free_symbols, key=str):
                    free.setdefault(s)
        return list(free)


_TORCH_BRIDGE: dict[str, Callable] = {}


def register_torch_bridge(*, from_torch: Callable, to_torch: Callable) -> None:
    """Give :meth:`Cell.from_torch` and :meth:`Cell.to_torch` their converters (the PyTorch layer's).

    Args:
        from_torch: ``(cell, module, readout) -> params``.
        to_torch: ``(cell, params, **kw) -> module``.

    Returns:
        None.
    """
    _TORCH_BRIDGE["from_torch"] = from_torch
    _TORCH_BRIDGE["to_torch"] = to_torch


def _torch_bridge(name: str) -> Callable:
    if name not in _TORCH_BRIDGE:
        raise RuntimeError(
            f"Cell.{name} needs the PyTorch bridge, which registers when symrnn.api or "
            f"symrnn.torch_interop is imported (symrnn.cell does it); or call symrnn.{name}(cell, ...)"
        )
    return _TORCH_BRIDGE[name]
