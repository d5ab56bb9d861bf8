"""The backward step of a generated NumPy module, cut out for a document's appendix."""

from __future__ import annotations

import ast

BACKWARD_FUNCTION = "loss_and_grads"


def backward_step_source(module_source: str) -> tuple[str, bool]:
    """The source of ``loss_and_grads`` in ``module_source``, found by name with :mod:`ast`.

    Returns:
        ``(source, whole_module)``: the function's source text (decorators included), or the
        whole module with ``whole_module`` True when no top-level function has that name, so a
        change in the code generator never empties the appendix.
    """
    tree = ast.parse(module_source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == BACKWARD_FUNCTION:
            lines = module_source.splitlines()
            start = min([node.lineno, *(dec.lineno for dec in node.decorator_list)]) - 1
            return "\n".join(lines[start : node.end_lineno]) + "\n", False
    return module_source if module_source.endswith("\n") else module_source + "\n", True


CODE_WIDTH = 96  # characters per line of a listing on the page


def _split_bracket(line: str, width: int) -> list[str] | None:
    """A long line with one bracketed list, its items one per line (still valid Python), or None."""
    indent = line[: len(line) - len(line.lstrip())]
    opens = {"(": ")", "[": "]", "{": "}"}
    start = next((i for i, ch in enumerate(line) if ch in opens), None)
    if start is None or line[start] == "[" or not line[:start].rstrip().endswith(("return", "=", ",")):
        return None  # only a literal after "=", "return" or ",", never a subscript or a call
    depth, items, item, quote, end = 0, [], [], None, None
    for i in range(start, len(line)):
        ch = line[i]
        if quote:
            item.append(ch)
            quote = None if ch == quote else quote
            continue
        if ch in "'\"":
            quote = ch
        elif ch in opens:
            depth += 1
            if depth == 1:
                continue
        elif ch in opens.values():
            depth -= 1
            if depth == 0:
                end = i
                break
        elif ch == "," and depth == 1:
            items.append("".join(item).strip())
            item = []
            continue
        item.append(ch)
    if end is None or line[end + 1 :].strip():
        return None  # the bracket must close the line
    items.append("".join(item).strip())
    items = [it for it in items if it]
    if line[start] == "(" and len(items) < 2:
        return None  # (x) is not a tuple: a trailing comma would make it one
    inner = indent + "    "
    if not items or any(len(inner + it) + 1 > width for it in items):
        return None
    return [line[: start + 1], *(f"{inner}{it}," for it in items), indent + line[end:]]


def _top_level_plus(text: str) -> list[str]:
    """``text`` split at the `` + `` signs outside brackets and strings."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith(" + ", i):
            parts.append(text[start:i])
            start = i + 3
    parts.append(text[start:])
    return parts


def _split_sum(line: str, width: int) -> list[str] | None:
    """``name = a + b + …`` too long: the sum in parentheses, one term per line."""
    indent = line[: len(line) - len(line.lstrip())]
    for sign in (" += ", " = "):
        lhs, found, rhs = line.partition(sign)
        if found and lhs.strip().isidentifier():
            break
    else:
        return None
    terms = _top_level_plus(rhs)
    inner = indent + "    "
    if len(terms) < 2 or any(len(inner + "+ " + t) > width for t in terms):
        return None
    return [f"{lhs}{sign}(", f"{inner}{terms[0]}", *(f"{inner}+ {t}" for t in terms[1:]), f"{indent})"]


def readable_source(source: str, width: int = CODE_WIDTH) -> str:
    """``source`` with lines longer than ``width`` broken where Python allows it and a reader expects it.

    A literal (the returned dict of gradients) gets one item per line; a long sum one term per
    line in parentheses.  Other lines are kept (the LaTeX renderer wraps what is still too long).
    """
    out = []
    for line in source.splitlines():
        split = (_split_bracket(line, width) or _split_sum(line, width)) if len(line) > width else None
        out += split or [line]
    return "\n".join(out) + "\n"
