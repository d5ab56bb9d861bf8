"""Testing your own RNN implementation against a derivation: hypothesis strategies and ``assert_matches``.

    from symrnn.testing import assert_matches, problems
    assert_matches(my_forward_backward, "lstm")       # raises MismatchError on the smallest problem

Strategies take keyword-only bounds, like ``hypothesis.extra.numpy``: :func:`sizes` (every size
symbol of a cell, the number of steps and the batch), :func:`problems` (parameters, input
sequences, initial states, masks and upstream gradients at those sizes), :func:`masks`.
:func:`assert_matches` runs a user's forward + backward (NumPy, torch or JAX arrays out) on
generated problems, compares outputs and every gradient with the derived layer
(:class:`symrnn.layers.Layer`), and lets hypothesis shrink a failure, so the report is the
smallest sizes, the first step and the parameter entry that show it.  Needs hypothesis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from symrnn.layers.check import expected_shape
from symrnn.layers.derive import LayerDerivation
from symrnn.layers.run import Layer


class MismatchError(AssertionError):
    """A user's implementation differs from the derivation; the message names where."""


@dataclass(frozen=True)
class Problem:
    """One generated layer problem (NumPy float64 arrays)."""

    sizes: dict
    params: dict
    xs: np.ndarray
    initial_state: dict
    mask: np.ndarray | None
    grad_outputs: np.ndarray
    grad_final: dict

    def __repr__(self):
        steps, batch = self.xs.shape[:2]
        given = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        return f"Problem({given}, T={steps}, batch={batch}, mask={'yes' if self.mask is not None else 'no'})"


def _derivation(cell) -> LayerDerivation:
    return cell.derivation if isinstance(cell, Layer) else Layer(cell).derivation


@st.composite
def sizes(draw, cell, *, min_size: int = 1, max_size: int = 4, min_steps: int = 1, max_steps: int = 4,
          min_batch: int = 1, max_batch: int = 3):  # fmt: skip
    """``{size symbol name: n, ..., "T": steps, "batch": batch}`` for every size the cell declares."""
    ld = _derivation(cell)
    out = {str(s): draw(st.integers(min_size, max_size)) for s in sorted(ld.cell.dims, key=str)}
    out["T"] = draw(st.integers(min_steps, max_steps))
    out["batch"] = draw(st.integers(min_batch, max_batch))
    return out


@st.composite
def masks(draw, steps: int, batch: int):
    """Right-padded ragged lengths as a (T, batch) 0/1 mask; every sequence has ≥ 1 real step."""
    lengths = draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch))
    return (np.arange(steps)[:, None] < np.array(lengths)[None, :]).astype(np.float64)


@st.composite
def problems(draw, cell, *, bound: float = 1.0, with_masks: bool = True, **size_bounds):
    """A :class:`Problem` for ``cell``: entries uniform in ±``bound``; ``size_bounds`` as :func:`sizes`.

    Hypothesis draws the sizes, the mask and a seed; the entries come from NumPy's generator
    with that seed, so shrinking works on the sizes (fast) and a problem repeats from its seed.
    """
    ld = _derivation(cell)
    n = draw(sizes(ld, **size_bounds))
    dims = {k: v for k, v in n.items() if k not in ("T", "batch")}
    steps, batch = n["T"], n["batch"]
    mask = draw(st.one_of(st.none(), masks(steps, batch))) if with_masks else None
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    uniform = lambda shape, b=bound: rng.uniform(-b, b, shape)  # noqa: E731
    params = {name: uniform(expected_shape(node, dims)) for name, node in ld.params.items()}
    xs = uniform((steps, batch, expected_shape(ld.input, dims)[0]))
    state_sizes = {s: expected_shape(node, dims)[0] for s, node in ld.cell.states.items()}
    initial = {s: uniform((batch, k)) for s, k in state_sizes.items()}
    grad_outputs = uniform((steps, batch, state_sizes[ld.output]), 1.0)
    grad_final = {s: uniform((batch, k), 1.0) for s, k in state_sizes.items()}
    return Problem(dims, params, xs, initial, mask, grad_outputs, grad_final)


def _numpy(a) -> np.ndarray:
    if hasattr(a, "detach"):  # torch
        a = a.detach().cpu()
    return np.asarray(a, dtype=np.float64)


def _first_mismatch(name: str, got, want, rtol: float, atol: float) -> str | None:
    got = _numpy(got)
    if got.shape != want.shape:
        return f"{name} has shape {got.shape}; the derivation's is {want.shape}"
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])  # the first entry: the earliest step first
    where = f"{name}[{', '.join(map(str, index))}]"
    step = f" (step t = {index[0]})" if name in ("outputs", "xs") else ""
    return f"{where}{step} = {got[index]!r}; the derivation gives {want[index]!r}"


def assert_matches(fn, cell, *, rtol: float = 1e-7, atol: float = 1e-9, max_examples: int = 50, **problem_kw):
    """Check ``fn`` against the derived layer of ``cell`` on generated problems.

    Args:
        fn: ``fn(params, xs, initial_state, mask, grad_outputs, grad_final) -> (outputs, grads)``:
            your forward and backward on NumPy float64 inputs (convert inside ``fn`` for torch or
            JAX; tensors or arrays may come back).  ``outputs`` (T, batch, size) of the output
            state, ``grads`` a dict with every parameter, ``"xs"`` and ``"<state>_0"``; ``mask``
            is None or (T, batch) of 0/1 (padded steps keep the state and output 0).
        cell: a cell, catalogue name or :class:`~symrnn.layers.Layer`.
        rtol, atol: tolerances of the comparison.
        max_examples: problems to try (hypothesis; derandomized, so runs repeat).
        problem_kw: bounds for :func:`problems` (``max_size``, ``max_steps``, ``with_masks``, …).

    Raises:
        MismatchError: on the smallest problem hypothesis finds, naming the sizes, the value
            (outputs, a parameter's gradient, ``xs``, an initial state) and its first wrong entry.
    """
    layer = cell if isinstance(cell, Layer) else Layer(cell)

    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=True)
    @given(problems(layer.derivation, **problem_kw))
    def check(problem: Problem):
        out, _, tape = layer.forward(problem.params, problem.xs, problem.initial_state, problem.mask)
        want = layer.backward(problem.params, tape, problem.grad_outputs, problem.grad_final)
        got_out, got = fn(
            problem.params, problem.xs, problem.initial_state, problem.mask, problem.grad_outputs, problem.grad_final
        )
        message = _first_mismatch("outputs", got_out, out, rtol, atol)
        for name in want:
            if message:
                break
            if name not in got:
                message = f"grads has no {name!r}; expected {sorted(want)}"
            else:
                message = _first_mismatch(
                    name if name == "xs" else f"grads[{name!r}]", got[name], want[name], rtol, atol
                )
        if message:
            raise MismatchError(f"{problem!r}: {message}")

    check()
