"""Reading the tokens of one sub- or superscript: steps (t-1, n+2), labels (hh, xh,f), integers.

Shared by the tree reader; no user text goes anywhere but to these comparisons.
"""

from __future__ import annotations

import re

from lark import Token
from lark import Tree as LarkTree

from .delimiters import after_scripts
from .tree import TimeIndex

# Letters read as a step when written bare as a script (h_t, h^{n+1}).
TIME_VARS = frozenset({"t", "T", "n", "k", "j", "tau"})
# \sum_t, \sum_{t=1}, \prod_{1 \le s \le t}, \sum_{\tau}: the index of a sum or product.
_BOUND = re.compile(
    r"\\(?:sum|prod)\s*(?:\\limits\s*)?_\s*(?:([A-Za-z])|\\([A-Za-z]+)|\{\s*(?:[^{}=]*?\\(?:le|leq|lt|ge|geq|gt)\s*)?"
    r"(?:([A-Za-z])|\\([A-Za-z]+))\s*(?:[=<>}]|\\(?:le|leq|lt|ge|geq|gt|in)(?![A-Za-z])))"
)
NAMED = re.compile(r"\\[A-Za-z]+\*?\s*\{\s*([^{}]*?)\s*\}")


def arg_tokens(arg: LarkTree) -> list[Token]:
    """The tokens of a script's argument, without the braces of a {group}."""
    child = arg.children[0]
    if isinstance(child, Token):
        return [c for c in arg.children if c.type not in ("LBRACE", "RBRACE")]
    return list(child.children[1].scan_values(lambda v: isinstance(v, Token)))


def is_plus_script(script: LarkTree) -> bool:
    """``^{+}`` or ``^+`` (Werbos' ordered derivative ∂⁺)."""
    if script.children[0].type != "SUP":
        return False
    return [t.type for t in arg_tokens(script.children[1])] == ["PLUS"]


def var_name(token: Token) -> str | None:
    if token.type == "LETTER":
        return token.value
    if token.type == "GREEK":
        return token.value[1:]
    return None


def is_int(token: Token) -> bool:
    return token.type in ("NUMBER", "DIGIT") and token.value.isdigit()


def time_of(
    tokens: list[Token], names: frozenset[str] | None, allow_number: bool, any_offset: bool = False
) -> tuple[str | None, int] | None:
    """(var, offset) if the tokens are a step: ``t``, ``t-1``, ``n+2``, or an integer.

    ``names`` limits which letters count (None: any letter); with ``any_offset``
    any letter with an offset is a step (``a_{s-1}``, ``x_{i+1}``) and only a
    bare letter must be one of ``names``."""
    if len(tokens) == 1 and is_int(tokens[0]):
        return (None, int(tokens[0].value)) if allow_number else None
    if len(tokens) not in (1, 3):
        return None
    var = var_name(tokens[0])
    if var is None or (names is not None and var not in names and not (any_offset and len(tokens) == 3)):
        return None
    if len(tokens) == 1:
        return var, 0
    sign, number = tokens[1], tokens[2]
    if sign.type not in ("PLUS", "MINUS") or not is_int(number):
        return None
    return var, int(number.value) * (1 if sign.type == "PLUS" else -1)


def integer_of(tokens: list[Token]) -> str | None:
    if len(tokens) == 1 and is_int(tokens[0]):
        return tokens[0].value
    if len(tokens) == 2 and tokens[0].type == "MINUS" and is_int(tokens[1]):
        return "-" + tokens[1].value
    return None


_LABEL_SCRIPTS = {
    "SUB": "_",
    "SUP": "^",
    "LBRACE": "{",
    "RBRACE": "}",
    "PRIME": "'",
    "PRIMECMD": "'",
    "PLUS": "+",  # x_{N+i}: unit N + i (Werbos), no step letter in it
    "MINUS": "-",
}


def label_of(tokens: list[Token]) -> str | None:
    """The name label spelled by the tokens (``xh,f``, ``hh``, ``theta``), or None.

    A compound label keeps its scripts as written, spaces between names kept as
    one space: ``c_j`` (Gers' cell j), ``in_j m``, ``h'h``, ``k_t``.
    """
    simple = _simple_label(tokens)
    if simple is not None:
        return simple
    parts: list[str] = []
    depth, previous = 0, None
    for token in tokens:
        if token.type in _LABEL_SCRIPTS:
            text = _LABEL_SCRIPTS[token.type]
            depth += {"{": 1, "}": -1}.get(text, 0)
            if depth < 0:
                return None
        else:
            text = _simple_label([token])
            if text is None:
                return None
            gap = previous is not None and token.start_pos > previous.end_pos
            if gap and previous.type not in ("SUB", "SUP", "LBRACE"):
                parts.append(" ")
        parts.append(text)
        previous = token
    label = "".join(parts)
    if depth or not label or label[-1] in "_^" or not re.match(r"[A-Za-z0-9]", label):
        return None
    return label


def _simple_label(tokens: list[Token]) -> str | None:
    parts = []
    for token in tokens:
        if token.type in ("LETTER", "DIGIT", "NUMBER", "WORD"):
            parts.append(token.value)
        elif token.type in ("GREEK", "DELTA"):
            parts.append(token.value[1:])
        elif token.type == "COMMA":
            parts.append(",")
        elif token.type == "NAMED":
            parts.append(NAMED.match(token.value).group(1))
        else:
            return None
    label = "".join(parts)
    return label if re.fullmatch(r"[A-Za-z0-9]+(?:,[A-Za-z0-9]+)*", label) else None


def is_transpose(tokens: list[Token]) -> bool:
    if len(tokens) != 1:
        return False
    token = tokens[0]
    if token.type == "TOP":
        return True
    if token.type == "LETTER":
        return token.value == "T"
    return token.type == "NAMED" and NAMED.match(token.value).group(1) == "T"


def matching(tokens: list[Token], i: int) -> int | None:
    """Index of the bracket closing tokens[i], or None."""
    opener = tokens[i].type
    closer = {"LPAR": "RPAR", "LANGLE": "RANGLE", "LBRACK": "RBRACK"}[opener]
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].type == opener:
            depth += 1
        elif tokens[j].type == closer:
            depth -= 1
            if depth == 0:
                return j
    return None


def bound_indices(text: str) -> frozenset[str]:
    """The index letters of the sums and products over steps in ``text`` (``\\sum_{i=t}^{T}`` → i).

    Only a sum whose limits name a step (t, T or τ) runs over steps: the i of
    ``\\sum_{i=1}^{n}`` or the b of ``\\sum_{b=1}^{B}`` counts classes or samples.
    """
    if "\\sum" not in text and "\\prod" not in text:
        return frozenset()
    found = set()
    for m in _BOUND.finditer(text):
        name = next(g for g in m.groups() if g)
        start = m.start() + (4 if text.startswith("\\sum", m.start()) else 5)
        limits = text[start : after_scripts(text, start)]
        if _STEP_IN_LIMITS.search(limits.replace(name, " ", 1) if name not in ("t", "T") else limits):
            found.add(name)
    return frozenset(found)


def offset_letters(text: str) -> frozenset[str]:
    """Single lower-case letters written below a name with an integer offset (``x_{i-1}`` → i)."""
    return frozenset(_OFFSET.findall(text))


_OFFSET = re.compile(r"_\{\s*([a-z])\s*[+-]\s*\d+\s*\}")
_STEP_IN_LIMITS = re.compile(r"(?<![A-Za-z\\])[tT](?![A-Za-z])|\\tau(?![A-Za-z])")


def compound_step(tokens: list[Token], names: frozenset[str]) -> TimeIndex | None:
    """``T+t-i`` (every letter a step letter, integers allowed) as a TimeIndex with ``terms``."""
    if len(tokens) < 3 or len(tokens) % 2 == 0:
        return None
    terms: list[tuple[int, str]] = []
    offset, sign = 0, 1
    for k, token in enumerate(tokens):
        if k % 2:
            if token.type not in ("PLUS", "MINUS"):
                return None
            sign = 1 if token.type == "PLUS" else -1
            continue
        var = var_name(token)
        if var is not None and var in names:
            terms.append((sign, var))
        elif is_int(token):
            offset += sign * int(token.value)
        else:
            return None
    if len(terms) < 2:
        return None
    written = "".join(("+" if sign > 0 else "-") + var for sign, var in terms).lstrip("+")
    return TimeIndex(written, offset, style="sub", terms=tuple(terms))
