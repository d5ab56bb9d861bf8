"""IR → NumPy expression code, batched: one ``_print_<op>`` method per op.

Layout of values in generated code (the math is per example, column vectors):

* a batched vector (one per example, column or row) is an array (batch, n);
  a per-example scalar is (batch, 1);
* a shared column vector (a bias) is 1-D (n,); a shared matrix is (rows, cols).

So ``W @ h`` is ``h @ W.T``, a transpose of a batched vector costs nothing, and
``batch_sum(δ xᵀ)`` — an outer product summed over the batch — is ``δ.T @ x``.
Per-example matrices are never materialised.
"""

from __future__ import annotations

import sympy

from symrnn import ir
from symrnn.functions import function_spec
from symrnn.ir import Node


class CodegenError(ValueError):
    """An expression the batched NumPy layout cannot express."""


def python_number(c) -> str:
    c = sympy.nsimplify(c)
    if c.is_Integer:
        return str(int(c))
    return repr(float(c))


def dim_code(expr) -> str:
    """A size expression as Python (names are the dims bound in the generated function)."""
    return str(sympy.sympify(expr))


# Python's binding strengths of the code the printer writes (higher binds tighter): ``*``,
# ``/`` and ``@`` bind equally and group left to right, so the right operand of one of them
# that is itself a product needs brackets (``r * (h @ W.T)``), as does the right operand of
# ``-`` that is a sum (``a - (b - c)``).
ADDITIVE, MULTIPLICATIVE, UNARY, ATOM = 1, 2, 3, 4
_PRECEDENCE = {
    "add": ADDITIVE,
    "sub": ADDITIVE,
    "one_minus": ADDITIVE,
    "mul": MULTIPLICATIVE,
    "div": MULTIPLICATIVE,
}


class NumpyPrinter:
    """Settings: ``names`` maps leaf or saved subexpression nodes to Python names.

    Brackets are decided in one place, :meth:`operand`, from the binding strength of the code
    each node prints (:meth:`precedence`), as SymPy's printers decide them from its table.
    """

    outer = "np.outer"  # the outer product of two 1-D arrays

    def __init__(self, names: dict[Node, str]):
        self.names = names

    def doprint(self, node: Node) -> str:
        if node in self.names:
            return self.names[node]
        return getattr(self, f"_print_{node.op}")(node)

    def precedence(self, node: Node) -> int:
        """How tightly the code :meth:`doprint` writes for ``node`` binds (see :data:`ATOM`)."""
        if node in self.names:
            return ATOM
        op = node.op
        if op in _PRECEDENCE:
            return _PRECEDENCE[op]
        if op == "scale":
            return UNARY if node.attrs[0] == -1 else MULTIPLICATIVE
        if op == "broadcast" or (op == "transpose" and self._free_transpose(node)):
            return self.precedence(node.args[0])  # printed as its operand
        if op == "matmul":
            return self._matmul_precedence(node)
        if op == "batch_sum":
            a = node.args[0]
            fused = a.op == "matmul" and a not in self.names and a.args[0].batched and a.args[1].batched
            return MULTIPLICATIVE if fused and a.args[0].is_column and a.args[1].is_row else ATOM
        return ATOM  # names, calls, subscripts, attributes

    def _matmul_precedence(self, node: Node) -> int:
        a, b = node.args
        if a.batched and b.batched and a.is_row and b.is_column:
            return ATOM  # a per-example inner product is a call
        if not a.batched and not b.batched and a.is_column and b.is_row and not (a.is_row or b.is_column):
            return ATOM  # np.outer(a, b)
        return MULTIPLICATIVE

    def _free_transpose(self, node: Node) -> bool:
        a = node.args[0]
        return a.batched or a.is_column or a.is_row

    def operand(self, node: Node, strength: int) -> str:
        """Code for ``node`` as an operand that must bind at least ``strength``: bracketed if weaker."""
        code = self.doprint(node)
        return code if self.precedence(node) >= strength else f"({code})"

    def atom(self, node: Node) -> str:
        """Code that can stand as an operand of a call, a subscript or ``.T`` without brackets."""
        return self.operand(node, ATOM)

    def left(self, node: Node, op_strength: int) -> str:
        """The left operand of a left-grouping binary operator of ``op_strength``."""
        return self.operand(node, op_strength)

    def right(self, node: Node, op_strength: int) -> str:
        """The right operand of a left-grouping binary operator: an equal-strength one is bracketed."""
        return self.operand(node, op_strength + 1)

    # ------------------------------------------------------------ ops
    def _print_var(self, node):
        raise CodegenError(f"no value bound for {node!r}")

    def _print_zeros(self, node):
        rows = dim_code(node.shape[0])
        if node.batched:
            return f"np.zeros((batch_size, {rows}), dtype)"
        if node.is_column:
            return f"np.zeros({rows}, dtype)"
        return f"np.zeros(({rows}, {dim_code(node.shape[1])}), dtype)"

    def _print_add(self, node):
        return f"{self.doprint(node.args[0])} + {self.summand(node.args[1])}"

    def _print_sub(self, node):
        return f"{self.doprint(node.args[0])} - {self.summand(node.args[1])}"

    def summand(self, node):
        """A right operand of + or -: sums bracketed, and, for reading, negative multiples too."""
        if node.op == "scale" and node.attrs[0] < 0 and node not in self.names:
            return f"({self.doprint(node)})"
        return self.right(node, ADDITIVE)

    def _print_mul(self, node):
        return f"{self.factor(node.args[0])} * {self.factor(node.args[1], right=True)}"

    def _print_div(self, node):
        return f"{self.factor(node.args[0])} / {self.atom(node.args[1])}"

    def factor(self, node, right=False):
        """An operand of ``*``: as :meth:`left`/:meth:`right` say, and, for reading, multiples bracketed."""
        if node.op == "scale" and node not in self.names:
            return f"({self.doprint(node)})"
        return self.right(node, MULTIPLICATIVE) if right else self.left(node, MULTIPLICATIVE)

    def _print_scale(self, node):
        c, a = node.attrs[0], node.args[0]
        if c == -1:
            return f"-{self.atom(a)}"
        return f"{python_number(c)} * {self.atom(a)}"

    def _print_one_minus(self, node):
        return f"1 - {self.summand(node.args[0])}"

    def _print_apply(self, node):
        spec = function_spec(node.attrs[0])
        if spec.numpy is None:
            raise CodegenError(
                f"the generic function {spec.name} has no NumPy form; substitute a concrete "
                "function (e.g. tanh) before generating code"
            )
        return spec.numpy.format(self.atom(node.args[0]))

    def _print_softmax(self, node):
        return f"_softmax({self.doprint(node.args[0])})"

    def _print_broadcast(self, node):
        return self.doprint(node.args[0])

    def _print_transpose(self, node):
        (a,) = node.args
        if self._free_transpose(node):
            return self.doprint(a)  # vectors are stored flat: transposing is free
        return f"{self.atom(a)}.T"

    def _print_matmul(self, node):
        a, b = node.args
        if not a.batched and not b.batched:
            if a.is_column and b.is_row and not (a.is_row or b.is_column):
                # shared vectors are 1-D, where @ would be the inner product
                return f"{self.outer}({self.doprint(a)}, {self.doprint(b)})"
            return f"{self.atom(a)} @ {self.atom(b)}"
        if not a.batched:  # W @ x → x @ W.T
            return f"{self.atom(b)} @ {self._transposed(a)}"
        if not b.batched:  # row vector times a shared matrix
            if not a.is_row:
                raise CodegenError(f"per-example matrix in {node!r}")
            return f"{self.atom(a)} @ {self.atom(b)}"
        if a.is_row and b.is_column:  # per-example inner product
            return f"np.sum({self.factor(a)} * {self.factor(b, right=True)}, axis=1, keepdims=True)"
        if b.shape == (ir.ONE, ir.ONE):
            return f"{self.factor(a)} * {self.factor(b, right=True)}"
        raise CodegenError(f"per-example outer product outside a batch sum: {node!r}")

    def _transposed(self, a: Node) -> str:
        """Code of aᵀ for a shared matrix a (``W.T``; ``(Wᵀ)ᵀ`` is ``W``)."""
        if a.op == "transpose" and a not in self.names:
            return self.atom(a.args[0])
        return f"{self.atom(a)}.T"

    def _print_batch_sum(self, node):
        (a,) = node.args
        if a.op == "matmul" and a not in self.names and a.args[0].batched and a.args[1].batched:
            left, right = a.args
            if left.is_column and right.is_row:  # Σ_b δ xᵀ = Δᵀ X
                return f"{self.atom(left)}.T @ {self.atom(right)}"
        if a.is_column or a.is_row:
            return f"{self.atom(a)}.sum(axis=0)"
        raise CodegenError(f"batch sum of a per-example matrix: {node!r}")

    def _print_concat(self, node):
        axis = 1 if node.batched else 0
        return f"np.concatenate(({', '.join(self.doprint(a) for a in node.args)}), axis={axis})"

    def _print_rows(self, node):
        start, stop = (dim_code(x) for x in node.attrs)
        a = node.args[0]
        if a.batched:
            return f"{self.atom(a)}[:, {start}:{stop}]"
        return f"{self.atom(a)}[{start}:{stop}]"


def worth_a_temp(node: Node) -> bool:
    if node.op in ("var", "zeros", "broadcast") or (node.op == "transpose" and node.args[0].op == "var"):
        return False
    if (
        node.op == "matmul"
        and node.args[0].batched
        and node.args[1].batched
        and node.args[0].is_column
        and node.args[1].is_row
    ):
        return False  # an outer product only exists fused into its batch sum
    return True
