"""Functions a note defines by a formula: ``g(x) = 4\\sigma(x) - 2``, ``h(z) = 2/(1 + e^{-z}) - 1``.

The formula is read into SymPy (σ as 1/(1 + e^{-z})), so the program applies the function as
written (an IR expression of its argument, differentiated by the program's own rules) and a claim's
``g'`` or ``h''`` is the formula's derivative, evaluated element-wise in float64 or at 40 digits.
A formula with anything else in it (another letter, a function SymPy is not given here) is not
read, and claims that need it stay unchecked, saying so.
"""

from __future__ import annotations

import sympy

from symrnn import ir

from .tree import Add, Apply, Equation, Frac, Func, Neg, Number, Power, Product, Sub, Symbol

Z = sympy.Symbol("z")
_SYMPY = {"tanh": sympy.tanh, "exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "sin": sympy.sin, "cos": sympy.cos}
_IR = {sympy.tanh: "tanh", sympy.exp: "exp", sympy.log: "log", sympy.sin: "sin", sympy.cos: "cos"}


class FormulaError(ValueError):
    """A formula this module cannot read or apply."""


def formula_of(tree) -> tuple[str, sympy.Expr] | None:
    """(letter, formula in z) of ``g(x) = …`` or ``g = 2\\tanh``; None when the line is neither."""
    if not isinstance(tree, Equation) or len(tree.sides) != 2:
        return None
    lhs, rhs = tree.sides
    try:
        if isinstance(lhs, Apply) and isinstance(lhs.func, Func) and not lhs.func.primes and len(lhs.args) == 1:
            (arg,) = lhs.args
            if isinstance(arg, Symbol) and arg == Symbol(arg.name):
                return lhs.func.name, to_sympy(rhs, arg.name)
        if (
            isinstance(lhs, Func | Symbol)
            and not getattr(lhs, "primes", 0)
            and (not isinstance(lhs, Symbol) or lhs == Symbol(lhs.name))
        ):
            if isinstance(rhs, Product) and isinstance(rhs.left, Number) and isinstance(rhs.right, Func):
                return lhs.name, sympy.Rational(rhs.left.text) * _function(rhs.right.name, Z)  # g = 2\tanh
    except FormulaError:
        return None
    return None


def to_sympy(node, letter: str) -> sympy.Expr:
    """The tree of a formula in ``letter`` as a SymPy expression in z."""
    rec = lambda n: to_sympy(n, letter)  # noqa: E731
    if isinstance(node, Number):
        return sympy.Rational(node.text)
    if isinstance(node, Symbol) and node == Symbol(node.name):
        if node.name == letter:
            return Z
        if node.name == "e":
            return sympy.E
    if isinstance(node, Apply) and isinstance(node.func, Func) and not node.func.primes and len(node.args) == 1:
        return _function(node.func.name, rec(node.args[0]))
    if isinstance(node, Add):
        return rec(node.left) + rec(node.right)
    if isinstance(node, Sub):
        return rec(node.left) - rec(node.right)
    if isinstance(node, Neg):
        return -rec(node.operand)
    if isinstance(node, Product) and node.op in ("juxt", "cdot", "times", "*"):
        return rec(node.left) * rec(node.right)
    if isinstance(node, Frac):
        return rec(node.num) / rec(node.den)
    if isinstance(node, Power):
        return rec(node.base) ** rec(node.exponent)
    raise FormulaError(f"cannot read {type(node).__name__} in a formula")


def _function(name: str, arg):
    if name in ("sigma", "sigmoid"):
        return 1 / (1 + sympy.exp(-arg))
    if name in _SYMPY:
        return _SYMPY[name](arg)
    raise FormulaError(f"the function {name} in a formula")


def derivative(expr: sympy.Expr, order: int) -> sympy.Expr:
    return sympy.diff(expr, Z, order) if order else expr


def evaluate(expr: sympy.Expr, x, apply, ones):
    """``expr`` at the array x, element-wise: ``apply(name, a)`` computes exp/tanh/…, ``ones`` an array of 1."""

    def rec(e):
        if e == Z:
            return x
        if e.is_Rational:
            return ones * int(e.p) / int(e.q) if e.q != 1 else ones * int(e.p)
        if e == sympy.E:
            return apply("exp", ones)
        if e.is_Add:
            out = rec(e.args[0])
            for a in e.args[1:]:
                out = out + rec(a)
            return out
        if e.is_Mul:
            out = rec(e.args[0])
            for a in e.args[1:]:
                out = out * rec(a)
            return out
        if e.is_Pow:
            base, exponent = e.args
            if exponent.is_Integer:
                n = int(exponent)
                out = ones
                b = rec(base)
                for _ in range(abs(n)):
                    out = out * b
                return out if n >= 0 else ones / out
            return apply("exp", rec(exponent) * apply("log", rec(base)))
        if e.func in _IR:
            return apply(_IR[e.func], rec(e.args[0]))
        raise FormulaError(f"cannot evaluate {e}")

    return rec(expr)


def to_ir(expr: sympy.Expr, x: ir.Node, ones: ir.Node) -> ir.Node:
    """``expr`` applied to the IR value x, as IR (so the program's reverse mode differentiates it)."""

    def rec(e):
        if e == Z:
            return x
        if e.is_Rational:
            return ir.scale(sympy.Rational(e), ones)
        if e.is_Add:
            out = rec(e.args[0])
            for a in e.args[1:]:
                out = ir.add(out, rec(a))
            return out
        if e.is_Mul:
            coefficient, rest = e.as_coeff_Mul()
            if coefficient != 1 and rest != 1:
                return ir.scale(sympy.Rational(coefficient), rec(rest))
            out = rec(e.args[0])
            for a in e.args[1:]:
                out = ir.mul(out, rec(a))
            return out
        if e.is_Pow:
            base, exponent = e.args
            if exponent.is_Integer and int(exponent) != 0:
                n = int(exponent)
                b = rec(base)
                out = b
                for _ in range(abs(n) - 1):
                    out = ir.mul(out, b)
                return out if n > 0 else ir.div(ones, out)
            if base == sympy.E:
                return ir.apply("exp", rec(exponent))
            raise FormulaError(f"the power {e} in a formula")
        if e.func in _IR:
            return ir.apply(_IR[e.func], rec(e.args[0]))
        raise FormulaError(f"cannot apply {e}")

    return rec(expr)


__all__ = ["FormulaError", "derivative", "evaluate", "formula_of", "to_ir", "to_sympy"]
