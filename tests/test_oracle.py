"""The derivation against independent oracles at the smallest sizes, to 40+ digits."""

import pytest
import sympy

import symrnn
from symrnn.oracle import derived_gradients, mp_central_difference, random_problem, unrolled_gradients


def max_error(a, b):
    return max(abs(sympy.Float(x - y, 50)) for k in a for x, y in zip(a[k], b[k], strict=False))


@pytest.mark.parametrize("loss", ["softmax_ce", "bce", "mse"])
def test_rnn_equals_sympy_diff_of_the_unrolled_loss(loss):
    d = symrnn.derive("rnn", loss)
    problem = random_problem(d, hidden=2, input=1, output=2, steps=2, seed=3)
    J, derived = derived_gradients(d, *problem)
    J2, unrolled = unrolled_gradients(d, *problem)
    assert set(derived) == set(unrolled)
    assert abs(J - J2) < sympy.Float("1e-40")
    assert max_error(derived, unrolled) < sympy.Float("1e-40")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_equal_a_50_digit_central_difference(cell):
    d = symrnn.derive(cell)
    problem = random_problem(d, hidden=2, input=2, output=2, steps=2, seed=5)
    _, derived = derived_gradients(d, *problem)
    numeric = mp_central_difference(d, *problem)
    assert max_error(derived, numeric) < sympy.Float("1e-40")
