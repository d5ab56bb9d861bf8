"""The compiled backend (``d.numpy(backend="numba")``) against the NumPy code, torch autograd
and central differences; empty problems, bad inputs, saturation, the cache across processes.

Every catalogue cell is compiled with softmax cross-entropy in float64; the other losses and
float32 on a few cells of each family (``SYMRNN_NUMBA_FULL=1``: every cell × loss × dtype).
Compiling one kernel takes seconds, so modules are built once per session (and cached on disk
by numba across sessions).
"""

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("numba", reason='the numba extra (pip install "symrnn[numba]") is in the test extra')

import symrnn  # noqa: E402
from symrnn.catalogue import cells  # noqa: E402
from symrnn.codegen.numba_loops import NotCompilable  # noqa: E402
from symrnn.codegen.numba_module import EXTRA, require_numba  # noqa: E402
from tests.helpers import max_rho, worst_mismatch  # noqa: E402
from tests.references import REFERENCES  # noqa: E402
from tests.references.unroll import gradients  # noqa: E402

FULL = os.environ.get("SYMRNN_NUMBA_FULL") == "1"
LOSSES = ["softmax_ce", "bce", "mse"]
FEW = ["rnn", "lstm", "lstm-peephole", "gru", "mgu"]
MATRIX64 = [(c, loss) for c in cells() for loss in LOSSES if loss == "softmax_ce" or FULL or c in FEW]
MATRIX32 = [(c, loss) for c in cells() for loss in LOSSES if FULL or (c in FEW and loss == "softmax_ce")]
_MODULES = {}


def modules(cell, loss="softmax_ce"):
    if (cell, loss) not in _MODULES:
        d = symrnn.derive(cell, loss)
        _MODULES[cell, loss] = (d, d.numpy(backend="numba"), d.numpy(optimize=False))
    return _MODULES[cell, loss]


def problem(d, T=4, batch=3, hidden=5, inputs=3, outputs=4, seed=0, dtype="float64", scale=1.0):
    rng = np.random.default_rng(seed)
    params = {
        k: (scale * v).astype(dtype)
        for k, v in d.init_params(hidden_size=hidden, input_size=inputs, output_size=outputs, seed=seed).items()
    }
    xs = rng.standard_normal((T, batch, inputs)).astype(dtype)
    ys = rng.random((T, batch, outputs))
    if d.loss.name == "softmax_ce":
        ys /= ys.sum(axis=2, keepdims=True)
    initial = {s: rng.uniform(-1, 1, (batch, hidden)).astype(dtype) for s in d.cell.states}
    return params, xs, ys.astype(dtype), initial


def worst(a_loss, a_grads, b_loss, b_grads) -> float:
    assert set(a_grads) == set(b_grads)
    return max([max_rho(a_loss, b_loss)] + [max_rho(a_grads[k], b_grads[k]) for k in b_grads])


@pytest.mark.parametrize("cell,loss", MATRIX64)
def test_float64_equals_the_numpy_code(cell, loss):
    d, compiled, plain = modules(cell, loss)
    for sizes in [dict(T=4, batch=3, hidden=5, inputs=3, outputs=4), dict(T=1, batch=1, hidden=2, inputs=1, outputs=2)]:
        params, xs, ys, initial = problem(d, **sizes, seed=1)
        got = compiled.loss_and_grads(params, xs, ys, initial)
        want = plain.loss_and_grads(params, xs, ys, initial)
        assert worst(*got, *want) < 1e-12, (cell, loss, sizes)
        assert all(g.dtype == np.float64 for g in got[1].values())


@pytest.mark.parametrize("cell,loss", MATRIX32)
def test_float32_within_its_precision_of_float64(cell, loss):
    """float32 compiled vs float64 NumPy: ρ ≤ 2e-5 (float32's ε is 1.2e-7; T = 6 steps of sums)."""
    d, compiled, plain = modules(cell, loss)
    params, xs, ys, initial = problem(d, T=6, seed=2)
    loss32, grads32 = compiled.loss_and_grads(
        *(
            ({k: v.astype(np.float32) for k, v in p.items()} if isinstance(p, dict) else p.astype(np.float32))
            for p in (params, xs, ys, initial)
        )
    )
    assert isinstance(loss32, np.float32) and all(g.dtype == np.float32 for g in grads32.values())
    want = plain.loss_and_grads(params, xs, ys, initial)
    assert worst(loss32, grads32, *want) < 2e-5


@pytest.mark.parametrize("cell", cells())
def test_every_gradient_equals_torch_autograd_of_the_reference(cell):
    d, compiled, _ = modules(cell)
    params, xs, ys, initial = problem(d, T=3, batch=2, hidden=3, inputs=2, outputs=2, seed=3, scale=1.5)
    ys = np.eye(2)[np.random.default_rng(3).integers(0, 2, (3, 2))]
    J, expected, _ = gradients(REFERENCES[cell], params, initial, xs, ys, "softmax_ce")
    loss, grads = compiled.loss_and_grads(params, xs, ys, initial)
    assert abs(loss - J) <= 1e-10 * max(1.0, abs(J))
    for k, g in expected.items():
        assert max_rho(grads[k], g) <= 1e-10, (cell, k)


def test_central_differences():
    d, compiled, _ = modules("gru")
    params, xs, ys, initial = problem(d, T=3, batch=2, hidden=3, inputs=2, outputs=3, seed=4)
    rho, name, index = worst_mismatch(compiled, list(d.cell.states), params, initial, xs, ys)
    assert rho < 1e-7, (name, index)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_stable_at_saturated_pre_activations(cell):
    """Weights ×60 and inputs ×10: pre-activations in the hundreds, σ and tanh at their limits."""
    d, compiled, plain = modules(cell)
    params, xs, ys, initial = problem(d, seed=5, scale=60.0)
    xs = 10 * xs
    loss, grads = compiled.loss_and_grads(params, xs, ys, initial)
    assert np.isfinite(loss) and all(np.isfinite(g).all() for g in grads.values())
    assert worst(loss, grads, *plain.loss_and_grads(params, xs, ys, initial)) < 1e-10


@pytest.mark.parametrize("T,batch", [(0, 3), (4, 0), (0, 0)])
def test_empty_problems(T, batch):
    d, compiled, plain = modules("lstm")
    params, xs, ys, initial = problem(d, T=T, batch=batch, seed=6)
    loss, grads = compiled.loss_and_grads(params, xs, ys, initial)
    want_loss, want = plain.loss_and_grads(params, xs, ys, initial)
    assert loss == want_loss == 0
    for k, g in want.items():
        assert grads[k].shape == g.shape and np.array_equal(grads[k], g), k


def test_bad_inputs_name_the_parameter_and_the_shape():
    d, compiled, _ = modules("lstm")
    params, xs, ys, initial = problem(d, seed=7)
    wrong = dict(params, W_hf=np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"parameter 'W_hf' has shape \(5, 4\); expected \(hidden_size, hidden_size\)"):
        compiled.loss_and_grads(wrong, xs, ys, initial)
    with pytest.raises(ValueError, match=r"missing parameter 'b_o'"):
        compiled.loss_and_grads({k: v for k, v in params.items() if k != "b_o"}, xs, ys, initial)
    with pytest.raises(ValueError, match=r"ys has shape \(4, 3, 2\); expected"):
        compiled.loss_and_grads(params, xs, ys[:, :, :2], initial)
    with pytest.raises(ValueError, match=r"initial state 'c' has shape \(3, 2\)"):
        compiled.loss_and_grads(params, xs, ys, dict(initial, c=np.zeros((3, 2))))
    with pytest.raises(TypeError, match=r"parameter 'W_y' must be a real floating-point array"):
        compiled.loss_and_grads(dict(params, W_y=params["W_y"].astype(np.int64)), xs, ys, initial)


def test_the_module_is_standalone_and_the_plain_code_stays_as_reference():
    d, compiled, _ = modules("gru")
    source = d.numpy_source(backend="numba")
    imports = {line.split()[1].split(".")[0] for line in source.splitlines() if line.startswith(("import ", "from "))}
    # The standard library, numba, NumPy and llvmlite (numba's own code generator, installed with it,
    # which the module's NumPy-BLAS product is written in); never symrnn, SciPy or torch.
    assert imports - sys.stdlib_module_names == {"numba", "numpy", "llvmlite"}, sorted(imports)
    assert "def loss_and_grads_reference(" in source and "def forward(" in source
    params, xs, ys, initial = problem(d, seed=8)
    got = compiled.loss_and_grads(params, xs, ys, initial)
    assert worst(*got, *compiled.loss_and_grads_reference(params, xs, ys, initial)) < 1e-12


def test_without_numba_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "symrnn\[numba\]"'):
        require_numba()
    with pytest.raises(ImportError, match=r"symrnn\[numba\]"):
        symrnn.derive("rnn").numpy(backend="numba")
    assert EXTRA in str(pytest.raises(ImportError, require_numba).value)


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match=r"backend must be 'numpy' or 'numba', got 'jit'"):
        symrnn.derive("rnn").numpy(backend="jit")


def test_a_cell_outside_the_plan_is_refused_with_the_reason():
    from symrnn import Cell
    from symrnn.activations import tanh
    from symrnn.ir import HIDDEN, INPUT

    cell = Cell("two-inputs", source="a test", convention="two inputs")
    x, u, h = cell.input("x"), cell.input("u"), cell.state("h")
    W, U, V = cell.weight("W", HIDDEN, HIDDEN), cell.weight("U", HIDDEN, INPUT), cell.weight("V", HIDDEN, INPUT)
    cell.let("h", tanh(W @ h + U @ x + V @ u))
    with pytest.raises(NotCompilable, match=r"the numba backend compiles the optimiser's plan.*one input x"):
        symrnn.derive(cell).numpy(backend="numba")


_CACHE_PROBE = """
import time, numpy as np, symrnn
d = symrnn.derive("rnn-relu")
m = d.numpy(backend="numba")
p = d.init_params(hidden_size=3, input_size=2, output_size=2)
m.loss_and_grads(p, np.ones((2, 1, 2)), np.full((2, 1, 2), 0.5))
stats = m._loss_and_grads_kernel.stats
print(stats.cache_hits.get(m._loss_and_grads_kernel.signatures[0], 0), m.COMPILE_SECONDS["float64"])
"""


def test_compiled_code_is_cached_across_processes(tmp_path):
    env = dict(os.environ, SYMRNN_CACHE_DIR=str(tmp_path), PYTHONPATH=os.getcwd())

    def run():
        out = subprocess.run([sys.executable, "-c", _CACHE_PROBE], env=env, capture_output=True, text=True, check=True)
        hits, seconds = out.stdout.split()
        return int(hits), float(seconds)

    first_hits, _ = run()
    assert first_hits == 0  # compiled: nothing cached yet
    assert list(tmp_path.glob("__pycache__/*.nbi")), "numba wrote no cache index"
    second_hits, _ = run()
    assert second_hits == 1  # the second process loaded the machine code


def test_a_user_cell_compiles_and_equals_the_numpy_code():
    from symrnn import Cell
    from symrnn.activations import sigmoid, tanh
    from symrnn.ir import HIDDEN, INPUT

    cell = Cell("my-cell", source="the README", convention="a gated update")
    x, h = cell.input("x"), cell.state("h")
    W, U, b = cell.weight("W", HIDDEN, HIDDEN), cell.weight("U", HIDDEN, INPUT), cell.bias("b")
    V = cell.weight("V", HIDDEN, INPUT)
    f = cell.let("f", sigmoid(W @ h + U @ x + b))
    cell.let("h", f * h + (1 - f) * tanh(V @ x))
    d = symrnn.derive(cell, "mse")
    params, xs, ys, initial = problem(d, seed=9)
    got = d.numpy(backend="numba").loss_and_grads(params, xs, ys, initial)
    assert worst(*got, *d.numpy(optimize=False).loss_and_grads(params, xs, ys, initial)) < 1e-12


def test_derive_writes_the_numba_module(tmp_path):
    from click.testing import CliRunner

    from symrnn.cli import main

    out = tmp_path / "gru_bptt.py"
    result = CliRunner().invoke(main, ["derive", "gru", "--format", "numba", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == symrnn.derive("gru").numpy_source(backend="numba")


def test_the_vectorisable_exp_matches_numpy_to_an_ulp_and_at_the_limits():
    """The kernels' polynomial ``_exp`` (numba's np.exp is a libm call per entry) against np.exp."""
    import numba

    module = modules("rnn")[1]
    exp = module._exp

    @numba.njit
    def apply(x):
        out = np.empty_like(x)
        for j in range(x.shape[0]):
            out[j] = exp(x[j])
        return out

    for dtype, lo, hi in ((np.float32, -103.0, 88.0), (np.float64, -744.0, 709.0)):
        x = np.linspace(lo, hi, 200_001).astype(dtype)
        got, want = apply(x).astype(np.float64), np.exp(x.astype(np.float64))
        normal = want > np.finfo(dtype).tiny
        assert got.dtype == np.float64 and apply(x).dtype == dtype
        assert np.max(np.abs(got[normal] - want[normal]) / want[normal]) < 2 * np.finfo(dtype).eps, dtype
        edges = np.array([-np.inf, -1e30, 2 * lo, 0.0, -0.0, 1e-30, 2 * hi, 1e30, np.inf, np.nan], dtype)
        with np.errstate(over="ignore"):
            assert np.array_equal(apply(edges), np.exp(edges), equal_nan=True), dtype


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_products_on_views_equal_numpy_in_either_blas(dtype):
    """``_mm``: NumPy's BLAS where found, numba's np.dot otherwise; transposed and strided views, β 0 and 1."""
    import numba

    module = modules("rnn")[1]
    mm = numba.njit(lambda a, b, out, beta, blas: module._mm(a, b, out, beta, blas))
    rng = np.random.default_rng(8)
    big = rng.standard_normal((9, 12)).astype(dtype)
    a_views = [big[:4, :5], big[:5, :4].T, big[2:6, 3:8]]
    b = rng.standard_normal((5, 7)).astype(dtype)
    for blas in (module._BLAS, np.zeros(3, np.int64)):
        for a in a_views:
            for beta in (0, 1):
                target = np.full((6, 10), np.nan if beta == 0 else 2.0, dtype)
                out = target[1:5, 2:9]
                want = a.astype(np.float64) @ b + (2.0 * beta)
                mm(a, b, out, np.dtype(dtype).type(beta), blas)
                tol = 1e-5 if dtype == "float32" else 1e-13
                assert np.allclose(out, want, rtol=tol, atol=tol), (blas, beta)
                assert np.isnan(target[0]).all() or beta == 1  # nothing outside the view is written
