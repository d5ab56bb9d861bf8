"""Mutation score of the test suite, measured with cosmic-ray over the core modules, group by group.

Run from the repository root (``pip install -e '.[test,mutation]'``):

    python -m benchmarks.mutation --per-group 20            # a seeded sample of 20 mutants per group
    python -m benchmarks.mutation --groups losses checks --per-group 40
    python -m benchmarks.mutation --list                    # how many mutants each group has; runs nothing
    python -m benchmarks.mutation --per-group 20 --keep out/  # keep each group's cosmic-ray session

Not CI: it runs pytest once per mutant.  The mutants, their application and the test runs are
cosmic-ray's own (its core operators, ``cosmic_ray.commands.init`` to enumerate the work items into a
``WorkDB``, ``cosmic_ray.mutating.mutate_and_test`` to run one, the WorkDB's results read back for the
score).  What this script adds is what cosmic-ray leaves to its filters and configs:

- one config per module group (``module-path`` and a ``test-command`` that runs only that group's
  fast tests; the ``derivations/`` snapshot tests are never among them, as issue 19 asks), written
  into the session folder as ``<group>.toml`` beside the session ``<group>.sqlite``, so
  ``cr-report``/``cr-html`` and ``cosmic-ray exec`` work on a kept session;
- a seeded random sample of the work items (the rest marked ``skipped`` in the WorkDB, as cosmic-ray's
  filters do), so a run finishes in a bounded time, plus the operators filter for the operators named
  in ``EXCLUDED_OPERATORS`` (and why);
- the list of survivors judged *equivalent* (``benchmarks/mutation_equivalents.toml``: the line as it
  was, as it became, and why no test can tell them apart), so the score is over the mutants that can
  be killed.

cosmic-ray rewrites the module file in place while a mutant's tests run; the script therefore runs
in a private copy of ``symrnn/``, ``tests/`` and ``pyproject.toml`` taken when the run starts, so the
working tree is never touched.  A mutant is *killed* when its tests fail (a collection error or a
time-out included: cosmic-ray counts a time-out as killed) and *survived* when they pass;
*incompetent* ones (the mutant could not be applied) are not counted.  The score per group is
killed / (run − equivalent).

The AST mutator this script used to be (our own operators, issue 19's first measurement) is gone:
cosmic-ray's operators are a superset of it, and one mutation path is better than two.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shlex
import shutil
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS_FILE = Path(__file__).resolve().parent / "mutation_equivalents.toml"


@dataclass(frozen=True)
class Group:
    """Modules mutated together and the fast tests that must kill their mutants."""

    modules: tuple[str, ...]
    tests: tuple[str, ...]


# Module group → what is mutated and the tests run for each mutant (each run under 20 s on an idle
# 2-core machine; the whole notes suite and test_references.py are too slow to run per mutant).
GROUPS: dict[str, Group] = {
    "rules": Group(("symrnn/rules.py",), ("tests/test_rules.py", "tests/test_derivation.py")),
    "simplify": Group(
        ("symrnn/simplify.py",), ("tests/test_simplify.py", "tests/test_rules.py", "tests/test_derivation.py")
    ),
    "derivation": Group(("symrnn/derivation.py",), ("tests/test_derivation.py", "tests/test_gradcheck_independent.py")),
    "evaluator": Group(
        ("symrnn/evaluate/arithmetic.py", "symrnn/evaluate/driver.py", "symrnn/evaluate/evaluator.py"),
        ("tests/test_evaluate.py", "tests/test_evaluate_close.py"),
    ),
    "codegen": Group(
        ("symrnn/codegen/numpy_printer.py", "symrnn/codegen/numpy_module.py", "symrnn/codegen/emitter.py"),
        ("tests/test_codegen.py", "tests/test_codegen_fuzz.py"),
    ),
    "codegen-optimised": Group(
        (
            "symrnn/codegen/optimized.py",
            "symrnn/codegen/optimized_pieces.py",
            "symrnn/codegen/plan.py",
            "symrnn/codegen/bulk.py",
            "symrnn/codegen/layout.py",
        ),
        ("tests/test_optimize.py", "tests/test_codegen_fuzz.py"),
    ),
    "losses": Group(("symrnn/losses.py",), ("tests/test_losses.py", "tests/test_gradcheck_independent.py")),
    "checks": Group(("symrnn/checks.py",), ("tests/test_gradcheck.py", "tests/test_gradcheck_independent.py")),
    "notes-checker": Group(
        (
            "symrnn/notes/judge.py",
            "symrnn/notes/program.py",
            "symrnn/notes/claims.py",
            "symrnn/notes/verdicts.py",
        ),
        (
            "tests/notes/test_notes_mutation_kills.py",
            "tests/notes/test_check_semantics_safety.py",
            "tests/notes/test_notes_safety.py",
        ),
    ),
}

# Operators left out, by regular expression on cosmic-ray's operator name (its operators-filter):
# a float or an array never meets a shift or a bitwise operator, so those replacements die at the
# first TypeError and would only pad the score; decorator removal kills every @dataclass at import;
# ``==`` ↔ ``is`` on the strings, small ints and None this code compares is the same test in CPython
# (interned literals, singletons), so those mutants are equivalent by construction.
EXCLUDED_OPERATORS = (
    r"core/ReplaceComparisonOperator_(Eq_Is|NotEq_IsNot|Is_Eq|IsNot_NotEq)$",
    r"core/ReplaceBinaryOperator_\w+_(LShift|RShift|BitAnd|BitOr|BitXor)$",
    r"core/ReplaceUnaryOperator_\w+_Invert$",
    r"core/RemoveDecorator$",
)


@dataclass
class Outcome:
    """What the tests said about one mutant, read back from the WorkDB."""

    group: str
    path: str
    line: int
    operator: str
    status: str  # "killed", "survived", "equivalent" or "incompetent"
    was: str = ""
    now: str = ""
    why: str = ""


@dataclass
class Report:
    """Per-group counts and the survivors of one run."""

    outcomes: list[Outcome] = field(default_factory=list)
    work_items: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    not_run: int = 0


def _cosmic_ray():
    try:
        import cosmic_ray  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the install
        raise SystemExit("benchmarks.mutation needs cosmic-ray: pip install -e '.[mutation]'") from e


def config(name: str, timeout: float) -> dict:
    """The cosmic-ray config of one group: its modules, its test command, the local distributor.

    Args:
        name: a key of :data:`GROUPS`.
        timeout: seconds a mutant's tests may run before it counts as killed.

    Returns:
        The ``[cosmic-ray]`` table as a dict (``cosmic_ray.config.serialize_config`` writes it).
    """
    group = GROUPS[name]
    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    return {
        "module-path": list(group.modules),
        "timeout": float(timeout),
        "excluded-modules": [],
        "test-command": shlex.join([*pytest, *group.tests]),
        "distributor": {"name": "local"},
        "filters": {"operators-filter": {"exclude-operators": list(EXCLUDED_OPERATORS)}},
    }


def _spec_key(item) -> tuple:
    m = item.mutations[0]
    return (str(m.module_path), m.start_pos, m.end_pos, m.operator_name, m.occurrence)


def sample(db, per_group: int | None, seed: int, name: str) -> int:
    """Mark every work item outside a seeded sample (and every excluded operator) skipped.

    The sample is drawn from the items sorted by module, position and operator (cosmic-ray's job
    ids are random), so the same seed picks the same mutants while the code is unchanged.

    Args:
        db: the group's ``cosmic_ray.work_db.WorkDB`` after ``init``.
        per_group: how many to keep (None: all).
        seed: the random seed (mixed with the group's name).
        name: the group's name.

    Returns:
        How many work items are left to run.
    """
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    excluded = re.compile("|".join(f"(?:{e})" for e in EXCLUDED_OPERATORS))
    items = sorted(db.pending_work_items, key=_spec_key)
    spans = {p: annotation_spans(Path(p)) for p in {str(i.mutations[0].module_path) for i in items}}
    dropped = [i.job_id for i in items if excluded.match(i.mutations[0].operator_name)]
    typing = [
        i.job_id
        for i in items
        if i.job_id not in set(dropped) and _inside(i.mutations[0].start_pos, spans[str(i.mutations[0].module_path)])
    ]
    if dropped:
        db.set_multiple_results(dropped, WorkResult(output="Filtered operator", worker_outcome=WorkerOutcome.SKIPPED))
    if typing:
        db.set_multiple_results(
            typing, WorkResult(output="in an annotation, never evaluated", worker_outcome=WorkerOutcome.SKIPPED)
        )
    kept = [i for i in items if i.job_id not in set(dropped) | set(typing)]
    if per_group is not None and per_group < len(kept):
        chosen = {i.job_id for i in random.Random(f"{seed}:{name}").sample(kept, per_group)}
        rest = [i.job_id for i in kept if i.job_id not in chosen]
        db.set_multiple_results(
            rest, WorkResult(output=f"not in the sample (seed {seed})", worker_outcome=WorkerOutcome.SKIPPED)
        )
        return len(chosen)
    return len(kept)


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The (start, end) positions of the annotations of a module that never evaluates them.

    Under ``from __future__ import annotations`` an annotation is a string nobody reads at run
    time, so a mutant inside one (``Node | None`` → ``Node * None``) is equivalent by construction;
    such work items are skipped like a filtered operator.  Other modules: none.
    """
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    lazy = any(
        isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations" for a in n.names)
        for n in tree.body
    )
    if not lazy:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            found.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
    return [((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)) for a in found]


def _inside(pos: tuple[int, int], spans) -> bool:
    return any(start <= tuple(pos) < end for start, end in spans)


def workspace() -> Path:
    """A private copy of symrnn/, tests/ and pyproject.toml in a new temporary folder."""
    tmp = Path(tempfile.mkdtemp(prefix="symrnn-mutation-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for part in ("symrnn", "tests"):
        shutil.copytree(ROOT / part, tmp / part, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    return tmp


def load_equivalents(path: Path = EQUIVALENTS_FILE) -> list[dict]:
    """The survivors judged equivalent: each a dict with path, was, now (stripped lines) and why."""
    if not path.exists():
        return []
    return tomllib.loads(path.read_text(encoding="utf-8")).get("equivalent", [])


def _diff_lines(diff: str) -> tuple[str, str]:
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return " / ".join(minus), " / ".join(plus)


def outcomes(db, name: str, equivalents: list[dict]) -> list[Outcome]:
    """Read a group's results back from its WorkDB (skipped items left out), in source order."""
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    out = []
    for item, result in sorted(db.completed_work_items, key=lambda p: _spec_key(p[0])):
        if result.worker_outcome in (WorkerOutcome.SKIPPED, WorkerOutcome.NO_TEST):
            continue
        m = item.mutations[0]
        was, now = _diff_lines(result.diff or "")
        if result.worker_outcome != WorkerOutcome.NORMAL or result.test_outcome == TestOutcome.INCOMPETENT:
            status = "incompetent"
        elif result.test_outcome == TestOutcome.KILLED:
            status = "killed"
        else:
            status = "survived"
        why = ""
        if status == "survived":
            for e in equivalents:
                if e["path"] == str(m.module_path) and e["was"] == was and e["now"] == now:
                    status, why = "equivalent", e["why"]
                    break
        out.append(Outcome(name, str(m.module_path), m.start_pos[0], m.operator_name, status, was, now, why))
    return out


def run_group(
    name: str, per_group: int | None, seed: int, work: Path, session: Path, deadline: float | None, log
) -> tuple[list[Outcome], int, int]:
    """Init, sample, baseline and execute one group's cosmic-ray session inside ``work``.

    Returns:
        (its outcomes, how many work items cosmic-ray made, how many sampled ones were not run).

    Raises:
        RuntimeError: the group's tests fail on the unmutated code (the score would mean nothing).
    """
    from cosmic_ray.commands import init
    from cosmic_ray.config import serialize_config
    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.testing import run_tests
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome

    probe = config(name, timeout=600)
    start = time.perf_counter()
    outcome, output = run_tests(probe["test-command"], 600)
    baseline = time.perf_counter() - start
    if outcome != TestOutcome.SURVIVED:
        raise RuntimeError(f"{name}: the tests fail on the unmutated code:\n{output[-2000:]}")
    cfg = config(name, timeout=3 * baseline + 15)
    (session / f"{name}.toml").write_text(serialize_config(cfg), encoding="utf-8")
    log(f"baseline {name}: {baseline:.1f} s ({' '.join(GROUPS[name].tests)})")
    db_path = session / f"{name}.sqlite"
    with use_db(str(db_path), WorkDB.Mode.create) as db:
        init([Path(p) for p in cfg["module-path"]], db, {})
        total = db.num_work_items
        todo = sample(db, per_group, seed, name)
        pending = sorted(db.pending_work_items, key=_spec_key)
        not_run = 0
        for k, item in enumerate(pending):
            if deadline is not None and time.perf_counter() > deadline:
                not_run = len(pending) - k
                log(f"time budget spent: {not_run} mutants of {name} not run")
                break
            t0 = time.perf_counter()
            result = mutate_and_test(item.mutations, cfg["test-command"], cfg["timeout"])
            db.set_result(item.job_id, result)
            m = item.mutations[0]
            status = result.test_outcome.value if result.test_outcome else result.worker_outcome.value
            log(
                f"[{name} {k + 1}/{todo}] {status:11s} {time.perf_counter() - t0:5.1f} s  "
                f"{m.module_path}:{m.start_pos[0]}  {m.operator_name}"
            )
        return outcomes(db, name, load_equivalents()), total, not_run


def summary(report: Report) -> str:
    """The per-group table, the overall score and the survivors, as text."""
    head = f"{'group':18s} {'items':>6s} {'run':>5s} {'killed':>7s} {'survived':>9s} {'equiv':>6s} {'score':>7s} {'time':>7s}"
    lines = [head]
    tot = {"run": 0, "killed": 0, "survived": 0, "equivalent": 0}
    for name in report.work_items:
        outs = [o for o in report.outcomes if o.group == name and o.status != "incompetent"]
        c = {s: sum(o.status == s for o in outs) for s in ("killed", "survived", "equivalent")}
        tot["run"] += len(outs)
        for s in c:
            tot[s] += c[s]
        live = len(outs) - c["equivalent"]
        score = f"{100 * c['killed'] / live:.0f} %" if live else "-"
        lines.append(
            f"{name:18s} {report.work_items[name]:6d} {len(outs):5d} {c['killed']:7d} {c['survived']:9d} "
            f"{c['equivalent']:6d} {score:>7s} {report.seconds.get(name, 0):6.0f}s"
        )
    live = tot["run"] - tot["equivalent"]
    if live:
        lines.append(
            f"{'all':18s} {'':6s} {tot['run']:5d} {tot['killed']:7d} {tot['survived']:9d} {tot['equivalent']:6d} "
            f"{100 * tot['killed'] / live:6.0f} % {sum(report.seconds.values()):6.0f}s"
        )
    for status, title in (
        ("survived", "survivors (each needs a new test, or a reason in benchmarks/mutation_equivalents.toml):"),
        ("equivalent", "equivalent survivors (benchmarks/mutation_equivalents.toml):"),
        ("incompetent", "incompetent mutants (not counted):"),
    ):
        chosen = [o for o in report.outcomes if o.status == status]
        if chosen:
            lines += ["", title]
            for o in chosen:
                lines.append(f"  {o.path}:{o.line}  {o.operator}")
                lines.append(f"      was: {o.was}")
                lines.append(f"      now: {o.now}")
                if o.why:
                    lines.append(f"      why: {o.why}")
    if report.not_run:
        lines += ["", f"(the time budget ran out: {report.not_run} sampled mutants not run)"]
    return "\n".join(lines)


def count_items(names: list[str]) -> dict[str, int]:
    """How many work items cosmic-ray makes for each group, before and after the operators filter."""
    from cosmic_ray.commands.init import _all_work_items

    excluded = re.compile("|".join(f"(?:{e})" for e in EXCLUDED_OPERATORS))
    out = {}
    for name in names:
        items = list(_all_work_items([ROOT / p for p in GROUPS[name].modules], {}))
        out[name] = sum(not excluded.match(i.mutations[0].operator_name) for i in items)
    return out


@contextlib.contextmanager
def _in_workspace():
    """Run inside a fresh private copy of the tree (cwd and PYTHONPATH), removed afterwards."""
    work = workspace()
    here = Path.cwd()
    old_env = dict(os.environ)
    os.environ.update(PYTHONPATH=str(work), PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1")
    os.environ.pop("HYPOTHESIS_PROFILE", None)
    try:
        os.chdir(work)  # cosmic-ray mutates module paths relative to the working folder
        yield work
    finally:
        os.chdir(here)
        os.environ.clear()
        os.environ.update(old_env)
        shutil.rmtree(work, ignore_errors=True)


def rerun(session: Path, names: list[str], tests: list[str] | None, log) -> list[tuple[str, str]]:
    """Run the survivors of kept sessions again (not those judged equivalent), against today's tests
    (or only ``tests``).

    Each survivor's mutation is applied by cosmic-ray from its stored spec; when the diff it makes
    differs from the stored one (the module changed since), the mutant is reported ``moved`` and
    not run.

    Returns:
        (``path:line operator``, ``killed`` / ``survived`` / ``moved``) per survivor.
    """
    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome

    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    out = []
    with _in_workspace():
        for name in names:
            db_path = session / f"{name}.sqlite"
            if not db_path.exists():
                continue
            command = shlex.join([*pytest, *tests]) if tests else config(name, 600)["test-command"]
            with use_db(str(db_path), WorkDB.Mode.open) as db:
                done = sorted(db.completed_work_items, key=lambda p: _spec_key(p[0]))
            equivalent = {(e["path"], e["was"], e["now"]) for e in load_equivalents()}
            for item, result in done:
                if result.test_outcome != TestOutcome.SURVIVED:
                    continue
                m = item.mutations[0]
                if (str(m.module_path), *_diff_lines(result.diff or "")) in equivalent:
                    continue
                where = f"{m.module_path}:{m.start_pos[0]} {m.operator_name}"
                again = mutate_and_test(item.mutations, command, 120)
                if _diff_lines(again.diff or "") != _diff_lines(result.diff or ""):
                    status = "moved"
                else:
                    status = "killed" if again.test_outcome == TestOutcome.KILLED else "survived"
                was, now = _diff_lines(result.diff or "")
                log(f"{status:8s} {where}\n      was: {was}\n      now: {now}")
                out.append((where, status))
    return out


def read_sessions(session: Path, names: list[str]) -> Report:
    """The report of the sessions kept in a folder (``--keep``), read back from their WorkDBs."""
    from cosmic_ray.work_db import WorkDB, use_db

    report = Report()
    for name in names:
        db_path = session / f"{name}.sqlite"
        if not db_path.exists():
            continue
        with use_db(str(db_path), WorkDB.Mode.open) as db:
            report.outcomes += outcomes(db, name, load_equivalents())
            report.work_items[name] = db.num_work_items
            report.not_run += db.num_work_items - db.num_results
        seconds = session / f"{name}.seconds"
        report.seconds[name] = float(seconds.read_text()) if seconds.exists() else 0.0
    return report


def main(argv: list[str] | None = None) -> int:
    """Command line: per group init, sample, run, then print the table and the survivors; exit 0."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-group", type=int, default=20, help="a seeded sample of N mutants per group")
    ap.add_argument("--all", action="store_true", help="every mutant of every group (hours)")
    ap.add_argument("--groups", nargs="+", choices=sorted(GROUPS), default=list(GROUPS))
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--budget", type=float, default=None, help="stop starting mutants after this many seconds")
    ap.add_argument("--keep", type=Path, default=None, help="keep each group's config and WorkDB in this folder")
    ap.add_argument("--list", action="store_true", help="print the number of mutants per group and exit")
    ap.add_argument(
        "--rerun", type=Path, default=None, help="run the survivors of the sessions kept in this folder again"
    )
    ap.add_argument("--report", type=Path, default=None, help="print the table of the sessions kept in this folder")
    ap.add_argument("--tests", nargs="+", default=None, help="with --rerun: run only these tests")
    args = ap.parse_args(argv)
    _cosmic_ray()

    def log(line: str) -> None:
        print(line, flush=True)

    if args.list:
        for name, n in count_items(args.groups).items():
            print(f"{name:18s} {n:6d} mutants in {' '.join(GROUPS[name].modules)}")
        return 0
    if args.report:
        print(summary(read_sessions(args.report.resolve(), args.groups)))
        return 0
    if args.rerun:
        got = rerun(args.rerun.resolve(), args.groups, args.tests, log)
        counts = {s: sum(st == s for _, st in got) for s in ("killed", "survived", "moved")}
        print(f"\n{len(got)} survivors run again: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
        return 0

    per_group = None if args.all else args.per_group
    report = Report()
    deadline = None if args.budget is None else time.perf_counter() + args.budget
    try:
        with _in_workspace() as work:
            session = args.keep.resolve() if args.keep else work / ".sessions"
            session.mkdir(parents=True, exist_ok=True)
            for name in args.groups:
                t0 = time.perf_counter()
                outs, total, not_run = run_group(name, per_group, args.seed, work, session, deadline, log)
                report.outcomes += outs
                report.work_items[name] = total
                report.seconds[name] = time.perf_counter() - t0
                report.not_run += not_run
                (session / f"{name}.seconds").write_text(f"{report.seconds[name]:.0f}\n", encoding="utf-8")
    except KeyboardInterrupt:
        log("interrupted: the table is over the groups that finished")
    print()
    print(f"seed {args.seed}, {'all' if per_group is None else per_group} mutants per group, cosmic-ray operators")
    print(summary(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
