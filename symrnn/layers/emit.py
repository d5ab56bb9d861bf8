"""A layer derivation → the source of two step functions, printed for NumPy, torch or JAX.

``bulk_inputs(P, x) -> terms`` computes the terms that read only the input (``W_xf x_t``) for
every step at once, before the loop; ``step_forward(P, x, terms, *s_prev) -> (states, saved)``
is one step of the cell;
``step_backward(P, x, *s_prev, saved, delta, *carry) -> (carries, ds)`` is one step of the
derived δ recursion in layer form (``delta`` is Δ_t of the output state, ``carry`` what step
t+1 sends back to each s_t, ``ds`` the δs the gradients read); ``bulk_gradients(P, x, *s_prev,
saved, *ds) -> (d_x, param_grads)`` is δx_t and every parameter's Σ_t share, printed once and
run on all steps at once (arrays stacked to (T·batch, size): a product with δ summed over the
batch is then summed over t too), so the loop does only the recursion.  ``BULK_PREVS`` and
``BULK_SAVED`` say which states and saved values it reads.  ``P`` is the tuple of parameters.
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
from symrnn.codegen.numpy_printer import NumpyPrinter
from symrnn.functions import function_spec
from symrnn.ir import Node
from symrnn.layers.derive import LayerDerivation
from symrnn.layers.stacking import find_groups, forward_mapping, stack_carry

_NUMPY_HEAD = """import numpy as np


def _sigmoid(x):
    # σ(x) = (1 + tanh(x/2))/2: no overflow for any x, three passes (exp-and-where takes six)
    y = np.multiply(x, 0.5)
    np.tanh(y, out=y)
    y *= 0.5
    y += 0.5
    return y


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


def _dim_sources(ld: LayerDerivation) -> dict:
    """Where each size symbol is read: a parameter's axis first, then x, then a state (static under jit)."""
    sources: dict = {}
    for k, node in enumerate(ld.params.values()):
        for axis, size in enumerate(node.shape[: 1 if node.is_column else 2]):
            if size.is_Symbol:
                sources.setdefault(size, f"P[{k}].shape[{axis}]")
    x = ld.input
    if x.shape[0].is_Symbol:
        sources.setdefault(x.shape[0], "x.shape[1]")
    for s, node in ld.cell.states.items():
        if node.shape[0].is_Symbol:
            sources.setdefault(node.shape[0], f"{py_name(s)}_prev.shape[1]")
    return sources


def _dim_states(ld: LayerDerivation) -> set[str]:
    """States whose arrays fix a size no parameter or input fixes."""
    return {s for s in ld.cell.states if f"{py_name(s)}_prev.shape[1]" in _dim_sources(ld).values()}


def _dims_lines(ld: LayerDerivation, indent: str, with_states: bool = True) -> list[str]:
    sources = _dim_sources(ld)
    if not with_states:
        sources = {k: v for k, v in sources.items() if not v.endswith("_prev.shape[1]")}
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
    recursion_roots = [r for _, r in backward_eqs] + [ld.carries[s] for s in states]
    bulk_roots = list(ld.input_shares.values()) + list(ld.param_shares.values())
    roots = recursion_roots + bulk_roots
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

    # ---- the input's terms of every step at once (e.g. W_xf x_t), before the loop
    hoisted = _input_terms(ld)
    out.append(f"N_INPUT_TERMS = {len(hoisted)}")
    out += ["", ""]
    out.append("def bulk_inputs(P, x):")
    out.append('    """The terms that read only x_t and parameters, for x stacked to (T·batch, input_size)."""')
    out += _dims_lines(ld, "    ", with_states=False) + unpack
    block = _Block(names, "    ", printer)
    block.plan(hoisted)
    results = []
    for node in hoisted:
        target = f"r{len(results)}"
        block.assign(target, node)
        results.append(target)
    out += block.lines
    out.append(f"    return ({''.join(c + ', ' for c in results)})")
    out += ["", ""]

    # ---- gates that multiply one operand: one product with the stacked weights
    groups = find_groups([eq.rhs for eq in ld.forward], set(hoisted), set(saved_nodes))
    mapping = forward_mapping(groups)
    forward_rhs = [ir.substitute(eq.rhs, mapping) for eq in ld.forward]
    n_params = len(ld.params)
    index = {node: k for k, node in enumerate(ld.params.values())}
    stacks = tuple(tuple(index[w] for w in g.weights) for g in groups)
    for j, g in enumerate(groups):
        names[g.stacked] = f"p_stack{j}"
    unpack_stacks = [f"    p_stack{j} = P[{n_params + j}]" for j in range(len(groups))]
    out.append(f"STACKS = {stacks!r}  # parameters stacked by rows, appended to P as P[{n_params}], …")
    out += ["", ""]

    # ---- forward
    out.append(f"def step_forward(P, x, terms, {prev}):")
    out.append('    """(states at t, values the backward step reads) from x_t\'s terms and the states at t-1."""')
    out += _dims_lines(ld, "    ") + unpack + unpack_stacks
    if hoisted:
        out.append(f"    ({''.join(f'u{k}, ' for k in range(len(hoisted)))}) = terms")
    fnames = dict(names)
    fnames.update({node: f"u{k}" for k, node in enumerate(hoisted)})
    block = _Block(fnames, "    ", printer)
    block.plan(forward_rhs, force=set(saved_nodes))
    for eq, rhs in zip(ld.forward, forward_rhs, strict=True):
        target = names[eq.lhs]
        block.assign(target, rhs)
        block.names.setdefault(rhs, target)
    out += block.lines
    new_states = ", ".join(names[ir.var(s, node.shape, ir.STATE, 0)] for s, node in ld.cell.states.items())
    saved_code = [names[v] for v in saved_values] + [block.names[n] for n in saved_nodes]
    out.append(f"    return ({new_states},), ({''.join(c + ', ' for c in saved_code)})")
    out += ["", ""]

    # ---- backward: the recursion per step; δx and the parameter gradients once, after the loop
    bnames = dict(names)
    for k, node in enumerate(saved_nodes):
        bnames[node] = f"s{k}"
    bulk_nodes = _reached(bulk_roots, bnames)
    grads_for_bulk = [name for name, _ in backward_eqs if _grad_of(ld, name) in bulk_nodes]
    bulk_prevs = [k for k, (s, node) in enumerate(ld.cell.states.items()) if node in bulk_nodes or s in _dim_states(ld)]
    saved_entries = saved_values + saved_nodes
    bulk_saved = [k for k, node in enumerate(saved_entries) if node in bulk_nodes]
    carries = ", ".join(f"carry_{py_name(s)}" for s in states)
    carry_roots = {
        s: stack_carry(ld.carries[s], [g for g in groups if g.operand == node]) for s, node in ld.cell.states.items()
    }
    recursion_roots = [r for _, r in backward_eqs] + list(carry_roots.values())
    out.append(f"def step_backward(P, x, {prev}, saved, delta, {carries}):")
    out.append('    """(carries to step t-1, the δs the gradients after the loop read) at step t."""')
    out += _dims_lines(ld, "    ") + unpack + unpack_stacks
    if saved_names:
        out.append(f"    ({''.join(n + ', ' for n in saved_names)}) = saved")
    block = _Block(bnames, "    ", printer)
    block.plan(recursion_roots)
    for name, rhs in backward_eqs:
        target = f"d_{py_name(name)}"
        block.assign(target, rhs)
    results = []
    for s in states:
        target = f"r{len(results)}"
        block.assign(target, carry_roots[s])
        results.append(target)
    out += block.lines
    carry_code = "".join(c + ", " for c in results)
    grads_code = "".join(f"d_{py_name(n)}, " for n in grads_for_bulk)
    out.append(f"    return ({carry_code}), ({grads_code})")
    out += ["", ""]

    # The same expressions hold for every step at once: arrays (T·batch, size) stacked over t,
    # products with a shared weight and batch sums then sum over t as well.
    out.append(f"BULK_PREVS = {tuple(bulk_prevs)!r}  # the states at t-1 the gradients read")
    out.append(f"BULK_SAVED = {tuple(bulk_saved)!r}  # the saved values they read")
    out += ["", ""]
    ds = "".join(f", d_{py_name(n)}" for n in grads_for_bulk)
    out.append(f"def bulk_gradients(P, x, {prev}, saved{ds}):")
    out.append('    """(δx, every parameter gradient) from the per-step arrays stacked to (T·batch, size)."""')
    out += _dims_lines(ld, "    ") + unpack
    if saved_names:
        out.append(f"    ({''.join(n + ', ' for n in saved_names)}) = saved")
    block = _Block(bnames, "    ", printer)
    block.plan(bulk_roots)
    results = []
    for node in bulk_roots:
        target = f"r{len(results)}"
        block.assign(target, node)
        results.append(target)
    out += block.lines
    out.append(f"    return {results[0]}, ({''.join(c + ', ' for c in results[1:])})")
    return "\n".join(out) + "\n", len(saved_names)


def _input_terms(ld: LayerDerivation) -> list[Node]:
    """The largest forward subexpressions that read the input and parameters only (per example)."""
    found: dict[Node, None] = {}

    def only_input(node: Node) -> bool:
        return all(leaf.kind in (ir.INPUT_KIND, ir.PARAM) for leaf in ir.leaves(node))

    def walk(node: Node):
        if node.op in ("var", "zeros", "broadcast") or node in found:
            return
        if node.batched and only_input(node):
            found.setdefault(node)
            return
        for arg in node.args:
            walk(arg)

    for eq in ld.forward:
        walk(eq.rhs)
    return list(found)


def _reached(roots: list[Node], named: dict) -> set[Node]:
    """The nodes printing ``roots`` reads: the walk stops at named nodes (leaves, saved values)."""
    seen: set[Node] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node not in named:
            stack.extend(node.args)
    return seen


def _grad_of(ld: LayerDerivation, name: str) -> Node:
    return ir.grad(next(eq.lhs for eq in ld.forward if eq.lhs.name == name))


def compile_steps(ld: LayerDerivation, backend: str) -> types.ModuleType:
    """The step module for ``backend``, executed from our own generated source (never user text)."""
    source, _ = step_source(ld, backend)
    filename = f"<symrnn layer {ld.cell.name} {backend}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(f"symrnn_layer_{py_name(ld.cell.name)}_{backend}")
    exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 - generated by us
    module.__source__ = source
    return module
