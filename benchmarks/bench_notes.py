"""How long ``symrnn check`` takes on each shared note (target: under 5 s per note).

    python -m benchmarks.bench_notes [NOTES_DIR]

Each note is checked three times in this process; the table shows the first run
(imports and derivations warm up there) and the median of the rest, as a
fraction of the 5-second budget.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

BUDGET = 5.0
DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "notes"


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else DEFAULT
    notes = sorted(folder.glob("*.md"))
    notes = [n for n in notes if n.name != "EXPECTED.md"]
    start = time.perf_counter()
    from symrnn.notes.checker import check

    imports = time.perf_counter() - start
    print(f"imports: {imports:.2f} s")
    print(f"{'note':<34} {'equations':>9} {'first':>8} {'median':>8} {'of budget':>10}")
    worst = 0.0
    for note in notes:
        times, count = [], 0
        for _ in range(3):
            t = time.perf_counter()
            count = len(check(note))
            times.append(time.perf_counter() - t)
        median = statistics.median(times[1:])
        worst = max(worst, times[0])
        print(f"{note.name:<34} {count:>9} {times[0]:>7.2f}s {median:>7.2f}s {times[0] / BUDGET:>9.0%}")
    print(f"slowest first run: {worst:.2f} s ({worst / BUDGET:.0%} of the {BUDGET:.0f} s budget)")
    return 0 if worst < BUDGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
