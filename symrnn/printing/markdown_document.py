"""A :class:`~symrnn.printing.blocks.Document` as Markdown that renders on GitHub.

Displays go in ```` ```math ```` blocks (one ``aligned`` environment each), inline mathematics in
GitHub's ``$`…`$`` form (safe next to Markdown's own ``_`` and ``*``), pictures are linked
relatively so the document works from any checkout.  Equation numbers are written in a column of
their own, the same numbers as the LaTeX document's ``\\tag``.
"""

from __future__ import annotations

from symrnn.printing.blocks import (
    Document,
    Equations,
    Items,
    Line,
    Listing,
    Paragraph,
    Picture,
    Table,
    Text,
    render_block,
    render_inline,
)

_MARKDOWN_SPECIAL = "\\`*_[]<>|#"


def escape_text(text: str) -> str:
    """Plain prose with Markdown's active characters escaped."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)


def _code_span(text: str) -> str:
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inline(parts: Text) -> str:
    return render_inline(parts, lambda m: f"$`{m.latex}`$", lambda c: _code_span(c.text), escape_text)


def _math_note(parts: Text) -> str:
    return render_inline(parts, lambda m: m.latex, lambda c: rf"\text{{{c.text}}}", lambda s: rf"\text{{{s}}}")


def _line(line: Line) -> str:
    row = f"{line.lhs} &= {line.rhs}" if line.lhs else f"&{line.rhs}"
    row += rf" &\quad& {_math_note(line.note)}" if line.note else r" &\quad&"
    if line.tag is not None:
        row += rf" &\quad& ({line.tag})"
    return row


def _equations(block: Equations) -> list[str]:
    return [
        "```math",
        r"\begin{aligned}",
        " \\\\\n".join(_line(line) for line in block.lines),
        r"\end{aligned}",
        "```",
        "",
    ]


def _table(block: Table) -> list[str]:
    out = ["| " + " | ".join(escape_text(h) for h in block.header) + " |"]
    out.append("|" + "---|" * len(block.header))
    out += ["| " + " | ".join(_inline(cell) for cell in row) + " |" for row in block.rows]
    return [*out, ""]


def _picture(block: Picture) -> list[str]:
    return [f"![{escape_text(block.stem)}]({block.stem}.svg)", "", f"*{_inline(block.caption)}*", ""]


def _listing(block: Listing) -> list[str]:
    fence = "````" if "```" in block.source else "```"
    return [f"{fence}{block.language}", block.source.rstrip("\n"), fence, ""]


_BLOCKS = {
    Paragraph: lambda block: [_inline(block.parts), ""],
    Items: lambda block: [*(f"- {_inline(item)}" for item in block.items), ""],
    Equations: _equations,
    Table: _table,
    Picture: _picture,
    Listing: _listing,
}


def render_markdown(doc: Document) -> str:
    """The complete ``.md`` text: a generator comment, the title, numbered sections, the appendix."""
    out = [f"<!-- {doc.generated_by} -->", "", f"# {_inline(doc.title)}", ""]
    number, letter = 0, 0
    for section in doc.sections:
        if section.appendix:
            label = f"Appendix {chr(ord('A') + letter)}."
            letter += 1
        else:
            number += 1
            label = f"{number}."
        out += [f"## {label} {escape_text(section.title)}", ""]
        for block in section.blocks:
            out += render_block(block, _BLOCKS, "Markdown")
    return "\n".join(out).rstrip("\n") + "\n"
