"""Independent oracles for tiny sizes: the unrolled scalar loss, differentiated by SymPy.

``unrolled_gradients`` writes J for one example over T steps as one scalar SymPy
expression in the parameter entries and differentiates it entry by entry: no
matrix calculus, no derivation involved.  It explodes quickly (an LSTM with 2
units at T=3 has over a million operations), so ``mp_central_difference`` — a
50-digit central difference of the same unrolled loss — stands in where
unrolling symbolically is too slow.  Every number comes from the one evaluator
(:mod:`symrnn.evaluate`): exact SymPy for the unrolled loss and the derivation's
recurrences, mpmath at digits + 40 for the central difference.
"""

from __future__ import annotations

import numpy as np
import sympy

from symrnn import ir
from symrnn.evaluate import EXACT, Arithmetic, Problem, mpmath_arithmetic, run_backward, run_forward


def sizes_of(hidden: int, input: int, output: int) -> dict:
    return {ir.HIDDEN: hidden, ir.INPUT: input, ir.OUTPUT: output}


def random_problem(d, *, hidden=2, input=1, output=2, steps=2, seed=0, digits=50):
    """Parameters, inputs, one-hot targets and initial states as 50-digit matrices."""
    rng = np.random.default_rng(seed)
    sizes = sizes_of(hidden, input, output)

    def mat(rows, cols, scale=0.8):
        return sympy.Matrix(rows, cols, [sympy.Float(v, digits) for v in rng.uniform(-scale, scale, rows * cols)])

    params = {}
    for name, node in d.params.items():
        params[name] = mat(*(int(sympy.sympify(s).subs(sizes)) for s in node.shape))
    xs = [mat(input, 1, 1.0) for _ in range(steps)]
    ys = []
    for _ in range(steps):
        y = sympy.zeros(output, 1)
        y[int(rng.integers(output)), 0] = 1
        ys.append(y)
    initial = {s: mat(int(sympy.sympify(node.shape[0]).subs(sizes)), 1, 0.5) for s, node in d.cell.states.items()}
    return params, xs, ys, initial, sizes


def _example(m: sympy.Matrix) -> np.ndarray:
    """A SymPy matrix as one example of the evaluator's batched layout, (1, rows, cols)."""
    return np.array(m.tolist(), dtype=object)[None]


def _problem(d, params, xs, ys, initial, sizes) -> Problem:
    """The oracle's SymPy matrices (one example) as an evaluator :class:`~symrnn.evaluate.Problem`."""
    (input_name,) = d.cell.inputs
    return Problem(
        sizes=sizes,
        steps=len(xs),
        params={k: np.array(m.tolist(), dtype=object) for k, m in params.items()},
        inputs={input_name: [_example(x) for x in xs]},
        targets=None if ys is None else [_example(y) for y in ys],
        initial={s: _example(m) for s, m in initial.items()},
    )


def _loss(d, params, xs, ys, initial, sizes, arith: Arithmetic):
    """J of the unrolled forward equations (the cell, readout and loss at every step)."""
    return run_forward(d, _problem(d, params, xs, ys, initial, sizes), arith).loss


def derived_gradients(d, params, xs, ys, initial, sizes):
    """Loss and gradients from the derivation's recurrences, evaluated exactly as given.

    Returns:
        (J, grads): grads by parameter name and ``"<state>_0"``, SymPy matrices.
    """
    tape = run_forward(d, _problem(d, params, xs, ys, initial, sizes), EXACT)
    grads = run_backward(tape)
    out = {name: sympy.Matrix(value.tolist()) for name, value in grads.params.items()}
    out.update({f"{s}_0": sympy.Matrix(value[0].tolist()) for s, value in grads.initial.items()})
    return tape.loss, out


def unrolled_gradients(d, params, xs, ys, initial, sizes, digits=50):
    """∂J/∂θ for every entry θ by SymPy's scalar differentiation of the unrolled loss."""
    symbols = {}
    symbolic = {}
    for name, m in params.items():
        syms = [sympy.Symbol(f"{name}[{i}]") for i in range(len(m))]
        symbols[name] = syms
        symbolic[name] = sympy.Matrix(m.rows, m.cols, syms)
    init_syms = {s: [sympy.Symbol(f"{s}_0[{i}]") for i in range(len(m))] for s, m in initial.items()}
    symbolic_init = {s: sympy.Matrix(initial[s].rows, 1, init_syms[s]) for s in initial}
    J = _loss(d, symbolic, xs, ys, symbolic_init, sizes, EXACT)
    point = {}
    for name, syms in symbols.items():
        point.update(zip(syms, params[name], strict=False))
    for s, syms in init_syms.items():
        point.update(zip(syms, initial[s], strict=False))
    out = {}
    for name, syms in {**symbols, **{f"{s}_0": v for s, v in init_syms.items()}}.items():
        shape = params[name].shape if name in params else initial[name[:-2]].shape
        # xreplace then evalf: evalf(subs=...) is orders of magnitude slower here
        out[name] = sympy.Matrix(*shape, [sympy.diff(J, s).xreplace(point).evalf(digits) for s in syms])
    return J.xreplace(point).evalf(digits), out


STEP = sympy.Rational(1, 10**25)


def mp_central_difference(d, params, xs, ys, initial, sizes, digits=50, step=STEP):
    """∂J/∂θ by central differences of the unrolled loss at digits+40 digits.

    Truncation error ~ step² = 1e-50; rounding error ~ 10^-(digits+40) / step.
    """
    work = digits + 40
    arith = mpmath_arithmetic(work)

    def lift(m):  # to `work` digits before the shift, or θ ± step keeps only `digits` of it
        return m.applyfunc(lambda v: sympy.Float(v, work))

    params = {k: lift(v) for k, v in params.items()}
    initial = {k: lift(v) for k, v in initial.items()}
    out = {}
    for name in [*params, *(f"{s}_0" for s in initial)]:
        base = params[name] if name in params else initial[name[:-2]]
        grad = sympy.zeros(*base.shape)
        for i in range(len(base)):
            values = []
            for sign in (1, -1):
                shifted = base.copy()
                shifted[i] = shifted[i] + sign * step
                p = {**params, name: shifted} if name in params else params
                init = {**initial, name[:-2]: shifted} if name not in params else initial
                values.append(EXACT.number(_loss(d, p, xs, ys, init, sizes, arith)))  # a Float at `work` digits
            grad[i] = (values[0] - values[1]) / (2 * step)
        out[name] = grad
    return out
