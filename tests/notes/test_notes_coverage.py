"""Constructs the checker evaluates since the coverage sprint, each from a note line of its own."""

from __future__ import annotations

from symrnn.notes.checker import check_text

# A cell in the sequence-models lectures' notation: T_y steps, a pre-activation z written without
# its step (z is z^{<t>}), and one right and one planted wrong claim for each construct.
LECTURE_CELL = r"""# A small recurrent cell

$*$ is element-wise.

$$z = W_h h^{<t-1>} + W_x x^{<t>} + b$$

$$h^{<t>} = \tanh(z)$$

$$\hat{y}^{<t>} = \sigma(W_y h^{<t>} + b_y)$$

$$L = \sum_{t=1}^{T_y} \left( -y^{<t>} \log \hat{y}^{<t>} - (1 - y^{<t>}) \log (1 - \hat{y}^{<t>}) \right)$$

$dv$ means $\partial L / \partial v$.

$$db_y = \sum_{t=1}^{T_y} (\hat{y}^{<t>} - y^{<t>})$$

$$db_y = \sum_{t=1}^{T_y} (y^{<t>} - \hat{y}^{<t>})$$

$$dW_y = \sum_{t=1}^{T_y} (\hat{y}^{<t>} - y^{<t>}) (h^{<t>})^\top$$

$$dz^{<t>} = dh^{<t>} * (1 - (h^{<t>})^2)$$

$$db = \sum_{t=1}^{T_y} dz^{<t>}$$

$$db = \sum_{t=1}^{T_y} dh^{<t>}$$
"""


def verdicts_by_line(text: str) -> dict[int, str]:
    return {v.line: v.verdict for v in check_text(text, "lecture.md")}


def test_a_sum_up_to_t_y_runs_over_every_step():
    v = verdicts_by_line(LECTURE_CELL)
    assert v[15] == "holds"  # db_y = Σ_{t=1}^{T_y} (ŷ − y)
    assert v[17] == "wrong"  # the sign flipped
    assert v[19] == "holds"  # dW_y with (h^{<t>})^T


def test_a_name_defined_without_its_step_is_per_step():
    v = verdicts_by_line(LECTURE_CELL)
    assert v[21] == "holds"  # dz^{<t>} through tanh, z written bare in its definition
    assert v[23] == "holds"  # db sums the per-step dz
    assert v[25] == "wrong"  # dh in place of dz
