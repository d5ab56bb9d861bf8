"""The one BPTT driver over the evaluator: :func:`run_forward` → :class:`Tape` → :func:`run_backward`.

Also the bridge to the generated code's layout (``(T, batch, size)`` arrays, ``"<s>_0"`` keys):
:func:`problem_from_code`, :func:`grads_to_code`, :func:`stack_steps`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from symrnn import ir
from symrnn.evaluate.arithmetic import FLOAT64, Arithmetic, Unsupported
from symrnn.evaluate.evaluator import Evaluator, _leaf_name
from symrnn.ir import Node


@dataclass
class Problem:
    """One instance of a derivation's inputs, in the evaluator's layout.

    Attributes:
        sizes: concrete sizes, e.g. ``{ir.HIDDEN: 3, ir.INPUT: 2, ir.OUTPUT: 2}``.
        steps: T.
        params: parameter arrays (rows, cols), biases (rows, 1).
        inputs: by input name, a list of T arrays (batch, rows, 1).
        targets: T arrays (batch, rows, 1), or None: no loss (forward only, or ``upstream``).
        initial: s_0 by state name, (batch, rows, 1).
        batch: the batch size.
        given: further per-step givens by name, T arrays (batch, rows, 1) each: the loss
            structure's weight ``w`` (batch, 1, 1), an upstream gradient ``Delta_h``.
    """

    sizes: dict
    steps: int
    params: dict
    inputs: dict
    targets: list | None
    initial: dict
    batch: int = 1
    given: dict = field(default_factory=dict)


@dataclass
class Tape:
    """The forward pass of a derivation on a problem: every value at every step, and J.

    ``values[(name, t)]`` for t = 1 … T, and ``values[(state, 0)]`` = s_0.  ``loss`` is
    J = Σ_t Σ_batch w_t L_t, w_t = 1 unless the problem gives the weights ``w`` (None without targets).
    """

    derivation: object
    problem: Problem
    arith: Arithmetic
    params: dict
    inputs: dict
    targets: list | None
    values: dict = field(default_factory=dict)
    loss: object = None
    given: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return self.problem.steps

    def evaluator(self, step: int, grads: Mapping | None = None) -> Evaluator:
        """An evaluator of expressions at step ``step``: leaves read this tape (and ``grads`` for δ leaves)."""
        return Evaluator(self.arith, self.problem.sizes, self._leaf(step, grads), batch=self.problem.batch)

    def _leaf(self, step: int, grads: Mapping | None):
        def leaf(node: Node):
            kind = node.kind
            if kind == ir.PARAM:
                return self.params[node.name]
            if kind == ir.INPUT_KIND:
                return self.inputs[node.name][step - 1]
            if kind == ir.TARGET and node.name in self.given:
                return self.given[node.name][step - 1]
            if kind == ir.TARGET:
                if self.targets is None:
                    raise Unsupported("the problem has no targets")
                return self.targets[step - 1]
            key = (node.name, step + node.shift)
            source = grads if kind == ir.GRAD else self.values
            if source is None or key not in source:
                raise KeyError(f"no value for {_leaf_name(node)} at step {step}")
            return source[key]

        return leaf


@dataclass
class Gradients:
    """A backward pass: δ of every value at every step it ran over, parameter sums, δs_{first-1}.

    ``values[(name, t)]``; ``params[name]`` = Σ_t of the parameter gradient; ``initial[state]``
    (also ``values[(state, first - 1)]``) is the gradient of the first step's previous state.
    """

    values: dict
    params: dict
    initial: dict

    def with_initial(self) -> dict:
        """Parameter gradients and initial-state gradients keyed ``"<state>_0"``, as ``loss_and_grads``."""
        return {**self.params, **{f"{s}_0": v for s, v in self.initial.items()}}


def run_forward(derivation, problem: Problem, arith: Arithmetic = FLOAT64) -> Tape:
    """Every forward value of ``derivation`` at every step of ``problem``, and the loss J.

    Args:
        derivation: a :class:`~symrnn.derivation.Derivation` (its ``forward`` equations are run).
        problem: the sizes, parameters, inputs, targets and initial states.
        arith: the number system; the problem's numbers are converted into it.

    Returns:
        A :class:`Tape`.  Without targets the loss equation is skipped.
    """
    convert = arith.array
    tape = Tape(
        derivation,
        problem,
        arith,
        {k: convert(v) for k, v in problem.params.items()},
        {k: [convert(x) for x in xs] for k, xs in problem.inputs.items()},
        None if problem.targets is None else [convert(y) for y in problem.targets],
    )
    tape.given = {name: [convert(v) for v in per_step] for name, per_step in problem.given.items()}
    for name, value in problem.initial.items():
        tape.values[(name, 0)] = convert(value)
    weights = tape.given.get("w")  # the loss structure's weight of each step's loss (None: 1)
    total = arith.number(0)
    for step in range(1, problem.steps + 1):
        ev = tape.evaluator(step)
        for eq in derivation.forward:
            if eq.lhs.name == "L" and tape.targets is None:
                continue
            tape.values[(eq.lhs.name, step)] = ev.value(eq.rhs)
        if tape.targets is not None:
            loss = tape.values[("L", step)]
            total = total + (loss.sum() if weights is None else (weights[step - 1] * loss).sum())
    tape.loss = total if tape.targets is not None else None
    return tape


def run_backward(
    tape: Tape,
    *,
    loss_steps=None,
    seeds: Mapping | None = None,
    upstream: Mapping | None = None,
    last: int | None = None,
    first: int = 1,
) -> Gradients:
    """The derivation's δ recurrences over a tape: δ of every value, parameter sums, δs_{first-1}.

    Args:
        tape: a :func:`run_forward` result.
        loss_steps: the steps whose loss L_t is differentiated (None: every step, the whole J;
            an empty set: no loss, for ``seeds`` or ``upstream`` alone).  With ``upstream``
            given and ``loss_steps`` None, no loss is differentiated.
        seeds: ``{(name, t): array}`` added to δname_t (a unit array gives a row of the
            Jacobian ∂name_t/∂·).
        upstream: ``{name: [Δ_1, …, Δ_T]}``, gradients of an outer objective with respect to
            each step's value, added to δname_t at every step.
        last, first: the steps the pass runs over, from ``last`` (default T) down to ``first``;
            ``first = k`` holds s_{k-1} fixed, ``last = k`` drops everything after step k.

    Returns:
        :class:`Gradients`.

    Raises:
        ValueError: a seed or upstream gradient names a value the derivation has no δ for,
            or a step outside the pass.
    """
    d, arith = tape.derivation, tape.arith
    last = tape.steps if last is None else last
    if not 1 <= first <= last + 1 or last > tape.steps:
        raise ValueError(f"a backward pass over steps {last} … {first} of a problem with T = {tape.steps}")
    if loss_steps is None and upstream is not None:
        loss_steps = frozenset()
    if loss_steps is None and tape.targets is None:
        raise ValueError("the problem has no targets: give upstream gradients or seeds with loss_steps=()")
    extra = _extra_gradients(d, tape, seeds, upstream, last, first)
    grads: dict = {}
    totals = {name: arith.zeros(value.shape) for name, value in tape.params.items()}
    carry: dict = {s: None for s in d.cell.states}
    for step in range(last, first - 1, -1):
        ev = tape.evaluator(step, grads)
        for eq in d.backward:
            name = eq.lhs.name
            if name == d.logits and not (loss_steps is None or step in loss_steps):
                value = arith.zeros(tape.values[(name, step)].shape)
            else:
                value = ev.value(d.local_grads[name])
            if carry.get(name) is not None:
                value = value + carry[name]
            for add in extra.get((name, step), ()):
                value = value + add
            grads[(name, step)] = value
        for eq in d.param_grads:
            if eq.rhs.op != "zeros":
                totals[eq.lhs.name] = totals[eq.lhs.name] + ev.value(eq.rhs)
        for s in d.cell.states:
            c = d.carries[s]
            carry[s] = ev.value(c) if c.op != "zeros" else arith.zeros(tape.values[(s, 0)].shape)
    initial = {}
    for s in d.cell.states:
        initial[s] = carry[s] if carry[s] is not None else arith.zeros(tape.values[(s, 0)].shape)
        grads[(s, first - 1)] = initial[s]
    return Gradients(grads, totals, initial)


def _extra_gradients(d, tape: Tape, seeds, upstream, last: int, first: int) -> dict:
    """{(name, t): [arrays]} of seeds and upstream gradients, checked against the derivation."""
    names = {eq.lhs.name for eq in d.backward}
    extra: dict = {}

    def add(name, step, value, what):
        if name not in names:
            raise ValueError(f"{what} for {name}: the derivation has a δ only for {', '.join(sorted(names))}")
        if not first <= step <= last:
            return
        value = tape.arith.array(value)
        shape = tape.values[(name, step)].shape
        if value.shape != shape:
            raise ValueError(f"{what} for {name} at step {step} has shape {value.shape}; expected {shape}")
        extra.setdefault((name, step), []).append(value)

    for (name, step), value in (seeds or {}).items():
        if not 1 <= step <= tape.steps:
            raise ValueError(f"a seed for {name} at step {step}: the problem has steps 1 … {tape.steps}")
        add(name, step, value, "a seed")
    for name, per_step in (upstream or {}).items():
        if len(per_step) != tape.steps:
            raise ValueError(f"upstream gradients for {name}: {len(per_step)} given for T = {tape.steps} steps")
        for step, value in enumerate(per_step, start=1):
            add(name, step, value, "an upstream gradient")
    return extra


# ---------------------------------------------------------------- the generated code's layout


def problem_from_code(derivation, params: dict, xs, ys, initial: dict, sizes: Mapping) -> Problem:
    """A :class:`Problem` from arrays in the generated code's layout.

    Args:
        params: biases 1-D, matrices as in the math (``Derivation.init_params``).
        xs, ys: (T, batch, size) arrays (``ys`` may be None).
        initial: s_0 by state, (batch, size).
        sizes: the concrete sizes.
    """
    inputs = list(derivation.cell.inputs)
    if len(inputs) != 1:
        raise ValueError(f"the generated code's layout has one input; cell {derivation.cell.name} has {len(inputs)}")
    xs = np.asarray(xs)
    steps, batch = xs.shape[0], xs.shape[1]
    columns = {
        name: np.asarray(value)[:, None] if np.ndim(value) == 1 else np.asarray(value) for name, value in params.items()
    }
    return Problem(
        sizes=dict(sizes),
        steps=steps,
        params=columns,
        inputs={inputs[0]: [x[..., None] for x in xs]},
        targets=None if ys is None else [y[..., None] for y in np.asarray(ys)],
        initial={s: np.asarray(v)[..., None] for s, v in initial.items()},
        batch=batch,
    )


def grads_to_code(derivation, gradients: Gradients) -> dict:
    """Gradients in the generated code's layout: biases 1-D, ``"<state>_0"`` as (batch, size)."""
    out = {}
    for name, value in gradients.params.items():
        out[name] = value[:, 0] if derivation.params[name].is_column else value
    for s, value in gradients.initial.items():
        out[f"{s}_0"] = value[..., 0]
    return out


def stack_steps(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Per-step arrays (batch, rows, 1) as one (T, batch, rows) array, the code's tape layout."""
    return np.stack([a[..., 0] for a in arrays])
