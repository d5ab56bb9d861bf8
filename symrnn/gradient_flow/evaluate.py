"""Numbers for the symbolic Jacobian: IR vectors and paths evaluated with NumPy, batched.

The layout is that of the generated code (``symrnn/codegen``): a per-example
vector is an array (batch, n), a shared column (a bias) is 1-D, a shared matrix
keeps the shape of the math; a Jacobian is (batch, rows, cols).  This evaluator
is independent of the code generator, so comparing the two is a check of both.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy

from symrnn import ir
from symrnn.gradient_flow.jacobian import Flow, Path
from symrnn.ir import Node


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # σ(x) without overflow


FUNCTIONS = {
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "step": lambda x: (x > 0).astype(x.dtype),
    "identity": lambda x: x,
    "exp": np.exp,
    "log": np.log,
    "reciprocal": np.reciprocal,
}


@functools.lru_cache(maxsize=256)
def _size(expr, sizes: tuple) -> int:
    return int(sympy.sympify(expr).subs(dict(sizes)))


class Evaluator:
    """Values of IR nodes at one step: ``env`` maps (name, shift) of time-indexed leaves to arrays.

    Args:
        params: parameter arrays as the generated code takes them.
        env: {(name, 0): value at t, (state, -1): state at t-1}, each (batch, n); may be empty
            for shared expressions such as a weight matrix.
        sizes: {ir.HIDDEN: …, ir.INPUT: …, ir.OUTPUT: …}.
    """

    def __init__(self, params: dict, env: dict, sizes: dict):
        self.params, self.env, self.sizes = params, env, sizes
        self.batch = next(iter(env.values())).shape[0] if env else 1
        self.memo: dict[Node, np.ndarray] = {}

    def size(self, expr) -> int:
        return _size(expr, tuple(sorted(self.sizes.items(), key=str)))

    def value(self, node: Node) -> np.ndarray:
        if node not in self.memo:
            self.memo[node] = self._value(node)
        return self.memo[node]

    def _value(self, node: Node) -> np.ndarray:
        op, args = node.op, node.args
        if op == "var":
            if node.kind == ir.PARAM:
                return np.asarray(self.params[node.name])
            return self.env[(node.name, node.shift)]
        if op == "zeros":
            return np.zeros(())
        a = [self.value(x) for x in args]
        if op == "matmul":
            return self._matmul(node, *a)
        if op in ("add", "sub", "mul", "div"):
            return {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op](*a)
        if op == "scale":
            return float(node.attrs[0]) * a[0]
        if op == "one_minus":
            return 1.0 - a[0]
        if op == "apply":
            if node.attrs[0] not in FUNCTIONS:
                raise ValueError(f"no numeric form for the element-wise function {node.attrs[0]!r}")
            return FUNCTIONS[node.attrs[0]](a[0])
        if op == "concat":
            if not node.batched:
                return np.concatenate(a, axis=0)
            return np.concatenate([np.broadcast_to(p, (self.batch, p.shape[-1])) for p in a], axis=1)
        if op == "rows":
            start, stop = (self.size(s) for s in node.attrs)
            return a[0][:, start:stop] if node.batched else a[0][start:stop]
        if op == "transpose":
            return a[0] if args[0].batched or args[0].is_column else a[0].T
        if op in ("broadcast", "batch_sum"):
            return a[0] if op == "broadcast" else a[0].sum(axis=0)
        if op == "softmax":
            e = np.exp(a[0] - a[0].max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        raise ValueError(f"cannot evaluate {node!r}")  # pragma: no cover - every IR op is handled above

    def _matmul(self, node: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        left, right = node.args
        if left.batched and right.batched:  # a per-example outer product p pᵀ
            return np.einsum("bi,bj->bij", a, b)
        if right.batched:  # W x: x @ Wᵀ in the batched layout
            return b @ a.T
        return a @ b

    def matrix(self, factor: Node) -> np.ndarray:
        """A factor of a path as a matrix (shared) or a stack of matrices (batch, r, c)."""
        if factor.op in ("embed", "select"):
            offset, total = (self.size(s) for s in factor.attrs)
            width = self.size(factor.shape[1] if factor.op == "embed" else factor.shape[0])
            block = np.zeros((total, width))
            block[offset : offset + width] = np.eye(width)
            return block if factor.op == "embed" else block.T
        return self.value(factor)

    def path(self, path: Path, columns: int) -> np.ndarray:
        """c · F_1 ⋯ F_k as (batch, rows, columns), applied right to left to the identity."""
        out = np.broadcast_to(np.eye(columns), (self.batch, columns, columns))
        for factor in reversed(path.factors):
            if factor.op == "diag":
                v = self.value(factor.args[0])
                out = (v if v.ndim == 2 else v[None, :])[:, :, None] * out
            else:
                out = self.matrix(factor) @ out
        return float(path.coefficient) * out


def state_jacobian(flow: Flow, params: dict, env: dict, sizes: dict) -> np.ndarray:
    """∂s_t/∂s_{t-1} as (batch, S, S): the blocks of ``flow`` at the values in ``env``, states in cell order."""
    ev = Evaluator(params, env, sizes)
    widths = {s: ev.size(flow.cell.states[s].shape[0]) for s in flow.states}
    rows = []
    for a in flow.states:
        row = []
        for b in flow.states:
            block = np.zeros((ev.batch, widths[a], widths[b]))
            for p in flow.block(a, b):
                block = block + ev.path(p, widths[b])
            row.append(block)
        rows.append(np.concatenate(row, axis=2))
    return np.concatenate(rows, axis=1)


def step_env(flow: Flow, values: dict, initial: dict, t: int) -> dict:
    """The leaves of step t (0-based) from a ``forward`` result and the initial states."""
    env = {(name, 0): tape[t] for name, tape in values.items()}
    for s in flow.states:
        env[(s, -1)] = values[s][t - 1] if t > 0 else initial[s]
    return env
