"""Whether a derivation's equations are true, judged without its backward pass.

* :func:`assert_backward_equations_hold`: every δ equation of ``d.backward``, evaluated by the
  one evaluator at a real forward pass, equals ∂J/∂v_t measured by central differences of the
  forward alone: v_t is bumped after its forward equation and every later value recomputed.
  Only ``d.forward`` is used for the truth (the cell, which tests/test_references.py checks
  against each paper), never the δ rules that produced ``d.backward``.
* :func:`assert_gradients_equal_reference`: the parameter and initial-state gradients
  (``d.param_grads``, ``d.initial_grads``) against torch autograd of the paper's reference.
"""

from __future__ import annotations

import numpy as np

from symrnn import ir
from symrnn.evaluate import FLOAT64, Tape, grads_to_code, problem_from_code, run_backward, run_forward
from symrnn.problems import random_problem
from tests.references import REFERENCES
from tests.references.unroll import gradients

SIZES = {ir.HIDDEN: 3, ir.INPUT: 2, ir.OUTPUT: 2}
EPS = 1e-6


def _problem(d, seed):
    params, xs, ys, initial = random_problem(d, hidden_size=3, input_size=2, output_size=2, steps=3, batch=2, seed=seed)
    params = {k: 1.5 * v for k, v in params.items()}  # away from the linear regime
    return params, xs, ys, initial


def bumped_loss(d, problem, name: str, step: int, bump: np.ndarray) -> float:
    """J with ``bump`` added to the value ``name`` at ``step`` right after its forward equation."""
    arith = FLOAT64
    tape = Tape(
        d,
        problem,
        arith,
        {k: arith.array(v) for k, v in problem.params.items()},
        {k: [arith.array(x) for x in xs] for k, xs in problem.inputs.items()},
        [arith.array(y) for y in problem.targets],
    )
    for s, value in problem.initial.items():
        tape.values[(s, 0)] = arith.array(value)
    total = 0.0
    for t in range(1, problem.steps + 1):
        ev = tape.evaluator(t)
        for eq in d.forward:
            value = ev.value(eq.rhs)
            if (eq.lhs.name, t) == (name, step):
                value = value + bump
            tape.values[(eq.lhs.name, t)] = value
        total += float(tape.values[("L", t)].sum())
    return total


def assert_backward_equations_hold(d, seed=0, rtol=1e-6):
    """Every δv_t of ``d.backward`` at every step equals ∂J/∂v_t by differences of the forward."""
    params, xs, ys, initial = _problem(d, seed)
    problem = problem_from_code(d, params, xs, ys, initial, SIZES)
    derived = run_backward(run_forward(d, problem, FLOAT64)).values
    forward_names = {eq.lhs.name for eq in d.forward}
    for eq in d.backward:
        name = eq.lhs.name
        assert name in forward_names, f"δ{name} is not the gradient of a forward value"
        for t in range(1, problem.steps + 1):
            ours = np.asarray(derived[(name, t)], dtype=np.float64)
            numeric = np.zeros_like(ours)
            for i in np.ndindex(*ours.shape):
                bump = np.zeros_like(ours)
                bump[i] = EPS
                up, down = bumped_loss(d, problem, name, t, bump), bumped_loss(d, problem, name, t, -bump)
                numeric[i] = (up - down) / (2 * EPS)
            err = np.abs(ours - numeric) / np.maximum(1.0, np.abs(ours) + np.abs(numeric))
            assert err.max() <= rtol, (
                f"{d.cell.name}: the derived {eq.text()} is wrong at t = {t}: "
                f"derived {ours.ravel().tolist()}, ∂J/∂{name}_t by differences {numeric.ravel().tolist()}"
            )


def assert_gradients_equal_reference(d, seed=0, tol=1e-10):
    """``d.param_grads`` and ``d.initial_grads`` (run by the evaluator) equal autograd of the paper's cell."""
    params, xs, ys, initial = _problem(d, seed)
    tape = run_forward(d, problem_from_code(d, params, xs, ys, initial, SIZES), FLOAT64)
    derived = grads_to_code(d, run_backward(tape))
    _, expected, _ = gradients(REFERENCES[d.cell.name], params, initial, xs, ys, d.loss.name)
    assert set(derived) == set(expected)
    for k, g in expected.items():
        err = np.abs(derived[k] - g) / np.maximum(1.0, np.abs(derived[k]) + np.abs(g))
        assert err.max() <= tol, (
            f"{d.cell.name}: the derived ∂J/∂{k} differs from autograd of the reference by ρ {err.max():.3g}"
        )
