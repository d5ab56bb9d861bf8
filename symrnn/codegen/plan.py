"""The optimiser's analysis of a derivation: what runs in the time loop and what runs once.

Every decision is made on the IR, the same way for every cell:

* **split** — ``W [a; b]`` becomes ``W[:, :|a|] a + W[:, |a|:] b``, so each operand's
  product stands alone (and ``(Wᵀ δ)[rows]`` becomes ``W[:, rows]ᵀ δ`` in the backward pass);
* **gates** — a pre-activation ``v̄`` read only by ``v = φ(v̄)`` is block k of one gate buffer
  per step, and ``φ`` runs in place.  Gates whose inputs are ready at the same point of the
  step form a *wave*; a wave's gates are adjacent, σ first and tanh next, so each activation
  is one call over its run;
* **hoist** — every gate's terms made of inputs and parameters only (``W_x x_t``, biases) are
  computed for all steps before the loop, in one call;
* **stack** — the products of one wave's gates with the same operand (``W_hf h``, ``W_hi h``, …)
  are one product with the stacked matrices; their share of a state's carry is one product
  with the same (unscaled) stack, and their weight gradients (with the biases') one product
  over all steps (:func:`grad_stacks`, :func:`operand_blocks`);
* **interpolate** — ``(1 - z) ⊙ a + z ⊙ b`` is computed as ``z ⊙ (b - a) + a`` in the loop;
* **readout** — equations no state depends on (``ȳ``, ``ŷ``, the loss) run once over all steps
  after the loop, and so does the part of each δ that depends on them only.

A cell whose structure falls outside this (no gate, gates of different sizes, inputs other
than ``x``) raises :class:`NotOptimizable`; the caller then generates the plain code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import sympy

from symrnn import ir
from symrnn.functions import FUNCTIONS
from symrnn.ir import Node

# In-place activations through exp: the pre-activation is computed scaled by κ (folded into
# the stacked weights and biases; a power of two, so exact) and then
# σ(a) = 1 / (1 + e^{-a}),  tanh(a) = 2 / (1 + e^{-2a}) - 1.
EXP_SCALE = {name: spec.exp_scale for name, spec in FUNCTIONS.items() if spec.exp_scale is not None}
_ORDER = {name: i for i, name in enumerate(EXP_SCALE)}  # exp-form gates in table order, the rest after


class NotOptimizable(ValueError):
    """A derivation outside what the optimiser handles: generate the plain code instead."""


@dataclass(eq=False)  # hashed by identity: gates key dicts
class Gate:
    pre: Node  # the pre-activation's left-hand side, v̄
    value: Node  # the activated value's left-hand side, v
    function: str
    terms: list[Node]  # the pre-activation as a flat sum, products split
    index: int  # position of the pre-activation equation
    wave: int = 0
    start: sympy.Expr = sympy.Integer(0)  # its block k = start of the gate buffer (stop = k + 1)
    stop: sympy.Expr = sympy.Integer(0)

    @property
    def scale(self) -> int:
        return EXP_SCALE.get(self.function, 1)


@dataclass
class Stack:
    """``operand @ [W_1; W_2; …]ᵀ`` for the gate columns start..stop (None: zero rows)."""

    operand: Node
    wave: int
    blocks: list[tuple[Gate, Node | None]]

    @property
    def start(self):
        return self.blocks[0][0].start

    @property
    def stop(self):
        return self.blocks[-1][0].stop


@dataclass
class Plan:
    gates: list[Gate]  # in buffer order (gate k is block k of the gate buffer)
    width: sympy.Expr  # the number of gates
    waves: int
    loop: list[tuple[int, object]]  # (wave, equation) of the non-gate equations of a step
    readout: list[object]  # equations computed over all steps after the loop
    hoisted: list[tuple[Node, list[tuple[Gate, Node | None]]]]  # input operand → matrix per gate
    biases: list[tuple[Gate, Node | None]]
    static_rest: dict[Gate, list[Node]]  # other input-only terms, computed over all steps
    stacks: list[Stack]
    rest: dict[Gate, list[Node]]  # per-step terms that are not stacked products
    taped: list[str]  # non-gate values kept for every step
    grad_taped: list[str]  # non-gate δs kept for every step (read by parameter gradients)
    core: set[str] = field(default_factory=set)


def terms(node: Node) -> list[Node]:
    """A sum as its list of terms (differences as negated terms; zeros dropped)."""
    if node.op == "add":
        return terms(node.args[0]) + terms(node.args[1])
    if node.op == "sub":
        return terms(node.args[0]) + [-t for t in terms(node.args[1])]
    if node.op == "zeros":
        return []
    return [node]


def sum_of(nodes: list[Node]) -> Node | None:
    """The IR sum of ``nodes`` in order (None for none)."""
    out = None
    for n in nodes:
        out = n if out is None else out + n
    return out


def product_factors(node: Node) -> list[Node]:
    """An element-wise product as its list of factors (equal shapes only, in order)."""
    if node.op == "mul" and node.args[0].shape == node.args[1].shape:
        return product_factors(node.args[0]) + product_factors(node.args[1])
    return [node]


def columns(matrix: Node, start, stop) -> Node:
    """``matrix[:, start:stop]`` of a shared matrix, as IR (the transpose of a row block of Mᵀ)."""
    return ir.transpose(ir.rows(ir.transpose(matrix), start, stop))


def split_products(node: Node) -> Node:
    """``W [a; b]`` → ``W[:, :|a|] a + W[:, |a|:] b`` wherever a shared matrix meets a concatenation."""

    def walk(n: Node) -> Node:
        args = tuple(walk(a) for a in n.args)
        if n.op == "matmul" and not args[0].batched and args[1].op == "concat":
            offset, parts = sympy.Integer(0), []
            for part in args[1].args:
                stop = offset + part.shape[0]
                parts.append(ir.matmul(columns(args[0], offset, stop), part))
                offset = stop
            out = parts[0]
            for p in parts[1:]:
                out = out + p
            return out
        return ir.rebuild(n, args) if args else n

    return walk(node)


def row_products(node: Node) -> Node:
    """``(M δ)[rows]`` → ``M[rows] δ`` for a shared M: only the rows needed, and stackable."""

    def walk(n: Node) -> Node:
        args = tuple(walk(a) for a in n.args)
        if n.op == "rows" and args[0].op == "matmul" and not args[0].args[0].batched:
            m, v = args[0].args
            return ir.matmul(ir.rows(m, *n.attrs), v)
        return ir.rebuild(n, args) if args else n

    return walk(node)


def interpolations(node: Node) -> Node:
    """``(1 - z) ⊙ a + z ⊙ b`` → ``z ⊙ (b - a) + a`` (a GRU's update): per step one difference,
    one product and one sum instead of ``1 - z``, two products and a sum."""

    def gate_and_rest(product: Node):
        if product.op == "mul":
            for x, y in (product.args, product.args[::-1]):
                if x.op == "one_minus":
                    return x.args[0], y
        return None, None

    def walk(n: Node) -> Node:
        args = tuple(walk(a) for a in n.args)
        n = ir.rebuild(n, args) if args else n
        if n.op == "add":
            for x, y in (n.args, n.args[::-1]):
                gate, a = gate_and_rest(x)
                if gate is not None and y.op == "mul" and gate in y.args:
                    b = y.args[1] if y.args[0] == gate else y.args[0]
                    return ir.mul(gate, ir.sub(b, a)) + a
        return n

    return walk(node)


def reads(node: Node) -> list[str]:
    """Names of the step-t values an expression reads (values and states at shift 0)."""
    return [
        leaf.name for leaf in ir.leaves(node) if leaf.kind in (ir.VALUE, ir.STATE) and leaf.shift == 0 and leaf.batched
    ]


def _static(node: Node) -> bool:
    return all(leaf.kind in (ir.PARAM, ir.INPUT_KIND) for leaf in ir.leaves(node))


def backward_roots(d) -> list[Node]:
    return (
        [d.local_grads[eq.lhs.name] for eq in d.backward] + [eq.rhs for eq in d.param_grads] + list(d.carries.values())
    )


def step_factor(d, gate: Gate) -> Node | None:
    """The one δ factor of ``δv`` for a gate value v when it is a single product (δc in δc ⊙ c_{t-1})."""
    if gate.value.name in d.cell.states:
        return None
    parts = terms(d.local_grads.get(gate.value.name, ir.zeros(gate.value.shape)))
    if len(parts) != 1:
        return None
    moving = [f for f in product_factors(parts[0]) if any(leaf.kind == ir.GRAD for leaf in ir.leaves(f))]
    return moving[0] if len(moving) == 1 else None


def _group_by_step_factor(d, gates: list[Gate]) -> list[Gate]:
    """Within each wave, σ gates sharing the step factor of the gates after them go last, and
    the gates after them sharing the σ gates' last factor go first (keeps runs σ, then tanh)."""
    key = {id(g): step_factor(d, g) for g in gates}
    out: list[Gate] = []
    waves = sorted({g.wave for g in gates})
    for w in waves:
        wave = [g for g in gates if g.wave == w]
        sig = [g for g in wave if g.function == "sigmoid"]
        rest = [g for g in wave if g.function != "sigmoid"]
        later = rest or [g for g in gates if g.wave > w]
        anchor = key[id(later[0])] if later else None
        if anchor is not None:
            sig.sort(key=lambda g: key[id(g)] == anchor)
        if sig and key[id(sig[-1])] is not None:
            tail = key[id(sig[-1])]
            rest.sort(key=lambda g: (g.function != "tanh", key[id(g)] != tail))
        out += sig + rest
    return out


def make_plan(d) -> Plan:
    """Analyse ``d`` for the optimised ``loss_and_grads``; raises :class:`NotOptimizable`."""
    if list(d.cell.inputs) != ["x"]:
        raise NotOptimizable("the optimiser handles cells with the one input x")
    forward = [eq for eq in d.forward if eq.lhs.name != "L"]
    by_name = {eq.lhs.name: eq for eq in forward}

    # the step's core: what the next state depends on; everything else is readout
    core: set[str] = set()
    todo = [s for s in d.cell.states]
    while todo:
        name = todo.pop()
        if name in core or name not in by_name:
            continue
        core.add(name)
        todo += reads(by_name[name].rhs)
    readout = [eq for eq in forward if eq.lhs.name not in core]
    live = set(core) | {d.logits, d.prediction}
    for eq in reversed(readout):
        if eq.lhs.name in live:
            live.update(reads(eq.rhs))
    dead = [eq.lhs.name for eq in forward if eq.lhs.name not in live]
    if dead:  # the loop and readout layout assume every value is read; the plain code serves
        raise NotOptimizable(f"{dead[0]} is read by no state and not by the loss")

    # forward values read anywhere except by their own activation
    read_by: dict[str, list[str]] = {}
    for eq in forward:
        for name in reads(eq.rhs):
            read_by.setdefault(name, []).append(eq.lhs.name)
    backward_reads = {
        leaf.name for root in backward_roots(d) for leaf in ir.leaves(root) if leaf.kind in (ir.VALUE, ir.STATE)
    }

    gates: list[Gate] = []
    for eq in forward:
        rhs = eq.rhs
        if eq.lhs.name not in core or rhs.op != "apply" or rhs.args[0].op != "var":
            continue
        pre = by_name.get(rhs.args[0].name)
        if pre is None or pre.lhs.name in backward_reads or read_by.get(pre.lhs.name) != [eq.lhs.name]:
            continue
        if pre.lhs.name in d.cell.states:
            continue
        pre_index = forward.index(pre)
        gates.append(Gate(pre.lhs, eq.lhs, rhs.attrs[0], terms(split_products(pre.rhs)), pre_index))
    if not gates:
        raise NotOptimizable("no gate: no pre-activation read only by its activation")
    gate_of = {g.value.name: g for g in gates}
    pre_names = {g.pre.name for g in gates}

    # waves: a gate waits for the gates its per-step terms read, through other equations
    level: dict[str, int] = {}
    loop: list[tuple[int, object]] = []
    for eq in forward:
        name = eq.lhs.name
        if name not in core or name in pre_names:
            continue
        if name in gate_of:
            gate = gate_of[name]
            deps = [n for t in gate.terms if not _static(t) for n in reads(t)]
            gate.wave = 1 + max((level.get(n, 0) for n in deps), default=0)
            level[name] = gate.wave
        else:
            level[name] = max((level.get(n, 0) for n in reads(eq.rhs)), default=0)
            loop.append((level[name], dataclasses.replace(eq, rhs=interpolations(eq.rhs))))
    waves = max(g.wave for g in gates)

    # gate order: by wave, then σ, tanh, others, then equation order; within that, gates whose
    # δ has the same step factor (δc for f, i, g of an LSTM) side by side: one product per step
    gates.sort(key=lambda g: (g.wave, _ORDER.get(g.function, len(_ORDER)), g.index))
    gates = _group_by_step_factor(d, gates)
    if len({g.pre.shape[0] for g in gates}) > 1:
        raise NotOptimizable("gates of different sizes do not share one gate buffer")
    for k, g in enumerate(gates):
        g.start, g.stop = sympy.Integer(k), sympy.Integer(k + 1)
    offset = sympy.Integer(len(gates))

    hoisted: dict[Node, dict[Gate, Node]] = {}
    biases: dict[Gate, Node] = {}
    static_rest: dict[Gate, list[Node]] = {}
    products: dict[tuple[int, Node], dict[Gate, Node]] = {}
    rest: dict[Gate, list[Node]] = {}
    for g in gates:
        for term in g.terms:
            product = term.op == "matmul" and not term.args[0].batched and term.args[1].batched
            if _static(term):
                if product and term.args[1].op == "var" and g not in hoisted.setdefault(term.args[1], {}):
                    hoisted[term.args[1]][g] = term.args[0]
                elif term.op == "broadcast" and term.args[0].op == "var" and g not in biases:
                    biases[g] = term.args[0]
                else:
                    static_rest.setdefault(g, []).append(term)
            elif product and g not in products.setdefault((g.wave, term.args[1]), {}):
                products[g.wave, term.args[1]][g] = term.args[0]
            else:
                rest.setdefault(g, []).append(term)

    def span(members: dict[Gate, Node], wave=None) -> list[tuple[Gate, Node | None]]:
        """Every gate between the first and the last member (non-members as zero rows)."""
        pool = [g for g in gates if wave is None or g.wave == wave]
        first = min(pool.index(g) for g in members)
        last = max(pool.index(g) for g in members)
        return [(g, members.get(g)) for g in pool[first : last + 1]]

    stacks = [Stack(operand, wave, span(members, wave)) for (wave, operand), members in products.items()]
    needed = backward_reads | {n for eq in readout for n in reads(eq.rhs)} | set(d.cell.states)
    taped = [eq.lhs.name for _, eq in loop if eq.lhs.name in needed]
    param_grad_reads = {
        leaf.name for eq in d.param_grads for leaf in ir.leaves(eq.rhs) if leaf.kind == ir.GRAD and leaf.batched
    }
    grad_taped = [name for name in param_grad_reads if name in core and name not in pre_names]
    return Plan(
        gates=gates,
        width=offset,
        waves=waves,
        loop=loop,
        readout=readout,
        hoisted=[(operand, [(g, members.get(g)) for g in gates]) for operand, members in hoisted.items()],
        biases=[(g, biases.get(g)) for g in gates] if biases else [],
        static_rest=static_rest,
        stacks=stacks,
        rest=rest,
        taped=taped,
        grad_taped=sorted(grad_taped),
        core=core,
    )


@dataclass
class GradStack:
    """Parameter gradients that are one product over all steps: ``ΔAᵀ U`` (or ``Σ ΔA`` for biases)."""

    operand: Node | None  # u in Σ_t δv̄_t u_tᵀ; None for a bias, Σ_t δv̄_t
    members: list[tuple[Gate, str]]  # each gate with its parameter's name, in column order


def grad_stacks(d, plan: Plan) -> list[GradStack]:
    """Group the parameter gradients ``Σ_t δv̄_t u_tᵀ`` of gates by ``u``: one product per group.

    The gates of a group need not be adjacent: the product spans the columns from the first
    to the last member, and rows of non-members are dropped.
    """
    pre = {g.pre: g for g in plan.gates}
    groups: dict[Node | None, list[tuple[Gate, str]]] = {}
    for eq in d.param_grads:
        rhs = eq.rhs
        if rhs.op != "batch_sum":
            continue
        inner = rhs.args[0]
        if inner.op == "var" and inner.kind == ir.GRAD:
            grad, operand = inner, None
        elif inner.op == "matmul" and inner.args[0].op == "var" and inner.args[0].kind == ir.GRAD:
            grad, operand = inner.args[0], ir.transpose(inner.args[1])
        else:
            continue
        gate = pre.get(ir.var(grad.name, grad.shape, ir.VALUE, 0))
        if gate is not None:
            groups.setdefault(operand, []).append((gate, eq.lhs.name))
    order = {id(g): k for k, g in enumerate(plan.gates)}
    return [
        GradStack(operand, sorted(members, key=lambda m: order[id(m[0])]))
        for operand, members in groups.items()
        if len(members) > 1
    ]


def operand_blocks(d, plan: Plan, stacks: list[GradStack]) -> list[tuple[str, sympy.Expr]]:
    """Columns of one tape holding, per step, every operand of the weight gradients.

    ``[h_{t-1} | x_t | 1]`` for an LSTM: its states (those not kept in the gate buffer), the
    input and a column of ones (for biases), so that all of a gate group's weight and bias
    gradients are one product.  Empty when fewer than two kinds of operand would share it.
    """
    gate_values = {g.value.name for g in plan.gates}
    states, has_input, has_bias = [], False, False
    for stack in stacks:
        op = stack.operand
        if op is None:
            has_bias = True
        elif op.op == "var" and op.kind == ir.STATE and op.shift == -1 and op.name not in gate_values:
            if op.name not in states:
                states.append(op.name)
        elif op.op == "var" and op.kind == ir.INPUT_KIND:
            has_input = True
    blocks = [(s, d.cell.states[s].shape[0]) for s in d.cell.states if s in states]
    if has_input:
        blocks.append(("x", d.cell.inputs["x"].shape[0]))
    if has_bias:
        blocks.append(("1", sympy.Integer(1)))
    return blocks if len(blocks) > 1 else []
