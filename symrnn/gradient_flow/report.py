"""The table ``symrnn flow`` prints: gradient norms by distance, one column per cell, then the rates."""

from __future__ import annotations

import math

DISTANCES = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def shown_distances(steps: int) -> list[int]:
    """0, 1, 2, 5, 10, 20, 50, … up to T, and T itself."""
    return sorted({d for d in DISTANCES if d <= steps} | {steps})


def _number(x: float) -> str:
    if math.isinf(x):
        return "∞"
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e4 else f"{x:.2e}"


def flow_table(measurements: list) -> str:
    """Rows: distance d with ‖∂L_T/∂s_{T-d}‖ (geometric mean over seeds); then ρ, ‖J_t‖, the bound, the biased gate."""
    first = measurements[0]
    width = max(11, *(len(m.cell) + 2 for m in measurements))
    lines = [
        f"‖∂L_T/∂s_k‖ at distance d = T − k, geometric mean over seeds {', '.join(map(str, first.seeds))}",
        f"initialisation: {first.init.describe()}",
        "",
        f"{'d':>18}" + "".join(f"{m.cell:>{width}}" for m in measurements),
    ]
    for d in shown_distances(first.steps):
        lines.append(f"{d:>18}" + "".join(f"{_number(m.geometric_mean[d]):>{width}}" for m in measurements))
    rows = [
        ("rate ρ per step", [f"{m.rate:.4f}" for m in measurements]),
        ("‖∂s_t/∂s_{t-1}‖", [_number(m.one_step_mean) for m in measurements]),
        ("bound (Pascanu)", [_number(float(m.bounds.max())) for m in measurements]),
        ("carry bias", [m.carry_bias or "—" for m in measurements]),
    ]
    lines.append("")
    lines += [f"{name:>18}" + "".join(f"{v:>{width}}" for v in values) for name, values in rows]
    lines += [
        "",
        "ρ: exp of the least-squares slope of log ‖∂L_T/∂s_k‖ against d; ‖∂s_t/∂s_{t-1}‖: geometric mean of the",
        "one-step 2-norms (ρ cannot exceed it); bound: largest over seeds of the bound of `flow(cell).bound()`.",
    ]
    return "\n".join(lines) + "\n"
