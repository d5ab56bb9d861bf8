"""A derivation → a standalone NumPy module with ``forward`` and ``loss_and_grads``.

The module is straight-line code per step inside one loop forward and one loop
backward, imports only NumPy (and the standard library), and carries the
derivation in its docstring.  Common subexpressions are computed once per step;
every value the backward pass needs is saved by the forward pass (a tape), never
recomputed.  This module prints the plain per-step code (the reference, and
``forward``/``loss`` always); :mod:`symrnn.codegen.optimized` prints the default
``loss_and_grads`` from the optimiser's :mod:`~symrnn.codegen.plan`.
"""

from __future__ import annotations

import types
from dataclasses import dataclass

import sympy

from symrnn import ir
from symrnn.codegen.names import LOSS_CODE, check_names, leaf_name, py_name
from symrnn.codegen.numpy_printer import CodegenError, NumpyPrinter, dim_code, worth_a_temp
from symrnn.codegen.runtime import source_text
from symrnn.ir import Node
from symrnn.printing.text import text

# Activations and losses of the plain code: real Python in symrnn/codegen/runtime/numpy_math.py.
HELPERS = source_text("numpy_math")


@dataclass(frozen=True)
class Backend:
    """What the plain per-step code spells differently for an array library."""

    printer: type = NumpyPrinter
    empty: str = "np.empty({shape}, dtype)"
    zeros: str = "np.zeros({shape}, dtype)"
    zeros_like: str = "np.zeros_like({0})"
    scalar_zero: str = "dtype.type(0)"


NUMPY = Backend()


class _Block:
    """Straight-line statements with per-block common-subexpression elimination."""

    def __init__(self, names: dict[Node, str], indent: str, printer: type = NumpyPrinter):
        self.printer = printer
        self.names = dict(names)
        self.lines: list[str] = []
        self.indent = indent
        self.counter = 0

    def line(self, text: str):
        self.lines.append(self.indent + text)

    def plan(self, roots: list[Node], force: set[Node] = frozenset()):
        """Mark subexpressions used more than once (or forced) for a temporary."""
        uses: dict[Node, int] = {}
        seen: set[Node] = set()
        for root in roots:
            uses[root] = uses.get(root, 0) + 1
            for node in ir.postorder(root):
                if node in seen:
                    continue
                seen.add(node)
                for arg in node.args:
                    uses[arg] = uses.get(arg, 0) + 1
        self.temps = {n for n, k in uses.items() if (k > 1 and worth_a_temp(n)) or n in force}

    def assign(self, target: str, node: Node, comment: str = "", accumulate: bool = False) -> str:
        for sub in ir.postorder(node)[:-1]:
            if sub in self.temps and sub not in self.names:
                name = f"_t{self.counter}"
                self.counter += 1
                self.line(f"{name} = {self.printer(self.names).doprint(sub)}")
                self.names[sub] = name
        if self.names.get(node) != target:
            code = self.printer(self.names).doprint(node)
            op = "+=" if accumulate else "="
            self.line(f"{target} {op} {code}" + (f"  # {comment}" if comment else ""))
        return target


def input_line(cell) -> str:
    """The statement binding step t's input: ``x = xs[t]`` (``in_u = xs[t]`` for an input named u)."""
    if len(cell.inputs) != 1:
        raise CodegenError(f"cell {cell.name} has {len(cell.inputs)} inputs; generated code reads exactly one (xs)")
    (node,) = cell.inputs.values()
    return f"{leaf_name(node)} = xs[t]"


def _dims_code(d) -> list[str]:
    """Bind every size symbol from xs, ys or a parameter that has it as a whole axis."""
    lines = ["    T, batch_size = xs.shape[0], xs.shape[1]", "    dims = {}"]
    sources: dict[sympy.Symbol, str] = {}
    for x in d.cell.inputs.values():
        if x.shape[0].is_Symbol:
            sources.setdefault(x.shape[0], "xs.shape[2]")
    for name, node in d.params.items():
        for axis, size in enumerate(node.shape[: 1 if node.is_column else 2]):
            if size.is_Symbol:
                sources.setdefault(size, f"_shape(params, {name!r})[{axis}]")
    for dim in sorted(sources, key=str):
        lines.append(f"    {dim} = dims[{str(dim)!r}] = {sources[dim]}")
    return lines


def _prologue(d, signature: str, doc: str) -> list[str]:
    """A generated function's head: checked arrays, sizes bound, parameters unpacked."""
    with_targets = "ys" in signature
    lines = [f"def {signature}:", f'    """{doc}"""', "    xs = _as_array(xs, 'xs', 3)"]
    if with_targets:
        lines.append("    ys = _as_array(ys, 'ys', 3)")
    lines += _dims_code(d)
    targets = "ys" if with_targets else "None"
    lines.append(f"    dtype = _check(params, xs, {targets}, initial_state, dims, _expected_shapes(dims), STATES)")
    lines += [f"    {py_name(name)} = params[{name!r}]" for name in d.params]
    return lines


def parameters_code(d) -> list[str]:
    """``PARAMETERS``: each parameter's shape as text, for error messages."""
    return ["PARAMETERS = {"] + [f"    {name!r}: {_shape_text(node)!r}," for name, node in d.params.items()] + ["}"]


def expected_shapes_code(d) -> list[str]:
    """``_expected_shapes(dims)``: each parameter's shape for the sizes bound in ``dims``."""
    out = ["def _expected_shapes(dims):"]
    symbols = list(ir.DIMS)  # and any further size a cell declares (e.g. a projection's)
    for node in d.params.values():
        for dim in node.shape:
            symbols += [s for s in sorted(dim.free_symbols, key=str) if s not in symbols]
    dims = ", ".join(str(s) for s in symbols)
    out.append(f"    {dims} = (dims.get(k) for k in {tuple(str(s) for s in symbols)!r})")
    out.append("    return {")
    out += [f"        {name!r}: {_shape_code(node)}," for name, node in d.params.items()]
    out += ["    }", "", ""]
    return out


def _shape_code(node: Node) -> str:
    if node.is_column:
        return f"({dim_code(node.shape[0])},)"
    return f"({dim_code(node.shape[0])}, {dim_code(node.shape[1])})"


def _shape_text(node: Node) -> str:
    if node.is_column:
        return f"({node.shape[0]},)"
    return f"({node.shape[0]}, {node.shape[1]})"


def _forward_loop(
    d, save: list[str], with_loss: bool, saved_nodes: dict[Node, str], backend: Backend = NUMPY
) -> list[str]:
    leaf_names = {leaf: leaf_name(leaf) for eq in d.forward for leaf in ir.leaves(eq.rhs)}
    out = []
    for s, node in d.cell.states.items():
        size = dim_code(node.shape[0])
        out.append(f"    {py_name(s)}_prev = _initial(initial_state, {s!r}, batch_size, {size}, dtype)")
    for name in save:
        eq = next(e for e in d.forward if e.lhs.name == name)
        shape = f"(T, batch_size, {dim_code(eq.lhs.shape[0])})"
        out.append(f"    tape_{py_name(name)} = {backend.empty.format(shape=shape)}")
    for node, sname in saved_nodes.items():
        shape = f"(T, batch_size, {dim_code(node.shape[0])})"
        out.append(f"    tape_{sname} = {backend.empty.format(shape=shape)}")
    if with_loss:
        out.append(f"    loss = {backend.scalar_zero}")
    out.append("    for t in range(T):")
    block = _Block(leaf_names, "        ", backend.printer)
    block.line(input_line(d.cell))
    if with_loss:
        block.line("y = ys[t]")
    eqs = [e for e in d.forward if e.lhs.name != "L"]
    block.plan([e.rhs for e in eqs], force=set(saved_nodes))
    for eq in eqs:
        target = leaf_name(eq.lhs)
        block.assign(target, eq.rhs)
        block.names[eq.lhs] = target
        block.names.setdefault(eq.rhs, target)  # a saved subexpression may be a whole right-hand side
    if with_loss:
        block.line(f"loss += {LOSS_CODE[d.loss.name].format(logits=py_name(d.logits))}")
    for name in save:
        block.line(f"tape_{py_name(name)}[t] = {py_name(name)}")
    for node, sname in saved_nodes.items():
        block.line(f"tape_{sname}[t] = {block.names[node]}")
    for s in d.cell.states:
        block.line(f"{py_name(s)}_prev = {py_name(s)}")
    return out + block.lines


def _saved_subexpressions(d, backward_roots: list[Node]) -> dict[Node, str]:
    """Forward subexpressions (not named values) that the backward pass reads."""
    forward_nodes: set[Node] = set()
    for eq in d.forward:
        if eq.lhs.name != "L":
            forward_nodes.update(ir.postorder(eq.rhs))
    saved: dict[Node, str] = {}
    for root in backward_roots:
        for node in ir.postorder(root):
            if node in forward_nodes and node.op not in ("var", "broadcast", "transpose") and node.batched:
                saved.setdefault(node, f"s{len(saved)}")
    return saved


def plain_loss_and_grads_body(d, backend: Backend = NUMPY) -> list[str]:
    """The plain ``loss_and_grads`` after its prologue: one forward and one backward loop over t."""
    cell = d.cell
    states = list(cell.states)
    backward_eqs = [(eq.lhs.name, d.local_grads[eq.lhs.name]) for eq in d.backward]
    param_contribs = [(eq.lhs.name, eq.rhs) for eq in d.param_grads]
    carry_roots = [d.carries[s] for s in states]
    roots = [r for _, r in backward_eqs] + [r for _, r in param_contribs] + carry_roots
    saved_nodes = _saved_subexpressions(d, roots)

    # forward values the backward pass loads from the tape
    needed: dict[str, None] = {}
    for root in roots:
        for leaf in ir.leaves(root):
            if leaf.kind in (ir.VALUE, ir.STATE) and leaf.shift == 0:
                needed.setdefault(leaf.name)
    for s in states:  # s_{t-1} is read from the tape of s at t-1
        needed.setdefault(s)
    save = [eq.lhs.name for eq in d.forward if eq.lhs.name in needed]

    out = _forward_loop(d, save, True, saved_nodes, backend)
    initial = {
        s: f"_initial(initial_state, {s!r}, batch_size, {dim_code(cell.states[s].shape[0])}, dtype)" for s in states
    }
    for s in states:
        out.append(f"    {py_name(s)}_0 = {initial[s]}")
    for name in d.params:
        out.append(f"    g_{py_name(name)} = {backend.zeros_like.format(py_name(name))}")
    for s in states:
        shape = f"(batch_size, {dim_code(cell.states[s].shape[0])})"
        out.append(f"    carry_{py_name(s)} = {backend.zeros.format(shape=shape)}")
    out.append("    for t in range(T - 1, -1, -1):")
    block = _Block({leaf: leaf_name(leaf) for root in roots for leaf in ir.leaves(root)}, "        ", backend.printer)
    block.line(input_line(d.cell))
    block.line("y = ys[t]")
    for name in save:
        block.line(f"{py_name(name)} = tape_{py_name(name)}[t]")
    for node, sname in saved_nodes.items():
        block.line(f"{sname} = tape_{sname}[t]  # {text(node)}")
        block.names[node] = sname
    for s in states:
        block.line(f"{py_name(s)}_prev = tape_{py_name(s)}[t - 1] if t > 0 else {py_name(s)}_0")
    block.plan(roots)
    for name, rhs in backward_eqs:
        target = f"d_{py_name(name)}"
        block.assign(target, rhs)
        if name in states:
            block.line(f"{target} += carry_{py_name(name)}")
    for name, rhs in param_contribs:
        if rhs.op == "zeros":
            continue
        block.assign(f"g_{py_name(name)}", rhs, accumulate=True)
    for s, root in zip(states, carry_roots, strict=False):
        if root.op == "zeros":
            block.line(f"carry_{py_name(s)} = {backend.zeros_like.format(py_name(s) + '_prev')}")
        else:
            block.assign(f"carry_{py_name(s)}", root)
    out += block.lines
    grads = [f"{name!r}: g_{py_name(name)}" for name in d.params] + [
        f"{s + '_0'!r}: carry_{py_name(s)}" for s in states
    ]
    out.append("    return loss, {" + ", ".join(grads) + "}")
    return out


def module_source(d, optimize: bool = True) -> str:
    """The generated module's source text.

    With ``optimize``, ``loss_and_grads`` is the optimised one (:mod:`symrnn.codegen.optimized`);
    ``forward`` and ``loss`` are always the plain per-step code, the reference.
    """
    cell = d.cell
    states = list(cell.states)
    for s in states:
        if s in d.params:
            raise CodegenError(f"state {s} and a parameter share a name")
    check_names(d)

    plan = _plan_or_none(d) if optimize else None
    doc = _docstring(d)
    imports = ["import threading", "", "import numpy as np"] if plan else ["import numpy as np"]
    out = [f'"""{doc}"""', ""] + imports + [""]
    out += parameters_code(d)
    out.append(f"STATES = {tuple(states)!r}")
    out.append(HELPERS)
    if plan:
        from symrnn.codegen.fast_runtime import FAST_HELPERS

        out.append(FAST_HELPERS)
    out.append(_PRELUDE)
    out += expected_shapes_code(d)

    # ---------------- forward(params, xs, initial_state=None)
    out += _prologue(
        d,
        "forward(params, xs, initial_state=None)",
        "Every named forward value at every step: a dict of (T, batch, size) arrays.",
    )
    all_values = [eq.lhs.name for eq in d.forward if eq.lhs.name != "L"]
    out += _forward_loop(d, all_values, False, {})
    out.append("    return {" + ", ".join(f"{n!r}: tape_{py_name(n)}" for n in all_values) + "}")
    out.append("")
    out.append("")

    # ---------------- loss (forward only: what finite differences call)
    out += _prologue(d, "loss(params, xs, ys, initial_state=None)", "J = Σ_t Σ_batch L_t, without gradients.")
    out += _forward_loop(d, [], True, {})
    out.append("    return loss")
    out.append("")
    out.append("")

    # ---------------- loss_and_grads
    out += _prologue(
        d,
        "loss_and_grads(params, xs, ys, initial_state=None)",
        'J = Σ_t Σ_batch L_t and ∂J/∂(every parameter), plus ∂J/∂s_0 as grads["<state>_0"].',
    )
    if plan:
        from symrnn.codegen.optimized import loss_and_grads_body

        # σ and tanh through exp overflow to inf for large negative inputs: exact limits, no warning
        out.append('    with np.errstate(over="ignore"):')
        out += ["    " + line for line in loss_and_grads_body(d, plan)]
        out.append("")
        return "\n".join(out)
    out += plain_loss_and_grads_body(d)
    out.append("")
    return "\n".join(out)


# Argument checks: real Python in symrnn/codegen/runtime/numpy_checks.py.
_PRELUDE = source_text("numpy_checks") + "\n"


def _docstring(d) -> str:
    lines = [
        f"BPTT for the {d.cell.name} cell ({d.cell.source}) with loss {d.loss.name}.",
        "",
        "Generated by symrnn from the equations below; imports only NumPy.",
        "Math is per example (column vectors); arrays are batched: vectors are",
        "(batch, size), biases are 1-D, matrices keep the shapes of the math.",
        "",
    ]
    lines += [f"    {eq.text()}" for eq in d.forward]
    lines += [""]
    lines += [f"    {eq.text()}" for eq in d.backward + d.param_grads + d.initial_grads]
    renamed = _renamed(d)
    if renamed:
        lines += ["", "Python spellings of names Python or this module has taken (dict keys stay as written):"]
        lines += ["    " + ", ".join(f"{name} → {py}" for name, py in renamed)]
    return "\n".join(lines).replace("\\", "\\\\").replace('"""', "'''") + "\n"


def _renamed(d) -> list[tuple[str, str]]:
    """(name, Python spelling) for every user name the code spells differently, in the cell's order."""

    cell = d.cell
    names = list(d.params) + list(cell.states) + list(cell.inputs) + [lhs.name for lhs, _ in cell.equations]
    seen, out = set(), []
    for name in names:
        if name not in seen and py_name(name) != name:
            seen.add(name)
            out.append((name, py_name(name)))
    return out


def _plan_or_none(d):
    """The optimiser's plan, or None for a cell it does not handle (the plain code serves)."""
    from symrnn.codegen.plan import NotOptimizable, make_plan

    try:
        return make_plan(d)
    except NotOptimizable:
        return None


def compile_module(d, optimize: bool = True) -> types.ModuleType:
    """Execute the generated source in a fresh module (our own code, never user text)."""
    source = module_source(d, optimize)
    module = types.ModuleType(f"symrnn_generated_{py_name(d.cell.name)}")
    filename = f"<symrnn {d.cell.name} {d.loss.name}{'' if optimize else ' plain'}>"
    import linecache

    # Register the source so tracebacks point into the generated lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 - generated by us
    module.__source__ = source
    return module
