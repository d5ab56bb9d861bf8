"""Read one chunk of note math into the tree of tree.py.

lark (LALR, grammar.lark) does the syntax; this module applies the reading rules
that LaTeX leaves open, all in one place:

* Juxtaposition binds tighter than a written product sign (``*``, ``\\cdot``,
  ``\\odot``, ``\\circ``, ``\\times``, ``/``); all are left-associative.
  ``a \\odot W x`` is a ⊙ (W x); ``\\partial E / \\partial v`` is (∂E)/(∂v).
* ``\\sum`` takes the rest of its product as its body (up to + - = , or a
  closing bracket): ``\\sum_t \\delta_c^{(t)} {c^{(t-1)}}^\\top``.
* A function name (``\\sigma \\tanh \\log \\exp``, ``\\mathrm{softmax}``,
  ``\\operatorname{…}``, a bare ``softmax``) applies to the one factor after it:
  ``\\log \\hat{y}^{(t)}``, ``\\sigma(z)``; ``\\tanh^2(x)`` is (tanh x)².
* f, g, φ, ψ are functions when the file uses them as such (function_letters.py);
  then ``f(…)`` is an application.  Any name followed by a parenthesis holding a
  comma is applied: ``L^{(t)}(\\hat{y}, y)``, and so is a word such as
  ``\\mathrm{LSTM}(x)`` (other ``\\mathrm`` words are symbols: ``\\mathrm{loss}``).
  Otherwise a parenthesis after a name is a product: ``W_{cc} (\\Gamma_r * c)``.
* A bare ``\\delta`` before a factor, or a bare ``d`` touching a symbol (``dW``,
  not ``d W``), is a gradient: Differential("delta" / "d"); ``\\delta_u^{(t)}``
  (with scripts) is a symbol.  ``\\partial x`` is
  Differential("partial"); a fraction or slash of two ∂ (or two d) is a Derivative.
* ``\\nabla_{v} L`` is the gradient Derivative(L, v) (style "nabla"); a fraction
  ``\\frac{\\partial}{\\partial v}`` applies to the factor after it (style
  "operator"); ``\\partial^{+}`` is Werbos' ordered derivative ("partial+");
  ``\\delta_{h_t}`` (a δ whose subscript is a symbol with a step) is ∂/∂h_t.
* Superscripts ``\\top``, ``T``, ``\\intercal`` transpose.  ``(t)``, ``<t>``,
  ``\\langle t \\rangle`` are time indices for t, T, n, k, j, τ ± an integer;
  ``(b)``, ``(i)`` of another letter are labels (a sample, an example).  A bare
  script is a time index when it is one of those letters, a letter that indexes a
  sum or product of the equation, any letter with an offset (``a_{s-1}``), several
  of them (``o_{T+t-i}``, TimeIndex.terms) or an integer below (h_0); other
  scripts are labels (W_{hh}, W^h, b_{h,f}, s_{c_j}).  With two step-like indices
  (``a_j^t``, ``h_t^j``) the one that is t, T, τ or has an offset is the step.
  ``h(t)``, ``s_{c_j}(t-1)`` right after a symbol are steps (``c_1(t)``: unit 1).
  An integer above is a power (x^2); a subscript on a bracket or a list below
  with a step first (``p_{t, k_t}``, ``(Y_t)_{nv}``) selects entries (Entry).
* ``\\|x\\|``, ``|x|``, ``\\lVert x \\rVert`` are norms (bars paired in
  delimiters.py); ``<`` and ``>`` outside ``a^{<t>}`` are relations; a sum's
  subscript may be a range (``1 \\le t \\le T``) or a set (``k \\in U``);
  ``\\prod`` reads like ``\\sum``; ``\\mathbb{1}[a > 0]`` and ``1_{i=y}`` are
  indicators.
* In a comma list, items that are not equations join the nearest equation:
  ``h', y = f(h, x)`` has the left side (h', y); ``t = 1, \\dots, T`` has the right
  side (1, …, T).

Every failure is a NotesSyntaxError pointing into the note file.  User text
only ever goes to lark and to regular expressions.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from pathlib import Path

from lark import Lark
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .delimiters import mark_delimiters, mark_sum_bodies
from .errors import NotesSyntaxError
from .extract import MathChunk
from .function_letters import function_letters
from .limits import (
    MAX_EXPONENT,
    MAX_NESTING,
    MAX_NUMBER_DIGITS,
    MAX_STEP_OFFSET,
    MAX_SUM_LIMIT,
    MAX_TERMS,
    MAX_TREE_DEPTH,
    too_big,
)
from .source import source_map
from .tree import Add, Node, Number, Power, Prod, Product, Span, Sub, Sum, Symbol, Tree
from .tree_reader import FUNCTION_WORDS, Rejected, TreeReader

__all__ = ["FUNCTION_WORDS", "parse_equation", "parse_latex"]


# Terminals that can start an expression, and closers, for error messages.
_EXPR_START = frozenset(
    "LETTER NUMBER DIGIT GREEK WORD FUNC DELTA PARTIAL SUMOP DOTS NAMED TOP PRIMECMD ACCENT FONT "
    "FRAC LPAR LBRACK LANGLE BEGIN_MATRIX LBRACE MINUS PLUS NABLA NORM_OPEN ABS_OPEN ESCNAME NAMEWORD".split()
)
_CLOSERS = {
    "RPAR": "')'",
    "RBRACE": "'}'",
    "RBRACK": "']'",
    "RANGLE": "'>'",
    "END_MATRIX": "\\end{…matrix}",
    "NORM_CLOSE": "'\\|'",
    "ABS_CLOSE": "'|'",
}
_TERMINAL_NAMES = {
    **_CLOSERS,
    "COMMA": "','",
    "SEMI": "';'",
    "MID": "'|'",
    "REL": "'='",
    "MULOP": "a product sign",
    "SUB": "'_'",
    "SUP": "'^'",
    "PRIME": '"\'"',
    "PERIOD": "'.'",
    "AMP": "'&'",
    "ROWSEP": "'\\\\'",
    "$END": "the end of the math",
}


@functools.cache
def _parser() -> Lark:
    grammar = Path(__file__).with_name("grammar.lark").read_text(encoding="utf-8")
    # Positions come from tokens (see _start/_end): propagate_positions would
    # double the cost of building lark's tree.
    return Lark(grammar, parser="lalr", lexer="contextual")


def parse_equation(chunk: MathChunk, functions: frozenset[str] | None = None, angle: str | None = None) -> Tree:
    """The tree of ``chunk``; raises NotesSyntaxError (and nothing else) if it cannot be read.

    ``functions`` are the letters the whole file uses as functions (see
    function_letters); by default they are inferred from this chunk alone.
    ``angle`` is what ``\\langle a, b \\rangle`` means in the file ("outer" or
    "inner", see angle_products); None leaves it unread.
    """
    locate = Locator(chunk)
    try:
        if functions is None:
            functions = function_letters([chunk])
        if not chunk.text.strip():
            raise Rejected(0, "empty math")
        _check_nesting(chunk.text)
        # Bars and < > are told apart first (same length, so offsets are kept).
        marked = mark_sum_bodies(mark_delimiters(chunk.text))
        tree = TreeReader(chunk, functions, locate, angle).start(_parser().parse(marked))
        _check_tree(tree, locate)
        return tree
    except NotesSyntaxError:
        raise
    except Rejected as e:
        raise locate.error(e.pos, e.message, e.construct) from None
    except UnexpectedInput as e:
        raise locate.error(*_describe_lark_error(chunk.text, e)) from None
    except LarkError as e:
        raise locate.error(0, f"cannot read this math ({type(e).__name__})") from None
    except RecursionError:
        raise locate.error(0, "expression nested too deeply") from None
    except Exception as e:  # a bug here must still surface as a positioned error
        raise locate.error(0, f"internal error while reading this math: {type(e).__name__}: {e}") from None


def parse_latex(text: str, file: str = "<string>") -> Tree:
    """Parse a formula given as a string (positions count from its first character)."""
    return parse_equation(MathChunk.from_text(text, file))


class Locator:
    """Chunk-relative offsets to file positions, spans and errors."""

    def __init__(self, chunk: MathChunk) -> None:
        self.chunk = chunk
        self.smap = source_map(chunk.source or chunk.text)
        # A chunk built by hand without its file text counts from its own start.
        self.shift = not chunk.source and (chunk.line, chunk.column) != (1, 1)

    def position(self, pos: int) -> tuple[int, int]:
        if not self.chunk.source:
            line, column = self.smap.position(pos)
        else:
            line, column = self.smap.position(self.chunk.file_offset(pos))
        if self.shift:
            if line == 1:
                column += self.chunk.column - 1
            line += self.chunk.line - 1
        return line, column

    def span(self, start: int, end: int) -> Span:
        return Span(*self.position(start), *self.position(end))

    def error_at(self, span: Span | None, message: str, construct: str | None = None) -> NotesSyntaxError:
        """An error at a node's span (its first character); at the chunk's start without one."""
        if span is None:
            return self.error(0, message, construct)
        src_line = self.smap.line_text(span.line - (self.chunk.line - 1 if self.shift else 0))
        error = NotesSyntaxError(self.chunk.file, span.line, span.column, message, src_line, construct)
        error.where = self.chunk.where()
        return error

    def error(self, pos: int, message: str, construct: str | None = None) -> NotesSyntaxError:
        line, column = self.position(pos)
        src_line = self.smap.line_text(line - (self.chunk.line - 1 if self.shift else 0))
        error = NotesSyntaxError(self.chunk.file, line, column, message, src_line, construct)
        error.where = self.chunk.where()
        return error


def _check_nesting(text: str) -> None:
    depth = 0
    for i, ch in enumerate(text):
        if ch in "{([":
            depth += 1
            if depth > MAX_NESTING:
                raise Rejected(i, too_big("brackets nested too deeply", MAX_NESTING, "levels"), "nesting")
        elif ch in "})]":
            depth = max(0, depth - 1)


def _check_tree(tree: Tree, locate: Locator) -> None:
    """Depth and number bounds (limits.py), each stated in its message, at the node's place.

    A chain of one operator (a flat sum of 300 terms) counts as one level, not 300.
    """
    stack = [(tree, 1, 1)]
    while stack:
        node, depth, chain = stack.pop()
        if chain > MAX_TERMS:
            what = "sum" if isinstance(node, (Add, Sub)) else "product"
            raise locate.error_at(node.span, too_big(f"this {what} has too many terms", MAX_TERMS, "terms"), "size")
        if depth > MAX_TREE_DEPTH:
            raise Rejected(0, too_big("the expression is nested too deeply", MAX_TREE_DEPTH, "levels"), "nesting")
        problem = _out_of_bounds(node)
        if problem is not None:
            raise locate.error_at(node.span, *problem)
        for name in _child_fields(type(node)):
            value = getattr(node, name)
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, tuple):  # Matrix rows
                    stack.extend((c, depth + 1, 1) for c in child)
                elif isinstance(child, Node):
                    if name == "left" and type(child) in _CHAINS.get(type(node), ()):
                        stack.append((child, depth, chain + 1))
                    else:
                        stack.append((child, depth + 1, 1))


_CHAINS = {Add: (Add, Sub), Sub: (Add, Sub), Product: (Product,)}


def _out_of_bounds(node: Node) -> tuple[str, str] | None:
    """(message, construct) when a number, step, exponent or limit of ``node`` is past its bound."""
    if isinstance(node, Number):
        digits = sum(ch.isdigit() for ch in node.text)
        if digits > MAX_NUMBER_DIGITS:
            return too_big(f"a number of {digits:,} digits is too long", MAX_NUMBER_DIGITS, "digits"), "number"
    elif isinstance(node, Symbol) and node.time is not None:
        offset = node.time.offset
        if abs(offset) > MAX_STEP_OFFSET:
            what = f"the step {offset:,}" if node.time.var is None else f"the step offset {offset:+,}"
            return too_big(f"{what} is too far", MAX_STEP_OFFSET), "step"
    elif isinstance(node, Power) and isinstance(node.exponent, Number):
        base = node.base
        if not (isinstance(base, Symbol) and base.font == "bb") and _integer(node.exponent) > MAX_EXPONENT:
            return too_big(f"the exponent {node.exponent.text} is too large", MAX_EXPONENT), "exponent"
    elif isinstance(node, (Sum, Prod)):
        for limit in (node.lower, node.upper):
            if _literal_above(limit, MAX_SUM_LIMIT):
                what = "\\prod" if isinstance(node, Prod) else "\\sum"
                return too_big(f"this {what} limit is too large", MAX_SUM_LIMIT), f"{what} limit"
    return None


def _literal_above(node, bound: int) -> bool:
    """Whether ``node`` is an integer literal (``10^9`` included) above ``bound``."""
    if isinstance(node, Number):
        return _integer(node) > bound
    if isinstance(node, Power) and isinstance(node.base, Number) and isinstance(node.exponent, Number):
        base, exponent = _integer(node.base), _integer(node.exponent)
        return base > 1 and exponent > 0 and exponent * math.log10(base) > math.log10(bound)
    return False


def _integer(number: Number) -> int:
    """|number| for digits only (no float() of user text past the digit bound)."""
    text = number.text.split(".")[0].lstrip("-")
    return int(text) if text.isdigit() and len(text) <= MAX_NUMBER_DIGITS else 0


@functools.cache
def _child_fields(cls: type) -> tuple[str, ...]:
    """The compared fields of a node class (spans are not compared, so not walked)."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.compare)


def _describe_lark_error(text: str, e: UnexpectedInput) -> tuple[int, str, str | None]:
    """(offset, message, construct) for a lark error, in the words of the notes' math."""
    try:
        pos, message = _describe(text, e)
    except Exception:  # describing must not fail: fall back to a plain message
        pos = getattr(e, "pos_in_stream", None)
        return (pos if isinstance(pos, int) else 0), "cannot read this math", None
    return pos, message, _construct_at(text, pos)


def _construct_at(text: str, pos: int) -> str | None:
    """The command or sign at ``pos`` (what an unreadable record names)."""
    if not 0 <= pos < len(text):
        return None
    m = re.compile(r"\\(?:[A-Za-z]+|.?)|.").match(text, pos)
    return m.group() if m else None


def _describe(text: str, e: UnexpectedInput) -> tuple[int, str]:
    if isinstance(e, UnexpectedCharacters):
        pos = e.pos_in_stream
        if text[pos] == "\\":
            command = re.compile(r"\\(?:[A-Za-z]+|.?)").match(text, pos).group()
            return pos, f"unknown or unsupported command {command}"
        return pos, f"unexpected character {text[pos]!r}"
    if isinstance(e, UnexpectedToken):
        token = e.token
        try:
            # What the parser truly accepts here; e.expected is LALR's merged lookahead.
            expected = set(e.accepts or e.expected or ())
        except LarkError:
            expected = set(e.expected or ())
        if token.type == "$END":
            pos, what = len(text.rstrip()), "end of the math"
        else:
            pos = token.start_pos or 0
            what = f"'{text[pos : token.end_pos] if token.end_pos else token.value}'"  # as written, not as marked
        if token.type in _CLOSERS and token.type not in expected:
            return pos, f"unmatched {what}"
        closers = sorted(_CLOSERS[t] for t in expected if t in _CLOSERS)
        if closers and token.type not in _EXPR_START:
            return pos, f"unexpected {what}; expected {' or '.join(closers)}"
        wanted = sorted(_TERMINAL_NAMES.get(t, t) for t in expected - _EXPR_START)
        if expected & _EXPR_START:
            wanted = ["an expression"] + wanted
        if len(wanted) > 4:
            wanted = wanted[:4] + ["…"]
        return pos, f"unexpected {what}; expected {', '.join(wanted)}"
    pos = getattr(e, "pos_in_stream", None) or len(text.rstrip())
    return pos, "unexpected end of the math"
