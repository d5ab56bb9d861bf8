"""The generated code's runtime helpers as real Python (symrnn/codegen/runtime/): the same text, tested.

Each helper is checked against a 40-digit mpmath reference or a plain formula, at the inputs
where a shortcut goes wrong: |x| in the hundreds (overflow), soft targets whose rows do not sum
to one, float32.  The generated modules must carry these helpers byte for byte, so what is
tested here is what users run.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import torch

import symrnn
from symrnn.codegen.runtime import MODULES, numpy_checks, numpy_fast, numpy_math, source_text, torch_helpers
from symrnn.codegen.torch_function import torch_source

MP = mpmath.MPContext()
MP.dps = 40


def _mp(f, *arrays):
    """f applied entry-wise in 40-digit arithmetic, back to float64."""
    out = np.vectorize(lambda *v: float(f(*(MP.mpf(float(a)) for a in v))), otypes=[float])
    return out(*arrays)


def _sigmoid_mp(v):
    return 1 / (1 + MP.exp(-v))


EXTREMES = np.array([[-800.0, -40.0, -1.5, 0.0], [1e-9, 2.0, 40.0, 800.0]])


# ---------------------------------------------------------------- the text is the module


@pytest.mark.parametrize("name", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("optimize", [True, False])
def test_generated_numpy_modules_carry_the_runtime_helpers_verbatim(name, optimize):
    module = symrnn.derive(name).numpy(optimize=optimize)
    source = module.__source__
    assert source_text("numpy_math") in source and source_text("numpy_checks") in source
    assert (source_text("numpy_fast") in source) == optimize
    runtime = [numpy_math, numpy_checks] + ([numpy_fast] if optimize else [])
    for helper_module in runtime:
        for fname, f in vars(helper_module).items():
            if callable(f) and getattr(f, "__module__", None) == helper_module.__name__:
                assert getattr(module, fname).__code__.co_code == f.__code__.co_code, fname


def test_generated_torch_module_carries_the_torch_helpers():
    assert source_text("torch_helpers") in torch_source(symrnn.derive("gru"))


def test_source_text_rejects_an_unknown_module():
    with pytest.raises(ValueError, match="unknown runtime module"):
        source_text("numpy_nothing")
    assert set(MODULES) == {"numpy_math", "numpy_checks", "numpy_fast", "torch_helpers"}


# ---------------------------------------------------------------- activations


def test_sigmoid_is_exact_where_exp_overflows():
    with np.errstate(over="raise", invalid="raise"):
        got = numpy_math._sigmoid(EXTREMES)
    np.testing.assert_allclose(got, _mp(_sigmoid_mp, EXTREMES), rtol=1e-15, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_sigmoid_matches_40_digits_and_keeps_the_dtype(dtype):
    x = EXTREMES.astype(dtype)
    with np.errstate(over="ignore"):
        got = numpy_fast._sigmoid_fast(x.copy())
    assert got.dtype == dtype
    rtol = 1e-15 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(got, _mp(_sigmoid_mp, x), rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype,small", [(np.float64, 256), (np.float32, 2048)])
def test_fast_tanh_is_np_tanh_up_to_the_measured_size_then_the_exp_form(dtype, small):
    """Both forms are right to rounding; which one runs is the measured choice (float32 allows more)."""
    rng = np.random.default_rng(0)
    rtol = 1e-14 if dtype == np.float64 else 1e-6
    for n in (small, small + 1):
        x = rng.uniform(-4, 4, n).astype(dtype)
        got = numpy_fast._tanh_fast(x)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, np.tanh(x.astype(np.float64)), rtol=rtol, atol=rtol)
        assert np.array_equal(got, np.tanh(x)) == (n == small), (dtype, n)
    with np.errstate(over="ignore"):  # e^{800} = inf gives the exact limit
        assert numpy_fast._tanh_fast(np.array([-400.0, 400.0] * 200)).tolist() == [-1.0, 1.0] * 200


def test_softmax_rows_sum_to_one_at_large_logits():
    z = np.array([[1000.0, 999.0, -1000.0], [0.0, 0.0, 0.0]])
    p = numpy_math._softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(p[0, :2], [1 / (1 + np.exp(-1.0)), 1 / (1 + np.exp(1.0))], rtol=1e-15)
    np.testing.assert_allclose(p[1], 1 / 3, rtol=1e-15)


# ---------------------------------------------------------------- losses, soft targets


def _ce_mp(z, y):
    total = MP.mpf(0)
    for zr, yr in zip(z, y, strict=True):
        lse = MP.log(sum(MP.exp(MP.mpf(float(v))) for v in zr))
        total += sum(MP.mpf(float(yv)) * (lse - MP.mpf(float(zv))) for zv, yv in zip(zr, yr, strict=True))
    return float(total)


SOFT = np.array([[0.2, 0.3, 0.2], [1.5, 0.0, 0.8]])  # row sums 0.7 and 2.3: not probability vectors
LOGITS = np.array([[30.0, -2.0, 0.5], [-60.0, 1.0, 2.0]])


def test_softmax_ce_with_targets_whose_rows_do_not_sum_to_one():
    assert numpy_math._softmax_ce(LOGITS, SOFT) == pytest.approx(_ce_mp(LOGITS, SOFT), rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_softmax_and_ce_uses_each_rows_target_sum(dtype):
    z, y = LOGITS.astype(dtype), SOFT.astype(dtype)
    out = np.empty_like(z)
    loss = numpy_fast._softmax_and_ce(z, y, out)
    rel = 1e-14 if dtype == np.float64 else 1e-5
    assert loss == pytest.approx(_ce_mp(LOGITS, SOFT), rel=rel)
    np.testing.assert_allclose(out, numpy_math._softmax(LOGITS), rtol=rel, atol=1e-30)


def test_sigmoid_bce_matches_40_digits_for_confident_logits():
    z = np.array([[50.0, -50.0, 0.3], [-700.0, 700.0, -0.2]])
    y = np.array([[1.0, 0.0, 0.4], [0.25, 1.0, 0.9]])

    def bce(zv, yv):
        return -(yv * MP.log(_sigmoid_mp(zv)) + (1 - yv) * MP.log(_sigmoid_mp(-zv)))  # 1 - σ(z) loses every digit

    assert numpy_math._sigmoid_bce(z, y) == pytest.approx(_mp(bce, z, y).sum(), rel=1e-14)


def test_squared_error_is_half_the_sum_of_squares():
    assert numpy_math._squared_error(np.array([[1.0, -2.0]]), np.array([[0.5, 1.0]])) == 0.5 * (0.25 + 9.0)


# ---------------------------------------------------------------- stacked weights and workspaces


def test_stack_scales_each_block():
    a, b, c = np.ones((2, 3)), 2 * np.ones((1, 3)), 3 * np.ones((2, 3))
    out = numpy_fast._stack([a, b, c], [1, -1, 2])
    np.testing.assert_array_equal(out, np.concatenate([a, -b, 2 * c]))
    np.testing.assert_array_equal(a, 1.0)  # the inputs are not scaled in place


def test_gates_stack_transposed_blocks_and_biases():
    rng = np.random.default_rng(1)
    w1, w2, b1, b2 = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4), np.ones(4)
    np.testing.assert_array_equal(numpy_fast._gates([w1, w2], [1, -2]), np.stack([w1.T, -2 * w2.T]))
    with_bias = numpy_fast._gates_with_bias([w1, w2], [b1, b2], [-1, 1])
    np.testing.assert_array_equal(with_bias, np.stack([-np.vstack([w1.T, b1]), np.vstack([w2.T, b2])]))


def test_workspace_reuses_buffers_per_shape_and_dtype_and_keeps_at_most_four():
    numpy_fast.clear_workspace()
    first = numpy_fast._workspace("k", np.float64, {"a": (2, 3)})
    assert first["a"].shape == (2, 3) and first["a"].dtype == np.float64
    assert numpy_fast._workspace("k", np.float64, {"a": (2, 3)})["a"] is first["a"]
    assert numpy_fast._workspace("k", np.float32, {"a": (2, 3)})["a"] is not first["a"]
    for n in range(5):
        numpy_fast._workspace("k", np.float64, {"a": (n + 3, 1)})
    assert numpy_fast._workspace("k", np.float64, {"a": (2, 3)})["a"] is not first["a"]  # evicted
    assert len(numpy_fast._WORKSPACE.cache) == 4
    numpy_fast.clear_workspace()
    assert numpy_fast._WORKSPACE.cache == {}


# ---------------------------------------------------------------- argument checks


@pytest.fixture
def parameters(monkeypatch):
    monkeypatch.setattr(numpy_checks, "PARAMETERS", {"W": "(hidden_size, input_size)", "b": "(hidden_size,)"})


def test_checks_name_the_parameter_and_the_expected_shape(parameters):
    xs, expected = np.zeros((2, 1, 3)), {"W": (4, 3), "b": (4,)}
    good = {"W": np.zeros((4, 3)), "b": np.zeros(4)}
    assert numpy_checks._check(good, xs, None, None, {}, expected, ("h",)) == np.float64
    with pytest.raises(ValueError, match=r"missing parameter 'b'; expected \(hidden_size,\)"):
        numpy_checks._check({"W": good["W"]}, xs, None, None, {}, expected, ("h",))
    with pytest.raises(ValueError, match=r"'W' has shape \(3, 4\); expected \(hidden_size, input_size\) = \(4, 3\)"):
        numpy_checks._check({**good, "W": np.zeros((3, 4))}, xs, None, None, {}, expected, ("h",))
    with pytest.raises(TypeError, match="'b' must be a real floating-point array"):
        numpy_checks._check({**good, "b": np.zeros(4, int)}, xs, None, None, {}, expected, ("h",))
    with pytest.raises(ValueError, match="unknown parameter 'V'"):
        numpy_checks._check({**good, "V": np.zeros(1)}, xs, None, None, {}, expected, ("h",))
    with pytest.raises(ValueError, match=r"ys has shape \(2, 1, 5\); expected \(T, batch, output_size\) = \(2, 1, 6\)"):
        numpy_checks._check(good, xs, np.zeros((2, 1, 5)), None, {"output_size": 6}, expected, ("h",))
    with pytest.raises(ValueError, match=r"unknown initial state 'c'; states are \['h'\]"):
        numpy_checks._check(good, xs, None, {"c": np.zeros((1, 4))}, {}, expected, ("h",))


def test_inputs_and_initial_states_are_checked_and_cast():
    with pytest.raises(ValueError, match="xs must be a floating-point array"):
        numpy_checks._as_array(np.zeros((2, 3), int), "xs", 3)
    assert numpy_checks._initial(None, "h", 2, 3, np.float32).dtype == np.float32
    cast = numpy_checks._initial({"h": np.ones((2, 3))}, "h", 2, 3, np.float32)
    assert cast.dtype == np.float32 and cast.sum() == 6
    with pytest.raises(ValueError, match=r"expected \(batch, size\) = \(2, 3\)"):
        numpy_checks._initial({"h": np.ones((3, 2))}, "h", 2, 3, np.float64)
    with pytest.raises(TypeError, match="'h' must be a real floating-point array"):
        numpy_checks._initial({"h": np.ones((2, 3), int)}, "h", 2, 3, np.float64)


def test_torch_helpers_match_the_numpy_helpers_on_soft_targets():
    z, y = torch.tensor(LOGITS), torch.tensor(SOFT)
    assert float(torch_helpers._softmax_ce(z, y)) == pytest.approx(_ce_mp(LOGITS, SOFT), rel=1e-14)
    bce_y = np.clip(SOFT, 0, 1)
    assert float(torch_helpers._sigmoid_bce(z, torch.tensor(bce_y))) == pytest.approx(
        numpy_math._sigmoid_bce(LOGITS, bce_y), rel=1e-14
    )
    assert torch_helpers._initial(None, "h", 2, 3, {"dtype": torch.float64}).shape == (2, 3)
    with pytest.raises(ValueError, match=r"initial state 'h' has shape \(3, 2\); expected \(2, 3\)"):
        torch_helpers._initial({"h": torch.zeros(3, 2)}, "h", 2, 3, {"dtype": torch.float64})
