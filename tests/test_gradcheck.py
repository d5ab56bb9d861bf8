"""gradcheck, and mutation tests: deliberately broken gradients are caught.

Each mutant edits the derivation (not the generated code) the way a hand
derivation goes wrong, then compiles it; both ``gradcheck`` and the property
check of tests/test_properties.py must reject it.
"""

import numpy as np
import pytest

import symrnn
from symrnn import ir
from symrnn.checks import GradcheckError, gradcheck
from symrnn.problems import random_problem, with_initial_states
from tests.helpers import loss_fn
from tests.test_properties import property_holds


def _problem(d, seed=0):
    params, xs, ys, initial = random_problem(d, hidden_size=3, input_size=2, output_size=2, steps=4, batch=2, seed=seed)
    return with_initial_states(params, initial), xs, ys


def test_gradcheck_passes_a_correct_derivation():
    d = symrnn.derive("gru")
    p, xs, ys = _problem(d)
    fn = loss_fn(d.numpy(), list(d.cell.states))
    assert gradcheck(fn, p, xs, ys)
    assert gradcheck(fn, p, xs, ys, fast_mode=True)


def dropped_recurrent_term(d):
    d.carries["h"] = ir.zeros(d.carries["h"].shape)


def missing_transpose(d):
    W = d.params["W_hh"]
    d.carries["h"] = ir.substitute(d.carries["h"], {ir.transpose(W): W})


def sigma_prime_as_sigma(d):
    f = next(e.lhs for e in d.forward if e.lhs.name == "f")
    d.local_grads["f_bar"] = ir.grad(f) * f


def time_index_off_by_one(d):
    h_prev = d.cell.states["h"]
    h_now = ir.var("h", h_prev.shape, ir.STATE, 0)
    for i, eq in enumerate(d.param_grads):
        if eq.lhs.name in ("W_hh", "W_hf"):
            d.param_grads[i] = type(eq)(eq.lhs, ir.substitute(eq.rhs, {h_prev: h_now}), eq.kind, eq.note)


MUTANTS = [
    ("rnn", dropped_recurrent_term),
    ("rnn", missing_transpose),
    ("lstm", sigma_prime_as_sigma),
    ("rnn", time_index_off_by_one),
    ("lstm", time_index_off_by_one),
]


@pytest.mark.parametrize("cell,mutate", MUTANTS, ids=[f"{c}-{m.__name__}" for c, m in MUTANTS])
def test_mutants_are_caught(cell, mutate):
    d = symrnn.derive(cell)
    mutate(d)
    module = d.numpy()
    p, xs, ys = _problem(d, seed=1)
    fn = loss_fn(module, list(d.cell.states))
    with pytest.raises(GradcheckError, match=r"gradient of \w+\[\d+(, \d+)*\] is wrong: analytic"):
        gradcheck(fn, p, xs, ys)
    assert not gradcheck(fn, p, xs, ys, fast_mode=True, raise_exception=False)
    worst, name, _ = property_holds(d, module, (3, 2, 2, 4, 2), seed=7)
    assert worst > 1e-6, f"property test missed the mutant (worst ρ {worst})"


def test_gradcheck_message_names_parameter_index_and_values():
    def fn(p):
        return float(np.sum(p["w"] ** 2)), {"w": 3 * p["w"]}  # should be 2w

    with pytest.raises(GradcheckError) as e:
        gradcheck(fn, {"w": np.array([1.0, 2.0])})
    assert "gradient of w[1] is wrong: analytic 6.0, numeric 4.0" in str(e.value)


def test_a_loss_or_forward_disagreement_is_judged_by_rho_without_the_gradient_atol():
    """Survivor of the cosmic-ray run (issue 19): ``part == "gradient"`` → ``part >= "gradient"``
    in checks._entry ("loss" sorts after "gradient", so the loss got the gradient's atol)."""
    from symrnn.checks import _entry

    for part in ("loss", "forward"):
        e = _entry(part, "J", (), 1.0, 1.0 + 1e-6, atol=1e-5, rtol=1e-7)
        assert not e.passed and e.part == part  # ρ = 5e-7 > rtol, though err = 1e-6 < atol
    assert _entry("gradient", "W", (0, 0), 1.0, 1.0 + 1e-6, atol=1e-5, rtol=1e-7).passed
