"""Parsing the math of the real notes, and the reading rules one by one."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from lark import Lark, logger

from symrnn.notes import extract_math, function_letters, parse_equation, parse_latex, read_notes, show
from symrnn.notes.parse import _parser
from symrnn.notes.tree import (
    Apply,
    Concat,
    Derivative,
    Differential,
    Equation,
    Func,
    Matrix,
    Product,
    Span,
    Sub,
    Sum,
    Symbol,
    TimeIndex,
    Transpose,
)

NOTES = Path(__file__).parents[1] / "fixtures" / "notes"
NOTE_FILES = sorted(NOTES.glob("*.md"))


def parse(latex: str) -> str:
    return show(parse_latex(latex))


def equations_of(name: str) -> dict[int, list]:
    """Line → parsed equations of a fixture note."""
    by_line: dict[int, list] = {}
    for eq in read_notes(NOTES / name).equations:
        by_line.setdefault(eq.line, []).append(eq)
    return by_line


def test_fixtures_are_there():
    assert len(NOTE_FILES) == 8
    assert (NOTES / "EXPECTED.md").exists()


@pytest.mark.parametrize("path", NOTE_FILES, ids=lambda p: p.name)
def test_every_equation_and_mention_of_every_note_parses(path):
    text = path.read_text(encoding="utf-8")
    chunks = extract_math(text, str(path))
    functions = function_letters(chunks)
    assert chunks
    for chunk in chunks:
        parse_equation(chunk, functions)  # raises on failure


def test_all_notes_parse_in_work_linear_in_their_length():
    # The time of reading every note is a figure of benchmarks/bench_notes.py (no clock here):
    # the work, counted in function calls, stays within a budget per character of the notes,
    # after the parser is built (a grammar that backtracked or rescanned would exceed it).
    from tests.helpers import function_calls

    _parser.cache_clear()
    read_notes(NOTE_FILES[0])  # build the parser
    characters = sum(len(path.read_text(encoding="utf-8")) for path in NOTE_FILES)
    count, calls = function_calls(lambda: sum(len(read_notes(path).equations) for path in NOTE_FILES))
    assert count > 100
    assert calls < 400 * characters, f"{calls / characters:.0f} calls per character"


def test_grammar_has_no_lalr_conflicts():
    # lark resolves shift/reduce conflicts silently (logging at DEBUG); we want none.
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        grammar = (Path(__import__("symrnn.notes").notes.__file__).parent / "grammar.lark").read_text()
        Lark(grammar, parser="lalr", lexer="contextual")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert "onflict" not in buffer.getvalue()


# ---- spot checks of real notes (the tree the note means)


def test_note_07_delta_c_line():
    (eq,) = equations_of("07-gru-bptt-derivation.md")[35]
    assert show(eq.tree) == (
        "(= (delta c@t) (+ (+ (+ (+ (juxt (T W_y) (- y.hat@t y@t))"
        " (* (delta c@t+1) (- 1 Gamma_u@t+1))) (juxt (T W_uc) delta_u@t+1))"
        " (juxt (T W_rc) delta_r@t+1)) (* Gamma_r@t+1 (juxt (T W_cc) delta_c@t+1))))"
    )
    lhs = eq.tree.lhs
    assert lhs == Differential("delta", Symbol("c", time=TimeIndex("t", 0)))
    assert lhs.span == Span(35, 3, 35, 17)  # end column is exclusive


def test_note_07_four_delta_definitions_are_four_equations():
    eqs = equations_of("07-gru-bptt-derivation.md")[27]
    assert [(e.column, show(e.tree)) for e in eqs] == [
        (3, "(= delta_u@t (D J z_u@t))"),
        (65, "(= delta_r@t (D J z_r@t))"),
        (127, "(= delta_c@t (D J z_c@t))"),
        (189, "(= (delta c@t) (D J c@t))"),
    ]
    assert eqs[0].tree.lhs == Symbol("delta", sub="u", time=TimeIndex("t", 0, "paren"))


def test_note_07_wrong_lines_read_as_written():
    by_line = equations_of("07-gru-bptt-derivation.md")
    assert show(by_line[39][0].tree) == (
        "(= delta_u@t (* (* (* (delta c@t) (- c@t-1 c.tilde@t)) Gamma_u@t) (- 1 Gamma_u@t)))"
    )
    assert show(by_line[43][0].tree) == "(= (D J W_cc) (sum t _ _ (juxt delta_c@t (T c@t-1))))"
    # W_{cc} (…) is a product, not an application: W is matrix-looking.
    assert show(by_line[15][0].tree) == ("(= z_c@t (+ (+ (juxt W_cc (* Gamma_r@t c@t-1)) (juxt W_cx x@t)) b_c))")
    assert show(by_line[23][0].tree) == "(= J (neg (sum t 1 T (juxt (T y@t) (log y.hat@t)))))"


def test_note_05_long_chain_rule_line():
    (eq,) = equations_of("05-rnn-bptt-korean.md")[19]
    assert show(eq.tree) == (
        "(= (D E@n+2 W_hh) (+ (+ (juxt (D E@n+2 h@n+2) (D h@n+2 W_hh))"
        " (juxt (juxt (D E@n+2 h@n+2) (D h@n+2 h@n+1)) (D h@n+1 W_hh)))"
        " (juxt (juxt (juxt (D E@n+2 h@n+2) (D h@n+2 h@n+1)) (D h@n+1 h@n)) (D h@n W_hh))))"
    )
    assert eq.tree.lhs == Derivative(Symbol("E", time=TimeIndex("n", 2)), Symbol("W", sub="hh"))


def test_note_05_labels_with_commas_and_sum_without_limits():
    by_line = equations_of("05-rnn-bptt-korean.md")
    assert show(by_line[30][0].tree) == ("(= f@t (sigma (+ (+ (juxt W_xh,f x@t) (juxt W_hh,f h@t-1)) b_h,f)))")
    assert show(by_line[9][0].tree) == "(= E (sum t _ _ E@t))"
    assert show(by_line[12][0].tree) == "(= W (- W (juxt eta (D E W))))"


def test_note_03_bmatrix_lines():
    by_line = equations_of("03-rnn-gru-lstm-ng.md")
    first, second = by_line[13]
    assert show(first.tree) == "(= a@t (f (+ (juxt W_a (matrix (a@t-1) (x@t))) b_a)))"
    assert (second.column, show(second.tree)) == (95, "(= W_a (concat| W_aa W_ax))")
    assert show(by_line[31][0].tree) == ("(= c.hat@t (f (+ (juxt W_c (matrix ((* Gamma_r c@t-1)) (x@t))) b_c)))")
    (block,) = by_line[11]
    assert show(block.tree) == "(= (juxt (concat, A B) (matrix (C) (D))) (+ (juxt A C) (juxt B D)))"
    matrix = first.tree.rhs.args[0].left.right
    assert isinstance(matrix, Matrix) and len(matrix.rows) == 2


def test_note_03_loss_and_shapes():
    by_line = equations_of("03-rnn-gru-lstm-ng.md")
    assert show(by_line[17][0].tree) == (
        "(= (L@t y.hat@t y@t) (- (neg (juxt y@t (log y.hat@t))) (juxt (- 1 y@t) (log (- 1 y.hat@t)))))"
    )
    assert show(by_line[19][0].tree) == "(= J (sum t 1 n (L@t y.hat@t y@t)))"
    assert show(by_line[29][0].tree) == (
        "(= (times 100 1) (sigma (+ (cdot (times 100 (+ 100 1000)) (times (+ 100 1000) 1)) (times 100 1))))"
    )
    assert show(by_line[37][0].tree) == ("(= (times 50 1) (g (+ (cdot (times 50 100) (times 100 1)) (times 50 1))))")


def test_note_01_stacking_with_superscript_times():
    by_line = equations_of("01-rnn-lstm-zhihu.md")
    assert show(by_line[16][0].tree) == "(= z (tanh (juxt W (concat; x@t h@t-1))))"
    assert show(by_line[7][0].tree) == "(= h' (sigma (+ (juxt W^h h) (juxt W^i x))))"
    assert show(by_line[28][0].tree) == "(= y@t (sigma (juxt W' h@t)))"
    assert show(by_line[3][0].tree) == "(= (tuple h' y) (f h x))"
    z_i = by_line[18][0].tree.lhs
    assert z_i == Symbol("z", sup="i") and z_i.time is None


def test_note_02_function_letter_and_softmax():
    by_line = equations_of("02-rnn-lstm-olah.md")
    assert show(by_line[7][0].tree) == "(= s@t (f (+ (juxt U x@t) (juxt W s@t-1))))"
    assert by_line[11][0].tree == Equation((Func("f"), Func("tanh")), ("=",))
    assert show(by_line[9][0].tree) == "(= o@t (softmax (juxt V s@t)))"
    assert show(by_line[16][0].tree) == "(= f@t (sigma (+ (cdot W_f (concat, h@t-1 x@t)) b_f)))"


def test_note_06_gradients():
    by_line = equations_of("06-rnn-bptt-derivation.md")
    assert show(by_line[13][0].tree) == (
        "(= J (sum t 1 T (- (neg (juxt y@t (log y.hat@t))) (juxt (- 1 y@t) (log (- 1 y.hat@t))))))"
    )
    assert show(by_line[17][0].tree) == "(= (delta v) (D J v))"
    assert show(by_line[27][0].tree) == "(= (D J W_y) (sum t 1 T (juxt (- y.hat@t y@t) (T a@t))))"
    assert show(by_line[30][0].tree) == "(= (delta z@T+1) 0)"
    assert show(by_line[5][0].tree) == "(= t (tuple 1 ... T))"


def test_expected_md_mentions():
    notes = read_notes(NOTES / "EXPECTED.md")
    mentions = {m.latex: show(m.tree) for m in notes.mentions}
    assert mentions["dv"] == "(d v)"
    assert mentions[r"\partial h_{k} / \partial h_{k-1}"] == "(D h@k h@k-1)"
    assert mentions[r"\sum_t \delta_c^{(t)} (\Gamma_r^{(t)} * c^{(t-1)})^\top"] == (
        "(sum t _ _ (juxt delta_c@t (T (* Gamma_r@t c@t-1))))"
    )


# ---- reading rules


@pytest.mark.parametrize(
    "latex, expected",
    [
        # time indices in every notation, all equal
        ("h_t", "h@t"),
        ("h_{t-1}", "h@t-1"),
        ("x^{(t)}", "x@t"),
        ("a^{<t>}", "a@t"),
        (r"c^{\langle t \rangle}", "c@t"),
        ("h^t", "h@t"),
        ("h^{t-1}", "h@t-1"),
        ("h_0", "h@0"),
        ("h_T", "h@T"),
        ("y^{(T+1)}", "y@T+1"),
        (r"h_{\tau}", "h@tau"),
        ("E_{n+2}", "E@n+2"),
        # name labels
        ("W^h", "W^h"),
        ("W^{i}", "W^i"),
        ("W_{hh}", "W_hh"),
        ("z^f", "z^f"),
        ("W'", "W'"),
        ("z_u^{(t)}", "z_u@t"),
        ("W_{xh,f}", "W_xh,f"),
        (r"W^{[1]}", "W^[1]"),
        (r"W_{\text{out}}", "W_out"),
        # transposes
        (r"{a^{(t-1)}}^\top", "(T a@t-1)"),
        ("W^T", "(T W)"),
        ("W^{T}", "(T W)"),
        (r"W^{\top}", "(T W)"),
        (r"W_y^\top", "(T W_y)"),
        (r"x^{(t)\top}", "(T x@t)"),
        (r"(a + b)^\top", "(T (+ a b))"),
        # accents, fonts, Greek
        (r"\tilde{C}_t", "C.tilde@t"),
        (r"\widetilde{h}_t", "h.tilde@t"),
        (r"\hat y^{(t)}", "y.hat@t"),
        (r"\bar{h}", "h.bar"),
        (r"\mathbf{W}_{hh}", "W_hh"),
        (r"\mathcal{L}", "cal:L"),
        (r"\Gamma_u", "Gamma_u"),
        (r"\eta", "eta"),
        # powers
        ("x^2", "(^ x 2)"),
        ("W^{-1}", "(^ W -1)"),
        (r"\tanh^2(z)", "(^ (tanh z) 2)"),
        (r"1 - \tanh^2(z)", "(- 1 (^ (tanh z) 2))"),
    ],
)
def test_scripts(latex, expected):
    assert parse(latex) == expected


def test_time_index_notation_is_not_compared():
    assert parse_latex("h_t") == parse_latex("h^{(t)}") == parse_latex("h^{<t>}") == parse_latex("h^t")
    assert parse_latex("h_t") != parse_latex("h_{t-1}")
    assert parse_latex(r"\frac{\partial J}{\partial v}") == parse_latex(r"\partial J / \partial v")


@pytest.mark.parametrize(
    "latex, expected",
    [
        # function application vs multiplication
        (r"\sigma(z)", "(sigma z)"),
        (r"\sigma (W x + b)", "(sigma (+ (juxt W x) b))"),
        (r"\sigma\left(W x\right)", "(sigma (juxt W x))"),
        (r"\sigma\big(x\big)", "(sigma x)"),
        (r"\tanh\Big(x\Big)", "(tanh x)"),
        (r"\log \hat{y}^{(t)}", "(log y.hat@t)"),
        (r"\exp(x)", "(exp x)"),
        (r"\operatorname{relu}(x)", "(relu x)"),
        (r"\operatorname{foo}(x)", "(foo x)"),
        (r"\mathrm{LSTM}(x_t)", "(LSTM x@t)"),
        (r"\mathrm{loss} = \sum_t \ell_t", "(= loss (sum t _ _ ell@t))"),
        (r"\text{out}_t \, x", "(juxt out@t x)"),
        (r"\mathrm{GRU}(x_t, h_{t-1})", "(GRU x@t h@t-1)"),
        (r"\Gamma (x)", "(juxt Gamma x)"),
        (r"\mathrm{softmax}(V h)", "(softmax (juxt V h))"),
        (r"softmax(x)", "(softmax x)"),
        (r"\sigma'(z)", "(sigma' z)"),
        (r"\log \log x", "(log (log x))"),
        (r"W (r * c)", "(juxt W (* r c))"),
        (r"U(x + y)", "(juxt U (+ x y))"),
        (r"L(a, b)", "(L a b)"),
        (r"\max(a, b)", "(max a b)"),
        (r"\sigma W x", "(juxt (sigma W) x)"),
        # gradients and derivatives
        (r"\delta x", "(delta x)"),
        (r"\delta_u^{(t)}", "delta_u@t"),
        (r"\delta", "delta"),
        (r"dW", "(d W)"),
        (r"dW_{hh} = \delta", "(= (d W_hh) delta)"),
        (r"d", "d"),
        (r"\frac{\partial J}{\partial W}", "(D J W)"),
        (r"\partial E / \partial v", "(D E v)"),
        (r"\frac{dJ}{dW}", "(dD J W)"),
        (r"\frac{a}{b}", "(frac a b)"),
        (r"\frac12", "(frac 1 2)"),
        (r"x^23", "(juxt (^ x 2) 3)"),
        (r"x_10 + 10", "(+ (juxt x@1 0) 10)"),
        (r"h_t \in \mathbb{R}^{100 \times 1}", "(in h@t (^ bb:R (times 100 1)))"),
        (r"a / b", "(frac a b)"),
        # products and sums
        (r"a \cdot b", "(cdot a b)"),
        (r"a \odot b", "(odot a b)"),
        (r"a \circ b", "(circ a b)"),
        (r"a * b", "(* a b)"),
        (r"100 \times 1", "(times 100 1)"),
        (r"a \odot W x", "(odot a (juxt W x))"),
        (r"1 - x", "(- 1 x)"),
        (r"-a - b", "(- (neg a) b)"),
        (r"a + b - c", "(- (+ a b) c)"),
        (r"\sum_t x_t", "(sum t _ _ x@t)"),
        (r"\sum_{t} x_t", "(sum t _ _ x@t)"),
        (r"\sum_{t=1}^{T} x_t", "(sum t 1 T x@t)"),
        (r"\sum_{t=1}^T x_t", "(sum t 1 T x@t)"),
        (r"\sum_{t=1}^{n} a_t b_t + c", "(+ (sum t 1 n (juxt a@t b@t)) c)"),
        (r"\sum\limits_{k=t}^{T} a * b", "(sum k t T (* a b))"),
        (r"2 \sum_t x_t", "(juxt 2 (sum t _ _ x@t))"),
        # brackets
        (r"[a, b]", "(concat, a b)"),
        (r"[a; b]", "(concat; a b)"),
        (r"[A \mid B]", "(concat| A B)"),
        (r"\left[ h_{t-1}, x_t \right]", "(concat, h@t-1 x@t)"),
        (r"\begin{bmatrix} a \\ b \end{bmatrix}", "(matrix (a) (b))"),
        (r"\begin{pmatrix} a & b \\ c & d \\ \end{pmatrix}", "(matrix (a b) (c d))"),
        # spacing is ignored
        (r"a \, b \; c \! x \quad e \qquad f ~ g", "(juxt (juxt (juxt (juxt (juxt (juxt a b) c) x) e) f) g)"),
        (r"d \, x", "(juxt d x)"),
        (r"x_1, \dots, x_T", "(tuple x@1 ... x@T)"),
        (r"x_1, \ldots, x_n", "(tuple x@1 ... x@n)"),
        (r"a + \cdots + b", "(+ (+ a ...) b)"),
        # equations
        ("a = b", "(= a b)"),
        ("a = b = c", "(a = b = c)"),
        ("a = b, c = d", "(list (= a b) (= c d))"),
        ("a = b.", "(= a b)"),
        ("a = b,", "(= a b)"),
        (r"W \leftarrow W - \eta dW", "(leftarrow W (- W (juxt eta (d W))))"),
        (r"a \approx b", "(approx a b)"),
        (r"h_t \in \mathbb{R}^{n}", "(in h@t (^ bb:R n))"),
        ("&= c", "(= <continued> c)"),
        (r"a &= b \label{eq:1} \nonumber", "(= a b)"),
        ("a = b % a TeX comment", "(= a b)"),
    ],
)
def test_reading_rules(latex, expected):
    assert parse(latex) == expected


def test_unnamed_function_letters_follow_the_file():
    text = "$$a = f(x + y)$$\n$$b = g (x)$$\n"
    chunks = extract_math(text, "n.md")
    functions = function_letters(chunks)
    assert functions == {"f", "g"}
    assert [show(parse_equation(c, functions)) for c in chunks] == ["(= a (f (+ x y)))", "(= b (g x))"]
    # Once f is a variable somewhere in the file, f(...) is a product.
    text2 = text + "$$f = 3$$\n"
    chunks2 = extract_math(text2, "n.md")
    functions2 = function_letters(chunks2)
    assert functions2 == {"g"}
    assert show(parse_equation(chunks2[0], functions2)) == "(= a (juxt f (+ x y)))"
    # Scripted letters (f_t, W_f) and mentions ("$f$ is …") do not count as variables.
    chunks3 = extract_math(r"$f$ is $$f_t = f(W_f x)$$ and $\phi(x) = 1$", "n.md")
    assert function_letters(chunks3) == {"f", "phi"}
    # f'(x) is the derivative of the function f.
    assert show(parse_latex("y = f'(x)")) == "(= y (f' x))"


def test_comma_lists_join_the_nearest_equation():
    tree = parse_latex(r"h', y = f(h, x)")
    assert isinstance(tree, Equation)
    assert show(tree) == "(= (tuple h' y) (f h x))"
    assert show(parse_latex(r"t = 1, \dots, T")) == "(= t (tuple 1 ... T))"


def test_structure_of_a_product_is_left_associative():
    tree = parse_latex(r"W_y^\top (\hat{y} - y)")
    assert tree == Product(
        "juxt",
        Transpose(Symbol("W", sub="y")),
        Sub(Symbol("y", accents=("hat",)), Symbol("y")),
    )
    tree = parse_latex(r"\sigma(z_u^{(t)})")
    assert tree == Apply(Func("sigma"), (Symbol("z", sub="u", time=TimeIndex("t", 0)),))
    assert parse_latex("[a; b]") == Concat((Symbol("a"), Symbol("b")), ";")
    assert isinstance(parse_latex(r"\sum_t x"), Sum)


def test_spans_point_into_the_file():
    text = "# title\n\nSome text\n$$\n  h_t = \\tanh(W h_{t-1})\n$$\n"
    (chunk,) = extract_math(text, "f.md")
    tree = parse_equation(chunk)
    assert tree.span == Span(5, 3, 5, 25)
    assert tree.lhs.span == Span(5, 3, 5, 6)
    call = tree.rhs
    assert call.span.column == 9 and call.args[0].span == Span(5, 15, 5, 24)
