"""Math that is prose, not a claim: ranges, steps, numbers bound to names, initial values.

``$1 \\le t \\le T$`` and ``$t = 1, \\dots, T$`` state a range, "from $t = T$ to
$t = 1$" names steps, ``$\\gamma = 1/4$`` binds a number to a name, and
``$\\mathbf{b}_h = \\mathbf{0}$`` gives an initial value.  The syntax layer only
marks them (ParsedEquation.prose); the semantic layer decides what each means.
"""

from __future__ import annotations

from .tree import Dots, Equation, Frac, Neg, Number, Symbol, Tuple

# Letters that name a step or an index when written alone (t = T, 1 \le k \le t).
STEP_LETTERS = frozenset({"t", "T", "k", "n", "i", "j", "s", "tau", "l"})
RANGE_OPS = frozenset({"le", "lt", "ge", "gt"})


def prose_kind(tree, display: bool) -> str | None:
    """ "range", "step", "binding", "initial", "condition" or None (a claim or a definition) for one equation."""
    if not isinstance(tree, Equation):
        return None
    sides, ops = tree.sides, tree.ops
    if len(sides) == 3 and all(op in RANGE_OPS for op in ops) and _is_step_letter(sides[1]):
        return "range"
    if not display and all(op in RANGE_OPS for op in ops) and any(_is_number(side) for side in sides):
        return "condition"  # "when $\|W\| < 1$", "since $0 < 1 - \tanh^2 \le 1$": a condition, not a claim
    if ops != ("=",):
        return None
    lhs, rhs = sides
    if _is_step_letter(lhs) and isinstance(rhs, Tuple) and any(isinstance(item, Dots) for item in rhs.items):
        return "range"
    if not display and _is_step_letter(lhs) and _is_step_value(rhs):
        return "step"
    if isinstance(lhs, Symbol) and lhs.time is None and _is_number(rhs) and not _is_zero(rhs):
        return "binding"
    if not display and isinstance(lhs, Symbol) and _is_zero(rhs):
        return "initial"
    return None


def _is_step_letter(node) -> bool:
    return (
        isinstance(node, Symbol)
        and node.name in STEP_LETTERS
        and not (node.sub or node.sup or node.time or node.accents or node.primes or node.font)
    )


def _is_step_value(node) -> bool:
    from .tree import Add, Sub

    if isinstance(node, Number) or _is_step_letter(node):
        return True
    if isinstance(node, (Add, Sub)):
        return _is_step_value(node.left) and _is_step_value(node.right)
    return False


def _is_number(node) -> bool:
    if isinstance(node, Number):
        return True
    if isinstance(node, Neg):
        return _is_number(node.operand)
    if isinstance(node, Frac):
        return _is_number(node.num) and _is_number(node.den)
    return False


def _is_zero(node) -> bool:
    return isinstance(node, Number) and node.value == 0
