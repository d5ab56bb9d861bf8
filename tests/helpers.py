"""Shared test helpers: the ρ error measure and the worst entry of generated gradients."""

import numpy as np

from symrnn.checks import numeric_gradients
from symrnn.problems import split_initial_states, with_initial_states


def rho(a, b):
    """|a − b| / max(1, |a| + |b|), element-wise."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.maximum(1.0, np.abs(a) + np.abs(b))


def max_rho(a, b) -> float:
    """The worst ρ over all entries (0 for empty arrays)."""
    return float(rho(a, b).max(initial=0.0))


def loss_fn(module, states):
    """fn(params_and_initial, xs, ys) -> (loss, grads) for gradcheck, initial states as "<s>_0"."""
    return split_initial_states(module.loss_and_grads, states)


def worst_mismatch(module, states, params, initial, xs, ys):
    """(ρ, parameter, index) of the worst entry of generated gradients vs central differences."""
    everything = with_initial_states(params, initial)
    _, grads = loss_fn(module, states)(everything, xs, ys)
    loss = split_initial_states(module.loss, states)  # forward only: half the cost of each probe
    numeric = numeric_gradients(lambda p: loss(p, xs, ys), everything)
    worst = (0.0, None, None)
    for name in everything:
        r = rho(grads[name], numeric[name])
        if r.size and r.max() > worst[0]:
            worst = (float(r.max()), name, np.unravel_index(r.argmax(), r.shape))
    return worst


def assert_close(ours, theirs, what: str, tol: float = 1e-10) -> None:
    """Equal shapes and every entry within ``tol`` relative to max(1, |ours| + |theirs|); names the worst entry."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, reference {theirs.shape}"
    err = np.abs(ours - theirs) / np.maximum(1.0, np.abs(ours) + np.abs(theirs))
    if err.size and err.max() > tol:
        i = np.unravel_index(err.argmax(), err.shape)
        raise AssertionError(f"{what}{list(map(int, i))}: symrnn {ours[i]!r}, reference {theirs[i]!r}")


def function_calls(fn, *args, **kwargs) -> tuple[object, int]:
    """(fn's result, the number of Python and C function calls it made).

    A measure of work that is the same on every run of the same input, unlike a clock on a
    machine shared with other work: the complexity tests compare these counts, and the
    timings live in benchmarks/.
    """
    import sys

    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = fn(*args, **kwargs)
    finally:
        sys.setprofile(previous)
    return result, count
