"""Gradient checks of any ``fn(params, *args) -> (loss, grads)`` by central differences.

Modelled on ``torch.autograd.gradcheck``: an entry passes when
|analytic − numeric| ≤ atol + rtol·|numeric|.  Fast mode compares one random
directional derivative both ways (uᵀ∇J against (J(θ+εu) − J(θ−εu)) / 2ε), one
pair of calls instead of two per entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class GradcheckError(AssertionError):
    """A gradient that disagrees with finite differences; the message names the worst entry."""


@dataclass(frozen=True)
class EntryCheck:
    """The worst entry of one parameter: where, both values and the errors."""

    parameter: str
    index: tuple
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float  # ρ = |a − n| / max(1, |a| + |n|)
    passed: bool


def _value(out) -> float:
    return float(out[0] if isinstance(out, tuple) else out)


def _loss(fn, params, args) -> float:
    return _value(fn(params, *args))


def gradcheck_report(
    fn, params: dict, *args, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False, seed=0, names=None, analytic_grads=None
) -> list[EntryCheck]:
    """One :class:`EntryCheck` per parameter (or one ``<direction>`` check in fast mode).

    ``analytic_grads`` checks gradients computed elsewhere (e.g. by float32 code)
    against differences of ``fn`` (e.g. its float64 twin).
    """
    params = {k: np.array(v, copy=True) for k, v in params.items()}
    grads = fn(params, *args)[1] if analytic_grads is None else analytic_grads
    names = list(params) if names is None else list(names)
    for name in names:
        if name not in grads:
            raise GradcheckError(f"fn returned no gradient for parameter {name!r}")
        if np.shape(grads[name]) != np.shape(params[name]):
            raise GradcheckError(
                f"gradient of {name!r} has shape {np.shape(grads[name])}; the parameter has {np.shape(params[name])}"
            )
    if fast_mode:
        rng = np.random.default_rng(seed)
        direction = {k: rng.standard_normal(np.shape(params[k])) for k in names}
        analytic = sum(float(np.sum(np.asarray(grads[k], dtype=np.float64) * direction[k])) for k in names)
        plus = {k: (v + eps * direction[k] if k in direction else v) for k, v in params.items()}
        minus = {k: (v - eps * direction[k] if k in direction else v) for k, v in params.items()}
        numeric = (_loss(fn, plus, args) - _loss(fn, minus, args)) / (2 * eps)
        return [_entry("<random direction>", (), analytic, numeric, atol, rtol)]
    numeric = numeric_gradients(lambda p: _loss(fn, p, args), params, eps=eps, names=names)
    report = []
    for name in names:
        g = np.asarray(grads[name], dtype=np.float64)
        entries = [_entry(name, i, float(g[i]), float(numeric[name][i]), atol, rtol) for i in np.ndindex(*g.shape)]
        if entries:
            report.append(max(entries, key=lambda e: _badness(e, atol, rtol)))
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


def _entry(name, index, analytic, numeric, atol, rtol) -> EntryCheck:
    err = abs(analytic - numeric)
    return EntryCheck(
        name,
        tuple(int(i) for i in index),
        analytic,
        numeric,
        err,
        err / max(1.0, abs(analytic) + abs(numeric)),
        err <= atol + rtol * abs(numeric),
    )


def _badness(e: EntryCheck, atol, rtol) -> float:
    return e.abs_error / (atol + rtol * abs(e.numeric))


def gradcheck(
    fn, params: dict, *args, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False, raise_exception=True, names=None
) -> bool:
    """True when ∇J from ``fn`` matches central differences for every parameter entry.

    Args:
        fn: ``fn(params, *args) -> (loss, grads)`` with ``grads`` keyed like ``params``.
        params: dict of float arrays (float64 recommended; they are copied, never changed).
        *args: passed to ``fn`` after ``params`` (e.g. ``xs, ys``).
        eps: finite-difference step.
        atol, rtol: an entry passes when |analytic − numeric| ≤ atol + rtol·|numeric|.
        fast_mode: check one random directional derivative instead of every entry.
        raise_exception: raise :class:`GradcheckError` on failure instead of returning False.
        names: the parameters to check (default: all of ``params``).

    Raises:
        GradcheckError: naming the parameter, the index and both values of the worst entry.
    """
    report = gradcheck_report(fn, params, *args, eps=eps, atol=atol, rtol=rtol, fast_mode=fast_mode, names=names)
    failed = [e for e in report if not e.passed]
    if failed and raise_exception:
        worst = max(failed, key=lambda e: _badness(e, atol, rtol))
        raise GradcheckError(
            f"gradient of {worst.parameter}{list(worst.index)} is wrong: analytic {worst.analytic!r}, "
            f"numeric {worst.numeric!r} (|diff| {worst.abs_error:.3g} > atol {atol} + rtol {rtol}·|numeric|); "
            f"{len(failed)} of {len(report)} parameters fail: {', '.join(e.parameter for e in failed)}"
        )
    return not failed
