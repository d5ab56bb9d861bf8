"""IR → torch expression code: the NumPy printer's batched layout spelled with torch ops.

Below both users: the derived BPTT as a torch function (:mod:`~symrnn.codegen.torch_function`)
and the derived layers' torch steps (:mod:`symrnn.layers.emit`).
"""

from __future__ import annotations

from symrnn.codegen.numpy_printer import CodegenError, NumpyPrinter, dim_code
from symrnn.functions import function_spec


class TorchPrinter(NumpyPrinter):
    """The batched layout of :class:`NumpyPrinter`, spelled with torch ops.

    ``dtype`` in generated torch code is the dict of tensor options (dtype and device).
    """

    outer = "torch.outer"

    def _print_zeros(self, node):
        rows = dim_code(node.shape[0])
        if node.batched:
            return f"torch.zeros((batch_size, {rows}), **dtype)"
        if node.is_column:
            return f"torch.zeros({rows}, **dtype)"
        return f"torch.zeros(({rows}, {dim_code(node.shape[1])}), **dtype)"

    def _print_apply(self, node):
        spec = function_spec(node.attrs[0])
        if spec.torch is None:
            raise CodegenError(f"the function {spec.name} has no torch form")
        return spec.torch.format(self.atom(node.args[0]))

    def _print_matmul(self, node):
        a, b = node.args
        if a.batched and b.batched and a.is_row and b.is_column:  # per-example inner product
            return f"({self.factor(a)} * {self.factor(b, right=True)}).sum(dim=1, keepdim=True)"
        return super()._print_matmul(node)

    def _print_concat(self, node):
        axis = 1 if node.batched else 0
        return f"torch.cat(({', '.join(self.doprint(a) for a in node.args)}), dim={axis})"
