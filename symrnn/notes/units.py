"""Scalar index notation, checked unit by unit: ``s_k(t) = \\sum_{l \\in U \\cup I} w_{kl} z_l(t)``.

Notes in the style of Williams & Zipser (1989), Haykin or Gers et al. (2000) write every
quantity per unit: letters in sub- and superscripts (k of ``y_k(t)``, ij of ``w_{ij}``,
j of ``y^{c_j}(t)``) name units, sums run over index sets (``\\sum_{l \\in U}``,
``\\sum_m``), ``\\delta_{ik}`` is Kronecker's and a ``cases`` environment picks a value
by the set an index belongs to.  Such a note is rewritten here, before anything else
reads it, into the same equations at concrete units: each index set gets a few labels
(sets joined by ``\\cup`` are disjoint; ``C \\subseteq B`` takes a proper part of B), a
definition is written once per unit it defines, a sum becomes the sum of its terms, and a
claim with free unit letters becomes one claim stacking every instance (it holds only if
every instance holds).  Every value is then a number, and the rest of the checker (the
note's program, reverse mode, the judge) works unchanged.

Which letters are units: the index of a sum over a set or without limits that names it in a
sub- or superscript of its body, and, in such a note, every single letter among ``i j k l m
q r`` so written.  A letter that is the note's step (``t`` of ``y_k(t)``) never is.  The set
a free letter runs over is its stated condition (``k \\in T``), else what the values it
indexes are defined for (found by propagating the sets of sums and cases through the
definitions); a letter nothing constrains gets a set of its own.
"""

from __future__ import annotations

import dataclasses
import itertools
import re

from .tree import (
    Add,
    Apply,
    Cases,
    Concat,
    Derivative,
    Equation,
    EquationList,
    Func,
    Number,
    Power,
    Product,
    Sum,
    Symbol,
    TimeIndex,
    Tuple,
    children,
    walk,
)

# Letters that name units when a note writes them in sub- and superscripts.
UNIT_LETTERS = frozenset("ijklmqr")
# Letters a note applies to a unit's net input as its activation: f_k(s_k(t)), f'_{in_j}(…).
FUNCTION_LETTERS = frozenset({"f", "g", "h", "phi", "varphi", "psi", "sigma"})
FIRST_SIZE, OTHER_SIZE = 3, 2  # labels of the first index set, of every other one
MAX_INSTANCES = 200  # a claim with more unit combinations than this is left as written
_SUBSET = re.compile(
    r"(\\mathcal\s*\{\s*[A-Za-z]\s*\}|(?<![\\A-Za-z])[A-Z])(?:\s*\(\s*t\s*\))?\s*\\subseteq?(?![A-Za-z])\s*"
    r"(\\mathcal\s*\{\s*[A-Za-z]\s*\}|(?<![\\A-Za-z])[A-Z])"
)


def expand_units(equations: list, source: str) -> list:
    """The note's equations at concrete units, or the equations unchanged for a note in vector notation.

    Args:
        equations: the note's ParsedEquations, in order.
        source: the note's text (for ``C \\subseteq B`` written in prose).

    Returns:
        ParsedEquations: a definition once per unit it defines, a claim as one stacked claim.
    """
    steps = _step_letters(equations)
    letters = _index_letters(equations, steps)
    if not letters:
        return equations
    plan = _Plan(letters, steps, source)
    trees = [_normal(p.tree, plan) for p in equations]
    plan.learn(trees)
    out = []
    for parsed, tree in zip(equations, trees, strict=True):
        out.extend(dataclasses.replace(parsed, tree=t) for t in plan.expand(tree, parsed.prose is not None))
    return out


# ---------------------------------------------------------------- which letters are units


def _step_letters(equations) -> frozenset:
    """Letters that name steps: t and τ, the step of ``y_k(t)``, any letter with an offset (``h_{n-1}``),
    and a letter written where another value writes its step (k of ``h_k`` beside ``h_t``)."""
    out = {"t", "tau", "T"}
    timed: list[Symbol] = []
    for p in equations:
        for node in walk(p.tree):
            if isinstance(node, Symbol) and node.time is not None and node.time.var:
                timed.append(node)
                time = node.time
                if time.terms:
                    out.update(letter for _, letter in time.terms)
                elif time.style not in ("sub", "sup") or time.offset:
                    out.add(time.var)
    for _ in range(2):
        names = {s.name for s in timed if s.time.var in out and s.time.style in ("sub", "sup")}
        out.update(s.time.var for s in timed if s.name in names and not s.time.terms)
    return frozenset(out)


def _pieces(text: str | None) -> list[str]:
    """The pieces of a script: ``c_j m`` → c, j, m; ``kl`` → k, l (only when every letter is a unit letter)."""
    if not text:
        return []
    out = []
    for piece in re.split(r"[_\s,]+", text):
        if len(piece) > 1 and all(c in UNIT_LETTERS for c in piece):
            out.extend(piece)
        elif piece:
            out.append(piece)
    return out


def _script_letters(node: Symbol) -> set[str]:
    found = set(_pieces(node.sub)) | set(_pieces(node.sup))
    if node.time is not None and node.time.style in ("sub", "sup") and node.time.var and not node.time.terms:
        found.add(node.time.var)
    return found


def _index_letters(equations, steps) -> frozenset:
    """Letters used as unit indices: a sum's index over a set (or without limits) that its body writes in a script."""
    bound = set()
    for p in equations:
        eqs = p.tree.equations if isinstance(p.tree, EquationList) else (p.tree,)
        for eq in eqs:
            if (
                isinstance(eq, Equation)
                and isinstance(eq.lhs, Symbol)
                and _script_letters(eq.lhs) & UNIT_LETTERS - steps
            ):
                bound |= _unit_sums(eq.rhs, steps)  # s_k(t) = Σ_l …: a value per unit, summed over units
    if not bound:
        return frozenset()
    return frozenset(bound | (UNIT_LETTERS - steps))


def _unit_sums(tree, steps) -> set:
    """Letters of the sums in ``tree`` over a set or without limits that its body writes in a script."""
    bound = set()
    for node in walk(tree):
        if not isinstance(node, Sum) or node.index is None or node.lower is not None or node.upper is not None:
            continue
        letter = node.index.name
        if letter in steps or node.index.sub or node.index.sup:
            continue
        if any(isinstance(s, Symbol) and letter in _script_letters(s) for s in walk(node.body)):
            bound.add(letter)
    return bound


# ---------------------------------------------------------------- normal form


def _normal(tree, plan: _Plan):
    """Scalar readings the parser cannot know: ``f_k(s)`` is f applied, ``e_j^2(n)`` is e_j(n) squared."""
    if isinstance(tree, Product) and tree.op == "juxt":
        left, right = _normal(tree.left, plan), _normal(tree.right, plan)
        if isinstance(left, Symbol) and left.name in FUNCTION_LETTERS and _unit_script(left, plan):
            return Apply(Func(left.name, left.primes), (right,), span=tree.span)
        if (
            isinstance(left, Power)
            and isinstance(left.base, Symbol)
            and _unit_script(left.base, plan)
            and isinstance(right, Symbol)
            and right.name in plan.steps
            and not (right.sub or right.sup or right.time)
        ):
            base = left.base
            moved = dataclasses.replace(base, sub=base.sub or base.time.var, time=TimeIndex(right.name, style="call"))
            return Power(moved, left.exponent, span=tree.span)
        return dataclasses.replace(tree, left=left, right=right)
    if not hasattr(tree, "__dataclass_fields__"):
        return tree
    changes = {}
    for f in dataclasses.fields(tree):
        value = getattr(tree, f.name)
        if hasattr(value, "span") and not isinstance(value, Symbol):
            changes[f.name] = _normal(value, plan)
        elif isinstance(value, tuple) and value and hasattr(value[0], "span"):
            changes[f.name] = tuple(_normal(v, plan) for v in value)
        elif isinstance(value, tuple) and value and isinstance(value[0], tuple):
            changes[f.name] = tuple(tuple(_normal(v, plan) for v in row) for row in value)
    return dataclasses.replace(tree, **changes) if changes else tree


def _unit_script(symbol: Symbol, plan: _Plan) -> bool:
    t = symbol.time
    if t is not None and t.style in ("sub", "sup") and t.var in plan.letters and not t.terms and not t.offset:
        return True
    return any(p in plan.letters for p in _pieces(symbol.sub) + _pieces(symbol.sup)) or (
        symbol.primes > 0 and symbol.time is None and not symbol.sub
    )


# ---------------------------------------------------------------- index sets and their labels


def _set_name(node) -> tuple | None:
    if isinstance(node, Apply) and isinstance(node.func, Symbol):
        node = node.func
    if isinstance(node, Symbol) and node.name[:1].isupper() and not node.sub and not node.sup:
        return (node.name, node.font)
    return None


class _Plan:
    """The index sets of one note, their labels, and where each value is defined."""

    def __init__(self, letters: frozenset, steps: frozenset, source: str):
        self.letters, self.steps = letters, steps
        self.subsets: dict[tuple, tuple] = {}
        for m in _SUBSET.finditer(source):
            self.subsets[_spelled(m.group(1))] = _spelled(m.group(2))
        self.sets: dict[tuple, tuple[int, ...]] = {}
        self.domain: dict[tuple, set] = {}  # (family, position) → labels it is defined or given for
        self._next = 1
        self.defined: set = set()  # families a definition has written, in note order

    # -- sets
    def labels(self, node) -> tuple[int, ...] | None:
        """The labels of a set expression (U, \\mathcal{A} \\cup \\mathcal{B}, T(t))."""
        if isinstance(node, Product) and node.op in ("cup", "cap"):
            a, b = self.labels(node.left), self.labels(node.right)
            if a is None or b is None:
                return None
            if node.op == "cup":
                return tuple(sorted(set(a) | set(b)))
            return tuple(sorted(set(a) & set(b)))
        name = _set_name(node)
        if name is None:
            return None
        return self._base(name)

    def _base(self, name: tuple) -> tuple[int, ...]:
        if name not in self.sets:
            if name in self.subsets and self.subsets[name] != name:
                whole = self._base(self.subsets[name])
                self.sets[name] = whole[: max(1, len(whole) - 1)]
            else:
                self.sets[name] = self._fresh(FIRST_SIZE if not self.sets else OTHER_SIZE)
        return self.sets[name]

    def _fresh(self, size: int) -> tuple[int, ...]:
        out = tuple(range(self._next, self._next + size))
        self._next += size
        return out

    def own_set(self, letter: str) -> tuple[int, ...]:
        return self._base(("letter " + letter, None))

    # -- families
    def family(self, symbol: Symbol) -> tuple[tuple, list[str]]:
        """(the symbol with its unit letters blanked, the unit letters in order)."""
        letters = []

        def blank(text):
            if not text:
                return text, []
            pieces = _pieces(text)
            found = [p for p in pieces if p in self.letters]
            if not found:
                return text, []
            return ",".join("#" if p in self.letters else p for p in pieces), found

        sub, a = blank(symbol.sub)
        sup, b = blank(symbol.sup)
        letters = a + b
        time = symbol.time
        if time is not None and time.style in ("sub", "sup") and time.var in self.letters and not time.terms:
            letters.append(time.var)
            time = None
        fam = (symbol.name, symbol.accents, sub, sup, symbol.primes, time is not None)
        return fam, letters

    def concrete(self, symbol: Symbol, env: dict) -> Symbol:
        if not any(p in self.letters for p in _script_letters(symbol)):
            return symbol

        def fill(text):
            pieces = _pieces(text)
            if not any(p in self.letters for p in pieces):
                return text
            return ",".join(str(env.get(p, p)) if p in self.letters else p for p in pieces)

        sub, sup, time = fill(symbol.sub), fill(symbol.sup), symbol.time
        if time is not None and time.style in ("sub", "sup") and time.var in self.letters and not time.terms:
            label = str(env.get(time.var, time.var))
            if time.style == "sub":
                sub = label if not sub else sub + "," + label
            else:
                sup = label if not sup else sup + "," + label
            time = None
        return dataclasses.replace(symbol, sub=sub, sup=sup, time=time)

    # -- learning where values are defined
    def learn(self, trees) -> None:
        for _ in range(4):
            before = {k: set(v) for k, v in self.domain.items()}
            for tree in trees:
                for eq, conditions in _equations(tree, self):
                    self._learn(eq, conditions)
            if before == self.domain:
                return

    def _learn(self, eq: Equation, conditions: dict) -> None:
        ranges = dict(conditions)
        self._uses(eq, ranges)
        lhs = eq.lhs
        if isinstance(lhs, Symbol):
            fam, letters = self.family(lhs)
            for position, letter in enumerate(letters):
                rng = ranges.get(letter) or self._known(fam, position)
                if rng is None:
                    rng = self._free_range(letter, eq.rhs)
                if rng is not None:
                    self._add(fam, position, rng)
                    ranges.setdefault(letter, rng)
        self._uses(eq, ranges)

    def _uses(self, node, ranges: dict) -> None:
        if isinstance(node, Sum) and node.index is not None and node.index.name in self.letters:
            rng = self.labels(node.over) if node.over is not None else None
            inner = (
                {**ranges, node.index.name: rng} if rng else {k: v for k, v in ranges.items() if k != node.index.name}
            )
            self._uses(node.body, inner)
            return
        if isinstance(node, Cases):
            for value, condition in node.rows:
                rows = dict(ranges)
                c = _condition(condition, self)
                if c:
                    rows.update(c)
                self._uses(value, rows)
            return
        if isinstance(node, Symbol):
            fam, letters = self.family(node)
            for position, letter in enumerate(letters):
                if ranges.get(letter):
                    self._add(fam, position, ranges[letter])
            return
        for child in children(node):
            self._uses(child, ranges)

    def _add(self, fam, position, labels) -> None:
        self.domain.setdefault((fam, position), set()).update(labels)

    def _known(self, fam, position):
        labels = self.domain.get((fam, position))
        return tuple(sorted(labels)) if labels else None

    def _lhs_range(self, lhs, letter: str) -> tuple | None:
        """The units a definition's left side is defined for, at the position of ``letter``."""
        if not isinstance(lhs, Symbol):
            return None
        fam, letters = self.family(lhs)
        found = [self._known(fam, position) for position, used in enumerate(letters) if used == letter]
        return found[0] if found and found[0] else None

    def _free_range(self, letter: str, tree) -> tuple | None:
        """The labels a free letter can take: what every value it indexes in ``tree`` is defined for."""
        found = None
        for node in _outside_sums(tree, cases=False):
            if isinstance(node, Symbol):
                fam, letters = self.family(node)
                for position, used in enumerate(letters):
                    if used == letter:
                        known = self._known(fam, position)
                        if known is not None:
                            found = set(known) if found is None else found & set(known)
        return tuple(sorted(found)) if found else None

    # -- expansion
    def expand(self, tree, prose: bool) -> list:
        if prose:
            return [tree]
        pairs = _equations(tree, self)
        if len(pairs) != 1:
            return [tree]
        eq, conditions = pairs[0]
        free = [x for x in _free_letters(eq, self)]
        if not free and not _has_unit_sum(eq, self):
            return [tree] if not conditions else [eq]
        ranges = []
        for letter in free:
            rng = conditions.get(letter) or self._lhs_range(eq.lhs, letter)
            if rng is None:
                rng = self._free_range(letter, eq) or self.own_set(letter)
            ranges.append(rng)
        combos = list(itertools.product(*ranges))
        if len(combos) > MAX_INSTANCES:
            return [tree]
        instances = []
        for combo in combos:
            env = dict(zip(free, combo, strict=True))
            if not self._defined_at(eq, env):
                continue
            lhs, rhs = self.at(eq.lhs, env), self.at(eq.rhs, env)
            if rhs is None:
                continue  # a cases value with no row for this unit: not defined there
            instances.append((lhs, rhs))
        if not instances:
            return [tree]
        if self._defines(eq):
            return [Equation((a, b), eq.ops[:1], span=eq.span) for a, b in instances]
        if len(instances) == 1:
            return [Equation(instances[0], eq.ops[:1], span=eq.span)]
        return [
            Equation(
                (Concat(tuple(a for a, _ in instances), ";"), Concat(tuple(b for _, b in instances), ";")),
                eq.ops[:1],
                span=eq.span,
            )
        ]

    def _defines(self, eq: Equation) -> bool:
        """A definition written per unit (each instance its own equation), not a claim to stack.

        The first equation for a value defines it (so does ``p^k_{ij}(t) = \\partial y_k(t) / \\partial w_{ij}``,
        a name for a derivative); a later one for the same value is a claim about it.
        """
        lhs = eq.lhs
        if not isinstance(lhs, Symbol):
            return False
        fam = self.family(lhs)[0]
        if fam in self.defined:
            return False
        if isinstance(eq.rhs, Derivative) or not any(isinstance(n, Derivative) for n in walk(eq.rhs)):
            self.defined.add(fam)
            return True
        return False

    def _defined_at(self, eq: Equation, env: dict) -> bool:
        """Does every value the equation names (outside its sums) exist at these units?"""
        for node in _outside_sums(eq, cases=False):
            if isinstance(node, Symbol):
                fam, letters = self.family(node)
                for position, letter in enumerate(letters):
                    known = self._known(fam, position)
                    if letter in env and known is not None and env[letter] not in known:
                        return False
        return True

    def at(self, node, env: dict):
        """``node`` with the unit letters of ``env`` made concrete, its unit sums written out."""
        if isinstance(node, Symbol):
            if node.name == "delta" and node.time is None and not node.sup:
                pieces = _pieces(node.sub)
                if len(pieces) == 2 and all(p in self.letters for p in pieces) and all(p in env for p in pieces):
                    return Number("1" if env[pieces[0]] == env[pieces[1]] else "0", span=node.span)
            return self.concrete(node, env)
        if isinstance(node, Sum) and node.index is not None and node.index.name in self.letters:
            letter = node.index.name
            rng = self.labels(node.over) if node.over is not None else None
            if rng is None:
                rng = self._free_range(letter, node.body) or self.own_set(letter)
            terms = [self.at(node.body, {**env, letter: label}) for label in rng]
            terms = [t for t in terms if t is not None]
            out = terms[0]
            for t in terms[1:]:
                out = Add(out, t, span=node.span)
            return out
        if isinstance(node, Cases):
            for value, condition in node.rows:
                c = _condition(condition, self)
                if c is None or all(env.get(letter) in labels for letter, labels in c.items() if letter in env):
                    return self.at(value, env)
            return None
        if not hasattr(node, "__dataclass_fields__"):
            return node
        changes = {}
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            if hasattr(value, "span"):
                changes[f.name] = self.at(value, env)
            elif isinstance(value, tuple) and value and hasattr(value[0], "span"):
                changes[f.name] = tuple(self.at(v, env) for v in value)
            elif isinstance(value, tuple) and value and isinstance(value[0], tuple):
                changes[f.name] = tuple(tuple(self.at(v, env) for v in row) for row in value)
        if any(v is None for v in changes.values()):
            return None
        return dataclasses.replace(node, **changes) if changes else node


def _spelled(text: str) -> tuple:
    m = re.fullmatch(r"\\mathcal\s*\{\s*([A-Za-z])\s*\}", text)
    return (m.group(1), "cal") if m else (text, None)


def _condition(node, plan: _Plan) -> dict | None:
    """``k \\in T(t)`` → {k: labels}; a row without one (``\\text{otherwise}``) → None."""
    if isinstance(node, Equation) and node.ops == ("in",):
        letters = node.lhs.items if isinstance(node.lhs, Tuple) else (node.lhs,)
        labels = plan.labels(node.rhs)
        if labels is not None and all(isinstance(x, Symbol) and x.name in plan.letters for x in letters):
            return {x.name: labels for x in letters}
    return None


def _equations(tree, plan: _Plan) -> list[tuple[Equation, dict]]:
    """The equations of a tree with the sets of the conditions written after them (``…, \\quad k \\in T``)."""
    if isinstance(tree, Equation):
        return [(tree, {})]
    if not isinstance(tree, EquationList):
        return []
    eqs = list(tree.equations)
    conditions: list[Equation] = []
    while len(eqs) > 1 and eqs[-1].ops == ("in",):
        conditions.insert(0, eqs.pop())
    if len(eqs) != 1 or not conditions:
        return [(e, {}) for e in tree.equations if e.ops != ("in",)]
    eq = eqs[0]
    extra = []
    # "…, i, j \in B": the letters before j were read into the right side's tuple.
    if isinstance(eq.rhs, Tuple) and len(eq.rhs.items) > 1:
        items = list(eq.rhs.items)
        while len(items) > 1 and _bare_letter(items[-1], plan):
            extra.insert(0, items.pop())
        if extra:
            rhs = items[0] if len(items) == 1 else Tuple(tuple(items), span=eq.rhs.span)
            eq = Equation((*eq.sides[:-1], rhs), eq.ops, span=eq.span)
    ranges: dict = {}
    for c in conditions:
        found = _condition(c, plan)
        if found is None:
            return [(eq, {})]
        ranges.update(found)
    first = _condition(conditions[0], plan)
    for x in extra:
        ranges[x.name] = next(iter(first.values()))
    return [(eq, ranges)]


def _bare_letter(node, plan: _Plan) -> bool:
    return isinstance(node, Symbol) and node.name in plan.letters and node == Symbol(node.name)


def _free_letters(eq: Equation, plan: _Plan) -> list[str]:
    out: list[str] = []
    for node in _outside_sums(eq):
        if isinstance(node, Symbol):
            if node.name == "delta" and not node.time:
                letters = [p for p in _pieces(node.sub) if p in plan.letters]
            else:
                letters = plan.family(node)[1]
            for letter in letters:
                if letter not in out:
                    out.append(letter)
    return out


def _outside_sums(node, cases: bool = True):
    """Every node not under a sum over units (a sum over steps is looked into), nor in a case (if not ``cases``)."""
    yield node
    if isinstance(node, Cases) and not cases:
        return
    if isinstance(node, Sum) and node.lower is None and node.upper is None and node.index is not None:
        bound = node.index.name
        for child in walk(node.body):
            if isinstance(child, Symbol) and bound in _script_letters(child):
                continue
            if isinstance(child, Symbol):
                yield child
        return
    for child in children(node):
        yield from _outside_sums(child, cases)


def _has_unit_sum(eq, plan: _Plan) -> bool:
    return any(isinstance(n, Sum) and n.index is not None and n.index.name in plan.letters for n in walk(eq))


__all__ = ["expand_units"]
