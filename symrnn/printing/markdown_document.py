"""A :class:`~symrnn.printing.blocks.Document` as Markdown, for GitHub or for Jupyter.

``flavor="github"`` (what the export writes): displays go in ```` ```math ```` blocks (one
``aligned`` environment each), inline mathematics in GitHub's ``$`…`$`` form (safe next to
Markdown's own ``_`` and ``*``).  ``flavor="jupyter"``: ``$…$`` and ``$$…$$``, which Jupyter (and
markdown-it's dollarmath) render and GitHub's own syntax does not.  Pictures are linked
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


FLAVORS = ("github", "jupyter")
_INLINE_MATH = {"github": lambda m: f"$`{m.latex}`$", "jupyter": lambda m: f"${m.latex}$"}
_DISPLAY = {"github": ("```math", "```"), "jupyter": ("$$", "$$")}


def _inline(parts: Text, flavor: str = "github") -> str:
    return render_inline(parts, _INLINE_MATH[flavor], lambda c: _code_span(c.text), escape_text)


def _math_note(parts: Text) -> str:
    return render_inline(parts, lambda m: m.latex, lambda c: rf"\text{{{c.text}}}", lambda s: rf"\text{{{s}}}")


def _line(line: Line) -> str:
    row = f"{line.lhs} &= {line.rhs}" if line.lhs else f"&{line.rhs}"
    row += rf" &\quad& {_math_note(line.note)}" if line.note else r" &\quad&"
    if line.tag is not None:
        row += rf" &\quad& ({line.tag})"
    return row


def _equations(block: Equations, flavor: str = "github") -> list[str]:
    opening, closing = _DISPLAY[flavor]
    return [
        opening,
        r"\begin{aligned}",
        " \\\\\n".join(_line(line) for line in block.lines),
        r"\end{aligned}",
        closing,
        "",
    ]


def _table(block: Table, flavor: str = "github") -> list[str]:
    out = ["| " + " | ".join(escape_text(h) for h in block.header) + " |"]
    out.append("|" + "---|" * len(block.header))
    out += ["| " + " | ".join(_inline(cell, flavor) for cell in row) + " |" for row in block.rows]
    return [*out, ""]


def _picture(block: Picture, flavor: str = "github") -> list[str]:
    return [f"![{escape_text(block.stem)}]({block.stem}.svg)", "", f"*{_inline(block.caption, flavor)}*", ""]


def _listing(block: Listing) -> list[str]:
    fence = "````" if "```" in block.source else "```"
    return [f"{fence}{block.language}", block.source.rstrip("\n"), fence, ""]


def _blocks(flavor: str) -> dict:
    return {
        Paragraph: lambda block: [_inline(block.parts, flavor), ""],
        Items: lambda block: [*(f"- {_inline(item, flavor)}" for item in block.items), ""],
        Equations: lambda block: _equations(block, flavor),
        Table: lambda block: _table(block, flavor),
        Picture: lambda block: _picture(block, flavor),
        Listing: _listing,
    }


def render_markdown(doc: Document, flavor: str = "github") -> str:
    """The complete ``.md`` text: a generator comment, the title, numbered sections, the appendix.

    Args:
        doc: the document.
        flavor: "github" (```` ```math ```` and ``$`…`$``) or "jupyter" (``$$…$$`` and ``$…$``).

    Raises:
        ValueError: an unknown flavor (the message lists both).
    """
    if flavor not in FLAVORS:
        raise ValueError(f"unknown Markdown flavor {flavor!r}; valid: {', '.join(FLAVORS)}")
    blocks = _blocks(flavor)
    out = [f"<!-- {doc.generated_by} -->", "", f"# {_inline(doc.title, flavor)}", ""]
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
            out += render_block(block, blocks, "Markdown")
    return "\n".join(out).rstrip("\n") + "\n"
