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


# A diagonal self-connection diag(v) h_{t-1} (the peepholes of Gers 2002 and Chung 2014).
DIAGONAL_CELL = r"""# A cell with a diagonal self-connection

$$a_t = W x_t + U h_{t-1} + \operatorname{diag}(v) h_{t-1}$$

$$h_t = \tanh(a_t)$$

$$L = \sum_{t=1}^{T} \ell_t(h_t)$$

$$\frac{\partial L}{\partial v} = \sum_{t=1}^{T} h_{t-1} \odot \frac{\partial L}{\partial a_t}$$

$$\frac{\partial L}{\partial v} = \sum_{t=1}^{T} h_t \odot \frac{\partial L}{\partial a_t}$$

$$\frac{\partial L}{\partial v} = \sum_{t=1}^{T} \operatorname{diag}(h_{t-1}) \frac{\partial L}{\partial a_t}$$

$$\frac{\partial L}{\partial W} = \sum_{t=1}^{T} \frac{\partial L}{\partial a_t} x_t^\top$$
"""


def test_diag_of_a_column_in_a_forward_equation_is_its_element_wise_product():
    v = verdicts_by_line(DIAGONAL_CELL)
    assert v[9] == "holds"  # ∂L/∂v = Σ h_{t-1} ⊙ ∂L/∂a_t
    assert v[11] == "wrong"  # h_t where h_{t-1} is needed
    assert v[13] == "holds"  # the same with diag(h_{t-1}) as a matrix in the claim
    assert v[15] == "holds"  # the rest of the cell is read as usual


def test_diag_times_a_matrix_in_a_forward_equation_is_left_unchecked():
    # diag(v) M with M a matrix is not built (only diag(v) x for a column x): unchecked, never wrong.
    text = DIAGONAL_CELL.replace(r"\operatorname{diag}(v) h_{t-1}", r"\operatorname{diag}(v) U h_{t-1}")
    v = verdicts_by_line(text)
    assert v[9] == v[11] == "unchecked"


# w_k, b_k of one output unit k beside a cell that runs over t (Hochreiter & Schmidhuber 1997).
LABELLED_UNIT = r"""# One output unit k read at the last step

$$a_t = W x_t + U h_{t-1}$$

$$h_t = \tanh(a_t)$$

$$\hat y = w_k^\top h_T + b_k$$

$$E = \frac{1}{2} (\hat y - d)^2$$

$$\frac{\partial E}{\partial b_k} = \hat y - d$$

$$\frac{\partial E}{\partial b_k} = d - \hat y$$
"""


def test_a_letter_only_ever_alone_below_names_is_a_label_not_a_step():
    v = verdicts_by_line(LABELLED_UNIT)
    assert v[11] == "holds"
    assert v[13] == "wrong"  # the sign flipped


def test_a_letter_that_may_be_a_step_stays_a_step():
    from symrnn.notes.labels import label_letters
    from symrnn.notes.read import read_notes
    from symrnn.notes.source import NoteSource

    def letters(text):
        return label_letters([e.tree for e in read_notes(NoteSource.from_text(text, "n.md"), strict=False).equations])

    assert letters(LABELLED_UNIT) == {"k"}
    assert letters(LABELLED_UNIT + "\n$$c = \\sum_{k=1}^{T} h_k$$\n") == set()  # summed over: a step
    assert letters(LABELLED_UNIT + "\n$$c = w_{k-1}$$\n") == set()  # an offset: a step
    assert letters(LABELLED_UNIT + "\n$$c = w_t$$\n") == set()  # w seen at step t too
    assert letters(LABELLED_UNIT.replace("h_{t-1}", "h_s")) == set()  # no recurrence: no main step
