"""NotesSyntaxError: math in a note that cannot be read, with its place in the file."""

from __future__ import annotations

import unicodedata


def printable(text: str) -> str:
    """``text`` with control and format characters escaped (``\\x1b``, ``\\u202e``), tabs kept.

    Notes may hold ANSI escapes or bidi overrides; a message never echoes them raw.
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch == "\t" or (ch.isprintable() and unicodedata.category(ch) != "Cf"):
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)


class NotesSyntaxError(ValueError):
    """``file:line:col: message``, then the source line and a caret under the column.

    ``line`` and ``column`` are 1-based and point into the original note file.
    ``construct`` names what could not be read when that is known (``\\iint``,
    "unclosed $$"); ``where`` adds a place inside the file (a notebook's
    "cell 3, line 2").  Printing escapes control characters of the note.
    """

    def __init__(
        self,
        file: str,
        line: int,
        column: int,
        message: str,
        source_line: str = "",
        construct: str | None = None,
        where: str | None = None,
    ):
        super().__init__(file, line, column, message, source_line)
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.source_line = source_line
        self.construct = construct
        self.where = where

    def __str__(self) -> str:
        line = printable(self.source_line)
        # Copy tabs from the source line so the caret lines up however tabs render.
        before = printable(self.source_line[: self.column - 1])
        pad = "".join("\t" if ch == "\t" else " " for ch in before)
        pad += " " * max(0, self.column - 1 - len(self.source_line))
        where = f" ({self.where})" if self.where else ""
        head = f"{printable(self.file)}:{self.line}:{self.column}: {printable(self.message)}{where}"
        return f"{head}\n    {line}\n    {pad}^"
