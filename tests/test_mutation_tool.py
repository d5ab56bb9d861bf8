"""benchmarks/mutation.py: its cosmic-ray configs, its seeded sample through the WorkDB, its reading of results."""

from __future__ import annotations

from pathlib import Path

import pytest

cosmic_ray = pytest.importorskip("cosmic_ray")  # the optional [mutation] extra

from cosmic_ray import work_item  # noqa: E402
from cosmic_ray.commands import init  # noqa: E402
from cosmic_ray.config import deserialize_config, serialize_config  # noqa: E402
from cosmic_ray.work_db import WorkDB, use_db  # noqa: E402
from cosmic_ray.work_item import WorkerOutcome, WorkResult  # noqa: E402

from benchmarks.mutation import GROUPS, ROOT, config, outcomes, sample  # noqa: E402

KILLED, SURVIVED = work_item.TestOutcome.KILLED, work_item.TestOutcome.SURVIVED

SOURCE = """def f(a, b):
    if a < b and a != 0:
        return a + b * 2
    return a - 1 | b
"""


def test_every_group_names_existing_modules_and_fast_tests_never_the_snapshots():
    assert {"rules", "simplify", "derivation", "evaluator", "codegen", "losses", "checks", "notes-checker"} <= set(
        GROUPS
    )
    for name, group in GROUPS.items():
        assert all((ROOT / m).is_file() for m in group.modules), name
        assert all((ROOT / t).is_file() for t in group.tests), name
        assert all("derivations" not in t for t in group.tests)


def test_a_group_config_is_a_cosmic_ray_config_running_only_its_tests():
    cfg = deserialize_config(serialize_config(config("losses", timeout=30)))
    assert cfg.test_command.endswith("tests/test_losses.py tests/test_gradcheck_independent.py")
    assert cfg.timeout == 30.0 and cfg.distributor_name == "local"
    assert cfg["module-path"] == ["symrnn/losses.py"]


def _session(tmp_path: Path):
    (tmp_path / "m.py").write_text(SOURCE)
    return use_db(str(tmp_path / "s.sqlite"), WorkDB.Mode.create)


def _pending(db) -> list[tuple]:
    return sorted(
        (str(m.module_path), m.start_pos, m.operator_name) for i in db.pending_work_items for m in i.mutations
    )


def test_the_sample_is_seeded_and_the_rest_is_skipped_as_cosmic_rays_filters_do(tmp_path):
    picks = []
    for seed in (3, 3, 4):
        with _session(tmp_path) as db:
            init([tmp_path / "m.py"], db, {})
            total = db.num_work_items
            assert sample(db, 4, seed, "g") == 4
            picks.append(_pending(db))
            skipped = [r for _, r in db.results]
            assert len(skipped) == total - 4 and all(r.worker_outcome == WorkerOutcome.SKIPPED for r in skipped)
            assert any(r.output == "Filtered operator" for r in skipped)  # e.g. + → |
    assert picks[0] == picks[1] != picks[2]
    assert not any("BitOr" in op.split("_")[-1] for p in picks for _, _, op in p)


def test_results_are_read_back_as_killed_survived_or_equivalent(tmp_path):
    with _session(tmp_path) as db:
        init([tmp_path / "m.py"], db, {})
        sample(db, 3, 0, "g")
        items = sorted(db.pending_work_items, key=lambda i: i.mutations[0].start_pos)
        diff = "--- a\n+++ b\n@@ -1 +1 @@\n-    return a - 1\n+    return a + 1\n"
        db.set_result(items[0].job_id, WorkResult(WorkerOutcome.NORMAL, "", KILLED, diff))
        db.set_result(items[1].job_id, WorkResult(WorkerOutcome.NORMAL, "", SURVIVED, diff))
        db.set_result(items[2].job_id, WorkResult(WorkerOutcome.NORMAL, "", SURVIVED, diff))
        path = str(items[2].mutations[0].module_path)
        got = outcomes(db, "g", [{"path": path, "was": "return a - 1", "now": "return a + 1", "why": "same"}])
    assert sorted(o.status for o in got) == ["equivalent", "equivalent", "killed"]
    got_plain = [o.status for o in outcomes_without_equivalents(tmp_path)]
    assert sorted(got_plain) == ["killed", "survived", "survived"]
    assert all(o.was == "return a - 1" and o.now == "return a + 1" for o in got)


def outcomes_without_equivalents(tmp_path):
    with use_db(str(tmp_path / "s.sqlite"), WorkDB.Mode.open) as db:
        return outcomes(db, "g", [])
