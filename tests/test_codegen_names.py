"""Name hygiene of generated code: user names that are Python keywords, builtins or the generator's own names.

A cell is written twice: once with plain names, once with names that collide with what the
generated module uses itself (its locals ``T``, ``dims``, ``params``, the helpers ``_sigmoid`` and
``PARAMETERS``, builtins such as ``range`` and ``len``, keywords, and the names it derives from a
user's: ``g_W`` for W's gradient, ``h_prev``, ``d_h``, ``tape_h``).  Both must give the same forward
values, loss and gradients from every backend, keyed by the user's own names; a name the
generator cannot honour must be refused with a message naming it, never computed wrongly.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest

import symrnn
from symrnn import ir
from symrnn.activations import sigmoid, tanh
from symrnn.cellspec import Cell
from symrnn.codegen.names import DERIVED_PREFIXES, DERIVED_SUFFIXES, name_problem, py_name
from symrnn.codegen.numpy_module import module_source
from symrnn.codegen.numpy_printer import CodegenError
from symrnn.codegen.torch_function import torch_source
from symrnn.problems import random_problem

PLAIN = {
    "x": "x",
    "h": "h",
    "z": "z",
    "W": "W",
    "U": "U",
    "b": "b",
    "Wz": "Wz",
    "Uz": "Uz",
    "bz": "bz",
    "Wy": "W_y",
    "by": "b_y",
}

# Names the generated code must carry and compute with exactly as with plain names.
CARRIED = [
    {"W": "lambda", "U": "class", "b": "None", "Wz": "def", "Uz": "import", "bz": "if", "Wy": "return", "by": "in"},
    {"h": "lambda", "z": "yield", "x": "u", "W": "W'", "U": "U''", "b": "b_1b"},
    {"W": "W_in", "U": "weights", "b": "bias", "Wz": "scale", "Uz": "h_prevx", "bz": "Tx"},
    {
        "W": "W_1",
        "U": "U_0",
        "b": "b_0",
        "Wz": "g_1",
        "Uz": "d_model",
        "bz": "z_prev_",
    },  # derived only from names the cell lacks
]

# Names Python or the generator has taken (its own locals, builtins): carried with a trailing _,
# computing what plain names compute. Names shaped like one derived from the cell's own names are refused.
REFUSED = [
    ("W", "T", "uses itself"),
    ("U", "batch_size", "uses itself"),
    ("b", "dims", "uses itself"),
    ("Wz", "params", "uses itself"),
    ("Uz", "xs", "uses itself"),
    ("bz", "J", "uses itself"),
    ("W", "PARAMETERS", "uses itself"),
    ("U", "STATES", "uses itself"),
    ("Wz", "np", "uses itself"),
    ("Uz", "dtype", "uses itself"),
    ("bz", "initial_state", "uses itself"),
    ("W", "range", "builtin"),
    ("U", "len", "builtin"),
    ("b", "sum", "builtin"),
    ("Wy", "zip", "builtin"),
    ("by", "max", "builtin"),
    ("W", "g_Wz", "generated code calls"),
    ("b", "d_h", "generated code calls"),
    ("Uz", "tape_h", "generated code calls"),
    ("U", "h_prev", "generated code calls"),
    ("bz", "h_0", "generated code calls"),
    ("z", "h_bar", "generated code calls"),
    ("W", "s0", "uses itself"),
    ("W", "W_stack0", "uses itself"),
    ("h", "y", "uses itself"),
    ("z", "t", "uses itself"),
    ("W", "values", "uses itself"),
    ("U", "grads", "uses itself"),
    ("b", "loss", "uses itself"),
    ("Wz", "forward", "uses itself"),
    ("U", "W_gates_in", "uses itself"),
    ("W", "d_y_bar", "generated code calls"),
    ("Uz", "hoisted_d_z", "generated code calls"),
    ("b", "carry_h", "generated code calls"),
]


def _gated(names: dict[str, str]) -> Cell:
    """A gated cell: z = σ(Wz h + Uz x + bz), h = z ⊙ h_{t-1} + z ⊙ tanh(W h + U x + b)."""
    n = {**PLAIN, **names}
    cell = Cell("hygiene")
    x, h = cell.input(n["x"]), cell.state(n["h"])
    W, U, b = cell.weight(n["W"]), cell.weight(n["U"], ir.HIDDEN, ir.INPUT), cell.bias(n["b"])
    Wz, Uz, bz = cell.weight(n["Wz"]), cell.weight(n["Uz"], ir.HIDDEN, ir.INPUT), cell.bias(n["bz"])
    z = cell.let(n["z"], sigmoid(Wz @ h + Uz @ x + bz))
    cell.let(n["h"], z * h + z * tanh(W @ h + U @ x + b))
    cell.readout(n["h"], n["Wy"], n["by"])
    return cell


def _results(d, params, xs, ys, initial):
    out = {}
    for optimize in (True, False):
        m = d.numpy(optimize=optimize)
        values = m.forward(params, xs, initial)
        loss, grads = m.loss_and_grads(params, xs, ys, initial)
        out[optimize] = (values, m.loss(params, xs, ys, initial), loss, grads)
    return out


@pytest.mark.parametrize("carried", CARRIED, ids=lambda h: "-".join(h.values()))
def test_keywords_and_unusual_names_compute_what_plain_names_compute(carried):
    names = {**PLAIN, **carried}
    plain, other = symrnn.derive(_gated(PLAIN)), symrnn.derive(_gated(names))
    params, xs, ys, initial = random_problem(
        plain, hidden_size=3, input_size=2, output_size=2, steps=3, batch=2, seed=1
    )
    rename = {PLAIN[k]: names[k] for k in PLAIN}
    other_params = {rename[k]: v for k, v in params.items()}
    other_initial = {rename[k]: v for k, v in initial.items()}
    assert set(other.params) == set(other_params)
    want, got = _results(plain, params, xs, ys, initial), _results(other, other_params, xs, ys, other_initial)
    for optimize in (True, False):
        (v0, l0, lg0, g0), (v1, l1, lg1, g1) = want[optimize], got[optimize]
        assert l1 == pytest.approx(l0, rel=1e-14) and lg1 == pytest.approx(lg0, rel=1e-14), (optimize, l0, l1)
        for k in ("h", "z"):
            np.testing.assert_allclose(v1[rename[k]], v0[k], rtol=1e-13, atol=1e-15, err_msg=f"{k} → {rename[k]}")
        initial_grad = {f"{PLAIN['h']}_0": f"{names['h']}_0"}
        assert set(g1) == {rename.get(k, initial_grad.get(k, k)) for k in g0}, sorted(g1)
        for k, v in g0.items():
            # the order of the parameters (sorted by name) can change a stacked sum's order: an ulp
            np.testing.assert_allclose(g1[rename.get(k, initial_grad.get(k, k))], v, rtol=1e-12, atol=1e-15, err_msg=k)
    assert torch_source(other).count("def loss_and_grads") == 1


TAKEN = [(role, name) for role, name, why in REFUSED if why != "generated code calls"]
DERIVED = [(role, name, why) for role, name, why in REFUSED if why == "generated code calls"]


@pytest.mark.parametrize(("role", "name"), TAKEN, ids=[r[1] for r in TAKEN])
def test_names_python_or_the_generated_code_has_taken_compute_what_plain_names_compute(role, name):
    test_keywords_and_unusual_names_compute_what_plain_names_compute({role: name})
    source = symrnn.derive(_gated({role: name})).numpy_source()
    assert f"{name} → {name}_" in source, "the module's docstring shows the Python spelling"


@pytest.mark.parametrize(("role", "name", "why"), DERIVED, ids=[r[1] for r in DERIVED])
def test_names_shaped_like_derived_ones_are_refused_by_name(role, name, why):
    d = symrnn.derive(_gated({role: name}))
    for build in (lambda: d.numpy(), lambda: d.numpy(optimize=False), lambda: torch_source(d)):
        with pytest.raises(CodegenError, match=rf"name {name!r} .*{why}.*rename"):
            build()


def test_two_names_spelled_alike_in_python_are_refused():
    d = symrnn.derive(_gated({"W": "lambda", "U": "lambda'"}))  # both lambda_ in Python
    with pytest.raises(CodegenError, match="are both lambda_ in Python"):
        d.numpy()


def test_the_reserved_names_cover_every_name_the_generated_code_binds():
    """Every name forward/loss/loss_and_grads or the module binds is the generator's or a user-derived one."""
    for cell in symrnn.cells():
        d = symrnn.derive(cell)
        names = [*d.params, *d.cell.states, *d.cell.inputs] + [e.name for e, _ in d.cell.equations]
        user = [py_name(n) for n in names] + ["y_bar", "y_hat"]  # and the readout's own values
        for source in (module_source(d, True), module_source(d, False), torch_source(d)):
            for bound in _bound_names(source):
                if any(_derived_from(bound, u) for u in user):
                    continue
                # a user name equal to it is either spelled differently (T → T_) or refused (_private)
                taken = py_name(bound) != bound or name_problem(bound) is not None
                assert taken, f"{cell}: generated name {bound!r} is not reserved"


def _derived_from(bound: str, user: str) -> bool:
    """Whether ``bound`` is the user's name or one the generator makes of it (g_W, h_prev, tape_d_z)."""
    return any(bound == f"{p}{user}{s}" for p in DERIVED_PREFIXES for s in DERIVED_SUFFIXES)


def _bound_names(source: str) -> set[str]:
    """Names bound at module level or inside forward, loss and loss_and_grads (helpers' locals excluded)."""
    out: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            out.add(node.name)
            if node.name in ("forward", "loss", "loss_and_grads"):
                out.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
                out.update(a.arg for a in ast.walk(node) if isinstance(a, ast.arg))
        elif isinstance(node, ast.Assign):
            out.update(n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name) for a in node.names)
    return out
