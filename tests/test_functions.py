"""Every element-wise function's derivative (written in forward values) equals SymPy's."""

import pytest
import sympy

from symrnn import ir
from symrnn.evaluate import example_value
from symrnn.functions import FUNCTIONS, function_spec


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
    d = spec.derivative(x, y)
    for point in (0.3, 0.7, 1.9):
        expected = sympy.diff(spec.sympy_fn(u), u).subs(u, point)
        env = {x: sympy.Matrix([[point]])}
        got = 1 if d is None else evaluate(d, env, SIZES)[0]
        assert abs(float(expected) - float(got)) < 1e-12, (name, point)


def test_generic_function_keeps_its_derivative_symbolic():
    spec = function_spec("f")
    x = ir.var("x", (ir.HIDDEN, 1))
    d = spec.derivative(x, ir.apply("f", x))
    assert d.op == "apply" and d.attrs == ("f'",)
    assert function_spec("f'").latex == "f'"


def test_unknown_function_lists_the_known_ones():
    with pytest.raises(KeyError, match="sigmoid"):
        function_spec("sigmod")
