"""Generated NumPy: API, dtypes, input validation, standalone modules."""

import subprocess
import sys

import numpy as np
import pytest

import symrnn
from symrnn import ir
from symrnn.problems import random_problem
from tests.helpers import rho


@pytest.fixture(scope="module")
def lstm():
    d = symrnn.derive("lstm")
    return d, d.numpy()


def test_forward_returns_every_named_value(lstm):
    d, m = lstm
    params, xs, _, initial = random_problem(d, hidden_size=4, input_size=3, output_size=2, steps=5, batch=3)
    values = m.forward(params, xs, initial)
    assert list(values) == [eq.lhs.name for eq in d.forward if eq.lhs.name != "L"]
    assert values["h"].shape == (5, 3, 4) and values["y_hat"].shape == (5, 3, 2)
    np.testing.assert_allclose(values["y_hat"].sum(axis=2), 1.0)
    # h_t = o_t ⊙ tanh(c_t), checked on the returned values themselves
    np.testing.assert_allclose(values["h"], values["o"] * np.tanh(values["c"]))


def test_loss_agrees_with_loss_and_grads(lstm):
    d, m = lstm
    params, xs, ys, initial = random_problem(d, hidden_size=4, input_size=3, output_size=2, steps=5, batch=3, seed=2)
    assert m.loss(params, xs, ys, initial) == pytest.approx(m.loss_and_grads(params, xs, ys, initial)[0], rel=1e-14)


def test_float32_stays_float32_and_agrees_with_float64(lstm):
    d, m = lstm
    p64, xs, ys, initial = random_problem(d, hidden_size=8, input_size=5, output_size=3, steps=6, batch=4, seed=1)
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    i32 = {k: v.astype(np.float32) for k, v in initial.items()}
    loss32, g32 = m.loss_and_grads(p32, xs.astype(np.float32), ys.astype(np.float32), i32)
    loss64, g64 = m.loss_and_grads(p64, xs, ys, initial)
    assert loss32.dtype == np.float32 and all(g.dtype == np.float32 for g in g32.values())
    for k in g64:
        assert rho(g32[k], g64[k]).max() < 1e-5, k


def test_missing_and_misshapen_parameters_are_named(lstm):
    d, m = lstm
    params, xs, ys, _ = random_problem(d, hidden_size=4, input_size=3, output_size=2)
    broken = dict(params)
    del broken["W_hf"]
    with pytest.raises(ValueError, match=r"missing parameter 'W_hf'; expected \(hidden_size, hidden_size\)"):
        m.loss_and_grads(broken, xs, ys)
    broken = dict(params, W_hf=np.zeros((4, 3)))
    with pytest.raises(
        ValueError, match=r"parameter 'W_hf' has shape \(4, 3\); expected \(hidden_size, hidden_size\) = \(4, 4\)"
    ):
        m.loss_and_grads(broken, xs, ys)
    with pytest.raises(ValueError, match="xs must be"):
        m.loss_and_grads(params, xs[0], ys)
    with pytest.raises(ValueError, match="ys has shape"):
        m.loss_and_grads(params, xs, ys[:, :, :1])
    with pytest.raises(ValueError, match="initial state 'h' has shape"):
        m.loss_and_grads(params, xs, ys, {"h": np.zeros((7, 4))})


def test_numerically_stable_at_large_preactivations():
    d = symrnn.derive("lstm")
    m = d.numpy()
    params, xs, ys, _ = random_problem(d, hidden_size=3, input_size=2, output_size=2)
    big = {k: 80 * v for k, v in params.items()}
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is exact enough
        loss, grads = m.loss_and_grads(big, 10 * xs, ys)
    assert np.isfinite(loss) and all(np.isfinite(g).all() for g in grads.values())


@pytest.mark.parametrize("optimize", [False, True])
def test_common_subexpressions_are_computed_once(optimize):
    source = symrnn.derive("lstm").numpy_source(optimize=optimize)
    body = source[source.index("def loss_and_grads") :]
    backward_loop = body[body.index("for t in range(T - 1, -1, -1)") :]
    for call in ("np.tanh(", "_tanh_fast(", "-2.0", "_minus_two"):
        assert call not in backward_loop  # tanh(c_t) is saved by the forward pass, not recomputed
    saved = "tape_s0[t] = _t0" if not optimize else "np.multiply(c, _minus_two, out=s0)"  # tanh(c_t) onto its tape
    assert body.count(saved) == 1


def test_generic_function_cannot_be_compiled():
    from symrnn.activations import generic
    from symrnn.cellspec import Cell
    from symrnn.codegen.numpy_printer import CodegenError

    cell = Cell("generic")
    x, h = cell.input("x"), cell.state("h")
    f = generic("f")
    cell.let("h", f(cell.weight("W", ir.HIDDEN, ir.HIDDEN) @ h + cell.weight("U", ir.HIDDEN, ir.INPUT) @ x))
    d = symrnn.derive(cell)
    assert "f'" in d.text()
    with pytest.raises(CodegenError, match="generic function f"):
        d.numpy()


def test_standalone_module_imports_only_numpy(tmp_path):
    path = tmp_path / "lstm_bptt.py"
    subprocess.run(
        [sys.executable, "-m", "symrnn.cli", "derive", "lstm", "--format", "numpy", "-o", str(path)], check=True
    )
    probe = f"""
import sys, importlib.util
spec = importlib.util.spec_from_file_location("lstm_bptt", {str(path)!r})
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
import numpy as np
rng = np.random.default_rng(0)
H, X, O = 4, 3, 2
params = {{k: rng.normal(size=tuple({{"hidden_size": H, "input_size": X, "output_size": O}}[d] for d in shape[1:-1].replace(",", " ").split())) * 0.3 for k, shape in mod.PARAMETERS.items()}}
xs = rng.normal(size=(5, 2, X)); ys = np.eye(O)[rng.integers(0, O, (5, 2))]
loss, grads = mod.loss_and_grads(params, xs, ys)
assert set(grads) == set(params) | {{"h_0", "c_0"}}
assert "sympy" not in sys.modules and "symrnn" not in sys.modules, sorted(m for m in sys.modules if "sym" in m)
print("ok", float(loss))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")


def test_a_row_of_each_example_times_a_shared_matrix_is_printed_and_a_per_example_matrix_refused():
    """Survivor of the cosmic-ray run (issue 19): ``if not a.is_row: raise`` → ``if a.is_row: raise``
    in NumpyPrinter._print_matmul."""
    from symrnn import ir
    from symrnn.codegen.numpy_printer import CodegenError, NumpyPrinter

    H = ir.HIDDEN
    h = ir.var("h", (H, 1), ir.STATE, 0)
    W = ir.var("W", (H, H), ir.PARAM)
    M = ir.var("M", (H, H))
    printer = NumpyPrinter({h: "h", W: "W", M: "M"})
    assert printer.doprint(ir.transpose(h) @ W) == "h @ W"
    with pytest.raises(CodegenError, match="per-example matrix"):
        printer.doprint(M @ W)
