"""Letters below a name that label it rather than give its step: ``w_k`` of the output unit k.

The grammar reads a single letter below a name as a step (``h_t``). In a note whose cell runs over
another letter, a letter that only ever sits alone below a few names (``\\hat y = w_k^\\top y_T +
b_k`` in Hochreiter & Schmidhuber's adding problem) names one unit: those names are parameters with
a label, not values at a step k nothing binds. The rule is narrow on purpose; where any use of the
letter could be a step (an offset, a sum over it, the letter alone, a name seen at other steps) the
tree is left as read.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

from .tree import Prod, Sum, Symbol, map_subtrees


def label_letters(trees: list) -> frozenset[str]:
    """The step letters of ``trees`` that are labels (see the module docstring)."""
    steps: Counter = Counter()
    recurrent: set[str] = set()  # letters seen with an offset (h_{t-1}): the cell's steps
    names_at: dict[str, set] = {}
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Symbol) and node.time is not None and node.time.var is not None:
                steps[node.time.var] += 1
                if node.time.offset:
                    recurrent.add(node.time.var)
    if len(steps) < 2 or not recurrent:
        return frozenset()
    main = max(sorted(recurrent), key=lambda v: steps[v])
    candidates = {v for v in steps if v != main and len(v) == 1 and v.islower()}
    spoiled: set[str] = set()
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Sum | Prod) and node.index is not None:
                spoiled.add(node.index.name)
            if not isinstance(node, Symbol):
                continue
            if node.time is None and not node.sub and not node.sup:
                spoiled.add(node.name)  # the letter alone (t < k, a sum limit)
            time = node.time
            names_at.setdefault(_name(node), set()).add(None if time is None else (time.var, time.offset, time.terms))
            if time is not None and time.var in candidates and (time.offset or time.terms or node.sub):
                spoiled.add(time.var)
    for times in names_at.values():
        labelled = {t[0] for t in times if t is not None and t[0] in candidates}
        if labelled and len(times) > 1:
            spoiled |= labelled  # w_k beside w_t or a bare w: k may be a step after all
    return frozenset(sorted(candidates - spoiled))


def relabel(node, letters: frozenset[str]):
    """``node`` with every ``w_k`` (k in ``letters``) read as the name w with the label k."""
    if not letters:
        return node
    if isinstance(node, Symbol):
        if node.time is not None and node.time.var in letters:
            return dataclasses.replace(node, sub=node.time.var, time=None)
        return node
    if isinstance(node, tuple):
        return tuple(relabel(n, letters) for n in node)
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return node
    return map_subtrees(node, lambda child: relabel(child, letters))


def walk(node):
    """Every tree node below ``node`` (itself included), parents first."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            stack.extend(reversed(n))
        elif dataclasses.is_dataclass(n) and not isinstance(n, type):
            yield n
            stack.extend(reversed([getattr(n, f.name) for f in dataclasses.fields(n)]))


def _name(node: Symbol) -> tuple:
    return (node.name, node.accents, node.sub, node.sup, node.primes)
