"""A :class:`~symrnn.printing.blocks.Document` as one HTML page: math as MathML, offline.

Numbered displays are tables — left side, ``=``, right side, the note, the number — so the rows
align as in the LaTeX ``align`` and the numbers are the same.  Pictures are ``<img>`` links to the
SVG files written beside the page, or, for a notebook, the SVG itself inlined (``svg_inline``).
"""

from __future__ import annotations

import html

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
from symrnn.printing.html import math_html

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
table.equations { border-collapse: collapse; margin: 0.6rem auto; }
table.equations td { padding: 0.15rem 0.3rem; vertical-align: middle; }
table.equations td.lhs { text-align: right; }
table.equations td.rhs { text-align: left; }
table.equations math { display: inline math; math-style: normal; }
table.equations td.note { color: #555; font-size: 0.9em; padding-left: 1.5rem; }
table.equations td.tag { padding-left: 1.5rem; }
table.symbols { border-collapse: collapse; }
table.symbols th, table.symbols td { border-bottom: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: left; }
figure { text-align: center; margin: 1rem 0; }
figure img, figure svg { max-width: 100%; height: auto; }
figcaption { font-style: italic; font-size: 0.9em; }
pre { background: #f6f8fa; padding: 0.6rem; overflow-x: auto; font-size: 0.85em; }
"""


class _Renderer:
    def __init__(self, svg_inline: dict[str, str] | None):
        self.svg_inline = svg_inline
        self.blocks = {
            Paragraph: lambda b: [f"<p>{self.inline(b.parts)}</p>"],
            Items: lambda b: ["<ul>", *(f"<li>{self.inline(item)}</li>" for item in b.items), "</ul>"],
            Equations: self.equations,
            Table: self.table,
            Picture: self.picture,
            Listing: lambda b: [
                f'<pre><code class="language-{html.escape(b.language)}">{html.escape(b.source)}</code></pre>'
            ],
        }

    def inline(self, parts: Text) -> str:
        return render_inline(
            parts, lambda m: math_html(m.latex), lambda c: f"<code>{html.escape(c.text)}</code>", html.escape
        )

    def line(self, line: Line) -> str:
        lhs = math_html(line.lhs, display=True) if line.lhs else ""
        note = self.inline(line.note) if line.note else ""
        tag = f"({line.tag})" if line.tag is not None else ""
        return (
            f'<tr><td class="lhs">{lhs}</td><td class="rhs">{math_html("=" + " " + line.rhs if line.lhs else line.rhs, display=True)}</td>'
            f'<td class="note">{note}</td><td class="tag">{tag}</td></tr>'
        )

    def equations(self, block: Equations) -> list[str]:
        return ['<table class="equations">', *(self.line(line) for line in block.lines), "</table>"]

    def table(self, block: Table) -> list[str]:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
        rows = ["<tr>" + "".join(f"<td>{self.inline(cell)}</td>" for cell in row) + "</tr>" for row in block.rows]
        return ['<table class="symbols">', f"<tr>{head}</tr>", *rows, "</table>"]

    def picture(self, block: Picture) -> list[str]:
        caption = f"<figcaption>{self.inline(block.caption)}</figcaption>"
        if self.svg_inline is not None and block.stem in self.svg_inline:
            return ["<figure>", _svg_element(self.svg_inline[block.stem]), caption, "</figure>"]
        alt = html.escape(block.stem)
        return ["<figure>", f'<img src="{html.escape(block.stem)}.svg" alt="{alt}">', caption, "</figure>"]


def _svg_element(svg: str) -> str:
    """An SVG file's text as an element to inline (its XML declaration and doctype left out)."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def render_html_body(doc: Document, *, svg_inline: dict[str, str] | None = None) -> str:
    """The document's title and sections as an HTML fragment (for a notebook's ``_repr_html_``)."""
    r = _Renderer(svg_inline)
    out = [f"<h1>{r.inline(doc.title)}</h1>"]
    number, letter = 0, 0
    for section in doc.sections:
        if section.appendix:
            label = f"Appendix {chr(ord('A') + letter)}."
            letter += 1
        else:
            number += 1
            label = f"{number}."
        out.append(f"<h2>{label} {html.escape(section.title)}</h2>")
        for block in section.blocks:
            out += render_block(block, r.blocks, "HTML")
    return "\n".join(out) + "\n"


def render_html(doc: Document, *, svg_inline: dict[str, str] | None = None) -> str:
    """The complete page: the generator comment (symrnn's mark), a style sheet, the document.

    Args:
        doc: the document.
        svg_inline: picture stem → SVG text to inline; None to link ``stem.svg`` beside the page.
    """
    title = html.escape(render_inline(doc.title, lambda m: m.latex, lambda c: c.text, str))
    return (
        f"<!DOCTYPE html>\n<!-- {html.escape(doc.generated_by)} -->\n"
        f'<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n<style>{STYLE}</style>\n'
        "</head>\n<body>\n" + render_html_body(doc, svg_inline=svg_inline) + "</body>\n</html>\n"
    )
