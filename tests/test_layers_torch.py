"""Derived cells as torch layers (issue 15): nn.Module whose backward is the derived BPTT."""

import numpy as np
import pytest
import torch

import symrnn
from symrnn.layers.torch_layer import DerivedStack, torch_module
from tests.layers.layer_reference import vjp
from tests.layers.torch_stacks import MODULES, layer_grads, layer_params

T, B, X, H = 4, 2, 3, 3
F64 = torch.float64


def _mask():
    return torch.tensor([[1, 1], [1, 1], [1, 0], [1, 0]], dtype=F64)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "lstm-peephole", "mgu"])
def test_gradcheck_for_parameters_inputs_and_initial_states(name):
    module = torch_module(name, input_size=X, hidden_size=H, dtype=F64)
    names, states = list(module.params), module.states
    gen = torch.Generator().manual_seed(0)
    xs = torch.randn(T, B, X, dtype=F64, generator=gen, requires_grad=True)
    s0 = [torch.randn(B, H, dtype=F64, generator=gen, requires_grad=True) for _ in states]
    params = [p.detach().clone().requires_grad_() for p in module.params.values()]

    def run(xs, *tensors):
        fn = module.function.apply
        out, *final = fn(xs, _mask(), *tensors[: len(names)], *tensors[len(names) :])
        return (out, *final)

    assert torch.autograd.gradcheck(run, (xs, *params, *s0))


@pytest.mark.parametrize("name", symrnn.cells())
def test_module_gradients_equal_autograd_of_the_papers_equations(name):
    module = torch_module(name, input_size=X, hidden_size=H, dtype=F64, seed=3)
    rng = np.random.default_rng(1)
    xs_np = rng.standard_normal((T, B, X))
    initial = {s: rng.standard_normal((B, H)) for s in module.states}
    xs = torch.tensor(xs_np, requires_grad=True)
    s0 = {s: torch.tensor(v, requires_grad=True) for s, v in initial.items()}
    out, final = module(xs, s0, _mask())
    delta = rng.standard_normal(tuple(out.shape))
    delta_final = {s: rng.standard_normal(tuple(v.shape)) for s, v in final.items()}
    J = (out * torch.tensor(delta)).sum() + sum((final[s] * torch.tensor(g)).sum() for s, g in delta_final.items())
    J.backward()
    params = {k: p.detach().numpy() for k, p in module.params.items()}
    _, _, want = vjp(name, params, xs_np, initial, delta, delta_final, _mask().numpy())
    got = {k: p.grad.numpy() for k, p in module.params.items()}
    got.update({"xs": xs.grad.numpy(), **{f"{s}_0": v.grad.numpy() for s, v in s0.items()}})
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_gradients_reach_an_encoder_in_front():
    """The issue's report: an nn.Linear before the cell got .grad None, silently."""
    torch.manual_seed(0)
    encoder = torch.nn.Linear(5, X).double()
    module = torch_module("lstm", input_size=X, hidden_size=H, dtype=F64)
    xs = torch.randn(T, B, 5, dtype=F64, requires_grad=True)
    out, _ = module(encoder(xs))
    out.pow(2).sum().backward()
    assert encoder.weight.grad is not None and encoder.weight.grad.abs().sum() > 0
    assert xs.grad is not None and xs.grad.abs().sum() > 0


def test_double_backward_raises_a_clear_error():
    module = torch_module("gru", input_size=X, hidden_size=H, dtype=F64)
    xs = torch.randn(T, B, X, dtype=F64, requires_grad=True)
    (g,) = torch.autograd.grad(module(xs)[0].sum(), xs)  # first order: fine
    assert g.abs().sum() > 0 and not g.requires_grad
    with pytest.raises(RuntimeError, match="double backward through the derived gru layer is not supported"):
        torch.autograd.grad(module(xs)[0].sum(), xs, create_graph=True)


@pytest.mark.parametrize("name", ["lstm-pytorch", "gru-pytorch"])
def test_stacked_bidirectional_modules_equal_torch_nn(name):
    torch.manual_seed(1)
    reference = MODULES[name](X, 4, num_layers=2, bidirectional=True).double()
    layers = []
    for k, size in enumerate((X, 8)):
        layer = torch_module(name, input_size=size, hidden_size=4, bidirectional=True, dtype=F64)
        for direction, sub in ((False, layer.forward_layer), (True, layer.backward_layer)):
            for key, value in layer_params(reference, name, k, direction).items():
                sub.params[key].data.copy_(torch.tensor(value))
        layers.append(layer)
    model = DerivedStack(*layers)
    lengths = torch.tensor([4, 2])
    xs = torch.randn(T, B, X, dtype=F64, requires_grad=True)
    xr = xs.detach().clone().requires_grad_()
    mask = (torch.arange(T)[:, None] < lengths[None, :]).to(F64)
    out, _ = model(xs, mask=mask)
    packed = torch.nn.utils.rnn.pack_padded_sequence(xr, lengths, enforce_sorted=False)
    ref, _ = torch.nn.utils.rnn.pad_packed_sequence(reference(packed)[0], total_length=T)
    weights = torch.randn(out.shape, dtype=F64)
    (out * weights).sum().backward()
    (ref * weights).sum().backward()
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(xs.grad, xr.grad, rtol=1e-10, atol=1e-12)
    for k, layer in enumerate(layers):
        for direction, sub in ((False, layer.forward_layer), (True, layer.backward_layer)):
            for key, want in layer_grads(reference, name, k, direction).items():
                np.testing.assert_allclose(sub.params[key].grad.numpy(), want, rtol=1e-10, atol=1e-12)


class _Classifier(torch.nn.Module):
    """Embedding → derived LSTM → linear head on the last real step."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(4, 6)
        self.rnn = symrnn.derive("lstm").torch_module(input_size=6, hidden_size=12, seed=0)
        self.head = torch.nn.Linear(12, 2)

    def forward(self, tokens, mask):
        out, final = self.rnn(self.embed(tokens), mask=mask)
        return self.head(final["h"])


def test_a_model_with_the_module_inside_trains_with_torch_optim():
    """Class = whether token 1 occurs before token 2 in a ragged sequence."""
    torch.manual_seed(0)
    model = _Classifier()
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)

    def batch(n=64, longest=8):
        tokens = torch.randint(0, 4, (longest, n))
        lengths = torch.randint(3, longest + 1, (n,))
        mask = (torch.arange(longest)[:, None] < lengths[None, :]).float()
        tokens = tokens * mask.long()
        first = lambda v: torch.where((tokens == v) & (mask > 0), torch.arange(longest)[:, None], longest).min(0).values  # noqa: E731
        return tokens, mask, (first(1) < first(2)).long()

    losses = []
    for _ in range(150):
        tokens, mask, y = batch()
        loss = torch.nn.functional.cross_entropy(model(tokens, mask), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    tokens, mask, y = batch(512)
    accuracy = (model(tokens, mask).argmax(1) == y).float().mean().item()
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:10]) and accuracy > 0.85, (losses[-5:], accuracy)


def test_bad_inputs_are_named():
    module = torch_module("lstm", input_size=X, hidden_size=H, dtype=F64)
    with pytest.raises(ValueError, match=r"xs has 2 features; expected input_size = 3"):
        module(torch.zeros(T, B, 2, dtype=F64))
    with pytest.raises(ValueError, match="unknown initial state 'z'"):
        module(torch.zeros(T, B, X, dtype=F64), {"z": torch.zeros(B, H, dtype=F64)})
    with pytest.raises(ValueError, match=r"initial state 'h' has shape \(2, 2\); expected \(batch, size\) = \(2, 3\)"):
        module(torch.zeros(T, B, X, dtype=F64), {"h": torch.zeros(B, 2, dtype=F64)})
    with pytest.raises(ValueError, match="proj_size"):
        from tests.test_layers import _projected_indrnn

        torch_module(_projected_indrnn(), input_size=X, hidden_size=H)
    user = torch_module(_projected_indrnn(), input_size=X, hidden_size=H, sizes={"proj_size": 2}, dtype=F64)
    out, final = user(torch.randn(T, B, X, dtype=F64))
    assert out.shape == (T, B, H) and final["r"].shape == (B, 2)


@pytest.mark.parametrize("name,loss", [("lstm", "softmax_ce"), ("gru", "bce"), ("rnn", "mse")])
def test_torch_function_gives_xs_gradients_through_the_derived_layer(name, loss):
    """The issue's report: torch_function left xs.grad None, and gradcheck on xs failed."""
    from symrnn.problems import random_problem

    d = symrnn.derive(name, loss)
    fn = d.torch_function()
    params, xs, ys, initial = random_problem(d, hidden_size=3, input_size=2, output_size=2, steps=3, batch=2, seed=4)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    s0 = {k: torch.tensor(v, requires_grad=True) for k, v in initial.items()}
    x = torch.tensor(xs, requires_grad=True)
    value = fn(p, x, torch.tensor(ys), s0)
    value.backward()
    expected_loss, expected = d.numpy().loss_and_grads(params, xs, ys, initial)
    assert value.item() == pytest.approx(float(expected_loss), rel=1e-12)
    for k, t in {**p, **{f"{s}_0": v for s, v in s0.items()}}.items():
        np.testing.assert_allclose(t.grad.numpy(), expected[k], rtol=1e-10, atol=1e-12, err_msg=k)
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert torch.autograd.gradcheck(lambda x: fn(p, x, torch.tensor(ys), s0), (torch.tensor(xs, requires_grad=True),))
