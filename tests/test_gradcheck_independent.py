"""gradcheck does not trust the code it checks: forward, loss and gradient against the evaluator.

A module that is consistent with itself but computes the wrong function passes a check whose
finite differences come from the same module; these tests build such modules (another cell's
code under the same parameter names, a forward or loss perturbed after the fact, gradients of
one parameter scaled) and require ``gradcheck(derivation, ...)`` and ``symrnn gradcheck`` to fail
and to name the part that is wrong, the quantity, the index and both values.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner

import symrnn
from symrnn.checks import GradcheckError, check_generated, gradcheck
from symrnn.cli import main
from symrnn.problems import random_problem
from tests.helpers import loss_fn


def _problem(d, seed=0, dtype="float64"):
    return random_problem(d, hidden_size=3, input_size=2, output_size=2, steps=3, batch=2, seed=seed, dtype=dtype)


class Tampered:
    """A generated module with one of its functions changed after the fact."""

    def __init__(self, module, *, forward=None, loss=None, loss_and_grads=None):
        self._module = module
        self._forward, self._loss, self._loss_and_grads = forward, loss, loss_and_grads

    def forward(self, *a):
        out = self._module.forward(*a)
        return self._forward(out) if self._forward else out

    def loss(self, *a):
        out = self._module.loss(*a)
        return self._loss(out) if self._loss else out

    def loss_and_grads(self, *a):
        out = self._module.loss_and_grads(*a)
        return self._loss_and_grads(*out) if self._loss_and_grads else out


def _parts(report):
    return sorted({e.part for e in report if not e.passed})


@pytest.mark.parametrize(
    "cell, loss", [("rnn", "mse"), ("lstm", "softmax_ce"), ("gru-pytorch", "bce"), ("lstm-peephole", "softmax_ce")]
)
def test_correct_code_passes_all_three_parts(cell, loss):
    d = symrnn.derive(cell, loss)
    params, xs, ys, initial = _problem(d)
    report = check_generated(d, params, xs, ys, initial)
    assert {e.part for e in report} == {"forward", "loss", "gradient"}
    assert {e.parameter for e in report if e.part == "gradient"} == set(d.params) | {f"{s}_0" for s in d.states}
    assert all(e.passed for e in report), [e for e in report if not e.passed]
    assert gradcheck(d, params, xs, ys, initial, fast_mode=True)


def test_float32_code_is_checked_against_the_float64_evaluator():
    d = symrnn.derive("gru")
    params, xs, ys, initial = _problem(d, dtype="float32")
    report = check_generated(d, params, xs, ys, initial, atol=1e-4, rtol=1e-2)
    assert all(e.passed for e in report), [e for e in report if not e.passed]
    # float32 code is not float64-exact: the default bound for it is looser, and a float64 bound fails
    strict = check_generated(d, params, xs, ys, initial, value_rtol=1e-12, atol=1e-4, rtol=1e-2)
    assert "forward" in _parts(strict)


def test_initial_states_in_params_or_as_an_argument_or_zero():
    d = symrnn.derive("lstm")
    params, xs, ys, initial = _problem(d)
    assert gradcheck(d, {**params, **{f"{s}_0": v for s, v in initial.items()}}, xs, ys)
    assert gradcheck(d, params, xs, ys)  # zero initial states, as loss_and_grads without them


def test_self_consistent_code_of_another_function_is_caught_in_all_three_parts():
    """rnn-relu's module has rnn's parameter names: self-differences pass it, the evaluator of rnn does not."""
    d = symrnn.derive("rnn")
    imposter = symrnn.derive("rnn-relu").numpy()
    params, xs, ys, initial = _problem(d, seed=3)
    assert gradcheck(loss_fn(imposter, ["h"]), {**params, "h_0": initial["h"]}, xs, ys)  # the old, trusting check
    with pytest.raises(GradcheckError) as e:
        gradcheck(d, params, xs, ys, initial, module=imposter)
    message = str(e.value)
    assert re.search(
        r"the generated forward is wrong: h at step t=\d, batch \d, entry \[\d\]: generated \S+, independent \S+",
        message,
    )
    assert re.search(r"the generated loss is wrong: loss\(\) gives \S+, the independent forward \S+", message)
    assert re.search(r"gradient of \w+\[\d+(, \d+)*\] is wrong: analytic \S+, numeric \S+", message)


def test_a_wrong_forward_alone_is_named_as_the_forward():
    d = symrnn.derive("gru")
    params, xs, ys, initial = _problem(d)

    def shift_h_at_step_2(values):
        values = dict(values)
        values["h"] = values["h"].copy()
        values["h"][1, 0, 2] += 1e-3
        return values

    module = Tampered(d.numpy(), forward=shift_h_at_step_2)
    report = check_generated(d, params, xs, ys, initial, module=module)
    assert _parts(report) == ["forward"]
    (bad,) = [e for e in report if not e.passed]
    assert (bad.parameter, bad.index) == ("h", (2, 0, 2))
    assert bad.generated - bad.independent == pytest.approx(1e-3, rel=1e-6)


def test_a_wrong_loss_alone_is_named_as_the_loss():
    d = symrnn.derive("lstm")
    params, xs, ys, initial = _problem(d)
    report = check_generated(d, params, xs, ys, initial, module=Tampered(d.numpy(), loss=lambda J: J * (1 + 1e-6)))
    assert _parts(report) == ["loss"]
    assert [e.parameter for e in report if not e.passed] == ["loss()"]
    fused = Tampered(d.numpy(), loss_and_grads=lambda J, g: (J + 1e-6, g))
    assert [e.parameter for e in check_generated(d, params, xs, ys, initial, module=fused) if not e.passed] == [
        "loss_and_grads()"
    ]


def test_a_wrong_gradient_alone_is_named_with_parameter_index_and_values():
    d = symrnn.derive("lstm")
    params, xs, ys, initial = _problem(d)

    def bad_c0(J, grads):
        grads = dict(grads)
        grads["c_0"] = grads["c_0"].copy()
        grads["c_0"][1, 2] += 0.01
        return J, grads

    module = Tampered(d.numpy(), loss_and_grads=bad_c0)
    with pytest.raises(GradcheckError) as e:
        gradcheck(d, params, xs, ys, initial, module=module)
    message = str(e.value)
    assert message.startswith("gradient of c_0[1, 2] is wrong: analytic ")
    assert "forward is wrong" not in message and "loss is wrong" not in message
    assert "1 of 16 parameters fail: c_0" in message
    assert not gradcheck(d, params, xs, ys, initial, module=module, fast_mode=True, raise_exception=False)


def test_reference_loss_checks_a_user_fn_against_an_independent_forward():
    """Any fn: a loss that disagrees with the reference is named, and differences come from the reference."""

    def reference(p):
        return float(np.sum(p["w"] ** 3))

    def consistent_but_wrong(p):  # J = Σ w², ∇J = 2w: right for itself, wrong for Σ w³
        return float(np.sum(p["w"] ** 2)), {"w": 2 * p["w"]}

    w = {"w": np.array([1.0, 2.0])}
    assert gradcheck(consistent_but_wrong, w)
    with pytest.raises(GradcheckError) as e:
        gradcheck(consistent_but_wrong, w, reference_loss=reference)
    message = str(e.value)
    assert "the generated loss is wrong: fn gives 5.0, the independent forward 9.0" in message
    assert re.search(r"gradient of w\[1\] is wrong: analytic 4\.0, numeric 12\.0000", message), message


def test_cli_gradcheck_names_the_wrong_part(monkeypatch):
    runner = CliRunner()
    ok = runner.invoke(main, ["gradcheck", "gru", "--steps", "3"])
    assert ok.exit_code == 0, ok.output
    assert "checked against the evaluator" in ok.output
    assert {line.split()[0] for line in ok.output.splitlines()[3:-1]} == {"forward", "loss", "gradient"}

    from symrnn.derivation import Derivation

    honest = Derivation.numpy

    def imposter(self, *a, **k):
        # the code of rnn-relu under rnn's names: consistent with itself, wrong for rnn
        return honest(symrnn.derive("rnn-relu"), *a, **k) if self.cell.name == "rnn" else honest(self, *a, **k)

    monkeypatch.setattr(Derivation, "numpy", imposter)
    bad = runner.invoke(main, ["gradcheck", "rnn", "--steps", "3", "--seed", "3"])
    assert bad.exit_code == 1, bad.output
    assert "the generated forward is wrong: h" in bad.output
    assert "the generated loss is wrong" in bad.output
    assert "FAIL" in bad.output
