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


class NumpyPrinter:
    """Settings: ``names`` maps leaf or saved subexpression nodes to Python names."""

    def __init__(self, names: dict[Node, str]):
        self.names = names

    def doprint(self, node: Node) -> str:
        if node in self.names:
            return self.names[node]
        return getattr(self, f"_print_{node.op}")(node)

    def atom(self, node: Node) -> str:
        """Code that can stand as an operand without brackets."""
        code = self.doprint(node)
        if node not in self.names and node.op in ("transpose", "broadcast") and code == self.doprint(node.args[0]):
            # a no-op in the batched layout ((r ⊙ h)ᵀ of a per-example column): as bracketed as its operand
            return self.atom(node.args[0])
        if node in self.names or node.op in (
            "var",
            "apply",
            "softmax",
            "concat",
            "rows",
            "transpose",
            "broadcast",
            "batch_sum",
            "zeros",
        ):
            return code
        return f"({code})"

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
        return f"{self.doprint(node.args[0])} + {self.bracketed_sum(node.args[1])}"

    def _print_sub(self, node):
        return f"{self.doprint(node.args[0])} - {self.bracketed_sum(node.args[1])}"

    def bracketed_sum(self, node):
        """A right operand of + or -: sums and negations in brackets."""
        if node.op in ("add", "sub", "one_minus") or (node.op == "scale" and node.attrs[0] < 0):
            return f"({self.doprint(node)})"
        return self.doprint(node)

    def _print_mul(self, node):
        return f"{self.product_operand(node.args[0])} * {self.product_operand(node.args[1], right=True)}"

    def _print_div(self, node):
        return f"{self.product_operand(node.args[0])} / {self.atom(node.args[1])}"

    def product_operand(self, node, right=False):
        if node in self.names:
            return self.names[node]
        if node.op in ("add", "sub", "one_minus", "scale") or (right and node.op in ("mul", "div")):
            return f"({self.doprint(node)})"
        return self.doprint(node)

    def _print_scale(self, node):
        c, a = node.attrs[0], node.args[0]
        if c == -1:
            return f"-{self.atom(a)}"
        return f"{python_number(c)} * {self.atom(a)}"

    def _print_one_minus(self, node):
        return f"1 - {self.bracketed_sum(node.args[0])}"

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
        if a.batched or a.is_column or a.is_row:
            return self.doprint(a)  # vectors are stored flat: transposing is free
        return f"{self.atom(a)}.T"

    def _print_matmul(self, node):
        a, b = node.args
        if not a.batched and not b.batched:
            return f"{self.atom(a)} @ {self.atom(b)}"
        if not a.batched:  # W @ x → x @ W.T
            return f"{self.atom(b)} @ {self._transposed(a)}"
        if not b.batched:  # row vector times a shared matrix
            if not a.is_row:
                raise CodegenError(f"per-example matrix in {node!r}")
            return f"{self.atom(a)} @ {self.atom(b)}"
        if a.is_row and b.is_column:  # per-example inner product
            return f"np.sum({self.product_operand(a)} * {self.product_operand(b)}, axis=1, keepdims=True)"
        if b.shape == (ir.ONE, ir.ONE):
            return f"{self.product_operand(a)} * {self.product_operand(b)}"
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
