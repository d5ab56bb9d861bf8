"""Derived cells as NumPy layers (issue 15): VJPs, loss structures, stacks, both directions, errors.

Every gradient is compared with torch autograd (float64) of an independent reference: the
cells' paper equations (tests/references) or nn.LSTM / nn.GRU themselves.
"""

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F

import symrnn
from symrnn import Cell
from symrnn.activations import tanh
from symrnn.ir import HIDDEN, INPUT
from symrnn.layers import Layer, derive_layer
from symrnn.layers.loss import loss_and_grads
from tests.layers.layer_reference import layer_outputs, to_tensors, vjp
from tests.layers.torch_stacks import MODULES, layer_grads, layer_params
from tests.references import REFERENCES

T, B, X, H = 5, 3, 3, 4
LENGTHS = np.array([5, 3, 1])


def _mask():
    return (np.arange(T)[:, None] < LENGTHS[None, :]).astype(np.float64)


def _cell_params(name, seed=1, output_size=3):
    d = symrnn.derive(name)
    params = d.init_params(hidden_size=H, input_size=X, output_size=output_size, seed=seed)
    return params, {k: v for k, v in params.items() if k in d.cell.params}


def _assert_grads(got, want, keys=None):
    for k in keys or want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("name", symrnn.cells())
@pytest.mark.parametrize("masked,reverse", [(False, False), (True, False), (True, True)])
def test_backward_is_the_vjp_of_the_papers_equations(name, masked, reverse):
    rng = np.random.default_rng(3)
    _, params = _cell_params(name)
    layer = Layer(name, reverse=reverse)
    xs = rng.standard_normal((T, B, X))
    initial = {s: 0.5 * rng.standard_normal((B, H)) for s in layer.states}
    mask = _mask() if masked else None
    out, final, tape = layer.forward(params, xs, initial, mask)
    delta = rng.standard_normal(out.shape)
    delta_final = {s: rng.standard_normal(v.shape) for s, v in final.items()}
    grads = layer.backward(params, tape, delta, delta_final)
    ref_out, ref_final, ref_grads = vjp(name, params, xs, initial, delta, delta_final, mask, reverse)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-14)
    for s in final:
        np.testing.assert_allclose(final[s], ref_final[s], rtol=1e-12, atol=1e-14)
    assert set(grads) == set(ref_grads)
    _assert_grads(grads, ref_grads)
    if masked:  # padding neither outputs nor receives gradient
        assert np.all(out[LENGTHS[2] :, 2] == 0) and np.all(grads["xs"][LENGTHS[2] :, 2] == 0)


def test_the_layer_recursions_show_the_upstream_and_input_gradients():
    text = derive_layer("lstm").text()
    assert "δh[t] = Δ_h[t] + W_hgᵀ δḡ[t+1]" in text
    assert "δx[t] = W_xfᵀ δf̄[t] + W_xiᵀ δī[t] + W_xgᵀ δḡ[t] + W_xoᵀ δō[t]" in text
    assert "∂J/∂c[0] = δc[1] ⊙ f[1]" in text


def _targets(rng, loss, shape, n):
    if loss == "softmax_ce":
        return rng.integers(0, n, shape)
    if loss == "bce":
        return rng.uniform(0, 1, (*shape, n))
    return rng.standard_normal((*shape, n))


def _torch_loss(loss, z, y):
    if loss == "softmax_ce":
        return F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1), reduction="none").reshape(z.shape[:-1])
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(z, y, reduction="none").sum(-1)
    return 0.5 * ((z - y) ** 2).sum(-1)


STRUCTURES = [
    (loss, at, reduction, masked)
    for loss in ("softmax_ce", "bce", "mse")
    for at in ("every", "last")
    for reduction in ("sum", "mean")
    for masked in (False, True)
]


@pytest.mark.parametrize("name", symrnn.cells())
def test_every_loss_structure_equals_torch_autograd(name):
    """Every catalogue cell × loss × where it is read × reduction × mask, inputs' gradients included."""
    rng = np.random.default_rng(5)
    params, cell_params = _cell_params(name)
    layer = Layer(name)
    xs = rng.standard_normal((T, B, X))
    _, weight, bias = REFERENCES[name].readout
    for loss, at, reduction, masked in STRUCTURES:
        mask = _mask() if masked else None
        y = _targets(rng, loss, (T, B) if at == "every" else (B,), 3)
        J, grads = loss_and_grads(layer, params, xs, y, mask, loss=loss, at=at, reduction=reduction)
        p, x = to_tensors(params), torch.tensor(xs, requires_grad=True)
        s0 = {s: torch.zeros(B, H, dtype=torch.float64, requires_grad=True) for s in layer.states}
        m = None if mask is None else torch.tensor(mask)
        out, _ = layer_outputs(name, {k: p[k] for k in cell_params}, x, s0, m)
        z = out @ p[weight].T + (p[bias] if bias else 0)
        w = torch.ones(T, B, dtype=torch.float64) if m is None else m
        if at == "last":
            last = [T - 1] * B if mask is None else list(LENGTHS - 1)
            z, w = torch.stack([z[last[b], b] for b in range(B)]), torch.ones(B, dtype=torch.float64)
        values = _torch_loss(loss, z, torch.tensor(y))
        Jt = (w * values).sum() / (w.sum() if reduction == "mean" else 1)
        leaves = {**p, "xs": x, **{f"{s}_0": v for s, v in s0.items()}}
        want = dict(zip(leaves, torch.autograd.grad(Jt, list(leaves.values()), allow_unused=True), strict=True))
        assert J == pytest.approx(Jt.item(), rel=1e-12)
        _assert_grads(grads, {k: np.zeros(leaves[k].shape) if g is None else g.numpy() for k, g in want.items()})


def test_one_hot_and_integer_targets_agree_and_bad_targets_are_named():
    rng = np.random.default_rng(0)
    params, _ = _cell_params("gru")
    layer, xs = Layer("gru"), rng.standard_normal((T, B, X))
    classes = rng.integers(0, 3, (T, B))
    J1, g1 = loss_and_grads(layer, params, xs, classes)
    J2, g2 = loss_and_grads(layer, params, xs, np.eye(3)[classes])
    assert J1 == J2 and all(np.array_equal(g1[k], g2[k]) for k in g1)
    with pytest.raises(ValueError, match=r"class targets must lie in 0…2"):
        loss_and_grads(layer, params, xs, classes + 1)
    with pytest.raises(ValueError, match=r"integer targets must have shape \(3,\)"):
        loss_and_grads(layer, params, xs, classes, at="last")


def _projected_indrnn():
    """A user cell with a second size and a vector recurrent weight (IndRNN's u ⊙ h)."""
    P = sympy.Symbol("proj_size", positive=True, integer=True)
    cell = Cell("proj-indrnn", source="test: IndRNN with a projection", convention="u ⊙ h, r = V h")
    x, h, r = cell.input("x"), cell.state("h"), cell.state("r", P)
    W, u, U = cell.weight("W", HIDDEN, INPUT), cell.param("u", HIDDEN, 1), cell.weight("U", HIDDEN, P)
    V, b = cell.weight("V", P, HIDDEN), cell.bias("b")
    h_new = cell.let("h", tanh(W @ x + u * h + U @ r + b))
    cell.let("r", V @ h_new)
    return cell


def test_a_user_cell_with_two_sizes_and_a_vector_weight():
    rng = np.random.default_rng(2)
    layer = Layer(_projected_indrnn())
    Pn = 2
    params = {
        "W": rng.standard_normal((H, X)),
        "u": rng.standard_normal(H),
        "U": rng.standard_normal((H, Pn)),
        "V": rng.standard_normal((Pn, H)),
        "b": rng.standard_normal(H),
    }
    xs = rng.standard_normal((T, B, X))
    initial = {"h": rng.standard_normal((B, H)), "r": rng.standard_normal((B, Pn))}
    out, final, tape = layer.forward(params, xs, initial, _mask())
    delta, delta_r = rng.standard_normal(out.shape), rng.standard_normal((B, Pn))
    grads = layer.backward(params, tape, delta, {"r": delta_r})

    p, x = to_tensors(params), torch.tensor(xs, requires_grad=True)
    s0 = to_tensors(initial)
    h, r, m, outs = s0["h"], s0["r"], torch.tensor(_mask()), []
    for t in range(T):
        h_new = torch.tanh(x[t] @ p["W"].T + p["u"] * h + r @ p["U"].T + p["b"])
        r_new = h_new @ p["V"].T
        mt = m[t][:, None]
        h, r = mt * h_new + (1 - mt) * h, mt * r_new + (1 - mt) * r
        outs.append(mt * h)
    J = (torch.stack(outs) * torch.tensor(delta)).sum() + (r * torch.tensor(delta_r)).sum()
    leaves = {**p, "xs": x, "h_0": s0["h"], "r_0": s0["r"]}
    want = dict(zip(leaves, (g.numpy() for g in torch.autograd.grad(J, list(leaves.values()))), strict=True))
    np.testing.assert_allclose(out, torch.stack(outs).detach().numpy(), rtol=1e-12)
    _assert_grads(grads, want)


@pytest.mark.parametrize("name", ["lstm-pytorch", "gru-pytorch"])
def test_a_stack_of_bidirectional_layers_equals_torch_nn_on_ragged_sequences(name):
    torch.manual_seed(0)
    sizes = (X, 4, 2)  # input 3 → 2 × 4 → 2 × 2: the layers' sizes differ
    modules = [MODULES[name](sizes[k] if k == 0 else 2 * sizes[k], sizes[k + 1], bidirectional=True) for k in range(2)]
    modules = [m.double() for m in modules]
    rng = np.random.default_rng(4)
    xs = rng.standard_normal((T, B, X))
    model = symrnn.stack(symrnn.bidirectional(name), symrnn.bidirectional(name))
    params = [[layer_params(m, name, 0), layer_params(m, name, 0, reverse=True)] for m in modules]
    mask = _mask()
    out, finals, tapes = model.forward(params, xs, mask=mask)
    delta = rng.standard_normal(out.shape)
    grads = model.backward(params, tapes, delta)

    x = torch.tensor(xs, requires_grad=True)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(LENGTHS), enforce_sorted=False)
    for m in modules:
        packed, _ = m(packed)
    ref, _ = torch.nn.utils.rnn.pad_packed_sequence(packed, total_length=T)
    (ref * torch.tensor(delta)).sum().backward()
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grads["xs"], x.grad.numpy(), rtol=1e-10, atol=1e-12)
    for k, m in enumerate(modules):
        for direction in (0, 1):
            want = layer_grads(m, name, 0, reverse=bool(direction))
            _assert_grads(grads["layers"][k]["directions"][direction], want)


def test_bad_inputs_name_the_parameter_and_the_expected_shape():
    _, params = _cell_params("lstm")
    layer, xs = Layer("lstm"), np.zeros((T, B, X))
    bad = dict(params, W_hf=np.zeros((H, X)))
    with pytest.raises(ValueError, match=r"parameter 'W_hf' has shape \(4, 3\); expected \(hidden_size, hidden_size\)"):
        layer.forward(bad, xs)
    with pytest.raises(ValueError, match=r"missing parameter 'b_o'; expected shape \(hidden_size,\)"):
        layer.forward({k: v for k, v in params.items() if k != "b_o"}, xs)
    with pytest.raises(TypeError, match=r"parameter 'W_xf' must be a floating-point array"):
        layer.forward(dict(params, W_xf=np.zeros((H, X), int)), xs)
    with pytest.raises(TypeError, match=r"parameter 'W_xf' is float32 but xs is float64; give every array one dtype"):
        layer.forward(dict(params, W_xf=params["W_xf"].astype(np.float32)), xs)
    with pytest.raises(TypeError, match=r"initial state 'h' is float32 but xs is float64"):
        layer.forward(params, xs, {"h": np.zeros((B, H), np.float32)})
    with pytest.raises(ValueError, match=r"xs must be a floating-point array of shape \(T, batch, input_size\)"):
        layer.forward(params, np.zeros((T, X)))
    with pytest.raises(ValueError, match=r"xs has 2 features; expected input_size = 3"):
        layer.forward(params, np.zeros((T, B, 2)))
    with pytest.raises(ValueError, match=r"initial state 'c' has shape \(3, 2\); expected \(batch, size\) = \(3, 4\)"):
        layer.forward(params, xs, {"c": np.zeros((B, 2))})
    with pytest.raises(ValueError, match=r"mask entries must be 0 or 1"):
        layer.forward(params, xs, mask=np.full((T, B), 0.5))
    with pytest.raises(ValueError, match=r"mask must have shape \(T, batch\) = \(5, 3\)"):
        layer.forward(params, xs, mask=np.ones((B, T)))
    _, _, tape = layer.forward(params, xs)
    with pytest.raises(ValueError, match=r"grad_outputs has shape \(5, 3, 2\); expected \(5, 3, 4\)"):
        layer.backward(params, tape, np.zeros((T, B, 2)))


def test_empty_sequences_and_float32():
    _, params = _cell_params("gru")
    layer = Layer("gru")
    out, final, tape = layer.forward(params, np.zeros((0, B, X)))
    grads = layer.backward(params, tape, np.zeros((0, B, H)))
    assert out.shape == (0, B, H) and grads["xs"].shape == (0, B, X) and not grads["W_hh"].any()
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    out, _, tape = layer.forward(p32, np.ones((T, B, X), np.float32))
    assert out.dtype == np.float32 and layer.backward(p32, tape, np.ones_like(out))["xs"].dtype == np.float32


def test_training_on_the_adding_problem_with_ragged_lengths_beats_the_mean_predictor():
    """Sum of the two marked numbers, read at each sequence's last real step, NumPy + Adam."""
    rng = np.random.default_rng(0)
    d = symrnn.derive("gru", "mse")
    layer, hidden = Layer("gru"), 16
    params = d.init_params(hidden_size=hidden, input_size=2, output_size=1, seed=0)

    def batch(n=64, longest=10):
        lengths = rng.integers(4, longest + 1, n)
        xs = np.zeros((longest, n, 2))
        xs[:, :, 0] = rng.uniform(0, 1, (longest, n))
        for b, n_b in enumerate(lengths):
            xs[rng.choice(n_b, 2, replace=False), b, 1] = 1
        y = (xs[:, :, 0] * xs[:, :, 1]).sum(axis=0)[:, None]
        return xs, y, (np.arange(longest)[:, None] < lengths[None, :]).astype(float)

    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(v) for k, v in params.items()}
    for step in range(1, 301):
        xs, y, mask = batch()
        _, grads = loss_and_grads(layer, params, xs, y, mask, loss="mse", at="last", reduction="mean")
        for k in params:
            m[k] = 0.9 * m[k] + 0.1 * grads[k]
            v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
            params[k] -= 0.01 * (m[k] / (1 - 0.9**step)) / (np.sqrt(v[k] / (1 - 0.999**step)) + 1e-8)
    xs, y, mask = batch(512)
    J, _ = loss_and_grads(layer, params, xs, y, mask, loss="mse", at="last", reduction="mean")
    baseline = 0.5 * np.mean((y - y.mean()) ** 2)  # the mean predictor's loss, ½ Var(y) ≈ 1/12
    assert J < 0.25 * baseline, (J, baseline)


def test_stack_and_bidirectional_texts_show_the_terms_that_connect_them():
    text = symrnn.stack(symrnn.bidirectional("rnn"), "gru").text()
    assert "δh[t] = Δ_h[t] + W_hhᵀ δh̄[t+1]" in text  # the forward direction
    assert "δh[t] = Δ_h[t] + W_hhᵀ δh̄[t-1]" in text  # the reverse one: the carry comes from t-1
    assert "∂J/∂W_hh = Σ_t δh̄[t] h[t+1]ᵀ" in text
    assert "δx[t] = δx[t] forward + δx[t] backward" in text
    assert "Δ[t] of layer 1 = δx[t] of layer 2 (its input gradient)" in text
    assert "── layer 2 of 2: its inputs are layer 1's outputs" in text


def test_the_user_cell_with_two_sizes_derives_compiles_and_passes_gradcheck():
    d = symrnn.derive(_projected_indrnn())
    with pytest.raises(ValueError, match=r"parameter 'U' has a size proj_size: pass sizes=\{'proj_size': n\}"):
        d.init_params(hidden_size=3, input_size=2, output_size=2)
    params = d.init_params(hidden_size=3, input_size=2, output_size=2, sizes={"proj_size": 2}, seed=1)
    assert params["U"].shape == (3, 2) and params["V"].shape == (2, 3) and params["u"].shape == (3,)
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal((4, 2, 2)), np.eye(2)[rng.integers(0, 2, (4, 2))]
    for optimize in (True, False):
        assert symrnn.gradcheck(d.numpy(optimize=optimize).loss_and_grads, params, xs, ys)
