"""The result of ``compare``: the comparison, its mapping in words, the witness of a difference."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import sympy

from symrnn.cellspec import Cell
from symrnn.equivalence.canonical import SIZES, Block, OutsideFamily, _Canonical
from symrnn.equivalence.matching import _block_text, _Failure, _Match, _search, _solve, _state_maps
from symrnn.equivalence.numeric import _apply_assignment, _outputs_differ, _random_params, _size, _sizes_from
from symrnn.evaluate import FLOAT64

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
