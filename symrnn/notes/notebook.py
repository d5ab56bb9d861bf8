"""The Markdown cells of a Jupyter notebook, with a map from each cell's text to the JSON file.

Positions reported for a notebook are line and column **in the .ipynb file**
(what an editor opened on it shows); messages add "cell N, line L" for the
place inside the notebook.  The JSON is read by :func:`json.loads`; to find
where a cell's text sits in the file, the file's string literals are scanned
(one linear regular expression) and each decoded character is mapped to its
escape sequence in the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .limits import MAX_NOTEBOOK_CELLS, too_big
from .source import NoteInputError, OffsetMap

_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_KEY_SOURCE = re.compile(r'"source"\s*:')


@dataclass(frozen=True)
class Cell:
    """One Markdown cell: its 1-based number among all cells, its text, and the map into the file."""

    number: int
    text: str
    origin: OffsetMap


def markdown_cells(text: str, name: str) -> list[Cell]:
    """The Markdown cells of the notebook JSON ``text``.

    Raises:
        NoteInputError: the text is not a notebook (not JSON, or no list of cells).
    """
    try:
        notebook = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise NoteInputError(name, f"not a Jupyter notebook: the JSON cannot be read ({_short(e)})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise NoteInputError(name, 'not a Jupyter notebook: no "cells" list (nbformat 4 is read)')
    if len(cells) > MAX_NOTEBOOK_CELLS:
        raise NoteInputError(name, too_big(f"the notebook has {len(cells):,} cells", MAX_NOTEBOOK_CELLS, "cells"))
    keys = [m.end() for m in _KEY_SOURCE.finditer(text)]
    out = []
    key_index = 0
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        lines = [source] if isinstance(source, str) else [s for s in source if isinstance(s, str)]
        # The n-th "source" key of the file belongs to the n-th cell that has one.
        at = keys[key_index] if key_index < len(keys) else None
        if "source" in cell:
            key_index += 1
        if cell.get("cell_type") != "markdown":
            continue
        cell_text = "".join(lines)
        out.append(Cell(number, cell_text, _locate(text, at, lines)))
    return out


def _short(e: Exception) -> str:
    return str(e).split("\n")[0][:80]


def _locate(text: str, at: int | None, lines: list[str]) -> OffsetMap:
    """Map a cell's text (the concatenated ``lines``) to the string literals after offset ``at``."""
    starts: list[int] = []
    targets: list[int] = []
    exact: list[bool] = []
    index = 0
    pos = at
    for line in lines:
        literal = _STRING.search(text, pos) if pos is not None else None
        decoded = _decode(literal.group()) if literal else None
        if literal is None or decoded != line:
            # Not where we expected: every character of the rest maps to the cell's key.
            starts.append(index)
            targets.append(at or 0)
            exact.append(False)
            pos = None
        else:
            _map_literal(literal.group(), literal.start() + 1, index, starts, targets, exact)
            pos = literal.end()
        index += len(line)
    if not starts:
        return OffsetMap((0,), (at or 0,), (False,))
    return OffsetMap(tuple(starts), tuple(targets), tuple(exact))


def _decode(literal: str) -> str | None:
    try:
        value = json.loads(literal)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _map_literal(raw: str, offset: int, index: int, starts, targets, exact) -> None:
    """Segments for the characters of the JSON string ``raw`` (quotes included) at file ``offset``."""
    body = raw[1:-1]
    i = 0
    run_start = None
    while i < len(body):
        if body[i] == "\\":
            run_start = None
            width = 6 if body[i + 1] == "u" else 2
            # A surrogate pair \ud83d\ude00 decodes to one character.
            if width == 6 and 0xD800 <= int(body[i + 2 : i + 6], 16) < 0xDC00 and body[i + 6 : i + 8] == "\\u":
                width = 12
            starts.append(index)
            targets.append(offset + i)
            exact.append(False)
            index += 1
            i += width
            continue
        if run_start is None:
            run_start = i
            starts.append(index)
            targets.append(offset + i)
            exact.append(True)
        # A character outside the BMP is one Python character but is one in the file too.
        index += 1
        i += 1
