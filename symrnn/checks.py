"""Gradient checks that do not trust the code they check.

Two entry points:

* :func:`gradcheck` of any ``fn(params, *args) -> (loss, grads)`` by central differences,
  modelled on ``torch.autograd.gradcheck``: an entry passes when
  |analytic − numeric| ≤ atol + rtol·|numeric|.  Differences are taken of ``fn``'s own loss
  unless ``reference_loss`` gives an independent one (then ``fn``'s loss is compared with it
  too).  Fast mode compares one random directional derivative both ways
  (uᵀ∇J against (J(θ+εu) − J(θ−εu)) / 2ε), one pair of calls instead of two per entry.
* :func:`check_generated` / ``gradcheck(derivation, ...)``: the generated module of a
  derivation against the one evaluator (``symrnn.evaluate``) running the derivation's forward
  equations in float64 — a different engine from the code generator.  It checks three things
  and names the one that is wrong: the **forward** (every value of ``forward()`` at every
  step), the **loss** (``loss()`` and ``loss_and_grads()``'s J) and the **gradient**
  (``loss_and_grads()``'s ∇J against central differences of the evaluator's J, so a
  generated forward that is wrong cannot make its own gradient look right).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PARTS = ("forward", "loss", "gradient")


class GradcheckError(AssertionError):
    """A check that failed; the message names the part (forward, loss, gradient) and the worst entry."""


@dataclass(frozen=True)
class EntryCheck:
    """The worst entry of one checked quantity: where, both values and the errors.

    For a gradient, ``analytic`` is the checked gradient and ``numeric`` the central
    difference; for the forward and the loss, ``analytic`` is the checked code's value and
    ``numeric`` the independent one (``generated`` and ``independent`` name them so).
    """

    parameter: str  # a parameter, a forward value, or "loss()" / "loss_and_grads()"
    index: tuple  # the entry; for forward values (step t, batch, row)
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float  # ρ = |a − n| / max(1, |a| + |n|)
    passed: bool
    part: str = "gradient"

    @property
    def generated(self) -> float:
        return self.analytic

    @property
    def independent(self) -> float:
        return self.numeric

    def describe(self) -> str:
        """One line naming the part, the entry and both values."""
        where = f"{self.parameter}{list(self.index)}" if self.index else self.parameter
        if self.part == "gradient":
            return f"gradient of {where} is wrong: analytic {self.analytic!r}, numeric {self.numeric!r}"
        if self.part == "forward":
            t, example, *entry = self.index
            return (
                f"the generated forward is wrong: {self.parameter} at step t={t}, batch {example}, entry {entry}: "
                f"generated {self.analytic!r}, independent {self.numeric!r}"
            )
        return f"the generated loss is wrong: {self.parameter} gives {self.analytic!r}, the independent forward {self.numeric!r}"


def _value(out) -> float:
    return float(out[0] if isinstance(out, tuple) else out)


def _loss(fn, params, args) -> float:
    return _value(fn(params, *args))


def gradcheck_report(
    fn,
    params: dict,
    *args,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    fast_mode=False,
    seed=0,
    names=None,
    analytic_grads=None,
    reference_loss=None,
) -> list[EntryCheck]:
    """One :class:`EntryCheck` per parameter (or one ``<random direction>`` check in fast mode).

    Args:
        fn: ``fn(params, *args) -> (loss, grads)``.
        params: dict of arrays (copied, never changed).
        *args: passed after ``params``.
        eps, atol, rtol, fast_mode, seed, names: as :func:`gradcheck`.
        analytic_grads: check gradients computed elsewhere (e.g. by float32 code) instead of
            ``fn``'s.
        reference_loss: ``reference_loss(params, *args) -> J`` computed independently of ``fn``;
            its differences are the numeric gradient, and a first ``loss`` entry compares
            ``fn``'s loss with it.

    Returns:
        The checks, a ``loss`` entry first when ``reference_loss`` is given.
    """
    params = {k: np.array(v, copy=True) for k, v in params.items()}
    out = fn(params, *args)
    grads = out[1] if analytic_grads is None else analytic_grads
    names = list(params) if names is None else list(names)
    for name in names:
        if name not in grads:
            raise GradcheckError(f"fn returned no gradient for parameter {name!r}")
        if np.shape(grads[name]) != np.shape(params[name]):
            raise GradcheckError(
                f"gradient of {name!r} has shape {np.shape(grads[name])}; the parameter has {np.shape(params[name])}"
            )
    report = []
    differentiated = fn
    if reference_loss is not None:
        differentiated = reference_loss
        value, reference = _value(out), _value(reference_loss(params, *args))
        report.append(_entry("loss", "fn", (), value, reference, 0.0, 1e-9))
    if fast_mode:
        rng = np.random.default_rng(seed)
        direction = {k: rng.standard_normal(np.shape(params[k])) for k in names}
        analytic = sum(float(np.sum(np.asarray(grads[k], dtype=np.float64) * direction[k])) for k in names)
        plus = {k: (v + eps * direction[k] if k in direction else v) for k, v in params.items()}
        minus = {k: (v - eps * direction[k] if k in direction else v) for k, v in params.items()}
        numeric = (_loss(differentiated, plus, args) - _loss(differentiated, minus, args)) / (2 * eps)
        return [*report, _entry("gradient", "<random direction>", (), analytic, numeric, atol, rtol)]
    numeric = numeric_gradients(lambda p: _loss(differentiated, p, args), params, eps=eps, names=names)
    for name in names:
        g = np.asarray(grads[name], dtype=np.float64)
        entries = [
            _entry("gradient", name, i, float(g[i]), float(numeric[name][i]), atol, rtol) for i in np.ndindex(*g.shape)
        ]
        if entries:
            report.append(max(entries, key=_badness))
    return report


def numeric_gradients(loss, params: dict, *, eps=1e-6, names=None) -> dict[str, np.ndarray]:
    """∂J/∂θ for every entry by central differences (J(θ + ε) − J(θ − ε)) / 2ε.

    Args:
        loss: ``loss(params) -> J``, a float or a tuple whose first item is J.
        params: dict of arrays; they are copied, never changed.
        eps: the step.
        names: the parameters to differentiate (default: all of ``params``).

    Returns:
        A float64 array per name, shaped like its parameter.
    """
    params = {k: np.array(v, copy=True) for k, v in params.items()}
    out = {}
    for name in list(params) if names is None else names:
        g = np.zeros(np.shape(params[name]), dtype=np.float64)
        for index in np.ndindex(*g.shape):
            original = params[name][index]
            params[name][index] = original + eps
            up = _value(loss(params))
            params[name][index] = original - eps
            down = _value(loss(params))
            params[name][index] = original
            g[index] = (up - down) / (2 * eps)
        out[name] = g
    return out


def _entry(part, name, index, analytic, numeric, atol, rtol) -> EntryCheck:
    err = abs(analytic - numeric)
    rho = err / max(1.0, abs(analytic) + abs(numeric))
    # the forward and the loss are compared by ρ (no differences involved); a gradient by atol + rtol
    passed = err <= atol + rtol * abs(numeric) if part == "gradient" else rho <= rtol
    return EntryCheck(name, tuple(int(i) for i in index), analytic, numeric, err, rho, bool(passed), part)


def _badness(e: EntryCheck) -> float:
    # ρ is the measure where no atol/rtol pair is at hand; ties go to the larger absolute error
    return (not e.passed, e.rel_error, e.abs_error)


def failures(report: list[EntryCheck]) -> list[EntryCheck]:
    """The failed checks of a report, forward first, then loss, then gradient (the order a mistake spreads)."""
    return sorted((e for e in report if not e.passed), key=lambda e: PARTS.index(e.part))


def failure_message(report: list[EntryCheck], atol=None, rtol=None) -> str:
    """What is wrong, part by part: each failing part's worst entry, then which quantities fail."""
    failed = failures(report)
    lines = []
    for part in PARTS:
        in_part = [e for e in failed if e.part == part]
        if not in_part:
            continue
        worst = max(in_part, key=_badness)
        line = worst.describe()
        if part == "gradient" and atol is not None:
            line += f" (|diff| {worst.abs_error:.3g} > atol {atol} + rtol {rtol}·|numeric|)"
        else:
            line += f" (ρ {worst.rel_error:.3g})"
        total = sum(e.part == part for e in report)
        lines.append(
            f"{line}; {len(in_part)} of {total} {_plural(part)} fail: {', '.join(e.parameter for e in in_part)}"
        )
    return "\n".join(lines)


def _plural(part: str) -> str:
    return {"gradient": "parameters", "forward": "forward values", "loss": "losses"}[part]


def gradcheck(
    fn,
    params: dict,
    *args,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    fast_mode=False,
    raise_exception=True,
    names=None,
    reference_loss=None,
    module=None,
) -> bool:
    """True when ∇J from ``fn`` matches central differences for every parameter entry.

    Args:
        fn: ``fn(params, *args) -> (loss, grads)`` with ``grads`` keyed like ``params``; or a
            :class:`~symrnn.derivation.Derivation`, whose generated module is then checked
            against the evaluator (:func:`check_generated`; ``args`` are ``xs, ys`` and
            optionally the initial states, which may also be in ``params`` as ``"<s>_0"``).
        params: dict of float arrays (float64 recommended; they are copied, never changed).
        *args: passed to ``fn`` after ``params`` (e.g. ``xs, ys``).
        eps: finite-difference step.
        atol, rtol: an entry passes when |analytic − numeric| ≤ atol + rtol·|numeric|.
        fast_mode: check one random directional derivative instead of every entry.
        raise_exception: raise :class:`GradcheckError` on failure instead of returning False.
        names: the parameters to check (default: all of ``params``).
        reference_loss: an independent ``J(params, *args)``: differences are taken of it, not
            of ``fn``, and ``fn``'s loss must equal it.
        module: with a derivation, the module to check (default ``fn.numpy()``).

    Raises:
        GradcheckError: naming the part that is wrong (forward, loss, gradient), the quantity,
            the index and both values of the worst entry.
    """
    from symrnn.bptt import DerivationData

    if isinstance(fn, DerivationData):
        report = check_generated(
            fn, params, *args, module=module, eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode, names=names
        )
    else:
        report = gradcheck_report(
            fn,
            params,
            *args,
            eps=eps,
            atol=atol,
            rtol=rtol,
            fast_mode=fast_mode,
            names=names,
            reference_loss=reference_loss,
        )
    failed = failures(report)
    if failed and raise_exception:
        raise GradcheckError(failure_message(report, atol, rtol))
    return not failed


# ---------------------------------------------------------------- generated code vs the evaluator


def code_sizes(d, params: dict, xs, ys) -> dict:
    """The concrete sizes (hidden, input, output) that arrays in the generated code's layout imply.

    Raises:
        ValueError: a parameter whose shape contradicts the sizes read from the others.
    """
    from symrnn import ir

    sizes = {ir.INPUT: int(np.shape(xs)[2])}
    if ys is not None:
        sizes[ir.OUTPUT] = int(np.shape(ys)[2])
    for name, node in d.params.items():
        if name not in params:
            raise ValueError(f"missing parameter {name!r}")
        dims = node.shape[:1] if node.is_column else node.shape
        for expr, n in zip(dims, np.shape(params[name]), strict=False):
            if getattr(expr, "is_Symbol", False):
                if sizes.setdefault(expr, int(n)) != int(n):
                    raise ValueError(f"parameter {name!r} has {expr} = {n}; another parameter says {sizes[expr]}")
    return sizes


def split_states(d, params: dict, args: tuple):
    """(params, xs, ys, initial) from ``gradcheck``'s arguments: initial states as a 3rd argument or ``"<s>_0"``."""
    xs, ys, *rest = args
    keys = {f"{s}_0": s for s in d.cell.states}
    initial = dict(rest[0]) if rest and rest[0] is not None else {}
    initial.update({keys[k]: v for k, v in params.items() if k in keys})
    params = {k: v for k, v in params.items() if k not in keys}
    if not initial:
        batch = np.shape(xs)[1]
        sizes = code_sizes(d, params, xs, ys)
        initial = {
            s: np.zeros((batch, int(node.shape[0].subs(sizes))), np.asarray(xs).dtype)
            for s, node in d.cell.states.items()
        }
    return params, xs, ys, initial


def independent_forward(d, params: dict, xs, ys, initial: dict):
    """(J, values) by the evaluator in float64: values[name] is (T, batch, rows) like ``forward()``'s."""
    from symrnn.evaluate import FLOAT64, problem_from_code, run_forward, stack_steps

    f64 = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    ys64 = None if ys is None else np.asarray(ys, dtype=np.float64)
    problem = problem_from_code(
        d,
        f64,
        np.asarray(xs, dtype=np.float64),
        ys64,
        {s: np.asarray(v, np.float64) for s, v in initial.items()},
        code_sizes(d, params, xs, ys),
    )
    tape = run_forward(d, problem, FLOAT64)
    steps = range(1, problem.steps + 1)
    values = {
        eq.lhs.name: stack_steps([tape.values[(eq.lhs.name, t)] for t in steps])
        for eq in d.forward
        if eq.lhs.name != "L"
    }
    return (None if tape.loss is None else float(tape.loss)), values


def check_generated(
    d,
    params: dict,
    *args,
    module=None,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    value_rtol=None,
    fast_mode=False,
    seed=0,
    names=None,
) -> list[EntryCheck]:
    """The generated module of ``d`` against the evaluator: forward, loss and gradient checks.

    Args:
        d: the derivation.
        params: its parameters (the code's layout), optionally with initial states ``"<s>_0"``.
        *args: ``xs, ys`` and optionally ``initial`` (by state; default zeros).
        module: the module to check (default ``d.numpy()``).
        eps, atol, rtol, fast_mode, seed, names: the gradient check's, as :func:`gradcheck`;
            differences are taken of the evaluator's float64 loss.
        value_rtol: the bound on ρ for forward values and the loss (default 1e-9 for float64
            code, 1e-4 for float32).

    Returns:
        Forward checks (the worst entry of each value over all steps), two loss checks
        (``loss()`` and ``loss_and_grads()``), then one gradient check per parameter and
        initial state.
    """
    module = d.numpy() if module is None else module
    params, xs, ys, initial = split_states(d, params, args)
    dtype = np.result_type(*params.values())
    value_rtol = (1e-9 if dtype == np.float64 else 1e-4) if value_rtol is None else value_rtol
    J, values = independent_forward(d, params, xs, ys, initial)
    report = []
    generated = module.forward(params, xs, initial)
    for name, expected in values.items():
        if name not in generated:
            continue
        got = np.asarray(generated[name], dtype=np.float64)
        if got.shape != expected.shape:
            raise GradcheckError(
                f"the generated forward gives {name} of shape {got.shape}; the evaluator {expected.shape}"
            )
        entries = [
            _entry("forward", name, (i[0] + 1, *i[1:]), float(got[i]), float(expected[i]), 0.0, value_rtol)
            for i in np.ndindex(*got.shape)
        ]
        if entries:
            report.append(max(entries, key=_badness))
    value, grads = module.loss_and_grads(params, xs, ys, initial)
    report.append(_entry("loss", "loss()", (), float(module.loss(params, xs, ys, initial)), J, 0.0, value_rtol))
    report.append(_entry("loss", "loss_and_grads()", (), float(value), J, 0.0, value_rtol))
    # differences in float64 whatever the code's dtype: a float32 step of 1e-6 is mostly rounding
    everything = {
        k: np.asarray(v, np.float64) for k, v in {**params, **{f"{s}_0": v for s, v in initial.items()}}.items()
    }
    keys = {f"{s}_0": s for s in initial}

    def reference_loss(p, xs, ys):
        rest = {k: v for k, v in p.items() if k not in keys}
        return independent_forward(d, rest, xs, ys, {s: p[k] for k, s in keys.items()})[0]

    def checked(p, xs, ys):
        return value, grads

    gradient = gradcheck_report(
        checked,
        everything,
        xs,
        ys,
        eps=eps,
        atol=atol,
        rtol=rtol,
        fast_mode=fast_mode,
        seed=seed,
        names=names,
        analytic_grads=grads,
        reference_loss=reference_loss,
    )
    return report + [e for e in gradient if e.part == "gradient"]  # its loss entry repeats loss_and_grads()'s
