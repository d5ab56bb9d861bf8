"""``compare``: which catalogue cells are the same function, and how their parameters map.

Every "equivalent" verdict is also checked end to end through the generated
code: parameters of A converted with ``to_b`` make B's generated module give
A's loss, states and logits on a whole sequence (and ``to_a`` back).
"""

import functools

import numpy as np
import pytest

import symrnn
from symrnn import ir
from symrnn.activations import sigmoid, tanh
from symrnn.cellspec import Cell
from symrnn.equivalence import OutsideFamily, compare, step
from symrnn.ir import HIDDEN, INPUT

PEEPHOLES = {"p_i": 0, "p_f": 0, "p_o": 0}
NO_BIASES = {"b_f": 0, "b_i": 0, "b_g": 0, "b_o": 0, "b_y": 0}

# (A, B, fix, equivalent): one row per claim of the catalogue's docstrings.
TABLE = [
    ("lstm", "lstm-olah", None, True),
    ("lstm", "lstm-separate", None, True),
    ("lstm", "lstm-ng", None, True),
    ("lstm", "lstm-pytorch", None, True),
    ("lstm-olah", "lstm-ng", None, True),
    ("lstm", "lstm-zhihu", NO_BIASES, True),
    ("lstm", "lstm-peephole", PEEPHOLES, True),
    ("gru", "gru-cho", None, True),
    ("gru", "gru-ng", None, True),
    ("gru-cho", "gru-ng", None, True),
    ("rnn", "rnn-ng", None, True),
    ("rnn", "rnn-softmax", {"b_h": 0, "b_y": 0}, True),
    ("lstm", "lstm-peephole", None, False),
    ("lstm", "lstm-zhihu", None, False),
    ("lstm", "lstm-1997", None, False),
    ("lstm", "lstm-cifg", None, False),
    ("gru", "gru-pytorch", None, False),
    ("gru-cho", "gru-pytorch", None, False),
    ("gru", "mgu", None, False),
    ("rnn", "rnn-relu", None, False),
    ("rnn", "rnn-softmax", None, False),
    ("rnn-sigmoid", "rnn-softmax", None, False),
]
T, BATCH, X, H, OUT = 3, 2, 2, 3, 4


@functools.cache
def _derived(name):
    d = symrnn.derive(name)
    return d, d.numpy()


def _sequence_outputs(name, params, xs, ys, init):
    d, module = _derived(name)
    loss, _ = module.loss_and_grads(params, xs, ys, init)
    values = module.forward(params, xs, init)
    return loss, values, d


def _check_through_generated_code(r, seed=0):
    """to_b/to_a parameters give the same loss, states and logits in the generated code."""
    rng = np.random.default_rng(seed)
    da, db = _derived(r.a)[0], _derived(r.b)[0]
    pa = da.init_params(hidden_size=H, input_size=X, output_size=OUT, seed=seed)
    pa = {k: 0.0 * v if k in r.fixed else 2.0 * v for k, v in pa.items()}
    xs = rng.standard_normal((T, BATCH, X))
    ys = np.eye(OUT)[rng.integers(0, OUT, (T, BATCH))]
    init_a = {s: rng.standard_normal((BATCH, H)) for s in da.states}
    init_b = {sb: init_a[sa] for sb, sa in r.state_mapping.items()}
    pb = r.to_b(pa)
    assert set(pb) == set(db.params)
    for name, value in pb.items():
        assert value.shape == np.shape(db.init_params(hidden_size=H, input_size=X, output_size=OUT)[name]), name
    loss_a, va, _ = _sequence_outputs(r.a, pa, xs, ys, init_a)
    loss_b, vb, _ = _sequence_outputs(r.b, pb, xs, ys, init_b)
    assert abs(loss_a - loss_b) <= 1e-10 * max(1.0, abs(loss_a))
    for sb, sa in r.state_mapping.items():
        np.testing.assert_allclose(vb[sb], va[sa], rtol=0, atol=1e-12)
    np.testing.assert_allclose(vb["y_hat"], va["y_hat"], rtol=0, atol=1e-12)
    # and back: B's parameters (random, with the free choices B has) to A's
    pb2 = {
        k: 0.0 * v if k in r.fixed else 2.0 * v
        for k, v in db.init_params(hidden_size=H, input_size=X, output_size=OUT, seed=seed + 1).items()
    }
    pa2 = r.to_a(pb2)
    loss_b2, _, _ = _sequence_outputs(r.b, pb2, xs, ys, init_b)
    loss_a2, _, _ = _sequence_outputs(r.a, pa2, xs, ys, init_a)
    assert abs(loss_a2 - loss_b2) <= 1e-10 * max(1.0, abs(loss_a2))


@pytest.mark.parametrize("a, b, fix, equivalent", TABLE)
def test_table(a, b, fix, equivalent):
    r = compare(a, b, fix=fix)
    assert r.equivalent is equivalent, str(r)
    if equivalent:
        assert r.first_difference is None and r.witness is None
        _check_through_generated_code(r)
    else:
        assert r.first_difference
        assert r.witness is not None, str(r)
        assert np.max(np.abs(r.witness.value_a - r.witness.value_b)) > 1e-6
    # the relation is symmetric
    assert compare(b, a, fix=fix).equivalent is equivalent


@pytest.mark.parametrize("name", symrnn.cells())
def test_every_cell_equals_itself(name):
    r = compare(name, name)
    assert r.equivalent, str(r)
    assert r.state_mapping == {s: s for s in symrnn.cell(name).states}
    _check_through_generated_code(r, seed=3)


def test_olah_concatenated_lstm_is_lstm():
    r = compare("lstm", "lstm-olah")
    assert r.equivalent
    assert r.state_mapping == {"h": "h", "C": "c"}
    assert r.value_mapping["C_tilde"] == "g"
    assert r.mapping["W_f"] == "[W_hf | W_xf]"
    assert r.mapping["W_C"] == "[W_hg | W_xg]"
    assert r.inverse_mapping["W_xf"] == "W_f[:, hidden_size:hidden_size + input_size]"
    assert r.inverse_mapping["W_hf"] == "W_f[:, 0:hidden_size]"


def test_separate_matrix_lstm_is_lstm():
    r = compare("lstm", "lstm-separate")
    assert r.equivalent
    assert r.mapping["W_xh,f"] == "W_xf" and r.mapping["W_hh,g"] == "W_hg" and r.mapping["b_h,o"] == "b_o"


def test_pytorch_lstm_merges_biases():
    r = compare("lstm", "lstm-pytorch")
    assert r.equivalent
    assert (r.mapping["b_ii"], r.mapping["b_hi"]) == ("b_i", "0")
    assert r.inverse_mapping["b_i"] == "b_ii + b_hi"


def test_cho_gru_is_gru_with_complemented_update_gate():
    r = compare("gru", "gru-cho")
    assert r.equivalent
    assert r.value_mapping == {"r": "r", "z": "1 - z", "h_tilde": "h_tilde"}
    assert (r.mapping["W_z"], r.mapping["U_z"], r.mapping["b_z"]) == ("-W_xz", "-W_hz", "-b_z")
    assert (r.mapping["W_r"], r.mapping["U"]) == ("W_xr", "W_hh")


def test_pytorch_gru_is_not_gru():
    r = compare("gru", "gru-pytorch")
    assert not r.equivalent
    assert "n (B) ↔ h_tilde (A)" in r.first_difference
    assert "r ⊙ (W_hn h[t-1])" in r.first_difference
    w = r.witness
    assert w.output == "h"
    # the witness is reproducible: both cells on its numbers give its two values
    ca, cb = symrnn.cell("gru"), symrnn.cell("gru-pytorch")
    va = step(ca, w.params_a, w.states, w.x)["h"]
    vb = step(cb, w.params_b, w.states_b, w.x)["h"]
    np.testing.assert_array_equal(va, w.value_a)
    np.testing.assert_array_equal(vb, w.value_b)
    assert np.max(np.abs(va - vb)) > 1e-3
    assert "≢" in str(r) and "witness" in str(r)


def test_peephole_lstm_without_peepholes_is_lstm():
    r = compare("lstm", "lstm-peephole", fix=PEEPHOLES)
    assert r.equivalent
    assert all(r.mapping[k] == k for k in r.mapping)
    pb = r.to_b(symrnn.derive("lstm").init_params(hidden_size=2, input_size=3, output_size=2))
    assert all(np.all(pb[k] == 0) for k in PEEPHOLES)
    differs = compare("lstm", "lstm-peephole")
    assert not differs.equivalent
    assert "p_f ⊙ c[t-1]" in differs.first_difference or "p_i ⊙ c[t-1]" in differs.first_difference


def test_gate_counts_are_reported():
    r = compare("lstm", "lstm-1997")
    assert r.first_difference == "sigmoid gates: A has 3 (f, i, o), B has 2 (i, o)"


def test_fix_is_validated():
    with pytest.raises(ValueError, match="neither"):
        compare("lstm", "lstm-peephole", fix={"p_x": 0})
    with pytest.raises(ValueError, match="only 0"):
        compare("lstm", "lstm-peephole", fix={"p_i": 1})


def test_not_equivalent_result_cannot_convert():
    r = compare("gru", "gru-pytorch")
    with pytest.raises(ValueError, match="not equivalent"):
        r.to_b({})


# ---------------------------------------------------------------- custom cells


def _stacked_pytorch_lstm() -> Cell:
    """nn.LSTM's own layout: one weight_ih (4H × X) split by rows, gates i, f, g, o."""
    cell = Cell("lstm-stacked", family="LSTM", source="PyTorch", convention="stacked rows")
    x, h, c = cell.input("x"), cell.state("h"), cell.state("c")
    w_ih, w_hh = cell.weight("weight_ih", 4 * HIDDEN, INPUT), cell.weight("weight_hh", 4 * HIDDEN, HIDDEN)
    b_ih, b_hh = cell.bias("bias_ih", 4 * HIDDEN), cell.bias("bias_hh", 4 * HIDDEN)

    def pre(k):
        return (
            ir.rows(w_ih, k * HIDDEN, (k + 1) * HIDDEN) @ x
            + ir.rows(b_ih, k * HIDDEN, (k + 1) * HIDDEN)
            + (ir.rows(w_hh, k * HIDDEN, (k + 1) * HIDDEN) @ h + ir.rows(b_hh, k * HIDDEN, (k + 1) * HIDDEN))
        )

    i, f = cell.let("i", sigmoid(pre(0))), cell.let("f", sigmoid(pre(1)))
    g, o = cell.let("g", tanh(pre(2))), cell.let("o", sigmoid(pre(3)))
    c_t = cell.let("c", f * c + i * g)
    cell.let("h", o * tanh(c_t))
    return cell


def test_row_blocks_of_stacked_weights():
    r = compare("lstm-pytorch", _stacked_pytorch_lstm())
    assert r.equivalent, str(r)
    assert r.mapping["weight_ih"] == "[W_ii; W_if; W_ig; W_io]"
    assert r.mapping["bias_hh"] == "[b_hi; b_hf; b_hg; b_ho]"
    assert r.inverse_mapping["W_ig"] == "weight_ih[2*hidden_size:3*hidden_size, :]"


def _complemented_state() -> Cell:
    """h_t = 1 - σ(W_h h + W_i x): the state itself is a complemented gate."""
    cell = Cell("rnn-complement", family="RNN", source="test", convention="1 - σ")
    x, h = cell.input("x"), cell.state("h")
    cell.let("h", 1 - sigmoid(cell.weight("A") @ h + cell.weight("B", HIDDEN, INPUT) @ x))
    cell.readout("h", weight="C", bias=None)
    return cell


def test_complement_inside_the_state_update():
    r = compare("rnn-sigmoid", _complemented_state())
    assert r.equivalent, str(r)
    # B's gate is 1 - (A's gate): its pre-activation is minus A's
    assert r.value_mapping == {"sigmoid(·)": "1 - h"}
    assert (r.mapping["A"], r.mapping["B"], r.mapping["C"]) == ("-W_h", "-W_i", "W_o")


def test_outside_the_family_raises():
    cell = Cell("bilinear", family="RNN", source="test", convention="W h ⊙ U x")
    x, h = cell.input("x"), cell.state("h")
    cell.let("h", tanh((cell.weight("W") @ h) * (cell.weight("U", HIDDEN, INPUT) @ x)))
    with pytest.raises(OutsideFamily, match="bilinear"):
        compare("rnn", cell)


def test_witness_without_a_state_correspondence():
    r = compare("rnn-softmax", "lstm")
    assert not r.equivalent
    assert r.first_difference == "tanh gates: A has 1 (s), B has 2 (g, tanh(c))"
    assert r.witness.output == "y_bar"


def test_generic_functions_cannot_be_verified():
    from symrnn.activations import generic

    cell = Cell("generic", family="RNN", source="test", convention="f")
    x, h = cell.input("x"), cell.state("h")
    cell.let("h", generic("f")(cell.weight("W") @ h + cell.weight("U", HIDDEN, INPUT) @ x))
    with pytest.raises(OutsideFamily, match="no numeric form"):
        compare(cell, cell)
