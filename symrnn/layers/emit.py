"""A layer derivation → the source of two step functions, printed for NumPy, torch or JAX.

``step_forward(P, x, *s_prev) -> (states, saved)`` is one step of the cell;
``step_backward(P, x, *s_prev, saved, delta, *carry) -> (carries, d_x, param_grads)`` is one
step of the derived BPTT in layer form (``delta`` is Δ_t of the output state, ``carry`` what
step t+1 sends back to each s_t).  ``P`` is the tuple of parameters in the cell's order.
The expressions are printed by the codegen printers (:mod:`symrnn.codegen.numpy_printer`,
the torch printer of :mod:`symrnn.codegen.torch_function`) in blocks with common
subexpressions named once (:class:`symrnn.codegen.numpy_module._Block`); the time loop, masks,
directions and stacking are the drivers' (:mod:`symrnn.layers.run`, :mod:`symrnn.layers.jax_layer`).
"""

from __future__ import annotations

import linecache
import types

from symrnn import ir
from symrnn.codegen.numpy_module import _Block, py_name
from symrnn.codegen.numpy_printer import NumpyPrinter, dim_code
from symrnn.functions import function_spec
from symrnn.ir import Node
from symrnn.layers.derive import LayerDerivation

_NUMPY_HEAD = """import numpy as np


def _sigmoid(x):
    # σ(x) = exp(-logaddexp(0, -x)) without overflow for large |x|
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _dtype(x):
    return x.dtype
"""

_TORCH_HEAD = """import torch


def _softmax(z):
    return torch.softmax(z, dim=1)


def _dtype(x):
    return {"dtype": x.dtype, "device": x.device}  # the options of every new tensor
"""

# The NumPy printer's np.* calls (zeros, sum, concatenate, outer) mean the same in jax.numpy.
_JAX_HEAD = """import jax
import jax.numpy as jnp

np = jnp


def _softmax(z):
    return jax.nn.softmax(z, axis=1)


def _dtype(x):
    return x.dtype
"""


class JaxPrinter(NumpyPrinter):
    """The NumPy layout with each function's JAX form from the function table."""

    outer = "jnp.outer"

    def _print_apply(self, node):
        spec = function_spec(node.attrs[0])
        if spec.jax is None:
            from symrnn.codegen.numpy_printer import CodegenError

            raise CodegenError(f"the function {spec.name} has no JAX form")
        return spec.jax.format(self.atom(node.args[0]))


def _printer(backend: str) -> type:
    if backend == "numpy":
        return NumpyPrinter
    if backend == "torch":
        from symrnn.codegen.torch_printer import TorchPrinter

        return TorchPrinter
    if backend == "jax":
        return JaxPrinter
    raise ValueError(f"unknown backend {backend!r}; expected 'numpy', 'torch' or 'jax'")


_HEADS = {"numpy": _NUMPY_HEAD, "torch": _TORCH_HEAD, "jax": _JAX_HEAD}


def _dims_lines(ld: LayerDerivation, indent: str) -> list[str]:
    """Bind every size symbol from an argument that has it as a whole axis (static under jit)."""
    sources: dict = {}
    x = ld.input
    if x.shape[0].is_Symbol:
        sources.setdefault(x.shape[0], "x.shape[1]")
    for s, node in ld.cell.states.items():
        if node.shape[0].is_Symbol:
            sources.setdefault(node.shape[0], f"{py_name(s)}_prev.shape[1]")
    for k, node in enumerate(ld.params.values()):
        for axis, size in enumerate(node.shape[: 1 if node.is_column else 2]):
            if size.is_Symbol:
                sources.setdefault(size, f"P[{k}].shape[{axis}]")
    lines = [f"{indent}batch_size = x.shape[0]", f"{indent}dtype = _dtype(x)"]
    lines += [f"{indent}{dim} = {sources[dim]}" for dim in sorted(sources, key=str)]
    return lines


def _leaf_names(ld: LayerDerivation) -> dict[Node, str]:
    names: dict[Node, str] = {ld.input: "x"}
    for name, node in ld.params.items():
        names[node] = f"p_{py_name(name)}"
    for s, node in ld.cell.states.items():
        names[node] = f"{py_name(s)}_prev"
    for eq in ld.forward:
        names[eq.lhs] = f"v_{py_name(eq.lhs.name)}"
        names[ir.grad(eq.lhs)] = f"d_{py_name(eq.lhs.name)}"
    for node in ld.upstream.values():
        names[node] = "delta"
    for s, node in ld.carry_in.items():
        names[node] = f"carry_{py_name(s)}"
    return names


def _saved_subexpressions(ld: LayerDerivation, roots: list[Node]) -> list[Node]:
    """Forward subexpressions (not named values) the backward step reads, e.g. tanh(c_t)."""
    forward_nodes: set[Node] = set()
    for eq in ld.forward:
        forward_nodes.update(ir.postorder(eq.rhs))
    saved: dict[Node, None] = {}
    for root in roots:
        for node in ir.postorder(root):
            if node in forward_nodes and node.op not in ("var", "broadcast", "transpose") and node.batched:
                saved.setdefault(node)
    return list(saved)


def step_source(ld: LayerDerivation, backend: str) -> tuple[str, int]:
    """``(source, number of saved values)`` of a module with ``step_forward`` and ``step_backward``."""
    printer = _printer(backend)
    names = _leaf_names(ld)
    states = ld.states
    backward_eqs = ld.code_backward_roots()
    roots = [r for _, r in backward_eqs] + list(ld.input_shares.values())
    roots += list(ld.param_shares.values()) + [ld.carries[s] for s in states]
    saved_nodes = _saved_subexpressions(ld, roots)
    needed: dict[str, None] = {}
    for root in roots:
        for leaf in ir.leaves(root):
            if leaf.kind in (ir.VALUE, ir.STATE) and leaf.shift == 0:
                needed.setdefault(leaf.name)
    saved_values = [eq.lhs for eq in ld.forward if eq.lhs.name in needed]
    saved_names = [names[v] for v in saved_values] + [f"s{k}" for k in range(len(saved_nodes))]

    prev = ", ".join(f"{py_name(s)}_prev" for s in states)
    unpack = [f"    {names[node]} = P[{k}]" for k, node in enumerate(ld.params.values())]
    out = [f'"""One step of the {ld.cell.name} layer and of its derived BPTT ({backend}; generated by symrnn)."""']
    out += ["", _HEADS[backend], ""]

    # ---- forward
    out.append(f"def step_forward(P, x, {prev}):")
    out.append('    """(states at t, values the backward step reads) from x_t and the states at t-1."""')
    out += _dims_lines(ld, "    ") + unpack
    block = _Block(names, "    ", printer)
    block.plan([eq.rhs for eq in ld.forward], force=set(saved_nodes))
    for eq in ld.forward:
        target = names[eq.lhs]
        block.assign(target, eq.rhs)
        block.names.setdefault(eq.rhs, target)
    out += block.lines
    new_states = ", ".join(names[ir.var(s, node.shape, ir.STATE, 0)] for s, node in ld.cell.states.items())
    saved_code = [names[v] for v in saved_values] + [block.names[n] for n in saved_nodes]
    out.append(f"    return ({new_states},), ({''.join(c + ', ' for c in saved_code)})")
    out += ["", ""]

    # ---- backward
    carries = ", ".join(f"carry_{py_name(s)}" for s in states)
    out.append(f"def step_backward(P, x, {prev}, saved, delta, {carries}):")
    out.append('    """(carries to step t-1, δx_t, this step\'s share of every parameter gradient)."""')
    out += _dims_lines(ld, "    ") + unpack
    if saved_names:
        out.append(f"    ({''.join(n + ', ' for n in saved_names)}) = saved")
    bnames = dict(names)
    for k, node in enumerate(saved_nodes):
        bnames[node] = f"s{k}"
    block = _Block(bnames, "    ", printer)
    block.plan(roots)
    for name, rhs in backward_eqs:
        target = f"d_{py_name(name)}"
        block.assign(target, rhs)
        block.names[ir.grad(next(eq.lhs for eq in ld.forward if eq.lhs.name == name))] = target
    results = []
    for node in [ld.carries[s] for s in states] + list(ld.input_shares.values()) + list(ld.param_shares.values()):
        target = f"r{len(results)}"
        block.assign(target, node)
        results.append(target)
    out += block.lines
    n_states, n_params = len(states), len(ld.params)
    carry_code = "".join(c + ", " for c in results[:n_states])
    grads_code = "".join(c + ", " for c in results[n_states + 1 : n_states + 1 + n_params])
    out.append(f"    return ({carry_code}), {results[n_states]}, ({grads_code})")
    return "\n".join(out) + "\n", len(saved_names)


def compile_steps(ld: LayerDerivation, backend: str) -> types.ModuleType:
    """The step module for ``backend``, executed from our own generated source (never user text)."""
    source, _ = step_source(ld, backend)
    filename = f"<symrnn layer {ld.cell.name} {backend}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(f"symrnn_layer_{py_name(ld.cell.name)}_{backend}")
    exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 - generated by us
    module.__source__ = source
    return module


def dim_of(node: Node, sizes: dict) -> int:
    """A symbolic size at concrete ``sizes`` (symbol name → int)."""
    return int(node.subs({s: sizes[str(s)] for s in node.free_symbols}))


__all__ = ["compile_steps", "step_source", "JaxPrinter", "dim_code"]
