"""The HTML report of ``symrnn check``: the whole note rendered, a verdict badge beside each equation.

The page tests read the HTML; the browser tests open it in headless Chromium and look at what
was drawn (math rendered as MathML, no raw TeX left, every badge level with its equation).
"""

from __future__ import annotations

import json
import os
import re

import pytest
from click.testing import CliRunner

from symrnn.cli import main
from symrnn.notes.checker import check as check_note
from symrnn.printing.check_report import NoteReport, check_report_html
from symrnn.printing.html import UNRENDERED_CLASS, markdown_html, math_html
from tests import browser

GRU_NOTE = os.path.join(os.path.dirname(__file__), "fixtures", "gru-bptt-two-mistakes.md")


def _report(path: str) -> tuple[str, list[dict]]:
    verdicts = [v.to_json() for v in check_note(path)]
    with open(path, encoding="utf-8") as f:
        return check_report_html([NoteReport(os.path.basename(path), f.read(), verdicts)]), verdicts


def test_the_report_opens_with_the_summary_and_badges_every_verdict():
    page, verdicts = _report(GRU_NOTE)
    wrong = [v for v in verdicts if v["verdict"] == "wrong"]
    assert len(wrong) == 2  # the fixture's two planted mistakes
    assert page.index('class="summary"') < page.index('class="note"')
    assert "2 wrong claims" in page
    anchors = re.findall(r'id="note-[^"]*-L(\d+)C(\d+)"', page)  # a badge at each, inline or displayed
    assert sorted(anchors) == sorted((str(v["line"]), str(v["column"])) for v in verdicts)
    for v in wrong:
        claim = re.search(
            rf'<div class="claim verdict-wrong" id="[^"]*L{v["line"]}C{v["column"]}".*?</div></div>', page
        )
        assert claim, f"no wrong claim at line {v['line']}"
        block = page[claim.start() : page.index('<div class="claim', claim.end())]
        assert '<div class="expected">expected: <math' in block  # the expected right side as math
        assert json.dumps(v["counterexample"]["left"]) in block and json.dumps(v["counterexample"]["right"]) in block
    assert UNRENDERED_CLASS + '">' not in page and "$$" not in page


def test_same_input_gives_the_same_page():
    assert _report(GRU_NOTE)[0] == _report(GRU_NOTE)[0]


def test_fields_the_checker_adds_later_are_shown():
    v = {"file": "n.md", "line": 1, "column": 3, "latex": "a = b", "verdict": "wrong", "message": "does not hold"}
    v |= {"differing_term_latex": r"\sigma(z_t)", "reason": "planted sign"}
    page = check_report_html([NoteReport("n.md", "$$a = b$$\n", [v])])
    assert re.search(r"differing term: <math[^>]*>.*?<mi>&#x003C3;</mi>", page)
    assert "reason: <code>planted sign</code>" in page


def test_user_html_and_links_in_a_note_are_escaped():
    text = "<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n$$a = b$$\n"
    page = check_report_html([NoteReport("n.md", text, [])])
    assert "<script>" not in page and 'href="javascript:' not in page
    assert "&lt;script&gt;" in page


def test_each_row_of_an_alignment_gets_its_own_badge():
    text = "Intro.\n\n\\begin{align}\na &= b + c \\\\\nd &= \\begin{bmatrix} 1 \\\\ 2 \\end{bmatrix}\n\\end{align}\n"
    verdicts = [
        {"file": "n.md", "line": 4, "column": 1, "latex": "a = b + c", "verdict": "holds", "message": ""},
        {"file": "n.md", "line": 5, "column": 1, "latex": "d = ...", "verdict": "wrong", "message": "does not hold"},
    ]
    page = check_report_html([NoteReport("n.md", text, verdicts)])
    rows = re.findall(r'<div class="claim verdict-(\w+)" id="[^"]*" data-line="(\d+)">', page)
    assert rows == [("holds", "4"), ("wrong", "5")]
    assert "<mtable" in page.split('data-line="5"')[1]  # the matrix inside the second row stays whole


def test_math_that_cannot_be_converted_is_shown_as_tex_and_marked():
    assert UNRENDERED_CLASS in math_html(r"\notamacro{x} + 1")
    assert math_html(r"\frac{a}{b}").startswith("<math")


def test_markdown_of_the_jupyter_flavour_renders_dollar_math():
    out = markdown_html("Let $x_t$ be\n\n$$h_t = \\tanh(x_t)$$\n\n```math\ny = 1\n```\n")
    assert out.count("<math") == 3 and "$" not in out


def test_cli_writes_the_page_refreshes_its_own_and_keeps_the_users(tmp_path):
    out = tmp_path / "report.html"
    runner = CliRunner()
    first = runner.invoke(main, ["check", "--html", str(out), GRU_NOTE])
    assert first.exit_code == 1, first.output  # a wrong claim: exit 1, the page still written
    data = out.read_bytes()
    assert data.startswith(b"<!DOCTYPE html>") and b"data-verdict" in data
    again = runner.invoke(main, ["check", "--html", str(out), GRU_NOTE])
    assert again.exit_code == 1 and out.read_bytes() == data
    stdout = runner.invoke(main, ["check", "--format", "html", GRU_NOTE])
    assert stdout.output.encode() == data
    mine = tmp_path / "mine.html"
    mine.write_text("my own page")
    refused = runner.invoke(main, ["check", "--html", str(mine), GRU_NOTE])
    assert refused.exit_code == 2 and "--force" in refused.output and mine.read_text() == "my own page"
    bad = runner.invoke(main, ["check", "--format", "xml", GRU_NOTE])
    assert bad.exit_code == 2 and "text, json, html" in bad.output


@pytest.mark.skipif(browser.missing() is not None, reason=str(browser.missing()))
def test_the_page_renders_in_a_browser_with_every_badge_at_its_equation(tmp_path):
    page_html, verdicts = _report(GRU_NOTE)
    path = tmp_path / "report.html"
    path.write_text(page_html, encoding="utf-8")
    with browser.page() as page:
        page.goto(path.as_uri())
        # Every formula is MathML that the browser laid out (a box with height), none left as TeX.
        heights = page.eval_on_selector_all("math", "els => els.map(e => e.getBoundingClientRect().height)")
        assert len(heights) >= len(verdicts) and min(heights) > 5
        assert page.locator(f"code.{UNRENDERED_CLASS}").count() == 0
        text = page.inner_text("body")
        assert not re.search(r"\\[a-zA-Z]+|\$", text), "raw TeX in the rendered text"
        # Each claim's badge sits level with its own equation.
        boxes = page.eval_on_selector_all(
            ".claim",
            """els => els.map(e => {
                const b = e.querySelector('.claim-row > .badge').getBoundingClientRect();
                const m = e.querySelector('.claim-row > .math-display').getBoundingClientRect();
                return [e.dataset.line, b.top, b.bottom, m.top, m.bottom, b.right <= m.left];
            })""",
        )
        inline = page.eval_on_selector_all(
            ".inline-claim",
            """els => els.map(e => {
                const b = e.querySelector('.badge').getBoundingClientRect();
                const m = e.querySelector('math').getBoundingClientRect();
                return [e.id, b.top, b.bottom, m.top, m.bottom, b.left >= m.right];
            })""",
        )
        details = page.locator(".claim[id$='-detail']").count()
        assert len(boxes) - details + len(inline) == len(verdicts)
        for name, b_top, b_bottom, m_top, m_bottom, right_of in inline:
            assert b_top < m_bottom and m_top < b_bottom and right_of, f"the badge of {name} is not after its math"
        for line, b_top, b_bottom, m_top, m_bottom, left_of in boxes:
            centre = (b_top + b_bottom) / 2
            assert m_top <= centre <= m_bottom and left_of, f"the badge of line {line} is not beside its equation"
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")


LATEX_NOTE = r"""\documentclass{article}
\usepackage{amsmath}
\newcommand{\dd}[2]{\frac{\partial #1}{\partial #2}}
\begin{document}
\section{Gradients}
With $h_t = \tanh(a_t)$ we get % a comment
\begin{align}
  \dd{J}{a_t} &= \delta h_t \odot (1 - h_t^2) \\
  \dd{J}{W} &= \sum_t \delta a_t\, h_{t-1}^\top
\end{align}
and \emph{nothing else}.
\end{document}
"""


def test_a_latex_note_is_rendered_with_its_macros_and_a_badge_per_row():
    verdicts = [
        {"file": "n.tex", "line": 6, "column": 7, "latex": r"h_t = \tanh(a_t)", "verdict": "definition", "message": ""},
        {"file": "n.tex", "line": 8, "column": 3, "latex": "…", "verdict": "holds", "message": ""},
        {"file": "n.tex", "line": 9, "column": 3, "latex": "…", "verdict": "wrong", "message": "does not hold"},
    ]
    page = check_report_html([NoteReport("n.tex", LATEX_NOTE, verdicts)])
    body = page.split('<section class="note"', 1)[1]
    assert "<h2>Gradients</h2>" in body and "<em>nothing else</em>" in body
    assert "documentclass" not in body and "amsmath" not in body and "a comment" not in body
    rows = re.findall(r'<div class="claim verdict-(\w+)" id="[^"]*" data-line="(\d+)">', body)
    assert rows == [("holds", "8"), ("wrong", "9")]
    assert 'class="inline-claim"' in body and 'data-verdict="definition"' in body
    assert body.count("<mfrac>") >= 2 and UNRENDERED_CLASS + '">' not in body  # \dd expanded
    assert "Verdicts at lines" not in body


def test_a_macro_that_expands_without_end_is_bounded():
    from symrnn.printing.check_report_latex import expand

    assert len(expand(r"\a", {"a": (0, r"\a\a")})) < 50_000
