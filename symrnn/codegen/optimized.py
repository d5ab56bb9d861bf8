"""The optimised ``loss_and_grads``: a :class:`~symrnn.codegen.plan.Plan` printed as NumPy.

Sections of the generated function, in order: buffers (a per-thread workspace reused by the
next call of the same shapes), input projections of every step (hoisted), the forward loop
(one stacked product per wave of gates, activations in place), the readout over all steps,
the δs that only read the readout (all steps at once), forward-only derivative factors (all
steps at once), the backward loop (one stacked product for each state's carry), and the
weight and bias gradients (one product over all steps per group of gates).  See
:mod:`symrnn.codegen.layout` for where values live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy

from symrnn import ir
from symrnn.codegen.backward_rewrites import hoist_factors, inline_single_use, placeholder, reads_step_grads
from symrnn.codegen.bulk import bulk_assign, bulk_into, make_bulk
from symrnn.codegen.emitter import CONSTANTS, Emitter, FastPrinter, signed_terms
from symrnn.codegen.layout import gate_columns, gate_index, input_leaves, scaled, size_code
from symrnn.codegen.names import LOSS_CODE, leaf_name, py_name
from symrnn.codegen.numpy_printer import dim_code
from symrnn.codegen.optimized_pieces import (
    _bind_buffers,
    _bind_step_values,
    _every_gate,
    _factor_of,
    _factor_runs,
    _forward_wave,
    _merge_by_gates,
    _operand_doc,
    _operand_key,
    _reached,
    _saved_nodes,
    _span,
    _stack_code,
)
from symrnn.codegen.plan import Plan, grad_stacks, operand_blocks, row_products, sum_of, terms
from symrnn.ir import Node
from symrnn.printing.text import text


def loss_and_grads_body(d, plan: Plan) -> list[str]:
    """The body of the optimised ``loss_and_grads`` after its prologue (indented 4).

    Printed in phases, in the order of the generated function (see the module's docstring); each
    phase appends to the shared lines and records on the :class:`_Body` what later ones read.
    """
    b = _Body(d, plan)
    for phase in (_buffers, _hoisted, _forward, _readout, _readout_grads, _carries, _backward, _param_grads):
        phase(b)
    return b.out


@dataclass
class _Body:
    """The optimised function being printed: its lines so far and what its phases hand on."""

    d: object
    plan: Plan
    out: list[str] = field(default_factory=list)
    # set by _buffers
    gate_size: str = ""
    shapes: dict[str, str] = field(default_factory=dict)  # workspace buffer → its shape (code)
    forward_size: dict[str, str] = field(default_factory=dict)
    operands: dict = field(default_factory=dict)  # operand key → its columns in tape_U
    workspace_line: int = 0  # the line that binds ws, written last
    # set by _readout, _readout_grads and _carries
    bulk: object = None
    readout_names: set[str] = field(default_factory=set)
    loop_terms: dict[str, list[Node]] = field(default_factory=dict)
    early_terms: dict[str, list[Node]] = field(default_factory=dict)
    hoisted_grads: dict[str, str] = field(default_factory=dict)
    carries: dict[str, list[Node]] = field(default_factory=dict)
    stacked_back: list[tuple[int, Node]] = field(default_factory=list)

    def __post_init__(self):
        self.cell = self.d.cell
        self.states = list(self.cell.states)
        self.gate_of = {g.value.name: g for g in self.plan.gates}
        self.pre_of = {g.pre.name: g for g in self.plan.gates}
        self.width = dim_code(self.plan.width)
        self.saved = _saved_nodes(self.d, self.plan)
        self.param_names = {node: py_name(name) for name, node in self.d.params.items()}

    def emit(self, text: str):
        self.out.append("    " + text)

    def fields(self, names: str) -> tuple:
        """Several attributes at once, for a phase's locals: ``d, plan = b.fields("d plan")``."""
        return tuple(getattr(self, name) for name in names.split())


def _buffers(b: _Body) -> None:
    """The workspace's buffers (shapes known so far) and the tapes bound from it; the initial states."""
    d, plan, cell, states, out, emit, saved, width, gate_of = b.fields(
        "d plan cell states out emit saved width gate_of"
    )
    gate_size = dim_code(plan.gates[0].pre.shape[0])
    # gates: step-major (each step's gates one contiguous block); their δs: gate-major (each
    # gate's δ over all steps one contiguous block, for the products over all steps)
    shapes = {"A": f"(T + 1, {width}, batch_size, {gate_size})", "DA": f"(T, batch_size, {width} * {gate_size})"}
    forward_size = {eq.lhs.name: size_code(eq.lhs) for eq in d.forward}
    operands, offset = {}, sympy.Integer(0)
    for key, size in operand_blocks(d, plan, grad_stacks(d, plan)):
        operands[key] = (offset, offset + size)
        offset += size
    operand_width = offset
    if operands:
        # rows padded to a multiple of 16 entries: aligned rows keep the products that read U fast
        shapes["U"] = f"(T + 1, batch_size, -(-({dim_code(operand_width)}) // 16) * 16)"
    for name in plan.taped:
        if name not in operands:
            shapes["value " + name] = f"(T + 1, batch_size, {forward_size[name]})"  # keys never clash
    for node, tape in saved.items():
        shapes[tape.replace("tape_", "")] = f"(T + 1, batch_size, {size_code(node)})"
    for name in plan.grad_taped:
        shapes["δ " + name] = f"(T, batch_size, {forward_size[name]})"
    for k, stack in enumerate(plan.stacks):
        count = "" if len(stack.blocks) == 1 else f"{len(stack.blocks)}, "  # one gate: a plain product
        shapes[f"S{k}"] = f"({count}batch_size, {gate_size})"
    workspace_line = len(out)  # written at the end, when every buffer's shape is known
    emit("ws = ...")
    emit("tape_A, tape_DA = ws['A'], ws['DA']")
    if operands:
        emit("tape_U = ws['U']  # row t: the operands of step t's weight gradients, " + _operand_doc(operands))
    for name in plan.taped:
        if name in operands:
            emit(f"tape_{py_name(name)} = tape_U[:, :, {_span(operands[name])}]")
        else:
            emit(f"tape_{py_name(name)} = ws[{'value ' + name!r}]")
    for tape in saved.values():
        emit(f"{tape} = ws[{tape.replace('tape_', '')!r}]")
    for name in plan.grad_taped:
        emit(f"tape_d_{py_name(name)} = ws[{'δ ' + name!r}]")
    for k in range(len(plan.stacks)):
        emit(f"S{k} = ws['S{k}']")
    for s in states:
        size = dim_code(cell.states[s].shape[0])
        row = f"tape_A[0, {gate_index(gate_of[s])}]" if s in gate_of else f"tape_{py_name(s)}[0]"
        emit(f"{row} = _initial(initial_state, {s!r}, batch_size, {size}, dtype)")

    if "x" in operands:
        emit(f"tape_U[:T, :, {_span(operands['x'])}] = xs")
        emit(f"tape_U[T, :, {_span(operands['x'])}] = 0")
    if "1" in operands:
        emit(f"tape_U[:, :, {dim_code(operands['1'][0])}] = 1")
    if operands:
        emit("U_all = tape_U[:T].reshape(T * batch_size, tape_U.shape[2])  # the operands of every step as rows")
    b.gate_size, b.shapes, b.forward_size, b.operands, b.workspace_line = (
        gate_size,
        shapes,
        forward_size,
        operands,
        workspace_line,
    )


def _hoisted(b: _Body) -> None:
    """Every step's input projections and biases at once, and the stacked recurrent weights."""
    d, plan, emit, param_names, operands = b.fields("d plan emit param_names operands")
    # tape_A[1:] is (T, gates, batch, size); x_t[:, None] @ W (gates, inputs, size) fills it in one call
    emit("A_all = tape_A[1:]  # every gate's pre-activation at every step")
    steps_x = {leaf: "xs" for leaf in input_leaves(d)}
    fold_bias = len(plan.hoisted) == 1 and plan.biases and "x" in operands and "1" in operands and not plan.static_rest
    if fold_bias:  # [x_t | 1] [W_x | b]ᵀ: the biases ride along in the product
        (operand, blocks), biases = plan.hoisted[0], dict(plan.biases)
        weights, bias_codes = [], []
        for g, matrix in blocks:
            w = FastPrinter(param_names).doprint(matrix) if matrix is not None else None
            b = FastPrinter(param_names).doprint(biases[g]) if biases.get(g) is not None else None
            weights.append(w or f"np.zeros(({size_code(g.pre)}, {dim_code(operand.shape[0])}), dtype)")
            bias_codes.append(b or f"np.zeros({size_code(g.pre)}, dtype)")
        scales = ", ".join(str(g.scale) for g, _ in blocks)
        columns = f"{dim_code(operands['x'][0])}:{dim_code(operands['1'][1])}"
        emit(f"W_gates_in = _gates_with_bias([{', '.join(weights)}], [{', '.join(bias_codes)}], [{scales}])")
        emit(f"np.matmul(tape_U[:T, None, :, {columns}], W_gates_in, out=A_all)  # input projections and biases")
    elif plan.hoisted:
        for k, (operand, blocks) in enumerate(plan.hoisted):
            stack = _stack_code(blocks, operand.shape[0], True, param_names, "_gates")
            call = (
                f"np.matmul(xs[:, None], {stack}, out=A_all)" if k == 0 else f"A_all += np.matmul(xs[:, None], {stack})"
            )
            emit(call + "  # input projections of all gates and steps")
    else:
        emit("A_all[...] = 0")
    if plan.biases and not fold_bias:
        emit(f"A_all += {_stack_code(plan.biases, None, True, param_names, '_gates')}[:, None, :]")
    for g, rest in plan.static_rest.items():
        names = {**param_names, **steps_x}
        emit(f"A_all[:, {gate_index(g)}] += {FastPrinter(names).doprint(scaled(sum_of(rest), g.scale))}")
    for k, stack in enumerate(plan.stacks):
        matrix_cols = stack.operand.shape[0]
        first = "[0]" if len(stack.blocks) == 1 else ""
        emit(f"W_stack{k} = {_stack_code(stack.blocks, matrix_cols, True, param_names, '_gates')}{first}")


def _forward(b: _Body) -> None:
    """The forward loop: one stacked product per wave of gates, activations in place."""
    d, plan, cell, states, out, emit, saved, param_names, gate_of, shapes = b.fields(
        "d plan cell states out emit saved param_names gate_of shapes"
    )
    forward_loop = len(out)
    emit("for t in range(T):")
    step = Emitter({}, "        ", {node: f"{tape}[t + 1]" for node, tape in saved.items()}, buffers=True)
    step.line("A_t = tape_A[t + 1]  # the gates of step t")
    step.names.update(param_names)
    step.names.update({leaf: "x" for leaf in input_leaves(d)})
    loop_roots = [stack.operand for stack in plan.stacks] + [eq.rhs for _, eq in plan.loop]
    loop_roots += [t for rest in plan.rest.values() for t in rest]
    if any(leaf.kind == ir.INPUT_KIND for root in loop_roots for leaf in ir.leaves(root)):
        step.line("x = xs[t]")
    for s in states:
        prev = ir.var(s, cell.states[s].shape, ir.STATE, -1)
        row = f"tape_A[t, {gate_index(gate_of[s])}]" if s in gate_of else f"tape_{py_name(s)}[t]"
        step.line(f"{leaf_name(prev)} = {row}")
        step.names[prev] = leaf_name(prev)
    step.plan(loop_roots)
    for wave in range(plan.waves + 1):
        if wave > 0:
            _forward_wave(step, plan, wave)
        for w, eq in plan.loop:
            if w != wave:
                continue
            name = py_name(eq.lhs.name)
            if eq.lhs.name in plan.taped:
                step.line(f"{name} = tape_{name}[t + 1]")
                step.into(name, eq.rhs)
            else:
                step.assign(name, eq.rhs)
            step.names[eq.lhs] = name
    out += step.lines
    out[forward_loop:forward_loop] = _bind_buffers(step, "forward", shapes)


def _readout(b: _Body) -> None:
    """The readout and the loss over all steps; splits each step's δ into loop and all-steps terms."""
    d, plan, out, emit, saved, param_names, shapes, forward_size = b.fields(
        "d plan out emit saved param_names shapes forward_size"
    )
    bulk = make_bulk(d, plan, saved, param_names, out)
    readout_names = {eq.lhs.name for eq in plan.readout}
    rows = {"value " + eq.lhs.name: size_code(eq.lhs) for eq in plan.readout}
    rows.update({"δ " + eq.lhs.name: size_code(eq.lhs) for eq in d.backward if eq.lhs.name in readout_names})
    # each step's δ splits into terms read in the loop and terms that only read the readout's δs
    loop_terms: dict[str, list[Node]] = {}
    early_terms: dict[str, list[Node]] = {}
    for eq in d.backward:
        if eq.lhs.name not in readout_names:
            local = [row_products(t) for t in terms(d.local_grads[eq.lhs.name])]
            loop_terms[eq.lhs.name] = [t for t in local if reads_step_grads(t, readout_names)]
            early_terms[eq.lhs.name] = [t for t in local if not reads_step_grads(t, readout_names)]
    rows.update({"hoisted δ " + name: forward_size[name] for name, early in early_terms.items() if early})
    shapes.update({k: f"(T * batch_size, {v})" for k, v in rows.items()})
    emit("y = ys.reshape(T * batch_size, ys.shape[2])  # y_t of every step as rows")
    logits = next(eq.lhs for eq in d.forward if eq.lhs.name == d.logits)
    fused = d.loss.name == "softmax_ce"  # the prediction's exp serves the loss too
    for eq in plan.readout:
        name = py_name(eq.lhs.name) + "_all"
        emit(f"{name} = ws[{'value ' + eq.lhs.name!r}]")
        if fused and eq.lhs.name == d.prediction and eq.rhs == ir.softmax(logits):
            emit(f"loss = _softmax_and_ce({bulk.names[logits]}, y, out={name})")
            fused = None
        else:
            bulk_assign(bulk, name, eq.rhs)
        bulk.names[eq.lhs] = name
    if fused is not None:
        emit("loss = " + LOSS_CODE[d.loss.name].format(logits=bulk.names[logits]))
    b.bulk, b.readout_names, b.loop_terms, b.early_terms = bulk, readout_names, loop_terms, early_terms


def _readout_grads(b: _Body) -> None:
    """The readout's δs over all steps, and the parts of each δ that only read them."""
    d, emit, forward_size, bulk, readout_names, early_terms = b.fields(
        "d emit forward_size bulk readout_names early_terms"
    )
    for eq in d.backward:
        if eq.lhs.name in readout_names:
            name = "d_" + py_name(eq.lhs.name) + "_all"
            emit(f"{name} = ws[{'δ ' + eq.lhs.name!r}]")
            bulk_assign(bulk, name, eq.rhs)
            bulk.names[eq.lhs] = name
    # the part of each step's δ that only reads the readout's δs: all steps at once
    hoisted_grads: dict[str, str] = {}
    for name, early in early_terms.items():
        if early:
            hoisted_grads[name] = f"hoisted_d_{py_name(name)}"
            emit(f"hoisted_d_{py_name(name)} = ws[{'hoisted δ ' + name!r}]")
            bulk_assign(bulk, f"hoisted_d_{py_name(name)}", sum_of(early))
            emit(f"hoisted_d_{py_name(name)} = hoisted_d_{py_name(name)}.reshape(T, batch_size, {forward_size[name]})")
    b.hoisted_grads = hoisted_grads


def _carries(b: _Body) -> None:
    """The carries of the states, each stacked product's share as one stand-in."""
    d, plan, cell, states, emit, param_names = b.fields("d plan cell states emit param_names")
    # carries, with each stack's share as one product
    carries: dict[str, list[Node]] = {s: [row_products(t) for t in terms(d.carries[s])] for s in states}
    stacked_back: list[tuple[int, Node]] = []
    for k, stack in enumerate(plan.stacks):
        op = stack.operand
        if op.op != "var" or op.kind != ir.STATE or op.shift != -1:
            continue
        wanted = [ir.matmul(ir.transpose(m), ir.grad(g.pre)) for g, m in stack.blocks if m is not None]
        parts = carries[op.name]
        if all(w in parts for w in wanted):
            stand_in = ir.var(f"stack{k}", op.shape, "opt", 0)  # bound in the backward loop
            carries[op.name] = [t for t in parts if t not in wanted] + [stand_in]
            stacked_back.append((k, stand_in))
            emit(f"W_back{k} = {_stack_code(stack.blocks, op.shape[0], False, param_names)}")
    for s in states:
        emit(f"carry_{py_name(s)} = np.zeros((batch_size, {dim_code(cell.states[s].shape[0])}), dtype)")
    b.carries, b.stacked_back = carries, stacked_back


def _backward(b: _Body) -> None:
    """The backward loop: the δs of each step, the stacked products into the carries' buffers."""
    (
        d,
        plan,
        cell,
        states,
        out,
        emit,
        saved,
        param_names,
        pre_of,
        gate_size,
        shapes,
        bulk,
        readout_names,
        loop_terms,
        hoisted_grads,
        carries,
        stacked_back,
    ) = b.fields(
        "d plan cell states out emit saved param_names pre_of gate_size shapes bulk readout_names loop_terms hoisted_grads carries stacked_back"
    )
    back = Emitter({}, "        ", buffers=True)
    back.names.update(param_names)
    back.names.update({leaf: "x" for leaf in input_leaves(d)})
    back.line("A_t = tape_A[t + 1]")
    back.line("DA_t = tape_DA[t]  # their pre-activation gradients, gate k in columns k·size…")
    roots: list[Node] = []
    targets: list[tuple[str, Node]] = []
    accumulate: dict[str, Node] = {}
    for eq in d.backward:
        name = eq.lhs.name
        if name in readout_names:
            continue
        parts = list(loop_terms[name])
        if name in hoisted_grads:
            owned = placeholder(eq.lhs, back, f"{hoisted_grads[name]}[t]")  # a row of our own array
            accumulate[name] = owned
            parts.insert(0, owned)
        if name in cell.states:
            parts.append(placeholder(eq.lhs, back, f"carry_{py_name(name)}"))
        rhs = sum_of(parts) or ir.zeros(eq.lhs.shape)
        roots.append(rhs)
        targets.append((name, rhs))
    carry_roots = {s: sum_of(carries[s]) for s in states}
    keep = set(pre_of) | set(plan.grad_taped) | set(states)
    targets, carry_roots = inline_single_use(targets, carry_roots, keep)
    factors: list[tuple[Node, Node]] = []  # (placeholder, forward-only product) over all steps
    targets = [(name, hoist_factors(rhs, factors, back, set(saved))) for name, rhs in targets]
    carry_roots = {s: r if r is None else hoist_factors(r, factors, back, set(saved)) for s, r in carry_roots.items()}
    runs = _factor_runs(plan, dict(targets), factors)
    in_run = {id(m): (k, i) for k, run in enumerate(runs) for i, m in enumerate(run[1])}
    if factors:  # every factor over all steps at once: (T, batch, size) buffers
        for j, (f, p) in enumerate(factors):
            if id(f) not in in_run:
                shapes[f"F{j}"] = f"(T, batch_size, {size_code(p)})"
        for k, (_, run) in enumerate(runs):
            shapes[f"G{k}"] = f"(T, {len(run)}, batch_size, {gate_size})"
        scratch_line = len(out)  # bound only if a compound factor needs it
    rhs_of = dict(targets)
    run_members = [  # the gates of each run, in buffer order
        [g for g in plan.gates if g.pre.name in rhs_of and any(f is _factor_of(rhs_of[g.pre.name]) for f in run)]
        for _, run in runs
    ]
    for k, (_, run) in enumerate(runs):
        emit(f"G{k} = ws['G{k}']  # the factors of {len(run)} adjacent gates whose δs share a step factor")
        cols = gate_columns(run_members[k][0], run_members[k][-1])
        emit(f"DA_run{k} = tape_DA[:, :, {cols}].reshape(T, batch_size, {len(run)}, {gate_size}).transpose(0, 2, 1, 3)")
    for j, (factor, product) in enumerate(factors):
        if id(factor) in in_run:
            k, i = in_run[id(factor)]
            emit(f"# G{k}[:, {i}] = {text(product)}")
            bulk_into(bulk, f"G{k}[:, {i}]", product, out)
        else:
            emit(f"F{j} = ws['F{j}']  # {text(product)}")
            bulk_into(bulk, f"F{j}", product, out)
    if factors and any("scratch" in line for line in out[scratch_line:]):
        shapes["scratch"] = f"(T, batch_size, {size_code(factors[0][1])})"
        out.insert(scratch_line, "    scratch = ws['scratch']")
    run_of_gate = {
        g.pre.name: (k, step, members)
        for k, ((step, _), members) in enumerate(zip(runs, run_members, strict=True))
        for g in members
    }
    roots = [rhs for _, rhs in targets] + [r for r in carry_roots.values() if r is not None]
    read_grads = {leaf.name for root in roots for leaf in ir.leaves(root) if leaf.kind == ir.GRAD}
    runs_done: set[int] = set()
    column_views: dict[str, str] = {}  # columns → a view of them over all steps, bound before the loop

    def da_columns(columns: str) -> str:
        """Step t's columns of tape_DA: a row of an all-steps view (``DA_t[:, a:b]`` costs twice as much)."""
        if columns not in column_views:
            column_views[columns] = f"DA_cols{len(column_views)}"
        return f"{column_views[columns]}[t]"

    backward_loop = len(out)
    emit("for t in range(T - 1, -1, -1):")
    roots_leaves = _reached(roots, set(saved))
    if any(leaf.kind == ir.INPUT_KIND for leaf in roots_leaves if leaf.op == "var"):
        back.line("x = xs[t]")
    _bind_step_values(back, d, plan, saved, roots_leaves)
    back.plan(roots)
    for name, rhs in targets:
        lhs = next(eq.lhs for eq in d.backward if eq.lhs.name == name)
        if name in run_of_gate:
            k, step, members = run_of_gate[name]
            if k not in runs_done:  # the whole run at its first member: one product
                runs_done.add(k)
                back.line(f"np.multiply({back.code(step)}, G{k}[t], out=DA_run{k}[t])  # {len(members)} gates")
                for g in members:
                    if g.pre.name in read_grads:
                        back.line(f"d_{py_name(g.pre.name)} = {da_columns(gate_columns(g, g))}")
        elif name in pre_of:
            target = f"d_{py_name(name)}"
            back.line(f"{target} = {da_columns(gate_columns(pre_of[name], pre_of[name]))}")
            back.into(target, rhs)
        elif name in plan.grad_taped:
            target = f"d_{py_name(name)}"
            back.line(f"{target} = tape_d_{py_name(name)}[t]")
            back.into(target, rhs)
        elif name in accumulate and rhs.op == "add" and terms(rhs)[0] == accumulate[name]:
            target = f"d_{py_name(name)}"  # the rest added in place into the hoisted row
            back.line(f"{target} = {back.names[accumulate[name]]}")
            back.line(f"{target} += {back.code(sum_of(terms(rhs)[1:]))}")
        else:
            back.assign(f"d_{py_name(name)}", rhs)
        back.names[ir.grad(lhs)] = f"d_{py_name(name)}"
    # each stacked product goes straight into the buffer of the carry it is a term of
    starts: dict[Node, str] = {}  # stand-in → the carry it starts
    for s in states:
        root = carry_roots[s]
        for _, stand_in in stacked_back:
            if root is not None and root is not stand_in and (1, stand_in) in signed_terms(root):
                if s not in starts.values():  # one product starts the buffer; the others are added
                    starts[stand_in] = s
    for k, stand_in in stacked_back:
        stack = plan.stacks[k]
        columns = gate_columns(stack.blocks[0][0], stack.blocks[-1][0])
        name = f"next_{py_name(starts[stand_in])}" if stand_in in starts else f"stack{k}"
        target = back.buffer(name, stand_in)
        rows = "DA_t" if _every_gate(plan, stack.blocks[0][0], stack.blocks[-1][0]) else da_columns(columns)
        back.line(f"{back.product(target)}({rows}, W_back{k}, out={target})  # the gates' share of the carry")
        back.names[stand_in] = target
    swaps = []
    for s in states:
        root, carry, following = carry_roots[s], f"carry_{py_name(s)}", f"next_{py_name(s)}"
        if root is None:
            continue
        if any(root is stand_in for _, stand_in in stacked_back):  # written after the δs have read the carry
            back.line(f"{carry} = {back.names[root]}")
            continue
        started = [stand_in for stand_in, owner in starts.items() if owner == s]
        if back.names.get(root) in back.buffers and back.names[root].startswith("d_"):
            # the step's δ itself, in a buffer the next step writes whole: swap, don't copy
            back.line(f"{carry}, {back.names[root]} = {back.names[root]}, {carry}")
            continue
        if started:  # the stacked product is in the buffer already: add the other terms
            rest = [(sign, term) for sign, term in signed_terms(root) if term is not started[0]]
            back.code(sum_of([term for _, term in rest]), root_too=False)
            for sign, term in rest:
                back.add_into(following, sign, term)
        else:  # into the other of two buffers: the carry is read while the new one is written
            back.into(back.buffer(following, root), root)
        swaps.append(s)
    for s in swaps:
        back.line(f"carry_{py_name(s)}, next_{py_name(s)} = next_{py_name(s)}, carry_{py_name(s)}")
    binding = next(k for k, line in enumerate(back.lines) if line.strip().startswith("DA_t = "))
    if not any(re.search(r"\bDA_t\b", line) for line in back.lines[binding + 1 :]):
        del back.lines[binding]  # every column the step writes is a row of an all-steps view
    out += back.lines
    views = [f"    {name} = tape_DA[:, :, {columns}]" for columns, name in column_views.items()]
    out[backward_loop:backward_loop] = views + _bind_buffers(back, "backward", shapes)


def _param_grads(b: _Body) -> None:
    """The parameter gradients over all steps (one product per group of gates) and the workspace line."""
    d, plan, states, out, emit, width, gate_size, shapes, forward_size, operands, workspace_line, bulk = b.fields(
        "d plan states out emit width gate_size shapes forward_size operands workspace_line bulk"
    )
    emit(
        f"DA_all = tape_DA.reshape(T * batch_size, {width} * {gate_size})  # the gates' gradients at every step as rows"
    )
    for g in plan.gates:
        bulk.names[ir.grad(g.pre)] = f"DA_all[:, {gate_columns(g, g)}]"
    for name in plan.grad_taped:
        lhs = next(eq.lhs for eq in d.forward if eq.lhs.name == name)
        bulk.view(
            ir.grad(lhs),
            f"d_{py_name(name)}_all",
            f"tape_d_{py_name(name)}.reshape(T * batch_size, {forward_size[name]})",
        )
    stacked_grads = set()
    singles = []
    for k, merged in enumerate(_merge_by_gates(grad_stacks(d, plan), operands)):
        if len(merged) == 1 and _operand_key(merged[0].operand) not in operands:
            singles.append(merged[0])
            continue
        first, last = merged[0].members[0][0], merged[0].members[-1][0]
        keys = [_operand_key(group.operand) for group in merged]
        start, stop = operands[keys[0]][0], operands[keys[-1]][1]
        operand = f"U_all[:, {dim_code(start)}:{dim_code(stop)}]"
        # (Uᵀ Δ)ᵀ rather than Δᵀ U: the same product, up to 10 % faster in OpenBLAS when U is narrow
        emit(
            f"g_stack{k} = ({operand}.T @ DA_all[:, {gate_columns(first, last)}]).T  # all gates and steps, one product"
        )
        for group, key in zip(merged, keys, strict=True):
            a, b = (dim_code(c - start) for c in operands[key])
            block = a if key == "1" else f"{a}:{b}"
            for gate, param in group.members:
                emit(f"g_{py_name(param)} = g_stack{k}[{gate_columns(gate, gate, first)}, {block}].copy()")
                stacked_grads.add(param)
    for k, group in enumerate(singles, start=len(plan.gates) + 1):
        first, last = group.members[0][0], group.members[-1][0]
        if group.operand is None:
            emit(f"g_stack{k} = DA_all[:, {gate_columns(first, last)}].sum(axis=0)  # every bias of these gates")
        else:
            operand = bulk.code(group.operand)
            emit(
                f"g_stack{k} = DA_all[:, {gate_columns(first, last)}].T @ {operand}  # all gates and steps, one product"
            )
        for gate, param in group.members:
            emit(f"g_{py_name(param)} = g_stack{k}[{gate_columns(gate, gate, first)}]")
            stacked_grads.add(param)
    for eq in d.param_grads:
        name = py_name(eq.lhs.name)
        if eq.lhs.name in stacked_grads:
            continue
        if eq.rhs.op == "zeros":
            emit(f"g_{name} = np.zeros_like({name})")
        else:
            emit(f"g_{name} = {bulk.code(eq.rhs)}")
    grads = [f"{name!r}: g_{py_name(name)}" for name in d.params]
    grads += [f"{s + '_0'!r}: carry_{py_name(s)}.copy()" for s in states]
    emit("return loss, {" + ", ".join(grads) + "}")
    shape_code = ", ".join(f"{k!r}: {v}" for k, v in shapes.items())
    out[workspace_line] = f"    ws = _workspace('loss_and_grads', dtype, {{{shape_code}}})"
    used = [(name, value) for value, name in CONSTANTS.items() if any(re.search(rf"\b{name}\b", line) for line in out)]
    if used:
        names, values = ", ".join(n for n, _ in used), ", ".join(str(v) for _, v in used)
        comma = "," if len(used) == 1 else ""
        out.insert(workspace_line + 1, f"    {names}{comma} = (np.array(v, dtype) for v in ({values}{comma}))")
