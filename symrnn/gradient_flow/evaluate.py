"""Numbers for the symbolic Jacobian: its paths evaluated on the one evaluator, :mod:`symrnn.evaluate`.

Callers pass arrays in the layout of the generated code (a per-example vector is (batch, n), a
bias 1-D); they are lifted to the evaluator's layout ((batch, n, 1), biases (n, 1)) here.  The
evaluator is independent of the code generator, so comparing the two is a check of both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from symrnn import ir
from symrnn.evaluate import FLOAT64, RULES, Evaluator
from symrnn.gradient_flow.differentials import MATRIX_RULES, Path
from symrnn.ir import Node

if TYPE_CHECKING:
    from symrnn.gradient_flow.jacobian import Flow

FLOW_RULES = {**RULES, **MATRIX_RULES}


def flow_evaluator(params: dict, env: dict, sizes: dict) -> Evaluator:
    """A float64 evaluator of a flow's expressions at one step.

    Args:
        params: parameter arrays as the generated code takes them (biases 1-D).
        env: {(name, shift): (batch, n)} for the time-indexed leaves: values at t (shift 0,
            inputs included), states at t-1 (shift -1); may be empty for shared expressions.
        sizes: {ir.HIDDEN: …, ir.INPUT: …, ir.OUTPUT: …}.
    """
    batch = next(iter(env.values())).shape[0] if env else 1

    def leaf(node: Node) -> np.ndarray:
        if node.kind == ir.PARAM:
            value = np.asarray(params[node.name], dtype=float)
            return value[:, None] if value.ndim == 1 else value
        key = (node.name, node.shift)
        if key not in env:
            step = "t" if node.shift == 0 else f"t{node.shift:+d}"
            raise KeyError(f"the Jacobian reads {node.name} at {step}, which the step's values do not hold")
        return np.asarray(env[key], dtype=float)[..., None]

    return Evaluator(FLOAT64, sizes, leaf, batch=batch, rules=FLOW_RULES)


def path_value(ev: Evaluator, path: Path, columns: int) -> np.ndarray:
    """c · F_1 ⋯ F_k as (batch, rows, columns), applied right to left to the identity."""
    out = np.broadcast_to(np.eye(columns), (ev.batch, columns, columns))
    for factor in reversed(path.factors):
        # diag(v) · M scales M's rows: v (…, n, 1) broadcasts, no n×n matrix is built
        out = ev.value(factor.args[0]) * out if factor.op == "diag" else ev.value(factor) @ out
    return float(path.coefficient) * out


def state_jacobian(flow: Flow, params: dict, env: dict, sizes: dict) -> np.ndarray:
    """∂s_t/∂s_{t-1} as (batch, S, S): the blocks of ``flow`` at the values in ``env``, states in cell order."""
    ev = flow_evaluator(params, env, sizes)
    widths = {s: ev.size(flow.cell.states[s].shape[0]) for s in flow.states}
    rows = []
    for a in flow.states:
        row = []
        for b in flow.states:
            block = np.zeros((ev.batch, widths[a], widths[b]))
            for p in flow.block(a, b):
                block = block + path_value(ev, p, widths[b])
            row.append(block)
        rows.append(np.concatenate(row, axis=2))
    return np.concatenate(rows, axis=1)


def step_env(flow: Flow, values: dict, initial: dict, t: int, inputs=None) -> dict:
    """The leaves of step t (0-based) from a ``forward`` result, the initial states and the inputs.

    Args:
        values: the generated ``forward``'s tapes, name → (T, batch, n).
        initial: s_0 by state, (batch, n).
        t: the step, 0-based.
        inputs: the inputs, (T, batch, n) for the cell's one input or a dict name → (T, batch, n);
            needed when a Jacobian reads x_t (as tanh(W h + U x) inside an equation does).
    """
    env = {(name, 0): tape[t] for name, tape in values.items()}
    if inputs is not None:
        if not isinstance(inputs, dict):
            inputs = dict.fromkeys(flow.cell.inputs, inputs)
        env.update({(name, 0): np.asarray(xs)[t] for name, xs in inputs.items()})
    for s in flow.states:
        env[(s, -1)] = values[s][t - 1] if t > 0 else initial[s]
    return env
