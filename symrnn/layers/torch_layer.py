"""A derived cell as a PyTorch layer: an ``nn.Module`` whose backward is the derived BPTT.

:func:`layer_function` wraps a torch :class:`~symrnn.layers.run.Layer` in a
``torch.autograd.Function``: its forward runs the generated step code over the sequence, its
backward the derived VJP, so gradients reach ``xs`` (and whatever produced it), the initial
states and the parameters.  Differentiating the backward again (``create_graph=True``) raises
a RuntimeError that says so, never a silently constant (wrong) second derivative.
:class:`DerivedRNN` holds the parameters; :class:`DerivedBidirectional` and :class:`DerivedStack`
compose modules (each layer's backward is its own derived one; autograd chains them).
torch is imported only here.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from symrnn.layers.check import expected_shape
from symrnn.layers.derive import LayerDerivation, derive_layer
from symrnn.layers.run import Layer


def layer_function(layer: Layer):
    """``apply(xs, mask, *params, *initial_states) -> (outputs, *final_states)`` for a torch layer."""
    names, states = layer.names, layer.states
    n = len(names)

    class DerivedLayer(torch.autograd.Function):
        """Forward: the generated step code over the sequence; backward: the derived VJP."""

        @staticmethod
        def forward(ctx, xs, mask, *tensors):
            params = dict(zip(names, tensors[:n], strict=True))
            given = [v is not None for v in tensors[n:]]
            initial = {s: v for s, v in zip(states, tensors[n:], strict=True) if v is not None}
            out, final, tape = layer.forward(params, xs, initial, mask)
            ctx.params, ctx.tape, ctx.given = params, tape, given
            return (out, *final.values())

        @staticmethod
        def backward(ctx, grad_out, *grad_final):
            if torch.is_grad_enabled():  # create_graph=True: a graph of this backward is asked for
                raise RuntimeError(
                    f"double backward through the derived {layer.derivation.cell.name} layer is not supported: "
                    "its backward is the derived first-order BPTT (use torch autograd of the cell for "
                    "second derivatives)"
                )
            grads = layer.backward(ctx.params, ctx.tape, grad_out, dict(zip(states, grad_final, strict=True)))
            initial = [grads[f"{s}_0"] if g else None for s, g in zip(states, ctx.given, strict=True)]
            return (grads["xs"], None, *[grads[k] for k in names], *initial)

    return DerivedLayer


class DerivedRNN(nn.Module):
    """One derived cell over a sequence, like ``nn.LSTM`` with one layer and ``batch_first=False``.

    Args:
        cell: a :class:`~symrnn.cellspec.Cell`, catalogue name or :class:`LayerDerivation`.
        input_size, hidden_size: the sizes of x and of the states.
        sizes: any further size the cell declares, by symbol name (e.g. ``{"proj_size": 4}``).
        reverse: run from the last step back (a bidirectional layer's second direction).
        dtype, device: of the parameters (torch's default dtype, like ``nn.LSTM``); ``seed`` fixes their initialisation
            (uniform ±1/√hidden_size, PyTorch's RNN initialisation).

    ``forward(xs, initial_state=None, mask=None) -> (outputs, final_state)``: xs (T, batch,
    input_size), initial states (batch, size) keyed by state name, mask (T, batch) of 0/1.
    Parameters are ``module.params[name]`` with the math's names and shapes (biases 1-D).
    """

    def __init__(
        self,
        cell,
        *,
        input_size: int,
        hidden_size: int,
        sizes: dict | None = None,
        reverse: bool = False,
        dtype=None,
        device=None,
        seed: int = 0,
    ):
        super().__init__()
        ld = cell if isinstance(cell, LayerDerivation) else derive_layer(cell)
        self.layer = Layer(ld, "torch", reverse=reverse)
        self.function = layer_function(self.layer)
        self.input_size, self.hidden_size = input_size, hidden_size
        all_sizes = {"input_size": input_size, "hidden_size": hidden_size, **(sizes or {})}
        for key, value in all_sizes.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be a positive integer, got {value!r}")
        generator = torch.Generator().manual_seed(seed)
        bound = 1.0 / math.sqrt(hidden_size)
        self.params = nn.ParameterDict()
        for name, node in ld.params.items():
            shape = expected_shape(node, all_sizes)
            if shape is None:
                symbols = {str(s) for dim in node.shape for s in dim.free_symbols}
                missing = sorted(symbols - set(all_sizes))
                raise ValueError(f"parameter {name!r} needs the size {missing[0]}: pass sizes={{{missing[0]!r}: n}}")
            value = (torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1) * bound
            self.params[name] = nn.Parameter(value.to(dtype=dtype or torch.get_default_dtype(), device=device))

    @property
    def states(self) -> list[str]:
        return self.layer.states

    def forward(self, xs, initial_state: dict | None = None, mask=None):
        initial = dict(initial_state or {})
        unknown = sorted(set(initial) - set(self.states))
        if unknown:
            raise ValueError(f"unknown initial state {unknown[0]!r}; states are {self.states}")
        params = [self.params[k] for k in self.layer.names]
        if mask is not None and not isinstance(mask, torch.Tensor):
            raise TypeError("mask must be a (T, batch) tensor of 0/1")
        out, *final = self.function.apply(xs, mask, *params, *[initial.get(s) for s in self.states])
        return out, dict(zip(self.states, final, strict=True))

    def extra_repr(self) -> str:
        return f"{self.layer.derivation.cell.name}, input_size={self.input_size}, hidden_size={self.hidden_size}"


class DerivedBidirectional(nn.Module):
    """Two :class:`DerivedRNN` over one sequence (the second reversed), outputs concatenated.

    ``forward(xs, initial_state=None, mask=None) -> (outputs, (final forward, final backward))``;
    ``initial_state`` is a pair of dicts or None.
    """

    def __init__(self, cell, *, input_size: int, hidden_size: int, seed: int = 0, **kw):
        super().__init__()
        ld = cell if isinstance(cell, LayerDerivation) else derive_layer(cell)
        self.forward_layer = DerivedRNN(ld, input_size=input_size, hidden_size=hidden_size, seed=seed, **kw)
        self.backward_layer = DerivedRNN(
            ld, input_size=input_size, hidden_size=hidden_size, reverse=True, seed=seed + 1, **kw
        )

    def forward(self, xs, initial_state=None, mask=None):
        first, second = initial_state if initial_state is not None else (None, None)
        out_f, final_f = self.forward_layer(xs, first, mask)
        out_b, final_b = self.backward_layer(xs, second, mask)
        return torch.cat((out_f, out_b), dim=2), (final_f, final_b)


class DerivedStack(nn.Module):
    """Modules one on another (layer k's outputs are layer k+1's inputs); finals as a list."""

    def __init__(self, *layers: nn.Module):
        super().__init__()
        if not layers:
            raise ValueError("a stack needs at least one layer")
        self.layers = nn.ModuleList(layers)

    def forward(self, xs, initial_state: list | None = None, mask=None):
        initial = initial_state if initial_state is not None else [None] * len(self.layers)
        if len(initial) != len(self.layers):
            raise ValueError(f"initial_state must have {len(self.layers)} entries (one per layer); got {len(initial)}")
        finals = []
        for layer, s0 in zip(self.layers, initial, strict=True):
            xs, final = layer(xs, s0, mask)
            finals.append(final)
        return xs, finals


def torch_module(cell, *, input_size: int, hidden_size: int, bidirectional: bool = False, **kw) -> nn.Module:
    """A :class:`DerivedRNN`, or a :class:`DerivedBidirectional` with ``bidirectional=True``."""
    cls = DerivedBidirectional if bidirectional else DerivedRNN
    return cls(cell, input_size=input_size, hidden_size=hidden_size, **kw)


def readout_loss_function(d):
    """``loss(params, xs, ys, initial) -> J`` of ``d`` (readout and loss of every step, summed)
    through the derived layer, so that ``xs`` (and ``ys``) get gradients as well.

    The cell's part runs forward and backward as derived (:func:`layer_function`); the readout
    and the loss, which have no recurrence, are torch ops differentiated by autograd.
    :func:`symrnn.codegen.torch_function.torch_function` uses it when ``xs`` or ``ys`` requires grad.
    """
    layer = Layer(d.cell, "torch")
    function = layer_function(layer)
    cell = d.cell
    formulas = {
        "softmax_ce": lambda z, y: torch.sum(y * (torch.logsumexp(z, dim=-1, keepdim=True) - z)),
        "bce": lambda z, y: torch.sum(torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-torch.abs(z)))),
        "mse": lambda z, y: 0.5 * torch.sum((z - y) ** 2),
    }
    if d.loss.name not in formulas:
        raise ValueError(f"no gradient for xs with the loss {d.loss.name!r}: only {sorted(formulas)} have one")
    formula = formulas[d.loss.name]

    def loss(params, xs, ys, initial):
        tensors = [params[k] for k in layer.names]
        out, *_ = function.apply(xs, None, *tensors, *[initial.get(s) for s in layer.states])
        z = out if not cell.readout_weight else out @ params[cell.readout_weight].T
        if cell.readout_bias:
            z = z + params[cell.readout_bias]
        return formula(z, ys)

    return loss
