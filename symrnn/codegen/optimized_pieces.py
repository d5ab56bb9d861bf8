"""Pieces of the optimised ``loss_and_grads`` (:mod:`symrnn.codegen.optimized`): buffers, stacked
weights, factor runs, the forward wave and the backward loop's step values.

Split from :mod:`symrnn.codegen.optimized` so that module holds the phases of the printed function
and this one the helpers they share.
"""

from __future__ import annotations

import re

import sympy

from symrnn import ir
from symrnn.codegen.emitter import Emitter, FastPrinter
from symrnn.codegen.layout import gate_index, scaled, size_code
from symrnn.codegen.names import leaf_name, py_name
from symrnn.codegen.numpy_printer import dim_code
from symrnn.codegen.plan import Plan, backward_roots, sum_of
from symrnn.functions import function_spec
from symrnn.ir import Node


def _bind_buffers(emitter: Emitter, loop: str, shapes: dict[str, str]) -> list[str]:
    """Lines binding a loop's (batch, size) buffers from the workspace (their shapes added to ``shapes``)
    and its tanh flags."""
    lines = []
    for name, size in emitter.buffers.items():
        key = f"{loop} step {name}"
        shapes[key] = f"(batch_size, {size})"
        lines.append(f"    {name} = ws[{key!r}]")
    for name, entries in emitter.flags.items():
        lines.append(f"    {name} = _tanh_ufunc({entries}, dtype)")
    return lines


def _factor_of(rhs: Node) -> Node | None:
    """The hoisted factor of ``step ⊙ factor`` (a gate's δ after :func:`hoist_factors`)."""
    if rhs.op == "mul" and rhs.args[1].op == "var" and rhs.args[1].kind == "opt":
        return rhs.args[1]
    return None


def _factor_runs(plan: Plan, rhs_of: dict[str, Node], factors: list) -> list[tuple[Node, list[Node]]]:
    """Adjacent gates whose δ is ``step ⊙ factor`` with one shared ``step``: (step, [factor, …]).

    Their factors share one buffer (T, batch, gates, size), so a step's δs of the whole run
    are one broadcast product into adjacent columns of the gradient buffer.
    """
    hoisted = {id(f) for f, _ in factors}
    runs: list[tuple[Node, list[Node]]] = []
    current: tuple[Node | None, list[Node]] = (None, [])
    for g in plan.gates:
        rhs = rhs_of.get(g.pre.name)
        factor = None if rhs is None else _factor_of(rhs)
        step = rhs.args[0] if factor is not None and id(factor) in hoisted else None
        if step is not None and step == current[0]:
            current[1].append(factor)
            continue
        if len(current[1]) > 1:
            runs.append(current)
        current = (step, [factor] if step is not None else [])
    if len(current[1]) > 1:
        runs.append(current)
    return runs


def _reached(roots: list[Node], stops: set[Node]) -> set[Node]:
    """Every node the roots read, not looking inside ``stops`` (values already on a tape)."""
    seen: set[Node] = set()

    def walk(n: Node):
        if n in seen:
            return
        seen.add(n)
        if n not in stops:
            for arg in n.args:
                walk(arg)

    for root in roots:
        walk(root)
    return seen


def _stack_code(
    blocks, matrix_cols: sympy.Expr | None, scaled: bool, names: dict[Node, str], helper: str = "_stack"
) -> str:
    """``_stack([...], [...])`` (or ``_gates``) over a span of gates; missing blocks are zeros."""
    parts, scales = [], []
    for g, matrix in blocks:
        if matrix is None:
            shape = f"{size_code(g.pre)}" if matrix_cols is None else f"({size_code(g.pre)}, {dim_code(matrix_cols)})"
            parts.append(f"np.zeros({shape}, dtype)")
        else:
            parts.append(FastPrinter(names).doprint(matrix))
        scales.append(str(g.scale if scaled else 1))
    return f"{helper}([{', '.join(parts)}], [{', '.join(scales)}])"


def _saved_nodes(d, plan: Plan) -> dict[Node, str]:
    """Step subexpressions (not named values) that the backward pass reads: kept on a tape."""
    loop_nodes: set[Node] = set()
    for _, eq in plan.loop:
        loop_nodes.update(ir.postorder(eq.rhs))
    for stack in plan.stacks:
        loop_nodes.update(ir.postorder(stack.operand))
    for rest in plan.rest.values():
        for term in rest:
            loop_nodes.update(ir.postorder(term))
    saved: dict[Node, str] = {}
    for root in backward_roots(d):
        for node in ir.postorder(root):
            if node in loop_nodes and node.op not in ("var", "broadcast", "transpose", "zeros") and node.batched:
                saved.setdefault(node, f"tape_s{len(saved)}")
    return saved


def _operand_key(operand: Node | None) -> str | None:
    """The operand tape's name for a weight-gradient operand: a state, ``x`` or ``1`` (biases)."""
    if operand is None:
        return "1"
    if operand.op == "var" and (operand.kind == ir.INPUT_KIND or operand.shift == -1):
        return operand.name
    return None


def _merge_by_gates(stacks, operands: dict) -> list[list]:
    """Weight-gradient groups over the same gates whose operands sit side by side: one product each."""
    order = list(operands)
    merged: dict[tuple, list] = {}
    for stack in stacks:
        gates = tuple(dict.fromkeys(id(g) for g, _ in stack.members))
        merged.setdefault(gates, []).append(stack)
    out = []
    for group in merged.values():
        inside = sorted(
            (s for s in group if _operand_key(s.operand) in operands),
            key=lambda s: order.index(_operand_key(s.operand)),
        )
        run: list = []
        for stack in inside:
            if run and order.index(_operand_key(stack.operand)) != order.index(_operand_key(run[-1].operand)) + 1:
                out.append(run)
                run = []
            run.append(stack)
        if run:
            out.append(run)
        out += [[s] for s in group if _operand_key(s.operand) not in operands]
    return out


def _span(columns) -> str:
    return f"{dim_code(columns[0])}:{dim_code(columns[1])}"


def _operand_doc(operands: dict) -> str:
    names = {"1": "1", "x": "x_t"}
    return "[" + " | ".join(names.get(k, f"{k}_(t-1)") for k in operands) + "]"


def _forward_wave(step: Emitter, plan: Plan, wave: int):
    """One wave of gates: stacked products, other terms, activations in place."""
    views: dict[str, str] = {}

    def view(first, last) -> str:
        """The gates first..last of this step: ``A_t`` itself, or a view bound once (``A_t[k] += …``
        would index twice and assign back)."""
        if _every_gate(plan, first, last):
            return "A_t"
        key = _block_range(first, last)
        if key not in views:
            views[key] = "_a" + re.sub(r"\W+", "_", key)
            step.line(f"{views[key]} = A_t[{key}]")
        return views[key]

    for k, stack in enumerate(plan.stacks):
        if stack.wave != wave:
            continue
        operand = step.code(stack.operand)
        product = "np.dot" if len(stack.blocks) == 1 else "np.matmul"  # dot: 2-D, and about 1 µs less per call
        step.line(f"{product}({operand}, W_stack{k}, out=S{k})")
        step.line(f"{view(stack.blocks[0][0], stack.blocks[-1][0])} += S{k}")
    gates = [g for g in plan.gates if g.wave == wave]
    for g in gates:
        if g in plan.rest:
            term = scaled(sum_of(plan.rest[g]), g.scale)
            step.code(term, root_too=False)
            step.add_into(view(g, g), 1, term)
    sig = [g for g in gates if g.function == "sigmoid"]
    tanh = [g for g in gates if g.function == "tanh"]
    exp_gates = sig + tanh
    if tanh and not sig:  # tanh gates alone: np.tanh(-a'/2) is two calls against four, on small arrays
        q = view(tanh[0], tanh[-1])
        entries = f"batch_size * {dim_code(tanh[0].pre.shape[0] * len(tanh))}"
        ufunc = [f"np.multiply({q}, {step.const(-0.5)}, out={q})", f"np.tanh({q}, out={q})"]
        step.tanh_by_size(entries, ufunc, [f"np.exp({q}, out={q})", f"{q} += {step.const(1)}", *step.finish_tanh(q)])
        exp_gates = []
    if exp_gates:  # e^{κ a} + 1 for all of them, then 1/· (σ) and 2/· - 1 (tanh)
        e = view(exp_gates[0], exp_gates[-1])
        step.line(f"np.exp({e}, out={e})")
        step.line(f"{e} += {step.const(1)}")
    if sig:
        s = view(sig[0], sig[-1])
        step.line(f"np.divide({step.const(1)}, {s}, out={s})  # σ")
    if exp_gates and tanh:
        for text in step.finish_tanh(view(tanh[0], tanh[-1])):
            step.line(text)
    for g in gates:
        name = py_name(g.value.name)
        known = views.get(_block_range(g, g))
        step.line(f"{name} = {known}" if known else f"{name} = A_t[{gate_index(g)}]")
        if g.function == "relu":
            step.line(f"np.maximum({name}, {step.const(0)}, out={name})")
        elif g.function not in ("sigmoid", "tanh", "identity"):
            step.line(f"{name}[...] = {function_spec(g.function).numpy.format(name)}")
        step.names[g.value] = name


def _every_gate(plan: Plan, first, last) -> bool:
    """Whether gates first..last are all of a step's gates (the whole block, no view needed)."""
    return first is plan.gates[0] and last is plan.gates[-1]


def _block_range(first, last) -> str:
    """Index of gates first..last in a step's gate block: ``k`` for one gate, else ``k0:k1``."""
    if first is last:
        return gate_index(first)
    return f"{dim_code(first.start)}:{dim_code(last.stop)}"


def _bind_step_values(back: Emitter, d, plan: Plan, saved: dict[Node, str], used: set[Node]):
    """Load what the backward step reads: gate columns, tape rows, saved subexpressions."""
    gate_of = {g.value.name: g for g in plan.gates}
    for node in sorted((n for n in used if n.op == "var"), key=lambda n: (n.kind, n.name, str(n.shift))):
        if node.kind not in (ir.VALUE, ir.STATE) or node in back.names:
            continue
        row = "t + 1" if node.shift == 0 else "t"
        if node.name in gate_of:
            k = gate_index(gate_of[node.name])
            code = f"A_t[{k}]" if node.shift == 0 else f"tape_A[t, {k}]"
        elif node.name in plan.taped:
            code = f"tape_{py_name(node.name)}[{row}]"
        else:
            code = f"{py_name(node.name)}_all.reshape(T, batch_size, {size_code(node)})[{row.replace(' + 1', '')}]"
        back.line(f"{leaf_name(node)} = {code}")
        back.names[node] = leaf_name(node)
    for node, tape in saved.items():
        if node in used:
            name = tape.replace("tape_", "")
            back.line(f"{name} = {tape}[t + 1]")
            back.names[node] = name
