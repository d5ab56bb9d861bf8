"""Core benchmark: the generated ``loss_and_grads`` against hand-written NumPy and PyTorch.

Run from the repository root:  python -m benchmarks.bench_core [--repeats N] [--no-torch]

One BLAS thread.  Everything is timed as medians of interleaved runs in this one process:

* derive + compile time per catalogue cell (target: under a second each);
* LSTM and GRU at batch 32, T 64, input 64, hidden 128, output 64, float32 and float64:
  generated (optimised) vs the hand-written baseline (``benchmarks/baselines.py``) and vs
  PyTorch ``nn.LSTM``/``nn.GRU`` forward + backward; achieved GFLOP/s (GEMM FLOPs) and their
  fraction of the measured GEMM peak (targets: ≤ 0.9× baseline, ≤ 1.0× torch in float32);
* the small size (batch 1, T 32, input 8, hidden 16, output 8) vs the baseline (≤ 0.9×);
* every comparison is run in 5 rounds, each with freshly allocated buffers on both sides
  (where buffers land in memory moves a call's time by several per cent); the ratio
  reported is that of the medians over rounds, with the range of the round ratios;
  torch is timed in rounds of its own against the generated code (a call right after
  torch's runs on cold caches, so it is never interleaved with both others);
* peak memory of one call from cold (workspaces dropped first, so both sides allocate their
  buffers) and of a warm call (buffers reused), generated / baseline (≤ 1.2×).

Both sides reuse their buffers across calls (the baseline's default, the generated
module's workspace), so timings compare like with like.  PyTorch's ``nn.GRU`` is a
different GRU variant (reset after the product): that column is timing only.
"""

from benchmarks.common import limit_blas_threads

limit_blas_threads(1)

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import baselines  # noqa: E402
from benchmarks.common import (  # noqa: E402
    cell_flops,
    gemm_peak_gflops,
    interleaved_medians,
    make_problem,
    peak_memory_of,
)

LARGE = (32, 64, 64, 128, 64)  # batch, T, input, hidden, output
ROUNDS = 5
SMALL = (1, 32, 8, 16, 8)


def derive_times():
    """Seconds to derive and compile each catalogue cell (after SymPy's own import)."""
    import symrnn

    symrnn.derive("rnn").numpy()
    rows = []
    for name in symrnn.cells():
        start = time.perf_counter()
        symrnn.derive(name).numpy()
        rows.append((name, time.perf_counter() - start))
    return rows


def _torch_callable(cell, params, xs, ys):
    try:
        import torch

        from benchmarks.torch_reference import build_torch_model, to_torch, torch_loss_and_backward
    except ImportError:
        return None
    torch.set_num_threads(1)
    module, readout = build_torch_model(cell, params)
    xs_t, ys_t, _ = to_torch(xs, ys)
    return lambda: torch_loss_and_backward(module, readout, xs_t, ys_t)


def compare(cell, dtype, size, repeats, with_torch):
    """Medians (s) of generated, baseline (and torch), the worst gradient difference, memory."""
    import symrnn

    params, xs, ys = make_problem(cell, *size, dtype=dtype, seed=0)
    module = symrnn.derive(cell).numpy()
    hand = baselines.BASELINES[cell]
    _, ours = module.loss_and_grads(params, xs, ys)
    _, theirs = hand(params, xs, ys)
    worst = max(float(np.max(np.abs(ours[k] - theirs[k]))) for k in params)
    fns = {
        "generated": lambda: module.loss_and_grads(params, xs, ys),
        "baseline": lambda: hand(params, xs, ys),
    }
    # Rounds with fresh buffers: where the workspaces land in memory moves a call's time by
    # several per cent on this kind of machine, for both sides; the median over rounds
    # of each round's median is what is reported, and the spread of the round ratios.
    rounds = []
    for _ in range(ROUNDS):
        module.clear_workspace()
        baselines.clear_workspace()
        rounds.append(interleaved_medians(fns, repeats=max(3, repeats // ROUNDS), warmup=2))
    medians = {k: statistics.median(r[k] for r in rounds) for k in fns}
    spread = sorted(r["generated"] / r["baseline"] for r in rounds)
    torch_fn = _torch_callable(cell, params, xs, ys) if with_torch else None
    if torch_fn is not None:
        # Timed in pairs of its own: interleaved with both others, a call after torch's (which
        # evicts the caches) would fall twice as often to one side as to the other.
        pairs = [
            interleaved_medians({"ours": fns["generated"], "torch": torch_fn}, repeats=max(3, repeats // ROUNDS))
            for _ in range(ROUNDS)
        ]
        medians["torch"] = statistics.median(p["torch"] for p in pairs)
        medians["generated / torch"] = statistics.median(p["ours"] / p["torch"] for p in pairs)

    def cold(clear, fn):
        def run():
            clear()
            fn()

        return peak_memory_of(run)

    memory = {
        "cold": (cold(module.clear_workspace, fns["generated"]), cold(baselines.clear_workspace, fns["baseline"])),
        "warm": (peak_memory_of(fns["generated"]), peak_memory_of(fns["baseline"])),
    }
    return medians, worst, memory, (spread[0], spread[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per function, over all rounds")
    parser.add_argument("--small-repeats", type=int, default=600)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()

    times = derive_times()
    slowest = max(times, key=lambda r: r[1])
    print("derive + compile, seconds per cell:")
    print("  " + ", ".join(f"{name} {seconds:.2f}" for name, seconds in times))
    print(f"  slowest {slowest[0]} {slowest[1]:.2f} s (target < 1 s)")

    for label, size, repeats in (("large", LARGE, args.repeats), ("small", SMALL, args.small_repeats)):
        B, T, X, H, Y = size
        print(f"\n{label}: batch {B}, T {T}, input {X}, hidden {H}, output {Y}; one BLAS thread, buffers reused")
        header = (
            "  cell dtype    generated  baseline  ratio  (rounds)      torch  ratio  GFLOP/s  %peak"
            "  mem cold  mem warm  |Δgrad|"
        )
        print(header)
        for dtype in ("float32", "float64"):
            peak = gemm_peak_gflops(dtype)
            for cell in ("lstm", "gru"):
                medians, worst, memory, (low, high) = compare(cell, dtype, size, repeats, not args.no_torch)
                g, b = medians["generated"], medians["baseline"]
                flops = cell_flops(cell, *size)
                torch_ms = (
                    f"{medians['torch'] * 1e3:7.2f}  {medians['generated / torch']:5.2f}"
                    if "torch" in medians
                    else " " * 14
                )
                cold = memory["cold"][0] / memory["cold"][1]
                warm = memory["warm"][0] / max(memory["warm"][1], 1)
                print(
                    f"  {cell:<4} {dtype}  {g * 1e3:8.2f}  {b * 1e3:8.2f}  {g / b:5.2f}  ({low:4.2f}–{high:4.2f})  {torch_ms}"
                    f"  {flops / g / 1e9:7.1f}  {flops / g / 1e9 / peak:5.0%}"
                    f"  {cold:8.2f}  {warm:8.2f}  {worst:.1e}"
                )
            print(f"  (GEMM peak {dtype}: {peak:.1f} GFLOP/s)")
    print("\nratios are generated / other (below 1: generated is faster); mem = peak bytes generated / baseline;")
    print("torch nn.GRU is PyTorch's GRU variant (reset after the product): timing only.")


if __name__ == "__main__":
    main()
