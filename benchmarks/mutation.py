"""Mutation score of the test suite: one-line AST mutants of the core modules, each run against its tests.

Run from the repository root:

    python -m benchmarks.mutation --quick            # a few mutants per module, a few minutes
    python -m benchmarks.mutation --per-module 40    # a larger deterministic sample
    python -m benchmarks.mutation --all              # every mutant (hours on a small machine)
    python -m benchmarks.mutation --list             # how many mutants each module has; runs nothing

Not CI: it runs pytest once per mutant.  Why an AST mutator of our own and not mutmut or cosmic-ray:
both run the whole suite first (minutes here) and then one process per mutant with no bounded,
reproducible sample; this script draws a seeded sample per module, runs only that module's tests
(the ``derivations/`` snapshot tests are never among them, as issue 19 asks) and stops at a time
budget, so a measured score comes back in minutes.  The operators are the usual ones (mutmut's
core set): arithmetic ``+ - * / @ ** //`` swapped, comparisons flipped at the boundary and negated,
``and``/``or`` swapped, ``not`` and unary minus dropped, number constants moved by one,
``True``/``False`` swapped, ``+=``/``-=`` swapped.  Docstrings, strings, annotations, ``raise`` and
``assert`` statements (messages) and ``__repr__`` bodies are not mutated.

Each mutant is the module's source with one node changed, written by ``ast.unparse`` into a private
copy of the tree (``symrnn/`` and ``tests/``, taken when the run starts), so the working tree is
never touched and edits to it during a run change nothing.  A mutant is
*killed* when its tests fail (a collection error included), *timeout* (counted as killed) when they run over the limit, and
*survived* when they pass; the score is (killed + timeout) / run.  Survivors are printed with their
line so each can be judged: a new test, or an explanation of why it is equivalent.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Module group → (source files, the tests that exercise them).  Tests are chosen to be fast and
# direct; none reads derivations/ (the snapshot tests are set aside, as issue 19 asks).
MODULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rules": (("symrnn/rules.py",), ("tests/test_rules.py", "tests/test_derivation.py")),
    "simplify": (
        ("symrnn/simplify.py",),
        ("tests/test_simplify.py", "tests/test_rules.py", "tests/test_derivation.py"),
    ),
    "derivation": (("symrnn/derivation.py",), ("tests/test_derivation.py", "tests/test_references.py")),
    "evaluator": (
        ("symrnn/evaluate.py", "symrnn/evaluate"),
        ("tests/test_evaluate_close.py", "tests/test_evaluate.py"),
    ),
    "codegen": (
        ("symrnn/codegen/numpy_printer.py", "symrnn/codegen/numpy_module.py", "symrnn/codegen/emitter.py"),
        ("tests/test_codegen.py", "tests/test_codegen_fuzz.py"),
    ),
    "codegen-optimised": (
        ("symrnn/codegen/optimized.py", "symrnn/codegen/plan.py", "symrnn/codegen/bulk.py"),
        ("tests/test_optimize.py", "tests/test_codegen_fuzz.py"),
    ),
    "losses": (("symrnn/losses.py",), ("tests/test_losses.py",)),
    "checks": (("symrnn/checks.py",), ("tests/test_gradcheck.py", "tests/test_gradcheck_independent.py")),
    "notes-checker": (
        ("symrnn/notes/checker.py", "symrnn/notes/verdicts.py", "symrnn/notes/numeric.py"),
        ("tests/notes/test_notes_check.py",),
    ),
}

QUICK_PER_MODULE = 3


@dataclass(frozen=True)
class Site:
    """One mutation: the ``index``-th mutable node of ``path`` (in ast.walk order), what it becomes."""

    path: str
    index: int
    line: int
    kind: str  # e.g. "Add -> Sub", "1 -> 2"


@dataclass
class Outcome:
    """What the tests said about one mutant."""

    site: Site
    status: str  # "killed", "timeout", "survived" or "error" (the mutant did not even compile)
    seconds: float
    source_line: str = ""
    mutated_line: str = ""


@dataclass
class Report:
    """Per-module counts and the survivors of one run."""

    outcomes: list[Outcome] = field(default_factory=list)
    sites_per_module: dict[str, int] = field(default_factory=dict)
    stopped_early: bool = False

    def by_module(self) -> dict[str, list[Outcome]]:
        out: dict[str, list[Outcome]] = {}
        for o in self.outcomes:
            out.setdefault(_module_of(o.site.path), []).append(o)
        return out


def _module_of(path: str) -> str:
    for name, (paths, _) in MODULES.items():
        if any(path == p or path.startswith(p.rstrip("/") + "/") for p in paths):
            return name
    return "?"


# ------------------------------------------------------------------ the operators

_BINOP_SWAPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.MatMult: ast.Mult,
    ast.Pow: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
}
_CMP_SWAPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_AUG_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add}


def _mutation_of(node: ast.AST) -> str | None:
    """The mutation this node admits, as a short description, or None."""
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
        return f"{type(node.op).__name__} -> {_BINOP_SWAPS[type(node.op)].__name__}"
    if isinstance(node, ast.AugAssign) and type(node.op) in _AUG_SWAPS:
        return f"{type(node.op).__name__}= -> {_AUG_SWAPS[type(node.op)].__name__}="
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP_SWAPS:
        return f"{type(node.ops[0]).__name__} -> {_CMP_SWAPS[type(node.ops[0])].__name__}"
    if isinstance(node, ast.BoolOp):
        return "And -> Or" if isinstance(node.op, ast.And) else "Or -> And"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        return f"drop {type(node.op).__name__}"
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            return f"{v} -> {not v}"
        if isinstance(v, int):
            return f"{v} -> {v + 1}"
        if isinstance(v, float):
            return f"{v!r} -> {_moved_float(v)!r}"
    return None


def _moved_float(v: float) -> float:
    return v + 1.0 if v == 0.0 else v * 2.0


def _apply(node: ast.AST) -> ast.AST:
    """The mutated replacement for ``node`` (a new node; ``node`` itself is left alone)."""
    new = copy.copy(node)
    if isinstance(node, ast.BinOp):
        new.op = _BINOP_SWAPS[type(node.op)]()
    elif isinstance(node, ast.AugAssign):
        new.op = _AUG_SWAPS[type(node.op)]()
    elif isinstance(node, ast.Compare):
        new.ops = [_CMP_SWAPS[type(node.ops[0])]()]
    elif isinstance(node, ast.BoolOp):
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.UnaryOp):
        return node.operand
    elif isinstance(node, ast.Constant):
        v = node.value
        new.value = (not v) if isinstance(v, bool) else (v + 1 if isinstance(v, int) else _moved_float(v))
    return new


def _skipped_children(node: ast.AST) -> list[ast.AST]:
    """Subtrees never mutated: messages, annotations, docstrings, f-strings, reprs."""
    out: list[ast.AST] = []
    if isinstance(node, (ast.Raise, ast.Assert, ast.JoinedStr)):
        out.append(node)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        out.extend(a.annotation for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs if a.annotation)
        if node.returns:
            out.append(node.returns)
        out.extend(node.decorator_list)
        if node.name in ("__repr__", "__str__"):
            out.append(node)
    if isinstance(node, ast.ClassDef):
        out.extend(node.decorator_list)
    if isinstance(node, ast.AnnAssign):
        out.append(node.annotation)
    return out


def _mutable_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node a mutation applies to, in a fixed order (pre-order walk, skipped subtrees left out)."""
    skipped = _skipped(tree)
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if node in skipped:
            continue
        if _mutation_of(node) is not None and getattr(node, "lineno", None):
            out.append(node)
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return out


def _skipped(tree: ast.AST) -> set:
    skipped: set = set()
    for node in ast.walk(tree):
        skipped.update(_skipped_children(node))
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            skipped.add(body[0])
    return skipped


def _is_docstring(stmt: ast.AST) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def sites(path: str, root: Path = ROOT) -> list[Site]:
    """Every mutation of one source file, in a fixed order.

    Args:
        path: the file, relative to ``root``.
        root: the repository root.

    Returns:
        One :class:`Site` per mutable node.
    """
    tree = ast.parse((root / path).read_text(encoding="utf-8"))
    return [Site(path, i, n.lineno, _mutation_of(n)) for i, n in enumerate(_mutable_nodes(tree))]


def mutated_source(path: str, index: int, root: Path = ROOT) -> str:
    """The source of ``path`` with its ``index``-th mutation applied (through ``ast.unparse``).

    Args:
        path: the file, relative to ``root``.
        index: which mutation (as in :func:`sites`).
        root: the repository root.

    Returns:
        The mutated module's source text.

    Raises:
        IndexError: ``index`` is not a mutation of this file.
    """
    tree = ast.parse((root / path).read_text(encoding="utf-8"))
    target = _mutable_nodes(tree)[index]
    replacement = _apply(target)

    class Swap(ast.NodeTransformer):
        def generic_visit(self, node):
            if node is target:
                return replacement
            return super().generic_visit(node)

    return ast.unparse(ast.fix_missing_locations(Swap().visit(tree)))


def module_files(paths: tuple[str, ...], root: Path = ROOT) -> list[str]:
    """The existing .py files under the given files or package folders, sorted."""
    out: list[str] = []
    for p in paths:
        full = root / p
        if full.is_file() and full.suffix == ".py":
            out.append(p)
        elif full.is_dir():
            out.extend(str(f.relative_to(root)) for f in sorted(full.rglob("*.py")))
    return sorted(set(out))


# ------------------------------------------------------------------ running


def _pytest(workdir: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, float]:
    env = dict(os.environ, PYTHONPATH=str(workdir), PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1")
    env.pop("HYPOTHESIS_PROFILE", None)
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *tests]
    start = time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start
    elapsed = time.perf_counter() - start
    if r.returncode == 0:
        return "passed", elapsed
    if r.returncode == 1:
        return "failed", elapsed
    return f"pytest exit {r.returncode}: {r.stdout.decode(errors='replace')[-400:]}", elapsed


def workspace() -> Path:
    """A private copy of symrnn/, tests/ and pyproject.toml in a new temporary folder."""
    tmp = Path(tempfile.mkdtemp(prefix="symrnn-mutation-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for part in ("symrnn", "tests"):
        shutil.copytree(ROOT / part, tmp / part, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    return tmp


def choose(per_module: int | None, modules: list[str], seed: int, root: Path = ROOT) -> tuple[list[Site], dict]:
    """The sample of mutants to run: ``per_module`` per module (all when None), seeded.

    Returns:
        (the sites in run order, the number of sites each module has).
    """
    chosen: list[Site] = []
    counts = {}
    for name in modules:
        all_sites = [s for f in module_files(MODULES[name][0], root) for s in sites(f, root)]
        counts[name] = len(all_sites)
        rng = random.Random(f"{seed}:{name}")
        if per_module is not None and per_module < len(all_sites):
            all_sites = sorted(rng.sample(all_sites, per_module), key=lambda s: (s.path, s.index))
        chosen.extend(all_sites)
    return chosen, counts


def _log(line: str) -> None:
    print(line, flush=True)


def run(chosen: list[Site], budget: float | None, work: Path, log=_log) -> Report:
    """Run every chosen mutant against its module's tests in a private copy of the tree.

    Args:
        chosen: the mutants (from :func:`choose` over ``work``).
        work: the private copy (from :func:`workspace`); mutants are made from its files, so
            edits to the working tree during a run change nothing.
        budget: stop starting new mutants after this many seconds of mutant runs (the baseline runs
            of the unmutated code are not counted; None: no limit).
        log: where progress lines go.

    Returns:
        The :class:`Report`.

    Raises:
        RuntimeError: a module's tests fail on the unmutated code (the score would mean nothing).
    """
    report = Report()
    try:
        limits: dict[str, float] = {}
        for name in dict.fromkeys(_module_of(s.path) for s in chosen):
            status, seconds = _pytest(work, MODULES[name][1], timeout=600)
            if status != "passed":
                raise RuntimeError(f"{name}: the tests fail on the unmutated code ({status})")
            limits[name] = 3 * seconds + 15
            log(f"baseline {name}: {seconds:.1f} s ({' '.join(MODULES[name][1])})")
        start = time.perf_counter()
        for i, site in enumerate(chosen):
            if budget is not None and time.perf_counter() - start > budget:
                report.stopped_early = True
                log(f"time budget of {budget:.0f} s spent: {len(chosen) - i} mutants not run")
                break
            name = _module_of(site.path)
            original = (work / site.path).read_text(encoding="utf-8")
            target = work / site.path
            try:
                text = mutated_source(site.path, site.index, work)
                compile(text, site.path, "exec")
            except (SyntaxError, ValueError) as e:
                report.outcomes.append(Outcome(site, "error", 0.0, mutated_line=str(e)))
                continue
            target.write_text(text, encoding="utf-8")
            try:
                status, seconds = _pytest(work, MODULES[name][1], timeout=limits[name])
            finally:
                target.write_text(original, encoding="utf-8")
            if status.startswith("pytest exit"):  # e.g. a collection error: the mutant broke an import
                status = "killed"
            status = {"failed": "killed", "passed": "survived"}.get(status, status)
            src_line = original.splitlines()[site.line - 1].strip()
            report.outcomes.append(Outcome(site, status, seconds, src_line, _mutated_line(site, work)))
            log(f"[{i + 1}/{len(chosen)}] {status:8s} {seconds:5.1f} s  {site.path}:{site.line}  {site.kind}")
    except KeyboardInterrupt:
        report.stopped_early = True
        log("interrupted: the score is over the mutants that ran")
    return report


def _mutated_line(site: Site, root: Path) -> str:
    """The mutated node's own text (ast.unparse of the replacement), for the survivor list."""
    tree = ast.parse((root / site.path).read_text(encoding="utf-8"))
    node = _mutable_nodes(tree)[site.index]
    return ast.unparse(_apply(node))[:160]


def summary(report: Report) -> str:
    """The per-module table, the overall score and the survivors, as text."""
    lines = [f"{'module':20s} {'sites':>6s} {'run':>5s} {'killed':>7s} {'timeout':>8s} {'survived':>9s} {'score':>7s}"]
    total_run = total_dead = 0
    for name, outs in report.by_module().items():
        run_ = [o for o in outs if o.status != "error"]
        killed = sum(o.status == "killed" for o in run_)
        timeout = sum(o.status == "timeout" for o in run_)
        survived = sum(o.status == "survived" for o in run_)
        total_run += len(run_)
        total_dead += killed + timeout
        score = f"{100 * (killed + timeout) / len(run_):.0f} %" if run_ else "-"
        sites_n = report.sites_per_module.get(name, 0)
        lines.append(f"{name:20s} {sites_n:6d} {len(run_):5d} {killed:7d} {timeout:8d} {survived:9d} {score:>7s}")
    if total_run:
        lines.append(f"{'all':20s} {'':6s} {total_run:5d} {'':7s} {'':8s} {'':9s} {100 * total_dead / total_run:.0f} %")
    survivors = [o for o in report.outcomes if o.status == "survived"]
    if survivors:
        lines.append("")
        lines.append("survivors (each needs a new test or a reason it is equivalent):")
        for o in survivors:
            lines.append(f"  {o.site.path}:{o.site.line}  {o.site.kind}")
            lines.append(f"      was: {o.source_line}")
            lines.append(f"      now: {o.mutated_line}")
    if report.stopped_early:
        lines.append("")
        lines.append("(the time budget ran out: the score is over the mutants that ran)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: choose, run, print the table and survivors; exit 0 (a low score is a result)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_PER_MODULE} mutants per module")
    ap.add_argument("--per-module", type=int, default=None, help="a seeded sample of N mutants per module")
    ap.add_argument("--all", action="store_true", help="every mutant of every module")
    ap.add_argument("--modules", nargs="+", choices=sorted(MODULES), default=list(MODULES))
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--budget", type=float, default=None, help="stop starting mutants after this many seconds")
    ap.add_argument("--list", action="store_true", help="print the number of mutants per module and exit")
    ap.add_argument("--json", type=Path, default=None, help="also write every outcome to this file")
    args = ap.parse_args(argv)

    per_module = None if args.all else ((args.per_module or QUICK_PER_MODULE) if args.quick else args.per_module)
    if per_module is None and not args.all and not args.list:
        per_module = 10
    if args.list:
        _, counts = choose(per_module, args.modules, args.seed)
        for name in args.modules:
            print(f"{name:20s} {counts[name]:6d} mutants in {' '.join(module_files(MODULES[name][0]))}")
        print(f"{'all':20s} {sum(counts.values()):6d}")
        return 0
    budget = args.budget if args.budget is not None else (300.0 if args.quick else None)
    work = workspace()
    try:
        chosen, counts = choose(per_module, args.modules, args.seed, root=work)
        report = run(chosen, budget, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.sites_per_module = counts
    print()
    print(summary(report))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in report.outcomes], indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
