"""Shared test helpers: central differences of generated code and the ρ error measure."""

import numpy as np


def rho(a, b):
    """|a − b| / max(1, |a| + |b|), element-wise."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(1.0, np.abs(a) + np.abs(b))


def loss_fn(module, states):
    """fn(params_and_initial, xs, ys) -> (loss, grads) for gradcheck, initial states as "<s>_0"."""

    def fn(p, xs, ys):
        params = {k: v for k, v in p.items() if k not in {f"{s}_0" for s in states}}
        init = {s: p[f"{s}_0"] for s in states}
        return module.loss_and_grads(params, xs, ys, init)

    return fn


def central_differences(fn, params, xs, ys, eps=1e-6):
    """∂J/∂θ per entry; ``fn(params, xs, ys)`` returns the loss (or a tuple starting with it)."""
    out = {}
    for name, value in params.items():
        g = np.zeros_like(value, dtype=np.float64)
        for index in np.ndindex(*value.shape):
            p = {k: v.copy() for k, v in params.items()}
            p[name][index] += eps
            up = _first(fn(p, xs, ys))
            p[name][index] -= 2 * eps
            down = _first(fn(p, xs, ys))
            g[index] = (up - down) / (2 * eps)
        out[name] = g
    return out


def _first(value):
    return value[0] if isinstance(value, tuple) else value


def loss_only(module, states):
    def fn(p, xs, ys):
        params = {k: v for k, v in p.items() if k not in {f"{s}_0" for s in states}}
        return module.loss(params, xs, ys, {s: p[f"{s}_0"] for s in states})

    return fn


def worst_mismatch(module, states, params, initial, xs, ys):
    """(ρ, parameter, index) of the worst entry of generated gradients vs central differences."""
    everything = {**params, **{f"{s}_0": v for s, v in initial.items()}}
    _, grads = loss_fn(module, states)(everything, xs, ys)
    numeric = central_differences(loss_only(module, states), everything, xs, ys)
    worst = (0.0, None, None)
    for name in everything:
        r = rho(grads[name], numeric[name])
        if r.size and r.max() > worst[0]:
            worst = (float(r.max()), name, np.unravel_index(r.argmax(), r.shape))
    return worst
