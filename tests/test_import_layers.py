"""One-way layers: every import of a symrnn module goes down the order below, and none closes a circle.

The order is written once, as data (:data:`LAYERS`), bottom first; the README's layout section
says the same in words. Imports are read with ``ast`` from the source, function-local ones
included, so an import hidden in a method still counts. A module imports only modules of a lower
layer or of its own entry (a package's modules among themselves); two entries of one layer are
siblings and do not import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symrnn"

# Bottom first. An entry is a module or a package (all its modules), or a tuple of them that
# may import each other; a module belongs to the longest name that is it or a package above it.
# Finer than the README's eight groups where the code needs it: simplification orders its leaves
# by their printed form, so it sits above the printers; cells sit below the derivation of them;
# the derivation is data (symrnn.bptt) low down, and with its output methods (symrnn.derivation)
# above the printers and code generators those methods call.
LAYERS: list[tuple[str, list]] = [
    ("the function table", ["symrnn.functions", "symrnn.files"]),
    ("the IR", ["symrnn.ir"]),
    ("rules, losses, the cell builder", [
        "symrnn.rules", "symrnn.losses", "symrnn.cellspec", "symrnn.activations", "symrnn.equation_kinds",
    ]),
    ("expression and equation printers", ["symrnn.printing"]),
    ("simplification", ["symrnn.simplify"]),
    ("the catalogue", ["symrnn.catalogue"]),
    ("derivation (the recurrences as data)", ["symrnn.bptt"]),
    ("the evaluator", ["symrnn.evaluate"]),
    ("code generation", ["symrnn.codegen"]),
    ("checks", [("symrnn.checks", "symrnn.problems", "symrnn.oracle")]),
    ("equivalence, gradient flow, PyTorch interop, layers", [
        "symrnn.equivalence", "symrnn.gradient_flow", "symrnn.torch_interop", "symrnn.layers",
    ]),
    ("the derived BPTT as a torch function (its readout and loss run as a derived layer)", [
        "symrnn.codegen.torch_function",
    ]),
    ("documents", [(
        "symrnn.printing.document", "symrnn.printing.latex_document", "symrnn.printing.markdown_document",
        "symrnn.printing.walkthrough", "symrnn.printing.appendix",
        "symrnn.printing.paths", "symrnn.gradient_flow.section",
    )]),
    ("the derivation with its outputs (documents, code)", ["symrnn.derivation"]),
    ("notes and export", ["symrnn.notes", "symrnn.export", "symrnn.testing"]),
    ("API and CLI", [("symrnn.api", "symrnn.cli", "symrnn.notebook", "symrnn")]),
]  # fmt: skip

# Upward imports not yet removed, each (importer, imported): the test fails when one of them
# disappears (take it off the list) and when any import not listed goes up. Keep it shrinking.
KNOWN_UPWARD: set[tuple[str, str]] = set()

# Packages whose modules still import each other in a circle, with why; the test fails on any
# circle that leaves such a package, and when a package listed here has none left.
KNOWN_CIRCLES: dict[str, str] = {}  # area → why a circle inside it is tolerated for now (none is)


def module_names(package: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name), sorted."""
    names = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _target(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _runtime_nodes(tree: ast.AST):
    """Every node of the module except the bodies of ``if TYPE_CHECKING:`` (imports for annotations only)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            test = child.test if isinstance(child, ast.If) else None
            if test is not None and ast.unparse(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                todo.extend(child.orelse)
                continue
            todo.append(child)


def import_graph(package: Path = PACKAGE) -> dict[str, list[str]]:
    """module → the symrnn modules it imports anywhere in its source (function-local too), sorted.

    Imports under ``if TYPE_CHECKING:`` are left out: they never run, they name types for annotations.
    """
    modules = module_names(package)
    graph = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(_target(alias.name, modules) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    base = ".".join(parent + ([base] if base else []))
                for alias in node.names:  # `from symrnn import ir` imports the module symrnn.ir
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in modules else _target(base, modules))
        graph[name] = sorted(t for t in targets if t and t != name and t.startswith("symrnn"))
    return graph


def circles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def place(module: str, layers=LAYERS) -> tuple[int, str | tuple[str, ...]]:
    """(layer number, entry) of a module: the longest entry naming it or a package above it.

    The top package ``symrnn`` names only its own ``__init__``, so a new module is never placed by it.
    """
    best = None
    for number, (_, entries) in enumerate(layers):
        for entry in entries:
            for name in entry if isinstance(entry, tuple) else (entry,):
                inside = module.startswith(name + ".") and name != "symrnn"
                if (module == name or inside) and (best is None or len(name) > best[2]):
                    best = (number, entry, len(name))
    if best is None:
        raise KeyError(f"{module} has no place in the layers: add it to LAYERS in {__file__}")
    return best[:2]


def wrong_imports(graph: dict[str, list[str]], layers=LAYERS) -> dict[tuple[str, str], str]:
    """Every import that goes up the layers or across to a sibling entry: (importer, imported) → why."""
    found = {}
    for importer, targets in sorted(graph.items()):
        number, entry = place(importer, layers)
        for target in targets:
            target_number, target_entry = place(target, layers)
            if target_entry == entry or target_number < number:
                continue
            how = "a sibling" if target_number == number else "upward"
            found[importer, target] = (
                f"{importer} ({layers[number][0]}) imports {how} {target} ({layers[target_number][0]})"
            )
    return found


def test_every_module_has_a_place():
    for module in import_graph():
        place(module)


def test_no_import_circles():
    found = circles(import_graph())
    inside = {area: [c for c in found if all(m.startswith(area + ".") for m in c)] for area in KNOWN_CIRCLES}
    assert [c for c in found if not any(c in known for known in inside.values())] == []
    assert [area for area, known in inside.items() if not known] == [], "no circle left: take it off KNOWN_CIRCLES"


def test_imports_go_down_the_layers():
    found = wrong_imports(import_graph())
    assert [why for edge, why in found.items() if edge not in KNOWN_UPWARD] == []
    assert sorted(KNOWN_UPWARD - set(found)) == [], "these imports are gone: take them off KNOWN_UPWARD"


# The checks above on synthetic graphs: each could fail, and does when an import runs the wrong way.
SYNTHETIC_LAYERS = [("bottom", ["symrnn.ir"]), ("middle", ["symrnn.a", "symrnn.b"]), ("top", ["symrnn.cli"])]


def test_an_upward_import_is_reported():
    graph = {"symrnn.ir": ["symrnn.a"], "symrnn.a": [], "symrnn.b": [], "symrnn.cli": ["symrnn.a"]}
    assert wrong_imports(graph, SYNTHETIC_LAYERS) == {
        ("symrnn.ir", "symrnn.a"): "symrnn.ir (bottom) imports upward symrnn.a (middle)"
    }


def test_a_sibling_import_is_reported_and_a_downward_one_is_not():
    graph = {"symrnn.ir": [], "symrnn.a": ["symrnn.b", "symrnn.ir"], "symrnn.b": [], "symrnn.cli": ["symrnn.b"]}
    assert wrong_imports(graph, SYNTHETIC_LAYERS) == {
        ("symrnn.a", "symrnn.b"): "symrnn.a (middle) imports a sibling symrnn.b (middle)"
    }


def test_a_package_s_own_modules_may_import_each_other_but_not_in_a_circle():
    layers = [("all", ["symrnn.codegen"])]
    graph = {"symrnn.codegen.a": ["symrnn.codegen.b"], "symrnn.codegen.b": ["symrnn.codegen.c"], "symrnn.codegen.c": []}
    assert wrong_imports(graph, layers) == {}
    assert circles(graph) == []
    graph["symrnn.codegen.c"] = ["symrnn.codegen.a"]
    assert circles(graph) == [["symrnn.codegen.a", "symrnn.codegen.b", "symrnn.codegen.c"]]


def test_function_local_and_relative_imports_are_read(tmp_path):
    package = tmp_path / "symrnn"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "ir.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from symrnn.sub import leaf\n"
        "def f():\n    from symrnn.cli import main\n"
    )
    (package / "cli.py").write_text("import symrnn.ir\n")
    (package / "sub" / "__init__.py").write_text("from . import leaf\nfrom ..ir import f\n")
    (package / "sub" / "leaf.py").write_text("from symrnn import ir\n")
    graph = import_graph(package)
    assert graph == {
        "symrnn": [],
        "symrnn.cli": ["symrnn.ir"],
        "symrnn.ir": ["symrnn.cli"],
        "symrnn.sub": ["symrnn.ir", "symrnn.sub.leaf"],
        "symrnn.sub.leaf": ["symrnn.ir"],
    }
    assert circles(graph) == [["symrnn.cli", "symrnn.ir"]]


def test_a_module_without_a_place_is_named():
    with pytest.raises(KeyError, match="symrnn.new_thing has no place"):
        place("symrnn.new_thing", SYNTHETIC_LAYERS)
