"""Derivation.torch_function(): the derived BPTT as a torch.autograd.Function."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import symrnn
from symrnn.problems import random_problem


def _tensors(arrays, requires_grad=False):
    return {k: torch.tensor(v, requires_grad=requires_grad) for k, v in arrays.items()}


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "lstm-olah", "gru-pytorch", "lstm-peephole"])
def test_gradcheck_in_float64(cell):
    d = symrnn.derive(cell)
    fn = d.torch_function()
    params, xs, ys, initial = random_problem(d, hidden_size=3, input_size=2, output_size=2, steps=3, batch=2, seed=1)
    names, states = list(params), list(initial)
    xs_t, ys_t = torch.tensor(xs), torch.tensor(ys)

    def loss(*tensors):
        return fn(
            dict(zip(names, tensors[: len(names)], strict=True)),
            xs_t,
            ys_t,
            dict(zip(states, tensors[len(names) :], strict=True)),
        )

    inputs = tuple(torch.tensor(v, requires_grad=True) for v in [*params.values(), *initial.values()])
    assert torch.autograd.gradcheck(loss, inputs)


CASES = [(cell, "softmax_ce") for cell in symrnn.cells()] + [
    (c, loss) for c in ("lstm", "gru") for loss in ("bce", "mse")
]


@pytest.mark.parametrize("cell,loss", CASES)
def test_backward_equals_the_generated_numpy(cell, loss):
    d = symrnn.derive(cell, loss)
    params, xs, ys, initial = random_problem(d, hidden_size=4, input_size=3, output_size=3, steps=4, batch=2, seed=2)
    expected_loss, expected = d.numpy().loss_and_grads(params, xs, ys, initial)
    p, s0 = _tensors(params, True), _tensors(initial, True)
    value = d.torch_function()(p, torch.tensor(xs), torch.tensor(ys), s0)
    (2 * value).backward()  # the incoming gradient scales the derived one
    assert value.item() == pytest.approx(float(expected_loss), rel=1e-12)
    for k, v in {**p, **{f"{s}_0": t for s, t in s0.items()}}.items():
        np.testing.assert_allclose(v.grad.numpy(), 2 * expected[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_float32_and_missing_initial_states():
    d = symrnn.derive("lstm")
    params, xs, ys, _ = random_problem(d, hidden_size=4, input_size=3, output_size=2, dtype="float32")
    p = _tensors(params, True)
    value = d.torch_function()(p, torch.tensor(xs), torch.tensor(ys))
    value.backward()
    assert value.dtype == torch.float32 and all(t.grad.dtype == torch.float32 for t in p.values())
    _, expected = d.numpy().loss_and_grads(params, xs, ys)
    np.testing.assert_allclose(p["W_hf"].grad.numpy(), expected["W_hf"], rtol=1e-4, atol=1e-6)


def test_bad_parameters_and_states_are_named():
    d = symrnn.derive("gru")
    fn = d.torch_function()
    params, xs, ys, _ = random_problem(d, hidden_size=4, input_size=3, output_size=2)
    p = _tensors(params)
    p["W_hz"] = torch.zeros(4, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"parameter 'W_hz' has shape \(4, 3\); expected \(hidden_size, hidden_size\)"):
        fn(p, torch.tensor(xs), torch.tensor(ys))
    with pytest.raises(ValueError, match="unknown initial state 'c'"):
        fn(_tensors(params), torch.tensor(xs), torch.tensor(ys), {"c": torch.zeros(2, 4, dtype=torch.float64)})


def test_torch_is_imported_only_by_torch_function():
    probe = "import sys, symrnn; symrnn.derive('lstm').numpy(); assert 'torch' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
