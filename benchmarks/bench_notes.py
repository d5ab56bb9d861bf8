"""The notes scoreboard: ``symrnn check`` on every corpus note, against the note's manifest.

    python -m benchmarks.bench_notes [NOTE ...] [--verbose]

Each note of tests/notes/corpus has ``<slug>.expect.toml`` listing its checkable claims by line
with the verdict its torch verify script establishes ("holds" or a planted "wrong").  Per note
the table shows the claims, how many correct claims were confirmed (``holds``), how many planted
errors were caught (``WRONG`` at their line), how many claims came back unchecked, false alarms
(``WRONG`` on a correct claim, or on a line the manifest lists as no claim), false passes
(``holds`` on a planted error) and the time of the check (target: under 2 s a note).  The
targets (issue 14): 0 false alarms, 0 false passes, at most 5 % unchecked, each with a reason.
``--verbose`` prints every claim not confirmed, with the checker's message.

tests/notes/test_corpus_scoreboard.py runs the same scoring (:func:`score_note`).
"""

from __future__ import annotations

import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "notes" / "corpus"
NOTE_SUFFIXES = (".md", ".tex", ".ipynb")
TIME_BUDGET = 2.0
UNCHECKED_TARGET = 0.05

# How one manifest claim came out.
CONFIRMED, CAUGHT, UNCHECKED, FALSE_ALARM, FALSE_PASS = "confirmed", "caught", "unchecked", "false alarm", "false pass"


@dataclass
class ClaimScore:
    """One manifest claim: its line, what the manifest says, what the checker said."""

    line: int
    expected: str  # "holds" or "wrong"
    what: str
    outcome: str  # CONFIRMED, CAUGHT, UNCHECKED, FALSE_ALARM or FALSE_PASS
    verdicts: tuple[str, ...]  # the checker's verdicts on that line
    message: str  # the checker's message (why unchecked, or what it said)


@dataclass
class NoteScore:
    """The scoreboard row of one note."""

    note: str
    claims: list[ClaimScore] = field(default_factory=list)
    stray_alarms: list[tuple[int, str]] = field(default_factory=list)  # WRONG at a line with no claim
    internal_error: str | None = None
    seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(1 for c in self.claims if c.outcome == outcome)

    @property
    def holds(self) -> int:
        return sum(1 for c in self.claims if c.expected == "holds")

    @property
    def wrong(self) -> int:
        return sum(1 for c in self.claims if c.expected == "wrong")

    @property
    def false_alarms(self) -> int:
        return self.count(FALSE_ALARM) + len(self.stray_alarms)


def corpus_notes(folder: Path = CORPUS) -> list[Path]:
    """Every corpus note (a file with a manifest beside it), sorted by name."""
    notes = [p for p in folder.iterdir() if p.suffix in NOTE_SUFFIXES] if folder.is_dir() else []
    return sorted(p for p in notes if _manifest_path(p).exists())


def _manifest_path(note: Path) -> Path:
    return note.with_name(note.name[: -len(note.suffix)] + ".expect.toml")


def _outcome(expected: str, verdicts: list) -> tuple[str, str]:
    said = [v.verdict for v in verdicts]
    if expected == "holds":
        if "wrong" in said:
            return FALSE_ALARM, _message(verdicts, "wrong")
        if "holds" in said:
            return CONFIRMED, _message(verdicts, "holds")
    else:
        if "wrong" in said:
            return CAUGHT, _message(verdicts, "wrong")
        if "holds" in said:
            return FALSE_PASS, _message(verdicts, "holds")
    if not verdicts:
        return UNCHECKED, "no equation read at this line"
    first = verdicts[0]
    reason = first.message or "(no reason given)"
    if first.verdict == "definition":
        reason = f"read as a definition: {reason}"
    return UNCHECKED, reason


def _message(verdicts: list, verdict: str) -> str:
    return next(v.message for v in verdicts if v.verdict == verdict)


def score_note(note: Path) -> NoteScore:
    """Check one corpus note with ``symrnn check`` and score it against its manifest.

    Args:
        note: the note's path (its ``.expect.toml`` lies beside it).

    Returns:
        The note's :class:`NoteScore`; an exception inside the checker is recorded as
        ``internal_error`` (every claim then counts unchecked), never raised.
    """
    from symrnn.notes.checker import check

    manifest = tomllib.loads(_manifest_path(note).read_text(encoding="utf-8"))
    score = NoteScore(note.name)
    start = time.perf_counter()
    try:
        verdicts = check(note)
    except Exception as error:  # noqa: BLE001 - the scoreboard reports a crash as one, and goes on
        verdicts = []
        score.internal_error = f"{type(error).__name__}: {error}"
    score.seconds = time.perf_counter() - start
    by_line: dict[int, list] = {}
    for v in verdicts:
        by_line.setdefault(v.line, []).append(v)
    claimed = set()
    for claim in manifest.get("claim", []):
        line = claim["line"]
        claimed.add(line)
        here = by_line.get(line, [])
        outcome, message = _outcome(claim["verdict"], here)
        if score.internal_error:
            outcome, message = UNCHECKED, f"internal error: {score.internal_error}"
        score.claims.append(
            ClaimScore(line, claim["verdict"], claim.get("what", ""), outcome, tuple(v.verdict for v in here), message)
        )
    for line, here in sorted(by_line.items()):
        if line not in claimed and any(v.verdict == "wrong" for v in here):
            score.stray_alarms.append((line, _message(here, "wrong")))
    return score


def totals(scores: list[NoteScore]) -> dict[str, int]:
    """The corpus totals: claims, correct/planted, confirmed, caught, unchecked, false alarms/passes."""
    return {
        "claims": sum(len(s.claims) for s in scores),
        "holds": sum(s.holds for s in scores),
        "wrong": sum(s.wrong for s in scores),
        "confirmed": sum(s.count(CONFIRMED) for s in scores),
        "caught": sum(s.count(CAUGHT) for s in scores),
        "unchecked": sum(s.count(UNCHECKED) for s in scores),
        "false_alarms": sum(s.false_alarms for s in scores),
        "false_passes": sum(s.count(FALSE_PASS) for s in scores),
        "internal_errors": sum(1 for s in scores if s.internal_error),
        "slow": sum(1 for s in scores if s.seconds > TIME_BUDGET),
    }


def _row(name, claims, holds, wrong, unchecked, alarms, passes, seconds) -> str:
    return f"{name:<38} {claims:>6} {holds:>9} {wrong:>9} {unchecked:>9} {alarms:>6} {passes:>6} {seconds:>7}"


def report(scores: list[NoteScore], *, verbose: bool = False) -> str:
    """The scoreboard as text: one row per note, then the totals."""
    out = [_row("note", "claims", "holds ok", "caught", "unchecked", "alarms", "passes", "time")]
    for s in scores:
        out.append(
            _row(
                s.note,
                len(s.claims),
                f"{s.count(CONFIRMED)}/{s.holds}",
                f"{s.count(CAUGHT)}/{s.wrong}",
                s.count(UNCHECKED),
                s.false_alarms,
                s.count(FALSE_PASS),
                f"{s.seconds:.2f}s",
            )
        )
        if s.internal_error:
            out.append(f"    internal error: {s.internal_error}")
        if verbose:
            for c in s.claims:
                if c.outcome not in (CONFIRMED, CAUGHT):
                    out.append(f"    {c.line}: {c.outcome} ({c.expected}: {c.what}): {c.message.splitlines()[0]}")
            for line, message in s.stray_alarms:
                out.append(f"    {line}: false alarm on a line with no claim: {message.splitlines()[0]}")
    t = totals(scores)
    share = t["unchecked"] / t["claims"] if t["claims"] else 0.0
    out.append(
        _row(
            "total",
            t["claims"],
            f"{t['confirmed']}/{t['holds']}",
            f"{t['caught']}/{t['wrong']}",
            t["unchecked"],
            t["false_alarms"],
            t["false_passes"],
            f"{sum(s.seconds for s in scores):.1f}s",
        )
    )
    out.append(
        f"unchecked {share:.1%} (target ≤ {UNCHECKED_TARGET:.0%}); false alarms {t['false_alarms']}, "
        f"false passes {t['false_passes']} (target 0); internal errors {t['internal_errors']}; "
        f"notes over {TIME_BUDGET:.0f} s: {t['slow']}"
    )
    return "\n".join(out)


def main(argv: list[str]) -> int:
    verbose = "--verbose" in argv
    names = [a for a in argv if a != "--verbose"]
    notes = [Path(n) for n in names] if names else corpus_notes()
    scores = [score_note(n) for n in notes]
    print(report(scores, verbose=verbose))
    t = totals(scores)
    met = t["false_alarms"] == 0 and t["false_passes"] == 0 and t["unchecked"] <= UNCHECKED_TARGET * t["claims"]
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
