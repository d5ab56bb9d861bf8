"""δ notations of the LSTM/GRU papers (Greff 2017, Graves 2012), from notes written for these tests.

⟨a, b⟩ is read as the note says (an outer product in Greff et al., a dot product elsewhere),
and a per-step error applied to its argument, E_t(h_t), is one step's loss, so a named upstream
gradient Δ_t = ∂E_t/∂h_t means what the note says it means.
"""

from __future__ import annotations

import symrnn
from symrnn.notes.angle_products import INNER, OUTER, angle_reading
from symrnn.notes.extract import extract_note
from symrnn.notes.parse import parse_latex
from symrnn.notes.source import NoteSource

RNN = r"""# An RNN in δ notation

$$a_t = W h_{t-1} + U x_t, \qquad h_t = \tanh(a_t)$$

The error is $E = \sum_{t=1}^{T} E_t(h_t)$, with $\Delta_t = \partial E_t / \partial h_t$.
STATEMENT

$$\delta h_t = \Delta_t + W^\top \delta a_{t+1}$$

$$\delta U = \sum_{t=1}^{T} \langle \delta a_t, x_t \rangle$$

$$\delta W = \sum_{t=1}^{T} \langle \delta a_t, h_t \rangle$$
"""
OUTER_EQUATION = r"Here $\langle a, b \rangle = a b^\top$."


def verdicts(text: str) -> dict[int, tuple[str, str]]:
    return {v.line: (v.verdict, v.message) for v in symrnn.check_text(text, name="n.md")}


def reading_of(text: str):
    source = NoteSource.from_text(text, "n.md")
    return angle_reading(source.text, extract_note(source).chunks)


def test_angle_brackets_stated_as_an_outer_product_in_an_equation():
    got = verdicts(RNN.replace("STATEMENT", OUTER_EQUATION))
    assert got[8][0] == "holds"  # δh_t with the step's own Δ_t = ∂E_t/∂h_t
    assert got[10][0] == "holds"
    assert got[12][0] == "wrong"  # h_t where h_{t-1} is needed
    assert 6 not in got or got[6][0] not in ("holds", "wrong")  # the statement is notation, not a claim


def test_angle_brackets_stated_in_a_sentence():
    prose = r"Weight gradients use $\langle \cdot, \cdot \rangle$, the outer product of two vectors."
    got = verdicts(RNN.replace("STATEMENT", prose))
    assert got[10][0] == "holds" and got[12][0] == "wrong"
    assert reading_of("the dot product $\\langle u, v \\rangle$ of two vectors").kind == INNER
    assert reading_of(r"$$\langle u, v \rangle = u^T v$$").kind == INNER
    assert reading_of(r"$$\langle u, v \rangle = u \, v^{\top}$$").kind == OUTER


def test_angle_brackets_the_note_does_not_explain_stay_unread():
    got = verdicts(RNN.replace("STATEMENT", ""))
    for line in (10, 12):
        assert got[line][0] == "unchecked" and "does not say which" in got[line][1]
    both = "The inner product $\\langle a, b \\rangle$ and the outer product $\\langle a, b \\rangle = a b^\\top$."
    assert reading_of(both) is None
    assert reading_of("a time index $h^{\\langle t \\rangle}$ beside the outer product $u v^\\top$") is None


def test_a_dot_product_in_the_loss():
    note = r"""# A linear readout of every step

$$h_t = \tanh(W h_{t-1} + U x_t)$$

$$L = \sum_{t=1}^{T} \langle v, h_t \rangle$$

where $v \in \mathbb{R}^N$ and $\langle \cdot, \cdot \rangle$ is the inner product.

$$\frac{\partial L}{\partial v} = \sum_{t=1}^{T} h_t$$

$$\frac{\partial L}{\partial v} = \sum_{t=1}^{T} h_{t-1}$$
"""
    got = verdicts(note)
    assert got[9][0] == "holds"
    assert got[11][0] == "wrong"


LENGTH_N = r"""# A many-to-one RNN over $x_1, \dots, x_n$

$$h_t = \tanh(U h_{t-1} + W x_t)$$

$$L = \frac{1}{2} \left\| V h_n - d \right\|^2$$

$$\frac{\partial L}{\partial h_n} = V^\top (V h_n - d)$$

$$\frac{\partial L}{\partial h_{t}} = U^\top \left( (1 - h_{t+1}^2) \odot \frac{\partial L}{\partial h_{t+1}} \right)$$

$$\frac{\partial L}{\partial h_{t}} = U^\top \left( (1 - h_{t}^2) \odot \frac{\partial L}{\partial h_{t+1}} \right)$$
"""


def test_n_closing_the_range_of_inputs_is_the_last_step():
    got = verdicts(LENGTH_N)
    assert got[7][0] == "holds"
    assert got[9][0] == "holds"
    assert got[11][0] == "wrong"  # h_t where h_{t+1} is needed


def test_n_is_not_the_length_where_the_note_says_otherwise():
    from symrnn.notes.length_letter import length_letter

    assert length_letter([parse_latex(r"x_1, \dots, x_n")]) == "n"
    assert length_letter([parse_latex(r"L = \sum_{t=1}^{n} L_t")]) == "n"
    # a T of its own, a sum over n, a size n: n is then no sequence length
    assert length_letter([parse_latex(r"x_1, \dots, x_n"), parse_latex(r"L = \sum_{t=1}^{T} L_t")]) is None
    assert length_letter([parse_latex(r"x_1, \dots, x_n"), parse_latex(r"L = \sum_{n=1}^{N} L_n")]) is None
    assert length_letter([parse_latex(r"x_1, \dots, x_n"), parse_latex(r"h_t \in \mathbb{R}^{n}")]) is None
    got = verdicts(LENGTH_N.replace(r"$x_1, \dots, x_n$", "a sequence"))
    assert got[7][0] != "holds" and got[9][0] != "holds"  # n unexplained: not read as the last step


SUP_STEPS = r"""# Steps written above (Greff et al.), from a given $h^0$

$$a^t = W h^{t-1} + U x^t, \qquad h^t = \tanh(a^t)$$

$$E = \sum_{t=1}^{T} E_t(h^t)$$

$$\delta h^0 = W^\top \delta a^1$$

$$\delta h^0 = W^\top \delta a^1 + \delta a^1$$
"""


def test_a_zeroth_or_first_step_above_is_a_step_not_a_power():
    got = verdicts(SUP_STEPS)
    assert got[7][0] == "holds"
    assert got[9][0] == "wrong"
    # where the note writes no steps above, x^0 and x^1 stay powers
    from symrnn.notes.sup_steps import read_sup_steps, sup_step_keys
    from symrnn.notes.tree import Power

    trees = [parse_latex(r"h_t = x^1 + x_t")]
    assert isinstance(read_sup_steps(trees[0], sup_step_keys(trees)).rhs.left, Power)
    trees = [parse_latex(r"h^t = y^2 + y^{t-1}")]
    assert isinstance(read_sup_steps(trees[0], sup_step_keys(trees)).rhs.left, Power)  # a square stays one


ONE_HOT = r"""# A language model scored on word indices

$$h_t = \tanh(U h_{t-1} + W x_t), \qquad \hat y_t = \operatorname{softmax}(V h_t)$$

$$L = \sum_{t=1}^{T} -\log \hat y_t[w_t]$$

Let $y_t$ be the one-hot vector of $w_t$.

$$\frac{\partial L}{\partial V} = \sum_{t=1}^{T} (\hat y_t - y_t) h_t^\top$$

$$\frac{\partial L}{\partial V} = \sum_{t=1}^{T} (y_t - \hat y_t) h_t^\top$$
"""


def test_a_one_hot_vector_named_in_prose_is_the_target_class():
    got = verdicts(ONE_HOT)
    assert got[9][0] == "holds"
    assert got[11][0] == "wrong"
    got = verdicts(ONE_HOT.replace("Let $y_t$ be the one-hot vector of $w_t$.", ""))
    assert got[9][0] == "unchecked" and got[11][0] == "unchecked"  # y_t never explained
