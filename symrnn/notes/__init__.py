"""Reading the math of Markdown/LaTeX notes into a tree (the syntax layer of ``symrnn check``).

``extract_math`` finds the math (extract.py), ``parse_equation`` reads one piece
(parse.py, grammar.lark) into the frozen dataclasses of tree.py, ``read_equations``
does both for a file.  Anything unreadable raises NotesSyntaxError with its
file, line and column.  User text only ever reaches lark and regular expressions.
"""

from .errors import NotesSyntaxError
from .extract import MathChunk, extract_math
from .function_letters import function_letters
from .parse import parse_equation, parse_latex
from .read import Notes, ParsedEquation, read_equations, read_notes
from .show import show

__all__ = [
    "MathChunk",
    "Notes",
    "NotesSyntaxError",
    "ParsedEquation",
    "extract_math",
    "function_letters",
    "parse_equation",
    "parse_latex",
    "read_equations",
    "read_notes",
    "show",
]
