"""The compiled backend (``d.numpy(backend="numba")``) against our NumPy code, PyTorch and JAX.

Run from the repository root:  python -m benchmarks.bench_compiled [--repeats N] [--small-repeats N]

One thread everywhere (BLAS, torch, XLA).  Medians of interleaved calls in this one process,
each contender in every round (the order rotating), after warm-up calls (so compile time is
not timed; it is printed separately, with whether numba loaded the machine code from its
cache).  Each row prints the compiled code's median and its ratio to every contender (below
1: compiled is faster), and the fraction of the GEMM-only bound it reaches: the time of the
same matrix products alone, in NumPy with preallocated outputs (the floor of any BPTT that
keeps GEMMs in BLAS).

Contenders: our NumPy ``loss_and_grads`` (optimised); PyTorch ``nn.LSTM``/``nn.GRU`` forward
and backward with an ``nn.Linear`` readout and summed cross-entropy (``nn.GRU`` is PyTorch's
variant, reset after the product: timing only); JAX (optional: ``pip install ".[jax]"``):
``jax.jit(jax.value_and_grad(loss))`` over a ``lax.scan`` of the cell's generated JAX step, the
same readout and loss.  Sizes from issue 18: batch 32, T 64, input 64, hidden 128, output 64,
and batch 1, T 32, input 8, hidden 16, output 8; float32 and float64.
"""

from benchmarks.common import limit_blas_threads

limit_blas_threads(1)

import argparse  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402

from benchmarks.common import interleaved_medians, make_problem  # noqa: E402

LARGE = (32, 64, 64, 128, 64)  # batch, T, input, hidden, output
SMALL = (1, 32, 8, 16, 8)
GATES = {"lstm": 4, "gru": 3}


def gemm_only(cell, params, B, T, X, H, Y):
    """The matrix products of one BPTT of the cell alone, outputs preallocated: a lower bound."""
    dtype = params["W_y"].dtype
    G = GATES[cell]
    rng = np.random.default_rng(0)

    def a(*shape):
        return rng.standard_normal(shape).astype(dtype)

    xs, hs, dz, gates = a(T * B, X), a(T * B, H), a(T * B, Y), a(T * B, G * H)
    w_x, w_h, w_y, w_back = a(X, G * H), a(H, G * H), a(H, Y), a(G * H, H)
    step_h, step_g, step_out, step_back = a(B, H), a(B, G * H), np.empty((B, G * H), dtype), np.empty((B, H), dtype)
    out = {
        "x": np.empty((T * B, G * H), dtype),
        "y": np.empty((T * B, Y), dtype),
        "dh": np.empty((T * B, H), dtype),
        "gx": np.empty((G * H, X), dtype),
        "gh": np.empty((G * H, H), dtype),
        "gy": np.empty((Y, H), dtype),
    }

    def run():
        np.dot(xs, w_x, out=out["x"])
        for _ in range(T):
            np.dot(step_h, w_h, out=step_out)
        np.dot(hs, w_y, out=out["y"])
        np.dot(dz, w_y.T, out=out["dh"])
        for _ in range(T):
            np.dot(step_g, w_back, out=step_back)
        np.dot(gates.T, xs, out=out["gx"])
        np.dot(gates.T, hs, out=out["gh"])
        np.dot(dz.T, hs, out=out["gy"])

    return run


def torch_contender(cell, params, xs, ys):
    try:
        import torch

        from benchmarks.torch_reference import build_torch_model, to_torch, torch_loss_and_backward
    except ImportError:
        return None
    torch.set_num_threads(1)
    module, readout = build_torch_model(cell, params)
    xs_t, ys_t, _ = to_torch(xs, ys)
    return lambda: torch_loss_and_backward(module, readout, xs_t, ys_t)


def jax_contender(cell, params, xs, ys):
    """``jax.jit(value_and_grad)`` of the cell's generated JAX step under ``lax.scan``; None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
        from jax import lax
    except ImportError:
        return None
    if params["W_y"].dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    from symrnn.layers.derive import derive_layer
    from symrnn.layers.emit import compile_steps

    ld = derive_layer(cell)
    steps = compile_steps(ld, "jax")
    names = list(ld.params)
    out_index = ld.states.index(ld.output)
    B, H = xs.shape[1], params["W_y"].shape[1]

    def loss(P, w_y, b_y, xs, ys):
        T, X = xs.shape[0], xs.shape[2]
        P = P + tuple(jnp.concatenate([P[i] for i in rows], axis=0) for rows in steps.STACKS)
        s0 = tuple(jnp.zeros((B, H), xs.dtype) for _ in ld.states)
        # the input's terms of every step as one product, as the layer does
        terms = tuple(u.reshape(T, B, -1) for u in steps.bulk_inputs(P, xs.reshape(T * B, X)))

        def body(prev, inputs):
            x, step_terms = inputs
            new, _ = steps.step_forward(P, x, step_terms, *prev)
            return tuple(new), new[out_index]

        _, hs = lax.scan(body, s0, (xs, terms))
        z = hs @ w_y.T + b_y
        return -jnp.sum(ys * jax.nn.log_softmax(z, axis=-1))

    grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))
    args = (
        tuple(jnp.asarray(params[k]) for k in names),
        jnp.asarray(params["W_y"]),
        jnp.asarray(params["b_y"]),
        jnp.asarray(xs),
        jnp.asarray(ys),
    )
    return lambda: jax.block_until_ready(grad(*args))


def row(cell, dtype, size, repeats):
    import symrnn

    B, T, X, H, Y = size
    params, xs, ys = make_problem(cell, *size, dtype=dtype, seed=0)
    d = symrnn.derive(cell)
    start = time.perf_counter()
    compiled = d.numpy(backend="numba")
    known = dtype in compiled.COMPILE_SECONDS
    compiled.loss_and_grads(params, xs, ys)  # compiles, or loads the cached machine code
    first = time.perf_counter() - start
    kernel = compiled._loss_and_grads_kernel
    hits = sum(kernel.stats.cache_hits.values()) > 0
    cached = "in process" if known else "cache hit" if hits else "compiled"
    numpy_module = d.numpy()
    loss_c, grads_c = compiled.loss_and_grads(params, xs, ys)
    loss_n, grads_n = numpy_module.loss_and_grads(params, xs, ys)
    worst = max(float(np.max(np.abs(grads_c[k] - grads_n[k]))) for k in grads_n)
    fns = {
        "compiled": lambda: compiled.loss_and_grads(params, xs, ys),
        "numpy": lambda: numpy_module.loss_and_grads(params, xs, ys),
        "gemm only": gemm_only(cell, params, *size),
    }
    for name, make in (("torch", torch_contender), ("jax", jax_contender)):
        fn = make(cell, params, xs, ys)
        if fn is not None:
            fns[name] = fn
    medians = interleaved_medians(fns, repeats=repeats, warmup=3)
    return medians, first, cached, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per contender at the large size")
    parser.add_argument("--small-repeats", type=int, default=200)
    parser.add_argument("--cells", default="lstm,gru")
    parser.add_argument("--dtypes", default="float32,float64")
    args = parser.parse_args()
    print("ratios: compiled / contender (below 1: compiled is faster); bound: GEMM-only time / compiled")
    import symrnn

    blas = symrnn.derive("rnn").numpy(backend="numba")._BLAS
    print("compiled products: " + ("NumPy's own BLAS" if blas[0] else "SciPy's BLAS through numba's np.dot"))
    for label, size, repeats in (("large", LARGE, args.repeats), ("small", SMALL, args.small_repeats)):
        B, T, X, H, Y = size
        print(f"\n{label}: batch {B}, T {T}, input {X}, hidden {H}, output {Y}; one thread")
        print("  cell dtype    compiled ms  /numpy  /torch   /jax  bound  first call s (cache)  |Δgrad| vs numpy")
        for dtype in args.dtypes.split(","):
            for cell in args.cells.split(","):
                m, first, cached, worst = row(cell, dtype, size, repeats)
                c = m["compiled"]

                def ratio(name, m=m, c=c):
                    return f"{c / m[name]:6.2f}" if name in m else "     -"

                print(
                    f"  {cell:<4} {dtype}  {c * 1e3:10.3f}  {ratio('numpy')}  {ratio('torch')}  {ratio('jax')}"
                    f"  {m['gemm only'] / c:5.0%}  {first:8.2f} ({cached})   {worst:.1e}"
                )


if __name__ == "__main__":
    main()
