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
    # prose \text{…} ends the equation: what follows without a relation is its condition
    (chunk,) = extract_math(r"$$a = b \quad \text{where} \quad c$$", "n.md")
    assert (chunk.text, chunk.condition) == ("a = b", "c")
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
    # multline's rows are one equation
    assert texts("text\n\\begin{multline} a = b \\\\ + c \\end{multline}\n", "n.tex") == ["a = b + c"]
    # In Markdown a lone $ or \[ is prose.
    assert texts("text $a = b\n") == []
    assert texts(r"an escaped \[bracket") == []


# ---- extraction through markdown-it / pylatexenc, notebooks, stdin, bounds


def chunks_of(text: str, name: str = "n.md"):
    from symrnn.notes.extract import extract_note
    from symrnn.notes.source import NoteSource

    return extract_note(NoteSource.from_text(text, name))


def test_markdown_structure_comes_from_markdown_it():
    source = "| a | b |\n|---|---|\n| $x_t = 1$ | y |\n\n- item $a = 1$\n  more $b$\n\n> quote $c = d$\n"
    found = chunks_of(source)
    assert [(c.line, c.column, c.text) for c in found.chunks] == [
        (3, 4, "x_t = 1"),
        (5, 9, "a = 1"),
        (6, 9, "b"),
        (8, 10, "c = d"),
    ]
    for c in found.chunks:
        assert source[c.offset : c.offset + len(c.text)] == c.text


def test_amsmath_and_paragraph_environments_with_row_positions():
    source = "Text\n\n\\begin{align}\n  h_t &= W h_{t-1} \\label{eq:h} \\\\\n  y_t &= V h_t \\nonumber\n\\end{align}\n"
    source += "and inline \\begin{equation} z = 1 \\end{equation} here\n"
    found = chunks_of(source)
    assert [(c.line, c.column, c.text, c.env) for c in found.chunks] == [
        (4, 3, r"h_t &= W h_{t-1} \label{eq:h}", "align"),
        (5, 3, r"y_t &= V h_t \nonumber", "align"),
        (7, 29, "z = 1", "equation"),
    ]


def test_continuation_rows_join_the_row_above_and_keep_positions():
    source = "$$\\begin{aligned}\na &= b \\\\\n  &\\quad + c \\\\\nd &= e\n\\end{aligned}$$\n"
    found = chunks_of(source)
    # the continuation's & and \quad only align it: the joined equation is a = b + c
    assert [c.text for c in found.chunks] == [r"a &= b + c", "d &= e"]
    joined = found.chunks[0]
    assert (joined.line, joined.column) == (2, 1)
    plus = joined.text.index("+")
    assert source_position(source, joined.file_offset(plus)) == (3, 10)


def source_position(source: str, offset: int) -> tuple[int, int]:
    from symrnn.notes.source import SourceMap

    return SourceMap(source).position(offset)


def test_split_inside_equation_and_multline_are_one_equation_per_row_group():
    source = r"\begin{equation}\begin{split} a &= b \\ &= c \end{split}\end{equation}"
    assert texts(source, "n.tex") == ["a &= b", "&= c"]
    assert texts(r"\begin{multline*} a = b \\ + c \\ + d \end{multline*}", "n.tex") == ["a = b + c + d"]


def test_prose_text_cuts_a_condition_or_a_new_equation():
    found = chunks_of(r"$$h_t = W x_t \quad \text{for all } t, \qquad \text{where } \gamma = 1/4$$")
    assert [(c.text, c.condition) for c in found.chunks] == [("h_t = W x_t", "t,"), (r"\gamma = 1/4", None)]


def test_latex_document_through_pylatexenc_with_macros_and_comments():
    source = "\n".join(
        [
            r"\documentclass{article}",
            r"\newcommand{\R}{\mathbb{R}}",
            r"\newcommand{\pd}[2]{\frac{\partial #1}{\partial #2}}",
            r"\def\vh{\mathbf{h}}",
            r"\begin{document}",
            r"Text $W \in \R^{n}$ more % $hidden = 1$",
            r"\[ \pd{J}{\vh_t} = \delta_t \]",
            r"\end{document}",
        ]
    )
    found = chunks_of(source, "n.tex")
    assert [c.text for c in found.chunks] == [
        r"W \in \mathbb{R}^{n}",
        r"\frac{\partial J}{\partial \mathbf{h}_t} = \delta_t",
    ]
    expanded = found.chunks[1]
    assert (expanded.line, expanded.column) == (7, 4)
    # a character the macro produced points at the macro's use; one after it at itself
    assert source_position(source, expanded.file_offset(3)) == (7, 4)
    assert source_position(source, expanded.file_offset(expanded.text.index("= "))) == (7, 18)


def test_markdown_mathjax_macros_are_definitions_not_math():
    source = "$\\newcommand{\\vx}[1][t]{\\mathbf{x}_{#1}}$\n\n$$h = W \\vx + U \\vx[t-1]$$\n"
    assert texts(source) == [r"h = W \mathbf{x}_{t} + U \mathbf{x}_{t-1}"]


def test_macro_expansion_is_bounded():
    from symrnn.notes.limits import MAX_MACRO_DEPTH, MAX_MACRO_EXPANSION_CHARS

    loop = chunks_of("\\def\\x{\\x\\x}\n\\[ a = \\x \\]\n", "n.tex")
    assert loop.chunks == [] and f"the limit is {MAX_MACRO_DEPTH}" in loop.problems[0].message
    blowup = "\\def\\a{aaaaaaaaaa}\\def\\b{\\a\\a\\a\\a\\a\\a\\a\\a\\a\\a}\\def\\c{\\b\\b\\b\\b\\b\\b\\b\\b\\b\\b}"
    blowup += "\\def\\dd{\\c\\c\\c\\c\\c\\c\\c\\c\\c\\c}\\def\\ee{\\dd\\dd\\dd\\dd\\dd\\dd\\dd\\dd\\dd\\dd}"
    blowup += "\n\\[ a = \\ee \\]\n"  # 100,000 characters once expanded
    found = chunks_of(blowup, "n.tex")
    assert f"the limit is {MAX_MACRO_EXPANSION_CHARS:,}" in found.problems[0].message
    assert (found.problems[0].line, found.problems[0].column) == (2, 8)


def test_notebook_markdown_cells_map_to_the_json_file():
    import json

    notebook = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": ["x = '$a = b$'\n"], "outputs": []},
            {"cell_type": "markdown", "metadata": {}, "source": ["# RNN\n", "\n", "$$h_t = \\tanh(W h_{t-1})$$\n"]},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    source = json.dumps(notebook, indent=1)
    found = chunks_of(source, "n.ipynb")
    (chunk,) = found.chunks
    assert chunk.text == r"h_t = \tanh(W h_{t-1})" and chunk.cell == 2
    line = source.splitlines()[chunk.line - 1]
    assert line[chunk.column - 1 :].startswith(r"h_t = \\tanh")  # the JSON escapes the backslash
    # the character after the escaped backslash is 't' of tanh, one column further on
    assert source[chunk.file_offset(chunk.text.index("tanh"))] == "t"


def test_notebook_errors_say_cell_and_point_into_the_json(tmp_path):
    import json

    from symrnn.notes.read import read_notes

    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["$$a = b$$\n", "\n", "$$c = )$$\n"]}]
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1))
    notes = read_notes(path, strict=False)
    assert [e.latex for e in notes.equations] == ["a = b"]
    (bad,) = notes.unreadable
    assert "(cell 1)" in str(bad.error)
    assert path.read_text().splitlines()[bad.line - 1][bad.column - 1] == ")"


def test_not_a_notebook_is_an_input_error():
    from symrnn.notes.source import NoteInputError

    with pytest.raises(NoteInputError, match="not a Jupyter notebook"):
        chunks_of("{not json", "n.ipynb")
    with pytest.raises(NoteInputError, match='no "cells"'):
        chunks_of("[]", "n.ipynb")


def test_standard_input_and_size_bounds(tmp_path):
    import io

    from symrnn.notes.limits import MAX_FILE_BYTES
    from symrnn.notes.source import NoteInputError, load_note

    note = load_note("-", stdin=io.BytesIO(b"$$a = b$$\n"))
    assert (note.name, note.kind, note.text) == ("<stdin>", "markdown", "$$a = b$$\n")
    with pytest.raises(NoteInputError, match=f"the limit is {MAX_FILE_BYTES:,} bytes"):
        load_note("-", stdin=io.BytesIO(b"x" * (MAX_FILE_BYTES + 10)))
    big = tmp_path / "big.md"
    with open(big, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: refused by its size without being read
    with pytest.raises(NoteInputError, match="bytes"):
        load_note(big)
    with pytest.raises(NoteInputError, match="not UTF-8"):
        (tmp_path / "bad.md").write_bytes(b"ok\n\xff\n")
        load_note(tmp_path / "bad.md")
    with pytest.raises(NoteInputError, match="cannot read"):
        load_note(tmp_path / "missing.md")


def test_dev_zero_is_refused_by_size_without_reading_it_all():
    import os

    from symrnn.notes.limits import MAX_FILE_BYTES
    from symrnn.notes.source import NoteInputError, load_note

    class Endless:
        """A stream with no end (a device or pipe has no size), counting what is read of it."""

        read_bytes = 0

        def read(self, size=-1):
            assert size >= 0, "an endless stream read to its end"
            self.read_bytes += size
            return b"a" * size

    stream = Endless()
    with pytest.raises(NoteInputError, match="too large"):
        load_note("-", stdin=stream)
    assert stream.read_bytes == MAX_FILE_BYTES + 1  # it stops one byte past the bound
    if os.path.exists("/dev/zero"):
        with pytest.raises(NoteInputError, match="too large"):
            load_note("/dev/zero")


def test_unclosed_delimiters_are_problems_not_file_rejections():
    found = chunks_of("line one\nline two $$a = b\nmore\n\n$$c = d$$\n\ntext \\begin{align} x\n")
    assert [c.text for c in found.chunks] == ["c = d"]
    assert [(p.line, p.column, p.construct) for p in found.problems] == [
        (2, 10, "unclosed $$"),
        (7, 6, "unclosed align"),
    ]
    latex = chunks_of("a $x = 1$ b $y = 2\n", "n.tex")
    assert [c.text for c in latex.chunks] == ["x = 1"]
    assert [(p.line, p.column) for p in latex.problems] == [(1, 13)]


def test_too_long_math_is_a_problem_stating_the_limit():
    from symrnn.notes.limits import MAX_EQUATION_CHARS

    found = chunks_of("$$" + "x + " * (MAX_EQUATION_CHARS // 4 + 1) + "x$$\n\n$$a = b$$\n")
    assert [c.text for c in found.chunks] == ["a = b"]
    assert f"the limit is {MAX_EQUATION_CHARS:,} characters" in found.problems[0].message


def _calls(text: str, name: str) -> int:
    from tests.helpers import function_calls

    return function_calls(chunks_of, text, name)[1]


def _linear(small: str, big: str, name: str = "n.md") -> bool:
    """Whether ten times the text costs at most 15 times the work (a quadratic scan costs 100×).

    Work is counted in function calls, the same on every run; the times of these scans on a
    1 MB note are figures of ``python -m benchmarks.bench_notes_scaling``.
    """
    assert 9 * len(small) <= len(big) <= 11 * len(small)
    return _calls(big, name) <= 15 * _calls(small, name)


def test_scans_are_linear_unclosed_dollars_and_a_dollar_table():
    # Issue 17: a 1 MB note of unclosed $ and a 125 KB table with $5 per row (was 23 s, quadratic).
    assert _linear("$a " * 3_500, "$a " * 35_000)
    row = "| thing | $5 |\n"
    table = "| item | price |\n|---|---|\n"
    assert _linear(table + row * 900, table + row * 9_000)
    # markdown-it makes an escape token of each unclosed \\[
    assert _linear(("\\[ a " * 500) + ("\\( b " * 500), ("\\[ a " * 5_000) + ("\\( b " * 5_000))
    # one-letter displays (each a chunk) and unclosed environments
    for unit in ("$$x\n", "\\begin{align}\n"):
        assert _linear(unit * 500, unit * 5_000)


def test_latex_scan_is_linear():
    # pylatexenc is pure Python: ten times the text costs about ten times the work.
    assert _linear("text $a " * 1_000, "text $a " * 10_000, "n.tex")
