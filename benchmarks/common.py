"""Shared benchmark utilities: timing, thread pinning, memory, FLOP counts, problems.

IMPORTANT -- thread pinning: OpenBLAS/MKL read ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` once, when the library is
loaded, i.e. at ``import numpy``.  This module therefore does **not** import
NumPy at module level, and a benchmark script must start with::

    from benchmarks.common import limit_blas_threads
    limit_blas_threads(1)          # before anything imports numpy (or torch)
    import numpy as np             # now single-threaded

If NumPy was already imported, :func:`limit_blas_threads` still sets the
variables (for child processes) and then tries, in order, ``threadpoolctl``
(only if installed) and a direct ``ctypes`` call into the OpenBLAS bundled with
the NumPy wheel; it returns whether the running process is known to be pinned.
If torch has been imported, ``torch.set_num_threads`` is called as well.
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import sys
import time
import warnings

__all__ = [
    "limit_blas_threads",
    "blas_num_threads",
    "interleaved_medians",
    "gemm_peak_gflops",
    "peak_memory_of",
    "rnn_flops",
    "lstm_flops",
    "gru_flops",
    "cell_flops",
    "param_shapes",
    "make_problem",
]

_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

# symbol names of openblas_set/get_num_threads in the various OpenBLAS builds
# (plain, 64-bit-int suffixed, and the ``scipy_`` prefixed one in numpy wheels)
_OPENBLAS_SET = (
    "openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
)
_OPENBLAS_GET = (
    "openblas_get_num_threads",
    "openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads",
)


# ---------------------------------------------------------------------------
# threads
# ---------------------------------------------------------------------------


def _openblas_libraries():
    """ctypes handles of the OpenBLAS libraries loaded into this process (Linux)."""
    import ctypes

    paths = []
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                p = line.rsplit(None, 1)[-1]
                base = os.path.basename(p).lower()
                if "openblas" in base and (".so" in base or base.endswith(".dylib")):
                    if p not in paths:
                        paths.append(p)
    except OSError:
        pass
    libs = []
    for p in paths:
        try:
            libs.append(ctypes.CDLL(p))
        except OSError:
            pass
    return libs


def _openblas_call(names, *args):
    for lib in _openblas_libraries():
        for name in names:
            fn = getattr(lib, name, None)
            if fn is not None:
                return fn(*args)
    return None


def blas_num_threads():
    """Number of threads the loaded OpenBLAS will use, or ``None`` if unknown."""
    if "numpy" not in sys.modules:
        return None
    try:
        from threadpoolctl import threadpool_info  # optional

        nums = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
        if nums:
            return max(nums)
    except ImportError:
        pass
    return _openblas_call(_OPENBLAS_GET)


def limit_blas_threads(n: int = 1) -> bool:
    """Pin BLAS (and OpenMP, and torch if imported) to ``n`` threads.

    Call it before the first ``import numpy``.  Returns ``True`` when the pin is
    known to be effective for this process.
    """
    n = int(n)
    for var in _THREAD_VARS:
        os.environ[var] = str(n)
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.set_num_threads(n)
    if "numpy" not in sys.modules:
        return True
    # numpy (and its BLAS) is already loaded: the variables came too late.
    try:
        from threadpoolctl import threadpool_limits  # optional

        threadpool_limits(limits=n, user_api="blas")
        threadpool_limits(limits=n, user_api="openmp")
        return True
    except ImportError:
        pass
    import ctypes

    if _openblas_call(_OPENBLAS_SET, ctypes.c_int(n)) is not None or blas_num_threads() == n:
        return blas_num_threads() in (n, None)
    warnings.warn(
        "limit_blas_threads() called after numpy was imported and neither "
        "threadpoolctl nor OpenBLAS' set_num_threads is available; the BLAS "
        "thread count could not be changed",
        RuntimeWarning,
        stacklevel=2,
    )
    return False


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------


def interleaved_medians(fns, repeats: int = 20, warmup: int = 3):
    """Median wall time (seconds) of each callable, timed in interleaved rounds.

    Every round calls each function once (round-robin, the starting function
    rotating from round to round so none is always first), timing each call
    with ``time.perf_counter``.  ``warmup`` untimed rounds come first.  The
    garbage collector is run before and disabled during the timed rounds.
    Interleaving spreads slow drifts of the machine (frequency, other load)
    evenly over all contestants instead of penalising whichever ran last.
    """
    names = list(fns)
    if not names:
        return {}
    calls = [fns[k] for k in names]
    for _ in range(warmup):
        for f in calls:
            f()
    times = {k: [] for k in names}
    k = len(names)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        perf = time.perf_counter
        for r in range(repeats):
            for j in range(k):
                idx = (r + j) % k
                f = calls[idx]
                t0 = perf()
                f()
                t1 = perf()
                times[names[idx]].append(t1 - t0)
    finally:
        if was_enabled:
            gc.enable()
    return {name: statistics.median(ts) for name, ts in times.items()}


def gemm_peak_gflops(dtype="float64", n: int = 512, repeats: int = 15) -> float:
    """Measured GEMM throughput (GFLOP/s) of ``n x n @ n x n`` in ``dtype``.

    Median of ``repeats`` timed runs (after warm-up) with 2 n³ FLOPs per product,
    using whatever BLAS thread count is in effect (call
    :func:`limit_blas_threads` first for a single-thread peak).
    """
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype=dtype)
    for _ in range(3):
        np.matmul(a, b, out=out)
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(a, b, out=out)
        ts.append(time.perf_counter() - t0)
    return 2.0 * n**3 / statistics.median(ts) / 1e9


def peak_memory_of(fn) -> int:
    """Peak bytes allocated while running ``fn()``, above the level at its start.

    Uses :mod:`tracemalloc`; NumPy reports its data buffers to tracemalloc, so
    array temporaries are included.  Works whether or not tracing was already on.
    """
    import tracemalloc

    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        gc.collect()
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - base)


# ---------------------------------------------------------------------------
# FLOP counts (GEMMs only, 2·m·n·k each, forward + backward)
# Sizes: B batch, T steps, X inputs, H hidden units, Y outputs (classes).
# ---------------------------------------------------------------------------


def _cell_flops(B, T, X, H, Y, gates):
    """GEMM FLOPs of one forward+BPTT pass for a cell with ``gates`` blocks of size H.

    Forward:  input projection (TB x X)·(X x gH), recurrence (TB x H)·(H x gH),
              readout (TB x H)·(H x Y).
    Backward: readout dH = dY·W_y and dW_y = dYᵀ·H, recurrent dh = dA·W_h,
              dW_x = dAᵀ·X, dW_h = dAᵀ·H.  (No gradient w.r.t. the inputs.)
    """
    N = T * B
    gH = gates * H
    fwd = 2 * N * X * gH + 2 * N * H * gH + 2 * N * H * Y
    bwd = 2 * N * Y * H + 2 * Y * N * H + 2 * N * gH * H + 2 * gH * N * X + 2 * gH * N * H
    return fwd + bwd


def rnn_flops(B, T, X, H, Y) -> int:
    """GEMM FLOPs of the tanh RNN forward + BPTT: 2·TB·(2HX + 3H² + 3HO)."""
    return _cell_flops(B, T, X, H, Y, 1)


def lstm_flops(B, T, X, H, Y) -> int:
    """GEMM FLOPs of the LSTM forward + BPTT: 2·TB·(8HX + 12H² + 3HO)."""
    return _cell_flops(B, T, X, H, Y, 4)


def gru_flops(B, T, X, H, Y) -> int:
    """GEMM FLOPs of the GRU forward + BPTT: 2·TB·(6HX + 9H² + 3HO).

    (The candidate's product is with r ⊙ h rather than h, which changes no count.)
    """
    return _cell_flops(B, T, X, H, Y, 3)


def cell_flops(cell, B, T, X, H, Y) -> int:
    return {"rnn": rnn_flops, "lstm": lstm_flops, "gru": gru_flops}[cell](B, T, X, H, Y)


# ---------------------------------------------------------------------------
# problems
# ---------------------------------------------------------------------------


def param_shapes(cell, X, H, Y):
    """Parameter names and shapes (matrices (rows, cols) as in the maths, biases 1-D)."""
    shapes = {}
    if cell == "rnn":
        shapes.update({"W_hh": (H, H), "W_xh": (H, X), "b_h": (H,)})
    elif cell == "lstm":
        for g in ("f", "i", "g", "o"):
            shapes.update({f"W_x{g}": (H, X), f"W_h{g}": (H, H), f"b_{g}": (H,)})
    elif cell == "gru":
        for g in ("z", "r", "h"):
            shapes.update({f"W_x{g}": (H, X), f"W_h{g}": (H, H), f"b_{g}": (H,)})
    else:
        raise ValueError(f"unknown cell {cell!r}")
    shapes.update({"W_y": (Y, H), "b_y": (Y,)})
    return shapes


def make_problem(cell, B, T, X, H, Y, dtype="float64", seed=0):
    """Random ``(params, xs, ys)`` for ``cell`` in ``dtype``.

    Parameters ~ U(-1/√H, 1/√H); ``xs`` ~ N(0, 1) of shape (T, B, X); ``ys``
    one-hot targets of shape (T, B, Y) with uniformly random classes.  All draws
    come from ``numpy.random.default_rng(seed)`` (in a fixed order), so a
    problem is reproducible across dtypes up to rounding.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    k = 1.0 / math.sqrt(H)
    params = {name: rng.uniform(-k, k, size=shape).astype(dtype) for name, shape in param_shapes(cell, X, H, Y).items()}
    xs = rng.standard_normal((T, B, X)).astype(dtype)
    labels = rng.integers(0, Y, size=(T, B))
    ys = np.zeros((T, B, Y), dtype=dtype)
    np.put_along_axis(ys, labels[..., None], 1, axis=-1)
    return params, xs, ys
