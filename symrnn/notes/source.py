"""A note's text and positions in it: loading (bounded), offsets to line/column, offset maps.

A note comes from a file, from standard input (``-``) or from a string.  It is
read with a size bound before anything else looks at it.  Positions are always
positions in the file as it is on disk: for a notebook that is the JSON text,
so a piece of math found in a Markdown cell maps back through the JSON string
escapes to the file's own line and column (see :mod:`.notebook`).
"""

from __future__ import annotations

import bisect
import os
import stat
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from .errors import NotesSyntaxError, printable
from .limits import MAX_FILE_BYTES, too_big

LATEX_SUFFIXES = (".tex", ".latex", ".ltx")
NOTEBOOK_SUFFIXES = (".ipynb",)
KINDS = ("markdown", "latex", "ipynb")


class NoteInputError(NotesSyntaxError):
    """A whole note cannot be read: missing, too large, not UTF-8, not a notebook."""

    def __init__(self, file: str, message: str, line: int = 1, column: int = 1, source_line: str = "") -> None:
        super().__init__(file, line, column, message, source_line)

    def __str__(self) -> str:
        if self.source_line:
            return super().__str__()
        return f"{printable(self.file)}: {printable(self.message)}"


class SourceMap:
    """Line starts of one text, to turn offsets into (line, column) and back to lines."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0]
        find, start = text.find, text.find("\n")
        while start >= 0:
            self._starts.append(start + 1)
            start = find("\n", start + 1)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of ``offset``; offsets past the end clamp to it."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._starts, offset) - 1
        return index + 1, offset - self._starts[index] + 1

    def offset(self, line: int, column: int = 1) -> int:
        """The offset of 1-based (line, column), clamped to the text."""
        line = max(1, min(line, len(self._starts)))
        return min(self._starts[line - 1] + column - 1, len(self.text))

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its newline ("" if out of range)."""
        if not 1 <= line <= len(self._starts):
            return ""
        start = self._starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start : end if end >= 0 else len(self.text)].rstrip("\r")


@lru_cache(maxsize=16)
def source_map(text: str) -> SourceMap:
    """The SourceMap of ``text``, shared by every chunk of one file."""
    return SourceMap(text)


def error_at(file: str, source: str, offset: int, message: str, construct: str | None = None) -> NotesSyntaxError:
    """A NotesSyntaxError at character ``offset`` of the file text ``source``."""
    smap = source_map(source)
    line, column = smap.position(offset)
    return NotesSyntaxError(file, line, column, message, smap.line_text(line), construct)


@dataclass(frozen=True)
class OffsetMap:
    """Where each character of a derived text (a cell, a joined row, an expansion) is in its parent.

    Segment ``k`` starts at index ``starts[k]`` of the derived text and at offset
    ``targets[k]`` of the parent; inside an ``exact`` segment characters map one
    to one, inside another (a macro's expansion, an inserted space) all map to
    the segment's target.  ``parent`` continues the mapping (None: the parent is
    the file).
    """

    starts: tuple[int, ...]
    targets: tuple[int, ...]
    exact: tuple[bool, ...]
    parent: OffsetMap | None = None

    @classmethod
    def shift(cls, by: int, parent: OffsetMap | None = None) -> OffsetMap:
        """The map of a slice starting at ``by`` of the parent."""
        return cls((0,), (by,), (True,), parent)

    def __call__(self, index: int) -> int:
        k = max(0, bisect.bisect_right(self.starts, index) - 1)
        local = self.targets[k] + (index - self.starts[k] if self.exact[k] else 0)
        return local if self.parent is None else self.parent(local)


@dataclass(frozen=True)
class NoteSource:
    """The text of one note and how to read it.

    ``name`` is what messages call the file (``<stdin>`` for ``-``); ``text`` is
    the file's whole text (for a notebook, its JSON); ``kind`` is one of KINDS.
    """

    name: str
    text: str
    kind: str

    @classmethod
    def from_text(cls, text: str, name: str = "<string>", kind: str | None = None) -> NoteSource:
        """A note given as a string; ``kind`` defaults to what ``name``'s suffix says."""
        if kind is None:
            kind = kind_of(name)
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if len(text) > MAX_FILE_BYTES:
            raise NoteInputError(name, too_big(f"the note has {len(text):,} characters", MAX_FILE_BYTES, "characters"))
        return cls(name, text, kind)


def kind_of(name: str) -> str:
    """ "latex", "ipynb" or "markdown", from a file name's suffix."""
    lower = name.lower()
    if lower.endswith(LATEX_SUFFIXES):
        return "latex"
    if lower.endswith(NOTEBOOK_SUFFIXES):
        return "ipynb"
    return "markdown"


def load_note(path: str | os.PathLike, kind: str | None = None, stdin: BinaryIO | None = None) -> NoteSource:
    """The note at ``path`` (``-``: standard input), read with the size bound.

    Args:
        path: a file name, or ``-`` for standard input.
        kind: "markdown", "latex" or "ipynb"; by default from the suffix (stdin: Markdown).
        stdin: the stream ``-`` reads (default: ``sys.stdin.buffer``).

    Returns:
        The NoteSource.

    Raises:
        NoteInputError: the file is missing, unreadable, not a regular file and
            larger than the bound, larger than MAX_FILE_BYTES, or not UTF-8.
    """
    name = os.fspath(path)
    if name == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = _read_bounded(stream, "<stdin>")
        return NoteSource.from_text(_decode(data, "<stdin>"), "<stdin>", kind or "markdown")
    try:
        info = os.stat(name)
    except OSError as e:
        raise NoteInputError(name, f"cannot read: {e.strerror or e}") from None
    if stat.S_ISDIR(info.st_mode):
        raise NoteInputError(name, "cannot read: it is a directory")
    if stat.S_ISREG(info.st_mode) and info.st_size > MAX_FILE_BYTES:
        raise NoteInputError(name, too_big(f"the file has {info.st_size:,} bytes", MAX_FILE_BYTES, "bytes"))
    try:
        with open(name, "rb") as stream:
            data = _read_bounded(stream, name)
    except OSError as e:
        raise NoteInputError(name, f"cannot read: {e.strerror or e}") from None
    return NoteSource.from_text(_decode(data, name), name, kind or kind_of(name))


def _read_bounded(stream: BinaryIO, name: str) -> bytes:
    """At most MAX_FILE_BYTES bytes; one more means too large (a device or pipe has no size)."""
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise NoteInputError(name, too_big("the input is too large", MAX_FILE_BYTES, "bytes"))
    return data


def _decode(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise NoteInputError(name, f"not UTF-8 text (byte {e.start + 1}, line {line})") from None
    return text[1:] if text.startswith("\ufeff") else text


def read_path_text(path: str | Path) -> str:
    """The text of a note file, bounded like :func:`load_note` (for callers that need only text)."""
    return load_note(path).text
