"""Derived layers against baselines in the same process: ratios of interleaved medians.

    python -m benchmarks.bench_layers [--quick]

* torch: ``d.torch_module()`` forward + backward against torch autograd of the same
  equations in torch ops (the generated forward code itself — input terms of all steps in one
  product, gates' recurrent products stacked, then the per-step equations — differentiated by
  autograd) and against
  ``nn.LSTM`` / ``nn.GRU`` (PyTorch's fused CPU kernels), float32, one thread;
* JAX: ``d.jax_function()`` (custom_vjp, derived backward) under ``jax.jit(jax.grad(...))``
  against ``jax.grad`` of the same ``lax.scan`` without the custom VJP;
* NumPy: the layer's ``loss_and_grads`` (forward, readout, derived layer VJP) against the
  optimised standalone ``d.numpy().loss_and_grads`` on the same work (loss at every step).

A ratio below 1 means the derived layer is faster.  Each ratio is the median over rounds of
interleaved medians (``benchmarks.common.interleaved_medians``), with its range.
"""

from __future__ import annotations

import argparse
import statistics

from benchmarks.common import interleaved_medians, limit_blas_threads

limit_blas_threads(1)

import numpy as np  # noqa: E402

SIZE = {"batch": 32, "T": 64, "input": 64, "hidden": 128}


def _rounds(fns: dict, baseline: str, rounds: int, repeats: int) -> dict:
    """{name: (median ratio to baseline, min, max)} over ``rounds`` interleaved timings."""
    ratios = {k: [] for k in fns if k != baseline}
    for _ in range(rounds):
        t = interleaved_medians(fns, repeats=repeats, warmup=2)
        for k in ratios:
            ratios[k].append(t[k] / t[baseline])
    return {k: (statistics.median(v), min(v), max(v)) for k, v in ratios.items()}


def _print(title: str, results: dict, baseline: str):
    for k, (med, lo, hi) in results.items():
        print(f"  {title}: {k} / {baseline} = {med:.2f}  (rounds {lo:.2f}–{hi:.2f})")


def torch_figures(cell: str, rounds: int, repeats: int):
    import torch

    import symrnn

    torch.set_num_threads(1)
    n, T, X, H = SIZE["batch"], SIZE["T"], SIZE["input"], SIZE["hidden"]
    module = symrnn.derive(cell).torch_module(input_size=X, hidden_size=H)
    steps, names = module.layer.steps, module.layer.names
    xs = torch.randn(T, n, X, requires_grad=True)
    delta = torch.randn(T, n, H)

    def derived():
        out, _ = module(xs)
        out.backward(delta)

    def autograd_same_equations():
        P = tuple(module.params[k] for k in names)
        P += tuple(torch.cat([P[i] for i in rows], 0) for rows in steps.STACKS)  # as the layer does
        prev = tuple(torch.zeros(n, H) for _ in module.states)
        terms = [u.reshape(T, n, -1) for u in steps.bulk_inputs(P, xs.reshape(T * n, X))]
        outs = []
        for t in range(T):
            prev, _ = steps.step_forward(P, xs[t], tuple(u[t] for u in terms), *prev)
            outs.append(prev[module.layer.output_index])
        torch.stack(outs).backward(delta)

    reference = (torch.nn.LSTM if "lstm" in cell else torch.nn.GRU)(X, H)

    def torch_nn():
        out, _ = reference(xs)
        out.backward(delta)

    fns = {"derived torch_module": derived, "autograd, same equations": autograd_same_equations, "nn": torch_nn}
    results = _rounds(fns, "derived torch_module", rounds, repeats)
    print(f"torch {cell} (float32, batch {n}, T {T}, input {X}, hidden {H}), forward + backward:")
    for k, (med, lo, hi) in results.items():
        name = f"nn.{'LSTM' if 'lstm' in cell else 'GRU'}" if k == "nn" else k
        print(f"  derived / {name} = {1 / med:.2f}  (rounds {1 / hi:.2f}–{1 / lo:.2f})")


def jax_figures(cell: str, rounds: int, repeats: int):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        print('jax: not installed (pip install ".[jax]"); skipped')
        return
    from jax import lax

    import symrnn

    n, T, X, H = SIZE["batch"], SIZE["T"], SIZE["input"], SIZE["hidden"]
    fn = symrnn.derive(cell).jax_function()
    from symrnn.layers.emit import compile_steps

    steps = compile_steps(fn.derivation, "jax")
    d = symrnn.derive(cell)
    params = {
        k: jnp.asarray(v)
        for k, v in d.init_params(hidden_size=H, input_size=X, output_size=2, dtype="float32").items()
        if k in d.cell.params
    }
    names, states = list(fn.derivation.params), fn.derivation.states
    out_index = states.index(fn.derivation.output)
    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.standard_normal((T, n, X)), jnp.float32)
    delta = jnp.asarray(rng.standard_normal((T, n, H)), jnp.float32)

    def derived_loss(p, x):
        out, _ = fn(p, x)
        return jnp.sum(out * delta)

    def plain_loss(p, x):
        P = tuple(p[k] for k in names)
        P += tuple(jnp.concatenate([P[i] for i in rows], axis=0) for rows in steps.STACKS)

        def body(prev, inputs):
            x_t, terms = inputs
            new, _ = steps.step_forward(P, x_t, terms, *prev)
            return new, new[out_index]

        terms = tuple(u.reshape(T, n, -1) for u in steps.bulk_inputs(P, x.reshape(T * n, X)))
        _, out = lax.scan(body, tuple(jnp.zeros((n, H), jnp.float32) for _ in states), (x, terms))
        return jnp.sum(out * delta)

    g_derived = jax.jit(jax.grad(derived_loss, argnums=(0, 1)))
    g_plain = jax.jit(jax.grad(plain_loss, argnums=(0, 1)))
    fns = {
        "derived custom_vjp": lambda: jax.block_until_ready(g_derived(params, xs)),
        "jax.grad of the same lax.scan": lambda: jax.block_until_ready(g_plain(params, xs)),
    }
    results = _rounds(fns, "jax.grad of the same lax.scan", rounds, repeats)
    print(f"jax {cell} (float32, jit, same sizes), gradient of Σ outputs ⊙ Δ:")
    _print("jax", results, "jax.grad of the same lax.scan")


def numpy_figures(cell: str, rounds: int, repeats: int):
    import symrnn
    from symrnn.layers.loss import loss_and_grads

    n, T, X, H = SIZE["batch"], SIZE["T"], SIZE["input"], SIZE["hidden"]
    d = symrnn.derive(cell)
    params = d.init_params(hidden_size=H, input_size=X, output_size=10, dtype="float32")
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((T, n, X)).astype(np.float32)
    classes = rng.integers(0, 10, (T, n))
    ys = np.eye(10, dtype=np.float32)[classes]
    module, layer = d.numpy(), d.layer()
    fns = {
        "layer loss_and_grads": lambda: loss_and_grads(layer, params, xs, classes),
        "optimised module loss_and_grads": lambda: module.loss_and_grads(params, xs, ys),
    }
    results = _rounds(fns, "optimised module loss_and_grads", rounds, repeats)
    print(f"numpy {cell} (float32, same sizes, loss at every step):")
    _print("numpy", results, "optimised module loss_and_grads")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (about half a minute)")
    args = parser.parse_args(argv)
    rounds, repeats = (2, 5) if args.quick else (5, 10)
    for cell in ("lstm", "gru"):
        torch_figures(cell, rounds, repeats)
        jax_figures(cell, rounds, repeats)
        numpy_figures(cell, rounds, repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
