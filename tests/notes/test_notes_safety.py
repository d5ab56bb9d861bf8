"""User text is never evaluated: no eval/exec/compile, no sympy parser."""

from __future__ import annotations

import ast
import builtins
import sys
from pathlib import Path

import pytest

import symrnn.notes
from symrnn.notes import extract_math, function_letters, parse_equation, parse_latex, read_notes

NOTES = Path(__file__).parents[1] / "fixtures" / "notes"
PACKAGE = Path(symrnn.notes.__file__).parent

# Called by name (eval(...)) or as an attribute (sympy.sympify(...)); re.compile is fine.
FORBIDDEN_NAMES = {"eval", "exec", "compile", "sympify", "parse_expr", "__import__", "import_module"}
FORBIDDEN_ATTRIBUTES = {"eval", "exec", "sympify", "parse_expr", "parse_latex", "import_module"}


def _refuse(*args, **kwargs):
    raise AssertionError("user text reached an evaluator")


def test_notes_parse_with_eval_and_exec_disabled(monkeypatch):
    parse_latex("x")  # build the parser first: lark reads its grammar with compile()
    monkeypatch.setattr(builtins, "eval", _refuse)
    monkeypatch.setattr(builtins, "exec", _refuse)
    monkeypatch.setattr(builtins, "compile", _refuse)
    sympy = sys.modules.get("sympy")
    if sympy is not None:
        monkeypatch.setattr(sympy, "sympify", _refuse)
        monkeypatch.setattr(sympy, "parse_expr", _refuse, raising=False)
    paths = sorted(NOTES.glob("*.md"))
    assert len(paths) == 8
    count = 0
    for path in paths:
        notes = read_notes(path)
        chunks = extract_math(path.read_text(encoding="utf-8"), str(path))
        functions = function_letters(chunks)
        for chunk in chunks:
            parse_equation(chunk, functions)
            count += 1
        assert notes.equations
    assert count > 150


# The syntax layer stands alone (no SymPy, nothing else of symrnn); the semantic
# layer (reading.py onwards) uses SymPy on its own expressions, never on text.
SYNTAX = {"__init__.py", "errors.py", "extract.py", "function_letters.py", "parse.py", "read.py", "show.py"}
SYNTAX |= {
    "source.py",
    "tree.py",
    "limits.py",
    "markdown_math.py",
    "latex_math.py",
    "macros.py",
    "notebook.py",
    "prose.py",
    "tree_reader.py",
    "factor_reader.py",
    "script_reader.py",
    "delimiters.py",
    "scripts.py",
}


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_source_calls_no_evaluator(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                assert func.id not in FORBIDDEN_NAMES, f"{path.name}:{node.lineno} calls {func.id}"
            elif isinstance(func, ast.Attribute):
                owner = func.value.id if isinstance(func.value, ast.Name) else ""
                bad = func.attr in FORBIDDEN_ATTRIBUTES or (owner == "builtins" and func.attr == "compile")
                assert not bad, f"{path.name}:{node.lineno} calls {owner}.{func.attr}"


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.glob("*.py") if p.name in SYNTAX), ids=lambda p: p.name)
def test_syntax_layer_imports_no_sympy(path):
    # Evaluator calls are refused in every module by test_source_calls_no_evaluator.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] == "sympy" for a in node.names), path.name
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] != "sympy", path.name
            # stand-alone: nothing from the rest of symrnn
            assert node.level >= 1 or not (node.module or "").startswith("symrnn"), path.name
