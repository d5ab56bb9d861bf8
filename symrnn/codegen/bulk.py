"""Expressions over all steps at once: views of the tapes, and in-place products."""

from __future__ import annotations

from symrnn import ir
from symrnn.codegen.emitter import FastPrinter
from symrnn.codegen.layout import gate_index, input_leaves, size_code
from symrnn.codegen.names import py_name
from symrnn.codegen.plan import Plan, product_factors
from symrnn.ir import Node


class Bulk:
    """Leaves over all steps, as (T·batch, size) views of the tapes; a view is named when first used."""

    def __init__(self, out: list[str]):
        self.out = out
        self.names: dict[Node, str] = {}
        self.views: dict[Node, tuple[str, str]] = {}
        self.steps: dict[Node, str] = {}

    def view(self, node: Node, alias: str, code: str, steps: str | None = None):
        """``code``: the (T·batch, size) view; ``steps``: the same values as (T, batch, size), no copy."""
        self.views[node] = (alias, code)
        if steps is not None:
            self.steps[node] = steps

    def elementwise(self, node: Node) -> str:
        """Code of an element-wise expression over (T, batch, size) arrays (gate columns need no copy)."""
        names = {n: code for n, code in self.names.items() if n not in self.views}
        for n, code in names.items():
            if n.batched and n not in self.steps:  # a (T·batch, size) array, seen per step
                names[n] = f"{code}.reshape(T, batch_size, {size_code(n)})"
        names.update(self.steps)
        return FastPrinter(names).doprint(node)

    def code(self, node: Node) -> str:
        """Code of ``node`` over (T·batch) rows; each tape view it reads is named first, once."""

        def bind(n: Node):
            if n in self.names:
                return
            if n in self.views:
                alias, code = self.views[n]
                self.out.append(f"    {alias} = {code}")
                self.names[n] = alias
                return
            for arg in n.args:
                bind(arg)

        bind(node)
        return FastPrinter(self.names).doprint(node)


_UFUNCS = {"add": "np.add", "sub": "np.subtract", "mul": "np.multiply", "div": "np.divide"}


def bulk_assign(bulk: Bulk, target: str, node: Node):
    """``target[...] = node`` over all steps without temporaries where the top op allows it.

    ``W h`` → ``np.matmul(h, W.T, out=target)``; ``W h + b`` → that, then ``target += b``;
    ``a - b`` (any ufunc op) → ``np.subtract(a, b, out=target)``.
    """
    code = bulk.code(node)  # names every view the expression reads
    p = FastPrinter(bulk.names)
    a, b = (node.args + (None, None))[:2]
    if node.op == "matmul" and not a.batched and b.batched:
        bulk.out.append(f"    np.matmul({p.atom(b)}, {p._transposed(a)}, out={target})")
    elif node.op == "add" and b.op == "broadcast" and a.op == "matmul" and not a.args[0].batched:
        bulk_assign(bulk, target, a)
        bulk.out.append(f"    {target} += {p.doprint(b)}")
    elif node.op in _UFUNCS and a.batched and b.batched:
        bulk.out.append(f"    {_UFUNCS[node.op]}({p.doprint(a)}, {p.doprint(b)}, out={target})")
    else:
        bulk.out.append(f"    {target}[...] = {code}")


def make_bulk(d, plan: Plan, saved: dict[Node, str], param_names: dict[Node, str], out: list[str]) -> Bulk:
    """Every leaf the code after the forward loop may read: parameters, xs, ys, tapes (t and t-1)."""
    bulk = Bulk(out)
    bulk.names.update(param_names)
    for leaf in input_leaves(d):
        bulk.view(leaf, "xs2", "xs.reshape(T * batch_size, xs.shape[2])  # x_t of every step as rows", "xs")
    loss_eq = next(eq for eq in d.forward if eq.lhs.name == "L")
    bulk.names.update({leaf: "y" for leaf in ir.leaves(loss_eq.rhs) if leaf.kind == ir.TARGET})
    values = [(g.value, f"tape_A[{{rows}}, {gate_index(g)}]") for g in plan.gates]
    values += [(eq.lhs, f"tape_{py_name(eq.lhs.name)}[{{rows}}]") for eq in d.forward if eq.lhs.name in plan.taped]
    for lhs, tape in values:
        for shift, rows, suffix in ((0, "1:", "_all"), (-1, ":-1", "_prev_all")):
            leaf = ir.var(lhs.name, lhs.shape, lhs.kind, shift)
            steps = tape.format(rows=rows)
            bulk.view(leaf, py_name(lhs.name) + suffix, f"{steps}.reshape(T * batch_size, {size_code(lhs)})", steps)
    for node, tape in saved.items():
        bulk.view(
            node,
            tape.replace("tape_", "") + "_all",
            f"{tape}[1:].reshape(T * batch_size, {size_code(node)})",
            f"{tape}[1:]",
        )
    return bulk


def bulk_into(bulk: Bulk, target: str, node: Node, out: list[str]):
    """``target[...] = node`` over all steps, in place: no step-sized temporaries.

    A product's plain factors (tape views) multiply in directly; a compound one (``1 - o``,
    ``1 - s ⊙ s``) is built in the scratch buffer first.
    """

    def plain(n: Node) -> bool:
        return n in bulk.names or n in bulk.views or n in bulk.steps or n.op in ("var", "broadcast")

    def line(text: str):
        out.append("    " + text)

    if node.op == "one_minus" and plain(node.args[0]):
        line(f"np.subtract(1, {bulk.elementwise(node.args[0])}, out={target})")
        return
    if node.op == "one_minus":
        bulk_into(bulk, target, node.args[0], out)
        line(f"np.subtract(1, {target}, out={target})")
        return
    parts = product_factors(node)
    if len(parts) == 1 and node.op in _UFUNCS and all(plain(a) and a.batched for a in node.args):
        a, b = (bulk.elementwise(arg) for arg in node.args)
        line(f"{_UFUNCS[node.op]}({a}, {b}, out={target})")
        return
    if len(parts) == 1:
        line(f"{target}[...] = {bulk.elementwise(node)}")
        return
    simple = [f for f in parts if plain(f)]
    compound = [f for f in parts if not plain(f)]
    if compound:
        bulk_into(bulk, target, compound[0], out)
        for factor in compound[1:]:
            bulk_into(bulk, "scratch", factor, out)
            line(f"np.multiply({target}, scratch, out={target})")
    else:
        line(f"np.multiply({bulk.elementwise(simple[0])}, {bulk.elementwise(simple[1])}, out={target})")
        simple = simple[2:]
    for factor in simple:  # (``x[k] *= y`` would index x twice and assign back)
        line(f"np.multiply({target}, {bulk.elementwise(factor)}, out={target})")
