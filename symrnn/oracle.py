"""Independent oracles for tiny sizes: the unrolled scalar loss, differentiated by SymPy.

``unrolled_gradients`` writes J for one example over T steps as one scalar SymPy
expression in the parameter entries and differentiates it entry by entry: no
matrix calculus, no derivation involved.  It explodes quickly (an LSTM with 2
units at T=3 has over a million operations), so ``mp_central_difference`` — a
50-digit central difference of the same unrolled loss — stands in where
unrolling symbolically is too slow.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy

from symrnn import ir
from symrnn.interpret import run_derivation, run_forward


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


def derived_gradients(d, params, xs, ys, initial, sizes):
    """Loss and gradients from the derivation's recurrences, evaluated exactly as given."""
    return run_derivation(d, params, xs, ys, initial, sizes)


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
    J, _ = run_forward(d, symbolic, xs, ys, symbolic_init, sizes)
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

    def lift(m):
        return m.applyfunc(lambda v: sympy.Float(v, work))

    params = {k: lift(v) for k, v in params.items()}
    initial = {k: lift(v) for k, v in initial.items()}
    xs = [lift(x) for x in xs]
    with mpmath.workdps(work):
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
                    J, _ = run_forward(d, p, xs, ys, init, sizes)
                    values.append(sympy.Float(J, work))
                grad[i] = (values[0] - values[1]) / (2 * step)
            out[name] = grad
    return out
