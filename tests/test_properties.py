"""Property tests: generated gradients agree with central differences (ρ ≤ 1e-6, float64)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import symrnn
from symrnn.problems import random_problem
from tests.helpers import worst_mismatch

CORE = ["rnn", "lstm", "gru"]
_COMPILED = {}


def compiled(cell, loss):
    if (cell, loss) not in _COMPILED:
        d = symrnn.derive(cell, loss)
        _COMPILED[cell, loss] = (d, d.numpy())
    return _COMPILED[cell, loss]


def property_holds(d, module, sizes, seed):
    hidden, inp, out, steps, batch = sizes
    params, xs, ys, initial = random_problem(
        d, hidden_size=hidden, input_size=inp, output_size=out, steps=steps, batch=batch, seed=seed
    )
    return worst_mismatch(module, list(d.cell.states), params, initial, xs, ys)


sizes = st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.integers(1, 3))


@pytest.mark.parametrize("loss", ["softmax_ce", "bce", "mse"])
@pytest.mark.parametrize("cell", CORE)
@given(sizes=sizes, seed=st.integers(0, 2**16))
def test_generated_gradients_match_finite_differences(cell, loss, sizes, seed):
    d, module = compiled(cell, loss)
    worst, name, index = property_holds(d, module, sizes, seed)
    assert worst <= 1e-6, f"{cell}/{loss}: ∂J/∂{name}{index} off by ρ = {worst:.3g}"
