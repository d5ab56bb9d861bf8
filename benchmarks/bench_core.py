"""Core benchmark: derive+compile time per cell, and generated vs hand-written BPTT.

Run from the repository root:  python -m benchmarks.bench_core [--repeats N]

Prints, for LSTM and GRU at batch 32, T 64, input 64, hidden 128, output 64
(one BLAS thread), the median of interleaved runs of the generated
``loss_and_grads`` and of the hand-written NumPy baseline, and their ratio
(generated / baseline: below 1 is faster).
"""

from benchmarks.common import limit_blas_threads

limit_blas_threads(1)

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import baselines  # noqa: E402
from benchmarks.common import cell_flops, gemm_peak_gflops, interleaved_medians, make_problem  # noqa: E402


def derive_times():
    import symrnn

    rows = []
    for name in symrnn.cells():
        start = time.perf_counter()
        symrnn.derive(name).numpy()
        rows.append((name, time.perf_counter() - start))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    import symrnn

    print("derive + compile, seconds per cell (fresh process state after the first):")
    for name, seconds in derive_times():
        print(f"  {name:<14} {seconds:.3f}")
    B, T, X, H, Y = 32, 64, 64, 128, 64
    print(f"\nloss_and_grads at batch {B}, T {T}, input {X}, hidden {H}, output {Y}; one BLAS thread")
    for dtype in ("float32", "float64"):
        peak = gemm_peak_gflops(dtype)
        for cell in ("lstm", "gru"):
            params, xs, ys = make_problem(cell, B, T, X, H, Y, dtype=dtype, seed=0)
            generated = symrnn.derive(cell).numpy()
            hand = getattr(baselines, f"{cell}_loss_and_grads")
            lg, gg = generated.loss_and_grads(params, xs, ys)
            lb, gb = hand(params, xs, ys)
            worst = max(float(np.max(np.abs(gg[k] - gb[k]))) for k in params)
            medians = interleaved_medians(
                {
                    "generated": lambda m=generated, a=(params, xs, ys): m.loss_and_grads(*a),
                    "baseline": lambda f=hand, a=(params, xs, ys): f(*a),
                },
                repeats=args.repeats,
                warmup=2,
            )
            flops = cell_flops(cell, B, T, X, H, Y)
            g, b = medians["generated"], medians["baseline"]
            print(
                f"  {cell:<4} {dtype}: generated {g * 1e3:7.1f} ms, hand-written {b * 1e3:7.1f} ms, "
                f"ratio {g / b:.2f}; {flops / g / 1e9:.1f} GFLOP/s = {flops / g / 1e9 / peak:.0%} of GEMM peak "
                f"{peak:.0f}; max |grad diff| {worst:.1e}"
            )


if __name__ == "__main__":
    main()
