"""The compiled ``loss_and_grads``: the optimiser's plan as one numba kernel.

The kernel runs, in order: the input products of every step (one product per operand, all
gates' matrices side by side), the forward loop (per step: the gates' products of the state,
stacked, then one fused loop for every gate, activation and state update), the readout over
all steps (products over all rows, softmax and loss in one pass), the δs that only read the
readout (all steps at once), the backward loop (one fused loop for a step's δs, one stacked
product for each state's carry) and the weight gradients (one product over all steps per
group of gates sharing an operand).  Products go to BLAS through the module's ``_mm``: NumPy's
own cblas ``?gemm`` on views with their leading dimensions (no copies), numba's ``np.dot``
where NumPy's BLAS cannot be found.

Where values live: gate values in ``A`` (T + 1, batch, gates · size) (row 0: initial states
that are gates), other forward values on tapes (T + 1, batch, size), readout values and δs
over all steps in (T, batch, size) arrays, the gates' pre-activation δs in ``DA``
(T, batch, gates · size), carries double-buffered (batch, size).
"""

from __future__ import annotations

import sympy

from symrnn import ir
from symrnn.codegen.backward_rewrites import inline_single_use, reads_step_grads
from symrnn.codegen.numba_loops import (
    Kernel,
    NotCompilable,
    Place,
    Schedule,
    buffer_place,
)
from symrnn.codegen.numpy_module import py_name
from symrnn.codegen.numpy_printer import dim_code
from symrnn.codegen.plan import Plan, row_products, sum_of, terms
from symrnn.ir import Node

_LOSS_HELPERS = {"softmax_ce": "_softmax_ce_rows", "bce": "_sigmoid_bce_rows", "mse": "_squared_error_rows"}


def _tape(name: str, size, steps: str, step: str) -> Place:
    size = sympy.sympify(size)
    return Place(name, step, sympy.Integer(0), size, size, steps)


def kernel_source(d, plan: Plan) -> tuple[list[str], list[str], Kernel]:
    """The kernel's body lines (indent 4) and its argument names beyond the fixed ones."""
    cell = d.cell
    states = list(cell.states)
    param_names = {node: py_name(name) for name, node in d.params.items()}
    kernel = Kernel(param_names)
    base: dict[Node, Place] = {}
    body: list[str] = []
    gates = plan.gates
    width = len(gates)
    gate_size = gates[0].pre.shape[0]
    gate_of = {g.value.name: g for g in gates}
    pre_of = {g.pre.name: g for g in gates}
    cols = width * gate_size

    # ------------------------------------------------------------ leaves and tapes
    for name, node in cell.inputs.items():
        if name != "x":
            raise NotCompilable("the compiled backend handles cells with the one input x")
        base[ir.var(name, node.shape, ir.INPUT_KIND, 0)] = _tape("xs", node.shape[0], "T", "t")
    forward = [eq for eq in d.forward if eq.lhs.name != "L"]
    readout_names = {eq.lhs.name for eq in plan.readout}
    body.append(f"A = np.empty((T + 1, batch_size, {dim_code(cols)}), dtype)")
    for eq in forward:
        name, size = eq.lhs.name, eq.lhs.shape[0]
        if name in pre_of:
            continue
        if name in gate_of:
            g = gate_of[name]
            for shift, step in ((0, "t + 1"), (-1, "t")):
                place = Place("A", step, g.start * gate_size, size, cols, "T + 1")
                base[ir.var(name, eq.lhs.shape, eq.lhs.kind, shift)] = place
        elif name in readout_names:
            array = kernel.buffer(f"value_{py_name(name)}", "T", "batch_size", dim_code(size))
            base[eq.lhs] = _tape(array, size, "T", "t")
        else:
            array = kernel.buffer(f"tape_{py_name(name)}", "T + 1", "batch_size", dim_code(size))
            for shift, step in ((0, "t + 1"), (-1, "t")):
                base[ir.var(name, eq.lhs.shape, eq.lhs.kind, shift)] = _tape(array, size, "T + 1", step)
    for eq in d.backward:
        for leaf in ir.leaves(d.local_grads[eq.lhs.name]):
            if leaf.kind == ir.TARGET:
                base[leaf] = _tape("ys", leaf.shape[0], "T", "t")
    for s in states:
        prev = base[ir.var(s, cell.states[s].shape, ir.STATE, -1)]
        body.append(f"{_row0(prev)} = init_{py_name(s)}")

    # ------------------------------------------------------------ forward loop (and the input products)
    hoisted = Schedule(kernel, base, "T")
    step = Schedule(kernel, base, None, hoisted=hoisted)
    for eq in forward:
        name = eq.lhs.name
        if name in pre_of or name in readout_names:
            continue
        if name in gate_of:
            g = gate_of[name]
            step.assign(base[eq.lhs], ir.apply(g.function, sum_of(g.terms)), alias=eq.lhs)
        else:
            rhs = next(e.rhs for _, e in plan.loop if e.lhs.name == name)
            step.assign(base[eq.lhs], rhs, alias=eq.lhs)
    body += hoisted.lines("")
    body.append("for t in range(T):")
    body += step.lines("    ")

    # ------------------------------------------------------------ readout and loss over all steps
    readout = Schedule(kernel, base, "T")
    logits = next(eq.lhs for eq in forward if eq.lhs.name == d.logits)
    target = ir.var("y", logits.shape, ir.TARGET, 0)
    base.setdefault(target, _tape("ys", logits.shape[0], "T", "t"))
    fused = False
    for eq in plan.readout:
        if d.loss.name == "softmax_ce" and eq.lhs.name == d.prediction and eq.rhs == ir.softmax(logits):
            z = readout.operand(logits)
            readout.line(f"loss = _softmax_ce_rows({z.all_view()}, ys2, {base[eq.lhs].all_view()})")
            readout.places[eq.lhs] = base[eq.lhs]
            fused = True
        else:
            readout.assign(base[eq.lhs], eq.rhs, alias=eq.lhs)
    if not fused:
        z = readout.operand(logits)
        readout.line(f"loss = {_LOSS_HELPERS[d.loss.name]}({z.all_view()}, ys2)")

    # ------------------------------------------------------------ readout δs, and each δ's part that reads only them
    param_reads = {
        leaf.name for eq in d.param_grads for leaf in ir.leaves(eq.rhs) if leaf.kind == ir.GRAD and leaf.batched
    }
    loop_terms: dict[str, list[Node]] = {}
    early: dict[str, Node] = {}
    for eq in d.backward:
        name, size = eq.lhs.name, eq.lhs.shape[0]
        if name in readout_names:
            array = kernel.buffer(f"d_{py_name(name)}_all", "T", "batch_size", dim_code(size))
            readout.assign(_tape(array, size, "T", "t"), d.local_grads[name], alias=eq.lhs)
            continue
        local = [row_products(t) for t in terms(d.local_grads[name])]
        loop_terms[name] = [t for t in local if reads_step_grads(t, readout_names)]
        rest = [t for t in local if not reads_step_grads(t, readout_names)]
        if rest:
            array = kernel.buffer(f"early_d_{py_name(name)}", "T", "batch_size", dim_code(size))
            early[name] = ir.var(f"early_{name}", eq.lhs.shape, "nb", 0)
            readout.assign(_tape(array, size, "T", "t"), sum_of(rest), alias=early[name])
    body += readout.lines("")

    # ------------------------------------------------------------ backward loop
    body.append(f"DA = np.empty((T, batch_size, {dim_code(cols)}), dtype)")
    back = Schedule(kernel, base, None)
    carry_of: dict[str, Node] = {}
    for s in states:
        size = dim_code(cell.states[s].shape[0])
        body.append(f"carry_{py_name(s)} = np.zeros((batch_size, {size}), dtype)")
        body.append(f"next_{py_name(s)} = np.empty((batch_size, {size}), dtype)")
        carry_of[s] = ir.var(f"carry_{s}", cell.states[s].shape, "nb", 0)
        back.places[carry_of[s]] = buffer_place(f"carry_{py_name(s)}", cell.states[s].shape[0], None)
    targets = []
    for eq in d.backward:
        name = eq.lhs.name
        if name in readout_names:
            continue
        parts = ([early[name]] if name in early else []) + loop_terms[name]
        if name in cell.states:
            parts.append(carry_of[name])
        targets.append((name, sum_of(parts) or ir.zeros(eq.lhs.shape)))
        size = eq.lhs.shape[0]
        if name in pre_of:
            place = Place("DA", "t", pre_of[name].start * gate_size, size, cols, "T")
        elif name in param_reads:
            place = _tape(kernel.buffer(f"tape_d_{py_name(name)}", "T", "batch_size", dim_code(size)), size, "T", "t")
        else:
            place = buffer_place(kernel.buffer(f"d_{py_name(name)}", "batch_size", dim_code(size)), size, None)
        back.places[eq.lhs] = place
    carry_roots = {s: sum_of([row_products(t) for t in terms(d.carries[s])]) for s in states}
    keep = set(pre_of) | param_reads | set(states)
    targets, carry_roots = inline_single_use(targets, carry_roots, keep)
    lhs_of = {eq.lhs.name: eq.lhs for eq in d.backward}
    for name, rhs in targets:
        lhs = lhs_of[name]
        back.assign(back.places[lhs], _stack_products(back, rhs), alias=lhs)
    for s in states:
        root = carry_roots[s] if carry_roots[s] is not None else ir.zeros(cell.states[s].shape)
        place = buffer_place(f"next_{py_name(s)}", cell.states[s].shape[0], None)
        back.assign(place, _stack_products(back, root))
    for s in states:
        back.line(f"carry_{py_name(s)}, next_{py_name(s)} = next_{py_name(s)}, carry_{py_name(s)}")
    body.append("for t in range(T - 1, -1, -1):")
    body += back.lines("    ")

    # ------------------------------------------------------------ parameter gradients over all steps
    body += _parameter_gradients(d, kernel, base)
    returns = [f"g_{py_name(name)}" for name in d.params] + [f"carry_{py_name(s)}" for s in states]
    body.append(f"return loss, ({', '.join(returns)},)")
    return body, kernel


def _row0(place: Place) -> str:
    """Row 0 (the initial state) of a tape place."""
    if place.full:
        return f"{place.array}[0]"
    return f"{place.array}[0, :, {dim_code(place.offset)}:{dim_code(place.offset + place.size)}]"


def _stack_products(schedule: Schedule, node: Node) -> Node:
    """``Σ_k M_k v_k`` over operands side by side in one array (the gates' δs) → one stacked product."""
    parts = terms(node)
    groups: dict[tuple, list[tuple[Place, Node, Node]]] = {}
    for term in parts:
        if term.op == "matmul" and not term.args[0].batched and term.args[1] in schedule.places:
            place = schedule.places[term.args[1]]
            if place.step is not None and place.cols is not None:
                groups.setdefault((place.array, place.step), []).append((place, term.args[0], term))
    out = list(parts)
    for members in groups.values():
        members.sort(key=lambda m: int(sympy.simplify(m[0].offset / m[0].size)) if m[0].size != 0 else 0)
        runs, run = [], [members[0]]
        for m in members[1:]:
            prev = run[-1][0]
            if sympy.simplify(m[0].offset - prev.offset - prev.size) == 0:
                run.append(m)
            else:
                runs.append(run)
                run = [m]
        runs.append(run)
        for run in runs:
            if len(run) < 2:
                continue
            first, last = run[0][0], run[-1][0]
            span = Place(first.array, first.step, first.offset, last.offset + last.size - first.offset, first.cols)
            stand_in = ir.var(schedule.kernel.fresh("stack"), node.shape, "nb", 0)
            schedule.stacked(stand_in, span, [matrix for _, matrix, _ in run])
            out = [t for t in out if all(t is not term for _, _, term in run)] + [stand_in]
    return sum_of(out)


def _parameter_gradients(d, kernel: Kernel, base: dict[Node, Place]) -> list[str]:
    """Σ over steps and examples: outer products as one product per operand, sums as column sums."""
    from symrnn.codegen.numba_loops import accumulator_place

    lines: list[str] = []
    schedule = Schedule(kernel, base, "T")
    products: dict[tuple, list] = {}  # (a's array, step, u) → [(param, coefficient, a place)]
    sums: list[tuple[str, sympy.Expr, Node]] = []
    for eq in d.param_grads:
        name = py_name(eq.lhs.name)
        node = d.params[eq.lhs.name]
        shape = (
            f"({dim_code(node.shape[0])},)"
            if node.is_column
            else f"({dim_code(node.shape[0])}, {dim_code(node.shape[1])})"
        )
        lines.append(f"g_{name} = np.zeros({shape}, dtype)")
        if eq.rhs.op == "zeros":
            continue
        if eq.rhs.op != "batch_sum":
            raise NotCompilable(f"the gradient of {eq.lhs.name} is not a sum over the batch")
        for term in terms(eq.rhs.args[0]):
            coefficient = sympy.Integer(1)
            if term.op == "scale":
                coefficient, term = term.attrs[0], term.args[0]
            if term.op == "matmul" and term.args[0].batched and term.args[1].batched:
                a, ut = term.args
                if ut.op != "transpose":
                    raise NotCompilable(f"the gradient of {eq.lhs.name}: an outer product without a transpose")
                a_place = schedule.places.get(a)  # a δ on a tape: read in place, gates side by side
                if a_place is None or a_place.steps is None or a_place.cols is None:
                    a_place = schedule.operand(a)
                u_place = schedule.operand(ut.args[0])
                key = (a_place.array, a_place.step, u_place)
                products.setdefault(key, []).append((name, coefficient, a_place))
            elif term.is_column:
                sums.append((name, coefficient, term))
            else:
                raise NotCompilable(f"the gradient of {eq.lhs.name}: a term of shape {ir.fmt_shape(term.shape)}")
    body = schedule.lines("")
    column_sums: dict[tuple, str] = {}
    accumulate = Schedule(kernel, base, "T")
    for name, coefficient, term in sums:
        place = schedule.places.get(term)
        if place is not None and place.steps is not None and place.cols is not None:  # a δ on a tape: column sums
            key = (place.array, place.step)
            if key not in column_sums:
                column_sums[key] = kernel.fresh("colsum")
                whole = Place(place.array, place.step, sympy.Integer(0), place.cols, place.cols, place.steps)
                body.append(f"{column_sums[key]} = np.dot(ones_rows, {whole.all_view()})")
            block = f"{column_sums[key]}[{dim_code(place.offset)}:{dim_code(place.offset + place.size)}]"
            body.append(f"g_{name} += {_times(kernel, coefficient, block)}")
        else:
            if coefficient != 1:
                term = ir.scale(coefficient, term)
            accumulate.assign(accumulator_place(f"g_{name}", 0, term.shape[0]), term, accumulate=True)
    body += accumulate.lines("")
    for (array, step, u_place), members in products.items():
        first = min(members, key=lambda m: _offset_key(m[2]))[2]
        last = max(members, key=lambda m: _offset_key(m[2]))[2]
        span = Place(array, step, first.offset, last.offset + last.size - first.offset, first.cols, first.steps)
        product = kernel.fresh("gprod")
        a, u = span.all_view(), u_place.all_view()
        body.append(f"{product} = np.empty(({dim_code(span.size)}, {dim_code(u_place.size)}), dtype)")
        body.append(f"_mm({a}.T, {u}, {product}, {kernel.const(0)}, blas)")
        for name, coefficient, a_place in members:
            lo = a_place.offset - first.offset
            block = f"{product}[{dim_code(lo)}:{dim_code(lo + a_place.size)}]"
            body.append(f"g_{name} += {_times(kernel, coefficient, block)}")
    lines.append("ones_rows = np.ones(T * batch_size, dtype)")
    return lines + body


def _offset_key(place: Place):
    return float(sympy.simplify(place.offset / place.size)) if place.size != 0 else 0.0


def _times(kernel: Kernel, coefficient, code: str) -> str:
    if coefficient == 1:
        return code
    return f"{kernel.const(coefficient)} * {code}"
