"""The bounds on what the notes reader accepts, each named once and quoted in the error it causes.

Real notes stay far inside every one of them; they exist so that hostile or
broken input (``/dev/zero``, a 5,000-digit number, ``a_{k+200000}``) costs
bounded time and memory and gets a message that says which bound it crossed.
"""

from __future__ import annotations

# A note file larger than this is refused before it is read (checked with stat,
# then by reading at most one byte more than the limit, so /dev/zero is safe).
MAX_FILE_BYTES = 4 * 1024 * 1024
# A LaTeX document is walked by pylatexenc (pure Python, ~0.2 MB/s): smaller bound.
MAX_LATEX_BYTES = 1024 * 1024
# One piece of math (an equation row) longer than this is left unchecked.
MAX_EQUATION_CHARS = 20_000
# Brackets or braces nested deeper than this in one piece of math.
MAX_NESTING = 40
# Braces nested deeper than this in a LaTeX document (pylatexenc recurses per level).
MAX_DOCUMENT_NESTING = 200
# Trees deeper than this (after reading; a flat sum of many terms is shallow).
MAX_TREE_DEPTH = 200
# Terms of one flat sum or product (a chain of one operator: its readers walk it recursively).
MAX_TERMS = 300
# Digits in one number (400-digit numbers are refused; 2^{99999999999} has 11).
MAX_NUMBER_DIGITS = 30
# |k| in a step t ± k, and a fixed step written as an integer (h_{200000}).
MAX_STEP_OFFSET = 1000
# An integer limit of a sum or product (\sum_{t=1}^{10^9}).
MAX_SUM_LIMIT = 1000
# An integer exponent (x^{99999999999}).
MAX_EXPONENT = 1000
# Macro expansion: nested expansions, and the size of the expanded text.
MAX_MACRO_DEPTH = 20
MAX_MACRO_EXPANSION_CHARS = 50_000
# Macros one note may define.
MAX_MACROS = 500
# Markdown cells of one notebook.
MAX_NOTEBOOK_CELLS = 10_000


def too_big(what: str, limit: int, unit: str = "") -> str:
    """The message for ``what`` crossing ``limit``: "… (the limit is 40 levels)"."""
    unit = f" {unit}" if unit else ""
    return f"{what} (the limit is {limit:,}{unit})"
