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
