"""Every IR op × every consumer of the IR: a new op fails here until each consumer has decided on it.

:data:`CONSUMERS` is the one table of what reads IR nodes op by op: the VJP rules, the evaluator,
forward mode for gradient flow, the LaTeX and text printers, the NumPy, fast-NumPy, torch and JAX code
printers, the bounds of gradient flow and the canonical form of equivalence. Each consumer is run on
one expression per op (the test rows of ``test_rules``), not looked up, so an op that a consumer
silently mishandles fails too. A consumer may refuse an op only by its own documented refusal and
only for the ops listed as refused beside it: adding an op means handling it or listing it there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import sympy

from symrnn import ir
from symrnn.codegen.emitter import FastPrinter
from symrnn.codegen.names import leaf_name
from symrnn.codegen.numpy_printer import NumpyPrinter
from symrnn.equivalence import OutsideFamily, _Canonical
from symrnn.evaluate import FLOAT64, Evaluator
from symrnn.gradient_flow.bound import UNBOUNDED, interval
from symrnn.gradient_flow.differentials import FlowError, differential
from symrnn.layers.emit import JaxPrinter
from symrnn.printing.latex import latex
from symrnn.printing.text import text
from symrnn.rules import vjp
from tests.test_rules import ROWS, SIZES


def _torch_code(node):
    pytest.importorskip("torch")
    from symrnn.codegen.torch_printer import TorchPrinter

    return TorchPrinter(_names(node)).doprint(node)


def _evaluate(node):
    rng = np.random.default_rng(0)
    values = {}

    def leaf(v):
        if v not in values:
            rows, cols = (int(sympy.sympify(d).subs(SIZES)) for d in v.shape)
            values[v] = rng.uniform(0.2, 1.0, (2, rows, cols) if v.batched else (rows, cols))
        return values[v]

    return Evaluator(FLOAT64, SIZES, leaf, batch=2).value(node)


def _canonical(node):
    # The canonical form of one expression, without the cell around it that _Canonical reads first.
    canonical = _Canonical.__new__(_Canonical)
    canonical.fixed, canonical.atoms, canonical._atom_of, canonical._memo, canonical._labels = set(), [], {}, {}, {}
    canonical.params = {leaf.name: leaf for leaf in ir.leaves(node) if leaf.kind == ir.PARAM}
    # a cell's named values are inlined before canonicalising: stand an input in for each
    inputs = {leaf: ir.var(leaf.name, leaf.shape, ir.INPUT_KIND) for leaf in ir.leaves(node) if leaf.kind == ir.VALUE}
    return canonical.terms(ir.substitute(node, inputs))


def _names(node):
    return {leaf: leaf_name(leaf) for leaf in ir.leaves(node)}


def _bounds(node):
    return interval(node, {(leaf.name, leaf.shift): (sympy.Integer(0), sympy.Integer(1)) for leaf in ir.leaves(node)})


@dataclass(frozen=True)
class Consumer:
    """A reader of IR ops: how to run it on one node, what it returns when it declines, which ops it declines."""

    run: Callable
    valid: Callable  # the result is a real answer
    refusal: type[Exception] | None = None  # the consumer's own "cannot do this op" error
    refuses: frozenset[str] = frozenset()  # the ops it declines on the test rows, by decision
    declined: Callable | None = None  # a result that means "no answer" (a sound fallback)


def _is_text(s):
    return isinstance(s, str) and s.strip() != ""


CONSUMERS: dict[str, Consumer] = {
    "VJP (rules.py)": Consumer(lambda n: vjp(n, ir.grad(ir.var("out", n.shape))), lambda r: isinstance(r, dict)),
    "evaluator": Consumer(_evaluate, lambda r: isinstance(r, np.ndarray) and np.isfinite(r).all()),
    "forward mode (gradient flow)": Consumer(
        differential, lambda r: isinstance(r, tuple), FlowError, frozenset({"batch_sum", "transpose"})
    ),
    "LaTeX printer": Consumer(latex, _is_text),
    "text printer": Consumer(text, _is_text),
    "NumPy code": Consumer(lambda n: NumpyPrinter(_names(n)).doprint(n), _is_text),
    "fast NumPy code": Consumer(lambda n: FastPrinter(_names(n)).doprint(n), _is_text),
    "torch code": Consumer(_torch_code, _is_text),
    "JAX code (layers)": Consumer(lambda n: JaxPrinter(_names(n)).doprint(n), _is_text),
    "bounds (gradient flow)": Consumer(
        _bounds,
        lambda r: isinstance(r, tuple) and len(r) == 2,
        refuses=frozenset({"matmul", "div", "transpose", "batch_sum"}),
        declined=lambda r: r == UNBOUNDED,
    ),
    "equivalence canonical form": Consumer(
        _canonical,
        lambda r: isinstance(r, list),
        OutsideFamily,
        frozenset({"div", "concat", "rows", "transpose", "batch_sum", "softmax"}),
    ),
}


def test_every_op_has_a_test_row():
    assert sorted(ROWS) == sorted(ir.OPS)


def test_refused_ops_are_ops():
    for name, consumer in CONSUMERS.items():
        assert consumer.refuses <= set(ir.OPS), name


@pytest.mark.parametrize("consumer", list(CONSUMERS))
@pytest.mark.parametrize("op", ir.OPS)
def test_every_consumer_decides_on_every_op(op, consumer):
    c = CONSUMERS[consumer]
    node = ROWS[op]()
    try:
        result = c.run(node)
    except Exception as error:
        if c.refusal is not None and isinstance(error, c.refusal):
            assert op in c.refuses, f"{consumer} refuses {op} ({error}); handle it or list it in refuses"
            return
        raise
    if c.declined is not None and c.declined(result):
        assert op in c.refuses, f"{consumer} gives no answer for {op}; handle it or list it in refuses"
        return
    assert op not in c.refuses, f"{consumer} now handles {op}: take it off refuses"
    assert c.valid(result), f"{consumer} on {op}: {result!r}"
