"""The time loop of a derived layer, for NumPy and torch arrays: forward, and backward as a VJP.

A :class:`Layer` runs the generated step functions (:mod:`symrnn.layers.emit`) over a
sequence.  A mask (T, batch) of 0/1 marks padding: at a padded step the states pass through
unchanged and the output is 0, so for right-padded ragged sequences the final states are
those of each sequence's last real step (as ``pack_padded_sequence`` gives) and the reverse
direction starts at each sequence's own last step.  The backward pass is exact for that
function: the pass-through is differentiated too.

:class:`Stack` and :class:`Bidirectional` compose layers with the same two methods, so a
stack of bidirectional layers is one object; their backward passes chain the layers' VJPs
(layer k+1's δx_t is layer k's Δ_t; a bidirectional layer splits Δ_t between directions).
"""

from __future__ import annotations

from symrnn.layers.check import bind_sizes, check_grad, check_mask, check_state, expected_shape
from symrnn.layers.derive import LayerDerivation, derive_layer
from symrnn.layers.emit import compile_steps


class _NumpyOps:
    name = "numpy"

    def __init__(self):
        import numpy as np

        self.np = np

    def zeros(self, shape, like):
        return self.np.zeros(shape, like.dtype)

    def stack(self, items, shape, like):
        return self.np.stack(items) if items else self.np.zeros(shape, like.dtype)

    def concat(self, parts, axis):
        return self.np.concatenate(parts, axis=axis)

    def column(self, mask_t, like):
        return mask_t.astype(like.dtype, copy=False)[:, None]


class _TorchOps:
    name = "torch"

    def __init__(self):
        import torch

        self.torch = torch

    def zeros(self, shape, like):
        return self.torch.zeros(shape, dtype=like.dtype, device=like.device)

    def stack(self, items, shape, like):
        return self.torch.stack(items) if items else self.zeros(shape, like)

    def concat(self, parts, axis):
        return self.torch.cat(parts, dim=axis)

    def column(self, mask_t, like):
        return mask_t.to(like.dtype)[:, None]


def _ops(backend: str):
    return {"numpy": _NumpyOps, "torch": _TorchOps}[backend]()


class Layer:
    """One derived cell over a sequence.

    Args:
        cell: a :class:`~symrnn.cellspec.Cell`, a catalogue name or a :class:`LayerDerivation`.
        backend: ``"numpy"`` or ``"torch"`` (arrays of that library in, the same out).
        reverse: run from the last step to the first (the second direction of a bidirectional layer).
    """

    def __init__(self, cell, backend: str = "numpy", *, reverse: bool = False):
        self.derivation = cell if isinstance(cell, LayerDerivation) else derive_layer(cell)
        self.backend, self.reverse = backend, reverse
        self.ops = _ops(backend)
        self.steps = compile_steps(self.derivation, backend)
        self.names = list(self.derivation.params)
        self.states = self.derivation.states
        self.output_index = self.states.index(self.derivation.output)

    @property
    def source(self) -> str:
        return self.steps.__source__

    def text(self) -> str:
        """The layer-form recursions (:meth:`LayerDerivation.text`; mirrored in time when reversed)."""
        from symrnn.layers.derive import reversed_text

        return reversed_text(self.derivation) if self.reverse else self.derivation.text()

    def state_sizes(self, params, xs) -> dict[str, int]:
        """Each state's size, from the parameters (and xs) as given."""
        sizes = bind_sizes(self.derivation, params, xs)
        out = {}
        for s, node in self.derivation.cell.states.items():
            shape = expected_shape(node, sizes)
            if shape is None:
                raise ValueError(f"the size of state {s!r} ({node.shape[0]}) is not fixed by any parameter or by xs")
            out[s] = shape[0]
        return out

    def output_size(self, params, xs) -> int:
        return self.state_sizes(params, xs)[self.derivation.output]

    def forward(self, params: dict, xs, initial_state: dict | None = None, mask=None):
        """``(outputs, final_state, tape)``.

        Args:
            params: arrays keyed by the cell's parameter names, shapes as in the math (biases 1-D).
            xs: (T, batch, input_size).
            initial_state: optional (batch, size) arrays keyed by state name (zeros where absent).
            mask: optional (T, batch) of 0/1, 1 where a step is real.

        Returns:
            ``outputs`` (T, batch, size) of the output state (0 at padded steps), ``final_state``
            a dict of (batch, size) arrays, and ``tape``, what :meth:`backward` needs.

        Raises:
            ValueError, TypeError: a wrong argument, named with its expected shape.
        """
        ops = self.ops
        sizes = self.state_sizes(params, xs)
        T, batch = int(xs.shape[0]), int(xs.shape[1])
        initial_state = dict(initial_state or {})
        unknown = sorted(set(initial_state) - set(self.states))
        if unknown:
            raise ValueError(f"unknown initial state {unknown[0]!r}; states are {self.states}")
        prev = []
        for s in self.states:
            value = initial_state.get(s)
            if value is None:
                value = ops.zeros((batch, sizes[s]), xs)
            check_state(s, value, (batch, sizes[s]), xs.dtype)
            prev.append(value)
        if mask is not None:
            check_mask(mask, T, batch)
        P = tuple(params[k] for k in self.names)
        P += tuple(ops.concat([P[i] for i in rows], 0) for rows in self.steps.STACKS)
        order = range(T - 1, -1, -1) if self.reverse else range(T)
        prevs, saved, outputs = [None] * T, [None] * T, [None] * T
        prev = tuple(prev)
        forward_step = self.steps.step_forward
        terms = self._input_terms(P, xs)
        for t in order:
            new, saved[t] = forward_step(P, xs[t], tuple(u[t] for u in terms), *prev)
            prevs[t] = prev
            if mask is not None:
                m = ops.column(mask[t], xs)
                new = tuple(m * n + (1 - m) * p for n, p in zip(new, prev, strict=True))
                outputs[t] = m * new[self.output_index]
            else:
                outputs[t] = new[self.output_index]
            prev = new
        out = ops.stack(outputs, (T, batch, sizes[self.derivation.output]), xs)
        final = dict(zip(self.states, prev, strict=True))
        tape = {"P": P, "xs": xs, "mask": mask, "prevs": prevs, "saved": saved, "sizes": sizes, "shape": (T, batch)}
        return out, final, tape

    def backward(self, params: dict, tape: dict, grad_outputs=None, grad_final: dict | None = None) -> dict:
        """The vector-Jacobian product of :meth:`forward`: gradients for the given upstream gradients.

        Args:
            params: the parameters of the forward call.
            tape: the third result of :meth:`forward`.
            grad_outputs: ∂J/∂outputs, (T, batch, size), or None for zero.
            grad_final: ∂J/∂(final state), (batch, size) arrays keyed by state name; absent ones zero.

        Returns:
            A dict: every parameter name → its gradient, ``"xs"`` → ∂J/∂xs (T, batch, input_size),
            ``"<state>_0"`` → ∂J/∂ initial state.
        """
        ops, xs, mask = self.ops, tape["xs"], tape["mask"]
        (T, batch), sizes = tape["shape"], tape["sizes"]
        out_size = sizes[self.derivation.output]
        if grad_outputs is not None:
            check_grad("grad_outputs", grad_outputs, (T, batch, out_size))
        grad_final = dict(grad_final or {})
        carry = []
        for s in self.states:
            g = grad_final.get(s)
            if g is None:
                g = ops.zeros((batch, sizes[s]), xs)
            check_grad(f"grad_final[{s!r}]", g, (batch, sizes[s]))
            carry.append(g)
        carry = tuple(carry)
        P = tape["P"]
        ds = [None] * T
        zero_delta = ops.zeros((batch, out_size), xs) if grad_outputs is None else None
        order = range(T) if self.reverse else range(T - 1, -1, -1)
        backward_step = self.steps.step_backward
        for t in order:
            delta = zero_delta if grad_outputs is None else grad_outputs[t]
            if mask is not None:
                m = ops.column(mask[t], xs)
                through = tuple((1 - m) * c for c in carry)
                delta, carry = m * delta, tuple(m * c for c in carry)
            carry, ds[t] = backward_step(P, xs[t], *tape["prevs"][t], tape["saved"][t], delta, *carry)
            if mask is not None:
                carry = tuple(c + p for c, p in zip(carry, through, strict=True))
        result = {}
        if T * batch == 0:
            result.update({name: ops.zeros(tuple(params[name].shape), xs) for name in self.names})
            result["xs"] = ops.zeros(tuple(xs.shape), xs)
        else:
            dx, grads = self._bulk(P, tape, ds)
            result.update(zip(self.names, grads, strict=True))
            result["xs"] = dx.reshape(tuple(xs.shape))
        for s, c in zip(self.states, carry, strict=True):
            result[f"{s}_0"] = c
        return result

    def _input_terms(self, P, xs) -> tuple:
        """Each term that reads only x_t (e.g. W_xf x_t), for every step at once: (T, batch, size)."""
        T, batch = int(xs.shape[0]), int(xs.shape[1])
        if T * batch == 0 or self.steps.N_INPUT_TERMS == 0:
            return ()
        terms = self.steps.bulk_inputs(P, xs.reshape(T * batch, xs.shape[2]))
        return tuple(u.reshape(T, batch, u.shape[-1]) for u in terms)

    def _bulk(self, P, tape, ds):
        """δx and the parameter gradients of every step at once, from arrays stacked over t."""
        ops, xs, (T, batch) = self.ops, tape["xs"], tape["shape"]
        rows = T * batch

        def flat(items):
            return ops.stack(items, None, xs).reshape(rows, items[0].shape[-1])

        prevs, saved = tape["prevs"], tape["saved"]
        prev_flat = [
            flat([prevs[t][k] for t in range(T)]) if k in self.steps.BULK_PREVS else None
            for k in range(len(self.states))
        ]
        saved_flat = tuple(
            flat([saved[t][k] for t in range(T)]) if k in self.steps.BULK_SAVED else None for k in range(len(saved[0]))
        )
        ds_flat = [flat([ds[t][j] for t in range(T)]) for j in range(len(ds[0]))]
        return self.steps.bulk_gradients(P, xs.reshape(rows, xs.shape[2]), *prev_flat, saved_flat, *ds_flat)


class Stack:
    """Layers one on another: layer k's outputs are layer k+1's inputs (sizes may differ).

    ``params`` and ``initial_state`` are lists, one entry per layer; the final state is a list.
    """

    def __init__(self, *layers):
        if not layers:
            raise ValueError("stack needs at least one layer")
        self.layers = list(layers)

    def forward(self, params: list, xs, initial_state: list | None = None, mask=None):
        _check_list("params", params, len(self.layers))
        initial = initial_state if initial_state is not None else [None] * len(self.layers)
        _check_list("initial_state", initial, len(self.layers))
        finals, tapes, h = [], [], xs
        for layer, p, s0 in zip(self.layers, params, initial, strict=True):
            h, final, tape = layer.forward(p, h, s0, mask)
            finals.append(final)
            tapes.append(tape)
        return h, finals, tapes

    def text(self) -> str:
        """Every layer's recursions, and the terms that connect them (layer k's Δ is δx of layer k+1)."""
        out, K = [], len(self.layers)
        for k, layer in enumerate(self.layers, start=1):
            out.append(f"── layer {k} of {K}" + (f": its inputs are layer {k - 1}'s outputs" if k > 1 else ""))
            out.append(layer.text())
            upstream = "∂J/∂(the stack's outputs)_t" if k == K else f"δx[t] of layer {k + 1} (its input gradient)"
            out.append(f"Δ[t] of layer {k} = {upstream}\n")
        out.append("δx[t] of layer 1 is ∂J/∂xs[t]\n")
        return "\n".join(out)

    def backward(self, params: list, tapes: list, grad_outputs=None, grad_final: list | None = None) -> dict:
        """``{"layers": [grads of each layer], "xs": ∂J/∂xs}``; layer k gets layer k+1's ∂J/∂x as Δ."""
        grad_final = grad_final if grad_final is not None else [None] * len(self.layers)
        _check_list("grad_final", grad_final, len(self.layers))
        out: list = [None] * len(self.layers)
        g = grad_outputs
        for k in range(len(self.layers) - 1, -1, -1):
            out[k] = self.layers[k].backward(params[k], tapes[k], g, grad_final[k])
            g = out[k]["xs"]
        return {"layers": out, "xs": g}


class Bidirectional:
    """Two layers over one sequence, the second from the last step back; outputs concatenated.

    ``params``, ``initial_state`` and the final state are pairs (forward direction first).
    """

    def __init__(self, forward_layer: Layer, backward_layer: Layer):
        if forward_layer.reverse or not backward_layer.reverse:
            raise ValueError("a bidirectional layer needs a forward layer and a reverse=True layer")
        self.directions = (forward_layer, backward_layer)
        self.ops = forward_layer.ops

    def forward(self, params, xs, initial_state=None, mask=None):
        _check_list("params", params, 2)
        initial = initial_state if initial_state is not None else (None, None)
        _check_list("initial_state", initial, 2)
        runs = [d.forward(p, xs, s0, mask) for d, p, s0 in zip(self.directions, params, initial, strict=True)]
        out = self.ops.concat([r[0] for r in runs], 2)
        return out, [r[1] for r in runs], {"tapes": [r[2] for r in runs], "split": int(runs[0][0].shape[2])}

    def text(self) -> str:
        """Both directions' recursions (the second with t-1 and t+1 exchanged) and how they meet."""
        from symrnn.layers.derive import reversed_text

        ld = self.directions[0].derivation
        out = ld.output
        return "\n".join(
            [
                f"── forward direction\n{ld.text()}",
                f"── backward direction\n{reversed_text(self.directions[1].derivation)}",
                f"out[t] = [{out}[t] forward; {out}[t] backward]  (concatenated rows)",
                "Δ[t] of each direction = its rows of ∂J/∂out[t]",
                "δx[t] = δx[t] forward + δx[t] backward  (x[t] feeds both directions)\n",
            ]
        )

    def backward(self, params, tape, grad_outputs=None, grad_final=None) -> dict:
        """``{"directions": [grads forward, grads backward], "xs": the sum of both ∂J/∂xs}``."""
        grad_final = grad_final if grad_final is not None else (None, None)
        _check_list("grad_final", grad_final, 2)
        k = tape["split"]
        parts = (None, None) if grad_outputs is None else (grad_outputs[:, :, :k], grad_outputs[:, :, k:])
        grads = [
            d.backward(p, t, g, f)
            for d, p, t, g, f in zip(self.directions, params, tape["tapes"], parts, grad_final, strict=True)
        ]
        return {"directions": grads, "xs": grads[0]["xs"] + grads[1]["xs"]}


def _check_list(name: str, value, n: int) -> None:
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise ValueError(f"{name} must be a list of {n} entries (one per layer or direction); got {value!r:.80}")


def stack(*cells, backend: str = "numpy") -> Stack:
    """Layers of ``cells`` (cells, catalogue names, layers or bidirectional layers) one on another."""
    return Stack(*[c if isinstance(c, (Layer, Stack, Bidirectional)) else Layer(c, backend) for c in cells])


def bidirectional(cell, backend: str = "numpy") -> Bidirectional:
    """``cell`` in both directions over one sequence, outputs concatenated (forward first)."""
    ld = (
        cell.derivation
        if isinstance(cell, Layer)
        else cell
        if isinstance(cell, LayerDerivation)
        else derive_layer(cell)
    )
    return Bidirectional(Layer(ld, backend), Layer(ld, backend, reverse=True))
