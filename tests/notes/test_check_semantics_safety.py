"""The semantic layer's safety rules (issue 14): a verdict only where the note's own model backs it."""

from __future__ import annotations

import symrnn

RNN = r"""# RNN with a squared-norm loss

$$h_t = \tanh(W h_{t-1} + U x_t)$$

$$y_t = V h_t$$

$$L = LOSS$$

$$\frac{\partial L}{\partial y_t} = DY$$

$$\frac{\partial L}{\partial V} = \sum_{t=1}^{T} (y_t - d_t) h_t^\top$$

$$\frac{\partial L}{\partial V} = \sum_{t=1}^{T} (y_t - d_t) h_{t-1}^\top$$
"""
SUM = r"\frac{1}{2} \sum_{t=1}^{T} \left\| y_t - d_t \right\|^2"
MEAN = r"\frac{1}{T} \sum_{t=1}^{T} \frac{1}{2} \left\| y_t - d_t \right\|^2"


def verdicts(text: str) -> dict[int, tuple[str, str]]:
    return {v.line: (v.verdict, v.message) for v in symrnn.check_text(text, name="n.md")}


def test_a_squared_norm_loss_is_the_objective_as_written():
    got = verdicts(RNN.replace("LOSS", SUM).replace("DY", "y_t - d_t"))
    assert got[9][0] == "holds" and got[11][0] == "holds"
    assert got[13][0] == "wrong"  # h_{t-1} where h_t is needed


def test_a_mean_over_steps_is_not_read_as_a_sum():
    mean = RNN.replace("LOSS", MEAN).replace(r"= \sum_{t=1}^{T} (y_t", r"= \frac{1}{T} \sum_{t=1}^{T} (y_t")
    assert verdicts(mean.replace("DY", r"\frac{1}{T} (y_t - d_t)"))[9][0] == "holds"
    one_wrong = mean.replace("DY", "y_t - d_t").split("$$\\frac{\\partial L}{\\partial V} = \\frac{1}{T}")
    got = verdicts("$$\\frac{\\partial L}{\\partial V} = \\frac{1}{T}".join(one_wrong[:2]))
    assert got[11][0] == "holds" and got[9][0] == "wrong"  # the 1/T is missing


def test_a_claim_needing_an_unreadable_loss_is_unchecked_naming_that_line():
    got = verdicts(RNN.replace("LOSS", SUM + r" \iint").replace("DY", "y_t - d_t"))
    assert got[7][0] == "unchecked" and "\\iint" in got[7][1]
    for line in (9, 11, 13):  # never judged against a loss the checker could not read
        assert got[line][0] == "unchecked" and got[line][1].startswith("needs line 7")


def test_zero_equals_zero_proves_nothing():
    text = RNN.replace("LOSS", SUM).replace("DY", "y_t - d_t")
    text += "\n$$g_t = \\tanh(U x_t)$$\n\n$$\\frac{\\partial L}{\\partial g_t} = 0$$\n"
    text += (
        "\n$$\\frac{\\partial L}{\\partial g_t} = (1 - g_t \\odot g_t) \\odot \\frac{\\partial L}{\\partial g_t}$$\n"
    )
    got = verdicts(text)
    lines = sorted(got)
    assert got[lines[-2]][0] == "holds"  # "= 0" said and true: g_t does not reach L
    assert got[lines[-1]][0] == "unchecked" and "zero at every step" in got[lines[-1]][1]


def test_a_function_the_note_defines_by_a_formula_is_never_a_generic_stand_in():
    # g(x) = 4σ(x) − 2 is the note's own function: a claim that fails with g generic is unchecked.
    text = (
        "$$h_t = g(W h_{t-1} + U x_t)$$\n\n$$g(x) = 4 \\sigma(x) - 2$$\n\n$$L = \\sum_{t=1}^{T} E_t(h_t)$$\n\n"
        "$$\\frac{\\partial h_t}{\\partial h_{t-1}} = \\operatorname{diag}(4 \\sigma'(W h_{t-1} + U x_t)) W$$\n"
    )
    got = verdicts(text)
    assert got[3][0] == "definition"
    assert got[7][0] != "wrong"


def test_prose_step_bindings_and_initial_values_are_not_claims():
    text = RNN.replace("LOSS", SUM).replace("DY", "y_t - d_t")
    text += "\nAt the last step, $t = T$, and the state starts at $h_0 = 0$.\n"
    got = verdicts(text)
    last = max(got)
    assert got[last][0] == "definition"
    assert "wrong" not in {v for v, _ in got.values() if v != got[13][0]}
