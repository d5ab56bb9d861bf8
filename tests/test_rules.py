"""One row per IR op: its VJP agrees with numeric differentiation of the reference semantics.

The completeness test fails when an op lacks a VJP rule, a LaTeX, text or NumPy
printer method, an evaluator rule (tests/test_evaluate.py), or a row here.
"""

import numpy as np
import pytest
import sympy

from symrnn import ir
from symrnn.codegen.numpy_printer import NumpyPrinter
from symrnn.evaluate import example_value
from symrnn.printing.latex import LatexPrinter
from symrnn.printing.text import TextPrinter
from symrnn.rules import VJP, vjp


def evaluate(node, env, sizes) -> sympy.Matrix:
    """One example's value, exact, as a SymPy matrix (the one evaluator, symrnn.evaluate)."""
    return sympy.Matrix(example_value(node, env, sizes))


H, X = ir.HIDDEN, ir.INPUT
SIZES = {ir.HIDDEN: 3, ir.INPUT: 2, ir.OUTPUT: 2}
W = ir.var("W", (H, H), ir.PARAM)
U = ir.var("U", (H, X), ir.PARAM)
b = ir.var("b", (H, 1), ir.PARAM)
h = ir.var("h", (H, 1), ir.STATE, -1)
x = ir.var("x", (X, 1), ir.INPUT_KIND)
v = ir.var("v", (H, 1))
s = ir.var("s", (1, 1))

# op -> an expression whose top node is that op
ROWS = {
    "var": lambda: h,
    "zeros": lambda: ir.zeros((H, 1)) + h,
    "matmul": lambda: W @ h,
    "add": lambda: h + v,
    "sub": lambda: h - v,
    "mul": lambda: h * v,
    "div": lambda: h / (v * v + v * v + ir.apply("exp", v)),
    "scale": lambda: ir.scale(sympy.Rational(3, 2), h),
    "one_minus": lambda: 1 - h,
    "apply": lambda: ir.apply("tanh", h),
    "concat": lambda: ir.concat(h, x),
    "rows": lambda: ir.rows(ir.concat(h, x), 1, H + 1),
    "transpose": lambda: ir.transpose(h) @ v,
    "broadcast": lambda: h + b,
    "batch_sum": lambda: ir.batch_sum(h * v),
    "softmax": lambda: ir.softmax(h),
}
SCALAR_ROW = lambda: s * h  # noqa: E731  1×1 times a vector


def test_every_op_has_every_rule():
    for op in ir.OPS:
        assert op in VJP, f"no VJP rule for {op}"
        assert op in ROWS, f"no test row for {op}"
        for printer in (LatexPrinter, TextPrinter, NumpyPrinter):
            assert hasattr(printer, f"_print_{op}"), f"{printer.__name__} cannot print {op}"
    assert set(VJP) == set(ir.OPS)


def _random_env(expr, rng):
    env = {}
    for leaf in ir.leaves(expr):
        rows, cols = (int(sympy.sympify(d).subs(SIZES)) for d in leaf.shape)
        env[leaf] = sympy.Matrix(rows, cols, [sympy.Float(val) for val in rng.uniform(0.2, 1.0, rows * cols)])
    return env


@pytest.mark.parametrize("op", list(ROWS) + ["scalar_mul"])
def test_vjp_matches_numeric_derivative(op):
    expr = SCALAR_ROW() if op == "scalar_mul" else ROWS[op]()
    rng = np.random.default_rng(1)
    env = _random_env(expr, rng)
    out = evaluate(expr, env, SIZES)
    weights = sympy.Matrix(out.rows, out.cols, [sympy.Float(val) for val in rng.uniform(-1, 1, len(out))])
    g = ir.var("g", expr.shape, ir.GRAD if expr.batched else ir.VALUE)
    shares = vjp(expr, g)
    env[g] = weights
    for leaf in ir.leaves(expr):
        analytic = evaluate(shares[leaf], env, SIZES) if leaf in shares else sympy.zeros(*env[leaf].shape)
        for i in range(len(env[leaf])):
            eps = 1e-7
            plus, minus = dict(env), dict(env)
            plus[leaf] = env[leaf].copy()
            minus[leaf] = env[leaf].copy()
            plus[leaf][i] += eps
            minus[leaf][i] -= eps
            numeric = weights.multiply_elementwise(evaluate(expr, plus, SIZES) - evaluate(expr, minus, SIZES)) / (
                2 * eps
            )
            assert abs(float(sum(numeric)) - float(analytic[i])) < 1e-6, (op, leaf, i)


# ---- survivors of the cosmic-ray run (benchmarks/mutation.py, issue 19): each test below fails on
# the mutant named in its docstring.


def test_a_leaf_reached_only_through_a_zero_derivative_gets_no_gradient_and_stops_nothing():
    """rules.py vjp: ``continue`` → ``break`` for a node without cotangent; ``share is None or …`` → ``and``.

    step'(x) = 0, so v receives nothing; v comes before W and h in the reverse walk, and W, h must
    still get theirs.
    """
    g = ir.var("g", (H, 1), ir.GRAD)
    expr = ir.add(W @ h, ir.apply("step", v))
    shares = vjp(expr, g)
    assert list(shares) == [W, h]
    assert shares[h] == ir.transpose(W) @ g


def test_the_vjp_of_a_row_block_pads_exactly_the_missing_rows():
    """rules.py _rows: ``total - stop != 0`` → ``!= 1`` (pad dropped) or ``!= -1`` (an empty block added)."""
    a = ir.var("a", (3, 1))
    g2 = ir.var("g", (2, 1), ir.GRAD)
    (top,) = vjp(ir.rows(a, 0, 2), g2).values()
    assert top.shape == a.shape and top == ir.concat(g2, ir.zeros((1, 1), True))
    (bottom,) = vjp(ir.rows(a, 1, 3), g2).values()
    assert bottom == ir.concat(ir.zeros((1, 1), True), g2)
    g3 = ir.var("g", (3, 1), ir.GRAD)
    assert vjp(ir.rows(a, 0, 3), g3)[a] == g3


def test_the_vjp_of_a_product_of_two_scalars_is_a_product_not_a_matrix_product():
    """rules.py _mul: ``b.shape != scalar`` → ``b.shape >= scalar`` (1×1 times 1×1 written bᵀ g)."""
    t = ir.var("t", (1, 1))
    g = ir.var("g", (1, 1), ir.GRAD)
    shares = vjp(s * t, g)
    assert shares[s] == g * t and shares[t] == g * s
