"""How the notes reader's time grows with the note: the inputs of issue 17, at one tenth and in full.

    python -m benchmarks.bench_notes_scaling

For each input (a 1 MB line of unclosed ``$``, a table with ``$5`` on every row, unclosed ``\\[``
and ``\\(``, one-letter displays, unclosed environments, a LaTeX note) the script reads the full
size and one tenth of it, interleaved, and prints the medians, their ratio (10 for a linear scan,
100 for a quadratic one) and the full size's rate.  The tests count work in function calls
(tests/notes/test_notes_extract.py); time lives here, because a clock on a shared machine drifts,
and because a rescan inside one C call (``str.find`` from the start) shows in time only.
Target (issue 17): a ratio near 10, and the 1 MB note of unclosed ``$`` read in under a second
of CPU.
"""

from __future__ import annotations

import statistics
import time

from symrnn.notes.extract import extract_note
from symrnn.notes.read import read_source
from symrnn.notes.source import NoteSource

ROW = "| thing | $5 |\n"
TABLE = "| item | price |\n|---|---|\n"

# (what, the tenth, the full input, file name); the full inputs are about 1 MB (the table 130 KB).
INPUTS = [
    ("unclosed $ (1 MB)", "$a " * 35_000, "$a " * 350_000, "n.md"),
    ("table of $5 rows", TABLE + ROW * 900, TABLE + ROW * 9_000, "n.md"),
    ("unclosed \\[ and \\(", "\\[ a " * 5_000 + "\\( b " * 5_000, "\\[ a " * 50_000 + "\\( b " * 50_000, "n.md"),
    ("one-letter displays", "$$x\n" * 5_000, "$$x\n" * 50_000, "n.md"),
    ("unclosed environments", "\\begin{align}\n" * 5_000, "\\begin{align}\n" * 50_000, "n.md"),
    ("LaTeX note", "text $a " * 2_000, "text $a " * 20_000, "n.tex"),
    ("whole reader, unclosed $", "costs $5 and " * 8_000, "costs $5 and " * 80_000, "n.md"),
]


def _cpu(text: str, name: str, whole: bool) -> float:
    source = NoteSource.from_text(text, name)
    start = time.process_time()
    read_source(source) if whole else extract_note(source)
    return time.process_time() - start


def main(repeats: int = 3) -> None:
    _cpu("$a$", "n.md", True)  # build the parser before timing
    print(f"{'input':28s} {'chars':>9s} {'tenth':>9s} {'full':>9s} {'ratio':>6s} {'MB/s':>6s}")
    for what, tenth, full, name in INPUTS:
        whole = what.startswith("whole reader")
        small, big = [], []
        for _ in range(repeats):  # interleaved, so drift hits both sizes alike
            small.append(_cpu(tenth, name, whole))
            big.append(_cpu(full, name, whole))
        s, b = statistics.median(small), statistics.median(big)
        print(f"{what:28s} {len(full):9,d} {s:8.3f}s {b:8.3f}s {b / max(s, 1e-9):6.1f} {len(full) / 1e6 / b:6.2f}")


if __name__ == "__main__":
    main()
