"""NotesSyntaxError: math in a note that cannot be read, with its place in the file."""

from __future__ import annotations

from .source import source_map


class NotesSyntaxError(ValueError):
    """``file:line:col: message``, then the source line and a caret under the column.

    ``line`` and ``column`` are 1-based and point into the original note file.
    """

    def __init__(self, file: str, line: int, column: int, message: str, source_line: str = ""):
        super().__init__(file, line, column, message, source_line)
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.source_line = source_line

    def __str__(self) -> str:
        # Copy tabs from the source line so the caret lines up however tabs render.
        pad = "".join("\t" if ch == "\t" else " " for ch in self.source_line[: self.column - 1])
        pad += " " * max(0, self.column - 1 - len(self.source_line))
        return f"{self.file}:{self.line}:{self.column}: {self.message}\n    {self.source_line}\n    {pad}^"


def error_at(file: str, source: str, offset: int, message: str) -> NotesSyntaxError:
    """A NotesSyntaxError at character ``offset`` of the file text ``source``."""
    smap = source_map(source)
    line, column = smap.position(offset)
    return NotesSyntaxError(file, line, column, message, smap.line_text(line))
