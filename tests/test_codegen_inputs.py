"""Generated code under odd problems and bad values: targets, empty problems, parameter values,
float32 loss values (issue 17), and the size-chosen tanh (issue 19)."""

import numpy as np
import pytest
import torch

import symrnn
from symrnn.problems import random_problem
from tests.helpers import max_rho

_D = {}


def lstm():
    if not _D:
        d = symrnn.derive("lstm")
        _D["lstm"] = (d, d.numpy(optimize=False), d.numpy())
    return _D["lstm"]


BACKENDS = ["plain", "optimised"]


def module(name):
    d, plain, fast = lstm()
    return plain if name == "plain" else fast


def _problem(output_size=3, **kw):
    d, _, _ = lstm()
    return random_problem(d, hidden_size=4, input_size=3, output_size=output_size, steps=3, batch=2, **kw)


@pytest.mark.parametrize("backend", BACKENDS)
def test_soft_targets_summing_to_one_agree_with_torch_autograd(backend):
    d, _, _ = lstm()
    params, xs, _, initial = _problem(seed=4)
    rng = np.random.default_rng(4)
    ys = rng.uniform(0.1, 1.0, (3, 2, 3))
    ys /= ys.sum(axis=2, keepdims=True)
    loss, grads = module(backend).loss_and_grads(params, xs, ys, initial)
    # the same loss written in torch ops, differentiated by autograd (independent of symrnn)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    h = torch.tensor(initial["h"], requires_grad=True)
    c = torch.tensor(initial["c"], requires_grad=True)
    h_prev, c_prev, total = h, c, 0
    for t in range(3):
        x = torch.tensor(xs[t])

        def gate(k, f, x=x, h_prev=h_prev):
            return f(x @ p[f"W_x{k}"].T + h_prev @ p[f"W_h{k}"].T + p[f"b_{k}"])

        i, f, g, o = gate("i", torch.sigmoid), gate("f", torch.sigmoid), gate("g", torch.tanh), gate("o", torch.sigmoid)
        c_prev = f * c_prev + i * g
        h_prev = o * torch.tanh(c_prev)
        logits = h_prev @ p["W_y"].T + p["b_y"]
        total = total - (torch.tensor(ys[t]) * torch.log_softmax(logits, dim=1)).sum()
    total.backward()
    assert max_rho(loss, float(total)) < 1e-12
    for k, v in p.items():
        assert max_rho(grads[k], v.grad.numpy()) < 1e-10, k
    assert max_rho(grads["h_0"], h.grad.numpy()) < 1e-10 and max_rho(grads["c_0"], c.grad.numpy()) < 1e-10


@pytest.mark.parametrize("backend", BACKENDS)
def test_softmax_ce_loss_is_exact_for_confident_float32_predictions(backend):
    d = symrnn.derive("rnn")
    m = d.numpy(optimize=backend == "optimised")
    params = d.init_params(hidden_size=2, input_size=1, output_size=2, dtype="float32")
    params = {k: np.zeros_like(v) for k, v in params.items()}
    params["b_y"] = np.array([8.3, 0.0], np.float32)  # logits (8.3, 0) at every step
    xs = np.zeros((50, 20, 1), np.float32)  # 1000 confident, right predictions
    ys = np.zeros((50, 20, 2), np.float32)
    ys[..., 0] = 1
    exact = 1000 * np.log1p(np.exp(-8.3))  # 1000 × -log softmax(8.3, 0)_0 = 0.2485
    loss, _ = m.loss_and_grads(params, xs, ys)
    assert loss.dtype == np.float32
    assert abs(float(loss) - exact) < 1e-3 * exact
    assert abs(float(m.loss(params, xs, ys)) - exact) < 1e-3 * exact


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("steps, batch", [(0, 2), (3, 0), (0, 0)])
def test_empty_problems_give_zeros(backend, steps, batch):
    d, _, _ = lstm()
    params = d.init_params(hidden_size=4, input_size=3, output_size=3)
    xs, ys = np.zeros((steps, batch, 3)), np.zeros((steps, batch, 3))
    loss, grads = module(backend).loss_and_grads(params, xs, ys)
    assert loss == 0 and set(grads) == set(params) | {"h_0", "c_0"}
    for k, g in grads.items():
        assert g.shape == (params[k].shape if k in params else (batch, 4)) and not g.any(), k


@pytest.mark.parametrize("backend", BACKENDS)
def test_input_size_zero_runs_the_recurrence(backend):
    d, plain, _ = lstm()
    params = d.init_params(hidden_size=4, input_size=1, output_size=3, seed=2)
    params = {k: v[:, :0] if k.startswith("W_x") else v for k, v in params.items()}
    xs, ys = np.zeros((3, 2, 0)), np.eye(3)[[[0, 1], [2, 0], [1, 1]]]
    loss, grads = module(backend).loss_and_grads(params, xs, ys)
    want_loss, want = plain.loss_and_grads(params, xs, ys)
    assert loss > 0 and max_rho(loss, want_loss) < 1e-12
    assert all(max_rho(grads[k], want[k]) < 1e-12 for k in want)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "value, error, got",
    [
        (None, TypeError, "got None"),
        (1.0, TypeError, "got 1.0"),
        ("abc", TypeError, "got 'abc'"),
        (np.zeros((4, 4), complex), TypeError, "got a complex128 array"),
        (np.zeros((4, 4), int), TypeError, "got a int64 array"),
        (np.zeros(4), ValueError, r"has shape \(4,\); expected \(hidden_size, hidden_size\)"),
    ],
)
def test_bad_parameter_values_name_the_parameter_and_its_shape(backend, value, error, got):
    params, xs, ys, initial = _problem()
    with pytest.raises(error, match=rf"parameter 'W_hf' .*{got}"):
        module(backend).loss_and_grads(dict(params, W_hf=value), xs, ys, initial)
    if error is TypeError:
        with pytest.raises(error, match=r"real floating-point array of shape \(hidden_size, hidden_size\)"):
            module(backend).loss(dict(params, W_hf=value), xs, ys, initial)


def test_complex_initial_state_is_refused():
    params, xs, ys, initial = _problem()
    with pytest.raises(TypeError, match="initial state 'h' must be a real floating-point array"):
        module("optimised").loss_and_grads(params, xs, ys, dict(initial, h=initial["h"] + 1j))


def test_np_tanh_is_kept_to_smaller_arrays_in_float64_than_in_float32():
    """float64 has no SIMD tanh on the reference machine: its np.tanh range is the smaller one."""
    _, _, fast = lstm()
    entries = 1024  # between the two thresholds: np.tanh in float32, the exp form in float64
    assert fast._tanh_ufunc(entries, "float32") and not fast._tanh_ufunc(entries, "float64")
