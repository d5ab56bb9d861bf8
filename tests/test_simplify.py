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
