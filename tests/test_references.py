"""symrnn's derived gradients against torch autograd of every cell written again from its paper.

One row per catalogue cell (tests/references/, which never imports symrnn) × loss: the generated
NumPy code (optimised and plain), the derived torch.autograd.Function and the derivation's own
recurrences run by the one evaluator (symrnn/evaluate.py) must give the reference's loss, forward values
and gradients — every parameter and initial state — to 1e-10.  Targets are soft (softmax_ce rows
are probability vectors, not one-hot), so a closed form that only holds for one-hot targets fails.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symrnn
from symrnn.evaluate import FLOAT64, grads_to_code, problem_from_code, run_backward, run_forward
from symrnn.problems import random_problem
from tests.helpers import assert_close
from tests.references import REFERENCES
from tests.references.unroll import Params, gradients, leaves, run

CELLS = symrnn.cells()
LOSSES = ("softmax_ce", "bce", "mse")
H, X, OUT, T, B = 3, 2, 4, 3, 2  # distinct sizes: a weight of the wrong shape cannot multiply
TOL = 1e-10


def _problem(d, seed=0):
    """Parameters away from the linear regime, soft targets and non-zero initial states."""
    params, xs, _, initial = random_problem(
        d, hidden_size=H, input_size=X, output_size=OUT, steps=T, batch=B, seed=seed
    )
    rng = np.random.default_rng(seed + 100)
    params = {k: 1.5 * v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    if d.loss.name == "softmax_ce":
        ys = rng.dirichlet(np.ones(OUT), (T, B))
    elif d.loss.name == "bce":
        ys = rng.uniform(0, 1, (T, B, OUT))
    else:
        ys = rng.standard_normal((T, B, OUT))
    return params, xs, ys, initial


def _close(ours, theirs, what):
    assert_close(ours, theirs, what, TOL)


def test_every_catalogue_cell_has_a_reference():
    missing = [c for c in CELLS if c not in REFERENCES]
    assert not missing, f"catalogue cells without an independent reference in tests/references/: {missing}"
    assert sorted(REFERENCES) == sorted(CELLS), "a reference names a cell the catalogue lacks"


@pytest.mark.parametrize("name", CELLS)
def test_reference_reads_the_cells_parameters_and_states(name):
    d = symrnn.derive(name)
    ref = REFERENCES[name]
    params, xs, ys, initial = _problem(d)
    _, _, _, p = run(ref, leaves(params, initial), xs, ys)
    assert set(ref.states) == set(d.states)
    assert p.read == set(d.params), f"the reference reads {sorted(p.read)}; symrnn's cell has {sorted(d.params)}"


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", CELLS)
def test_derived_gradients_equal_autograd_of_the_reference(name, loss):
    d = symrnn.derive(name, loss)
    params, xs, ys, initial = _problem(d, seed=1)
    J, expected, _ = gradients(REFERENCES[name], params, initial, xs, ys, loss)
    for optimize in (True, False):
        module = d.numpy(optimize=optimize)
        what = f"{name}/{loss} optimize={optimize}"
        value, grads = module.loss_and_grads(params, xs, ys, initial)
        assert set(grads) == set(expected), what
        _close(value, J, f"{what}: loss_and_grads loss")
        _close(module.loss(params, xs, ys, initial), J, f"{what}: loss()")
        for k in expected:
            _close(grads[k], expected[k], f"{what}: ∂J/∂{k}")


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", CELLS)
def test_torch_function_equals_autograd_of_the_reference(name, loss):
    d = symrnn.derive(name, loss)
    params, xs, ys, initial = _problem(d, seed=2)
    J, expected, _ = gradients(REFERENCES[name], params, initial, xs, ys, loss)
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    s0 = {k: torch.tensor(v, requires_grad=True) for k, v in initial.items()}
    value = d.torch_function()(p, torch.tensor(xs), torch.tensor(ys), s0)
    value.backward()
    _close(value.item(), J, f"{name}/{loss}: torch_function loss")
    for k, v in {**p, **{f"{s}_0": t for s, t in s0.items()}}.items():
        _close(v.grad.numpy(), expected[k], f"{name}/{loss}: torch_function ∂J/∂{k}")


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", CELLS)
def test_the_derivations_recurrences_equal_autograd_of_the_reference(name, loss):
    """The derivation itself (its δ recurrences and Σ_t sums run by the one evaluator), not the generated code."""
    d = symrnn.derive(name, loss)
    params, xs, ys, initial = _problem(d, seed=3)
    J, expected, _ = gradients(REFERENCES[name], params, initial, xs, ys, loss)
    sizes = {symrnn.ir.HIDDEN: H, symrnn.ir.INPUT: X, symrnn.ir.OUTPUT: OUT}
    tape = run_forward(d, problem_from_code(d, params, xs, ys, initial, sizes), FLOAT64)
    _close(float(tape.loss), J, f"{name}/{loss}: the derivation's loss")
    derived = grads_to_code(d, run_backward(tape))
    assert set(derived) == set(expected)
    for k, g in expected.items():
        _close(derived[k], g, f"{name}/{loss}: the derivation's ∂J/∂{k}")


def test_pytorch_cells_references_equal_torchs_own_modules():
    """The references of lstm-pytorch and gru-pytorch agree with nn.LSTMCell / nn.GRUCell themselves."""
    rng = np.random.default_rng(0)
    x, h, c = (torch.tensor(rng.standard_normal(shape)) for shape in ((B, X), (B, H), (B, H)))
    for name, module in (("lstm-pytorch", torch.nn.LSTMCell(X, H)), ("gru-pytorch", torch.nn.GRUCell(X, H))):
        module = module.double()
        gates = "ifgo" if name == "lstm-pytorch" else "rzn"
        w_ih, w_hh = module.weight_ih.detach(), module.weight_hh.detach()
        b_ih, b_hh = module.bias_ih.detach(), module.bias_hh.detach()
        params = {}
        for k, g in enumerate(gates):
            rows = slice(k * H, (k + 1) * H)
            params |= {f"W_i{g}": w_ih[rows], f"W_h{g}": w_hh[rows], f"b_i{g}": b_ih[rows], f"b_h{g}": b_hh[rows]}
        p = Params(params)
        ref = REFERENCES[name]
        if name == "lstm-pytorch":
            ours = ref.step(p, x.T, h=h.T, c=c.T)
            theirs = module(x, (h, c))
            _close(ours["h"].T, theirs[0].detach(), name + " h")
            _close(ours["c"].T, theirs[1].detach(), name + " c")
        else:
            _close(ref.step(p, x.T, h=h.T)["h"].T, module(x, h).detach(), name + " h")
