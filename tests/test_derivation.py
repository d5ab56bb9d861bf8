"""The derivation reads like a textbook, and is fast for every cell."""

import pytest

import symrnn
from symrnn.printing.text import text

CORE = ["rnn", "lstm", "gru"]


def by_lhs(eqs):
    return {text(e.lhs): e.text().split(" = ", 1)[1] for e in eqs}


def test_rnn_matches_the_textbook():
    # Elman RNN BPTT as written in, e.g., Goodfellow et al. 2016, eqs. 10.18-10.28
    d = symrnn.derive("rnn")
    back = by_lhs(d.backward)
    assert back["δȳ[t]"] == "ŷ[t] - y[t]"
    assert back["δh[t]"] == "W_yᵀ δȳ[t] + W_hhᵀ δh̄[t+1]"
    assert back["δh̄[t]"] == "δh[t] ⊙ (1 - h[t] ⊙ h[t])"
    grads = by_lhs(d.param_grads)
    assert grads["∂J/∂W_hh"] == "Σ_t δh̄[t] h[t-1]ᵀ"
    assert grads["∂J/∂W_xh"] == "Σ_t δh̄[t] x[t]ᵀ"
    assert grads["∂J/∂b_h"] == "Σ_t δh̄[t]"
    assert d.initial_grads[0].text() == "∂J/∂h[0] = W_hhᵀ δh̄[1]"


def test_lstm_cell_state_carry_and_gates():
    d = symrnn.derive("lstm")
    back = by_lhs(d.backward)
    assert back["δc[t]"] == "δh[t] ⊙ o[t] ⊙ (1 - tanh(c[t]) ⊙ tanh(c[t])) + δc[t+1] ⊙ f[t+1]"
    assert back["δf̄[t]"] == "δf[t] ⊙ f[t] ⊙ (1 - f[t])"
    assert back["δf[t]"] == "δc[t] ⊙ c[t-1]"
    assert back["δḡ[t]"] == "δg[t] ⊙ (1 - g[t] ⊙ g[t])"


def test_gru_update_gate_factorises():
    d = symrnn.derive("gru")
    back = by_lhs(d.backward)
    assert back["δz[t]"] == "δh[t] ⊙ (h̃[t] - h[t-1])"
    assert "δh[t+1] ⊙ (1 - z[t+1])" in back["δh[t]"]
    assert by_lhs(d.param_grads)["∂J/∂W_hh"] == "Σ_t δh̃̄[t] (r[t] ⊙ h[t-1])ᵀ"


@pytest.mark.parametrize("cell", CORE)
@pytest.mark.parametrize("loss", ["softmax_ce", "bce", "mse"])
def test_no_array_calculus_artifacts(cell, loss):
    d = symrnn.derive(cell, loss)
    everything = d.text() + d.latex() + d.markdown()
    for artefact in ("PermuteDims", "ArrayDiagonal", "KroneckerProduct", "otimes", "ArrayTensorProduct"):
        assert artefact not in everything
    # one parameter gradient per parameter, one initial gradient per state
    assert [text(e.lhs) for e in d.param_grads] == [f"∂J/∂{p}" for p in d.params]
    assert len(d.initial_grads) == len(d.cell.states)


@pytest.mark.parametrize("cell", CORE)
def test_derive_and_compile(cell):
    # The time it takes (target: under a second) is measured by benchmarks/bench_core.py.
    module = symrnn.derive(cell).numpy()
    assert callable(module.loss_and_grads)


def test_output_is_deterministic():
    a = symrnn.derive("gru")
    b = symrnn.derive("gru")
    assert a.latex() == b.latex() and a.numpy_source() == b.numpy_source() and a.markdown() == b.markdown()


def test_jupyter_latex():
    d = symrnn.derive("rnn")
    assert d._repr_latex_().startswith("$$\\begin{aligned}")
    assert d.backward[0]._repr_latex_() == "$$\\delta \\bar{y}_{t} = \\hat{y}_{t} - y_{t}$$"


def test_derive_leaves_its_cell_unchanged():
    cell = symrnn.cell("gru")
    before = dict(cell.params)
    d = symrnn.derive(cell)
    assert cell.params == before  # the readout's W_y, b_y belong to the derivation only
    assert list(d.params) == [*before, "W_y", "b_y"]
    assert [eq.lhs.name for eq in d.cell_equations] == [eq.lhs.name for eq in d.forward[: len(d.cell_equations)]]
    assert {eq.kind for eq in d.forward} == {"forward", "readout"}


def test_readout_parameter_clash_is_reported():
    from symrnn.cellspec import CellError

    cell = symrnn.cell("rnn")
    cell.param("W_y", 3, 3)  # not output × hidden
    with pytest.raises(CellError, match="readout parameter W_y clashes"):
        symrnn.derive(cell)


def test_the_backend_argument_is_checked_and_the_optimised_module_is_the_default():
    """Survivors of the cosmic-ray run (issue 19): ``backend == "numba"`` → ``<``, ``!= "numpy"`` → ``<``
    ("jax" and "numbb" sort before the names they were compared with), ``optimize=True`` → False."""
    d = symrnn.derive("rnn")
    for wrong in ("jax", "numbb", "torch"):
        with pytest.raises(ValueError, match="backend must be 'numpy' or 'numba'"):
            d.numpy_source(backend=wrong)
        with pytest.raises(ValueError, match="backend must be 'numpy' or 'numba'"):
            d.numpy(backend=wrong)
    assert d.numpy_source() == d.numpy_source(optimize=True) != d.numpy_source(optimize=False)
    assert hasattr(d.numpy(), "clear_workspace") and not hasattr(d.numpy(optimize=False), "clear_workspace")


def test_init_params_takes_its_sizes_by_keyword_only():
    """Survivor of the cosmic-ray run (issue 19): the ``*`` of init_params' signature → ``/``."""
    d = symrnn.derive("rnn")
    with pytest.raises(TypeError):
        d.init_params(4, 3, 2)
    params = d.init_params(hidden_size=4, input_size=3, output_size=2)
    assert params["W_hh"].shape == (4, 4) and params["W_xh"].shape == (4, 3)
