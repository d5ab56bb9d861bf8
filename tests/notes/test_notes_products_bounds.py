"""Issue 14, products, diagonal factors, per-step loss formulas and bounds: each from a note of its own.

Every snippet is a small note written for these tests (not a corpus note), checked end to end with
``symrnn.check_text``: correct lines must come out ``holds`` and the planted error ``wrong`` at its line.
"""

from __future__ import annotations

import symrnn


def verdicts(text: str) -> dict[int, tuple[str, str]]:
    return {v.line: (v.verdict, v.message) for v in symrnn.check_text(text, name="n.md")}


GATED = r"""# A gate that scales the rows of the recurrent matrix

$$g_t = \sigma(A x_t)$$

$$a_t = \operatorname{diag}(g_t) U h_{t-1} + B x_t$$

$$h_t = \tanh(a_t)$$

$$E = \sum_{t=1}^{T} E_t$$

$$\frac{\partial E}{\partial U} = \sum_{t=1}^{T} \left(g_t \odot \frac{\partial E}{\partial a_t}\right) h_{t-1}^\top$$

$$\frac{\partial E}{\partial U} = \sum_{t=1}^{T} \left(g_t \odot \frac{\partial E}{\partial a_t}\right) h_t^\top$$
"""


def test_diag_of_a_vector_times_a_matrix_scales_its_rows():
    got = verdicts(GATED)
    assert got[11][0] == "holds", got[11]
    assert got[13][0] == "wrong", got[13]  # h_t where h_{t-1} is needed


def test_a_matrix_times_diag_of_a_vector_scales_its_columns():
    text = GATED.replace(r"\operatorname{diag}(g_t) U h_{t-1}", r"U \operatorname{diag}(g_t) h_{t-1}")
    text = text.replace(
        r"\left(g_t \odot \frac{\partial E}{\partial a_t}\right) h_{t-1}^\top",
        r"\frac{\partial E}{\partial a_t} (g_t \odot h_{t-1})^\top",
    )
    text = text.replace(
        r"\left(g_t \odot \frac{\partial E}{\partial a_t}\right) h_t^\top",
        r"\frac{\partial E}{\partial a_t} h_{t-1}^\top",
    )
    got = verdicts(text)
    assert got[11][0] == "holds", got[11]
    assert got[13][0] == "wrong", got[13]  # the gate g_t left out


CLASSES = r"""# Per-step loss written as a function of its step's values, with a target class

$$h_t = \tanh(W h_{t-1} + U x_t)$$

$$o_t = V h_t$$

$$J(o, c) = \sum_{t=1}^{T} J(o_t; c_t), \qquad J(o_t; c_t) = -\log \operatorname{softmax}(o_t)_{c_t}$$

$$\frac{\partial J}{\partial o_t} = \operatorname{softmax}(o_t) - \mathbf{1}_{c_t}$$

$$\frac{\partial J}{\partial V} = \sum_{t=1}^{T} \left(\operatorname{softmax}(o_t) - \mathbf{1}_{c_t}\right) h_t^\top$$

$$\frac{\partial J}{\partial o_t} = \operatorname{softmax}(o_t) + \mathbf{1}_{c_t}$$
"""


def test_a_per_step_loss_formula_beside_the_sum_of_its_terms():
    got = verdicts(CLASSES)
    assert got[7][0] == "definition", got[7]  # both equations of line 7 define the loss
    assert got[9][0] == "holds", got[9]
    assert got[11][0] == "holds", got[11]
    assert got[13][0] == "wrong", got[13]  # + 1_{c_t}: the one-hot vector's sign


def test_the_same_loss_left_generic_per_step_still_checks_what_does_not_depend_on_it():
    text = CLASSES.split("$$\\frac{\\partial J}{\\partial o_t}")[0].replace(
        r", \qquad J(o_t; c_t) = -\log \operatorname{softmax}(o_t)_{c_t}", ""
    )
    text += (
        "$$\\frac{\\partial J}{\\partial h_T} = V^\\top \\frac{\\partial J}{\\partial o_T}$$\n\n"
        "$$\\frac{\\partial J}{\\partial h_T} = V \\frac{\\partial J}{\\partial o_T}$$\n"
    )
    got = verdicts(text)
    assert got[9][0] == "holds", got[9]
    assert got[11][0] == "wrong", got[11]  # V where V^T is needed
