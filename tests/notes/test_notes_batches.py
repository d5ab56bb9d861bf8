"""Stated shapes, minibatches in rows and vectors of ones (issue 14), each on a note of our own."""

from __future__ import annotations

import symrnn

BATCH_NOTE = r"""
Rows are the $N$ examples of a batch: $u_t \in \mathbb{R}^{N \times P}$, $A \in \mathbb{R}^{P \times M}$,
$C \in \mathbb{R}^{M \times M}$, $c \in \mathbb{R}^{M}$.

$$s_t = \tanh(u_t A + s_{t-1} C + c) \in \mathbb{R}^{N \times M}$$

$$J = \frac{1}{N} \sum_{t=1}^{T} \| s_t \|^2$$

$$\frac{\partial J}{\partial s_T} = \frac{2}{N} s_T$$

$$\frac{\partial J}{\partial s_T} = \frac{2}{T} s_T$$

$$\frac{\partial J}{\partial c} = \sum_{t=1}^{T} \mathbf{1}_N^\top \left( \frac{\partial J}{\partial s_t} \odot (\mathbf{1} - s_t \odot s_t) \right)$$

$$\frac{\partial J}{\partial A} = \sum_{t=1}^{T} u_t^\top \left( \frac{\partial J}{\partial s_t} \odot (1 - s_t \odot s_t) \right)$$

$$\frac{\partial J}{\partial A} = \sum_{t=1}^{T} \frac{1}{N} u_t^\top \left( \frac{\partial J}{\partial s_t} \odot (1 - s_t \odot s_t) \right)$$
"""


def verdicts(text: str, name: str = "note.md") -> dict[int, str]:
    return {v.line: v.verdict for v in symrnn.check_text(text, name) if v.verdict != "definition"}


def test_a_forward_equation_ending_in_a_stated_space_defines_its_value():
    # s_t = … \in \mathbb{R}^{N \times M} is the recurrence, with the shape it states (not a shape line only).
    messages = {v.line: v.message for v in symrnn.check_text(BATCH_NOTE, "note.md")}
    assert "define a cell with state s" in messages[5]


def test_a_minibatch_in_rows_is_checked_at_a_batch_of_several_rows():
    got = verdicts(BATCH_NOTE)
    assert got[9] == "holds"  # 2/N s_T: N is the batch size the note states
    assert got[11] == "wrong"  # 2/T: N is not the number of steps, and the batch is not one row
    assert got[15] == "holds"  # u_t^T (…): the bias row c repeated over the N rows of u_t A
    assert got[17] == "wrong"  # a 1/N too many: caught only with more than one row


def test_vectors_of_ones_sum_the_rows_of_a_batch():
    got = verdicts(BATCH_NOTE)
    assert got[13] == "holds"  # \mathbf{1}_N^\top sums the rows; \mathbf{1} - s ⊙ s is 1 minus each entry
    wrong = BATCH_NOTE.replace(r"\mathbf{1}_N^\top \left(", r"\mathbf{1}_N^\top \frac{1}{N} \left(")
    wrong = wrong.replace(r"\frac{2}{T} s_T", r"\frac{2}{N} s_T")  # so that most claims still hold
    assert verdicts(wrong)[13] == "wrong"


def test_a_size_letter_that_also_names_a_value_is_the_value():
    # h is a size in \mathbb{R}^{h} and the state h_t: the state is a vector, not the number h.
    note = r"""
$h_t \in \mathbb{R}^{h}$, $x_t \in \mathbb{R}^{d}$, $W \in \mathbb{R}^{h \times d}$, $U \in \mathbb{R}^{h \times h}$.

$$h_t = \tanh(W x_t + U h_{t-1})$$

$$L = \sum_{t=1}^{T} \| h_t \|^2$$

$$\frac{\partial L}{\partial x_t} = W^\top \left( \frac{\partial L}{\partial h_t} \odot (1 - h_t \odot h_t) \right)$$

$$\frac{\partial L}{\partial x_t} = W^\top \frac{\partial L}{\partial h_t}$$
"""
    got = verdicts(note)
    assert got[8] == "holds"
    assert got[10] == "wrong"


SPLIT_NOTE = r"""
$$z_t = W x_t + U s_{t-1}$$

$$z_t = [z_p; z_q]$$

$$p = \sigma(z_p), \quad q = \tanh(z_q)$$

$$s_t = p \odot q$$

$$E = \sum_{t=1}^{T} \ell_t(s_t)$$

$dv$ is $\partial E / \partial v$. We name the blocks of the gradient as those of $z_t$:

$$dz_t = [dz^p_t; dz^q_t]$$

$$dz^p_t = ds_t \odot q_t \odot p_t \odot (1 - p_t)$$

$$dz^q_t = ds_t \odot p_t \odot (1 - q_t \odot q_t)$$

$$dz^q_t = ds_t \odot q_t \odot (1 - q_t \odot q_t)$$

$$dW = \sum_{t=1}^{T} dz_t x_t^\top$$

$$ds_t = \frac{\partial \ell_t}{\partial s_t} + U^\top dz_{t+1}$$
"""


def test_a_split_names_the_blocks_of_a_value_and_gates_follow_its_step():
    got = {v.line: (v.verdict, v.message) for v in symrnn.check_text(SPLIT_NOTE, "split.md")}
    assert got[4] == ("definition", "names the blocks of a value (later lines use them)")
    assert got[14][0] == "definition"  # dz_t = [dz^p_t; dz^q_t]: names for the gradient's blocks
    assert got[16][0] == "holds"
    assert got[18][0] == "holds"
    assert got[20][0] == "wrong"  # q_t where p_t is needed
    assert got[22][0] == "holds"


def test_a_generic_per_step_loss_is_a_function_of_its_step_not_a_factor():
    # ℓ_t(s_t) is ℓ_t applied to s_t: ∂ℓ_t/∂s_t is its own gradient, not ℓ_t read as a number times s_t.
    got = verdicts(SPLIT_NOTE, "split.md")
    assert got[24] == "holds"
    dropped = SPLIT_NOTE.replace(r"\frac{\partial \ell_t}{\partial s_t} + U^\top", r"U^\top")
    assert verdicts(dropped, "split.md")[24] == "wrong"


GENERIC_NOTE = r"""
$$c_t = W c_{t-1} + U x_t$$

$$g_t = V x_t$$

$$h_t = \tanh(c_t) \odot g_t$$

$$o_t = Q h_t$$

$$L = \frac{1}{T} \sum_{t=1}^{T} l(o_t, y_t)$$

$$\frac{\partial L}{\partial o_t} = \frac{1}{T} \frac{\partial l(o_t, y_t)}{\partial o_t}$$

$$\frac{\partial L}{\partial g_t} = \frac{\partial}{\partial g_t} \left( \tanh(c_t) \odot g_t \right) \frac{\partial L}{\partial h_t}$$
"""


def test_the_gradient_of_one_term_of_a_generic_loss():
    # ∂l(o_t, y_t)/∂o_t is the gradient of step t's term, l a letter of no step applied at step t.
    assert verdicts(GENERIC_NOTE)[12] == "holds"
    assert verdicts(GENERIC_NOTE.replace(r"= \frac{1}{T} \frac{\partial l", r"= \frac{\partial l"))[12] == "wrong"


def test_a_partial_derivative_of_an_expression_as_an_operator():
    # ∂/∂g_t (tanh(c_t) ⊙ g_t): the Jacobian of the expression as written, c_t held fixed.
    assert verdicts(GENERIC_NOTE)[14] == "holds"
    wrong = GENERIC_NOTE.replace(r"\frac{\partial}{\partial g_t} \left(", r"\frac{\partial}{\partial c_t} \left(")
    assert verdicts(wrong)[14] == "wrong"


SCALAR_OUTPUT_NOTE = r"""
$$h(t) = \tanh(W h(t-1) + \mathbf{u}\, x(t))$$

$$z(t) = \mathbf{v}^\top h(t) + c$$

$$E = \sum_{t=1}^{T} \tfrac{1}{2} \bigl(z(t) - d(t)\bigr)^2$$ with $\mathbf{u}, \mathbf{v} \in \mathbb{R}^{H}$.

$$\frac{\partial E}{\partial c} = \sum_{t=1}^{T} \bigl(z(t) - d(t)\bigr)$$

$$\frac{\partial E}{\partial \mathbf{v}} = \sum_{t=1}^{T} \bigl(z(t) - d(t)\bigr)\, h(t)$$

$$\frac{\partial E}{\partial \mathbf{v}} = \sum_{t=1}^{T} z(t)\, h(t)$$
"""


def test_an_inner_product_plus_a_bias_is_a_number_and_so_is_its_target():
    # v^T h(t) + c: c is a number (not a vector the number is spread over); z(t) - d(t): d(t) is one too.
    got = verdicts(SCALAR_OUTPUT_NOTE)
    assert got[8] == "holds"
    assert got[10] == "holds"
    assert got[12] == "wrong"


NAMED_PART_NOTE = r"""
$$r_t = \sigma(A x_t + B h_{t-1} + a)$$

$$h_t = r_t \odot \tanh(C x_t + D h_{t-1})$$

$$E = \sum_{t=1}^{T} \| h_t \|^2$$

We name the pre-activations $\bar r_t = A x_t + B h_{t-1} + a$ and

$$\bar r_t = A x_t + B h_{t-1} + a$$

$$\frac{\partial E}{\partial \bar r_t} = \frac{\partial E}{\partial h_t} \odot \tanh(C x_t + D h_{t-1}) \odot r_t \odot (1 - r_t)$$

$$\frac{\partial E}{\partial a} = \sum_{t=1}^{T} \frac{\partial E}{\partial \bar r_t}$$

$$\frac{\partial E}{\partial a} = \sum_{t=1}^{T} \frac{\partial E}{\partial h_t} \odot \frac{\partial E}{\partial \bar r_t}$$
"""


def test_a_name_given_later_to_part_of_a_forward_equation_is_that_part():
    # r̄_t = A x_t + B h_{t-1} + a names the inside of σ(…) in r_t: ∂E/∂r̄_t is the gradient there, not 0.
    got = verdicts(NAMED_PART_NOTE)
    assert got[12] == "holds"
    assert got[14] == "holds"
    assert got[16] == "wrong"
