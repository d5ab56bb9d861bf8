"""Argument checks of the generated NumPy code: shapes, dtypes, initial states (copied into every module).

Real Python so they can be imported and tested; each generated module defines its own
``PARAMETERS`` (name → expected shape in words) before this text.
"""

import numpy as np

PARAMETERS: dict[str, str] = {}  # each generated module has its own, printed before these helpers


# ---- copied verbatim into generated modules from the next line on (runtime.source_text) ----
def _as_array(a, name, ndim):
    a = np.asarray(a)
    if a.ndim != ndim or a.dtype.kind != "f":
        raise ValueError(f"{name} must be a floating-point array of shape (T, batch, size); got {a.dtype} {a.shape}")
    return a


def _shape(params, name):
    """The shape of a parameter that is a real floating-point array of the expected rank."""
    if name not in params:
        raise ValueError(f"missing parameter {name!r}; expected {PARAMETERS[name]}")
    a = params[name]
    expected = PARAMETERS[name]
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
        got = f"a {a.dtype} array" if isinstance(a, np.ndarray) else repr(a)[:60]
        raise TypeError(f"parameter {name!r} must be a real floating-point array of shape {expected}; got {got}")
    rank = expected.count(",") + (0 if expected.endswith(",)") else 1)
    if a.ndim != rank:
        raise ValueError(f"parameter {name!r} has shape {a.shape}; expected {expected}")
    return a.shape


def _check(params, xs, ys, initial_state, dims, expected, states):
    """Every parameter present with its shape; the dtype all arrays share."""
    for name, shape in expected.items():
        given = _shape(params, name)
        if tuple(given) != shape:
            raise ValueError(f"parameter {name!r} has shape {tuple(given)}; expected {PARAMETERS[name]} = {shape}")
    unknown = sorted(set(params) - set(expected))
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r}; expected {sorted(expected)}")
    T, batch_size = xs.shape[:2]
    if ys is not None:
        want = (T, batch_size, dims.get("output_size", ys.shape[2]))
        if ys.shape != want:
            raise ValueError(f"ys has shape {ys.shape}; expected (T, batch, output_size) = {want}")
    if initial_state is not None:
        for name in initial_state:
            if name not in states:
                raise ValueError(f"unknown initial state {name!r}; states are {list(states)}")
    return np.result_type(xs, *params.values())


def _initial(initial_state, name, batch_size, size, dtype):
    if initial_state is None or initial_state.get(name) is None:
        return np.zeros((batch_size, size), dtype)
    s = np.asarray(initial_state[name])
    if s.dtype.kind != "f":
        raise TypeError(f"initial state {name!r} must be a real floating-point array; got {s.dtype}")
    s = s.astype(dtype, copy=False)
    if s.shape != (batch_size, size):
        raise ValueError(f"initial state {name!r} has shape {s.shape}; expected (batch, size) = {(batch_size, size)}")
    return s


# ---- end of the copied text ----
