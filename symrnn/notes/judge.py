"""The verdict on one claim: both sides evaluated at every step it names, on problems long enough.

A claim holds only when, on every problem (two seeds, two sets of sizes, two
substitutes for unnamed functions), both sides were evaluated at every step
where each term exists and agreed.  A difference in float64 is recomputed at
40 digits before it is called wrong.  Jacobian factors are read as one step
(the earlier state held fixed) and as totals, in numerator and denominator
layout; the claim holds if one reading holds everywhere, and the message says
which.  Offsets or sum limits beyond MAX_OFFSET are refused at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from .claims import ClaimEvaluator, Missing, Reading, ShapeClash, SidesClash, compare_values, number_power
from .entries import free_units
from .model import STEP_COUNTS, NoteModel
from .numbers import Unsupported
from .program import MAX_STEPS, Program, ProgramError
from .sizes import FREE_SIZES, ShapeFailure, Shapes, solve_shapes
from .tree import (
    Concat,
    Derivative,
    Equation,
    Func,
    Matrix,
    Number,
    Prod,
    Product,
    Sum,
    Symbol,
    Transpose,
    children,
    walk,
)

MAX_OFFSET = 12
SEEDS = (1, 2)
# Unnamed functions: f and φ get two unrelated functions; g (an output function, often under a log) σ.
SUBSTITUTES = (
    {"f": "sin", "g": "sigmoid", "phi": "sin", "varphi": "sin", "psi": "sigmoid"},
    {"f": "tanh", "g": "sigmoid", "phi": "tanh", "varphi": "tanh", "psi": "sigmoid"},
)
SECOND_SIZES = (2, 3, 5, 4, 6, 7, 8)


@dataclass
class Outcome:
    """What the numbers said: ``verdict`` is "holds", "wrong" or "unchecked"."""

    verdict: str
    message: str
    counterexample: dict | None = None
    details: dict = field(default_factory=dict)


class Problems:
    """The unrolled programs of one note model, built once per (sizes, T, seed, functions)."""

    def __init__(self, model: NoteModel, stated: dict | None = None):
        self.model = model
        self.stated = stated or {}
        self._shapes: dict[tuple, Shapes] = {}
        self._programs: dict[tuple, Program] = {}

    def shapes(self, sizes: tuple[int, ...]) -> Shapes:
        if sizes not in self._shapes:
            self._shapes[sizes] = solve_shapes(self.model, self.stated, sizes)
        return self._shapes[sizes]

    def program(self, sizes, steps: int, seed: int, functions: dict, scale: float = 0.6) -> Program:
        k = (sizes, steps, seed, tuple(sorted(functions.items())), scale)
        if k not in self._programs:
            self._programs[k] = Program(self.model, self.shapes(sizes), steps, seed, functions, scale)
        return self._programs[k]


def free_steps(tree) -> list[str]:
    """Step variables a claim leaves free (not bound by a sum): it must hold for each value."""
    out: list[str] = []

    def visit(node, bound: frozenset):
        if isinstance(node, Sum | Prod):
            index = node.index.name if node.index is not None else "t"
            for limit in (node.lower, node.upper):
                if limit is not None:
                    visit(limit, bound)
            visit(node.body, bound | {index})
            return
        if isinstance(node, Symbol) and node.time is not None and node.time.terms:
            for _, letter in node.time.terms:
                if letter not in STEP_COUNTS and letter not in bound and letter not in out:
                    out.append(letter)
        elif isinstance(node, Symbol):
            if node.time is not None and node.time.var not in (None, *STEP_COUNTS) and node.time.var not in bound:
                if node.time.var not in out:
                    out.append(node.time.var)
            if (
                node.time is None
                and not node.sub
                and not node.sup
                and len(node.name) == 1
                and node.name in ("t", "k", "n", "i", "j", "s", "tau")
                and node.name not in bound
            ):
                pass
        for child in children(node):
            visit(child, bound)

    visit(tree, frozenset())
    return out


def _offsets(tree) -> list[int]:
    out = [0]
    for node in walk(tree):
        if isinstance(node, Symbol) and node.time is not None:
            out.append(node.time.offset)
        if isinstance(node, Number) and isinstance(node.value, int):
            out.append(node.value)
    return out


def _has_jacobian(tree, model: NoteModel, aux: dict | None = None) -> bool:
    from .claims import is_loss_node
    from .reading import key

    for node in walk(tree):
        named = (aux or {}).get(("sym", key(node))) if isinstance(node, Symbol) else None
        if named is not None and named[1] is not tree and _has_jacobian(named[1], model):
            return True  # p^k_{ij}(t) the note named ∂y_k(t)/∂w_{ij}: a Jacobian under another name
        if isinstance(node, Derivative):
            of = node.of
            if not is_loss_node(of) and not (isinstance(of, Symbol) and model.is_generic_loss(_key(of))):
                return True
    return False


def _key(symbol):
    from .reading import key

    return key(symbol)


def _generic_letters(model: NoteModel) -> list[str]:
    from .tree import Func

    out = []
    for d in model.definitions.values():
        for node in walk(d.rhs):
            if (
                isinstance(node, Func)
                and (len(node.name) == 1 or node.name in ("phi", "varphi", "psi"))
                and node.name not in out
            ):
                out.append(node.name)
    return out


def judge(tree: Equation, problems: Problems, aux: dict) -> Outcome:
    """Check one claim (an Equation) on the note's programs.

    Args:
        tree: the claim.
        problems: the note model's programs.
        aux: names the note defined on the way (key → (lhs, rhs)).

    Returns:
        The Outcome (never raises for a claim the checker cannot read: that is "unchecked").
    """
    model = problems.model
    ops = [op for op in tree.ops]
    bound = len(ops) == 1 and ops[0] in BOUNDS
    if any(op not in ("=", ":=", "equiv") for op in ops) and not bound:
        return Outcome(
            "unchecked",
            f"the relation {', '.join(o for o in ops if o not in ('=', ':=', 'equiv'))} is not checked as an equation",
        )
    offsets = _offsets(tree)
    if max(abs(o) for o in offsets) > MAX_OFFSET:
        return Outcome(
            "unchecked", f"a step offset or limit of {max(abs(o) for o in offsets)} (at most {MAX_OFFSET} are built)"
        )
    free = free_steps(tree)
    if len(free) > 2:
        return Outcome("unchecked", f"the claim has {len(free)} free steps ({', '.join(free)})")
    span = max(offsets) - min(offsets)
    steps = max(4, span + 3)
    window = None
    others = [v for v in free if v not in model.step_vars]
    if len(others) == 1 and len(free) == 1:
        # A step letter the forward equations never use (n in E_{n+2}): the claim is about the
        # steps it names, so the sequence is exactly those steps, the first one being step 1.
        named = [
            s.time.offset
            for s in walk(tree)
            if isinstance(s, Symbol) and s.time is not None and s.time.var == others[0]
        ]
        first = max(1, 1 - min(named))
        window = ({others[0]: first}, first + max(named))
        steps = window[1]
    if steps > MAX_STEPS:
        return Outcome("unchecked", f"needs {steps} steps (at most {MAX_STEPS})")
    letters = [x for x in _generic_letters(model) if x not in model.formulas]
    shown = [x for x in letters if any(isinstance(n, Func) and n.name == x for n in walk(tree))] or letters
    substitutes = [{k: v for k, v in s.items() if k in letters} for s in SUBSTITUTES] if letters else [{}]
    pinned = {k: v for k, v in model.functions.items() if k in letters}
    if any(v is not None for v in pinned.values()):
        # g = tanh in the note: g is tanh, never a stand-in.
        substitutes = [{**s, **{k: v for k, v in pinned.items() if v is not None}} for s in substitutes]
        substitutes = [s for i, s in enumerate(substitutes) if s not in substitutes[:i]]
    formulas = sorted(k for k, v in pinned.items() if v is None)
    if bound:
        return _bound(tree, problems, aux, free, steps, substitutes, formulas)
    readings = [Reading()]
    if _has_jacobian(tree, model, aux):
        readings = [
            Reading(True, "numerator"),
            Reading(False, "numerator"),
            Reading(True, "denominator"),
            Reading(False, "denominator"),
        ]
    first_failure: Outcome | None = None
    clash: str | None = None
    inside = False  # a clash inside one side (a product that does not fit), not between the sides
    for reading_ in readings:
        outcomes = [_one_reading(tree, problems, aux, reading_, free, steps, [f], window) for f in substitutes]
        verdicts = [o.verdict for o in outcomes]
        if "unchecked" in verdicts:
            return outcomes[verdicts.index("unchecked")]
        if all(v == "holds" for v in verdicts):
            outcome = outcomes[0]
            outcome.details["evaluated"] = sum(o.details.get("evaluated", 0) for o in outcomes)
            outcome.message = _holds_message(outcome, reading_, readings, substitutes, shown)
            return outcome
        if "holds" in verdicts and letters:
            good = substitutes[verdicts.index("holds")]
            return Outcome("holds", "holds only with " + ", ".join(f"{k} = {v}" for k, v in good.items() if k in shown))
        for outcome in outcomes:
            if outcome.verdict == "clash":
                clash = clash or outcome.message
                inside = inside or not outcome.details.get("sides")
            elif outcome.verdict == "wrong":
                first_failure = first_failure or outcome
    if first_failure is None:
        # Different shapes at the sizes tried.  Two sides of different shapes (a Jacobian and a
        # vector) are often our reading's fault, and so is any clash in a note that never says it
        # is about vectors (a scalar note generalised to vectors), or in a claim with Jacobian
        # factors (read four ways): those are not WRONG.  A product that does not fit, in a
        # claim without Jacobians of a note with transposes, ⊙ or stated shapes, is.
        if inside and len(readings) == 1 and vector_note(model, problems.stated):
            return Outcome("wrong", f"the shapes do not fit: {clash}")
        return Outcome("unchecked", f"the two sides have different shapes at the sizes tried ({clash})")
    if formulas:
        # g(x) = 4σ(x) − 2 in the note: the claim failed with g generic, which proves nothing.
        return Outcome(
            "unchecked",
            f"{formulas[0]} is defined by a formula in the note, which the checker does not apply yet "
            "(with it left generic the claim does not hold)",
        )
    if len(readings) > 1:
        first_failure.message += (
            " when its Jacobian factors are read as one step (earlier state held fixed) or as totals"
        )
    return first_failure


# ---------------------------------------------------------------- inequalities

BOUNDS = {"le": "≤", "lt": "<", "ge": "≥", "gt": ">"}
# A bound is tried on random instances: leaves drawn at several spreads (small weights and large),
# several seeds, both sets of sizes, at every binding of its free steps.
BOUND_SCALES = (0.25, 0.6, 1.5, 3.0)
BOUND_SEEDS = (1, 2, 3, 4)


def _bound(tree: Equation, problems: Problems, aux, free, steps, substitutes, formulas) -> Outcome:
    """An inequality between two numbers (norms, powers of norms), tried on many random instances.

    It holds when it held on every instance tried ("held on N random instances", never a proof);
    a failure is recomputed at 40 digits, and it is WRONG only when it fails there too and also
    fails with its Jacobian factors read as one step (so no reading of the note makes it hold).
    """
    unbound = _unbound_numbers(tree, problems.model, aux)
    if unbound:
        return Outcome("unchecked", f"{unbound} is a number the note gives no value (so the bound cannot be tried)")
    total = _try_bound(tree, problems, aux, free, steps, substitutes, Reading(False, "numerator"))
    if total.verdict != "wrong":
        return total
    if _has_jacobian(tree, problems.model):
        one_step = _try_bound(tree, problems, aux, free, steps, substitutes, Reading(True, "numerator"))
        if one_step.verdict != "wrong":
            return Outcome(
                "unchecked",
                f"{total.message}, but it held with its Jacobian factors read as one step (the earlier state held fixed)",
            )
    if formulas:
        return Outcome(
            "unchecked",
            f"{formulas[0]} is defined by a formula in the note, which the checker does not apply yet "
            "(with it left generic the bound does not hold)",
        )
    return total


def _unbound_numbers(tree, model: NoteModel, aux) -> str | None:
    """A number name (ρ, λ) the bound uses that the note never gives a value."""
    from .reading import key

    for node in walk(tree):
        power = number_power(node) if isinstance(node, Symbol) else None
        node = power[0] if power is not None else node  # ρ of ρ^{T-k}
        if isinstance(node, Symbol) and node.time is None and not node.sub and not node.sup:
            k = key(node)
            if model.is_number(k) and k not in model.indices and ("sym", k) not in aux and node.name not in STEP_COUNTS:
                if node.name not in ("t", "k", "s", "tau", "i", "j", "n", "l", "m"):
                    return node.name
    return None


def _try_bound(tree, problems: Problems, aux, free, steps, substitutes, reading_: Reading) -> Outcome:
    op = tree.ops[0]
    tried = 0
    nonzero = False
    try:
        for functions in substitutes:
            for n, (scale, seed) in enumerate((s, d) for s in BOUND_SCALES for d in BOUND_SEEDS):
                sizes = FREE_SIZES if n % 2 == 0 else SECOND_SIZES
                program = problems.program(sizes, steps, seed, functions, scale)
                fast = ClaimEvaluator(program, False, reading_, aux)
                for env in _bindings(free, steps):
                    try:
                        left, right = _bound_sides(tree, fast, env)
                    except Missing:
                        continue
                    tried += 1
                    nonzero = nonzero or abs(left) > 1e-12 or abs(right) > 1e-12
                    if _satisfied(op, left, right, 1e-9):
                        continue
                    precise = ClaimEvaluator(program, True, reading_, aux)
                    exact_left, exact_right = _bound_sides(tree, precise, env)
                    if _satisfied(op, exact_left, exact_right, 1e-25):
                        continue
                    message = (
                        f"fails at a random instance: the left side is {float(exact_left):.6g}, "
                        f"the right side {float(exact_right):.6g} (confirmed at 40 digits)"
                    )
                    counter = _counterexample(program, env, np.array([[left]]), np.array([[right]]), functions)
                    return Outcome("wrong", message, counter)
    except ShapeClash as error:
        return Outcome("unchecked", f"the sides of the bound do not evaluate: {error}")
    except ShapeFailure as error:
        return Outcome("unchecked", f"the forward equations do not fit any shapes: {error}")
    except (Unsupported, ProgramError) as error:
        return Outcome("unchecked", f"cannot evaluate: {error}")
    if tried == 0:
        return Outcome("unchecked", "no random instance has every term of the bound")
    if not nonzero:
        return Outcome("unchecked", "both sides are zero on every instance tried, so holding proves nothing")
    return Outcome("holds", f"held on {tried} random instances (tried, not proved)", details={"evaluated": tried})


def _bound_sides(tree: Equation, evaluator: ClaimEvaluator, env: dict):
    out = []
    for side in tree.sides:
        value = evaluator.term(side, env)
        if isinstance(value, str):  # a gradient past the last step: zero
            out.append(0.0 if not evaluator.precise else evaluator.arith.number(0))
            continue
        matrix = np.asarray(getattr(value, "matrix", value))
        if matrix.shape != (1, 1):
            raise Unsupported(f"a bound on a {matrix.shape[0]} × {matrix.shape[1]} value, not a number")
        v = matrix[0, 0]
        if not evaluator.precise and not np.isfinite(float(v)):
            raise Unsupported("a side of the bound is not finite on a random instance")
        out.append(v)
    return out[0], out[1]


def _satisfied(op: str, left, right, rtol: float) -> bool:
    """Does ``left op right`` hold, up to rounding (an equality case is never a failure)?"""
    slack = rtol * max(1.0, abs(left), abs(right))
    if op in ("le", "lt"):
        return left <= right + slack
    return left >= right - slack


def vector_note(model: NoteModel, stated: dict) -> bool:
    """Does the note say its values are vectors (a transpose, ⊙, a matrix, a stated shape)?"""
    if stated:
        return True
    for item in model.items:
        for node in walk(item.tree):
            if isinstance(node, Transpose | Matrix | Concat):
                return True
            if isinstance(node, Product) and node.op in ("odot", "circ", "ast", "*"):
                return True
    return False


def _magnitude(value) -> float:
    if isinstance(value, str):
        return 0.0
    a = np.asarray(getattr(value, "matrix", value), dtype=object).reshape(-1)
    return max((abs(float(v)) for v in a), default=0.0)


def _one_reading(tree, problems: Problems, aux, reading_: Reading, free, steps, substitutes, window) -> Outcome:
    evaluated = 0
    nonzero = False
    deferred: Outcome | None = None  # a failure at a step where a term of the claim does not exist
    problems_list = [(FREE_SIZES, steps, SEEDS[0]), (SECOND_SIZES, steps + (window is None), SEEDS[1])]
    try:
        for functions in substitutes:
            for sizes, T, seed in problems_list:
                program = problems.program(sizes, T, seed, functions)
                fast = ClaimEvaluator(program, False, reading_, aux)
                for env in _with_units(tree, fast, [window[0]] if window else _bindings(free, T)):
                    fast.missing_terms.clear()
                    try:
                        ok, left, right = _compare(tree, fast, env)
                    except Missing:
                        continue
                    if ok and fast.missing_terms:
                        continue  # holding with a term left out proves nothing
                    evaluated += 1
                    if ok:
                        nonzero = nonzero or _magnitude(left) > 1e-12 or _magnitude(right) > 1e-12
                        continue
                    precise = ClaimEvaluator(program, True, reading_, aux)
                    ok, left, right = _compare(tree, precise, env)
                    if ok:
                        continue
                    message = "does not hold"
                    if precise.missing_terms:
                        # The note's sum names a value that does not exist (ŷ^{(0)}): as written, wrong;
                        # but a step where every term exists makes the better counterexample, if one fails.
                        message += f" (a sum names {precise.missing_terms[0]}, which the note never defines)"
                        deferred = deferred or Outcome(
                            "wrong", message, _counterexample(program, env, left, right, functions)
                        )
                        continue
                    return Outcome("wrong", message, _counterexample(program, env, left, right, functions))
    except ShapeClash as error:
        return Outcome("clash", str(error), details={"sides": isinstance(error, SidesClash)})
    except ShapeFailure as error:
        return Outcome("unchecked", f"the forward equations do not fit any shapes: {error}")
    except (Unsupported, ProgramError) as error:
        return Outcome("unchecked", f"cannot evaluate: {error}")
    if deferred is not None:
        return deferred
    if evaluated == 0:
        return Outcome("unchecked", "no step of the problems has every term of the claim")
    if not nonzero and not any(_written_zero(side) for side in tree.sides):
        # 0 = 0 at every step, though the claim does not say "= 0": the values it names do not
        # reach the loss as read, so holding proves nothing.
        return Outcome("unchecked", "both sides are zero at every step tried, so holding proves nothing")
    return Outcome("holds", "holds", details={"evaluated": evaluated})


def _written_zero(side) -> bool:
    """A side the note wrote as 0 (also at every unit of a claim written unit by unit)."""
    if isinstance(side, Concat):
        return all(_written_zero(i) for i in side.items)
    return isinstance(side, Number) and side.value == 0


def _with_units(tree, evaluator: ClaimEvaluator, envs):
    """Each step binding, with every unit letter the claim leaves free bound to each of its units."""
    letters = free_units(tree, evaluator.model.units) if evaluator.model.units else []
    for env in envs:
        if not letters:
            yield env
            continue
        counts = []
        for letter in letters:
            try:
                counts.append(
                    evaluator.program.unit_count(tree, letter, lambda n, env=env: evaluator.unit_shape(n, env))
                )
            except ProgramError as error:
                raise Unsupported(str(error)) from None
        for units in itertools.product(*(range(1, n + 1) for n in counts)):
            yield {**env, **dict(zip(letters, units, strict=True))}


def _bindings(free: list[str], steps: int):
    if not free:
        yield {}
        return
    values = range(0, steps + 2)
    if len(free) == 1:
        for v in values:
            yield {free[0]: v}
        return
    for a in values:
        for b in values:
            yield {free[0]: a, free[1]: b}


def _compare(tree: Equation, evaluator: ClaimEvaluator, env: dict):
    sides = []
    for side in tree.sides:
        value = evaluator.term(side, env)
        sides.append(value)
    first = sides[0]
    for other in sides[1:]:
        a, b = first, other
        if a == "zero" and b == "zero" if isinstance(a, str) and isinstance(b, str) else False:
            continue
        if isinstance(a, str):
            if isinstance(b, str):
                continue
            a = evaluator.arith.zeros(np.shape(getattr(b, "matrix", b)))
        if isinstance(b, str):
            b = evaluator.arith.zeros(np.shape(getattr(a, "matrix", a)))
        for v in (a, b):
            if not evaluator.precise and not np.all(np.isfinite(np.asarray(getattr(v, "matrix", v), dtype=float))):
                raise Unsupported("a value of the random problem is not finite (a log of a negative number?)")
        ok, _ = compare_values(a, b, evaluator.arith)
        if not ok:
            return False, a, b
    if all(isinstance(s, str) for s in sides):
        raise Missing("every side past the last step", gradient=True)
    return True, sides[0], sides[-1]


def _counterexample(program: Program, env: dict, left, right, functions) -> dict:
    model = program.model
    sizes = {}
    roles = (
        ("hidden", model.states()),
        ("input", [k for k in model.inputs() if k not in model.targets()]),
        ("output", model.targets()),
    )
    for role, keys in roles:
        if keys and keys[0] in program.shapes.of:
            sizes[role] = max(program.shapes.of[keys[0]])
    shapes = {_label(k): f"{r}×{c}" for k, (r, c) in program.shapes.of.items() if (r, c) != (1, 1)}
    step = next(iter(env.values()), None)
    return {
        "sizes": sizes,
        "shapes": shapes,
        "steps": program.steps,
        "t": step,
        "bindings": dict(env),
        "seed": program.seed,
        "left": _numbers(left),
        "right": _numbers(right),
        "functions": dict(functions),
    }


def _label(k: tuple) -> str:
    name = k[0] if len(k[0]) == 1 else k[0]
    return name + (f"_{k[2]}" if k[2] else "") + (f"^{k[3]}" if k[3] else "")


def _numbers(a) -> list:
    a = getattr(a, "matrix", a)
    flat = np.asarray(np.asarray(a, dtype=object).reshape(-1)[:6], dtype=float)
    return [float(f"{v:.6g}") for v in flat]


def _holds_message(outcome: Outcome, reading_: Reading, readings, substitutes, letters) -> str:
    n = outcome.details.get("evaluated", 0)
    text = f"holds (both sides evaluated at {n} steps of {2 * len(substitutes)} random problems)"
    if len(readings) > 1:
        if reading_.immediate:
            text += "; each Jacobian factor (such as ∂h_k/∂W) read as the immediate partial of one step, the earlier state held fixed"
        else:
            text += "; the Jacobian factors read as total derivatives"
        if reading_.layout == "denominator":
            text += ", in denominator layout"
    if letters:
        tried = " and ".join(", ".join(f"{k} = {v}" for k, v in s.items()) for s in substitutes)
        text += f"; {', '.join(letters)} kept generic (checked with {tried})"
    return text
