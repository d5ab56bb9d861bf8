"""Rewrites of the per-step δs: inline single-use δs, hoist forward-only factors over all steps."""

from __future__ import annotations

from symrnn import ir
from symrnn.codegen.emitter import Emitter
from symrnn.codegen.plan import product_factors, sum_of, terms
from symrnn.ir import Node


def inline_single_use(targets, carry_roots, keep: set[str]):
    """Substitute each δ read exactly once (and not kept on a tape) into its reader.

    ``δf = δc ⊙ c_{t-1}`` read only by ``δf̄ = δf ⊙ f ⊙ (1 - f)`` becomes one product, whose
    forward-only factors :func:`hoist_factors` can then compute for all steps at once.
    """
    exprs = dict(targets)
    reads: dict[str, int] = {}
    for root in [*exprs.values(), *(r for r in carry_roots.values() if r is not None)]:
        for leaf in _all_leaves(root):
            if leaf.kind == ir.GRAD and leaf.batched:
                reads[leaf.name] = reads.get(leaf.name, 0) + 1
    inline = {name for name in exprs if reads.get(name) == 1 and name not in keep}
    mapping: dict[Node, Node] = {}
    out = []
    for name, rhs in targets:  # δs come before their readers
        rhs = ir.substitute(rhs, mapping) if mapping else rhs
        if name in inline:
            mapping[ir.var(name, rhs.shape, ir.GRAD, 0)] = rhs
        else:
            out.append((name, rhs))
    carries = {s: r if r is None or not mapping else ir.substitute(r, mapping) for s, r in carry_roots.items()}
    return out, carries


def _all_leaves(node: Node) -> list[Node]:
    """Every var occurrence (with repeats), to count how often a δ is read."""
    if node.op == "var":
        return [node]
    return [leaf for arg in node.args for leaf in _all_leaves(arg)]


def _step_dependent(node: Node) -> bool:
    """Whether a δ factor reads something computed in the backward loop (a δ or a carry)."""
    return any(leaf.kind in (ir.GRAD, "opt") for leaf in ir.leaves(node))


def hoist_factors(rhs: Node, factors: list, emitter: Emitter, taped: set[Node] = frozenset()) -> Node:
    """In each term ``δ ⊙ a ⊙ b ⊙ …``, the forward-only ``a ⊙ b ⊙ …`` computed for all steps at once.

    The backward loop then does one multiplication per term (the baseline's trick of
    precomputed derivative factors, derived: any product with one step-dependent factor).
    A lone factor already on a tape (``taped``, e.g. a saved ``1 - z``) stays as it is.
    """
    out = []
    for term in terms(rhs):
        parts = product_factors(term)
        moving = [f for f in parts if _step_dependent(f)]
        still = [f for f in parts if not _step_dependent(f)]
        worth = len(still) > 1 or (
            len(still) == 1 and still[0].op not in ("var", "broadcast") and still[0] not in taped
        )
        if len(moving) != 1 or not worth:
            out.append(term)
            continue
        product = still[0]
        for f in still[1:]:
            product = product * f
        known = next((p for p, prod in factors if prod == product), None)
        if known is None:
            known = ir.var(f"factor{len(factors)}", product.shape, "opt", 0)
            emitter.names[known] = f"F{len(factors)}[t]"
            factors.append((known, product))
        out.append(moving[0] * known)
    return sum_of(out)


def placeholder(like: Node, emitter: Emitter, code: str) -> Node:
    """A leaf standing for code the emitter already has (a hoisted δ, a carry, a stacked product)."""
    node = ir.var(f"opt{len(emitter.names)}", like.shape, "opt", 0)
    emitter.names[node] = code
    return node


def reads_step_grads(term: Node, readout_names: set[str]) -> bool:
    """Whether a δ term reads a δ computed inside the backward loop."""
    return any(leaf.kind == ir.GRAD and leaf.name not in readout_names for leaf in ir.leaves(term))
