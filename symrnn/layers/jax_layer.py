"""A derived cell as a JAX function: ``jax.custom_vjp`` whose backward is the derived BPTT.

The forward is ``lax.scan`` over the generated JAX step (:mod:`symrnn.layers.emit`), saving
what the derived backward reads; the backward is a reverse ``lax.scan`` over the derived step
VJP.  Both run under ``jax.jit``.  The mask semantics are those of :mod:`symrnn.layers.run`
(padded steps keep the states and output 0).  JAX is imported only here (``pip install
".[jax]"``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from symrnn.layers.check import bind_sizes, check_mask, check_state, expected_shape
from symrnn.layers.derive import LayerDerivation, derive_layer
from symrnn.layers.emit import compile_steps


def jax_function(cell, *, reverse: bool = False):
    """``fn(params, xs, initial_state=None, mask=None) -> (outputs, final_state)`` with the derived VJP.

    Args:
        cell: a :class:`~symrnn.cellspec.Cell`, catalogue name or :class:`LayerDerivation`.
        reverse: run from the last step back.

    Returns:
        ``fn``: params a dict of arrays (the math's shapes, biases 1-D), xs (T, batch, input_size),
        initial states (batch, size) keyed by state name, mask (T, batch) of 0/1; outputs
        (T, batch, size) and a dict of final states.  ``fn.source`` is the generated step code.
    """
    ld = cell if isinstance(cell, LayerDerivation) else derive_layer(cell)
    steps = compile_steps(ld, "jax")
    names, states = list(ld.params), ld.states
    out_index = states.index(ld.output)

    def with_stacks(P):
        return P + tuple(jnp.concatenate([P[i] for i in rows], axis=0) for rows in steps.STACKS)

    def run_forward(P, xs, s0, mask):
        P = with_stacks(P)

        def body(prev, inputs):
            x, terms, m = inputs
            new, saved = steps.step_forward(P, x, terms, *prev)
            if m is not None:
                m = m[:, None]
                new = tuple(m * n + (1 - m) * p for n, p in zip(new, prev, strict=True))
                out = m * new[out_index]
            else:
                out = new[out_index]
            return new, (out, prev, saved)

        T, batch = xs.shape[0], xs.shape[1]
        flat = xs.reshape(T * batch, xs.shape[2])
        terms = tuple(u.reshape(T, batch, u.shape[-1]) for u in steps.bulk_inputs(P, flat))
        final, (outs, prevs, saved) = lax.scan(body, s0, (xs, terms, mask), reverse=reverse)
        return outs, final, prevs, saved

    def run_backward(P, xs, mask, prevs, saved, grad_outs, grad_final):
        P = with_stacks(P)

        def body(carry, inputs):
            x, m, prev, saved_t, delta = inputs
            if m is not None:
                m = m[:, None]
                through = tuple((1 - m) * c for c in carry)
                delta, carry = m * delta, tuple(m * c for c in carry)
            carry, ds = steps.step_backward(P, x, *prev, saved_t, delta, *carry)
            if m is not None:
                carry = tuple(c + p for c, p in zip(carry, through, strict=True))
            return carry, ds

        inputs = (xs, mask, prevs, saved, grad_outs)
        carry, ds = lax.scan(body, grad_final, inputs, reverse=not reverse)
        T, batch = xs.shape[0], xs.shape[1]
        rows = T * batch

        def flat(a):
            return a.reshape(rows, a.shape[-1])

        prev_flat = [flat(p) if k in steps.BULK_PREVS else None for k, p in enumerate(prevs)]
        saved_flat = tuple(flat(v) if k in steps.BULK_SAVED else None for k, v in enumerate(saved))
        dx, grads = steps.bulk_gradients(P, flat(xs), *prev_flat, saved_flat, *[flat(d) for d in ds])
        return carry, grads, dx.reshape(xs.shape)

    def primal(P, xs, s0, mask):
        outs, final, _, _ = run_forward(P, xs, s0, mask)
        return outs, final

    def fwd(P, xs, s0, mask):
        outs, final, prevs, saved = run_forward(P, xs, s0, mask)
        return (outs, final), (P, xs, mask, prevs, saved)

    def bwd(residuals, cotangents):
        P, xs, mask, prevs, saved = residuals
        grad_outs, grad_final = cotangents
        carry, grads, dxs = run_backward(P, xs, mask, prevs, saved, grad_outs, tuple(grad_final))
        return grads, dxs, carry, None if mask is None else jnp.zeros_like(mask)

    derived = jax.custom_vjp(primal)
    derived.defvjp(fwd, bwd)

    def fn(params, xs, initial_state=None, mask=None):
        sizes = bind_sizes(ld, params, xs)
        T, batch = xs.shape[0], xs.shape[1]
        initial = dict(initial_state or {})
        unknown = sorted(set(initial) - set(states))
        if unknown:
            raise ValueError(f"unknown initial state {unknown[0]!r}; states are {states}")
        s0 = []
        for s in states:
            (size,) = expected_shape(ld.cell.states[s], sizes)[:1]
            value = initial.get(s)
            if value is None:
                value = jnp.zeros((batch, size), xs.dtype)
            check_state(s, value, (batch, size), xs.dtype)
            s0.append(value)
        if mask is not None:
            if tuple(mask.shape) != (T, batch):
                raise ValueError(f"mask must have shape (T, batch) = {(T, batch)}; got {tuple(mask.shape)}")
            if not isinstance(mask, jax.core.Tracer):  # a traced mask cannot be inspected under jit
                check_mask(np.asarray(mask), T, batch)
            mask = jnp.asarray(mask).astype(xs.dtype)
        outs, final = derived(tuple(params[k] for k in names), xs, tuple(s0), mask)
        return outs, dict(zip(states, final, strict=True))

    fn.source = steps.__source__
    fn.derivation = ld
    return fn
