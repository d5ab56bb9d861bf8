"""Equivalence of cells: the same step function under a renaming and regrouping of parameters.

``compare(a, b)`` decides whether cells A and B compute the same one-step map
(s_{t-1}, x_t) → (s_t, ȳ_t), the new states and the readout logits, for a
suitable choice of B's parameters given A's, and of A's given B's.

**Canonical form.**  Each cell's equations are inlined into one expression per
state and one for the logits.  Every element-wise nonlinearity φ(·) is an
*atom* (a gate); every expression is a sum of terms

    c · m ⊙ (S n)      or      c · S ⊙ n      or      c · m

with c a rational number, m and n products of atoms, x_t and s_{t-1}, and S a
*block* of one parameter: the whole matrix, a column block of a matrix acting
on a concatenation (W [h; x] = W[:, :H] h + W[:, H:] x, the block identity
[A, B][C; D] = AC + BD) or a row block of a stacked matrix.  ``S n`` is a
matrix product, ``S ⊙ n`` an element-wise one (a bias when n = 1, a peephole
otherwise).

**The family searched.**  States are matched one to one (same name first, then
same position, then any order), inputs by position, and atoms one to one with
the same function, in an order that tries equal names first.  A σ gate may be
*complemented*: γ_B = 1 − γ_A with pre-activation a_B = −a_A, since
1 − σ(a) = σ(−a) (so W → −W, b → −b).  Given such a matching, both sides are
rewritten in A's atoms and grouped by term type (m, kind, n); two cells agree
exactly when, for every type, B's blocks sum to A's (the types are linearly
independent functions for generic inputs).  That is a sparse linear system
between blocks, solved both ways: B's blocks as combinations of A's
(``mapping``) and A's as combinations of B's (``inverse_mapping``).  It covers
renamings, gate permutations, column/row block splits, sign changes and merged
biases (b = b_ih + b_hh; the other way a free choice, b_ih = b, b_hh = 0).

**Verification.**  A mapping found is checked numerically both ways in float64
(several sizes, random parameters, states and inputs): the one-step maps must
agree within 1e-10.  So ``equivalent`` is sound; it is complete only within the
family above (for example a tanh gate with flipped sign, tanh(−a) = −tanh(a),
or a reparametrisation that is not linear in blocks, is reported as a
difference).  When cells differ, ``first_difference`` names the equation or
state of the closest matching, and ``witness`` gives parameters, inputs and the
two different outputs under that matching's best-effort mapping.

    >>> r = compare("gru", "gru-cho")
    >>> r.equivalent, r.value_mapping["z"], r.mapping["W_z"]
    (True, '1 - z', '-W_xz')
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import sympy

from symrnn import ir
from symrnn.cellspec import Cell
from symrnn.evaluate import FLOAT64, Evaluator, concrete_size
from symrnn.ir import Node

TOLERANCE = 1e-10
SIZES = ({"hidden_size": 2, "input_size": 3, "output_size": 2}, {"hidden_size": 3, "input_size": 2, "output_size": 4})


class OutsideFamily(ValueError):
    """A cell whose equations use an operation ``compare`` does not normalise."""


# ---------------------------------------------------------------- canonical form

Mono = tuple  # sorted tuple of atom keys: ("x", name), ("s", state), ("g", index)


@dataclass(frozen=True)
class Block:
    """Rows and columns of one parameter (half-open ranges of size expressions)."""

    param: str
    rows: tuple
    cols: tuple

    @property
    def shape(self):
        return (sympy.expand(self.rows[1] - self.rows[0]), sympy.expand(self.cols[1] - self.cols[0]))


@dataclass(frozen=True)
class Term:
    """coef · outer ⊙ (block inner) for kind "mat", coef · block ⊙ inner for "diag", coef · outer without a block."""

    coef: Fraction
    outer: Mono = ()
    block: Block | None = None
    kind: str | None = None
    inner: Mono = ()

    @property
    def key(self):
        return (self.outer, self.block, self.kind, self.inner)


def _mono_mul(a: Mono, b: Mono) -> Mono:
    return tuple(sorted(a + b))


def _collect(terms) -> list[Term]:
    """Merge terms of one key, dropping zeros; first-seen order."""
    sums: dict = {}
    for t in terms:
        sums[t.key] = sums.get(t.key, Fraction(0)) + t.coef
    return [Term(c, *k) for k, c in sums.items() if c != 0]


def _coef(value) -> Fraction:
    value = sympy.nsimplify(value)
    if not value.is_Rational:
        raise OutsideFamily(f"symbolic coefficient {value}")
    return Fraction(int(value.p), int(value.q))


@dataclass
class _Atom:
    key: tuple
    function: str
    terms: list[Term]
    name: str


class _Canonical:
    """A cell's step as canonical terms: atoms (gates), new states and logits."""

    def __init__(self, cell: Cell, fixed: set[str]):
        self.cell = cell
        self.fixed = fixed
        self.atoms: list[_Atom] = []
        self._atom_of: dict[Node, tuple] = {}
        self._memo: dict[Node, list[Term]] = {}
        self.inputs = list(cell.inputs)
        self.states = list(cell.states)
        self.params = cell.all_params()
        env: dict[Node, Node] = {
            node: ir.zeros(node.shape, batched=False) for name, node in self.params.items() if name in fixed
        }
        labels: dict[Node, str] = {}
        self.inlined: dict[str, Node] = {}
        for lhs, rhs in cell.equations:
            for sub in ir.postorder(rhs):
                if sub.op == "apply":
                    arg = sub.args[0]
                    labels.setdefault(
                        ir.substitute(sub, env), f"{sub.attrs[0]}({arg.name if arg.op == 'var' else '·'})"
                    )
            value = ir.substitute(rhs, env)
            if value.op == "apply":
                labels[value] = lhs.name
            env[lhs] = value
            self.inlined[lhs.name] = value
        self._labels = labels
        try:
            for lhs, _ in cell.equations:  # atoms numbered in the order the cell writes them
                self.terms(self.inlined[lhs.name])
            self.state_terms = {s: self.terms(self.inlined[s]) for s in self.states}
            self.readout_terms = self.terms(self._logits(env))
        except OutsideFamily as e:
            raise OutsideFamily(f"cell {cell.name}: {e}") from None

    def _logits(self, env) -> Node:
        cell = self.cell
        s = env[ir.var(cell.readout_state, cell.states[cell.readout_state].shape, ir.STATE, 0)]
        out = s
        if cell.readout_weight and cell.readout_weight not in self.fixed:
            out = ir.matmul(self.params[cell.readout_weight], s)
        elif cell.readout_weight:
            out = ir.zeros((ir.OUTPUT, 1))
        if cell.readout_bias and cell.readout_bias not in self.fixed:
            out = ir.add(out, self.params[cell.readout_bias])
        return out

    # -------------------------------------------------------- linearisation
    def terms(self, node: Node) -> list[Term]:
        if node not in self._memo:
            self._memo[node] = _collect(self._terms(node))
        return self._memo[node]

    def _terms(self, node: Node) -> list[Term]:
        op = node.op
        if op == "var":
            if node.kind == ir.INPUT_KIND:
                return [Term(Fraction(1), (("x", node.name),))]
            if node.kind == ir.STATE and node.shift == -1:
                return [Term(Fraction(1), (("s", node.name),))]
            if node.kind == ir.PARAM:
                return [Term(c, (), b, "diag", ()) for c, b in self.blocks(node)]
            raise OutsideFamily(f"unexpected symbol {node.name}")
        if op == "zeros":
            return []
        if op == "broadcast":
            return [Term(c, (), b, "diag", ()) for c, b in self.blocks(node.args[0])]
        if op == "add":
            return self.terms(node.args[0]) + self.terms(node.args[1])
        if op == "sub":
            return self.terms(node.args[0]) + _scaled(self.terms(node.args[1]), Fraction(-1))
        if op == "scale":
            return _scaled(self.terms(node.args[0]), _coef(node.attrs[0]))
        if op == "one_minus":
            return [Term(Fraction(1))] + _scaled(self.terms(node.args[0]), Fraction(-1))
        if op == "mul":
            return _product(self.terms(node.args[0]), self.terms(node.args[1]))
        if op == "matmul":
            return self._matmul(*node.args)
        if op == "apply":
            return [Term(Fraction(1), (self.atom(node),))]
        raise OutsideFamily(f"operation {op} in {node!r}")

    def _matmul(self, a: Node, b: Node) -> list[Term]:
        if a.batched or not b.batched:
            raise OutsideFamily(f"product {a!r} @ {b!r} is not a parameter times a vector")
        parts = b.args if b.op == "concat" else (b,)
        out, offset = [], sympy.Integer(0)
        for part in parts:
            size = part.shape[0]
            for c, blk in self.blocks(a):
                start = blk.cols[0] + offset
                sub = Block(blk.param, blk.rows, (sympy.expand(start), sympy.expand(start + size)))
                for t in self.terms(part):
                    if t.block is not None:
                        raise OutsideFamily(f"product of two parameters in {a!r} @ {b!r}")
                    out.append(Term(c * t.coef, (), sub, "mat", t.outer))
            offset = offset + size
        return out

    def blocks(self, node: Node) -> list[tuple[Fraction, Block]]:
        """A shared (parameter-only) expression as signed blocks of parameters."""
        if node.op == "var" and node.kind == ir.PARAM:
            if node.name in self.fixed:
                return []
            return [
                (Fraction(1), Block(node.name, (sympy.Integer(0), node.shape[0]), (sympy.Integer(0), node.shape[1])))
            ]
        if node.op == "zeros":
            return []
        if node.op == "rows":
            start, stop = node.attrs
            return [
                (c, Block(b.param, (sympy.expand(b.rows[0] + start), sympy.expand(b.rows[0] + stop)), b.cols))
                for c, b in self.blocks(node.args[0])
            ]
        if node.op == "scale":
            k = _coef(node.attrs[0])
            return [(k * c, b) for c, b in self.blocks(node.args[0])]
        if node.op in ("add", "sub"):
            sign = Fraction(1 if node.op == "add" else -1)
            return self.blocks(node.args[0]) + [(sign * c, b) for c, b in self.blocks(node.args[1])]
        raise OutsideFamily(f"parameter expression {node!r}")

    def atom(self, node: Node) -> tuple:
        if node not in self._atom_of:
            terms = self.terms(node.args[0])  # inner atoms first: keys are in topological order
            key = ("g", len(self.atoms))
            self.atoms.append(_Atom(key, node.attrs[0], terms, self._labels.get(node, node.attrs[0])))
            self._atom_of[node] = key
        return self._atom_of[node]

    def atom_name(self, key) -> str:
        return self.atoms[key[1]].name


def _scaled(terms, k: Fraction) -> list[Term]:
    return [Term(t.coef * k, t.outer, t.block, t.kind, t.inner) for t in terms]


def _product(left: list[Term], right: list[Term]) -> list[Term]:
    out = []
    for a, b in itertools.product(left, right):
        if a.block is not None and b.block is not None:
            raise OutsideFamily("element-wise product of two parameter terms")
        if b.block is not None:
            a, b = b, a
        c = a.coef * b.coef
        if a.block is None:
            out.append(Term(c, _mono_mul(a.outer, b.outer)))
        elif a.kind == "diag":  # S ⊙ n ⊙ m = S ⊙ (n m)
            out.append(Term(c, (), a.block, "diag", _mono_mul(a.inner, b.outer)))
        else:
            out.append(Term(c, _mono_mul(a.outer, b.outer), a.block, "mat", a.inner))
    return out


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


# ---------------------------------------------------------------- numbers


def _size(expr, sizes) -> int:
    """A size expression (``hidden_size + input_size``) at concrete sizes."""
    return concrete_size(expr, sizes)


def step(cell: Cell, params: dict, states: dict, x, fixed=(), sizes=None) -> dict:
    """One step of ``cell`` on numbers: the new states and the logits ("y_bar").

    Args:
        params: math layout, biases as (n, 1) columns (``fixed`` names may be absent: zero).
        states: s_{t-1} by state name, arrays (size, batch).
        x: the input x_t, (input_size, batch).
        sizes: ``{"hidden_size": …, …}`` (default: solved from the parameters' shapes).

    Returns:
        The new states and ``"y_bar"``, each (size, batch), evaluated on :mod:`symrnn.evaluate`.
    """
    all_params = cell.all_params()
    sizes = sizes or _sizes_from(all_params, params)
    x = np.asarray(x, dtype=float)

    def columns(a):  # (size, batch) → the evaluator's (batch, size, 1)
        return np.asarray(a, dtype=float).T[..., None]

    env: dict[Node, np.ndarray] = {}
    for name, node in all_params.items():
        shape = tuple(_size(d, sizes) for d in node.shape)
        env[node] = np.zeros(shape) if name in fixed else np.asarray(params[name], dtype=float)
    env.update({node: columns(states[name]) for name, node in cell.states.items()})
    env.update({node: columns(x) for node in cell.inputs.values()})
    ev = Evaluator(FLOAT64, sizes, env, batch=x.shape[1])
    new_states = {}
    for lhs, rhs in cell.equations:
        env[lhs] = ev.value(rhs)
        if lhs.name in cell.states:
            new_states[lhs.name] = lhs
    logits = new_states[cell.readout_state]
    if cell.readout_weight:
        logits = all_params[cell.readout_weight] @ logits
    if cell.readout_bias:
        logits = logits + all_params[cell.readout_bias]
    out = {name: env[lhs][..., 0].T for name, lhs in new_states.items()}
    out["y_bar"] = ev.value(logits)[..., 0].T
    return out


def _sizes_from(nodes: dict[str, Node], arrays: dict) -> dict[str, int]:
    """hidden/input/output sizes from parameter arrays whose shapes name them."""
    equations = []
    for name, node in nodes.items():
        if name not in arrays:
            continue
        shape = np.shape(arrays[name])
        dims = node.shape if len(shape) == 2 else node.shape[:1]
        for d, n in zip(dims, shape, strict=True):
            equations.append(sympy.Eq(sympy.sympify(d), int(n)))
    symbols = sorted({s for e in equations for s in e.free_symbols}, key=str)
    if not symbols:
        return {}
    solution = sympy.solve(equations, symbols, dict=True)
    if not solution:
        raise ValueError("parameter shapes are inconsistent with the cell")
    return {str(s): int(v) for s, v in solution[0].items()}


def _random_params(canon: _Canonical, sizes, rng, scale=1.0) -> dict[str, np.ndarray]:
    return {
        name: scale * rng.standard_normal([_size(d, sizes) for d in node.shape])
        for name, node in canon.params.items()
        if name not in canon.fixed
    }


def _apply_assignment(target: _Canonical, source: _Canonical, assign, params, sizes) -> dict[str, np.ndarray]:
    """Target's parameters (math layout) from the source's, block by block."""
    out = {
        name: np.zeros([_size(d, sizes) for d in node.shape])
        for name, node in target.params.items()
        if name not in target.fixed
    }
    for blk, combo in assign.items():
        if blk.param not in out:
            continue
        region = (
            slice(_size(blk.rows[0], sizes), _size(blk.rows[1], sizes)),
            slice(_size(blk.cols[0], sizes), _size(blk.cols[1], sizes)),
        )
        value = 0.0
        for src, k in combo.items():
            s = (
                slice(_size(src.rows[0], sizes), _size(src.rows[1], sizes)),
                slice(_size(src.cols[0], sizes), _size(src.cols[1], sizes)),
            )
            value = value + float(k) * params[src.param][s]
        out[blk.param][region] = value
    return out


def _rel(a, b) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a) + np.abs(b)), initial=0.0))


def _outputs_differ(a, b, match_states, pa, pb, sizes, rng):
    """The first output that differs between A and B on random states and inputs, or None."""
    batch = 3
    prev_a = {s: rng.standard_normal((_size(a.cell.states[s].shape[0], sizes), batch)) for s in a.states}
    if match_states:
        prev_b = {sb: prev_a[sa] for sb, sa in match_states.items()}
    else:  # no correspondence of states: each cell its own, compare the logits
        prev_b = {s: rng.standard_normal((_size(b.cell.states[s].shape[0], sizes), batch)) for s in b.states}
    x = rng.standard_normal((sizes["input_size"], batch))
    out_a = step(a.cell, pa, prev_a, x, a.fixed, sizes)
    out_b = step(b.cell, pb, prev_b, x, b.fixed, sizes)
    pairs = [(sb, sa) for sb, sa in match_states.items()] + [("y_bar", "y_bar")]
    for sb, sa in pairs:
        va, vb = out_a[sa], out_b[sb]
        if va.shape != vb.shape or _rel(va, vb) > TOLERANCE:
            return {
                "output": sa if sa == sb else f"{sb} (B) / {sa} (A)",
                "value_a": va,
                "value_b": vb,
                "states": prev_a,
                "states_b": prev_b,
                "x": x,
            }
    return None


# ---------------------------------------------------------------- result


@dataclass
class Witness:
    """Inputs on which A and B (with the closest mapping's parameters) give different outputs."""

    output: str
    value_a: np.ndarray
    value_b: np.ndarray
    params_a: dict
    params_b: dict
    states: dict  # A's previous states s_{t-1}, (size, batch) columns
    x: np.ndarray
    states_b: dict = field(default_factory=dict)  # the same states under B's names

    def __str__(self):
        return (
            f"{self.output}: A gives {np.array2string(self.value_a[:, 0], precision=6)}, "
            f"B gives {np.array2string(self.value_b[:, 0], precision=6)} (first example)"
        )


@dataclass
class Comparison:
    """The outcome of :func:`compare`: equivalent or not, and how B's parameters come from A's."""

    a: str
    b: str
    equivalent: bool
    mapping: dict[str, str] = field(default_factory=dict)
    inverse_mapping: dict[str, str] = field(default_factory=dict)
    state_mapping: dict[str, str] = field(default_factory=dict)
    value_mapping: dict[str, str] = field(default_factory=dict)
    first_difference: str | None = None
    witness: Witness | None = None
    fixed: dict = field(default_factory=dict)
    _convert: object = field(default=None, repr=False)

    def to_b(self, params_a: dict) -> dict:
        """B's parameters (layout of the generated code: biases 1-D) from A's."""
        return self._need()(params_a, "b")

    def to_a(self, params_b: dict) -> dict:
        """A's parameters (layout of the generated code) from B's."""
        return self._need()(params_b, "a")

    def _need(self):
        if self._convert is None:
            raise ValueError(f"{self.a} and {self.b} are not equivalent: {self.first_difference}")
        return self._convert

    def __str__(self):
        head = f"{self.b} {'≡' if self.equivalent else '≢'} {self.a}"
        if self.fixed:
            head += " with " + ", ".join(f"{k} = {v}" for k, v in self.fixed.items())
        lines = [head]
        if self.equivalent:
            lines += [f"  state {b} = {a}" for b, a in self.state_mapping.items()]
            lines += [f"  {b} = {a}" for b, a in self.value_mapping.items() if a != b]
            lines += [f"  {b} = {a}" for b, a in self.mapping.items()]
        else:
            lines.append(f"  first difference: {self.first_difference}")
            if self.witness is not None:
                lines.append(f"  witness: {self.witness}")
        return "\n".join(lines)


def _comb_text(combo: dict[Block, Fraction], params) -> str:
    if not combo:
        return "0"
    parts = []
    for blk, k in combo.items():
        text = _block_text(blk, params)
        if k == 1:
            parts.append(("+", text))
        elif k == -1:
            parts.append(("-", text))
        else:
            parts.append(("+" if k > 0 else "-", f"{abs(k)}*{text}"))
    out = ("-" if parts[0][0] == "-" else "") + parts[0][1]
    for s, t in parts[1:]:
        out += f" {s} {t}"
    return out


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


def _describe(target: _Canonical, source: _Canonical, assign) -> dict[str, str]:
    """How each of target's parameters is built from source's blocks, as text."""
    out = {}
    for name, node in target.params.items():
        if name in target.fixed:
            continue
        blocks = [(blk, combo) for blk, combo in assign.items() if blk.param == name]
        full_rows = (sympy.Integer(0), node.shape[0])
        full_cols = (sympy.Integer(0), node.shape[1])
        if not blocks:
            out[name] = "0"
            continue
        if len(blocks) == 1 and blocks[0][0].rows == full_rows and blocks[0][0].cols == full_cols:
            out[name] = _comb_text(blocks[0][1], source.params)
            continue
        for axis, full, sep in ((1, full_cols, " | "), (0, full_rows, "; ")):
            other = full_rows if axis == 1 else full_cols
            ranges = [(blk.cols if axis == 1 else blk.rows) for blk, _ in blocks]
            if all((blk.rows if axis == 1 else blk.cols) == other for blk, _ in blocks):
                order = sorted(range(len(blocks)), key=lambda i: sympy.default_sort_key(ranges[i][0]))
                pieces = [ranges[i] for i in order]
                tiles = pieces[0][0] == 0 and sympy.expand(pieces[-1][1] - full[1]) == 0
                tiles = tiles and all(sympy.expand(p[1] - q[0]) == 0 for p, q in zip(pieces, pieces[1:], strict=False))
                if tiles:
                    out[name] = "[" + sep.join(_comb_text(blocks[i][1], source.params) for i in order) + "]"
                    break
        else:
            out[name] = "; ".join(
                f"{_block_text(blk, target.params)} = {_comb_text(c, source.params)}" for blk, c in blocks
            )
    return out


def _layout(canon: _Canonical, params: dict, to_math: bool) -> dict:
    out = {}
    for name, value in params.items():
        node = canon.params.get(name)
        value = np.asarray(value)
        if node is not None and node.is_column:
            value = value.reshape(-1, 1) if to_math else value.reshape(-1)
        out[name] = value
    return out


def compare(a: Cell | str, b: Cell | str, *, fix: dict | None = None, seed: int = 0) -> Comparison:
    """Whether cells A and B compute the same step map, and B's parameters in terms of A's.

    Args:
        a, b: cells or catalogue names.
        fix: parameters held at zero in whichever cell has them, e.g.
            ``{"p_i": 0, "p_f": 0, "p_o": 0}`` to compare a peephole LSTM without
            its peepholes.  Only 0 is supported.
        seed: seed of the numeric verification and of the witness.

    Returns:
        A :class:`Comparison`: ``equivalent``; ``mapping`` (B's parameter → how
        it is built from A's, e.g. ``"W_f[:, 0:hidden_size]"``, ``"[W_hf | W_xf]"``,
        ``"-W_xz"``, ``"b_ii + b_hi"``) and ``inverse_mapping``; ``state_mapping``
        and ``value_mapping`` (B's name → A's); ``to_b``/``to_a`` to convert
        parameter dicts; else ``first_difference`` and ``witness``.

    Raises:
        ValueError: an unknown name in ``fix``, a nonzero fixed value, or an
            operation outside the normalised family (:class:`OutsideFamily`).
    """
    from symrnn.catalogue import cell as catalogue_cell

    cell_a = catalogue_cell(a) if isinstance(a, str) else a.validate()
    cell_b = catalogue_cell(b) if isinstance(b, str) else b.validate()
    fix = dict(fix or {})
    known = set(cell_a.all_params()) | set(cell_b.all_params())
    for name, value in fix.items():
        if name not in known:
            raise ValueError(f"fix names {name!r}, a parameter of neither {cell_a.name} nor {cell_b.name}")
        if value != 0:
            raise ValueError(f"fix supports only 0; got {name} = {value!r}")
    A = _Canonical(cell_a, {n for n in fix if n in cell_a.all_params()})
    B = _Canonical(cell_b, {n for n in fix if n in cell_b.all_params()})
    result = Comparison(cell_a.name, cell_b.name, False, fixed=fix)
    rng = np.random.default_rng(seed)

    inputs = dict(zip(B.inputs, A.inputs, strict=False))
    problem = None
    if len(A.inputs) != len(B.inputs):
        problem = f"A has inputs {A.inputs}, B has {B.inputs}"
    counts = {}
    for side, canon in (("A", A), ("B", B)):
        for atom in canon.atoms:
            counts.setdefault(atom.function, {"A": [], "B": []})[side].append(atom.name)
    for function, names in counts.items():
        if problem is None and len(names["A"]) != len(names["B"]):
            problem = (
                f"{function} gates: A has {len(names['A'])} ({', '.join(names['A']) or 'none'}), "
                f"B has {len(names['B'])} ({', '.join(names['B']) or 'none'})"
            )
    state_maps = _state_maps(A, B)
    if problem is None and not state_maps:
        problem = f"A has states {A.states}, B has {B.states}"

    best: _Failure | None = None
    found = None
    if problem is None:
        for states in state_maps:
            found, failure = _search(A, B, states, inputs)
            if found:
                break
            if failure and (best is None or failure.depth > best.depth):
                best = failure
    if found:
        verdict = _verify(A, B, found, rng)
        if verdict is None:
            return _equivalent(result, A, B, found)
        problem, witness = verdict
        result.first_difference = f"numeric check failed: {problem}"
        result.witness = witness
        return result
    result.first_difference = problem if problem is not None else best.message
    result.witness = _witness(A, B, best, rng)
    return result


def _verify(A, B, found: _Match, rng):
    """Both mappings on random numbers at several sizes: None when the step maps agree."""
    for canon in (A, B):
        generic = sorted({atom.function for atom in canon.atoms if not FLOAT64.has_function(atom.function)})
        if generic:
            raise OutsideFamily(
                f"cell {canon.cell.name} applies {', '.join(generic)}, which has no numeric form: "
                "substitute a concrete function (e.g. tanh) to verify"
            )
    for sizes in SIZES:
        for source, target, assign in ((A, B, found.forward), (B, A, found.backward)):
            ps = _random_params(source, sizes, rng)
            pt = _apply_assignment(target, source, assign, ps, sizes)
            pa, pb = (ps, pt) if source is A else (pt, ps)
            diff = _outputs_differ(A, B, found.states, pa, pb, sizes, rng)
            if diff is not None:
                return diff["output"], Witness(**diff, params_a=pa, params_b=pb)
    return None


def _equivalent(result: Comparison, A, B, found: _Match) -> Comparison:
    result.equivalent = True
    result.state_mapping = dict(found.states)
    for key, (a_key, flipped) in found.atoms.items():
        name = B.atom_name(key)
        result.value_mapping[name] = ("1 - " if flipped else "") + A.atom_name(a_key)
    result.mapping = _describe(B, A, found.forward)
    result.inverse_mapping = _describe(A, B, found.backward)

    def convert(params, to):
        source, target, assign = (A, B, found.forward) if to == "b" else (B, A, found.backward)
        math = _layout(source, params, True)
        sizes = _sizes_from(source.params, math)
        out = _apply_assignment(target, source, assign, math, sizes)
        for name in target.fixed:
            out[name] = np.zeros([_size(d, sizes) for d in target.params[name].shape])
        dtype = np.result_type(*[np.asarray(v) for v in params.values()])
        return {k: v.astype(dtype) for k, v in _layout(target, out, False).items()}

    result._convert = convert
    return result


def _witness(A, B, failure: _Failure | None, rng) -> Witness | None:
    """Different outputs under the closest matching: the side that cannot follow the other gets best-effort parameters."""
    sizes = SIZES[0]
    if failure is None:  # no matching at all: same-named parameters, the rest random
        pa = _random_params(A, sizes, rng)
        pb = _random_params(B, sizes, rng)
        for name in pb:
            if name in pa and pa[name].shape == pb[name].shape:
                pb[name] = pa[name]
        states = _state_maps(A, B)
        match_states = states[0] if states else {}
    else:
        match_states = failure.states
        fwd_problems = _solve(failure.constraints, "b")[1]
        if fwd_problems or not _solve(failure.constraints, "a")[1]:
            pa = _random_params(A, sizes, rng)
            pb = _apply_assignment(B, A, _solve(failure.constraints, "b", best_effort=True)[0], pa, sizes)
        else:
            pb = _random_params(B, sizes, rng)
            pa = _apply_assignment(A, B, _solve(failure.constraints, "a", best_effort=True)[0], pb, sizes)
    for _ in range(5):
        diff = _outputs_differ(A, B, match_states, pa, pb, sizes, rng)
        if diff is not None:
            return Witness(**diff, params_a=pa, params_b=pb)
    return None
