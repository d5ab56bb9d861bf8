"""Each loss's closed-form ∂L/∂ȳ = ŷ − y equals the generic VJP through its formula."""

import numpy as np
import pytest
import sympy

from symrnn import ir
from symrnn.evaluate import example_value
from symrnn.losses import LOSSES
from symrnn.rules import vjp


def evaluate(node, env, sizes) -> sympy.Matrix:
    """One example's value, exact, as a SymPy matrix (the one evaluator, symrnn.evaluate)."""
    return sympy.Matrix(example_value(node, env, sizes))


SIZES = {ir.OUTPUT: 3}


@pytest.mark.parametrize("name", list(LOSSES))
def test_closed_form_gradient_equals_generic_vjp(name):
    loss = LOSSES[name]
    logits = ir.var("y_bar", (ir.OUTPUT, 1))
    y = ir.var("y", (ir.OUTPUT, 1), ir.TARGET)
    yhat = loss.predict(logits)
    L = loss.formula(yhat, y)
    generic = vjp(L, ir.var("one", (1, 1), ir.GRAD))[logits]
    closed = loss.logits_grad(yhat, y)
    rng = np.random.default_rng(0)
    for _ in range(3):
        target = rng.dirichlet(np.ones(3)) if name == "softmax_ce" else rng.uniform(0, 1, 3)
        env = {
            logits: sympy.Matrix([sympy.Float(v) for v in rng.normal(size=3)]),
            y: sympy.Matrix([sympy.Float(v) for v in target]),
            ir.var("one", (1, 1), ir.GRAD): sympy.Matrix([[1]]),
        }
        a, b = evaluate(generic, env, SIZES), evaluate(closed, env, SIZES)
        assert max(abs(float(u - v)) for u, v in zip(a, b, strict=False)) < 1e-12
