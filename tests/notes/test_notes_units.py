"""Scalar index notation checked unit by unit (symrnn/notes/units.py), from notes of our own.

A unit-by-unit note (Williams & Zipser, Haykin, Gers et al.) is written out at a few concrete
units; these tests use other letters, sets and functions than the corpus notes, so they show
the reading generalises: sums over sets joined by \\cup, a cases environment, Kronecker deltas,
names for Jacobians carried forward in time, and free unit letters with stated conditions.
"""

from symrnn.notes import parse_latex
from symrnn.notes.checker import check_text
from symrnn.notes.model import _known_formula
from symrnn.notes.tree import Cases, Product, Sum

NOTE = r"""# A tanh network, unit by unit

Hidden units are indexed by $H$, inputs by $X$, and line $j$ carries

$$r_j(t) = \begin{cases} x_j(t) & j \in X \\ h_j(t-1) & j \in H \end{cases}$$

$$a_i(t) = \sum_{j \in X \cup H} u_{ij} \, r_j(t)$$

$$h_i(t) = \tanh(a_i(t))$$

given $h_i(0)$. Write $q^i_{mk}(t) = \partial h_i(t) / \partial u_{mk}$, so $q^i_{mk}(0) = 0$.

$$q^i_{mk}(t) = \left(1 - h_i(t)^2\right) \left[ \sum_{j \in H} u_{ij} \, q^j_{mk}(t-1) + \delta_{im} \, r_k(t) \right]$$

$$\frac{\partial h_i(t)}{\partial h_j(t-1)} = \left(1 - h_i(t)^2\right) u_{ij}, \quad i, j \in H$$

$$\frac{\partial h_i(t)}{\partial h_j(t-1)} = \left(1 - h_i(t)^2\right) u_{ji}, \quad i, j \in H$$

$$q^i_{mk}(t) = \left(1 - h_i(t)^2\right) \left[ \sum_{j \in H} u_{ij} \, q^j_{mk}(t-1) + \delta_{ik} \, r_m(t) \right]$$
"""


def _verdicts(text):
    return {v.line: v.verdict for v in check_text(text, "units.md") if v.kind != "unreadable"}


def test_a_unit_by_unit_note_is_checked_claim_by_claim():
    verdicts = _verdicts(NOTE)
    assert verdicts[13] == "holds"  # the sensitivity recursion, with the Kronecker delta δ_im
    assert verdicts[15] == "holds"  # the one-step Jacobian, i, j ∈ H
    assert verdicts[17] == "wrong"  # u_ji where u_ij is needed
    assert verdicts[19] == "wrong"  # δ_ik r_m: the indices of the Kronecker term swapped


def test_a_set_union_and_a_cases_environment_are_read():
    eq = parse_latex(r"a_i(t) = \sum_{j \in X \cup H} u_{ij} r_j(t)")
    assert isinstance(eq.rhs, Sum) and isinstance(eq.rhs.over, Product) and eq.rhs.over.op == "cup"
    tree = parse_latex(r"r_j(t) = \begin{cases} x_j(t), & j \in X \\ 0 & \text{otherwise} \end{cases}")
    assert isinstance(tree.rhs, Cases) and len(tree.rhs.rows) == 2


def test_a_vector_note_is_left_as_written():
    text = "$$h_t = \\tanh(W h_{t-1} + U x_t)$$\n\n$$L = \\sum_t \\ell_t$$\n"
    verdicts = check_text(text, "vector.md")
    assert [v.line for v in verdicts if v.kind == "forward"] == [1]  # one definition, not one per unit


def test_a_formula_the_note_gives_for_its_function_is_recognised():
    logistic = parse_latex(r"\psi(z) = \frac{1}{1 + \exp(-z)}")
    assert _known_formula(logistic.lhs, logistic.rhs) == "sigmoid"
    other = parse_latex(r"\psi(z) = \frac{2}{1 + \exp(-z)}")
    assert _known_formula(other.lhs, other.rhs) is None
