"""Finding math in Markdown and LaTeX notes, with exact positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from symrnn.notes import NotesSyntaxError, extract_math

NOTES = Path(__file__).parents[1] / "fixtures" / "notes"


def texts(source: str, filename: str = "n.md") -> list[str]:
    return [c.text for c in extract_math(source, filename)]


def at(source: str, line: int, column: int) -> str:
    return source.splitlines()[line - 1][column - 1 :]


@pytest.mark.parametrize("path", sorted(NOTES.glob("*.md")), ids=lambda p: p.name)
def test_chunks_are_exact_substrings_at_their_line_and_column(path):
    source = path.read_text(encoding="utf-8")
    for chunk in extract_math(source, str(path)):
        assert source[chunk.offset : chunk.offset + len(chunk.text)] == chunk.text
        assert at(source, chunk.line, chunk.column).startswith(chunk.text.splitlines()[0])
        assert chunk.text == chunk.text.strip()


def test_note_07_line_of_four_definitions_is_split_at_quads():
    source = (NOTES / "07-gru-bptt-derivation.md").read_text(encoding="utf-8")
    chunks = [c for c in extract_math(source, "07.md") if c.line == 27]
    assert [(c.column, c.text) for c in chunks] == [
        (3, r"\delta_u^{(t)} = \frac{\partial J}{\partial z_u^{(t)}}"),
        (65, r"\delta_r^{(t)} = \frac{\partial J}{\partial z_r^{(t)}}"),
        (127, r"\delta_c^{(t)} = \frac{\partial J}{\partial z_c^{(t)}}"),
        (189, r"\delta c^{(t)} = \frac{\partial J}{\partial c^{(t)}}"),
    ]
    assert all(c.display and c.is_equation for c in chunks)
    assert len({c.block for c in chunks}) == 1


def test_note_03_block_line_keeps_bmatrix_rows_and_splits_at_quad():
    source = (NOTES / "03-rnn-gru-lstm-ng.md").read_text(encoding="utf-8")
    chunks = [c for c in extract_math(source, "03.md") if c.line == 13]
    assert len(chunks) == 2
    assert chunks[0].text.endswith(r"+ b_a\right)")
    assert r"\\" in chunks[0].text  # the bmatrix row break stays inside
    assert (chunks[1].column, chunks[1].text) == (95, r"W_a = [W_{aa} \mid W_{ax}]")


def test_inline_math_without_relation_is_a_mention():
    source = (NOTES / "02-rnn-lstm-olah.md").read_text(encoding="utf-8")
    chunks = extract_math(source, "02.md")
    mentions = [c.text for c in chunks if not c.is_equation]
    assert mentions == ["x_t", "t", "s_t", "o_t"]
    inline_equations = [c.text for c in chunks if c.is_equation and not c.display]
    assert inline_equations == [r"f = \tanh"]


def test_inline_shape_lines_are_equations():
    source = (NOTES / "03-rnn-gru-lstm-ng.md").read_text(encoding="utf-8")
    shape = [c for c in extract_math(source, "03.md") if c.line == 29]
    assert len(shape) == 1 and shape[0].is_equation and not shape[0].display
    assert shape[0].column == 10


def test_all_delimiters():
    source = "\n".join(
        [
            r"a $x = 1$ b \(y = 2\) c",
            r"$$z = 3$$",
            r"\[w = 4\]",
            r"\begin{equation} u = 5 \label{eq:u} \end{equation}",
            r"\begin{equation*} v = 6 \end{equation*}",
            r"\begin{align*} p &= 7 \\ q &= 8 \end{align*}",
            r"$$\begin{aligned} r &= 9 \\ s &= 10 \end{aligned}$$",
            r"\begin{gather} m = 11 \end{gather}",
        ]
    )
    assert texts(source) == [
        "x = 1",
        "y = 2",
        "z = 3",
        "w = 4",
        r"u = 5 \label{eq:u}",
        "v = 6",
        "p &= 7",
        "q &= 8",
        "r &= 9",
        "s &= 10",
        "m = 11",
    ]


def test_display_math_spanning_lines_points_at_its_first_character():
    source = "intro\n\n$$\n   a = b\n   + c\n$$\n"
    (chunk,) = extract_math(source, "n.md")
    assert (chunk.line, chunk.column) == (4, 4)
    assert chunk.text == "a = b\n   + c"


def test_align_lines_and_empty_lines():
    source = "\\begin{align}\n  a &= b \\\\\n  &= c \\nonumber \\\\\n  \\label{x}\n\\end{align}\n"
    chunks = extract_math(source, "n.tex")
    assert [(c.line, c.column, c.text) for c in chunks] == [(2, 3, "a &= b"), (3, 3, r"&= c \nonumber")]


def test_quad_that_only_spaces_is_not_a_split():
    assert texts(r"$$a = b \quad \text{where} \quad c$$") == [r"a = b \quad \text{where} \quad c"]
    assert texts(r"$$a = b, \qquad c = d$$") == ["a = b", "c = d"]
    assert texts(r"$$a = b; \quad c = d \quad e = f$$") == ["a = b", "c = d", "e = f"]
    # inside brackets a \quad is never a separator
    assert texts(r"$$\left( a = b \quad c = d \right)$$") == [r"\left( a = b \quad c = d \right)"]


def test_relations_inside_braces_do_not_make_an_equation():
    (chunk,) = extract_math(r"see $\sum_{t=1}^T x_t$ here", "n.md")
    assert not chunk.is_equation


def test_markdown_dollars_follow_pandoc():
    assert texts("It costs $5 and $10 today.") == []
    assert texts("a $ x $ b") == []
    assert texts(r"price \$5 and $x$") == ["x"]
    assert texts("$x$, and $y$.") == ["x", "y"]
    assert texts("one $a\n\nb$ two") == []  # no inline math across a blank line


def test_markdown_code_is_skipped():
    source = "```\n$$a = b$$\n```\n`$x = 1$` and ``$y$`` then $z$\n~~~tex\n$w$\n~~~\n$v$"
    assert texts(source) == ["z", "v"]


def test_latex_comments_are_skipped():
    source = "% $$a = b$$\ntext 50\\% off $x = 1$ % $y$\n"
    assert texts(source, "n.tex") == ["x = 1"]


def test_unclosed_display_is_an_error_at_its_opening():
    source = "line one\nline two $$a = b\nmore\n"
    with pytest.raises(NotesSyntaxError) as info:
        extract_math(source, "n.md")
    err = info.value
    assert (err.file, err.line, err.column) == ("n.md", 2, 10)
    assert "never closed" in err.message
    assert str(err).splitlines()[1:] == ["    line two $$a = b", "             ^"]


def test_unclosed_environment_and_latex_dollar_are_errors():
    with pytest.raises(NotesSyntaxError, match="equation"):
        extract_math("\n\\begin{equation} a = b\n", "n.md")
    with pytest.raises(NotesSyntaxError) as info:
        extract_math("text $a = b\n", "n.tex")
    assert (info.value.line, info.value.column) == (1, 6)
    with pytest.raises(NotesSyntaxError, match="multline"):
        extract_math("text\n\\begin{multline} a = b \\\\ + c \\end{multline}\n", "n.tex")
    # In Markdown a lone $ or \[ is prose.
    assert texts("text $a = b\n") == []
    assert texts(r"an escaped \[bracket") == []
