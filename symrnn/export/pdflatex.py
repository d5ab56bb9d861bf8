"""Compile an exported ``.tex`` with ``pdflatex``, locked down, in a temporary directory, twice.

``-no-shell-escape`` forbids running programs from the document, ``openin_any=p`` and
``openout_any=p`` (paranoid) keep TeX from reading or writing files outside the working
directory, and ``SOURCE_DATE_EPOCH``/``FORCE_SOURCE_DATE`` make the PDF's dates, and so its
bytes, reproducible.  The second run reads what the first wrote (figure numbers, the column
widths of the symbol table), so references and tables have settled in the PDF it returns.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

TIMEOUT = 120  # seconds per run
RUNS = 2


class PdflatexError(RuntimeError):
    """pdflatex failed or timed out; the message is one line naming the document."""


def pdflatex_program() -> str | None:
    """The path of ``pdflatex``, or None when it is not installed."""
    return shutil.which("pdflatex")


def _first_error(log: str) -> str:
    """The first TeX error of a log (``! ...``), or its last line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("!")]
    return (errors or lines or ["no output"])[0]


def compile_pdf(tex_source: str, stem: str, extra_files: dict[str, bytes] | None = None) -> bytes:
    """The PDF of ``tex_source``, compiled as ``stem.tex`` next to ``extra_files`` (its figures).

    Raises:
        FileNotFoundError: pdflatex is not installed.
        PdflatexError: the document did not compile, or a run took longer than TIMEOUT seconds.
    """
    program = pdflatex_program()
    if program is None:
        raise FileNotFoundError("pdflatex was not found")
    env = {
        **os.environ,
        "openin_any": "p",
        "openout_any": "p",
        "SOURCE_DATE_EPOCH": "0",
        "FORCE_SOURCE_DATE": "1",
    }
    with tempfile.TemporaryDirectory(prefix="symrnn-pdflatex-") as work:
        with open(os.path.join(work, f"{stem}.tex"), "w", encoding="utf-8", newline="\n") as f:
            f.write(tex_source)
        for name, data in (extra_files or {}).items():
            with open(os.path.join(work, name), "wb") as f:
                f.write(data)
        for _ in range(RUNS):
            try:
                done = subprocess.run(
                    [program, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", f"{stem}.tex"],
                    cwd=work,
                    env=env,
                    capture_output=True,
                    timeout=TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise PdflatexError(f"{stem}.pdf: pdflatex did not finish within {TIMEOUT} s") from None
            pdf = os.path.join(work, f"{stem}.pdf")
            if done.returncode != 0 or not os.path.exists(pdf):
                log = done.stdout.decode("utf-8", "replace")
                raise PdflatexError(f"{stem}.pdf: pdflatex failed on {stem}.tex: {_first_error(log)}")
        with open(pdf, "rb") as f:
            return f.read()
