"""The optimised loss_and_grads against the plain one and the exact oracle, for every catalogue cell.

The optimised code is the default (``d.numpy()``), so gradcheck, the property tests and the
torch tests run on it as well; here it is compared with the plain per-step code
(``optimize=False``, the reference), checked for the structure the optimiser promises, and
checked against the exact recurrences at tiny sizes.
"""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symrnn
from symrnn.oracle import derived_gradients
from symrnn.oracle import random_problem as exact_problem
from symrnn.problems import random_problem
from tests.helpers import max_rho

CELLS = symrnn.cells()
_MODULES = {}


def modules(cell, loss="softmax_ce"):
    """(derivation, optimised module, plain module), compiled once per test session."""
    if (cell, loss) not in _MODULES:
        d = symrnn.derive(cell, loss)
        _MODULES[cell, loss] = (d, d.numpy(), d.numpy(optimize=False))
    return _MODULES[cell, loss]


# The optimised loops choose np.tanh or the exp form by array size (_tanh_ufunc): tests force each.
TANH_PATHS = {"np.tanh": {4: 10**9, 8: 10**9}, "exp form": {}}


def _agree(cell, loss, sizes, seed, dtype="float64", tanh_path=None):
    """The worst ρ between optimised and plain loss and gradients (initial states included)."""
    d, fast, plain = modules(cell, loss)
    hidden, inp, out, steps, batch = sizes
    params, xs, ys, initial = random_problem(
        d, hidden_size=hidden, input_size=inp, output_size=out, steps=steps, batch=batch, seed=seed, dtype=dtype
    )
    params = {k: 2 * v for k, v in params.items()}  # saturating gates, not only the linear regime
    chosen = fast._TANH_UFUNC_UP_TO
    fast._TANH_UFUNC_UP_TO = TANH_PATHS.get(tanh_path, chosen)
    try:
        loss_fast, grads_fast = fast.loss_and_grads(params, xs, ys, initial)
    finally:
        fast._TANH_UFUNC_UP_TO = chosen
    loss_plain, grads_plain = plain.loss_and_grads(params, xs, ys, initial)
    assert set(grads_fast) == set(grads_plain)
    for k, g in grads_fast.items():
        assert g.shape == grads_plain[k].shape and g.dtype == np.dtype(dtype), k
    return max([max_rho(loss_fast, loss_plain)] + [max_rho(grads_fast[k], grads_plain[k]) for k in grads_plain])


@pytest.mark.parametrize("cell", CELLS)
def test_every_cell_is_optimised(cell):
    d, fast, plain = modules(cell)
    body = fast.__source__[fast.__source__.index("def loss_and_grads") :]
    assert "_workspace(" in body and "_workspace(" not in plain.__source__
    before, forward_loop = body.split("for t in range(T):", 1)
    forward_loop = forward_loop[: forward_loop.index("y = ys.reshape")]
    assert "# input projections" in before and "x = xs[t]" not in forward_loop  # hoisted out of the loop


@pytest.mark.parametrize("tanh_path", TANH_PATHS)
@pytest.mark.parametrize("loss", ["softmax_ce", "bce", "mse"])
@pytest.mark.parametrize("cell", CELLS)
def test_optimised_equals_plain(cell, loss, tanh_path):
    assert _agree(cell, loss, (4, 3, 5, 6, 3), seed=1, tanh_path=tanh_path) < 1e-12
    assert _agree(cell, loss, (3, 2, 2, 1, 1), seed=2, tanh_path=tanh_path) < 1e-12  # one step, one example


@pytest.mark.parametrize("tanh_path", TANH_PATHS)
@pytest.mark.parametrize("cell", ["lstm", "gru", "lstm-peephole", "gru-pytorch", "mgu"])
def test_optimised_equals_plain_in_float32(cell, tanh_path):
    assert _agree(cell, "softmax_ce", (6, 4, 3, 5, 4), seed=3, dtype="float32", tanh_path=tanh_path) < 1e-5


def test_tanh_path_follows_array_size():
    """Both loops' tanh forms are in the source, and the size of the arrays picks one per call."""
    _, fast, _ = modules("lstm")
    source = fast.__source__
    assert "np.tanh(c, out=" in source and "tanh through one exp" in source
    assert fast._tanh_ufunc(16, "float32") and fast._tanh_ufunc(16, "float64")
    assert not fast._tanh_ufunc(32 * 128, "float32") and not fast._tanh_ufunc(32 * 128, "float64")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@given(sizes=st.tuples(*[st.integers(1, 6)] * 4, st.integers(1, 3)), seed=st.integers(0, 2**16))
def test_optimised_equals_plain_at_any_size(cell, sizes, seed):
    assert _agree(cell, "softmax_ce", sizes, seed) < 1e-12


@pytest.mark.parametrize("cell", ["rnn-ng", "lstm", "gru", "lstm-peephole", "gru-pytorch"])
def test_optimised_equals_the_exact_recurrences(cell):
    d, fast, _ = modules(cell)
    params, xs, ys, initial, sizes = exact_problem(d, hidden=2, input=2, output=2, steps=2, seed=4)
    exact_loss, exact = derived_gradients(d, params, xs, ys, initial, sizes)

    def array(m, vector=False):
        a = np.array(m.tolist(), dtype=np.float64)
        return a[:, 0] if vector else a

    np_params = {k: array(m, vector=d.params[k].is_column) for k, m in params.items()}
    np_xs = np.stack([array(x, True) for x in xs])[:, None, :]
    np_ys = np.stack([array(y, True) for y in ys])[:, None, :]
    np_initial = {s: array(m, True)[None, :] for s, m in initial.items()}
    loss, grads = fast.loss_and_grads(np_params, np_xs, np_ys, np_initial)
    assert abs(float(loss) - float(exact_loss)) < 1e-12
    for name, m in exact.items():
        exact_grad = array(m, vector=name in d.params and d.params[name].is_column)
        got = grads[name] if name in d.params else grads[name][0]
        assert max_rho(got, exact_grad.reshape(got.shape)) < 1e-12, name


def test_source_is_deterministic_and_loops_are_lean():
    first = symrnn.derive("lstm").numpy_source()
    assert symrnn.derive("lstm").numpy_source() == first
    body = first[first.index("def loss_and_grads") :]
    forward_loop = body[body.index("for t in range(T):") : body.index("y = ys.reshape")]
    backward_loop = body[body.index("for t in range(T - 1, -1, -1):") : body.index("DA_all")]
    # the four gates' recurrent products are one stacked product per step, both ways
    assert len(re.findall(r"np\.(matmul|dot)\(|@", forward_loop)) == 1
    assert len(re.findall(r"np\.(matmul|dot)\(|@", backward_loop)) == 1
    # weight and bias gradients: one product over all steps with the operands [h_{t-1} | x_t | 1]
    after = body[body.index("DA_all") :]
    assert after.count(" @ ") == 2  # the gates' product and the readout's
    assert "W_y" not in forward_loop  # the readout runs once over all steps


@pytest.mark.parametrize("cell", CELLS)
def test_loop_bodies_allocate_nothing(cell):
    """Every statement of both loops writes into an existing array: no ``a * b`` or ``a @ b``
    temporaries, no Python numbers (each costs a ufunc call a conversion), no ``x[k] += y``."""
    body = symrnn.derive(cell).numpy_source()
    body = body[body.index("def loss_and_grads") :]
    loops = [
        body[body.index("for t in range(T):") : body.index("y = ys.reshape")],
        body[body.index("for t in range(T - 1, -1, -1):") : body.index("DA_all")],
    ]
    for loop in loops:
        for line in loop.splitlines()[1:]:
            code = line.split("#")[0].strip()
            if not code:
                continue
            assert not re.search(r"\]\s*[-+*/]=", code), code  # index twice and assign back
            assert not re.search(r"(?<![\w.])\d", re.sub(r"\[[^\]]*\]", "", code)), code  # a Python number
            if code.startswith("np."):
                assert "out=" in code, code
            elif "=" in code and not re.search(r"[-+*/]=", code):
                target, value = (part.strip() for part in code.split("=", 1))
                value = re.sub(r"\[[^\]]*\]", "", value)  # indices may do arithmetic
                assert re.fullmatch(r"[\w, ]+", target) and not re.search(r"[-+*/@]", value), code  # a view or a name


def test_buffers_reused_across_calls_never_alias_results():
    d, fast, _ = modules("gru")
    p1, xs1, ys1, init1 = random_problem(d, hidden_size=4, input_size=3, output_size=2, steps=5, batch=2, seed=5)
    p2, xs2, ys2, init2 = random_problem(d, hidden_size=4, input_size=3, output_size=2, steps=5, batch=2, seed=6)
    _, grads1 = fast.loss_and_grads(p1, xs1, ys1, init1)
    kept = {k: v.copy() for k, v in grads1.items()}
    fast.loss_and_grads(p2, xs2, ys2, init2)  # same shapes: the workspace is reused
    for k in kept:
        np.testing.assert_array_equal(grads1[k], kept[k], err_msg=k)


def test_tracebacks_point_into_the_optimised_source():
    d, fast, _ = modules("lstm")
    params, xs, ys, _ = random_problem(d, hidden_size=3, input_size=2, output_size=2)
    params["W_hf"] = params["W_hf"].astype(object)  # passes the shape check, fails in a ufunc
    with pytest.raises(Exception) as info:
        fast.loss_and_grads(params, xs, ys)
    frames = [f for f in info.traceback if "<symrnn lstm softmax_ce>" in str(f.path)]
    assert frames and frames[-1].statement is not None
