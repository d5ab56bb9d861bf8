"""symrnn.testing: a user's own implementation checked against the derivation, failures shrunk."""

import numpy as np
import pytest
from hypothesis import given, settings

from symrnn.testing import MismatchError, assert_matches, problems
from tests.layers.layer_reference import vjp


def elman(params, xs, initial_state, mask, grad_outputs, grad_final, *, bug=False):
    """A hand-written tanh RNN (h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)) and its BPTT."""
    W_hh, W_xh, b = params["W_hh"], params["W_xh"], params["b_h"]
    T = xs.shape[0]
    m = np.ones(xs.shape[:2]) if mask is None else mask
    hs, h = [initial_state["h"]], initial_state["h"]
    for t in range(T):
        new = np.tanh(h @ W_hh.T + xs[t] @ W_xh.T + b)
        h = m[t][:, None] * new + (1 - m[t][:, None]) * h
        hs.append(h)
    outputs = np.stack([m[t][:, None] * hs[t + 1] for t in range(T)]) if T else np.zeros((0, *h.shape))
    grads = {"W_hh": np.zeros_like(W_hh), "W_xh": np.zeros_like(W_xh), "b_h": np.zeros_like(b)}
    dxs, carry = np.zeros_like(xs), grad_final["h"]
    for t in range(T - 1, -1, -1):
        mt = m[t][:, None]
        dh = mt * (grad_outputs[t] + carry)
        new = np.tanh(hs[t] @ W_hh.T + xs[t] @ W_xh.T + b)
        da = dh * (1 - new**2)
        grads["W_hh"] += da.T @ (hs[t + 1] if bug else hs[t])  # the bug: h_t where h_{t-1} is needed
        grads["W_xh"] += da.T @ xs[t]
        grads["b_h"] += da.sum(axis=0)
        dxs[t] = da @ W_xh
        carry = da @ W_hh + (1 - mt) * carry
    return outputs, {**grads, "xs": dxs, "h_0": carry}


def test_a_correct_implementation_passes():
    assert_matches(elman, "rnn", max_examples=30)


def test_a_broken_implementation_is_shrunk_to_the_smallest_problem_that_shows_it():
    with pytest.raises(MismatchError) as failure:
        assert_matches(lambda *a: elman(*a, bug=True), "rnn", max_examples=30)
    message = str(failure.value)
    assert "grads['W_hh'][0, 0]" in message, message
    assert "hidden_size=1, input_size=1, T=1, batch=1" in message, message


def test_a_torch_autograd_implementation_of_the_lstm_passes():
    def by_autograd(params, xs, initial, mask, grad_outputs, grad_final):
        out, _, grads = vjp("lstm", params, xs, initial, grad_outputs, grad_final, mask)
        return out, grads

    assert_matches(by_autograd, "lstm", max_examples=10, max_size=3, max_steps=3)


@settings(max_examples=10, deadline=None)
@given(problems("gru", max_size=2, max_steps=3, min_batch=2, max_batch=2))
def test_problems_respect_their_bounds(problem):
    assert problem.sizes["hidden_size"] <= 2 and 1 <= problem.xs.shape[0] <= 3 and problem.xs.shape[1] == 2
    assert set(problem.params) == {"W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h"}
    if problem.mask is not None:
        assert set(np.unique(problem.mask)) <= {0.0, 1.0} and problem.mask[0].all()
