"""Gates that multiply one operand by different weights become one product with the stacked weights.

An IR rewrite for the layer's step code: ``W_hf h, W_hi h, W_hg h, W_ho h`` are rows of
``[W_hf; W_hi; W_hg; W_ho] h`` (one product, its row blocks sliced), and the carry's
``W_hfᵀ δf̄ + W_hiᵀ δī + …`` is ``[W_hf; …]ᵀ [δf̄; δī; …]`` — the same sums in another order,
one product instead of four.  The stacked weights are parameters of their own (``Wstack<j>``)
that the driver builds once per call (:data:`STACKS` in the generated module names the rows).
"""

from __future__ import annotations

from dataclasses import dataclass

from symrnn import ir
from symrnn.ir import Node


@dataclass(frozen=True)
class Group:
    """Weights that multiply one operand; ``stacked`` is the parameter [W_1; W_2; …]."""

    operand: Node
    weights: tuple[Node, ...]
    stacked: Node

    def offsets(self) -> list[tuple]:
        out, start = [], 0
        for w in self.weights:
            out.append((start, start + w.shape[0]))
            start = start + w.shape[0]
        return out


def find_groups(roots: list[Node], named: set[Node], avoid: set[Node]) -> list[Group]:
    """Products ``W @ s`` (W a parameter, s batched) that share s, in first-visit order.

    The walk does not enter ``named`` nodes (computed elsewhere) and no product inside a node
    of ``avoid`` (values saved for the backward pass keep their own form) is grouped.
    """
    inside_avoid: set[Node] = set()
    for node in avoid:
        inside_avoid.update(ir.postorder(node))
    by_operand: dict[Node, dict[Node, None]] = {}
    seen: set[Node] = set()
    stack = list(reversed(roots))
    order: list[Node] = []
    while stack:
        node = stack.pop()
        if node in seen or node in named:
            continue
        seen.add(node)
        order.append(node)
        stack.extend(reversed(node.args))
    for node in order:
        if node.op != "matmul" or node in inside_avoid:
            continue
        w, s = node.args
        if w.op == "var" and w.kind == ir.PARAM and s.batched and s.is_column:
            by_operand.setdefault(s, {}).setdefault(w)
    groups = []
    for s, weights in by_operand.items():
        if len(weights) >= 2:
            ws = tuple(weights)
            rows = sum((w.shape[0] for w in ws), start=ir.ONE - 1)
            stacked = ir.var(f"Wstack{len(groups)}", (rows, ws[0].shape[1]), ir.PARAM)
            groups.append(Group(s, ws, stacked))
    return groups


def forward_mapping(groups: list[Group]) -> dict[Node, Node]:
    """``W_k @ s`` → rows of ``Wstack @ s``."""
    mapping = {}
    for g in groups:
        product = ir.matmul(g.stacked, g.operand)
        for w, (start, stop) in zip(g.weights, g.offsets(), strict=True):
            mapping[ir.matmul(w, g.operand)] = ir.rows(product, start, stop)
    return mapping


def _terms(node: Node) -> list[Node]:
    return _terms(node.args[0]) + _terms(node.args[1]) if node.op == "add" else [node]


def stack_carry(root: Node, groups: list[Group]) -> Node:
    """``Σ_k W_kᵀ g_k`` (every weight of a group, once) in ``root`` → ``Wstackᵀ [g_1; …]``."""
    terms = _terms(root)
    for g in groups:
        found: dict[Node, int] = {}
        for i, term in enumerate(terms):
            if term.op == "matmul" and term.args[0].op == "transpose" and term.args[0].args[0] in g.weights:
                w = term.args[0].args[0]
                if w in found or term.args[1].shape[0] != w.shape[0]:
                    found = {}
                    break
                found[w] = i
        if len(found) != len(g.weights):
            continue
        cotangents = [terms[found[w]].args[1] for w in g.weights]
        product = ir.matmul(ir.transpose(g.stacked), ir.concat(*cotangents))
        used = set(found.values())
        terms = [product] + [t for i, t in enumerate(terms) if i not in used]
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out
