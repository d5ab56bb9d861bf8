"""NotesSyntaxError: position in the original file, caret, and conversion of every failure."""

from __future__ import annotations

import pickle

import pytest
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

import symrnn.notes.parse as parse_module
from symrnn.notes import MathChunk, NotesSyntaxError, extract_math, parse_equation, parse_latex, read_equations

NOTE = """# GRU notes

Forward pass, with $c^{(0)}$ given:

$$z_u^{(t)} = W_{uc} c^{(t-1)} + b_u$$

$$
\\Gamma_u^{(t)} = \\sigma(z_u^{(t)})
  + \\tanh(W x^{(t)} @ b)
$$

More prose.
"""


def parse_error(source: str, filename: str = "notes/gru.md") -> NotesSyntaxError:
    chunks = extract_math(source, filename)
    errors = []
    for chunk in chunks:
        try:
            parse_equation(chunk)
        except NotesSyntaxError as e:
            errors.append(e)
    assert len(errors) == 1, errors
    return errors[0]


def test_bad_equation_in_a_multiline_markdown_file():
    err = parse_error(NOTE)
    assert (err.file, err.line, err.column) == ("notes/gru.md", 9, 21)
    assert err.message == "unexpected character '@'"
    assert str(err) == (
        "notes/gru.md:9:21: unexpected character '@'\n      + \\tanh(W x^{(t)} @ b)\n    " + " " * 20 + "^"
    )
    assert NOTE.splitlines()[err.line - 1][err.column - 1] == "@"


def test_read_equations_raises_with_the_file_path(tmp_path):
    path = tmp_path / "gru.md"
    path.write_text(NOTE, encoding="utf-8")
    with pytest.raises(NotesSyntaxError) as info:
        read_equations(path)
    assert info.value.file == str(path)
    assert (info.value.line, info.value.column) == (9, 21)


@pytest.mark.parametrize(
    "line, expected_column, message",
    [
        (r"$$a + b)$$", 8, "unmatched ')'"),
        (r"$$h_t = \tanh(W h_{t-1}$$", 24, "unexpected end of the math; expected ')'"),
        (r"$$a + = b$$", 7, "unexpected '='; expected an expression"),
        (r"$$x = \input{/etc/passwd}$$", 7, "unknown or unsupported command \\input"),
        (r"$$x = [a, b; c]$$", 12, "brackets mix the separators ',' and ';'"),
        (r"$$x = \hat{a + b}$$", 11, "\\hat must be put on a single symbol"),
        (r"$$y = h_{t,q^2}$$", 9, "cannot read this subscript"),
        (r"$$y = x^{(t)}^{(s)}$$", 14, "x has two superscripts"),
        (r"$$y = x_{t}^{(s)}_{k}$$", 18, "x has two subscripts"),
        (r"$$y = \text{ for all } t$$", 6, "unexpected end of the math"),
        (r"$$y = \sum_t$$", 7, "\\sum needs something to sum"),
    ],
)
def test_error_columns_point_into_the_file(line, expected_column, message):
    source = f"# Title\n\nSome text with $x_t$.\n\n{line}\n"
    err = parse_error(source)
    assert err.line == 5
    assert err.column == expected_column
    assert message in err.message
    caret_line = str(err).splitlines()[2]
    assert caret_line.index("^") - 4 == expected_column - 1


def test_caret_follows_tabs():
    source = "x\t$$a ) b$$\n"
    err = parse_error(source)
    assert (err.line, err.column) == (1, 7)
    assert str(err).splitlines()[2] == "     \t    ^"


def test_error_on_a_later_align_line():
    source = "\\begin{align}\n  a &= b \\\\\n  c &= d + \n\\end{align}\n"
    err = parse_error(source, "n.tex")
    assert (err.line, err.column) == (3, 11)


def test_error_pickles_and_keeps_fields():
    err = NotesSyntaxError("f.md", 3, 7, "boom", "source line")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.file, copy.line, copy.column, copy.message) == ("f.md", 3, 7, "boom")
    assert isinstance(err, ValueError)


def test_hand_built_chunk_counts_from_its_own_position():
    chunk = MathChunk("f.md", 10, 5, "a + )", 0, True, True, 0)
    with pytest.raises(NotesSyntaxError) as info:
        parse_equation(chunk)
    assert (info.value.line, info.value.column) == (10, 9)


def test_pathological_nesting_is_a_syntax_error():
    for opener in ("{", "(", "[", r"\frac{"):
        with pytest.raises(NotesSyntaxError, match="nested"):
            parse_latex(opener * 5000 + "x")
    with pytest.raises(NotesSyntaxError, match="nested"):
        parse_latex(r"\sqrt" * 1000 + " x")
    # a flat sum is long, not deep: its own bound, stated (issue 17)
    with pytest.raises(NotesSyntaxError, match=r"this sum has too many terms \(the limit is 300 terms\)"):
        parse_latex(" + ".join(["x"] * 1000))


@pytest.mark.parametrize(
    "exception",
    [
        RecursionError("maximum recursion depth exceeded"),
        UnexpectedEOF(["RPAR"]),
        UnexpectedCharacters("a @ b", 2, 1, 3),
        UnexpectedToken.__new__(UnexpectedToken),  # even a half-built lark error
        KeyError("surprise"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_failure_becomes_a_notes_syntax_error(monkeypatch, exception):
    class Exploding:
        def parse(self, text):
            raise exception

    monkeypatch.setattr(parse_module, "_parser", lambda: Exploding())
    with pytest.raises(NotesSyntaxError) as info:
        parse_latex("a @ b", "f.md")
    assert info.value.file == "f.md"
    assert info.value.line == 1


def test_continued_line_without_a_previous_equation(tmp_path):
    path = tmp_path / "n.md"
    path.write_text("text\n\n$$&= c$$\n", encoding="utf-8")
    with pytest.raises(NotesSyntaxError, match="continues") as info:
        read_equations(path)
    assert (info.value.line, info.value.column) == (3, 3)
