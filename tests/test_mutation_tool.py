"""benchmarks/mutation.py's mutator: which nodes it mutates, that a mutant differs in exactly that node."""

from __future__ import annotations

import ast

from benchmarks.mutation import MODULES, choose, module_files, mutated_source, sites

SOURCE = '''"""A docstring with 1 + 2 in it."""


def f(a: int = 3, b=4.0):
    """Also skipped: 5 < 6."""
    if a < b and not a == 0:
        raise ValueError(f"bad {a + 1}")
    assert a != 2, "message"
    return -a + b * 2


class C:
    def __repr__(self):
        return str(1 + 1)
'''


def test_sites_skip_docstrings_messages_annotations_and_reprs(tmp_path):
    (tmp_path / "m.py").write_text(SOURCE)
    found = sites("m.py", tmp_path)
    assert [(s.line, s.kind) for s in found] == [
        (4, "3 -> 4"),
        (4, "4.0 -> 8.0"),
        (6, "And -> Or"),
        (6, "Lt -> LtE"),
        (6, "drop Not"),
        (6, "Eq -> NotEq"),
        (6, "0 -> 1"),
        (9, "Add -> Sub"),
        (9, "drop USub"),
        (9, "Mult -> Div"),
        (9, "2 -> 3"),
    ]
    assert sites("m.py", tmp_path) == found  # a fixed order


def test_a_mutant_differs_from_the_original_in_exactly_its_node(tmp_path):
    (tmp_path / "m.py").write_text(SOURCE)
    original = ast.dump(ast.parse(SOURCE))
    for site in sites("m.py", tmp_path):
        mutant = mutated_source("m.py", site.index, tmp_path)
        assert ast.dump(ast.parse(mutant)) != original, site
    assert "return -a + b / 2" in mutated_source("m.py", 9, tmp_path)
    assert "if a < b or not a == 0:" in mutated_source("m.py", 2, tmp_path)


def test_the_sample_is_seeded_and_covers_every_module_named_by_the_issue():
    assert {"rules", "simplify", "derivation", "evaluator", "codegen", "losses", "checks", "notes-checker"} <= set(
        MODULES
    )
    for name, (paths, tests) in MODULES.items():
        assert module_files(paths), f"{name}: none of {paths} exists"
        assert all("derivations" not in t for t in tests)  # the snapshot tests are set aside
    a, _ = choose(2, ["losses", "rules"], seed=3)
    b, _ = choose(2, ["losses", "rules"], seed=3)
    c, _ = choose(2, ["losses", "rules"], seed=4)
    assert a == b and len(a) == 4 and a != c
