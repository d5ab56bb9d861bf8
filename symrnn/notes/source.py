"""Positions in a note file: character offsets to 1-based line and column."""

from __future__ import annotations

import bisect
from functools import lru_cache


class SourceMap:
    """Line starts of one text, to turn offsets into (line, column) and back to lines."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of ``offset``; offsets past the end clamp to it."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._starts, offset) - 1
        return index + 1, offset - self._starts[index] + 1

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
