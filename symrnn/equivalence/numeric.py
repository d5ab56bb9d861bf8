"""The cells on numbers: one step on the one evaluator, random parameters, mapped parameters, output differences."""

from __future__ import annotations

import numpy as np
import sympy

from symrnn.cellspec import Cell
from symrnn.equivalence.canonical import TOLERANCE, _Canonical
from symrnn.evaluate import FLOAT64, Evaluator, concrete_size
from symrnn.ir import Node

# ---------------------------------------------------------------- numbers


def _size(expr, sizes) -> int:
    """A size expression (``hidden_size + input_size``) at concrete sizes."""
    return concrete_size(expr, sizes)


def step(cell: Cell, params: dict, states: dict, x, fixed=(), sizes=None) -> dict:
    """One step of ``cell`` on numbers: the new states and the logits ("y_bar").

    Args:
        params: math layout, biases as (n, 1) columns (``fixed`` names may be absent: zero).
        states: s_{t-1} by state name, arrays (size, batch).
        x: the input x_t, (input_size, batch).
        sizes: ``{"hidden_size": …, …}`` (default: solved from the parameters' shapes).

    Returns:
        The new states and ``"y_bar"``, each (size, batch), evaluated on :mod:`symrnn.evaluate`.
    """
    all_params = cell.all_params()
    sizes = sizes or _sizes_from(all_params, params)
    x = np.asarray(x, dtype=float)

    def columns(a):  # (size, batch) → the evaluator's (batch, size, 1)
        return np.asarray(a, dtype=float).T[..., None]

    env: dict[Node, np.ndarray] = {}
    for name, node in all_params.items():
        shape = tuple(_size(d, sizes) for d in node.shape)
        env[node] = np.zeros(shape) if name in fixed else np.asarray(params[name], dtype=float)
    env.update({node: columns(states[name]) for name, node in cell.states.items()})
    env.update({node: columns(x) for node in cell.inputs.values()})
    ev = Evaluator(FLOAT64, sizes, env, batch=x.shape[1])
    new_states = {}
    for lhs, rhs in cell.equations:
        env[lhs] = ev.value(rhs)
        if lhs.name in cell.states:
            new_states[lhs.name] = lhs
    logits = new_states[cell.readout_state]
    if cell.readout_weight:
        logits = all_params[cell.readout_weight] @ logits
    if cell.readout_bias:
        logits = logits + all_params[cell.readout_bias]
    out = {name: env[lhs][..., 0].T for name, lhs in new_states.items()}
    out["y_bar"] = ev.value(logits)[..., 0].T
    return out


def _sizes_from(nodes: dict[str, Node], arrays: dict) -> dict[str, int]:
    """hidden/input/output sizes from parameter arrays whose shapes name them."""
    equations = []
    for name, node in nodes.items():
        if name not in arrays:
            continue
        shape = np.shape(arrays[name])
        dims = node.shape if len(shape) == 2 else node.shape[:1]
        for d, n in zip(dims, shape, strict=True):
            equations.append(sympy.Eq(sympy.sympify(d), int(n)))
    symbols = sorted({s for e in equations for s in e.free_symbols}, key=str)
    if not symbols:
        return {}
    solution = sympy.solve(equations, symbols, dict=True)
    if not solution:
        raise ValueError("parameter shapes are inconsistent with the cell")
    return {str(s): int(v) for s, v in solution[0].items()}


def _random_params(canon: _Canonical, sizes, rng, scale=1.0) -> dict[str, np.ndarray]:
    return {
        name: scale * rng.standard_normal([_size(d, sizes) for d in node.shape])
        for name, node in canon.params.items()
        if name not in canon.fixed
    }


def _apply_assignment(target: _Canonical, source: _Canonical, assign, params, sizes) -> dict[str, np.ndarray]:
    """Target's parameters (math layout) from the source's, block by block."""
    out = {
        name: np.zeros([_size(d, sizes) for d in node.shape])
        for name, node in target.params.items()
        if name not in target.fixed
    }
    for blk, combo in assign.items():
        if blk.param not in out:
            continue
        region = (
            slice(_size(blk.rows[0], sizes), _size(blk.rows[1], sizes)),
            slice(_size(blk.cols[0], sizes), _size(blk.cols[1], sizes)),
        )
        value = 0.0
        for src, k in combo.items():
            s = (
                slice(_size(src.rows[0], sizes), _size(src.rows[1], sizes)),
                slice(_size(src.cols[0], sizes), _size(src.cols[1], sizes)),
            )
            value = value + float(k) * params[src.param][s]
        out[blk.param][region] = value
    return out


def _rel(a, b) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a) + np.abs(b)), initial=0.0))


def _outputs_differ(a, b, match_states, pa, pb, sizes, rng):
    """The first output that differs between A and B on random states and inputs, or None."""
    batch = 3
    prev_a = {s: rng.standard_normal((_size(a.cell.states[s].shape[0], sizes), batch)) for s in a.states}
    if match_states:
        prev_b = {sb: prev_a[sa] for sb, sa in match_states.items()}
    else:  # no correspondence of states: each cell its own, compare the logits
        prev_b = {s: rng.standard_normal((_size(b.cell.states[s].shape[0], sizes), batch)) for s in b.states}
    x = rng.standard_normal((sizes["input_size"], batch))
    out_a = step(a.cell, pa, prev_a, x, a.fixed, sizes)
    out_b = step(b.cell, pb, prev_b, x, b.fixed, sizes)
    pairs = [(sb, sa) for sb, sa in match_states.items()] + [("y_bar", "y_bar")]
    for sb, sa in pairs:
        va, vb = out_a[sa], out_b[sb]
        if va.shape != vb.shape or _rel(va, vb) > TOLERANCE:
            return {
                "output": sa if sa == sb else f"{sb} (B) / {sa} (A)",
                "value_a": va,
                "value_b": vb,
                "states": prev_a,
                "states_b": prev_b,
                "x": x,
            }
    return None
