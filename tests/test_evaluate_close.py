"""Arithmetic.close is relative to the entries' size (a survivor of benchmarks/mutation.py).

The mutant ``rtol * scale -> rtol / scale`` survived: every other test compares values near 1,
where multiplying and dividing by the scale agree.  Here the entries are 10⁶ and 10⁻⁶.
"""

import numpy as np

from symrnn.evaluate import FLOAT64


def test_close_scales_the_tolerance_with_large_entries():
    a = np.full((2, 3), 1.0e6)
    assert FLOAT64.close(a, a * (1 + 1e-9))[0]  # 10⁻³ apart: within 10⁻⁷ of 10⁶
    assert not FLOAT64.close(a, a * (1 + 1e-6))[0]
    equal, rel = FLOAT64.close(a, a + 1.0)
    assert not equal and np.isclose(rel, 1e-6, rtol=1e-6)


def test_close_has_an_absolute_floor_of_a_thousandth_for_tiny_entries():
    tiny = np.full(4, 1e-6)
    assert FLOAT64.close(tiny, tiny + 1e-11)[0]  # 10⁻¹¹ ≤ 10⁻⁷ · 10⁻³
    equal, rel = FLOAT64.close(tiny, tiny + 1e-9)
    assert not equal and np.isclose(rel, 1e-6, rtol=1e-6)


# ---- survivors of the cosmic-ray run (benchmarks/mutation.py, issue 19): each test below fails on
# the mutant named in its docstring.

import re  # noqa: E402

import pytest  # noqa: E402
import sympy  # noqa: E402

import symrnn  # noqa: E402
from symrnn import ir  # noqa: E402
from symrnn.evaluate import EXACT, Problem, problem_from_code, run_backward, run_forward  # noqa: E402
from symrnn.problems import random_problem  # noqa: E402


def test_exact_close_compares_symbolic_entries_by_their_difference():
    """arithmetic.py _exact_close: ``x - y`` → ``x + y``."""
    x = sympy.Symbol("x")
    a = np.array([[x + 1, 2 * x], [x**2 - 1, sympy.Integer(3)]], dtype=object)
    b = np.array([[1 + x, x + x], [(x - 1) * (x + 1), sympy.Integer(3)]], dtype=object)
    assert EXACT.close(a, b)[0]
    c = b.copy()
    c[0, 1] = 2 * x + 1
    assert not EXACT.close(a, c)[0]


def _rnn_problem(batch):
    d = symrnn.derive("rnn")
    params, xs, ys, initial = random_problem(d, hidden_size=3, input_size=2, output_size=2, steps=3, batch=batch)
    sizes = {ir.HIDDEN: 3, ir.INPUT: 2, ir.OUTPUT: 2}
    return d, problem_from_code(d, params, xs, ys, initial, sizes)


def test_a_problem_is_one_example_unless_told_otherwise():
    """driver.py Problem: ``batch: int = 1`` → 0."""
    d, one = _rnn_problem(batch=1)
    default = Problem(one.sizes, one.steps, one.params, one.inputs, one.targets, one.initial)
    assert default.batch == 1
    assert float(run_forward(d, default).loss) == pytest.approx(float(run_forward(d, one).loss), rel=1e-15)


def test_a_backward_pass_may_be_empty_but_not_run_backwards():
    """driver.py run_backward: ``first <= last + 1`` → ``first <= last + 2``."""
    d, problem = _rnn_problem(batch=1)
    tape = run_forward(d, problem)
    run_backward(tape, last=1, first=2)  # no step at all: allowed
    for last, first in ((1, 3), (0, 2), (3, 5)):
        with pytest.raises(ValueError, match="a backward pass over steps"):
            run_backward(tape, last=last, first=first)
    with pytest.raises(ValueError, match="a backward pass over steps"):
        run_backward(tape, last=4)


def test_an_unbound_leaf_is_named_with_its_step():
    """evaluator.py _leaf_name: ``node.shift == 0`` → ``>= 0`` (h_{t+1} named h_t)."""
    from symrnn.evaluate import example_value

    sizes = {ir.HIDDEN: 3, ir.INPUT: 2, ir.OUTPUT: 2}
    for shift, name in ((1, "h_(t+1) (state)"), (0, "h_t (state)"), (-1, "h_(t-1) (state)")):
        with pytest.raises(KeyError, match=re.escape(f"no value bound for {name}")):
            example_value(ir.var("h", (ir.HIDDEN, 1), ir.STATE, shift), {}, sizes)
    with pytest.raises(KeyError, match=r"no value bound for W \(param\)"):
        example_value(ir.var("W", (ir.HIDDEN, 1), ir.PARAM), {}, sizes)
