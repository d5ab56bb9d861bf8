"""Derivations of every loss structure, and their input gradients, against torch autograd of the references.

``derive(cell, loss, at=..., reduction=..., mask=...)`` prints δȳ_t = w_t (ŷ_t − y_t) with the weight
w_t of the structure.  Here the derivation's own recurrences (run by the one evaluator, with w_t
computed by the test from the structure's definition, not by symrnn) must give the gradients torch
autograd gives for J = Σ_t Σ_b w_{t,b} L_{t,b} of the cell written again from its paper
(tests/references/), for every parameter, every initial state and every input x_t.  A wrong
weight, a dropped input share or a wrong sign in δx fails here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import symrnn
from symrnn.derivation import derive
from symrnn.evaluate import FLOAT64, grads_to_code, problem_from_code, run_backward, run_forward
from symrnn.problems import random_problem
from tests.helpers import assert_close
from tests.references import REFERENCES
from tests.references.unroll import leaves, run

H, X, OUT, T, B = 3, 2, 4, 4, 3
TOL = 1e-10
STRUCTURES = [
    ("every", "sum", False),
    ("every", "mean", False),
    ("every", "sum", True),
    ("every", "mean", True),
    ("last", "sum", False),
    ("last", "mean", True),
]
MASK = np.array([[1, 1, 1], [1, 1, 1], [1, 0, 1], [1, 0, 0]], dtype=np.float64)  # lengths 4, 2, 3


def _weights(at: str, reduction: str, mask: bool) -> np.ndarray:
    """w[t, b] from the definition of the structure, written independently of symrnn's."""
    real = MASK if mask else np.ones((T, B))
    if at == "last":
        lengths = real.sum(axis=0).astype(int)
        w = np.zeros((T, B))
        w[lengths - 1, np.arange(B)] = 1.0
    else:
        w = real.copy()
    if reduction == "mean":
        w = w / w.sum()
    return w


def _per_example_loss(logits: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """L[t, b] for logits (T, B, out)."""
    if loss == "softmax_ce":
        return -(y * torch.log_softmax(logits, dim=-1)).sum(-1)
    if loss == "bce":
        p = torch.sigmoid(logits)
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).sum(-1)
    return 0.5 * ((logits - y) ** 2).sum(-1)


def _targets(loss: str, rng) -> np.ndarray:
    if loss == "softmax_ce":
        return rng.dirichlet(np.ones(OUT), (T, B))
    if loss == "bce":
        return rng.uniform(0, 1, (T, B, OUT))
    return rng.standard_normal((T, B, OUT))


def _close(ours, theirs, what):
    assert_close(ours, theirs, what, TOL)


def _input_gradients(d, tape, grads) -> np.ndarray:
    """δx_t of every step, (T, batch, input), from the derivation's own δx equation run by the evaluator."""
    (dx,) = d.input_grads
    return np.stack([tape.evaluator(t, grads.values).value(dx.rhs)[..., 0] for t in range(1, tape.steps + 1)])


def _derived(d, params, xs, ys, initial, w):
    """J and every gradient (parameters, s_0, and "xs" from the derivation's δx equations)."""
    sizes = {symrnn.ir.HIDDEN: H, symrnn.ir.INPUT: X, symrnn.ir.OUTPUT: OUT}
    problem = problem_from_code(d, params, xs, ys, initial, sizes)
    if d.structure.is_default:
        assert not any(leaf.name == "w" for eq in d.backward for leaf in symrnn.ir.leaves(eq.rhs))
    else:
        problem.given["w"] = [w[t][:, None, None] for t in range(T)]
    tape = run_forward(d, problem, FLOAT64)
    grads = run_backward(tape)
    out = grads_to_code(d, grads)
    out["xs"] = _input_gradients(d, tape, grads)
    return float(tape.loss), out


def _reference(name, params, initial, xs, ys, loss, w):
    tensors = leaves(params, initial)
    x = torch.tensor(xs, requires_grad=True)
    _, _, logits, _ = run(REFERENCES[name], tensors, x)
    J = (torch.tensor(w) * _per_example_loss(logits, torch.tensor(ys), loss)).sum()
    names = list(tensors)
    grads = torch.autograd.grad(J, [tensors[k] for k in names] + [x], allow_unused=True)
    out = {k: (np.zeros(tensors[k].shape) if g is None else g.numpy()) for k, g in zip(names, grads, strict=False)}
    out["xs"] = grads[-1].numpy()
    return float(J.detach()), out


@pytest.mark.parametrize("at, reduction, mask", STRUCTURES)
@pytest.mark.parametrize("name", symrnn.cells())
def test_every_structure_and_the_input_gradients_equal_autograd_of_the_reference(name, at, reduction, mask):
    loss = "softmax_ce" if (at, reduction, mask) != ("every", "mean", True) else "mse"
    d = derive(name, loss, at=at, reduction=reduction, mask=mask)
    rng = np.random.default_rng(7)
    params, xs, _, initial = random_problem(d, hidden_size=H, input_size=X, output_size=OUT, steps=T, batch=B, seed=3)
    params = {k: 1.5 * v for k, v in params.items()}
    ys = _targets(loss, rng)
    w = _weights(at, reduction, mask)
    J, ours = _derived(d, params, xs, ys, initial, w)
    J_ref, theirs = _reference(name, params, initial, xs, ys, loss, w)
    _close(J, J_ref, f"{name} {at}/{reduction}/mask={mask}: J")
    assert set(ours) == set(theirs)
    for k in theirs:
        _close(ours[k], theirs[k], f"{name} {at}/{reduction}/mask={mask}: ∂J/∂{k}")


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru-pytorch"])
def test_the_numpy_code_of_a_structured_loss_is_the_derivations(name):
    """d.numpy() of a structured derivation (the layer code) gives the evaluator's J and gradients."""
    at, reduction, mask = "last", "mean", True
    d = derive(name, "softmax_ce", at=at, reduction=reduction, mask=mask)
    params, xs, _, initial = random_problem(d, hidden_size=H, input_size=X, output_size=OUT, steps=T, batch=B, seed=4)
    classes = np.array([1, 3, 0])
    w = _weights(at, reduction, mask)
    ys = np.zeros((T, B, OUT))
    lengths = MASK.sum(axis=0).astype(int)
    ys[lengths - 1, np.arange(B), classes] = 1.0
    J, ours = _derived(d, params, xs, ys, initial, w)
    value, grads = d.numpy().loss_and_grads(params, xs, classes, MASK, initial)
    _close(value, J, f"{name}: J")
    for k in ours:
        _close(grads[k], ours[k], f"{name}: ∂J/∂{k}")


def test_the_weight_and_the_input_gradient_are_printed_in_every_format():
    d = derive("rnn", at="last", reduction="mean")
    text = d.text()
    assert "δȳ[t] = w[t] ⊙ (ŷ[t] - y[t])" in text
    assert "w[t] = [t = T_b]/B" in text
    assert "Input gradients" in text and "δx[t] = W_xhᵀ δh̄[t]" in text
    latex, md = d.latex(), d.markdown()
    for doc in (latex, md):
        assert r"\frac{[t = T_b]}{B}" in doc
        assert r"\delta x_{t}" in doc
    data = json.loads(json.dumps(d.to_json()))
    assert data["loss_structure"] == {"at": "last", "reduction": "mean", "mask": False, "weight": "[t = T_b]/B"}
    assert [e["lhs"] for e in data["input_grads"]] == ["δx[t]"]
    plain = derive("rnn")
    assert "w[t]" not in plain.text() and "J = Σ_t Σ_batch L_t" in plain.text()


def test_the_upstream_form_starts_from_delta_and_refuses_code_with_a_loss():
    d = derive("lstm", "upstream")
    text = d.text()
    assert "δh[t] = Δ_h[t] + " in text
    assert not any(eq.lhs.name in ("y_bar", "L") for eq in d.forward)
    assert "δx[t] = W_xfᵀ δf̄[t]" in text
    md = d.markdown()
    assert r"\Delta_{h,t}" in md and "The upstream gradients" in md
    with pytest.raises(ValueError, match=r"d\.layer\(\)"):
        d.numpy()
    with pytest.raises(ValueError, match="upstream"):
        d.numpy_source()
    with pytest.raises(ValueError, match="leave at, reduction and mask"):
        derive("lstm", "upstream", at="last")


def test_the_upstream_recursions_equal_autograd_of_a_model_around_the_cell():
    """Δ_t from an arbitrary outer function of the outputs: the printed recursions give its gradients."""
    d = derive("gru", "upstream")
    params, xs, _, initial = random_problem(
        derive("gru"), hidden_size=H, input_size=X, output_size=OUT, steps=T, batch=B, seed=5
    )
    cell_params = {k: v for k, v in params.items() if k not in d.cell.readout_params()}
    tensors = leaves(cell_params | {"W_y": params["W_y"], "b_y": params["b_y"]}, initial)
    x = torch.tensor(xs, requires_grad=True)
    _, states, _, _ = run(REFERENCES["gru"], tensors, x)
    outer = torch.sin(states["h"]).sum() + (states["h"] ** 2).sum() * 0.3  # any model after the layer
    delta = torch.autograd.grad(outer, states["h"], retain_graph=True)[0].numpy()
    names = list(cell_params) + [f"{s}_0" for s in initial]
    expected = torch.autograd.grad(outer, [tensors[k] for k in names] + [x])
    sizes = {symrnn.ir.HIDDEN: H, symrnn.ir.INPUT: X, symrnn.ir.OUTPUT: OUT}
    problem = problem_from_code(d, cell_params, xs, None, initial, sizes)
    tape = run_forward(d, problem, FLOAT64)
    (eq,) = [e for e in d.backward if e.lhs.name == "h"]
    assert d.upstream["h"] in set(symrnn.ir.leaves(eq.rhs))
    # δh_t = Δ_t + (the printed terms of step t and t+1): the evaluator adds Δ_t to the rest
    grads = run_backward(tape, upstream={"h": [delta[t][..., None] for t in range(T)]})
    ours = grads_to_code(d, grads)
    ours["xs"] = _input_gradients(d, tape, grads)
    for k, g in zip(names + ["xs"], expected, strict=True):
        _close(ours[k], g.numpy(), f"gru upstream: ∂J/∂{k}")


@pytest.mark.parametrize("bad, message", [({"at": "first"}, "at must be"), ({"reduction": "max"}, "reduction must")])
def test_an_unknown_structure_is_refused_with_the_valid_values(bad, message):
    with pytest.raises(ValueError, match=message):
        derive("rnn", **bad)
