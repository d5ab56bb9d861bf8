"""Matching two canonical forms: block constraints, the sparse linear solve, the search over matchings."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import sympy

from symrnn.equivalence.canonical import Block, Mono, Term, _Canonical, _collect, _mono_mul
from symrnn.ir import Node

# ---------------------------------------------------------------- matching


@dataclass(frozen=True)
class _Constraint:
    """Σ c·B-block = Σ c·A-block for one term type, in the equation ``where``."""

    where: str
    key: tuple  # (outer, kind, inner)
    b_side: tuple  # ((coef, Block), ...)
    a_side: tuple


class _Translator:
    """Rewrite B's monomials in A's atoms under a matching."""

    def __init__(self, states: dict[str, str], inputs: dict[str, str], atoms: dict[tuple, tuple[tuple, bool]]):
        self.states, self.inputs, self.atoms = states, inputs, atoms

    def factor(self, key) -> dict[Mono, Fraction]:
        kind, name = key
        if kind == "x":
            return {(("x", self.inputs[name]),): Fraction(1)}
        if kind == "s":
            return {(("s", self.states[name]),): Fraction(1)}
        a_key, flipped = self.atoms[key]
        if flipped:
            return {(): Fraction(1), (a_key,): Fraction(-1)}
        return {(a_key,): Fraction(1)}

    def mono(self, mono: Mono) -> dict[Mono, Fraction]:
        poly = {(): Fraction(1)}
        for key in mono:
            f = self.factor(key)
            out: dict[Mono, Fraction] = {}
            for m1, c1 in poly.items():
                for m2, c2 in f.items():
                    m = _mono_mul(m1, m2)
                    out[m] = out.get(m, Fraction(0)) + c1 * c2
            poly = {m: c for m, c in out.items() if c != 0}
        return poly

    def terms(self, terms: list[Term]) -> list[Term]:
        out = []
        for t in terms:
            for mo, co in self.mono(t.outer).items():
                for mi, ci in self.mono(t.inner).items():
                    c = t.coef * co * ci
                    if t.kind == "diag":
                        out.append(Term(c, (), t.block, "diag", _mono_mul(mo, mi)))
                    else:
                        out.append(Term(c, mo, t.block, t.kind, mi))
        return _collect(out)


def _match(a_terms, b_terms, sign: int, where: str, namer) -> tuple[list[_Constraint], list[str]]:
    """Constraints for B = sign·A term by term, and the structural differences found."""
    groups: dict[tuple, tuple[list, list]] = {}
    for side, terms, k in ((1, b_terms, 1), (0, a_terms, sign)):
        for t in terms:
            key = (t.outer, t.kind, t.inner)
            groups.setdefault(key, ([], []))[side].append((t.coef * k, t.block))
    constraints, problems = [], []
    for key, (a_side, b_side) in groups.items():
        if key[1] is None:  # a term without parameters: the coefficients themselves must agree
            ca = sum((c for c, _ in a_side), Fraction(0))
            cb = sum((c for c, _ in b_side), Fraction(0))
            if ca != cb:
                problems.append(
                    f"{where}: the term {namer.term(Term(Fraction(1), key[0]))} has coefficient {cb} in B and {ca} in A"
                )
            continue
        if not a_side or not b_side:
            has, lacks = ("A", "B") if a_side else ("B", "A")
            blocks = a_side or b_side
            params = namer.a.params if a_side else namer.b_params
            shown = " + ".join(namer.term(Term(c, key[0], b, key[1], key[2]), params) for c, b in blocks)
            problems.append(f"{where}: {has} has {shown}, {lacks} has no term of that form")
        constraints.append(_Constraint(where, key, tuple(b_side), tuple(a_side)))
    return constraints, problems


def _solve(constraints: list[_Constraint], unknown: str, *, best_effort=False, pair=False, namer=None):
    """Unknown blocks (side "b" or "a") as combinations of the other side's blocks.

    Returns (assignment, problems): assignment maps each unknown block to a dict
    known block → coefficient.  A constraint left with several unknowns is a
    free choice (redundant biases): with ``pair`` and as many known blocks,
    they are paired in order (b_ih = b_ih'); otherwise the first takes the whole
    sum and the others are zero (b_ih = b, b_hh = 0).
    """
    pick = (lambda c: (c.b_side, c.a_side)) if unknown == "b" else (lambda c: (c.a_side, c.b_side))
    assign: dict[Block, dict[Block, Fraction]] = {}
    problems: list[str] = []

    def residual(con, skip=None):
        unknowns, knowns = pick(con)
        acc: dict[Block, Fraction] = {}
        for c, blk in knowns:
            acc[blk] = acc.get(blk, Fraction(0)) + c
        for c, u in unknowns:
            if u is skip:
                continue
            for blk, k in assign.get(u, {}).items():
                acc[blk] = acc.get(blk, Fraction(0)) - c * k
        return {b: k for b, k in acc.items() if k != 0}

    pending = list(constraints)
    while True:
        progress = False
        for con in pending:
            free = [(c, u) for c, u in pick(con)[0] if u not in assign]
            if len(free) == 1:
                c, u = free[0]
                assign[u] = {b: k / c for b, k in residual(con, skip=u).items()}
                progress = True
        if progress:
            continue
        several = next((con for con in pending if sum(u not in assign for _, u in pick(con)[0]) > 1), None)
        if several is None:
            break
        unknowns, knowns = pick(several)
        if pair and len(unknowns) == len(knowns) and all(u not in assign for _, u in unknowns):
            for (cu, u), (ck, k) in zip(unknowns, knowns, strict=True):
                assign[u] = {k: ck / cu}
            continue
        for _, u in [(c, u) for c, u in unknowns if u not in assign][1:]:
            assign[u] = {}
    for con in constraints:
        left = residual(con)
        if left and not best_effort:
            problems.append(f"{con.where}: {_constraint_text(con, namer)} cannot hold for every choice of parameters")
        for _, u in pick(con)[0]:
            for blk in assign.get(u, {}):
                if any(sympy.expand(p - q) != 0 for p, q in zip(u.shape, blk.shape, strict=True)):
                    problems.append(f"{con.where}: block {u.param} and {blk.param} have different shapes")
    return assign, problems


def _constraint_text(con: _Constraint, namer) -> str:
    if namer is None:
        return "a term's coefficients"
    outer, kind, inner = con.key

    def side(blocks, params):
        return " + ".join(namer.term(Term(c, outer, b, kind, inner), params) for c, b in blocks) or "0"

    return f"B's {side(con.b_side, namer.b_params)} = A's {side(con.a_side, namer.a.params)}"


class _Namer:
    """Readable text of monomials and terms in A's names."""

    def __init__(self, a: _Canonical, b: _Canonical):
        self.a, self.b_params = a, b.params

    def factor(self, key) -> str:
        kind, name = key
        if kind == "x":
            return f"{name}[t]"
        if kind == "s":
            return f"{name}[t-1]"
        return self.a.atom_name(key)

    def mono(self, mono: Mono) -> str:
        return " ⊙ ".join(self.factor(k) for k in mono) or "1"

    def term(self, t: Term, params=None) -> str:
        c = "" if t.coef == 1 else "-" if t.coef == -1 else f"{t.coef}·"
        if t.block is None:
            return c + self.mono(t.outer)
        blk = _block_text(t.block, params or self.a.params)
        if t.kind == "diag":
            body = blk if not t.inner else f"{blk} ⊙ {self.mono(t.inner)}"
        else:
            inner = self.mono(t.inner)
            body = f"{blk} {inner if len(t.inner) < 2 else '(' + inner + ')'}"
        if t.outer:
            body = f"{self.mono(t.outer)} ⊙ ({body})"
        return c + body


def _range_text(r, full) -> str:
    if r[0] == 0 and sympy.expand(r[1] - full) == 0:
        return ":"
    return f"{r[0]}:{r[1]}"


def _block_text(b: Block, params: dict[str, Node]) -> str:
    node = params[b.param]
    rows = _range_text(b.rows, node.shape[0])
    cols = _range_text(b.cols, node.shape[1])
    if node.is_column:
        return b.param if rows == ":" else f"{b.param}[{rows}]"
    if rows == ":" and cols == ":":
        return b.param
    return f"{b.param}[{rows}, {cols}]"


# ---------------------------------------------------------------- search


@dataclass
class _Failure:
    depth: int
    message: str
    states: dict
    atoms: dict
    constraints: list


@dataclass
class _Match:
    states: dict[str, str]
    atoms: dict[tuple, tuple[tuple, bool]]
    constraints: list[_Constraint]
    forward: dict  # B blocks from A's
    backward: dict  # A blocks from B's


def _state_maps(a: _Canonical, b: _Canonical):
    """Bijections B-state → A-state of equal shapes, most natural first."""
    if len(a.states) != len(b.states):
        return []
    maps = []
    for perm in itertools.permutations(a.states):
        pairs = dict(zip(b.states, perm, strict=True))
        if all(a.cell.states[pa].shape == b.cell.states[pb].shape for pb, pa in pairs.items()):
            cost = (sum(pb != pa for pb, pa in pairs.items()), list(perm) != a.states)
            maps.append((cost, pairs))
    return [m for _, m in sorted(maps, key=lambda cm: cm[0])]


def _search(a: _Canonical, b: _Canonical, states: dict[str, str], inputs: dict[str, str]):
    namer = _Namer(a, b)
    best: list[_Failure] = []

    def fail(depth, message, atoms, constraints):
        if not best or depth > best[0].depth:
            best[:] = [_Failure(depth, message, dict(states), dict(atoms), list(constraints))]

    def candidates(k, atom, used):
        same = [x for x in a.atoms if x.function == atom.function and x.key not in used]
        rank = {x.key: i for i, x in enumerate(y for y in a.atoms if y.function == atom.function)}
        position = sum(1 for y in b.atoms[:k] if y.function == atom.function)
        return sorted(same, key=lambda x: (x.name != atom.name, rank[x.key] != position, rank[x.key]))

    def finish(atoms, constraints):
        tr = _Translator(states, inputs, atoms)
        cons, problems = list(constraints), []
        for sb, sa in states.items():
            c, p = _match(a.state_terms[sa], tr.terms(b.state_terms[sb]), 1, f"state {sb} (B) ↔ {sa} (A)", namer)
            cons += c
            problems += p
        c, p = _match(a.readout_terms, tr.terms(b.readout_terms), 1, "readout ȳ", namer)
        cons += c
        problems += p
        for pair in (True, False):
            if problems:
                break
            fwd, p1 = _solve(cons, "b", pair=pair, namer=namer)
            bwd, p2 = _solve(cons, "a", pair=pair, namer=namer)
            if not p1 + p2:
                return _Match(dict(states), dict(atoms), cons, _coalesce(fwd), _coalesce(bwd))
            if not pair:
                problems = p1 + p2
        fail(len(b.atoms), problems[0], atoms, cons)
        return None

    def rec(k, atoms, constraints):
        if k == len(b.atoms):
            return finish(atoms, constraints)
        atom = b.atoms[k]
        used = {v[0] for v in atoms.values()}
        tried = False
        for cand in candidates(k, atom, used):
            for flipped in (False, True) if atom.function == "sigmoid" else (False,):
                tried = True
                trial = {**atoms, atom.key: (cand.key, flipped)}
                tr = _Translator(states, inputs, atoms)
                label = f"{atom.name} (B) ↔ {'1 - ' if flipped else ''}{cand.name} (A)"
                cons, problems = _match(cand.terms, tr.terms(atom.terms), -1 if flipped else 1, label, namer)
                if not problems:
                    problems = _solve(cons, "b", namer=namer)[1] + _solve(cons, "a", namer=namer)[1]
                if problems:
                    fail(k, problems[0], trial, constraints + cons)
                    continue
                found = rec(k + 1, trial, constraints + cons)
                if found:
                    return found
        if not tried:
            fail(k, f"{atom.name} (B): no unmatched {atom.function} in A", atoms, constraints)
        return None

    return rec(0, {}, []), (best[0] if best else None)


def _coalesce(assign: dict) -> dict:
    """Merge adjacent blocks copied from adjacent blocks: [W[:, :H] | W[:, H:]] is W."""
    items = list(assign.items())

    def same(p, q):
        return sympy.expand(p - q) == 0

    def merge(t1, c1, t2, c2):
        if t1.param != t2.param or len(c1) != len(c2) or len(c1) > 1:
            return None
        if c1:
            ((s1, k1),) = c1.items()
            ((s2, k2),) = c2.items()
            if k1 != k2 or s1.param != s2.param:
                return None
        for axis in ("cols", "rows"):
            other = "rows" if axis == "cols" else "cols"
            r1, r2 = getattr(t1, axis), getattr(t2, axis)
            if getattr(t1, other) != getattr(t2, other) or not same(r1[1], r2[0]):
                continue
            target = Block(t1.param, **{axis: (r1[0], r2[1]), other: getattr(t1, other)})
            if not c1:
                return target, {}
            q1, q2 = getattr(s1, axis), getattr(s2, axis)
            if getattr(s1, other) == getattr(s2, other) and same(q1[1], q2[0]):
                return target, {Block(s1.param, **{axis: (q1[0], q2[1]), other: getattr(s1, other)}): k1}
        return None

    changed = True
    while changed:
        changed = False
        for (i, (t1, c1)), (j, (t2, c2)) in itertools.permutations(enumerate(items), 2):
            merged = merge(t1, c1, t2, c2)
            if merged:
                items[i] = merged
                del items[j]
                changed = True
                break
    return dict(items)
