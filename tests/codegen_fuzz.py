"""Random user cells and IR expressions for the code-generator fuzz tests.

A cell is drawn as a *recipe* (nested tuples) and then built with :class:`symrnn.Cell`, so a
failing example prints as readable data.  The recipes reach what the catalogue never has:
products of products, nested subtractions, squares, gates without a recurrent weight,
parameters shared by several terms, several gates, a second state.

The independent reference is the one evaluator, :mod:`symrnn.evaluate` (40-digit mpmath, one example at a
time): the forward values and loss of the cell, and the derivation's recurrences evaluated
there (:func:`reference`).
"""

from __future__ import annotations

import numpy as np
import sympy
from hypothesis import strategies as st

from symrnn import Cell, derive, ir
from symrnn.activations import relu, sigmoid, tanh
from symrnn.evaluate import MPMATH, grads_to_code, problem_from_code, run_backward, run_forward, stack_steps

WEIGHTS = ("W_a", "W_b")  # hidden × hidden
INPUT_WEIGHTS = ("U_a", "U_b")  # hidden × input
BIASES = ("b_a", "b_b")
SCALES = (2, -1, -2, sympy.Rational(1, 2))


def _leaf(gates: int, states: tuple[str, ...]):
    options = [st.tuples(st.just("state"), st.sampled_from(states))]
    options += [
        st.tuples(st.just("Wh"), st.sampled_from(WEIGHTS), st.sampled_from(states)),
        st.tuples(st.just("Ux"), st.sampled_from(INPUT_WEIGHTS)),
        st.tuples(st.just("b"), st.sampled_from(BIASES)),
        st.tuples(st.just("cat"), st.sampled_from(states)),
    ]
    if gates:
        options.append(st.tuples(st.just("gate"), st.integers(0, gates - 1)))
    return st.one_of(options)


def expression(gates: int, states: tuple[str, ...], max_leaves: int = 6):
    """A recipe of a hidden-sized vector expression over states, earlier gates and parameters."""

    def extend(inner):
        return st.one_of(
            st.tuples(st.sampled_from(("add", "sub", "mul")), inner, inner),
            st.tuples(st.just("square"), inner),
            st.tuples(st.sampled_from(("one_minus", "tanh", "sigmoid", "relu")), inner),
            st.tuples(st.just("scale"), st.sampled_from(SCALES), inner),
            st.tuples(st.just("W@"), st.sampled_from(WEIGHTS), inner),
        )

    return st.recursive(_leaf(gates, states), extend, max_leaves=max_leaves)


@st.composite
def cell_recipes(draw):
    """``(gates, updates, loss)``: each gate (function, pre-activation recipe), each state's update."""
    states = ("h", "c") if draw(st.integers(0, 3)) == 0 else ("h",)
    n_gates = draw(st.integers(0, 3))
    gates = []
    for k in range(n_gates):
        function = draw(st.sampled_from(("sigmoid", "tanh", "relu")))
        gates.append((function, draw(expression(k, states, max_leaves=4))))
    updates = tuple(draw(expression(n_gates, states)) for _ in states)
    loss = draw(st.sampled_from(("softmax_ce", "bce", "mse")))
    return tuple(gates), states, updates, loss


def build_cell(recipe) -> Cell:
    """The :class:`Cell` a recipe describes."""
    gates, states, updates, _ = recipe
    cell = Cell("fuzz", source="hypothesis", convention="random")
    x = cell.input("x")
    prev = {s: cell.state(s) for s in states}
    values: list = []

    def build(r):
        op = r[0]
        if op == "state":
            return prev[r[1]]
        if op == "Wh":
            return cell.weight(r[1]) @ prev[r[2]]
        if op == "Ux":
            return cell.weight(r[1], ir.HIDDEN, ir.INPUT) @ x
        if op == "b":
            return cell.bias(r[1])
        if op == "cat":
            return cell.weight(f"W_cat_{r[1]}", ir.HIDDEN, ir.HIDDEN + ir.INPUT) @ ir.concat(prev[r[1]], x)
        if op == "gate":
            return values[r[1]]
        if op == "add":
            return build(r[1]) + build(r[2])
        if op == "sub":
            return build(r[1]) - build(r[2])
        if op == "mul":
            return build(r[1]) * build(r[2])
        if op == "square":
            a = build(r[1])
            return a * a
        if op == "one_minus":
            return 1 - build(r[1])
        if op == "tanh":
            return tanh(build(r[1]))
        if op == "sigmoid":
            return sigmoid(build(r[1]))
        if op == "relu":
            return relu(build(r[1]))
        if op == "scale":
            return ir.scale(r[1], build(r[2]))
        if op == "W@":
            return cell.weight(r[1]) @ build(r[2])
        raise AssertionError(r)

    def batched(expr):
        # an equation must depend on the input or a state: add the input's projection if not
        return expr if expr.batched else expr + cell.weight("U_a", ir.HIDDEN, ir.INPUT) @ x

    for k, (function, pre) in enumerate(gates):
        activation = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu}[function]
        values.append(cell.let(f"g{k}", activation(batched(build(pre)))))
    for s, update in zip(states, updates, strict=True):
        cell.let(s, tanh(batched(build(update))) if s == "h" else batched(build(update)))
    return cell


def derive_recipe(recipe):
    return derive(build_cell(recipe), recipe[3])


# ---------------------------------------------------------------- the independent reference
def _column(v) -> sympy.Matrix:
    return sympy.Matrix([sympy.Float(float(a), 30) for a in np.ravel(v)])


def _matrix(v) -> sympy.Matrix:
    v = np.asarray(v, dtype=np.float64)
    if v.ndim == 1:
        return _column(v)
    return sympy.Matrix(v.shape[0], v.shape[1], [sympy.Float(float(a), 30) for a in v.ravel()])


def reference(d, params, xs, ys, initial, sizes):
    """(J, values, grads) from the one evaluator (:mod:`symrnn.evaluate`, 40 digits), as float64 arrays.

    ``values[name]`` is (T, batch, size) like ``forward()``; ``grads`` is keyed like
    ``loss_and_grads`` (initial states as ``"<s>_0"``), in the layout of the generated code.
    """
    sym_sizes = {ir.HIDDEN: sizes["hidden_size"], ir.INPUT: sizes["input_size"], ir.OUTPUT: sizes["output_size"]}
    problem = problem_from_code(d, params, xs, ys, initial, sym_sizes)
    tape = run_forward(d, problem, MPMATH)
    grads = grads_to_code(d, run_backward(tape))
    steps = problem.steps
    names = [eq.lhs.name for eq in d.forward if eq.lhs.name != "L"]
    values = {n: _array(stack_steps([tape.values[(n, t)] for t in range(1, steps + 1)])) for n in names}
    return float(tape.loss), values, {k: _array(v) for k, v in grads.items()}


def _array(m) -> np.ndarray:
    return np.array(m.tolist(), dtype=np.float64)
