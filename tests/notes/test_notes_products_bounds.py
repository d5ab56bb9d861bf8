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


TANH = r"""# Jacobians of a tanh recurrence, and how fast they shrink

$$h_t = \tanh(W h_{t-1} + U x_t)$$

for $1 \le t \le T$, spectral norms, and $\lambda = LAMBDA$.

$$\frac{\partial h_j}{\partial h_{j-1}} = \operatorname{diag}(1 - h_j \odot h_j) W$$

$$\frac{\partial h_t}{\partial h_k} = \prod_{j=k+1}^{t} \operatorname{diag}(1 - h_j \odot h_j) W$$

$$\frac{\partial h_t}{\partial h_k} = \prod_{j=k}^{t} \operatorname{diag}(1 - h_j \odot h_j) W$$

$$\left\| \frac{\partial h_t}{\partial h_k} \right\| \le \|W\|^{t-k}$$

$$\left\| \frac{\partial h_t}{\partial h_k} \right\| \le \left( \frac{\|W\|}{2} \right)^{t-k}$$

$$\left\| \frac{\partial h_t}{\partial h_k} \right\| \le \lambda^{t-k} \|W\|^{t-k}$$

so the influence of $h_k$ fades when $\|W\| < 1$.
"""


def test_a_step_letter_written_with_an_offset_is_a_step_everywhere_in_its_equation():
    assert verdicts(TANH.replace("LAMBDA", "1"))[7][0] == "holds"  # h_j beside h_{j-1}: j is a step


def test_an_ordered_product_of_jacobians_with_its_range():
    got = verdicts(TANH.replace("LAMBDA", "1"))
    assert got[9][0] == "holds", got[9]
    assert got[11][0] == "wrong", got[11]  # the product starts one factor early


def test_a_norm_bound_is_tried_on_random_instances_and_never_called_proved():
    got = verdicts(TANH.replace("LAMBDA", "1"))
    assert got[13][0] == "holds" and "random instances" in got[13][1], got[13]
    assert "proved" not in got[13][1].replace("not proved", "")
    assert got[15][0] == "wrong" and "40 digits" in got[15][1], got[15]  # tanh' reaches 1, not 1/2
    assert got[17][0] == "holds", got[17]  # λ^{t-k} with λ = 1 from the prose


def test_a_number_bound_in_prose_is_used_and_a_condition_in_prose_is_no_claim():
    got = verdicts(TANH.replace("LAMBDA", "1/2"))
    assert got[17][0] == "wrong", got[17]  # with λ = 1/2 the bound fails
    assert got[19][0] == "definition", got[19]  # "when ‖W‖ < 1": a condition, not a claim
    assert got[5][0] == "definition"


def test_a_bound_on_a_number_the_note_never_gives_is_unchecked():
    got = verdicts(TANH.replace(r"and $\lambda = LAMBDA$", "and some $\\lambda$"))
    assert got[17][0] == "unchecked" and "lambda" in got[17][1], got[17]


ONE_UNIT = r"""# One sigmoid unit, scored at the last step

$$s_t = v \sigma(s_{t-1}) + x_t$$

Only the last state is scored, $E = \tfrac{1}{2}(s_T - d)^2$, and $\gamma = 1/4$ bounds $\sigma'$.

$$\frac{\partial E}{\partial x_t} = (s_T - d) \prod_{k=t+1}^{T} v \sigma'(s_{k-1})$$

$$\frac{\partial E}{\partial v} = (s_T - d) \sum_{t=1}^{T} \sigma(s_{t-1}) \prod_{k=t+1}^{T} v \sigma'(s_{k-1})$$

$$\frac{\partial E}{\partial v} = (s_T - d) \sum_{t=1}^{T} \sigma(s_{t-1}) \prod_{k=t}^{T} v \sigma'(s_{k-1})$$

$$\left| \frac{\partial s_T}{\partial s_0} \right| \le \gamma^{T} |v|^{T}$$
"""


def test_bars_make_a_note_without_vector_notation_scalar_and_an_empty_product_is_one():
    got = verdicts(ONE_UNIT)
    assert got[7][0] == "holds", got[7]  # at t = T the product is empty: ∂E/∂x_T = s_T - d
    assert got[9][0] == "holds", got[9]
    assert got[11][0] == "wrong", got[11]  # one factor too many
    assert got[13][0] == "holds" and "random instances" in got[13][1], got[13]


STEP_COSTS = r"""# A cost at every step, each a function of its own step

$$h_t = W \tanh(h_{t-1}) + x_t$$

$$C = \sum_{t=1}^{T} C_t, \qquad C_t = C(h_t, y_t)$$

$$\nabla_{W} C = \sum_{t=1}^{T} \nabla_{h_t} C \, \tanh(h_{t-1})^\top$$

$$\nabla_{x_t} C = \nabla_{h_t} C$$

$$\nabla_{h_t} C = \nabla_{h_t} C_t + \operatorname{diag}\left(1 - \tanh^2(h_t)\right) W^\top \nabla_{h_{t+1}} C$$

$$\nabla_{h_t} C = \nabla_{h_t} C_t + W^\top \nabla_{h_{t+1}} C$$
"""


def test_a_step_cost_named_by_a_generic_function_of_its_step_beside_the_sum_of_the_costs():
    got = verdicts(STEP_COSTS)
    assert got[5][0] == "definition", got[5]
    for line in (7, 9, 11):
        assert got[line][0] == "holds", (line, got[line])
    assert got[13][0] == "wrong", got[13]  # the tanh' factor left out


LINEAR = r"""# A linear recurrence: Jacobians as powers and as a chain with dots

$$h_t = A h_{t-1} + B x_t$$

$$\frac{\partial h_t}{\partial h_k} = A^{t-k}$$

$$\frac{\partial h_t}{\partial h_k} = A^{t-k+1}$$

$$\frac{\partial h_t}{\partial h_k} = \frac{\partial h_t}{\partial h_{t-1}} \cdots \frac{\partial h_{k+1}}{\partial h_k}$$

$$\frac{\partial h_t}{\partial h_k} = \frac{\partial h_t}{\partial h_{t-1}} \cdots \frac{\partial h_{k}}{\partial h_{k-1}}$$
"""


def test_a_power_written_above_a_parameter_and_a_chain_written_with_dots():
    got = verdicts(LINEAR)
    assert got[5][0] == "holds", got[5]  # A^{t-k}, read by the grammar as A with t-k above it
    assert got[7][0] == "wrong", got[7]
    assert got[9][0] == "holds", got[9]  # the factors from step t down to step k+1
    assert got[11][0] == "wrong", got[11]  # one factor too many


NAMED_JACOBIAN = r"""# A gated unit whose one-step Jacobian the note calls J

$$g_t = \sigma(A h_{t-1})$$

$$h_t = g_t \odot \tanh(B h_{t-1})$$

Some loss $L(h_T)$ reads the last state only.

$$J_t = \frac{\partial h_t}{\partial h_{t-1}}$$

$$J_t = \operatorname{diag}(g_t \odot (1 - g_t) \odot \tanh(B h_{t-1})) A + \operatorname{diag}(g_t \odot (1 - \tanh^2(B h_{t-1}))) B$$

$$\frac{\partial L}{\partial h_{t-1}} = J_t^\top \frac{\partial L}{\partial h_t}$$

$$\frac{\partial L}{\partial h_{t-1}} = J_t \frac{\partial L}{\partial h_t}$$
"""


def test_a_jacobian_named_with_a_loss_letter_and_a_loss_at_the_last_step_only():
    got = verdicts(NAMED_JACOBIAN)
    assert got[9][0] == "definition", got[9]  # J_t names a Jacobian: J is no loss here
    assert got[11][0] == "holds", got[11]
    assert got[13][0] == "holds", got[13]  # L(h_T): no loss at the other steps
    assert got[15][0] == "wrong", got[15]  # J_t where J_t^T is needed
