"""Scalar index notation: ``net_j(t) = \\sum_i w_{ji} x_i(t) + \\sum_l w_{jl} s_l(t-1)`` read as entries.

Notes written unit by unit (Rumelhart et al. 1986, Mikolov 2012, Hochreiter & Schmidhuber
1997, Graves 2012) name one entry of a vector or matrix by letters below or above its name.
A *unit letter* is one the note sums over without step limits (``\\sum_i``, ``\\sum_{k=1}^{K}``)
or uses as the index of a bracket (``[W x]_j``), and never as a step (no offset, no sum to T).
A label made only of unit letters (``ji``), of a block name and unit letters (``hj`` of
Mikolov's e_{hj}), or of block-indexed tokens (``in_j u``, ``c_j c_l``) names an entry:
``s_j(t)`` is Entry(s(t), (j,)), ``u_{ji}`` is Entry(u_{,}, (j, i)) (a matrix: its label keeps
one comma per extra index, so it never meets a vector of the same letter), ``w_{in_j u}`` is
Entry(w_{in,}, (j, u)), and ``y^{c_j}(t)`` is Entry(y^{c}(t), (j,)).  The program builds a
vector defined unit by unit one entry per unit, a sum over a unit letter runs over the units of
the dimension it indexes, and a claim with a free unit letter is checked for every unit.

The rewrite is applied only to a note one of whose forward equations defines an entry; every
other note is read as before.
"""

from __future__ import annotations

import dataclasses

from .tree import Apply, Entry, Func, Number, Product, Sum, Symbol, TimeIndex, children, map_subtrees, walk

# Letters that count steps (a sum to one of them runs over steps, not units).
STEP_LIMITS = frozenset({"T", "N", "t", "tau"})


def _is_letter(node) -> bool:
    return isinstance(node, Symbol) and not node.sub and not node.sup and node.time is None and not node.accents


def _unit_sum(node: Sum, steps: set[str]) -> bool:
    """Σ_i, Σ_{k=1}^{K}: a sum over units (no limits, or 1 to a size letter)."""
    if node.index is None or not _is_letter(node.index) or len(node.index.name) != 1:
        return False
    if node.index.primes or node.index.name in steps:
        return False
    if node.lower is None and node.upper is None:
        return True
    lower_one = isinstance(node.lower, Number) and node.lower.text == "1"
    return lower_one and _is_letter(node.upper) and node.upper.name not in STEP_LIMITS


def unit_letters(trees: list, forward: list) -> frozenset[str]:
    """The unit letters of a note (see the module docstring); empty unless a forward lhs is an entry.

    Args:
        trees: every equation of the note.
        forward: the trees of its forward definitions.
    """
    steps: set[str] = set()
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Symbol) and node.time is not None and node.time.var is not None:
                if node.time.offset or node.time.terms or node.time.style in ("call", "paren", "angle"):
                    steps.add(node.time.var)
            if isinstance(node, Sum) and node.index is not None and node.upper is not None:
                if _is_letter(node.upper) and node.upper.name in STEP_LIMITS:
                    steps.add(node.index.name)
    letters: set[str] = set()
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Sum) and _unit_sum(node, steps):
                letters.add(node.index.name)
            if isinstance(node, Entry) and not isinstance(node.operand, Symbol):
                letters.update(i.name for i in node.indices if _is_letter(i) and len(i.name) == 1)
    letters -= steps
    if not letters:
        return frozenset()
    for tree in forward:
        lhs = tree.lhs
        if isinstance(lhs, Symbol) and _indices_of(lhs, letters) is not None:
            return frozenset(letters)
    return frozenset()


def split_label(label: str | None, letters: frozenset[str]) -> tuple[str | None, tuple[str, ...]] | None:
    """(block signature, unit letters) of a label that names an entry, else None.

    ``ji`` → (",", (j, i)); ``hj`` → ("h", (j,)); ``in_j u`` → ("in,", (j, u));
    ``c_j c_l`` → ("c,c", (j, l)); ``k`` → (None, (k,)).
    """
    if not label:
        return None
    tokens = label.replace(",", " ").split()
    blocks: list[str] = []
    indices: list[str] = []
    if len(tokens) == 1 and "_" not in tokens[0]:
        token = tokens[0]
        if all(ch in letters for ch in token):
            blocks, indices = [""] * len(token), list(token)
        elif len(token) > 1 and token[-1] in letters and not any(ch in letters for ch in token[:-1]):
            blocks, indices = [token[:-1]], [token[-1]]  # e_{hj}: the hidden-layer error of unit j
        else:
            return None
    else:
        for token in tokens:
            if "_" in token:
                block, _, index = token.partition("_")
                if index not in letters or not block:
                    return None
                blocks.append(block)
                indices.append(index)
            elif token in letters:
                blocks.append("")
                indices.append(token)
            else:
                return None
    signature = ",".join(blocks)
    return (signature or None), tuple(indices)


def _indices_of(symbol: Symbol, letters: frozenset[str]):
    """(the family's symbol, its index letters) when ``symbol`` names an entry, else None."""
    sub, sup, time = symbol.sub, symbol.sup, symbol.time
    if time is not None and time.var in letters and not time.offset and not time.terms:
        if time.style == "sub" and not sub:
            sub, time = time.var, None  # f_k, z_j: the letter below names a unit, not a step
        elif time.style == "sup" and not sup:
            sup, time = time.var, None
        else:
            return None
    found = []
    labels = {"sub": sub, "sup": sup}
    for slot in ("sub", "sup"):
        split = split_label(labels[slot], letters)
        if split is not None:
            labels[slot] = split[0]
            found.extend(split[1])
    if not found:
        return None
    family = dataclasses.replace(symbol, sub=labels["sub"], sup=labels["sup"], time=time)
    return family, tuple(found)


def _family_key(family: Symbol) -> tuple:
    return (family.name, family.accents, family.sub, family.sup, family.primes)


def other_units(forward: list, letters: frozenset[str]) -> frozenset[tuple]:
    """(family, letters) pairs that name another set of units than the family's definition.

    Hochreiter & Schmidhuber's y^u is the activation of any unit u: y^k(t) (the outputs) and
    y^m(t) (the inputs) are different units of one letter.  A family read under other letters
    than its definition's, at the same step, where its definition depends on that very use
    (y^k(t) from y^{c_j}(t) from … from y^m(t)), can only be another set of units; Mikolov's
    s_l(t-1) beside s_j(t), or Σ_i s_i(t) elsewhere, stay the same vector.
    """
    defined: dict[tuple, tuple] = {}
    uses: dict[tuple, list] = {}
    for tree in forward:
        found = _indices_of(tree.lhs, letters) if isinstance(tree.lhs, Symbol) else None
        if found is None:
            continue
        family, own = found
        k = _family_key(family)
        defined.setdefault(k, own)
        for node in walk(tree.rhs):
            if isinstance(node, Symbol) and (node.time is None or not node.time.offset):
                used = _indices_of(node, letters)
                if used is not None:
                    uses.setdefault(k, []).append((_family_key(used[0]), used[1]))

    def reaches(start: tuple, goal: tuple) -> bool:
        seen, stack = set(), [start]
        while stack:
            k = stack.pop()
            if k == goal:
                return True
            if k in seen:
                continue
            seen.add(k)
            stack.extend(f for f, _ in uses.get(k, ()))
        return False

    out = set()
    for k, used in uses.items():
        for family, indices in used:
            if family in defined and indices != defined[family] and reaches(family, k):
                out.add((family, indices))
    return frozenset(out)


def to_entries(node, letters: frozenset[str], others: frozenset[tuple] = frozenset(), reserved=frozenset()):
    """``node`` with every symbol naming an entry (by ``letters``) written as an Entry.

    A pair of ``others`` (see other_units) keeps its letters as a label of its own: y^m(t) is
    Entry(y^{m}(t), (m,)), not an entry of the y^k(t) the note defines; so does a family whose
    bare name is a letter of ``reserved`` (the target t^k(t) beside the step t).
    """
    if not letters:
        return node
    if isinstance(node, Symbol):
        found = _indices_of(node, letters)
        if found is None:
            return node
        family, indices = found
        plain = not family.sub and not family.sup and not family.accents
        if (_family_key(family), indices) in others or (plain and family.name in reserved):
            slot = "sup" if node.sup and not family.sup else "sub"
            family = dataclasses.replace(family, **{slot: "".join(indices)})
        return Entry(family, tuple(Symbol(i, span=node.span) for i in indices), span=node.span)
    if isinstance(node, tuple):
        return tuple(to_entries(n, letters, others, reserved) for n in node)
    if not dataclasses.is_dataclass(node) or isinstance(node, type | TimeIndex):
        return node
    new = map_subtrees(node, lambda n: to_entries(n, letters, others, reserved))
    if isinstance(node, Sum) and new is not node and new.index is not node.index:
        new = dataclasses.replace(new, index=node.index)  # the letter a sum runs over stays a letter
    return new


# Letters notes use for functions; with a label (f_{in_j}, f_k) each is a function of its own.
FUNCTION_LETTERS = frozenset({"f", "g", "h", "phi", "varphi", "psi", "theta"})


def pinned_functions(function_trees: list, known: frozenset[str], trees: list = (), defined=frozenset()) -> dict:
    """Labelled function letters → the function each is (``f_{in_j} = f_k = \\sigma``).

    A labelled letter the note does not pin, written before a factor (``f_{in_j}(net_{in_j}(t))``)
    and never defined, maps to a name of its own (``f_in``), which the program does not evaluate:
    claims that need it are unchecked, never read as a product with a random parameter.
    """
    out = {}
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Product) and node.op == "juxt":
                factors = _factors(node)
                for f in factors[:-1]:
                    if (
                        isinstance(f, Symbol)
                        and f.name in FUNCTION_LETTERS
                        and (f.sub or f.sup or f.time is not None)
                        and _family_key(dataclasses.replace(f, primes=0)) not in defined
                    ):
                        label = "".join(ch for ch in (f.sub or f.sup or str(f.time.var)) if ch.isalnum())
                        out.setdefault(dataclasses.replace(f, primes=0), f"{f.name}_{label}")
    for tree in function_trees:
        for side in tree.sides[:-1]:
            if isinstance(side, Symbol) and side.name in FUNCTION_LETTERS and side == Symbol(side.name):
                out.setdefault(side, side.name)  # g = 2\\tanh, h = \\tanh: the letter g applied (the model pins it)
        last = tree.sides[-1]
        if not (isinstance(last, Func) and last.name in known and not last.primes):
            continue
        for side in tree.sides[:-1]:
            if isinstance(side, Symbol) and (side.sub or side.sup or side.time is not None):
                out[dataclasses.replace(side, primes=0)] = last.name  # pinned: overrides the name of its own
    return out


def formula_letters(items, identity_kind: str, defined) -> set[str]:
    """Plain letters (h) a note uses as functions: primed (h'(s)), or defined as ``h x = …`` of a letter x."""
    out = set()
    for item in items:
        tree = item.tree
        for node in walk(tree):
            if isinstance(node, Symbol) and node.name in FUNCTION_LETTERS and node.primes:
                if dataclasses.replace(node, primes=0) == Symbol(node.name):
                    out.add(node.name)
        if item.kind == identity_kind and hasattr(tree, "lhs"):
            lhs = tree.lhs
            if (
                isinstance(lhs, Product)
                and lhs.op == "juxt"
                and isinstance(lhs.left, Symbol)
                and isinstance(lhs.right, Symbol)
            ):
                if (
                    lhs.left == Symbol(lhs.left.name)
                    and lhs.left.name in FUNCTION_LETTERS
                    and lhs.right == Symbol(lhs.right.name)
                ):
                    out.add(lhs.left.name)
    return {x for x in out if (x, (), None, None, 0) not in defined}


def apply_functions(node, pinned: dict):
    """``f_{in_j}(net_{in_j}(t))`` read as a product: the pinned function applied to what follows it."""
    if not pinned:
        return node
    if isinstance(node, Product) and node.op == "juxt":
        factors = _factors(node)
        if any(isinstance(f, Symbol) and dataclasses.replace(f, primes=0) in pinned for f in factors[:-1]):
            out, i = [], 0
            while i < len(factors):
                f = factors[i]
                if isinstance(f, Symbol) and dataclasses.replace(f, primes=0) in pinned and i + 1 < len(factors):
                    name = pinned[dataclasses.replace(f, primes=0)]
                    out.append(Apply(Func(name, f.primes), (apply_functions(factors[i + 1], pinned),), span=f.span))
                    i += 2
                    continue
                out.append(apply_functions(f, pinned))
                i += 1
            result = out[0]
            for f in out[1:]:
                result = Product("juxt", result, f, span=node.span)
            return result
    if isinstance(node, tuple):
        return tuple(apply_functions(n, pinned) for n in node)
    if not dataclasses.is_dataclass(node) or isinstance(node, type | TimeIndex):
        return node
    return map_subtrees(node, lambda n: apply_functions(n, pinned))


def _factors(node) -> list:
    if isinstance(node, Product) and node.op == "juxt":
        return _factors(node.left) + _factors(node.right)
    return [node]


def index_letters(node) -> tuple[str, ...]:
    """The unit letters an Entry's indices are (empty when one is not a plain letter)."""
    if not isinstance(node, Entry) or not all(_is_letter(i) for i in node.indices):
        return ()
    return tuple(i.name for i in node.indices)


def unit_positions(tree, letter: str) -> list[tuple[Entry, int]]:
    """(entry, position) of every place ``letter`` indexes an entry in ``tree``, outside sums that rebind it."""
    out: list[tuple[Entry, int]] = []

    def visit(node):
        if isinstance(node, Sum) and node.index is not None and node.index.name == letter:
            return
        if isinstance(node, Entry):
            for position, index in enumerate(node.indices):
                if _is_letter(index) and index.name == letter:
                    out.append((node, position))
        for child in children(node):
            visit(child)

    visit(tree)
    return out


def free_units(tree, letters) -> list[str]:
    """Unit letters a claim leaves free (not bound by a sum over them), in order of use."""
    out: list[str] = []

    def visit(node, bound: frozenset):
        if isinstance(node, Sum) and node.index is not None:
            bound = bound | {node.index.name}
        if isinstance(node, Entry):
            for i in node.indices:
                if _is_letter(i) and i.name in letters and i.name not in bound and i.name not in out:
                    out.append(i.name)
        for child in children(node):
            visit(child, bound)

    visit(tree, frozenset())
    return out


__all__ = [
    "free_units",
    "index_letters",
    "other_units",
    "pinned_functions",
    "apply_functions",
    "split_label",
    "to_entries",
    "unit_letters",
    "unit_positions",
]
