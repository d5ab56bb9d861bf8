"""simplify: zero operands inside element-wise expressions (a survivor of benchmarks/mutation.py).

The mutant ``zeros -> 1`` in ``_to_sympy`` survived every other test: no derivation feeds
simplify a literal zero inside a sum or product, yet the backward pass builds such sums
(a δ with no contribution yet is ``zeros``), so the rule is checked on its own here.
"""

from symrnn import ir
from symrnn.simplify import simplify

H = ir.HIDDEN
h = ir.var("h", (H, 1), ir.STATE, 0)
b = ir.var("b", (H, 1), ir.STATE, -1)
zero = ir.zeros((H, 1))


def test_a_zero_factor_removes_its_product_and_a_zero_term_its_sum():
    assert simplify(ir.add(ir.mul(h, zero), b)) == b
    assert simplify(ir.sub(b, zero)) == b
    assert simplify(ir.mul(ir.add(h, zero), b)) == simplify(ir.mul(h, b))


def test_a_sum_of_zeros_is_zeros():
    assert simplify(ir.add(zero, zero)).op == "zeros"
    assert simplify(ir.mul(zero, h)).op == "zeros"


# ---- survivors of the cosmic-ray run (benchmarks/mutation.py, issue 19): each test below fails on
# the mutant named in its docstring.

import numpy as np  # noqa: E402

from symrnn.evaluate import example_value  # noqa: E402

X = ir.INPUT
x = ir.var("x", (X, 1), ir.INPUT_KIND)
SIZES = {ir.HIDDEN: 3, ir.INPUT: 2, ir.OUTPUT: 2}


def _value(node, seed=0):
    rng = np.random.default_rng(seed)
    env = {}
    for leaf in ir.leaves(node):
        r, c = (int(d.subs(SIZES)) if hasattr(d, "subs") else int(d) for d in leaf.shape)
        env[leaf] = rng.uniform(0.5, 2.0, (r, c))
    return np.asarray(example_value(node, env, SIZES), dtype=float)


def _same_value(a, b):
    np.testing.assert_allclose(_value(a), _value(b), rtol=1e-12)


def test_a_sum_of_several_terms_stays_a_sum_and_a_quotient_a_quotient():
    """simplify.py: ``acc + term`` → ``acc * term`` in _from_sympy; ``a[0] / a[1]`` → ``a[0] / a[0]``;
    ``acc / f`` → ``acc // f`` for a denominator."""
    expr = ir.add(ir.add(h, b), ir.mul(h, b))
    _same_value(simplify(expr), expr)
    quotient = ir.div(ir.mul(h, b), ir.add(h, b))
    _same_value(simplify(quotient), quotient)
    _same_value(simplify(ir.div(h, b)), ir.div(h, b))


def test_a_power_is_written_back_as_a_product():
    """simplify.py: ``exponent > 0`` → ``exponent <= 0`` for a lone power (h ⊙ h ⊙ h ⊘ h is h**2 in SymPy)."""
    assert simplify(ir.div(ir.mul(ir.mul(h, h), h), h)) == ir.mul(h, h)
    assert simplify(ir.add(ir.div(ir.mul(ir.mul(h, h), h), h), b)) == ir.add(ir.mul(h, h), b)


def test_a_zero_operand_zeroes_a_matrix_product_but_not_a_softmax():
    """simplify.py: ``op == "matmul"`` → ``op >= "matmul"`` (softmax(0) is 1/n, not 0)."""
    W = ir.var("W", (H, H), ir.PARAM)
    assert simplify(ir.matmul(W, zero)).op == "zeros"
    kept = simplify(ir.softmax(zero))
    assert kept.op == "softmax"
    np.testing.assert_allclose(_value(kept), np.full((3, 1), 1 / 3))


def test_rows_of_a_concatenation_at_block_boundaries_are_the_blocks():
    """simplify.py: the offset of _structural's rows-of-concat rule (``+`` → ``-``/``*``, ``-`` → ``//``,
    ``== 0`` → ``< 0``)."""
    stacked = ir.concat(x, h, b)
    assert simplify(ir.rows(stacked, 0, X)) == x
    assert simplify(ir.rows(stacked, X, X + H)) == h
    assert simplify(ir.rows(stacked, X + H, X + 2 * H)) == b
    straddling = simplify(ir.rows(stacked, 1, X + 1))
    assert straddling.op == "rows"  # not a block: left alone
    _same_value(straddling, ir.rows(stacked, 1, X + 1))
