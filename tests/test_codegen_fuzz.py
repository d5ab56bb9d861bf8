"""Printer and code-generator fuzz: random user cells through every backend, against an
independent evaluation.

Hypothesis draws small cells outside the catalogue (:mod:`tests.codegen_fuzz`); each is
derived and compiled as plain NumPy (``d.numpy(optimize=False)``), optimised NumPy
(``d.numpy()``) and torch (``d.torch_function()``), and compared at float64 with
the one evaluator :mod:`symrnn.evaluate` (40 digits): the forward values, the loss
from ``loss()`` and from ``loss_and_grads()``, and the gradients — against the derivation's
recurrences evaluated there, and those against central differences of the plain ``loss()``
(itself checked against the interpreter first), so no backend is checked against itself.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
import torch
from hypothesis import given, note
from hypothesis import strategies as st

from symrnn.checks import numeric_gradients
from symrnn.problems import random_problem, split_initial_states, with_initial_states
from tests.codegen_fuzz import cell_recipes, derive_recipe, reference
from tests.helpers import max_rho

TOL = 1e-9  # float64 against the interpreter's float64 (30-digit SymPy floats, rounded)
FD_TOL = 1e-6  # central differences of float64 code


def _problem(d, sizes, seed):
    hidden, inp, out, steps, batch = sizes
    params, xs, ys, initial = random_problem(
        d, hidden_size=hidden, input_size=inp, output_size=out, steps=steps, batch=batch, seed=seed
    )
    # weights a little larger than PyTorch's initialisation: gates away from their linear regime
    params = {k: 1.5 * v for k, v in params.items()}
    return params, xs, ys, initial, {"hidden_size": hidden, "input_size": inp, "output_size": out}


def _torch_loss_and_grads(d, params, xs, ys, initial):
    fn = d.torch_function()
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    ti = {k: torch.tensor(v, requires_grad=True) for k, v in initial.items()}
    loss = fn(tp, torch.tensor(xs), torch.tensor(ys), ti)
    loss.backward()
    grads = {k: v.grad.numpy() for k, v in tp.items()}
    grads.update({f"{k}_0": v.grad.numpy() for k, v in ti.items()})
    return float(loss.detach()), grads


def _agree(what, got, want, tol=TOL):
    assert set(got) == set(want), what
    for k in want:
        assert np.shape(got[k]) == np.shape(want[k]), (what, k)
        assert max_rho(got[k], want[k]) < tol, f"{what}: {k} differs by {max_rho(got[k], want[k]):.3g}"


SIZES = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(2, 3), st.integers(1, 3), st.integers(1, 2))


@pytest.mark.parametrize("loss", ["softmax_ce", "bce", "mse"])
@given(recipe=cell_recipes(), sizes=SIZES, seed=st.integers(0, 2**16))
def test_every_backend_agrees_with_the_interpreter(loss, recipe, sizes, seed):
    check_every_backend(recipe[:3] + (loss,), sizes, seed, report=note)


# Cells the fuzz (or issue 19) found wrong, each a defect of its own; each failed before its fix.
HALF = sympy.Rational(1, 2)
REGRESSIONS = {
    # r ⊙ (W h) printed r * h @ W.T, i.e. (r ⊙ h) Wᵀ (issue 19)
    "matrix product right of ⊙": (
        (("sigmoid", ("Ux", "U_b")),),
        ("h",),
        (("add", ("Ux", "U_a"), ("mul", ("gate", 0), ("Wh", "W_a", "h"))),),
        "softmax_ce",
    ),
    # (U x) ⊙ (U x) crashed the optimised code (issue 19)
    "square of a product": ((), ("h",), (("add", ("Wh", "W_a", "h"), ("square", ("Ux", "U_a"))),), "mse"),
    # a − (b − c) needs its brackets (issue 19)
    "nested subtraction": (
        (),
        ("h",),
        (("sub", ("Ux", "U_a"), ("sub", ("Wh", "W_a", "h"), ("Wh", "W_b", "h"))),),
        "bce",
    ),
    # the first gate has no recurrent weight: weight-gradient columns start at gate 1 (issue 19)
    "first gate without a recurrent weight": (
        (
            ("sigmoid", ("add", ("Ux", "U_a"), ("b", "b_a"))),
            ("sigmoid", ("add", ("Wh", "W_a", "h"), ("Ux", "U_b"))),
            ("tanh", ("add", ("Wh", "W_b", "h"), ("Ux", "U_a"))),
        ),
        ("h",),
        (("add", ("mul", ("gate", 1), ("state", "h")), ("mul", ("gate", 0), ("gate", 2))),),
        "softmax_ce",
    ),
    # W (−tanh b): a shared column times a shared row is an outer product, not 1-D @ 1-D
    "outer product of shared vectors": (
        (),
        ("h",),
        (("W@", "W_a", ("scale", -1, ("tanh", ("b", "b_a")))),),
        "bce",
    ),
    # σ(a) − σ(b) in the forward loop: both terms were built in one scratch buffer (a − a = 0)
    "difference of two computed terms": (
        (),
        ("h", "c"),
        (
            (
                "sub",
                ("sigmoid", ("add", ("cat", "c"), ("cat", "c"))),
                ("sigmoid", ("add", ("cat", "c"), ("Wh", "W_b", "h"))),
            ),
            ("square", ("cat", "c")),
        ),
        "mse",
    ),
    # a saved subexpression that is a whole right-hand side (ḡ1 = g0 ⊙ g0) was never named
    "saved whole right-hand side": (
        (("tanh", ("b", "b_b")), ("tanh", ("square", ("gate", 0)))),
        ("h",),
        (("square", ("W@", "W_a", ("Ux", "U_a"))),),
        "mse",
    ),
    # a gate no state reads crashed the optimiser's backward loop
    "gate read by nothing": ((("sigmoid", ("state", "h")),), ("h",), (("cat", "h"),), "softmax_ce"),
    # ReLU in the optimised loop is np.maximum(a, 0) with 0 a 0-d array; nothing else reads that 0
    # (a survivor of the cosmic-ray run: CONSTANTS' -0.5 key turned into 0 made it max(a, -0.5))
    "relu gate of a mixed-sign pre-activation": (
        (("relu", ("add", ("add", ("Wh", "W_a", "h"), ("Ux", "U_a")), ("b", "b_a"))),),
        ("h",),
        (("mul", ("gate", 0), ("Wh", "W_b", "h")),),
        "mse",
    ),
    "products of products and multiples": (
        (("tanh", ("mul", ("Ux", "U_a"), ("mul", ("Wh", "W_a", "h"), ("Ux", "U_b")))),),
        ("h",),
        (("mul", ("scale", HALF, ("gate", 0)), ("mul", ("one_minus", ("gate", 0)), ("Wh", "W_b", "h"))),),
        "softmax_ce",
    ),
}


@pytest.mark.parametrize("name", list(REGRESSIONS))
def test_cells_the_fuzz_found_wrong(name):
    check_every_backend(REGRESSIONS[name], (3, 2, 2, 3, 2), seed=1)


def check_every_backend(recipe, sizes, seed, report=print):
    """Every backend's forward, loss and gradients against the interpreter and central differences."""
    d = derive_recipe(recipe)
    for eq in d.forward:
        report(eq.text())
    params, xs, ys, initial, dims = _problem(d, sizes, seed)
    J, values, grads = reference(d, params, xs, ys, initial, dims)

    plain, fast = d.numpy(optimize=False), d.numpy()
    _agree("forward()", plain.forward(params, xs, initial), values)
    assert max_rho(plain.loss(params, xs, ys, initial), J) < TOL, "loss()"
    for name, module in (("plain", plain), ("optimised", fast)):
        loss_value, got = module.loss_and_grads(params, xs, ys, initial)
        assert max_rho(loss_value, J) < TOL, f"{name} loss_and_grads() loss"
        _agree(f"{name} loss_and_grads() gradients", got, grads)
    torch_loss, torch_grads = _torch_loss_and_grads(d, params, xs, ys, initial)
    assert max_rho(torch_loss, J) < TOL, "torch loss"
    _agree("torch gradients", torch_grads, grads)

    # the derivation itself, against central differences of the (checked) plain loss()
    probe = split_initial_states(plain.loss, list(d.cell.states))
    numeric = numeric_gradients(lambda p: probe(p, xs, ys), with_initial_states(params, initial))
    _agree("derivation against central differences", grads, numeric, FD_TOL)
