"""Generated code ≡ PyTorch autograd, and parameters move between the two without loss.

For ``rnn``, ``rnn-relu``, ``lstm``, ``lstm-pytorch`` and ``gru-pytorch``, with
the same weights and inputs in float64, the summed softmax cross-entropy over T
and the batch and *every* gradient (parameters and initial states) agree with
``torch.autograd`` within ρ = |a − b| / max(1, |a| + |b|) ≤ 1e-10, for the
sequence modules and the ``*Cell`` modules, at ordinary scale and with
pre-activations of magnitude ≥ 50, where a naive σ or softmax would overflow.
"""

import numpy as np
import pytest
import torch  # the test extra pins torch==2.13.0: missing torch is a failure, not a skip

import symrnn  # noqa: E402
from symrnn.torch_interop import SPECS, TorchModel, from_torch, grads_from_torch, to_torch  # noqa: E402

CELLS = list(SPECS)
T, B, X, H, OUT = 5, 3, 4, 3, 5


def _rho(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a) + np.abs(b)), initial=0.0))


def _problem(name, seed, large):
    d = symrnn.derive(name)
    rng = np.random.default_rng(seed)
    params = d.init_params(hidden_size=H, input_size=X, output_size=OUT, seed=seed)
    xs = rng.standard_normal((T, B, X))
    if large:
        params = {k: 40.0 * v for k, v in params.items()}
        xs = 10.0 * xs
    ys = np.eye(OUT)[rng.integers(0, OUT, (T, B))]
    init = {s: rng.uniform(-1, 1, (B, H)) for s in d.states}
    return d, params, xs, ys, init


def _torch_loss_and_grads(name, params, xs, ys, init, step):
    model = to_torch(name, params, step=step)
    h0 = {s: torch.tensor(v, requires_grad=True) for s, v in init.items()}
    logits = model(torch.tensor(xs), h0)
    loss = -(torch.tensor(ys) * torch.log_softmax(logits, dim=-1)).sum()
    loss.backward()
    grads = grads_from_torch(name, model)
    grads |= {f"{s}_0": v.grad.numpy() for s, v in h0.items()}
    return loss.item(), grads


@pytest.mark.parametrize("large", [False, True], ids=["ordinary", "large"])
@pytest.mark.parametrize("step", [False, True], ids=["sequence", "cell"])
@pytest.mark.parametrize("name", CELLS)
def test_loss_and_every_gradient_match_autograd(name, step, large):
    d, params, xs, ys, init = _problem(name, seed=11, large=large)
    module = d.numpy()
    values = module.forward(params, xs, init)
    pre = max(float(np.max(np.abs(v))) for k, v in values.items() if k.endswith("_bar"))
    if large:
        assert pre >= 50, f"largest pre-activation {pre:.1f}"
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grads = module.loss_and_grads(params, xs, ys, init)
    tloss, tgrads = _torch_loss_and_grads(name, params, xs, ys, init, step)
    assert np.isfinite(loss)
    assert _rho(loss, tloss) <= 1e-10, (loss, tloss)
    assert set(grads) == set(tgrads) == set(params) | {f"{s}_0" for s in d.states}
    for key in grads:
        assert grads[key].shape == tgrads[key].shape, key
        assert _rho(grads[key], tgrads[key]) <= 1e-10, f"{name}: ∂J/∂{key}, ρ = {_rho(grads[key], tgrads[key]):.2e}"


def _torch_module(name, step, dtype=torch.float64):
    kind = SPECS[name].kind
    cls = getattr(torch.nn, kind + ("Cell" if step else ""))
    kwargs = {"nonlinearity": SPECS[name].nonlinearity} if kind == "RNN" else {}
    torch.manual_seed(0)
    return cls(X, H, **kwargs).to(dtype)


@pytest.mark.parametrize("step", [False, True], ids=["sequence", "cell"])
@pytest.mark.parametrize("name", CELLS)
def test_from_torch_gives_the_modules_function(name, step):
    module = _torch_module(name, step)
    readout = torch.nn.Linear(H, OUT).double()
    with torch.no_grad():  # PyTorch's own bias_hh is nonzero: merged biases must sum it
        for p in module.parameters():
            p.add_(0.3 * torch.randn_like(p))
    params = from_torch(name, module, readout)
    d = symrnn.derive(name)
    assert list(params) == list(d.params)
    xs = np.random.default_rng(1).standard_normal((T, B, X))
    ours = d.numpy().forward(params, xs)["y_bar"]
    theirs = TorchModel(module, readout, SPECS[name].kind)(torch.tensor(xs)).detach().numpy()
    assert _rho(ours, theirs) <= 1e-12


@pytest.mark.parametrize("name", CELLS)
def test_round_trip(name):
    d, params, _, _, _ = _problem(name, seed=2, large=False)
    for step in (False, True):
        model = to_torch(name, params, step=step)
        back = from_torch(name, model)
        assert list(back) == list(params)
        for key in params:
            np.testing.assert_array_equal(back[key], params[key])
        # a plain state dict (with the _l0 suffixes) works too
        back = from_torch(name, model.recurrent.state_dict(), model.readout)
        assert all(np.array_equal(back[k], params[k]) for k in params)
    merged = SPECS[name].b_hh is None
    bias_hh = to_torch(name, params).recurrent.bias_hh_l0
    assert bool(torch.all(bias_hh == 0)) is merged


def test_float32_stays_float32():
    params = symrnn.derive("lstm-pytorch").init_params(hidden_size=H, input_size=X, output_size=OUT, dtype="float32")
    model = to_torch("lstm-pytorch", params)
    assert model.recurrent.weight_ih_l0.dtype == torch.float32
    assert all(v.dtype == np.float32 for v in from_torch("lstm-pytorch", model).values())


def test_without_readout_the_readout_parameters_are_absent():
    params = from_torch("gru-pytorch", _torch_module("gru-pytorch", step=False))
    assert "W_y" not in params and "W_ir" in params and params["W_ir"].shape == (H, X)


@pytest.mark.parametrize(
    "name, module, message",
    [
        ("lstm", torch.nn.LSTM(X, H, num_layers=2), "one-layer"),
        ("lstm", torch.nn.LSTM(X, H, bidirectional=True), "one-layer"),
        ("lstm", torch.nn.LSTM(X, H + 1, proj_size=H), "proj"),
        ("lstm", torch.nn.GRU(X, H), "expected nn.LSTM"),
        ("rnn", torch.nn.RNN(X, H, nonlinearity="relu"), "relu"),
        ("gru", torch.nn.GRU(X, H), "gru-pytorch"),
        ("mgu", torch.nn.GRU(X, H), "no PyTorch module"),
    ],
)
def test_unsupported_modules_are_refused(name, module, message):
    with pytest.raises(ValueError, match=message):
        from_torch(name, module)


def test_compare_agrees_with_pytorch_bias_merge():
    """compare() says lstm-pytorch is lstm with b = b_ih + b_hh; the torch round trip agrees."""
    from symrnn.equivalence import compare

    r = compare("lstm-pytorch", "lstm")
    assert r.mapping["b_i"] == "b_ii + b_hi"
    module = _torch_module("lstm-pytorch", step=False)
    readout = torch.nn.Linear(H, OUT).double()
    ours = r.to_b(from_torch("lstm-pytorch", module, readout))
    direct = from_torch("lstm", module, readout)
    for key in direct:
        np.testing.assert_allclose(ours[key], direct[key], rtol=0, atol=1e-15)
