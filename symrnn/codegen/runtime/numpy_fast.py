"""Helpers the optimised generated code calls: workspaces, stacked weights, fused activations and loss.

Real Python so they can be imported and tested; the generated module carries their text.
"""

import threading

import numpy as np

# ---- copied verbatim into generated modules from the next line on (runtime.source_text) ----
_WORKSPACE = threading.local()


def _workspace(key, dtype, shapes):
    """Uninitialised arrays {name: shape}, kept per thread for the next call of the same shapes."""
    cache = getattr(_WORKSPACE, "cache", None)
    if cache is None:
        cache = _WORKSPACE.cache = {}
    full_key = (key, np.dtype(dtype).str, tuple(shapes.items()))
    if full_key not in cache:
        while len(cache) >= 4:
            cache.pop(next(iter(cache)))
        cache[full_key] = {name: np.empty(shape, dtype) for name, shape in shapes.items()}
    return cache[full_key]


def clear_workspace():
    """Drop this thread's buffers (kept between calls of the same shapes, as a training loop wants)."""
    _WORKSPACE.cache = {}


def _stack(blocks, scales):
    """[s_1 W_1; s_2 W_2; ...]: row blocks stacked, each times ±1 or ±2 (exact)."""
    out = np.concatenate(blocks)
    row = 0
    for block, scale in zip(blocks, scales):
        if scale != 1:
            out[row : row + len(block)] *= scale
        row += len(block)
    return out


def _softmax_and_ce(z, y, out):
    """Σ -yᵀ log softmax(z) (rows of y summing to one or not), and softmax(z) into out: one exp."""
    m = z.max(axis=1)
    np.subtract(z, m[:, None], out=out)
    # Σ (1ᵀy) log s - Σ y ⊙ (z - m): both ≥ 0 for targets ≥ 0, so no digits cancel for confident
    # predictions (m + log s - z would lose them all in float32)
    shifted = np.vdot(y, out)
    np.exp(out, out=out)
    ones = np.ones(z.shape[1], z.dtype)
    s = out @ ones  # row sums as a product: NumPy's sum along short rows is ~6x slower
    out *= np.divide(1, s)[:, None]
    np.log(s, out=s)
    return np.dot(y @ ones, s) - shifted


def _gates(blocks, scales):
    """Blocks stacked on a new first axis, each transposed and times ±1 or ±2 (exact): (gates, n, size)."""
    out = np.empty((len(blocks),) + blocks[0].T.shape, np.result_type(*blocks))
    for k, block in enumerate(blocks):
        out[k] = block.T
    return _scale_gates(out, scales)


def _gates_with_bias(weights, biases, scales):
    """[W_k | b_k]ᵀ stacked on a new first axis, each times ±1 or ±2 (exact): (gates, n + 1, size)."""
    n = weights[0].shape[1]
    out = np.empty((len(weights), n + 1, weights[0].shape[0]), np.result_type(*weights, *biases))
    for k, weight in enumerate(weights):
        out[k, :n] = weight.T
    out[:, n] = biases
    return _scale_gates(out, scales)


def _scale_gates(out, scales):
    # one product for all gates: a call per gate costs more than the work at small sizes
    if any(scale != 1 for scale in scales):
        out *= np.array(scales, out.dtype).reshape((-1,) + (1,) * (out.ndim - 1))
    return out


def _sigmoid_fast(x):
    # 1 / (1 + e^{-x}); e^{-x} = inf for very negative x gives the exact limit 0
    out = np.negative(x)
    np.exp(out, out=out)
    out += 1
    return np.divide(1, out, out=out)  # np.reciprocal is slower than divide on this machine


# np.tanh is one call against the exp form's four or five, but costs twice as much per entry
# in float64 (no SIMD tanh on AVX2): measured on the reference machine, np.tanh wins up to
# about 2048 float32 or 256 float64 entries per call (benchmarks/bench_core.py's small size).
_TANH_UFUNC_UP_TO = {4: 2048, 8: 256}


def _tanh_ufunc(entries, dtype):
    """Whether np.tanh beats the exp form on arrays of this many entries."""
    return entries <= _TANH_UFUNC_UP_TO.get(np.dtype(dtype).itemsize, 0)


def _tanh_fast(x):
    # 2 / (1 + e^{-2x}) - 1: one exp, about twice as fast as np.tanh on large arrays
    if _tanh_ufunc(np.size(x), np.result_type(x)):
        return np.tanh(x)
    out = np.multiply(x, -2.0)
    np.exp(out, out=out)
    out += 1
    np.divide(2.0, out, out=out)
    out -= 1
    return out


# ---- end of the copied text ----
