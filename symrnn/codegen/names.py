"""Which user names the generated code can carry: no keyword, builtin or name the generator uses itself.

Generated code spells a user's parameter ``W`` as ``W``, its gradient ``g_W``, a state ``h`` as ``h``
with ``h_prev``, ``d_h``, ``tape_h``, ``h_0``; around them it has locals of its own (``T``,
``batch_size``, ``params``, ``s0``, ``W_stack0`` …), helpers (``_sigmoid``) and module names
(``PARAMETERS``, ``np``).  A user name equal to one of those, or shaped like a derived one, would
be silently rebound (a wrong answer, or a crash far from its cause), so :func:`check_names` refuses
it before any code is printed, naming it and why.  Derived names are checked against the cell's own
names: ``h_0`` is refused in a cell with a state ``h`` and allowed otherwise.  Keywords stay usable: ``py_name`` spells
``lambda`` as ``lambda_``.

Also the names every printer of a module shares (a leaf's variable, the loss call), below the plain
printer (:mod:`~symrnn.codegen.numpy_module`) and the optimised one so neither imports the other.
"""

from __future__ import annotations

import builtins
import keyword
import re

from symrnn import ir
from symrnn.codegen.numpy_printer import CodegenError
from symrnn.ir import Node

# Names the generated modules bind themselves, at module level or in forward/loss/loss_and_grads
# (collected from the generated code of every catalogue cell; tests/test_codegen_names.py keeps
# this list complete).  Helpers' own locals live in their own scopes and cannot collide.
GENERATED_NAMES = frozenset(
    """
    PARAMETERS STATES T J batch_size dims dtype forward loss loss_and_grads clear_workspace np threading torch
    params xs ys initial_state hidden_size input_size output_size scratch t x y v ws values grads
    y_bar y_hat yhat logits A_t DA_t A_all DA_all U_all W_gates_in
    """.split()
)

# Generated names with a number or a fixed stem: s0, F1, W_stack0, DA_cols2, tape_A, xs2 …
_GENERATED_PATTERN = re.compile(
    r"(?:s|S|F|G|stack|W_stack|W_back|g_stack|DA_cols|DA_run|xs|tape_s)\d+(?:_all)?|tape_(?:A|DA|U)|y_(?:bar|hat)_all"
)

# What the generator puts before or after a user's name: g_W (W's gradient), d_h (h's δ), tape_h,
# carry_h, next_h, hoisted_d_h, in_u (an input u); h_prev, h_0, h_all, z_bar, and combinations.
DERIVED_PREFIXES = ("", "g_", "d_", "tape_", "tape_d_", "carry_", "next_", "hoisted_d_", "in_")
DERIVED_SUFFIXES = ("", "_prev", "_prev_all", "_0", "_all", "_bar")

_BUILTINS = frozenset(dir(builtins))


# The readout's values, which the generator itself spells through py_name; a user name equal to
# one is refused (name_problem) rather than respelled.
_READOUT_NAMES = frozenset({"y_bar", "y_hat"})


def _taken(py: str) -> bool:
    """Whether a Python spelling is a keyword, a builtin or a name the generated code binds itself."""
    if py in _READOUT_NAMES:
        return False  # the generator's own readout leaves go through py_name: they keep their spelling
    return (
        keyword.iskeyword(py)
        or py in _BUILTINS
        or py in GENERATED_NAMES
        or py in {"np", "t", "x", "y", "dtype"}
        or bool(_GENERATED_PATTERN.fullmatch(py))
    )


def py_name(name: str) -> str:
    """The Python spelling of a user's name: non-word characters (primes) as _, and a trailing _ for a
    name Python or the generated code has taken (``lambda`` → ``lambda_``, ``T`` → ``T_``, ``sum`` → ``sum_``).
    Nothing the generator binds ends with _, so the spelling is the user's alone."""
    out = re.sub(r"\W", "_", name)
    return out + "_" if _taken(out) else out


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a user's name in generated code, or None when it can.

    Args:
        name: a parameter, state, input or equation name as the user wrote it.

    Returns:
        A phrase such as ``"is a Python builtin"``, or None.
    """
    py = re.sub(r"\W", "_", name)
    if py.startswith("_"):
        return "starts with an underscore (the generated code's private names do)"
    if py in _READOUT_NAMES:
        return "is a name the generated code uses itself"
    return None  # a taken name is spelled with a trailing underscore (py_name), which nothing else ends with


def _derived_names(py: str) -> dict[str, str]:
    """The generated code's names made from one user name (``g_W``, ``h_prev``, ``d_z_bar`` …) → how."""
    return {f"{p}{py}{s}": f"{p}…{s}" for p in DERIVED_PREFIXES for s in DERIVED_SUFFIXES if p or s}


def check_names(derivation) -> None:
    """Refuse a cell whose names the generated code cannot carry unchanged.

    Args:
        derivation: a :class:`~symrnn.derivation.Derivation`.

    Raises:
        CodegenError: a name that is a builtin, the generator's own, shaped like a derived name,
            or two names spelled alike in Python (``W-1`` and ``W_1``); the message names it.
    """
    cell = derivation.cell
    named = [("parameter", n) for n in derivation.params]
    named += [("state", n) for n in cell.states] + [("input", n) for n in cell.inputs if n != "x"]
    named += [("value", lhs.name) for lhs, _ in cell.equations if lhs.name not in cell.states]
    named += [("pre-activation", pre) for v, pre in cell.preactivations.items() if pre != f"{v}_bar"]
    derived: dict[str, str] = {}
    spellings = [(n, py_name(n)) for _, n in named] + [("y_bar", "y_bar"), ("y_hat", "y_hat")]  # and the readout's
    for name, spelling in spellings:
        for spelled, how in _derived_names(spelling).items():
            derived.setdefault(spelled, f"{how.replace('…', name)}")
    seen: dict[str, tuple[str, str]] = {}
    for kind, name in named:
        problem = name_problem(name)
        if problem:
            raise CodegenError(f"{kind} name {name!r} {problem}; rename it (cell {cell.name})")
        py = py_name(name)
        if py in derived:
            raise CodegenError(
                f"{kind} name {name!r} is what the generated code calls {derived[py]}; rename it (cell {cell.name})"
            )
        if py in seen and seen[py] != (kind, name):
            other_kind, other = seen[py]
            raise CodegenError(
                f"{kind} name {name!r} and {other_kind} name {other!r} are both {py} in Python; rename one (cell {cell.name})"
            )
        seen[py] = (kind, name)


LOSS_CODE = {
    "softmax_ce": "_softmax_ce({logits}, y)",
    "bce": "_sigmoid_bce({logits}, y)",
    "mse": "_squared_error({logits}, y)",
}


def leaf_name(node: Node) -> str:
    """The Python name of a leaf in generated code: W_hh, x, h_prev, d_h, g_W_hh."""
    base = py_name(node.name)
    if node.kind == ir.PARAM:
        return base
    if node.kind == ir.INPUT_KIND:
        return "x" if node.name == "x" else f"in_{base}"
    if node.kind == ir.TARGET:
        return "y"
    if node.kind == ir.GRAD:
        if node.shift is None:
            return f"g_{base}"
        assert node.shift == 0, node
        return f"d_{base}"
    if node.shift == -1:
        return f"{base}_prev"
    assert node.shift == 0, node
    return base
