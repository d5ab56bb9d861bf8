"""Time the hand-written NumPy baselines against PyTorch (one BLAS thread).

Rows: ``numpy`` (default, buffers reused across calls), ``numpy-fresh``
(``reuse_buffers=False``: every buffer allocated per call), ``torch`` (module
forward + readout + summed cross-entropy + backward).  Peak memory is the
tracemalloc peak of one call above the level before it (the reused workspace
is already allocated, so it does not show in the ``numpy`` row).

Usage::

    python -m benchmarks.bench_baselines [--B 32 --T 64 --X 64 --H 128 --Y 64]
                                         [--repeats 30] [--warmup 5] [--cells lstm gru]

Thread pinning must happen before numpy/torch are imported, hence the import
order below.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import limit_blas_threads  # noqa: E402  (imports no numpy)

limit_blas_threads(1)

import argparse  # noqa: E402
import functools  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.baselines import BASELINES  # noqa: E402
from benchmarks.common import (  # noqa: E402
    blas_num_threads,
    cell_flops,
    gemm_peak_gflops,
    interleaved_medians,
    make_problem,
    peak_memory_of,
)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in (("B", 32), ("T", 64), ("X", 64), ("H", 128), ("Y", 64)):
        ap.add_argument(f"--{name}", type=int, default=default)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--cells", nargs="+", default=["lstm", "gru", "rnn"])
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args(argv)
    B, T, X, H, Y = args.B, args.T, args.X, args.H, args.Y

    torch = None
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(1)
            from benchmarks.torch_reference import build_torch_model, to_torch, torch_loss_and_backward
        except ImportError:
            torch = None

    print(
        f"numpy {np.__version__}, BLAS threads {blas_num_threads()}"
        + (f", torch {torch.__version__} threads {torch.get_num_threads()}" if torch else "")
    )
    print(f"B={B} T={T} X={X} H={H} Y={Y}, repeats={args.repeats}, warmup={args.warmup}")
    for dtype in args.dtypes:
        peak = gemm_peak_gflops(dtype)
        print(f"\n[{dtype}] GEMM peak (512^3, 1 thread): {peak:.1f} GFLOP/s")
        for cell in args.cells:
            params, xs, ys = make_problem(cell, B, T, X, H, Y, dtype, seed=0)
            fn = BASELINES[cell]
            fns = {
                "numpy": functools.partial(fn, params, xs, ys),
                "numpy-fresh": functools.partial(fn, params, xs, ys, reuse_buffers=False),
            }
            if torch is not None:
                module, readout = build_torch_model(cell, params)
                xs_t, ys_t, _ = to_torch(xs, ys)
                fns["torch"] = functools.partial(torch_loss_and_backward, module, readout, xs_t, ys_t)
            med = interleaved_medians(fns, repeats=args.repeats, warmup=args.warmup)
            flops = cell_flops(cell, B, T, X, H, Y)
            mem = {k: peak_memory_of(fns[k]) for k in ("numpy", "numpy-fresh")}
            for name, sec in med.items():
                extra = f"  peak mem {mem[name] / 2**20:.1f} MiB" if name in mem else ""
                note = "  (different GRU variant, timing only)" if name == "torch" and cell == "gru" else ""
                print(
                    f"  {cell:4s} {name:11s}: {sec * 1e3:8.2f} ms  "
                    f"{flops / sec / 1e9:6.1f} GFLOP/s ({100 * flops / sec / 1e9 / peak:4.1f}% of peak){extra}{note}"
                )


if __name__ == "__main__":
    main()
