"""The report of ``symrnn check`` as one HTML page: the whole note, a coloured verdict beside each equation.

The page opens with the summary (counts per file, links to every wrong claim); then each note is
rendered from its own Markdown (markdown-it-py, math as MathML: see :mod:`symrnn.printing.html`),
every equation the checker judged carrying its verdict badge, and under a wrong one the expected
right-hand side as math, the message and the counterexample.  Notes that are not Markdown (LaTeX,
notebooks read by other rules) are shown as the list of their equations in order.

The renderer reads verdicts as plain dicts — the fields of ``symrnn check --json`` (``file``,
``line``, ``column``, ``latex``, ``verdict``, ``message``, ``kind``, ``expected_latex``,
``counterexample``) — so it needs nothing from the checker, and fields the checker adds later are
shown too: a field ending in ``_latex`` as math, any other as text.  Nothing is computed here.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

from symrnn.printing.html import markdown_parser, math_html

VERDICT_ORDER = ("wrong", "error", "warning", "unchecked", "holds", "definition")
_SHOWN = ("file", "line", "column", "latex", "verdict", "message", "kind", "expected_latex", "counterexample")

SCOPE = "symrnn-report"  # every rule applies inside this class only, so a notebook's own styles are untouched

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1b1b1b; }
h1.report { font-size: 1.6rem; }
.summary { border: 1px solid #ccc; border-radius: 6px; padding: 0.5rem 1rem; background: #fafafa; }
.summary table { border-collapse: collapse; }
.summary td, .summary th { padding: 0.2rem 0.6rem; text-align: left; }
.badge { display: inline-block; min-width: 6.5rem; text-align: center; font-size: 0.8rem; font-weight: 600;
         border-radius: 4px; padding: 0.1rem 0.4rem; color: #fff; text-transform: uppercase; flex: none; }
.verdict-holds > .claim-row .badge, .badge.verdict-holds { background: #2e7d32; }
.verdict-wrong > .claim-row .badge, .badge.verdict-wrong { background: #c62828; }
.verdict-error > .claim-row .badge, .badge.verdict-error { background: #6a1b9a; }
.verdict-warning > .claim-row .badge, .badge.verdict-warning { background: #ef6c00; }
.verdict-unchecked > .claim-row .badge, .badge.verdict-unchecked { background: #1565c0; }
.verdict-definition > .claim-row .badge, .badge.verdict-definition { background: #757575; }
.claim { margin: 0.6rem 0; border-left: 4px solid #ddd; padding-left: 0.6rem; }
.claim.verdict-wrong { border-left-color: #c62828; background: #fff5f5; }
.claim.verdict-error { border-left-color: #6a1b9a; }
.claim.verdict-warning { border-left-color: #ef6c00; }
.claim.verdict-holds { border-left-color: #2e7d32; }
.claim.verdict-unchecked { border-left-color: #1565c0; }
.claim-row { display: flex; align-items: center; gap: 1rem; }
.claim-row .math-display { flex: 1; overflow-x: auto; }
.where { color: #666; font-size: 0.8rem; flex: none; }
.detail { margin: 0.3rem 0 0.3rem 7.5rem; font-size: 0.9rem; }
.detail table { border-collapse: collapse; }
.expected math { display: inline-block; margin: 0.2rem 0.5rem; }
.detail td { padding: 0.1rem 0.5rem; vertical-align: top; }
.inline-claim { white-space: nowrap; }
.inline-claim .badge { min-width: 0; font-size: 0.7rem; }
code.tex-unrendered { background: #fff3cd; }
math[display="block"] { font-size: 1.1em; }
"""


@dataclass
class NoteReport:
    """One note of the report.

    Attributes:
        name: the file name as the user gave it.
        text: the note's Markdown, or None when it is not Markdown (then its equations are listed).
        verdicts: the checker's verdicts as dicts (the ``--json`` fields).
    """

    name: str
    text: str | None
    verdicts: list[dict] = field(default_factory=list)


def _anchor(v: dict) -> str:
    return f"L{v.get('line', 0)}C{v.get('column', 0)}"


def _verdict(v: dict) -> str:
    return str(v.get("verdict", "unchecked"))


def _counts(verdicts: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[_verdict(v)] = counts.get(_verdict(v), 0) + 1
    order = list(VERDICT_ORDER) + sorted(k for k in counts if k not in VERDICT_ORDER)
    return {k: counts[k] for k in order if k in counts}


def _summary(notes: list[NoteReport]) -> str:
    rows = []
    wrong_links = []
    for note in notes:
        counts = _counts(note.verdicts)
        chips = " ".join(
            f'<span class="badge verdict-{html.escape(k)}">{n} {html.escape(k)}</span>' for k, n in counts.items()
        )
        rows.append(f"<tr><td><code>{html.escape(note.name)}</code></td><td>{chips or 'no equations'}</td></tr>")
        for v in note.verdicts:
            if _verdict(v) in ("wrong", "error"):
                wrong_links.append(
                    f'<li><a href="#{_note_id(note)}-{_anchor(v)}">{html.escape(note.name)}:{v.get("line")}</a> '
                    f"{math_html(str(v.get('latex', '')))}</li>"
                )
    total = sum(1 for n in notes for v in n.verdicts if _verdict(v) == "wrong")
    head = "nothing is wrong" if not total else f"{total} wrong claim{'s' if total != 1 else ''}"
    parts = [f'<section class="summary" id="summary"><p><strong>{head}</strong></p>', "<table>", *rows, "</table>"]
    if wrong_links:
        parts += ["<ul>", *wrong_links, "</ul>"]
    parts.append("</section>")
    return "\n".join(parts)


def _note_id(note: NoteReport) -> str:
    return "note-" + "".join(c if c.isalnum() else "-" for c in note.name).strip("-")


def _counterexample(example: dict) -> str:
    rows = []
    sizes = example.get("sizes") or {}
    if sizes:
        rows.append(("sizes", ", ".join(f"{k} = {v}" for k, v in sizes.items())))
    for key, label in (("steps", "T"), ("t", "at t"), ("seed", "seed")):
        if example.get(key) is not None:
            rows.append((label, str(example[key])))
    for key, label in (("left", "left side"), ("right", "right side")):
        if key in example:
            rows.append((label, json.dumps(example[key], ensure_ascii=False)))
    for name, value in (example.get("functions") or {}).items():
        rows.append((f"with {name}", str(value)))
    for key in example:
        if key not in ("sizes", "steps", "t", "seed", "left", "right", "functions"):
            rows.append((key, json.dumps(example[key], ensure_ascii=False)))
    body = "".join(f"<tr><td>{html.escape(k)}</td><td><code>{html.escape(v)}</code></td></tr>" for k, v in rows)
    return f'<div class="counterexample">counterexample:<table>{body}</table></div>'


def _detail(v: dict) -> str:
    parts = []
    message = v.get("message")
    if message and message != _verdict(v):
        parts.append(f'<div class="message">{html.escape(str(message))}</div>')
    if v.get("expected_latex"):
        parts.append(f'<div class="expected">expected: {math_html(str(v["expected_latex"]), display=True)}</div>')
    if isinstance(v.get("counterexample"), dict):
        parts.append(_counterexample(v["counterexample"]))
    for key in sorted(k for k in v if k not in _SHOWN):  # fields this renderer does not know yet
        value = v[key]
        if value is None:
            continue
        label = html.escape(key.removesuffix("_latex").replace("_", " "))
        if key.endswith("_latex") and isinstance(value, str):
            parts.append(f'<div class="field">{label}: {math_html(value)}</div>')
        else:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
            parts.append(f'<div class="field">{label}: <code>{html.escape(text)}</code></div>')
    return f'<div class="detail">{"".join(parts)}</div>' if parts else ""


def _claim(note: NoteReport, v: dict, math: str, *, suffix: str = "") -> str:
    verdict = html.escape(_verdict(v))
    return (
        f'<div class="claim verdict-{verdict}" id="{_note_id(note)}-{_anchor(v)}{suffix}" data-line="{v.get("line")}">'
        f'<div class="claim-row"><span class="badge" data-verdict="{verdict}">{verdict}</span>'
        f'<div class="math-display">{math}</div><span class="where">line {v.get("line")}</span></div>'
        f"{_detail(v)}</div>\n"
    )


_ENV = re.compile(r"\\(begin|end)\{[^{}]*\}|\\\\|[{}]")


def _rows(content: str, first_line: int) -> list[tuple[int, str]]:
    """A display's top-level rows (split at ``\\\\`` outside any inner environment or group), each with
    the 1-based line it starts on; the outer alignment environment's own lines are left out."""
    body, offset = content, 0
    outer = re.match(r"\s*\\begin\{[^{}]*\}", content)
    if outer and content.rstrip().endswith("}") and re.search(r"\\end\{[^{}]*\}\s*$", content):
        offset = outer.end()
        body = content[offset : re.search(r"\\end\{[^{}]*\}\s*$", content).start()]
    rows, depth, begin = [], 0, 0
    for m in _ENV.finditer(body):
        token = m.group(0)
        if token in ("{",) or m.group(1) == "begin":
            depth += 1
        elif token in ("}",) or m.group(1) == "end":
            depth -= 1
        elif depth == 0:  # a top-level \\
            rows.append((begin, body[begin : m.start()]))
            begin = m.end()
    rows.append((begin, body[begin:]))
    out = []
    for at, tex in rows:
        if not tex.strip():
            continue
        lead = len(tex) - len(tex.lstrip())
        out.append((first_line + content.count("\n", 0, offset + at + lead), tex.strip()))
    return out


def _display_block(note: NoteReport, tok, verdicts: list[dict]) -> str:
    if not verdicts:
        return f'<div class="math-display">{math_html(tok.content, display=True)}</div>\n'
    if len(verdicts) == 1:
        return _claim(note, verdicts[0], math_html(tok.content, display=True))
    # Several claims in one display (an align): each row with its own badge.
    first = tok.map[0] + 1 + (1 if tok.type == "fence" else 0)  # a fence's content starts below it
    rows = _rows(tok.content, first)
    by_line: dict[int, list[dict]] = {}
    for v in verdicts:
        best = max((r for r in rows if r[0] <= v.get("line", 0)), default=rows[0] if rows else None, key=lambda r: r[0])
        if best is not None:
            by_line.setdefault(best[0], []).append(v)
    out = []
    for start, tex in rows:
        mine = by_line.get(start, [])
        if not mine:
            out.append(f'<div class="math-display">{math_html(tex, display=True)}</div>\n')
        elif len(mine) == 1:
            out.append(_claim(note, mine[0], math_html(tex, display=True)))
        else:  # several equations on one row (a, b = …): each beside its own badge, as the checker read it
            out.extend(_claim(note, v, math_html(str(v.get("latex", tex)), display=True)) for v in mine)
    return "".join(out)


def _assign(note: NoteReport, tokens) -> list[dict]:
    """Attach each verdict to the math token it belongs to (``meta["verdicts"]``); return the left-over ones."""
    left = list(note.verdicts)

    def take(pred) -> list[dict]:
        nonlocal left
        mine = [v for v in left if pred(v)]
        left = [v for v in left if not pred(v)]
        return mine

    for tok in tokens:
        if tok.map is None:
            continue
        lo, hi = tok.map[0] + 1, tok.map[1]
        if tok.type in ("math_block", "math_block_label", "amsmath") or (
            tok.type == "fence" and tok.info.strip() == "math"
        ):
            tok.meta["verdicts"] = take(lambda v, lo=lo, hi=hi: lo <= v.get("line", 0) <= hi)
        elif tok.type == "inline":
            for child in tok.children or ():
                if child.type in ("math_inline", "math_inline_double"):
                    content = child.content.strip()
                    child.meta["verdicts"] = take(
                        lambda v, lo=lo, hi=hi, c=content: (
                            lo <= v.get("line", 0) <= hi and str(v.get("latex", "")).strip() in c
                        )
                    )
    return left


def _inline_claim(note: NoteReport, tex: str, verdicts: list[dict]) -> str:
    """Inline math, with a badge after it for each verdict (linking to its details below)."""
    math = math_html(tex)
    if not verdicts:
        return math
    badges = "".join(
        f'<a class="badge verdict-{html.escape(_verdict(v))}" data-verdict="{html.escape(_verdict(v))}" '
        f'href="#{_note_id(note)}-{_anchor(v)}-detail">{html.escape(_verdict(v))}</a>'
        for v in verdicts
    )
    return f'<span class="inline-claim" id="{_note_id(note)}-{_anchor(verdicts[0])}">{math} {badges}</span>'


def inline_details(note: NoteReport, verdicts: list[dict]) -> str:
    """The details (message, expected, counterexample) of inline claims, which have no room beside them."""
    shown = [v for v in verdicts if _detail(v)]
    if not shown:
        return ""
    return "<h2>Details of the inline claims</h2>" + "".join(
        _claim(note, v, math_html(str(v.get("latex", "")), display=True), suffix="-detail") for v in shown
    )


def _note_html(note: NoteReport) -> str:
    head = f'<section class="note" id="{_note_id(note)}"><h1 class="report"><code>{html.escape(note.name)}</code></h1>'
    if note.text is None:
        return head + _equation_list(note, note.verdicts, "The note's equations, in order.") + "</section>"
    if note.name.lower().endswith((".tex", ".latex", ".ltx")):
        from symrnn.printing.check_report_latex import latex_note_body

        body, left, inline = latex_note_body(note, _display_block, _inline_claim)
        extra = inline_details(note, inline)
        if left:
            extra += _equation_list(note, left, "Verdicts at lines the page does not show as math:")
        return head + body + extra + "</section>"
    md = markdown_parser()

    def block(self, tokens, i, options, env):
        return _display_block(note, tokens[i], tokens[i].meta.get("verdicts", []))

    default_fence = md.renderer.rules["fence"]

    def fence(self, tokens, i, options, env):
        if tokens[i].info.strip() == "math":
            return block(self, tokens, i, options, env)
        return default_fence(self, tokens, i, options, env)

    def inline(self, tokens, i, options, env):
        return _inline_claim(note, tokens[i].content, tokens[i].meta.get("verdicts", []))

    for name in ("math_block", "math_block_label", "amsmath"):
        md.add_render_rule(name, block)
    md.add_render_rule("fence", fence)
    md.add_render_rule("math_inline", inline)
    md.add_render_rule("math_inline_double", inline)
    tokens = md.parse(note.text)
    left = _assign(note, tokens)
    body = md.renderer.render(tokens, md.options, {})
    inline = [
        v
        for tok in tokens
        if tok.type == "inline"
        for child in tok.children or ()
        for v in child.meta.get("verdicts", [])
    ]
    extra = inline_details(note, inline)
    if left:
        extra += _equation_list(note, left, "Verdicts at lines the page does not show as math:")
    return head + body + extra + "</section>"


def _equation_list(note: NoteReport, verdicts: list[dict], heading: str) -> str:
    ordered = sorted(verdicts, key=lambda v: (v.get("line", 0), v.get("column", 0)))
    items = "".join(_claim(note, v, math_html(str(v.get("latex", "")), display=True)) for v in ordered)
    return f'<p class="notice">{html.escape(heading)}</p>{items}'


def _scoped(css: str) -> str:
    """The style sheet with every selector inside ``.symrnn-report`` (``body`` becomes the wrapper)."""
    out = []
    for rule in css.strip().split("}"):
        if "{" not in rule:
            continue
        selectors, body = rule.split("{", 1)
        scoped = ", ".join(
            f".{SCOPE}" if sel.strip() == "body" else f".{SCOPE} {sel.strip()}" for sel in selectors.split(",")
        )
        out.append(f"{scoped} {{{body}}}")
    return "\n".join(out)


def report_fragment(notes: list[NoteReport]) -> str:
    """The report as an HTML fragment with its own scoped style (a notebook output)."""
    body = [_summary(notes)] + [_note_html(n) for n in notes]
    return f'<div class="{SCOPE}">\n<style>{_scoped(STYLE)}</style>\n' + "\n".join(body) + "\n</div>\n"


def check_report_html(notes: list[NoteReport], *, title: str = "symrnn check") -> str:
    """The whole report as one self-contained HTML page (no script, no network).

    Args:
        notes: the checked notes in the order given on the command line.
        title: the page title.

    Returns:
        The page, ending in a newline; the same input gives the same bytes.
    """
    return (
        "<!DOCTYPE html>\n<!-- Generated by symrnn check: the report of the notes below -->\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="generator" content="symrnn check">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n" + report_fragment(notes) + "</body>\n</html>\n"
    )
