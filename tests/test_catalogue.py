"""Every catalogue cell: cited, fast to derive, and its generated gradients are right.

One row per cell (``symrnn.cells()``):

* metadata: family, source, convention, summary, and a docstring citing a year;
* derive + compile to NumPy in under a second;
* the generated forward pass equals the cell written again from its paper
  (``tests/references/``, torch float64);
* every gradient (parameters and initial states) equals central finite
  differences in float64, ρ = |a − b| / max(1, |a| + |b|) ≤ 1e-6, with the
  cell's natural loss as well where it has one.
"""

import inspect
import re

import numpy as np
import pytest

import symrnn
from symrnn.catalogue import _ALIASES, _REGISTRY
from symrnn.checks import numeric_gradients
from symrnn.problems import split_initial_states, with_initial_states
from tests.helpers import max_rho
from tests.references import REFERENCES
from tests.references.unroll import leaves, run

CELLS = symrnn.cells()
T, B, X, H, OUT = 3, 2, 2, 3, 3
# Cells whose readout is σ(W h) in their source: check them with bce as well.
NATURAL_LOSS = {"rnn-sigmoid": "bce", "lstm-zhihu": "bce"}
EXPECTED = [
    "rnn", "rnn-relu", "rnn-sigmoid", "rnn-softmax", "rnn-ng",
    "lstm", "lstm-separate", "lstm-olah", "lstm-ng", "lstm-zhihu", "lstm-pytorch", "lstm-1997", "lstm-peephole", "lstm-cifg",
    "gru", "gru-cho", "gru-pytorch", "gru-ng", "mgu",
]  # fmt: skip


def _problem(d, loss, seed=0):
    rng = np.random.default_rng(seed)
    params = d.init_params(hidden_size=H, input_size=X, output_size=OUT, seed=seed)
    params = {k: 2.0 * v for k, v in params.items()}  # away from the linear regime
    xs = rng.standard_normal((T, B, X))
    if loss == "softmax_ce":
        ys = np.eye(OUT)[rng.integers(0, OUT, (T, B))]
    else:
        ys = rng.uniform(0, 1, (T, B, OUT))
    init = {s: rng.uniform(-1, 1, (B, d.cell.states[s].shape[0].subs(symrnn.ir.HIDDEN, H))) for s in d.states}
    init = {s: v.astype(np.float64) for s, v in init.items()}
    return params, xs, ys, init


@pytest.fixture(scope="module", autouse=True)
def _warm():
    symrnn.derive("rnn").numpy()  # SymPy's own import is not the cell's cost


def test_catalogue_lists_every_cell_once():
    assert [c for c in CELLS if c in EXPECTED] == EXPECTED
    assert len(set(CELLS)) == len(CELLS)
    for alias, target in _ALIASES.items():
        assert target in _REGISTRY
        assert symrnn.cell(alias).name == target
        assert alias not in _REGISTRY


@pytest.mark.parametrize("name", CELLS)
def test_cell_is_cited(name):
    cell = symrnn.cell(name)
    assert cell.name == name
    assert cell.family and cell.source and cell.convention and cell.summary
    assert re.search(r"(19|20)\d\d", cell.source) or "notes/" in cell.source, cell.source
    doc = inspect.getdoc(_REGISTRY[name])
    assert doc and "Source:" in doc and re.search(r"(19|20)\d\d", doc), doc
    assert "Convention:" in doc or "convention" in doc.lower()


@pytest.mark.parametrize("name", CELLS)
def test_derive_and_compile(name):
    # The time it takes (target: under a second) is measured by benchmarks/bench_core.py.
    module = symrnn.derive(name).numpy()
    assert callable(module.loss_and_grads)


@pytest.mark.parametrize("name", CELLS)
def test_forward_matches_the_papers_equations(name):
    """The generated forward equals the cell written again from its paper (tests/references/, torch).

    An interpreter of the cell's own equations would guard the code generator only; a cell whose
    equations depart from its source (a gate that keeps the wrong state, a missing bias) passes
    that and fails this.
    """
    d = symrnn.derive(name)
    ref = REFERENCES[name]
    params, xs, _, init = _problem(d, "softmax_ce", seed=5)
    _, states, logits, _ = run(ref, leaves(params, init), xs)
    assert set(ref.states) == set(d.states), name
    for optimize in (True, False):
        values = d.numpy(optimize=optimize).forward(params, xs, init)
        for s in d.states:
            for t in range(T):
                assert max_rho(values[s][t], states[s][t].detach().numpy()) <= 1e-13, (name, optimize, s, t)
        assert max_rho(values[d.logits], logits.detach().numpy()) <= 1e-13, (name, optimize)


@pytest.mark.parametrize(
    "name, loss",
    [(name, "softmax_ce") for name in CELLS] + sorted(NATURAL_LOSS.items()) + [("lstm-peephole", "mse")],
)
def test_gradients_match_central_differences(name, loss):
    d = symrnn.derive(name, loss)
    module = d.numpy()
    params, xs, ys, init = _problem(d, loss)
    value, grads = module.loss_and_grads(params, xs, ys, init)
    loss_of = split_initial_states(module.loss, d.states)
    numeric = numeric_gradients(lambda p: loss_of(p, xs, ys), with_initial_states(params, init))
    assert set(grads) == set(numeric)
    worst = max(((k, max_rho(grads[k], numeric[k])) for k in grads), key=lambda kv: kv[1])
    assert worst[1] <= 1e-6, f"{name}/{loss}: ∂J/∂{worst[0]} differs from finite differences, ρ = {worst[1]:.2e}"
    assert np.isfinite(value)


def test_shared_helpers_link_same_function_cells():
    """Cells differing only in naming are built by one helper, not duplicated code."""
    from symrnn.catalogue import lstm, rnn

    def calls(fn, helper):
        return helper in inspect.getsource(fn)

    for fn in (lstm.lstm, lstm.lstm_separate):
        assert calls(fn, "_separate(")
    for fn in (lstm.lstm_olah, lstm.lstm_ng, lstm.lstm_zhihu):
        assert calls(fn, "_stacked(")
    for fn in (rnn.rnn, rnn.rnn_relu):
        assert calls(fn, "_elman(")
