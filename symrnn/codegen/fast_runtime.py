"""Helpers the optimised generated code calls, as source text appended to the module."""

FAST_HELPERS = '''
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
    m = z.max(axis=1, keepdims=True)
    np.subtract(z, m, out=out)
    np.exp(out, out=out)
    s = out.sum(axis=1, keepdims=True)
    loss = np.vdot(y.sum(axis=1), (m + np.log(s))[:, 0]) - np.vdot(y, z)
    out /= s
    return loss


def _gates(blocks, scales):
    """Blocks stacked on a new first axis, each transposed and times ±1 or ±2 (exact): (gates, n, size)."""
    out = np.empty((len(blocks),) + blocks[0].T.shape, np.result_type(*blocks))
    for k, (block, scale) in enumerate(zip(blocks, scales)):
        np.multiply(block.T, scale, out=out[k])
    return out


def _gates_with_bias(weights, biases, scales):
    """[W_k | b_k]ᵀ stacked on a new first axis, each times ±1 or ±2 (exact): (gates, n + 1, size)."""
    n = weights[0].shape[1]
    out = np.empty((len(weights), n + 1, weights[0].shape[0]), np.result_type(*weights, *biases))
    for k, (weight, bias, scale) in enumerate(zip(weights, biases, scales)):
        np.multiply(weight.T, scale, out=out[k, :n])
        np.multiply(bias, scale, out=out[k, n])
    return out


def _sigmoid_fast(x):
    # 1 / (1 + e^{-x}); e^{-x} = inf for very negative x gives the exact limit 0
    out = np.negative(x)
    np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def _tanh_fast(x):
    # 2 / (1 + e^{-2x}) - 1: one exp is about twice as fast as np.tanh
    out = np.multiply(x, -2.0)
    np.exp(out, out=out)
    out += 1
    np.divide(2.0, out, out=out)
    out -= 1
    return out

'''
