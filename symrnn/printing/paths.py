"""Which term of a δ recursion comes from which path: one term per use of the value.

``derive`` sums, for each value v, the VJP share of every equation that uses v_t at step t,
then — for a state — the shares of the equations of step t+1 that use it as s_{(t+1)-1}.
This module recomputes those shares one by one, in the same order and with the same
simplification, so a document can write each term next to the equation it flows back from.
``tests/test_export.py`` checks that the terms add up to the derivation's own δ equations.
"""

from __future__ import annotations

from dataclasses import dataclass

from symrnn import ir
from symrnn.ir import Node
from symrnn.rules import vjp
from symrnn.simplify import simplify


@dataclass(frozen=True)
class Term:
    """One share of δv: ``expr``, flowing back through the forward equation ``source``."""

    source: str  # the left-hand name of the forward equation the path goes through
    carry: bool  # True: the path goes through step t+1 (``source`` at t+1 uses v_t as v_{t-1})
    expr: Node


def loss_block(d) -> set[str]:
    """Forward names the derivation replaces by the closed-form seed δ(logits) (ŷ and L)."""
    return {d.prediction, "L"} if d.logits != d.prediction else {"L"}


def _shares(d):
    """(source, leaf, share) for every non-zero VJP share of every forward equation outside the loss block."""
    skip = loss_block(d)
    for eq in d.forward:
        if eq.lhs.name in skip:
            continue
        for leaf, share in vjp(eq.rhs, ir.grad(eq.lhs), out=eq.lhs).items():
            share = simplify(share)
            if share.op != "zeros":
                yield eq.lhs.name, leaf, share


def term_paths(d) -> dict[str, list[Term]]:
    """For every value with a δ recursion (except the loss seed): its terms, same-step uses first."""
    local: dict[str, list[Term]] = {}
    carry: dict[str, list[Term]] = {}
    for source, leaf, share in _shares(d):
        if leaf.kind == ir.STATE and leaf.shift == -1:
            carry.setdefault(leaf.name, []).append(Term(source, True, ir.shift_time(share, +1)))
        elif leaf.kind in (ir.VALUE, ir.STATE):
            local.setdefault(leaf.name, []).append(Term(source, False, share))
    skip = loss_block(d)
    names = {eq.lhs.name for eq in d.forward if eq.lhs.name not in skip and eq.lhs.name != d.logits}
    given = {s: [Term(UPSTREAM_SOURCE, False, delta)] for s, delta in d.upstream.items()}
    return {
        name: given.get(name, []) + local.get(name, []) + carry.get(name, []) for name in sorted(names, key=_order(d))
    }


def input_term_paths(d) -> dict[str, list[Term]]:
    """For every input x: the terms of δx_t, one per equation of step t that reads x_t, in equation order."""
    out: dict[str, list[Term]] = {name: [] for name in d.cell.inputs}
    for source, leaf, share in _shares(d):
        if leaf.kind == ir.INPUT_KIND and leaf.name in out:
            out[leaf.name].append(Term(source, False, share))
    return out


UPSTREAM_SOURCE = ""  # the source of a term Δ_t given from outside the cell (loss "upstream")


def _order(d):
    position = {eq.lhs.name: i for i, eq in enumerate(d.forward)}
    return lambda name: position[name]


def uses_of(d, name: str) -> list[str]:
    """Left-hand names of the forward equations whose right-hand side mentions the symbol ``name``."""
    return [eq.lhs.name for eq in d.forward if any(leaf.name == name for leaf in ir.leaves(eq.rhs))]
