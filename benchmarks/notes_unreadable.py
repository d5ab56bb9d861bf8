"""Which math of the corpus notes the reader cannot read, grouped by what it names.

``python -m benchmarks.notes_unreadable [-v]`` reads every note of
tests/notes/corpus with the notes reader alone (no checking) and prints the
unreadable pieces of math: how many are on lines the manifests list as claims,
how many elsewhere, grouped by the construct or message; ``-v`` lists each one.
"""

from __future__ import annotations

import re
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

from symrnn.notes.read import read_notes

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "notes" / "corpus"


def _claim_lines(note: Path) -> set[int]:
    manifest = note.with_name(note.name.split(".")[0] + ".expect.toml")
    if not manifest.exists():
        return set()
    return {claim["line"] for claim in tomllib.loads(manifest.read_text(encoding="utf-8")).get("claim", [])}


def _group(message: str) -> str:
    """A message without its particular names, so alike problems count together."""
    return re.sub(r"'[^']*'", "'…'", message)[:90]


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    notes = sorted(p for p in CORPUS.iterdir() if p.suffix in (".md", ".tex", ".ipynb"))
    claims = Counter()
    others = Counter()
    total_claims = 0
    unread_lines: set[tuple[str, int]] = set()
    start = time.perf_counter()
    for note in notes:
        lines = _claim_lines(note)
        total_claims += len(lines)
        read = read_notes(note, strict=False)
        for u in read.unreadable:
            group = f"{u.construct or '-'}: {_group(u.message)}"
            on_claim = u.line in lines
            (claims if on_claim else others)[group] += 1
            if on_claim:
                unread_lines.add((note.name, u.line))
            if verbose:
                tag = "CLAIM" if on_claim else "other"
                print(f"{tag} {note.name}:{u.line}:{u.column}: {u.message}\n      {u.latex[:110]!r}")
    elapsed = time.perf_counter() - start
    print(
        f"{len(notes)} notes, {total_claims} claim lines, {len(unread_lines)} claim lines with unreadable math, "
        f"{sum(others.values())} other pieces unreadable ({elapsed:.1f} s)"
    )
    for title, counter in (("on claim lines", claims), ("elsewhere", others)):
        print(f"-- {title}")
        for group, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"{n:4d}  {group}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
