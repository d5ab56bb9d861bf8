"""How notes name gradients (issue 14), each mechanism from a short note written for these tests.

A name a note gives a gradient (δ_t, δ^{(t)}, dW, F_x(t)) is a claim about ∂L/∂v when v is a
quantity of the note's model, checked against the truth; later lines that use the name mean
that gradient.  Each test plants an error beside correct lines: the correct ones must hold and
the planted one must be WRONG at its own line, never elsewhere.
"""

from __future__ import annotations

import symrnn
from symrnn.notes.tree import Func


def verdicts(text: str, name: str = "note.md") -> dict[int, str]:
    """line → verdict of every claim line (definitions left out)."""
    return {v.line: v.verdict for v in symrnn.check_text(text, name) if v.verdict != "definition"}


def line_of(text: str, anchor: str) -> int:
    (line,) = [n for n, row in enumerate(text.splitlines(), 1) if anchor in row]
    return line


# ---- δ with only a step, named in prose; a cost letter the note chooses (C); the last step T

DELTA_T = r"""# A tanh RNN, gradients named delta

$$a_t = W h_{t-1} + U x_t$$

$$h_t = \tanh(a_t)$$

$$C = \sum_{t=1}^{T} \frac{1}{2} \left\| h_t - y_t \right\|^2$$

Let $\delta_t = \partial C / \partial a_t$. At the last step:

$$\delta_T = (h_T - y_T) \odot (1 - h_T \odot h_T)$$

$$\delta_t = (1 - h_t \odot h_t) \odot \left( h_t - y_t + W^\top \delta_{t+1} \right)$$

$$\frac{\partial C}{\partial U} = \sum_{t=1}^{T} \delta_t x_t^\top$$

$$\frac{\partial C}{\partial W} = \sum_{t=1}^{T} \delta_t h_t^\top$$
"""


def test_a_delta_named_with_only_its_step_is_that_gradient_at_every_step_even_T():
    got = verdicts(DELTA_T)
    assert got[line_of(DELTA_T, r"\delta_T =")] == "holds"
    assert got[line_of(DELTA_T, r"$$\delta_t =")] == "holds"
    assert got[line_of(DELTA_T, r"{\partial U}")] == "holds"
    assert got[line_of(DELTA_T, r"{\partial W}")] == "wrong"  # h_t where h_{t-1} is needed


# ---- Werbos: ∂⁺E the ordered (total) derivative, plain ∂E beside it the explicit partial

ORDERED = r"""# Ordered derivatives of a small recurrent layer

$$h(t) = \tanh(W h(t-1) + U x(t))$$

$$y(t) = V h(t)$$

$$E = \sum_{t=1}^{T} \frac{1}{2} \left\| y(t) - d(t) \right\|^2$$

Here $\partial^+ E / \partial z$ is the ordered derivative and $\partial E / \partial z$ the explicit one.

$$\frac{\partial^+ E}{\partial h(t)} = \frac{\partial E}{\partial h(t)} + \left( \frac{\partial h(t+1)}{\partial h(t)} \right)^\top \frac{\partial^+ E}{\partial h(t+1)}$$

$$\frac{\partial E}{\partial h(t)} = V^\top (y(t) - d(t))$$

$$\frac{\partial E}{\partial h(t)} = \frac{\partial^+ E}{\partial h(t)}$$

With $\mathbf{g}(t) = (1 - h(t) \odot h(t)) \odot \partial^+ E / \partial h(t)$:

$$\frac{\partial^+ E}{\partial W} = \sum_{t=1}^{T} \mathbf{g}(t) \, h(t-1)^\top$$

$$\frac{\partial^+ E}{\partial U} = \sum_{t=1}^{T} \mathbf{g}(t) \, x(t)^\top$$

$$\frac{\partial^+ E}{\partial V} = \sum_{t=1}^{T} (d(t) - y(t)) \, h(t)^\top$$
"""


def test_a_plain_partial_beside_ordered_derivatives_is_the_explicit_one():
    got = verdicts(ORDERED)
    assert got[line_of(ORDERED, r"{\partial^+ E}{\partial h(t)} = \frac{\partial E}")] == "holds"
    assert got[line_of(ORDERED, r"= V^\top (y(t) - d(t))")] == "holds"
    # the explicit partial is not the total one: they differ before the last step
    assert got[line_of(ORDERED, r"{\partial h(t)} = \frac{\partial^+ E}{\partial h(t)}$$")] == "wrong"


def test_a_slash_derivative_after_a_product_is_one_factor_of_it():
    # g(t) = (…) ⊙ ∂⁺E / ∂h(t): the slash joins ∂⁺E and ∂h(t), it does not divide the product
    got = verdicts(ORDERED)
    assert got[line_of(ORDERED, r"{\partial W}")] == "holds"
    assert got[line_of(ORDERED, r"{\partial U}")] == "holds"
    assert got[line_of(ORDERED, r"{\partial V}")] == "wrong"  # the sign of y(t) − d(t) turned round


# ---- Pascanu: ∂⁺x_k/∂θ the immediate partial of a state, and a claim for any parameter θ

ANY_THETA = r"""# The gradient as a sum over time

$$x_t = W \sigma(x_{t-1}) + V u_t + b$$

$$\mathcal{E} = \sum_{1 \le t \le T} \mathcal{E}_t$$

Here $\partial^+ x_k / \partial \theta$ is the immediate partial, $x_{k-1}$ held constant. For any parameter $\theta$:

$$\frac{\partial \mathcal{E}}{\partial \theta} = \sum_{1 \le t \le T} \frac{\partial \mathcal{E}_t}{\partial \theta}$$

$$\frac{\partial \mathcal{E}_t}{\partial \theta} = \sum_{1 \le k \le t} \frac{\partial \mathcal{E}_t}{\partial x_t} \frac{\partial x_t}{\partial x_k} \frac{\partial^+ x_k}{\partial \theta}$$

$$\frac{\partial \mathcal{E}}{\partial \theta} = \sum_{t=2}^{T} \frac{\partial \mathcal{E}_t}{\partial \theta}$$
"""


def test_a_claim_for_any_parameter_theta_is_checked_for_every_parameter():
    got = {v.line: v for v in symrnn.check_text(ANY_THETA, "note.md")}
    first = got[line_of(ANY_THETA, r"\sum_{1 \le t \le T} \frac{\partial \mathcal{E}_t}")]
    assert first.verdict == "holds" and "every parameter θ (3 of them)" in first.message
    assert got[line_of(ANY_THETA, r"\sum_{1 \le k \le t}")].verdict == "holds"
    assert got[line_of(ANY_THETA, r"\sum_{t=2}^{T}")].verdict == "wrong"  # the first step's term left out


# ---- dv of a quantity of the model is a claim; dh^{raw}, dh_{next} (not in the model) are new names

D_NAMES = r"""# The backward loop, in the code's names

$$h_t = \tanh(W h_{t-1} + U x_t)$$

$$y_t = V h_t$$

$$L = \sum_{t=1}^{T} \frac{1}{2} \left\| y_t - z_t \right\|^2$$

For any quantity $v$, $dv$ is $\partial L / \partial v$.

$$dy_t = y_t - z_t$$

$$dh^{raw}_t = (1 - h_t \odot h_t) \odot dh_t$$

$$dh_{next,t} = W^\top dh^{raw}_{t+1}$$

$$dh_t = V^\top dy_t + dh_{next,t}$$

$$dU = \sum_{t=1}^{T} dh^{raw}_t \, x_t^\top$$

$$dW = \sum_{t=1}^{T} dh^{raw}_t \, h_t^\top$$

$$dh_0 = W^\top dh^{raw}_1$$
"""


def test_d_of_a_model_quantity_is_a_claim_and_d_of_a_new_name_defines_it():
    got = {v.line: v.verdict for v in symrnn.check_text(D_NAMES, "note.md")}
    assert got[line_of(D_NAMES, "$$dh^{raw}_t =")] == "definition"  # h^{raw} is not in the model
    assert got[line_of(D_NAMES, "$$dh_{next,t} =")] == "definition"
    assert got[line_of(D_NAMES, "$$dy_t =")] == "holds"
    assert got[line_of(D_NAMES, "$$dh_t =")] == "holds"
    assert got[line_of(D_NAMES, "$$dU =")] == "holds"
    assert got[line_of(D_NAMES, "$$dh_0 =")] == "holds"
    assert got[line_of(D_NAMES, "$$dW =")] == "wrong"  # h_t where h_{t-1} is needed


# ---- e^{x} is exp(x); a sum over the units of a vector adds its entries

SOFTMAX_WRITTEN_OUT = r"""# The softmax written out

$$h_t = \tanh(W h_{t-1} + U x_t)$$

$$y_t = V h_t$$

$$p_t = \frac{e^{y_t}}{\sum_j e^{y_{t,j}}}$$

$$L = -\sum_{t=1}^{T} \log p_{t, k_t}$$

For any quantity $v$, $dv$ is $\partial L / \partial v$.

$$dy_t = p_t - \mathbf{1}_{k_t}$$

$$dV = \sum_{t=1}^{T} dy_t \, h_t^\top$$

$$dV = \sum_{t=1}^{T} (\mathbf{1}_{k_t} - p_t) \, h_t^\top$$
"""


def test_a_softmax_written_with_e_and_a_sum_over_units_is_the_softmax():
    got = verdicts(SOFTMAX_WRITTEN_OUT)
    assert got[line_of(SOFTMAX_WRITTEN_OUT, "$$dy_t =")] == "holds"
    assert got[line_of(SOFTMAX_WRITTEN_OUT, "dy_t \\, h_t")] == "holds"
    assert got[line_of(SOFTMAX_WRITTEN_OUT, "- p_t) \\, h_t")] == "wrong"


def test_e_raised_to_something_is_exp_and_a_sum_over_units_is_refused_unless_element_wise():
    from symrnn.notes import parse_latex
    from symrnn.notes.tree import Apply, Sum
    from symrnn.notes.unit_sums import labelled_by_index, unit_sum_body

    assert parse_latex(r"p = e^{y_t}").rhs == Apply(Func("exp"), (parse_latex(r"p = y_t").rhs,))
    elementwise = parse_latex(r"s = \sum_j y_{t,j} \log y_{t,j}").rhs
    assert isinstance(elementwise, Sum) and labelled_by_index(elementwise)
    body, _ = unit_sum_body(elementwise, {("y", (), None, None, 0)})
    assert body is not None
    matrix = parse_latex(r"s = \sum_j W x_{t,j}").rhs
    body, why = unit_sum_body(matrix, {("W", (), None, None, 0), ("x", (), None, None, 0)})
    assert body is None and "not element-wise" in why


def test_delta_of_a_labelled_name_is_its_gradient_and_a_bare_label_stays_a_name():
    from symrnn.notes import parse_latex
    from symrnn.notes.tree import Differential, Symbol

    assert parse_latex(r"\delta_{b_f} = x").lhs == Differential("delta", Symbol("b", sub="f"), "sub")
    assert parse_latex(r"\delta_{W_{hh}} = x").lhs == Differential("delta", Symbol("W", sub="hh"), "sub")
    assert parse_latex(r"\delta_{hh} = x").lhs == Symbol("delta", sub="hh")  # δ's own label, named by the note
