"""The one evaluator: a rule per IR op, three arithmetics that agree, and the BPTT driver."""

import warnings

import numpy as np
import pytest
import sympy

import symrnn
from symrnn import evaluate, ir
from symrnn.evaluate import (
    EXACT,
    FLOAT64,
    MPMATH,
    RULES,
    Evaluator,
    Problem,
    Unsupported,
    grads_to_code,
    problem_from_code,
    run_backward,
    run_forward,
)
from symrnn.functions import FUNCTIONS
from symrnn.problems import random_problem

H, IN = ir.HIDDEN, ir.INPUT
SIZES = {ir.HIDDEN: 3, ir.INPUT: 2, ir.OUTPUT: 2}
BATCH = 2

W = ir.var("W", (H, H), ir.PARAM)
U = ir.var("U", (H, IN), ir.PARAM)
b = ir.var("b", (H, 1), ir.PARAM)
h = ir.var("h", (H, 1), ir.STATE, -1)
g = ir.var("g", (H, 1), ir.VALUE, 0)
x = ir.var("x", (IN, 1), ir.INPUT_KIND, 0)
s = ir.var("s", (1, 1), ir.VALUE, 0)

# One expression per IR op, each with that op at its root.
OP_CASES = {
    "var": h,
    "zeros": ir.zeros((H, 1)),
    "matmul": W @ h,
    "add": h + g,
    "sub": h - g,
    "mul": s * h,
    "div": h / (ir.apply("exp", g)),
    "scale": ir.scale(sympy.Rational(-3, 7), h),
    "one_minus": 1 - h,
    "apply": ir.apply("tanh", h),
    "concat": ir.concat(h, x),
    "rows": ir.rows(ir.concat(h, x), 1, H + 1),
    "transpose": ir.transpose(h),
    "broadcast": ir.broadcast(b),
    "batch_sum": ir.batch_sum(h @ x.T),
    "softmax": ir.softmax(U @ x),
}


def _leaves(seed=0, scale=1):
    """Small random rationals for every leaf of OP_CASES, exact, in the evaluator's layout."""
    rng = np.random.default_rng(seed)
    ev = Evaluator(FLOAT64, SIZES, {}, batch=BATCH)
    out = {}
    for node in (W, U, b, h, g, x, s):
        ints = rng.integers(-9, 10, ev.shape(node))
        out[node] = np.vectorize(lambda v: sympy.Rational(int(v), 7 * scale), otypes=[object])(ints)
    return out


def _evaluate(node, arith, leaves):
    bound = {k: arith.array(v) for k, v in leaves.items()}
    return Evaluator(arith, SIZES, bound, batch=BATCH).value(node)


def test_there_is_one_rule_per_ir_op_and_one_test_row_per_rule():
    assert set(RULES) == set(ir.OPS)
    assert set(OP_CASES) == set(ir.OPS)
    assert all(node.op == op for op, node in OP_CASES.items())


@pytest.mark.parametrize("op", ir.OPS)
def test_every_op_agrees_in_float64_mpmath_and_exact_arithmetic(op):
    node = OP_CASES[op]
    leaves = _leaves(seed=ir.OPS.index(op))
    exact = _evaluate(node, EXACT, leaves)
    precise = _evaluate(node, MPMATH, leaves)
    fast = _evaluate(node, FLOAT64, leaves)
    rows, cols = (int(sympy.sympify(d).subs(SIZES)) for d in node.shape)
    assert exact.shape == precise.shape == fast.shape == ((BATCH, rows, cols) if node.batched else (rows, cols))
    assert fast.dtype == np.float64 and precise.dtype == object and exact.dtype == object
    exact_values = np.vectorize(lambda v: sympy.N(v, 50), otypes=[object])(exact)
    assert not any(sympy.sympify(v).free_symbols for v in exact.flat)
    assert (
        max(
            (abs(float(a - sympy.Float(str(p), 50))) for a, p in zip(exact_values.flat, precise.flat, strict=True)),
            default=0,
        )
        < 1e-35
    )
    np.testing.assert_allclose(fast, exact_values.astype(float), rtol=1e-14, atol=1e-15)
    assert MPMATH.close(MPMATH.array(exact), precise)[0]
    assert FLOAT64.close(FLOAT64.array(exact), fast)[0]


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if n != "step"])
def test_every_table_function_agrees_in_the_three_arithmetics(name):
    values = np.array([[sympy.Rational(k, 4)] for k in range(1, 9)], dtype=object)  # positive: log, reciprocal
    values = np.concatenate([values, -values]) if name not in ("log", "reciprocal") else values
    exact = EXACT.function(name)(values)
    precise = MPMATH.function(name)(MPMATH.array(values))
    fast = FLOAT64.function(name)(FLOAT64.array(values))
    for e, p, f in zip(exact.flat, precise.flat, fast.flat, strict=True):
        reference = sympy.N(e, 50)
        assert abs(float(reference - sympy.Float(str(p), 50))) < 1e-35
        assert abs(float(reference) - f) <= 1e-15 * max(1.0, abs(f))


def test_step_is_zero_at_and_below_zero_and_one_above():
    values = np.array([-2.0, 0.0, 3.0])
    assert FLOAT64.function("step")(values).tolist() == [0.0, 0.0, 1.0]
    assert [float(v) for v in MPMATH.function("step")(MPMATH.array(values))] == [0.0, 0.0, 1.0]


def test_float64_sigmoid_is_stable_and_accurate_for_large_arguments():
    values = np.array([-800.0, -60.0, -50.0, 50.0, 60.0, 800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would raise here
        fast = FLOAT64.function("sigmoid")(values)
    precise = MPMATH.function("sigmoid")(MPMATH.array(values))
    for f, p in zip(fast, precise, strict=True):
        p = float(p)
        assert np.isfinite(f) and 0.0 <= f <= 1.0
        assert abs(f - p) <= 1e-15 * p or (p < 1e-300 and f == 0.0)
    assert fast[2] > 0  # σ(−50) ≈ 1.9e-22, not rounded to 0


def test_mpmath_arithmetic_has_40_digits_whatever_the_global_precision():
    import mpmath

    with mpmath.workdps(5):
        third = MPMATH.number(sympy.Rational(1, 3))
        assert abs(sympy.Float(str(third * 3), 45) - 1) < sympy.Float("1e-38")
        near, far = (MPMATH.array([[third + MPMATH.number(sympy.Rational(1, 10**k))]]) for k in (30, 20))
        assert MPMATH.close(MPMATH.array([[third]]), near)[0] is True  # below rtol 1e-25: rounding
        assert MPMATH.close(MPMATH.array([[third]]), far)[0] is False


def test_a_generic_function_is_symbolic_in_exact_arithmetic_and_unsupported_in_numbers():
    f_of_h = ir.apply("f", h)
    leaves = _leaves()
    exact = _evaluate(f_of_h, EXACT, leaves)
    assert exact.flat[0] == sympy.Function("f")(leaves[h].flat[0])
    for arith in (FLOAT64, MPMATH):
        with pytest.raises(Unsupported, match="'f'"):
            _evaluate(f_of_h, arith, leaves)


def test_the_evaluator_names_a_leaf_bound_in_the_wrong_layout_and_a_missing_size():
    with pytest.raises(ValueError, match=r"h_\(t-1\) \(state\) has shape \(3, 1\); expected \(2, 3, 1\)"):
        Evaluator(FLOAT64, SIZES, {h: np.zeros((3, 1))}, batch=2).value(h)
    with pytest.raises(Unsupported, match="no size given for input_size"):
        Evaluator(FLOAT64, {"hidden_size": 3}, {}).value(ir.zeros((IN, 1)))
    with pytest.raises(KeyError, match="no value bound for x_t"):
        Evaluator(FLOAT64, SIZES, {}).value(x)
    with pytest.raises(Unsupported, match="no rule for the op 'diag'"):
        Evaluator(FLOAT64, SIZES, {}).value(ir.Node("diag", (ir.zeros((H, 1)),), (), (H, H)))


def test_sizes_by_name_a_leaf_callable_and_extra_rules():
    seen = []

    def leaf(node):
        seen.append(node.name)
        return np.full((1, 3, 1), 2.0)

    twice = ir.Node("twice", (h,), (), h.shape)
    ev = Evaluator(FLOAT64, {"hidden_size": 3}, leaf, rules={**RULES, "twice": lambda ev, n, a: 2 * a})
    assert ev.value(twice + h).tolist() == [[[6.0], [6.0], [6.0]]]
    assert seen == ["h"]  # memoised: the leaf is asked once


# ---------------------------------------------------------------- BPTT


def _problem(d, steps=3, batch=2, seed=1):
    params, xs, ys, initial = random_problem(
        d, hidden_size=3, input_size=2, output_size=2, steps=steps, batch=batch, seed=seed
    )
    return problem_from_code(d, params, xs, ys, initial, SIZES), (params, xs, ys, initial)


@pytest.mark.parametrize("loss", ["softmax_ce", "bce", "mse"])
@pytest.mark.parametrize("cell", symrnn.cells())
def test_the_bptt_driver_equals_the_generated_code(cell, loss):
    d = symrnn.derive(cell, loss)
    problem, code_problem = _problem(d)
    tape = run_forward(d, problem, FLOAT64)
    grads = grads_to_code(d, run_backward(tape))
    loss_value, expected = d.numpy().loss_and_grads(*code_problem)
    assert abs(float(tape.loss) - float(loss_value)) < 1e-10
    assert set(grads) == set(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(grads[name], value, rtol=1e-9, atol=1e-12, err_msg=name)


def _mp_problem(d, steps=3):
    problem, _ = _problem(d, steps=steps, batch=1, seed=4)
    return problem


EPS = sympy.Rational(1, 10**15)


def _central_difference(objective, problem, name, index, eps=EPS):
    """d objective / d problem.params[name][index] at 40 digits (error ~ eps² ≈ 1e-30)."""
    values = []
    for sign in (1, -1):
        params = {k: MPMATH.array(v) for k, v in problem.params.items()}
        params[name][index] = params[name][index] + sign * MPMATH.number(eps)
        values.append(
            objective(
                Problem(
                    problem.sizes,
                    problem.steps,
                    params,
                    problem.inputs,
                    problem.targets,
                    problem.initial,
                    problem.batch,
                )
            )
        )
    return (values[0] - values[1]) / (2 * MPMATH.number(eps))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_loss_steps_differentiates_the_loss_of_the_last_step_only(cell):
    d = symrnn.derive(cell)
    problem = _mp_problem(d)
    T = problem.steps
    grads = run_backward(run_forward(d, problem, MPMATH), loss_steps={T})

    def last_loss(p):
        return run_forward(d, p, MPMATH).values[("L", T)].sum()

    for name in ("W_y", next(iter(d.cell.params))):
        numeric = _central_difference(last_loss, problem, name, (0, 0))
        assert abs(grads.params[name][0, 0] - numeric) < 1e-25, name
    whole = run_backward(run_forward(d, problem, MPMATH)).params["W_y"]
    assert abs(grads.params["W_y"][0, 0] - whole[0, 0]) > 1e-6  # the earlier losses count in J


def test_seeds_give_rows_of_a_jacobian_and_first_holds_the_earlier_state_fixed():
    d = symrnn.derive("gru")
    problem = _mp_problem(d, steps=2)
    tape = run_forward(d, problem, MPMATH)
    unit = MPMATH.zeros((1, 3, 1))
    unit[0, 1, 0] = MPMATH.number(1)
    total = run_backward(tape, loss_steps=(), seeds={("h", 2): unit})
    name = next(iter(d.cell.params))

    def h2(p):
        return run_forward(d, p, MPMATH).values[("h", 2)][0, 1, 0]

    assert abs(total.params[name][0, 0] - _central_difference(h2, problem, name, (0, 0))) < 1e-25
    # One step only: ∂h_2/∂h_1 with h_1 held fixed is the immediate Jacobian; δh_1 is its row.
    immediate = run_backward(tape, loss_steps=(), seeds={("h", 2): unit}, first=2)
    assert set(immediate.initial) == set(d.cell.states)
    np.testing.assert_array_equal(immediate.initial["h"], total.values[("h", 1)])
    assert ("h", 1) not in immediate.values or immediate.values[("h", 1)] is immediate.initial["h"]


def test_upstream_gradients_replace_the_loss():
    d = symrnn.derive("lstm")
    problem = _mp_problem(d, steps=2)
    rng = np.random.default_rng(0)
    deltas = [MPMATH.array(rng.standard_normal((1, 3, 1))) for _ in range(problem.steps)]
    grads = run_backward(run_forward(d, problem, MPMATH), upstream={"h": deltas})

    def outer(p):  # Σ_t ⟨Δ_t, h_t⟩: the objective whose gradient is asked for
        tape = run_forward(d, p, MPMATH)
        return sum((deltas[t - 1] * tape.values[("h", t)]).sum() for t in range(1, p.steps + 1))

    for name in ("W_hf", "b_i"):
        numeric = _central_difference(outer, problem, name, (1, 0))
        assert abs(grads.params[name][1, 0] - numeric) < 1e-25, name
    assert all(abs(v) == 0 for v in grads.params["W_y"].flat)  # no loss: the readout gets nothing


def test_backward_options_are_checked():
    d = symrnn.derive("rnn")
    problem, _ = _problem(d)
    tape = run_forward(d, problem)
    with pytest.raises(ValueError, match="a seed for q"):
        run_backward(tape, seeds={("q", 1): np.zeros((2, 3, 1))})
    with pytest.raises(ValueError, match="has shape \\(3, 1\\); expected \\(2, 3, 1\\)"):
        run_backward(tape, seeds={("h", 1): np.zeros((3, 1))})
    with pytest.raises(ValueError, match="2 given for T = 3"):
        run_backward(tape, upstream={"h": [np.zeros((2, 3, 1))] * 2})
    no_targets = Problem(problem.sizes, problem.steps, problem.params, problem.inputs, None, problem.initial, 2)
    forward_only = run_forward(d, no_targets)
    assert forward_only.loss is None and ("L", 1) not in forward_only.values
    with pytest.raises(ValueError, match="no targets"):
        run_backward(forward_only)


def test_the_evaluator_module_imports_nothing_above_its_layer():
    import ast
    import pathlib

    imported = set()
    for path in sorted(pathlib.Path(evaluate.__file__).parent.glob("*.py")):  # the package's modules
        tree = ast.parse(path.read_text())
        imported |= {
            alias.name if isinstance(n, ast.Import) else n.module
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for alias in (n.names if isinstance(n, ast.Import) else [None])
        }
    symrnn_modules = {m for m in imported if m and m.startswith("symrnn") and not m.startswith("symrnn.evaluate")}
    assert symrnn_modules <= {"symrnn", "symrnn.functions", "symrnn.ir"}
