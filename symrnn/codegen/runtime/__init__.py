"""Runtime helpers of the generated code, as real Python modules (importable, tested) whose text is copied.

A generated module must stay standalone (NumPy, or torch, and the standard library only), so it
carries its helpers' source.  That source lives here as ordinary modules — ``numpy_math``
(activations and losses of the plain code), ``numpy_checks`` (argument checks), ``numpy_fast``
(what the optimised code calls), ``torch_helpers`` — and :func:`source_text` cuts out the part
between the two marker comments, byte for byte, so the helpers a test imports are the helpers
the generated code runs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

BEGIN = "# ---- copied verbatim into generated modules from the next line on (runtime.source_text) ----\n"
END = "# ---- end of the copied text ----\n"
MODULES = ("numpy_math", "numpy_checks", "numpy_fast", "torch_helpers")


@cache
def source_text(module: str) -> str:
    """The text a generated module carries for one runtime module: the marked part between two newlines.

    Args:
        module: one of ``MODULES``.

    Returns:
        The source between the markers without the blank lines around it, then one newline, all
        preceded by one newline (as the generated code lays it out).

    Raises:
        ValueError: an unknown module, or one whose markers are missing or out of order.
    """
    if module not in MODULES:
        raise ValueError(f"unknown runtime module {module!r}; expected one of {MODULES}")
    text = (Path(__file__).parent / f"{module}.py").read_text(encoding="utf-8")
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"symrnn/codegen/runtime/{module}.py lacks its copy markers")
    return "\n" + text[start + len(BEGIN) : end].strip("\n") + "\n"
