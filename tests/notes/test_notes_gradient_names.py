"""How notes name gradients (issue 14), each mechanism from a short note written for these tests.

A name a note gives a gradient (δ_t, δ^{(t)}, dW, F_x(t)) is a claim about ∂L/∂v when v is a
quantity of the note's model, checked against the truth; later lines that use the name mean
that gradient.  Each test plants an error beside correct lines: the correct ones must hold and
the planted one must be WRONG at its own line, never elsewhere.
"""

from __future__ import annotations

import symrnn


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
