"""Markdown and LaTeX math as HTML that renders offline: markdown-it-py for the structure, MathML for the math.

Math goes through latex2mathml, so a page needs no CDN, no script and no installed fonts beyond the
browser's own MathML support.  Text of a user's note is never trusted: raw HTML in it is escaped
(markdown-it's ``html`` option off), links go through markdown-it's link validation, and math that
latex2mathml cannot convert is shown as escaped TeX in a ``<code class="tex-unrendered">`` so the
page says so instead of dropping it.
"""

from __future__ import annotations

import html
import re

UNRENDERED_CLASS = "tex-unrendered"

_LABEL = re.compile(r"\\(?:label|nonumber|notag)(?:\{[^{}]*\})?")
_ENVIRONMENT = re.compile(r"\\(begin|end)\{(aligned|alignedat|split|eqnarray\*?|align\*|gather\*?|multline\*?)\}")
_ALIGN = {"aligned": "align", "alignedat": "align", "split": "align", "align*": "align", "eqnarray": "align"}


def _prepared(tex: str) -> str:
    """The TeX latex2mathml reads best: labels dropped, the align-like environments as ``align``."""
    tex = _LABEL.sub("", tex)
    tex = _ENVIRONMENT.sub(lambda m: f"\\{m.group(1)}{{{_ALIGN.get(m.group(2).rstrip('*'), 'align')}}}", tex)
    if "\\begin{" not in tex:  # a row of an alignment read on its own: its & marks are not math
        tex = tex.replace("&", "").replace(r"\\", " ")
    return tex.strip()


def math_html(tex: str, *, display: bool = False) -> str:
    """``tex`` as a MathML element; escaped TeX in ``<code class="tex-unrendered">`` where it cannot convert.

    Args:
        tex: LaTeX math without its delimiters.
        display: a display (block) formula rather than an inline one.

    Returns:
        One HTML element.
    """
    from latex2mathml.converter import convert

    try:
        mathml = convert(_prepared(tex), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds for TeX it does not know; the page shows the TeX
        return f'<code class="{UNRENDERED_CLASS}">{html.escape(tex)}</code>'
    if "<mi>\\" in mathml:  # an unknown macro became an identifier: say so rather than show "\foo" as math
        return f'<code class="{UNRENDERED_CLASS}">{html.escape(tex)}</code>'
    return mathml


def markdown_parser():
    """A CommonMark parser (tables on) that reads ``$…$``, ``$$…$$`` and amsmath environments as math.

    Raw HTML in the text is escaped, never passed through.
    """
    from markdown_it import MarkdownIt
    from mdit_py_plugins.amsmath import amsmath_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.use(dollarmath_plugin, allow_space=True, allow_digits=True, double_inline=True)
    md.use(amsmath_plugin)
    md.add_render_rule("math_inline", lambda self, tokens, i, options, env: math_html(tokens[i].content))
    md.add_render_rule("math_inline_double", lambda self, tokens, i, options, env: math_html(tokens[i].content))
    md.add_render_rule(
        "math_block", lambda self, tokens, i, options, env: _display(math_html(tokens[i].content, display=True))
    )
    md.add_render_rule(
        "math_block_label",
        lambda self, tokens, i, options, env: _display(math_html(tokens[i].content, display=True)),
    )
    md.add_render_rule(
        "amsmath", lambda self, tokens, i, options, env: _display(math_html(tokens[i].content, display=True))
    )
    default_fence = md.renderer.rules.get("fence")

    def fence(self, tokens, i, options, env):
        if tokens[i].info.strip() == "math":  # GitHub's ```math block
            return _display(math_html(tokens[i].content, display=True))
        return default_fence(tokens, i, options, env)

    md.add_render_rule("fence", fence)
    return md


def _display(element: str) -> str:
    return f'<div class="math-display">{element}</div>\n'


def markdown_html(text: str) -> str:
    """Markdown with ``$`` math (the Jupyter flavour) as an HTML fragment, math as MathML."""
    return markdown_parser().render(text)
