"""Random problems for a derivation: parameters, inputs and targets of given sizes."""

from __future__ import annotations

import numpy as np

from symrnn.codegen.params import init_params
from symrnn.evaluate import concrete_size


def random_problem(
    derivation, *, hidden_size=3, input_size=2, output_size=2, steps=3, batch=2, seed=0, dtype="float64"
):
    """``(params, xs, ys, initial_state)`` drawn with ``numpy.random.default_rng(seed)``.

    Targets suit the loss: one-hot for softmax_ce, values in [0, 1] for bce,
    normal for mse.  Initial states are non-zero so their gradients are exercised.
    """
    rng = np.random.default_rng(seed)
    params = init_params(
        derivation, hidden_size=hidden_size, input_size=input_size, output_size=output_size, seed=seed, dtype=dtype
    )
    xs = rng.standard_normal((steps, batch, input_size)).astype(dtype)
    loss = derivation.loss.name
    if loss == "softmax_ce":
        ys = np.eye(output_size, dtype=dtype)[rng.integers(0, output_size, (steps, batch))]
    elif loss == "bce":
        ys = rng.uniform(0, 1, (steps, batch, output_size)).astype(dtype)
    else:
        ys = rng.standard_normal((steps, batch, output_size)).astype(dtype)
    sizes = {"hidden_size": hidden_size, "input_size": input_size, "output_size": output_size}
    initial = {}
    for name, node in derivation.cell.states.items():
        size = concrete_size(node.shape[0], sizes)
        initial[name] = (0.5 * rng.standard_normal((batch, size))).astype(dtype)
    return params, xs, ys, initial


def with_initial_states(params: dict, initial: dict) -> dict:
    """One dict of parameters and initial states, the states keyed "<state>_0" as in ``grads``."""
    return {**params, **{f"{s}_0": v for s, v in initial.items()}}


def split_initial_states(fn, states):
    """``fn(params, *args, initial_state)`` as ``g(params_and_initial, *args)``.

    The counterpart of :func:`with_initial_states`: what ``gradcheck`` and finite
    differences perturb is one dict, in which initial states are parameters too.
    """
    keys = {f"{s}_0": s for s in states}

    def g(everything, *args):
        params = {k: v for k, v in everything.items() if k not in keys}
        return fn(params, *args, {s: everything[k] for k, s in keys.items()})

    return g
