"""Equivalence of cells: the same step function under a renaming and regrouping of parameters.

``compare(a, b)`` decides whether cells A and B compute the same one-step map
(s_{t-1}, x_t) → (s_t, ȳ_t), the new states and the readout logits, for a
suitable choice of B's parameters given A's, and of A's given B's.

**Canonical form.**  Each cell's equations are inlined into one expression per
state and one for the logits.  Every element-wise nonlinearity φ(·) is an
*atom* (a gate); every expression is a sum of terms

    c · m ⊙ (S n)      or      c · S ⊙ n      or      c · m

with c a rational number, m and n products of atoms, x_t and s_{t-1}, and S a
*block* of one parameter: the whole matrix, a column block of a matrix acting
on a concatenation (W [h; x] = W[:, :H] h + W[:, H:] x, the block identity
[A, B][C; D] = AC + BD) or a row block of a stacked matrix.  ``S n`` is a
matrix product, ``S ⊙ n`` an element-wise one (a bias when n = 1, a peephole
otherwise).

**The family searched.**  States are matched one to one (same name first, then
same position, then any order), inputs by position, and atoms one to one with
the same function, in an order that tries equal names first.  A σ gate may be
*complemented*: γ_B = 1 − γ_A with pre-activation a_B = −a_A, since
1 − σ(a) = σ(−a) (so W → −W, b → −b).  Given such a matching, both sides are
rewritten in A's atoms and grouped by term type (m, kind, n); two cells agree
exactly when, for every type, B's blocks sum to A's (the types are linearly
independent functions for generic inputs).  That is a sparse linear system
between blocks, solved both ways: B's blocks as combinations of A's
(``mapping``) and A's as combinations of B's (``inverse_mapping``).  It covers
renamings, gate permutations, column/row block splits, sign changes and merged
biases (b = b_ih + b_hh; the other way a free choice, b_ih = b, b_hh = 0).

**Verification.**  A mapping found is checked numerically both ways in float64
(several sizes, random parameters, states and inputs): the one-step maps must
agree within 1e-10.  So ``equivalent`` is sound; it is complete only within the
family above (for example a tanh gate with flipped sign, tanh(−a) = −tanh(a),
or a reparametrisation that is not linear in blocks, is reported as a
difference).  When cells differ, ``first_difference`` names the equation or
state of the closest matching, and ``witness`` gives parameters, inputs and the
two different outputs under that matching's best-effort mapping.

    >>> r = compare("gru", "gru-cho")
    >>> r.equivalent, r.value_mapping["z"], r.mapping["W_z"]
    (True, '1 - z', '-W_xz')
"""

# The package reads top to bottom: canonical forms, matching them, the cells on numbers, the result.
from symrnn.equivalence.canonical import SIZES, TOLERANCE, Block, OutsideFamily, Term, _Canonical
from symrnn.equivalence.numeric import step
from symrnn.equivalence.result import Comparison, Witness, compare

__all__ = [
    "SIZES",
    "TOLERANCE",
    "Block",
    "Comparison",
    "OutsideFamily",
    "Term",
    "Witness",
    "_Canonical",
    "compare",
    "step",
]
