"""A recurrence written forward, h_{t+1} = f(h_t, x_t) for t = 0, …, T-1, from notes written for these tests.

The values of step 0 that the first step reads (a gate g_0 = σ(U x_0 + V h_0)) are computed
from that step's leaves (h_0, x_0), not drawn at random: only a state that reads itself one
step back starts from a random leaf.  Parts of the shifted equation named afterwards
(a_t = W h_t + U x_t, c_{t+1} = tanh(a_t)) are those parts, so gradients with respect to them
exist at every step, step 0 included.
"""

from __future__ import annotations

import symrnn

FORWARD = r"""# A gated cell, stepping forward

For $t = 0, \dots, T-1$:

$$g_t = \sigma(V x_t + S h_t + b)$$

$$h_{t+1} = \tanh(W h_t + U x_t) \odot g_t + h_t \odot (1 - g_t)$$

$$L = \sum_{t=1}^{T} \frac{1}{2} \left\| C h_t - y_t \right\|^2$$

Name the parts: $$a_t = W h_t + U x_t, \qquad c_{t+1} = \tanh(a_t)$$

$\delta v$ is $\partial L / \partial v$.

$$\delta a_t = \delta h_{t+1} \odot g_t \odot (1 - c_{t+1} \odot c_{t+1})$$

$$\delta a_t = \delta h_{t+1} \odot (1 - c_{t+1} \odot c_{t+1})$$

$$\delta U = \sum_{t=0}^{T-1} \delta a_t \, x_t^\top$$

$$\delta V = \sum_{t=0}^{T-1} (\delta h_{t+1} \odot (c_{t+1} - h_t) \odot g_t \odot (1 - g_t)) \, x_t^\top$$

$$\delta V = \sum_{t=1}^{T-1} (\delta h_{t+1} \odot (c_{t+1} - h_t) \odot g_t \odot (1 - g_t)) \, x_t^\top$$
"""


def verdicts(text: str) -> dict[int, tuple[str, str]]:
    return {v.line: (v.verdict, v.message) for v in symrnn.check_text(text, name="n.md")}


def test_parts_of_a_shifted_equation_named_afterwards_are_those_parts():
    got = verdicts(FORWARD)
    assert got[15][0] == "holds", got[15]  # δa_t through the gate g_t, at every step from 0
    assert got[17][0] == "wrong", got[17]  # the gate g_t dropped


def test_a_gate_of_step_zero_is_computed_from_the_first_state():
    got = verdicts(FORWARD)
    assert got[19][0] == "holds", got[19]  # needs δa_0, so a_0 from h_0 and x_0
    assert got[21][0] == "holds", got[21]  # needs g_0 = σ(V x_0 + S h_0 + b)
    assert got[23][0] == "wrong", got[23]  # the sum leaves out step 0


def test_a_value_that_reads_an_earlier_step_still_starts_from_a_leaf():
    # a_t = W h_{t-1} + U x_t with h_t = tanh(a_t): h_0 is the initial state, never tanh(a_0)
    note = r"""$$a_t = W h_{t-1} + U x_t$$

$$h_t = \tanh(a_t)$$

$$L = \sum_{t=1}^{T} \frac{1}{2} \left\| h_t - y_t \right\|^2$$

$\delta v$ is $\partial L / \partial v$.

$$\delta h_t = h_t - y_t + W^\top \delta a_{t+1}$$

$$\delta h_0 = W^\top \delta a_1$$
"""
    got = verdicts(note)
    assert got[9][0] == "holds", got[9]
    assert got[11][0] == "holds", got[11]


SOFTMAX = r"""$$h_t = \tanh(W h_{t-1} + U x_t)$$

$p_t = \operatorname{softmax}(V h_t)$, the word after step $t$ is $k_t$, and

$$L = -\sum_{t=1}^{T} \log p_{t, k_t}$$

$\delta v$ is $\partial L / \partial v$; UNITS

$$\delta h_t = V^\top (p_t - e_{k_t}) + W^\top (\delta h_{t+1} \odot (1 - h_{t+1} \odot h_{t+1}))$$

$$\delta h_t = V^\top (p_t - e_{k_t}) + W^\top \delta h_{t+1}$$

$$\delta h_t = V^\top (p_t - e_{k_t}) + W^\top \delta u_{t+1}$$
"""


def test_a_unit_vector_named_in_prose_is_the_target_class_one_hot():
    got = verdicts(SOFTMAX.replace("UNITS", r"$e_k$ is the $k$-th unit vector."))
    assert got[9][0] == "holds", got[9]
    assert got[11][0] == "wrong", got[11]  # the tanh derivative dropped
    unsaid = verdicts(SOFTMAX.replace("UNITS", ""))
    assert unsaid[9][0] not in ("holds", "wrong") and unsaid[11][0] not in ("holds", "wrong")


def test_a_gradient_of_a_value_no_equation_computes_is_not_zero_past_the_end():
    # δu_{t+1} of a u the note never defines: at t = T it would be "past the last step", and the
    # claim would hold there on that zero alone
    got = verdicts(SOFTMAX.replace("UNITS", r"$e_k$ is the $k$-th unit vector."))
    assert got[13][0] == "unchecked", got[13]
