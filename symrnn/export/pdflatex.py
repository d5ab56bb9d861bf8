"""Compile an exported ``.tex`` with ``pdflatex``, locked down, in a temporary directory.

``-no-shell-escape`` forbids running programs from the document, ``openin_any=p`` and
``openout_any=p`` (paranoid) keep TeX from reading or writing files outside the working
directory, and ``SOURCE_DATE_EPOCH``/``FORCE_SOURCE_DATE`` make the PDF's dates, and so its
bytes, reproducible.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

TIMEOUT = 120  # seconds per document


class PdflatexError(RuntimeError):
    """pdflatex failed; the message ends with the end of its log."""


def pdflatex_program() -> str | None:
    """The path of ``pdflatex``, or None when it is not installed."""
    return shutil.which("pdflatex")


def compile_pdf(tex_source: str, stem: str, extra_files: dict[str, bytes] | None = None) -> bytes:
    """The PDF of ``tex_source``, compiled as ``stem.tex`` next to ``extra_files`` (e.g. the picture).

    Raises:
        FileNotFoundError: pdflatex is not installed.
        PdflatexError: the document did not compile.
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
        done = subprocess.run(
            [program, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", f"{stem}.tex"],
            cwd=work,
            env=env,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
        pdf = os.path.join(work, f"{stem}.pdf")
        if done.returncode != 0 or not os.path.exists(pdf):
            log = done.stdout.decode("utf-8", "replace").strip().splitlines()
            raise PdflatexError(f"pdflatex failed on {stem}.tex:\n" + "\n".join(log[-20:]))
        with open(pdf, "rb") as f:
            return f.read()
