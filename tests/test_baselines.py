"""The hand-written NumPy baselines in ``benchmarks/`` are correct.

* gradients match central finite differences (float64, small sizes) for every
  parameter and for the initial states;
* float32 in gives float32 out (no silent upcasting);
* the RNN and LSTM baselines agree with PyTorch autograd to 1e-10 (float64).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.baselines import BASELINES  # noqa: E402
from benchmarks.common import (  # noqa: E402
    cell_flops,
    interleaved_medians,
    make_problem,
    param_shapes,
    peak_memory_of,
)
from symrnn.checks import numeric_gradients  # noqa: E402
from symrnn.problems import split_initial_states, with_initial_states  # noqa: E402
from tests.helpers import max_rho  # noqa: E402

CELLS = ["rnn", "lstm", "gru"]
T, B, X, H, Y = 3, 2, 3, 4, 3


def _problem(cell, dtype="float64", seed=0, with_state=True):
    params, xs, ys = make_problem(cell, B, T, X, H, Y, dtype, seed)
    init = None
    if with_state:
        rng = np.random.default_rng(seed + 100)
        init = {"h": rng.uniform(-1, 1, (B, H)).astype(dtype)}
        if cell == "lstm":
            init["c"] = rng.uniform(-1, 1, (B, H)).astype(dtype)
    return params, xs, ys, init


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_match_finite_differences(cell, seed):
    fn = BASELINES[cell]
    params, xs, ys, init = _problem(cell, seed=seed)
    loss, grads = fn(params, xs, ys, init)
    loss_of = split_initial_states(fn, list(init))
    num = numeric_gradients(lambda p: loss_of(p, xs, ys), with_initial_states(params, init))
    expected_keys = set(params) | {"h_0"} | ({"c_0"} if cell == "lstm" else set())
    assert set(grads) == expected_keys
    assert set(num) == expected_keys
    for name in expected_keys:
        assert grads[name].shape == num[name].shape, name
        assert max_rho(grads[name], num[name]) <= 1e-6, (name, max_rho(grads[name], num[name]))


@pytest.mark.parametrize("cell", CELLS)
def test_loss_matches_direct_formula(cell):
    """Independent, naive per-example forward pass (column vectors, explicit loop)."""
    params, xs, ys, init = _problem(cell, seed=3)
    loss, _ = BASELINES[cell](params, xs, ys, init)

    def sig(a):
        return 1.0 / (1.0 + np.exp(-a))

    p = params
    total = 0.0
    for b in range(B):
        h = init["h"][b]
        c = init["c"][b] if cell == "lstm" else None
        for t in range(T):
            x = xs[t, b]
            if cell == "rnn":
                h = np.tanh(p["W_hh"] @ h + p["W_xh"] @ x + p["b_h"])
            elif cell == "lstm":
                gate = {k: p[f"W_x{k}"] @ x + p[f"W_h{k}"] @ h + p[f"b_{k}"] for k in "figo"}
                f, i, o = sig(gate["f"]), sig(gate["i"]), sig(gate["o"])
                c = f * c + i * np.tanh(gate["g"])
                h = o * np.tanh(c)
            else:
                z = sig(p["W_xz"] @ x + p["W_hz"] @ h + p["b_z"])
                r = sig(p["W_xr"] @ x + p["W_hr"] @ h + p["b_r"])
                ht = np.tanh(p["W_xh"] @ x + p["W_hh"] @ (r * h) + p["b_h"])
                h = (1 - z) * h + z * ht
            logits = p["W_y"] @ h + p["b_y"]
            logp = logits - np.log(np.sum(np.exp(logits)))
            total += -ys[t, b] @ logp
    assert abs(loss - total) <= 1e-12 * max(1.0, abs(total))


@pytest.mark.parametrize("cell", CELLS)
def test_none_initial_state_is_zeros(cell):
    params, xs, ys, _ = _problem(cell, with_state=False)
    zeros = {"h": np.zeros((B, H))}
    if cell == "lstm":
        zeros["c"] = np.zeros((B, H))
    l1, g1 = BASELINES[cell](params, xs, ys, None)
    l2, g2 = BASELINES[cell](params, xs, ys, zeros)
    assert l1 == l2
    for k in g1:
        np.testing.assert_array_equal(g1[k], g2[k])


@pytest.mark.parametrize("cell", CELLS)
def test_float32_stays_float32(cell):
    params, xs, ys, init = _problem(cell, dtype="float32")
    loss, grads = BASELINES[cell](params, xs, ys, init)
    assert np.asarray(loss).dtype == np.float32
    for name, g in grads.items():
        assert g.dtype == np.float32, name
    # and it is the same function as in float64, up to float32 rounding
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    i64 = {k: v.astype(np.float64) for k, v in init.items()}
    loss64, grads64 = BASELINES[cell](p64, xs.astype(np.float64), ys.astype(np.float64), i64)
    assert abs(float(loss) - loss64) <= 1e-5 * max(1.0, abs(loss64))
    for name in grads:
        assert max_rho(grads[name], grads64[name]) <= 1e-5, name


@pytest.mark.parametrize("cell", CELLS)
def test_inputs_not_modified(cell):
    params, xs, ys, init = _problem(cell)
    before = [{k: v.copy() for k, v in d.items()} for d in (params, init)] + [xs.copy(), ys.copy()]
    BASELINES[cell](params, xs, ys, init)
    for k, v in before[0].items():
        np.testing.assert_array_equal(params[k], v)
    for k, v in before[1].items():
        np.testing.assert_array_equal(init[k], v)
    np.testing.assert_array_equal(xs, before[2])
    np.testing.assert_array_equal(ys, before[3])


@pytest.mark.parametrize("cell", CELLS)
def test_workspace_reuse_is_invisible(cell):
    """Buffer reuse across calls: same results as fresh buffers, no aliasing of outputs."""
    fn = BASELINES[cell]
    params, xs, ys, init = _problem(cell, seed=11)
    l_fresh, g_fresh = fn(params, xs, ys, init, reuse_buffers=False)
    l1, g1 = fn(params, xs, ys, init)
    saved = {k: v.copy() for k, v in g1.items()}
    # another call of the same shape with different data must not touch g1
    p2, xs2, ys2, init2 = _problem(cell, seed=12)
    fn(p2, xs2, ys2, init2)
    # and a call of another shape in between
    p3, xs3, ys3 = make_problem(cell, 3, 5, 2, 3, 4, "float64", 0)
    fn(p3, xs3, ys3)
    l2, g2 = fn(params, xs, ys, init)
    assert l_fresh == l1 == l2
    for k in g1:
        np.testing.assert_array_equal(g1[k], saved[k])
        np.testing.assert_array_equal(g1[k], g_fresh[k])
        np.testing.assert_array_equal(g2[k], g_fresh[k])


def test_extreme_preactivations_are_finite():
    """exp-based activations saturate cleanly (no NaN) for huge pre-activations."""
    for cell in CELLS:
        params, xs, ys, init = _problem(cell, dtype="float32")
        big = {k: v * 1e4 for k, v in params.items()}
        loss, grads = BASELINES[cell](big, xs * 1e3, ys, init)
        assert np.isfinite(loss)
        assert all(np.all(np.isfinite(g)) for g in grads.values())


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("with_state", [True, False])
def test_matches_torch_autograd(cell, with_state):
    from benchmarks.torch_reference import torch_loss_and_grads

    params, xs, ys, init = _problem(cell, seed=7, with_state=with_state)
    loss, grads = BASELINES[cell](params, xs, ys, init)
    tloss, tgrads = torch_loss_and_grads(cell, params, xs, ys, init)
    assert abs(loss - tloss) <= 1e-10 * max(1.0, abs(tloss))
    assert set(grads) == set(tgrads)
    for name in grads:
        assert max_rho(grads[name], tgrads[name]) <= 1e-10, name


def test_torch_timing_references_run():
    import torch

    from benchmarks.torch_reference import build_torch_model, to_torch, torch_loss_and_backward

    for cell in CELLS:
        params, xs, ys, _ = _problem(cell, dtype="float32", with_state=False)
        module, readout = build_torch_model(cell, params)
        xs_t, ys_t, hx = to_torch(xs, ys)
        loss = torch_loss_and_backward(module, readout, xs_t, ys_t, hx)
        assert loss.dtype == torch.float32
        assert all(p.grad is not None for p in module.parameters())


def test_common_helpers():
    params, xs, ys = make_problem("lstm", B, T, X, H, Y, "float32", 0)
    assert {k: v.shape for k, v in params.items()} == param_shapes("lstm", X, H, Y)
    assert all(v.dtype == np.float32 for v in params.values())
    assert np.all(np.abs(params["W_hf"]) <= 1 / np.sqrt(H))
    np.testing.assert_array_equal(ys.sum(-1), 1)
    p2, xs2, ys2 = make_problem("lstm", B, T, X, H, Y, "float32", 0)
    np.testing.assert_array_equal(xs, xs2)
    N = T * B
    assert cell_flops("lstm", B, T, X, H, Y) == 2 * N * (8 * H * X + 12 * H * H + 3 * H * Y)
    assert cell_flops("gru", B, T, X, H, Y) == 2 * N * (6 * H * X + 9 * H * H + 3 * H * Y)
    assert cell_flops("rnn", B, T, X, H, Y) == 2 * N * (2 * H * X + 3 * H * H + 3 * H * Y)
    med = interleaved_medians({"a": lambda: None, "b": lambda: sum(range(100))}, repeats=5, warmup=1)
    assert set(med) == {"a", "b"} and all(v >= 0 for v in med.values())
    assert peak_memory_of(lambda: np.ones(1_000_000)) >= 8_000_000
