"""Issue 14's notation, one test each, from note lines written for these tests.

Each test reads a line the way a course or paper writes it and checks the tree
the parser builds: which symbol carries which step, what a product ranges over,
what a gradient is taken of.  A misreading here (h(t) as h times t, a_j^t with
the unit as the step) would make every later check answer the wrong question.
"""

from __future__ import annotations

import pytest

from symrnn.notes import parse_latex, read_notes
from symrnn.notes.source import NoteSource
from symrnn.notes.tree import (
    Add,
    Apply,
    Derivative,
    Differential,
    Equation,
    Func,
    Indicator,
    Neg,
    Norm,
    Number,
    Power,
    Prod,
    Product,
    Sub,
    Sum,
    Symbol,
    TimeIndex,
    Transpose,
)


def sym(name, time=None, offset=0, **kw):
    return Symbol(name, time=TimeIndex(time, offset) if time is not None else None, **kw)


def rhs(text):
    tree = parse_latex(text)
    assert isinstance(tree, Equation), tree
    return tree.rhs


def lhs(text):
    return parse_latex(text).lhs


# ---- gradient notations


def test_nabla_is_the_gradient_of_what_follows_it():
    tree = parse_latex(r"\nabla_{h_t} L = W^\top \nabla_{a_{t+1}} L")
    assert tree.lhs == Derivative(Symbol("L"), sym("h", "t"))
    assert tree.lhs.style == "nabla"
    assert tree.rhs == Product("juxt", Transpose(Symbol("W")), Derivative(Symbol("L"), sym("a", "t", 1)))
    # it takes one factor: (∇_s E) ⊙ o_t, not ∇_s (E ⊙ o_t)
    odot = rhs(r"x = \nabla_{s_t} E \odot o_t")
    assert odot == Product("odot", Derivative(Symbol("E"), sym("s", "t")), sym("o", "t"))


def test_nabla_without_a_variable_or_a_function_is_unreadable_with_its_construct():
    notes = read_notes(
        NoteSource.from_text("$$g = \\nabla L$$\n\n$$y = \\nabla_{v}$$\n\n$$a = b$$\n", "n.md"), strict=False
    )
    assert [u.construct for u in notes.unreadable] == ["\\nabla", "\\nabla"]
    assert [(u.line, u.column) for u in notes.unreadable] == [(1, 7), (3, 7)]
    assert [e.latex for e in notes.equations] == ["a = b"]


def test_delta_d_and_delta_subscript_notations():
    assert lhs(r"\delta W_{hh} = \sum_t \delta a_t h_{t-1}^\top") == Differential("delta", Symbol("W", sub="hh"))
    assert lhs(r"dW_y = dz_t h_t^\top") == Differential("d", Symbol("W", sub="y"))
    # δ_{h_t}: the gradient with respect to h_t; δ_v and δ_k^t are names a note defines
    assert lhs(r"\delta_{h_t} = W_y^\top (p_t - y_t)") == Differential("delta", sym("h", "t"))
    assert lhs(r"\delta_{c_{t+1}} = 0") == Differential("delta", sym("c", "t", 1))
    assert lhs(r"\delta_v = W^\top \delta_o") == Symbol("delta", sub="v")
    assert lhs(r"\boldsymbol\delta_t = \mathbf{e}_t") == sym("delta", "t")


def test_derivative_operator_applies_to_what_follows():
    tree = rhs(r"g = \frac{\partial}{\partial o^{(t)}} \left( \phi(s^{(t)}) \odot o^{(t)} \right)")
    assert isinstance(tree, Derivative) and tree.style == "operator"
    assert tree.wrt == sym("o", "t")
    assert isinstance(tree.of, Product) and tree.of.op == "odot"


def test_one_step_jacobian_and_ordered_partial():
    assert lhs(r"\frac{\partial h_t}{\partial h_{t-1}} = W") == Derivative(sym("h", "t"), sym("h", "t", -1))
    ordered = lhs(r"\frac{\partial^{+} E}{\partial \mathbf{h}(t)} = \mathbf{g}(t)")
    assert ordered == Derivative(Symbol("E"), sym("h", "t"), "partial+")
    assert lhs(r"\partial^+ E / \partial W = 0") == Derivative(Symbol("E"), Symbol("W"), "partial+")


# ---- products, powers, sums


def test_product_of_jacobians_with_its_range():
    tree = rhs(r"\frac{\partial a_t}{\partial a_k} = \prod_{i=k+1}^{t} W^\top \operatorname{diag}(1 - a_i^2)")
    assert isinstance(tree, Prod)
    assert (tree.index, tree.lower, tree.upper) == (Symbol("i"), Add(Symbol("k"), Number("1")), Symbol("t"))
    # a_i inside the product: i is the product's index, so a step
    assert tree.body.right.args[0].right == Power(sym("a", "i"), Number("2"))


def test_product_over_a_written_range():
    tree = rhs(r"J = \prod_{t \ge i > k} \frac{\partial x_i}{\partial x_{i-1}}")
    assert (tree.index, tree.lower, tree.upper) == (Symbol("i"), Add(Symbol("k"), Number("1")), Symbol("t"))


def test_matrix_power_of_a_transpose():
    assert rhs(r"g_k = (W^\top)^{T-k} g_T") == Product(
        "juxt", Power(Transpose(Symbol("W")), Sub(Symbol("T"), Symbol("k"))), sym("g", "T")
    )


@pytest.mark.parametrize(
    "latex, index, lower, upper",
    [
        (r"\sum_{i=t}^{T} x_i", "i", Symbol("t"), Symbol("T")),
        (r"\sum_{k=1}^{t} x_k", "k", Number("1"), Symbol("t")),
        (r"\sum_{1 \le t \le T} x_t", "t", Number("1"), Symbol("T")),
        (r"\sum_{1 \leq s < t} x_s", "s", Number("1"), Sub(Symbol("t"), Number("1"))),
        (r"\sum_{\tau=1}^{t} x_\tau", "tau", Number("1"), Symbol("t")),
    ],
)
def test_sums_with_any_index_and_range(latex, index, lower, upper):
    tree = rhs("y = " + latex)
    assert isinstance(tree, Sum)
    assert (tree.index, tree.lower, tree.upper) == (Symbol(index), lower, upper)
    assert tree.body == sym("x", index)


def test_sum_over_a_set():
    tree = rhs(r"e = \sum_{k \in U} w_{kl} p^l(t)")
    assert tree.index == Symbol("k") and tree.over == Symbol("U") and tree.lower is None


def test_compound_step_subscript():
    # (i indexes the sum, so T+t-i is a step; d2l's BPTT of a linear RNN)
    tree = rhs(r"g = \sum_{i=t}^{T} W \frac{\partial L}{\partial \mathbf{o}_{T+t-i}}")
    step = tree.body.right.wrt.time
    assert step.terms == ((1, "T"), (1, "t"), (-1, "i")) and step.offset == 0
    assert step.var == "T+t-i"  # never a bare step letter


def test_diag_squares_and_powers_of_functions():
    assert rhs(r"J = \operatorname{diag}(1 - (h^{(t)})^2)") == Apply(
        Func("diag"), (Sub(Number("1"), Power(sym("h", "t"), Number("2"))),)
    )
    assert rhs(r"d = 1 - \tanh^2(c_t)") == Sub(Number("1"), Power(Apply(Func("tanh"), (sym("c", "t"),)), Number("2")))


# ---- derivatives of activations


@pytest.mark.parametrize("written, name", [(r"\sigma'", "sigma"), (r"\tanh'", "tanh"), ("f'", "f"), ("g'", "g")])
def test_activation_derivatives(written, name):
    tree = rhs(rf"d = {written}(a_t) \odot e_t")
    assert tree.left == Apply(Func(name, primes=1), (sym("a", "t"),))


def test_relu_derivative_notations():
    indicator = rhs(r"\delta a_t = \delta h_t \odot \mathbb{1}[a_t > 0]").right
    assert indicator == Indicator(Equation((sym("a", "t"), Number("0")), ("gt",)))
    assert rhs(r"y = 1_{i = y_t}") == Indicator(Equation((Symbol("i"), sym("y", "t")), ("=",)))
    assert rhs(r"d = \operatorname{ReLU}'(a_t)") == Apply(Func("ReLU", primes=1), (sym("a", "t"),))
    assert rhs(r"d = \mathrm{step}(a_t)") == Apply(Symbol("step"), (sym("a", "t"),))


def test_a_condition_in_brackets_needs_an_indicator():
    notes = read_notes(NoteSource.from_text("$$d = [a_t > 0]$$\n", "n.md"), strict=False)
    (bad,) = notes.unreadable
    assert "must follow \\mathbb{1}" in bad.message and (bad.line, bad.column) == (1, 7)


# ---- norms and annotations


def test_norms_in_every_spelling():
    bound = parse_latex(r"\left\| \frac{\partial a_t}{\partial a_k} \right\| \le \|W\|_2^{t-k}")
    assert bound.ops == ("le",)
    assert bound.lhs == Norm(Derivative(sym("a", "t"), sym("a", "k")))
    assert bound.rhs == Power(Norm(Symbol("W"), "2"), Sub(Symbol("t"), Symbol("k")))
    assert rhs(r"n = \lVert x_t \rVert_F") == Norm(sym("x", "t"), "F")
    assert rhs(r"b = |a_T - y| \, |w|^{T}") == Product(
        "juxt", Norm(Sub(sym("a", "T"), Symbol("y")), "abs"), Power(Norm(Symbol("w"), "abs"), Symbol("T"))
    )
    # a bar inside square brackets still separates blocks
    assert rhs(r"W = [W_h | W_x]").sep == "|"


def test_shape_annotation():
    tree = parse_latex(r"W_x \in \mathbb{R}^{4H \times D}")
    assert tree.ops == ("in",) and tree.lhs == Symbol("W", sub="x")


def test_less_and_greater_are_relations_outside_time_indices():
    assert parse_latex(r"a^{<t>} > 0").lhs == Symbol("a", time=TimeIndex("t", 0, style="angle"))
    assert parse_latex(r"0 < \gamma < 1").ops == ("lt", "lt")


# ---- scalar index notation and steps in parentheses


def test_scalar_index_notation_graves_style():
    tree = parse_latex(r"a_j^t = \sum_i w_{ij} x_i^t + \sum_h w_{hj} b_h^{t-1}")
    assert tree.lhs == Symbol("a", sub="j", time=TimeIndex("t", 0))
    first = tree.rhs.left
    assert first.index == Symbol("i")
    assert first.body == Product("juxt", Symbol("w", sub="ij"), Symbol("x", sub="i", time=TimeIndex("t", 0)))
    assert tree.rhs.right.body.right == Symbol("b", sub="h", time=TimeIndex("t", -1))


def test_step_in_parentheses_after_a_symbol():
    tree = parse_latex(r"\mathbf{h}(t) = \sigma(W \mathbf{x}(t) + U \mathbf{h}(t-1))")
    assert tree.lhs == sym("h", "t")
    assert tree.rhs.args[0].right == Product("juxt", Symbol("U"), sym("h", "t", -1))
    # Gers' cell-state names: a compound label and a step
    assert lhs(r"s_{c_j}(t) = s_{c_j}(t-1) + 1") == Symbol("s", sub="c_j", time=TimeIndex("t", 0))
    assert lhs(r"\mathbf{net}_h(t) = 0") == Symbol("net", sub="h", time=TimeIndex("t", 0))
    # a product with a parenthesis that is no step stays a product
    assert rhs(r"y = W (a + b)") == Product("juxt", Symbol("W"), Add(Symbol("a"), Symbol("b")))


def test_escaped_underscore_names_and_sample_labels():
    assert lhs(r"F\_net_i(t) = 0") == Symbol("F_net", sub="i", time=TimeIndex("t", 0))
    assert lhs(r"F\_x(T) = x(T) - Y") == sym("F_x", "T")
    assert lhs(r"h_T^{(b)} = 0") == Symbol("h", sup="(b)", time=TimeIndex("T", 0))
    assert lhs(r"\mathbf{1}_N^\top = 0") == Transpose(Symbol("1", sub="N"))


# ---- LaTeX around the math, in a .tex note


TEX_NOTE = r"""\documentclass{article}
\newcommand{\grad}[2]{\nabla_{#1} #2}
\def\vh{\mathbf{h}}
\begin{document}
\begin{align}
  \vh_t &= \tanh(W \vh_{t-1} + U x_t) \label{eq:h} \\
  \grad{\vh_t}{L} &= W^\top \grad{\vh_{t+1}}{L} \nonumber \\
                  &\quad + \frac{\partial L_t}{\partial \vh_t} \tag{2} \\
  \text{so } x &= \begin{bmatrix} a \\ b \end{bmatrix}, \quad y = \left\| x \right\|
\end{align}
\begin{eqnarray}
  e &=& \sum_{1 \le t \le T} \| y_t \|^2 \quad (T \ge 1)
\end{eqnarray}
\end{document}
"""


def test_tex_note_with_macros_alignment_continuations_and_norms():
    notes = read_notes(NoteSource.from_text(TEX_NOTE, "n.tex"), strict=False)
    assert notes.unreadable == ()
    rows = [(e.line, e.column) for e in notes.equations]
    assert rows == [(6, 3), (7, 3), (9, 14), (9, 63), (12, 3)]
    h, grad, x, y, e = (e.tree for e in notes.equations)
    assert h.lhs == sym("h", "t")
    assert grad.lhs == Derivative(Symbol("L"), sym("h", "t"))
    assert isinstance(grad.rhs, Add)  # the continuation row joined to its row
    assert y.rhs == Norm(Symbol("x"))
    assert isinstance(e.rhs, Sum) and e.rhs.upper == Symbol("T")
    assert notes.equations[-1].condition == "T \\ge 1"


def test_unit_index_beside_a_step_in_parentheses():
    # Williams & Zipser: unit k at time t; Elman: the target d(t) is a symbol, not a differential
    assert lhs(r"y^k(t+1) = f_k(s_k(t+1))") == Symbol("y", sup="k", time=TimeIndex("t", 1))
    assert rhs(r"\Lambda(t) = \mathrm{diag}(1 - c_1(t), \dots, 1 - c_n(t))").args[0].right == Symbol(
        "c", sub="1", time=TimeIndex("t", 0)
    )
    assert rhs(r"e(t) = d(t) - y(t)") == Sub(sym("d", "t"), sym("y", "t"))
    assert lhs(r"\frac{\partial E}{\partial net_k(t)} = e_k(t)") == Derivative(
        Symbol("E"), Symbol("net", sub="k", time=TimeIndex("t", 0))
    )


def test_semicolon_arguments_and_a_negated_sum_body():
    assert rhs(r"L = \ell(z_t; y_t)") == Apply(Symbol("ell"), (sym("z", "t"), sym("y", "t")))
    loss = rhs(r"L = \frac{1}{n} \sum_{i=1}^{n} -\log p_i + c")
    total = loss.left.right
    # i counts classes (its sum does not run over steps): p_i is entry-like, labelled i
    assert isinstance(total, Sum) and total.body == Neg(Apply(Func("log"), (Symbol("p", sub="i"),)))
    assert rhs(r"L = \sum_{b=1}^{B} x_b").body == Symbol("x", sub="b")
    assert rhs(r"L = \sum_{i=t+1}^{T} x_i").body == sym("x", "i")
    assert loss.right == Symbol("c")  # the sum's body ends at + as in TeX


def test_two_equations_in_one_align_row():
    tex = "\\begin{align}\n  b_c^t &= h(s_c^t), & y_k^t &= \\sum_c w_{ck} b_c^t, \\\\\n  n(t) &= W x(t), &\n\\end{align}\n"
    notes = read_notes(NoteSource.from_text(tex, "n.tex"), strict=False)
    assert [(e.line, e.column) for e in notes.equations] == [(2, 3), (2, 24), (3, 3)]
    assert notes.equations[1].tree.lhs == Symbol("y", sub="k", time=TimeIndex("t", 0))


def test_sample_and_example_indices_in_parentheses_are_labels_not_steps():
    # PyTorch docs: s^{(b)} is sample b of a batch; Ng: x^{(i)} is example i; h^{(t)} stays a step
    loss = rhs(r"L = \frac{1}{B} \sum_{b=1}^{B} -\log \frac{\exp(s^{(b)}_{k_b})}{\sum_{j} \exp(s^{(b)}_j)}")
    body = loss.right.body.operand.args[0]
    assert body.num.args[0] == Symbol("s", sup="(b)", sub="k_b")
    assert lhs(r"x^{(i)} = 0") == Symbol("x", sup="(i)")
    assert lhs(r"h^{(t-1)} = 0") == Symbol("h", time=TimeIndex("t", -1, style="paren"))


def test_step_in_angle_brackets_below_and_a_bare_squared_function():
    # Cho et al. 2014 write the step below in angle brackets; Bengio's prose bound 0 < 1 - tanh^2 <= 1
    gate = rhs(r"r_j = \sigma\left([W_r x]_j + [U_r h_{\langle t-1 \rangle}]_j\right)").args[0]
    assert gate.right.operand.items[0].right == Symbol("h", time=TimeIndex("t", -1, style="angle"))
    assert gate.left.indices == (Symbol("j"),)
    bound = parse_latex(r"0 < 1 - \tanh^2 \le 1")
    assert bound.ops == ("lt", "le") and bound.sides[1].right == Power(Func("tanh"), Number("2"))


def test_directions_of_a_bidirectional_rnn_are_distinct_symbols():
    tree = parse_latex(r"y_t = W \overrightarrow{h}_t + V \overleftarrow{h}_t")
    forward, backward = tree.rhs.left.right, tree.rhs.right.right
    assert forward == Symbol("h", accents=("rightarrow",), time=TimeIndex("t", 0))
    assert backward == Symbol("h", accents=("leftarrow",), time=TimeIndex("t", 0))
    assert forward != backward
