"""The one function table: derivatives equal SymPy's, every row has what every consumer reads."""

import mpmath
import numpy as np
import pytest
import sympy

from symrnn import Cell, derive, ir
from symrnn.activations import exp, sigmoid
from symrnn.evaluate import example_value
from symrnn.functions import FUNCTIONS, function_spec, numeric
from symrnn.ir import HIDDEN, INPUT


def evaluate(node, env, sizes) -> sympy.Matrix:
    """One example's value, exact, as a SymPy matrix (the one evaluator, symrnn.evaluate)."""
    return sympy.Matrix(example_value(node, env, sizes))


SIZES = {ir.HIDDEN: 1}


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if n != "step"])
def test_derivative_matches_sympy(name):
    spec = FUNCTIONS[name]
    u = sympy.Symbol("u")
    x = ir.var("x", (ir.HIDDEN, 1))
    y = ir.apply(name, x)
    d = ir.derivative(name, x, y)
    for point in (0.3, 0.7, 1.9):
        expected = sympy.diff(spec.sympy_fn(u), u).subs(u, point)
        env = {x: sympy.Matrix([[point]])}
        got = 1 if d is None else evaluate(d, env, SIZES)[0]
        assert abs(float(expected) - float(got)) < 1e-12, (name, point)


def test_generic_function_keeps_its_derivative_symbolic():
    assert function_spec("f").generic
    x = ir.var("x", (ir.HIDDEN, 1))
    d = ir.derivative("f", x, ir.apply("f", x))
    assert d.op == "apply" and d.attrs == ("f'",)
    assert function_spec("f'").latex == "f'"


def test_unknown_function_lists_the_known_ones():
    with pytest.raises(KeyError, match="sigmoid"):
        function_spec("sigmod")


# ---------------------------------------------------------------- the one table, complete

# What each consumer reads from a row; a row lacking one of these fails below.
CONSUMERS = {
    "IR and rules (ir.apply, ir.derivative)": ("derivative",),
    "printers (LaTeX, text)": ("latex", "text"),
    "documents (local derivatives)": ("derivative_latex",),
    "evaluator (float64, 40 digits, exact)": ("float64", "mpmath", "sympy_fn"),
    "NumPy code": ("numpy",),
    "torch code": ("torch",),
    "JAX code": ("jax",),
    "gradient bounds": ("value_range",),
    "notes reader": ("note_names",),
}
# Functions the IR needs that no note writes by name (1/x appears as a fraction).
NOT_WRITTEN_IN_NOTES = {"reciprocal"}
# Points inside every function's domain (log, reciprocal need x > 0).
POINTS = (0.3, 0.7, 1.9)


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_every_row_has_what_every_consumer_reads(name, consumer):
    spec = FUNCTIONS[name]
    for column in CONSUMERS[consumer]:
        if column == "note_names" and name in NOT_WRITTEN_IN_NOTES:
            continue
        if column == "derivative":
            continue  # None is a value (φ' = 1); checked against SymPy above
        value = getattr(spec, column)
        assert value not in (None, ()), f"{name} lacks {column!r}, which the {consumer} needs"
        if column in ("numpy", "torch", "jax"):
            assert "{0}" in value, f"{name}'s {column} form does not use its argument"


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_number_systems_agree(name):
    """float64, 40-digit mpmath and exact SymPy columns give one function; so do their derivatives."""
    mpmath.mp.dps = 40
    u = sympy.Symbol("u")
    for order in ("", "'"):
        for point in POINTS:
            exact = sympy.diff(FUNCTIONS[name].sympy_fn(u), u, len(order)).subs(u, sympy.Rational(str(point)))
            exact = float(exact.evalf(30))
            as_float = float(numeric(name + order, "float64")(np.array([point]))[0])
            as_mp = float(numeric(name + order, "mpmath")(mpmath.mpf(str(point))))
            assert abs(as_float - exact) < 1e-12 * max(1, abs(exact)), (name + order, point)
            assert abs(as_mp - exact) < 1e-12 * max(1, abs(exact)), (name + order, point)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_range_contains_the_values(name):
    """value_range over an argument interval contains φ at sampled points of it."""
    lo, hi = 0.1, 2.5  # inside every domain
    low, high = FUNCTIONS[name].value_range(sympy.Rational(1, 10), sympy.Rational(5, 2))
    values = numeric(name, "float64")(np.linspace(lo, hi, 50))
    assert float(low) - 1e-12 <= values.min() and values.max() <= float(high) + 1e-12, name


def _cell_using(name):
    cell = Cell(f"uses-{name}", source="test", convention="test")
    x, h = cell.input("x"), cell.state("h")
    W, U = cell.weight("W", HIDDEN, HIDDEN), cell.weight("U", HIDDEN, INPUT)
    # exp(U x) > 0 keeps log and 1/x inside their domains.
    cell.let("h", sigmoid(W @ h) * ir.apply(name, exp(U @ x)))
    return cell


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if n != "step"])
def test_generated_code_spells_every_function(name):
    """The NumPy and torch code of a cell using φ agree with the table's 40-digit column."""
    import torch

    mpmath.mp.dps = 40
    d = derive(_cell_using(name), loss="mse")
    params = d.init_params(hidden_size=2, input_size=3, output_size=2, seed=1)
    xs = np.random.default_rng(0).normal(size=(1, 1, 3))
    h = d.numpy(optimize=False).forward(params, xs)["h"][-1, 0]
    U = params["U"]
    a = [sum(mpmath.mpf(float(U[i, j])) * mpmath.mpf(float(xs[0, 0, j])) for j in range(3)) for i in range(2)]
    expected = [0.5 * float(numeric(name, "mpmath")(mpmath.exp(v))) for v in a]  # σ(W h_0) = σ(0) = 1/2
    assert np.allclose(h, expected, rtol=1e-12, atol=1e-14), (name, h, expected)
    ys = np.random.default_rng(1).normal(size=(1, 1, 2))
    torch_loss = d.torch_function()({k: torch.tensor(v) for k, v in params.items()}, torch.tensor(xs), torch.tensor(ys))
    numpy_loss, grads = d.numpy(optimize=False).loss_and_grads(params, xs, ys)
    assert abs(float(torch_loss) - numpy_loss) < 1e-12 * max(1, abs(numpy_loss)), name
    fast_loss, fast_grads = d.numpy().loss_and_grads(params, xs, ys)
    assert abs(fast_loss - numpy_loss) < 1e-12 * max(1, abs(numpy_loss)), name
    for key, value in grads.items():
        assert np.allclose(fast_grads[key], value, rtol=1e-10, atol=1e-12), (name, key)


# ---------------------------------------------------------------- the optimiser's columns

# How the optimiser finishes e = 1 + e^{κa} in place (optimized.py / emitter.py), by κ: a row with
# another κ would be computed wrong, so it fails here first.
EXP_FINISH = {-1: lambda e: 1 / e, -2: lambda e: 2 / e - 1}


@pytest.mark.parametrize("name", [n for n, s in FUNCTIONS.items() if s.exp_scale is not None])
def test_exp_form_is_the_function(name):
    spec = FUNCTIONS[name]
    assert spec.exp_scale in EXP_FINISH, f"the optimiser has no in-place finish for κ = {spec.exp_scale}"
    a = np.linspace(-30, 30, 121)
    got = EXP_FINISH[spec.exp_scale](1 + np.exp(spec.exp_scale * a))
    np.testing.assert_allclose(got, spec.float64(a), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", [n for n, s in FUNCTIONS.items() if s.fast_numpy is not None])
def test_fast_numpy_call_is_the_function(name):
    import threading

    from symrnn.codegen.fast_runtime import FAST_HELPERS

    namespace = {"np": np, "threading": threading}  # what a generated module imports above them
    exec(FAST_HELPERS, namespace)  # the helpers as generated modules inline them
    spec = FUNCTIONS[name]
    for size in (8, 4096):  # both sides of np.tanh's crossover
        a = np.linspace(-30, 30, size)
        got = eval(spec.fast_numpy.format("a"), {**namespace, "a": a.copy()})
        np.testing.assert_allclose(got, spec.float64(a), rtol=1e-12, atol=1e-15)


def test_the_optimiser_reads_its_tables_from_the_rows():
    from symrnn.codegen.emitter import _FAST_FUNCTIONS
    from symrnn.codegen.plan import EXP_SCALE

    assert EXP_SCALE == {n: s.exp_scale for n, s in FUNCTIONS.items() if s.exp_scale is not None}
    assert _FAST_FUNCTIONS == {n: s.fast_numpy for n, s in FUNCTIONS.items() if s.fast_numpy is not None}
