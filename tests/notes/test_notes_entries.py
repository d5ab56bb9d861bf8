"""Scalar index notation (symrnn/notes/entries.py): forward equations and claims written unit by unit."""

import symrnn
from symrnn.notes.entries import split_label, unit_letters
from symrnn.notes.reading import read_note_text
from symrnn.notes.source import NoteSource


def _verdicts(text: str) -> dict[int, str]:
    return {v.line: v.verdict for v in symrnn.check_text(text, "units.md") if v.kind != "definition"}


def _line(text: str, anchor: str) -> int:
    (line,) = [n for n, row in enumerate(text.splitlines(), 1) if anchor in row]
    return line


# A tanh network written unit by unit, weights indexed [to, from], squared error.
TANH_UNITS = r"""
# Units

$$a_i(t) = \sum_j u_{ij} x_j(t) + \sum_m q_{im} z_m(t-1)$$

$$z_i(t) = \tanh(a_i(t))$$

$$E = \frac{1}{2} \sum_{t=1}^{T} \sum_i \left(z_i(t) - d_i(t)\right)^2$$

$$\frac{\partial E}{\partial a_i(t)} = \left(1 - z_i(t) z_i(t)\right) \frac{\partial E}{\partial z_i(t)}$$

$$\frac{\partial E}{\partial q_{im}} = \sum_{t=1}^{T} \frac{\partial E}{\partial a_i(t)} z_m(t-1)$$

$$\frac{\partial E}{\partial u_{ij}} = \sum_{t=1}^{T} \frac{\partial E}{\partial a_i(t)} x_i(t)$$

$$\frac{\partial E}{\partial z_m(0)} = \sum_i q_{im} \frac{\partial E}{\partial a_i(1)}$$
"""


def test_claims_written_unit_by_unit_are_checked_for_every_unit():
    got = _verdicts(TANH_UNITS)
    assert got[_line(TANH_UNITS, r"\partial a_i(t)} = \left(1")] == "holds"
    assert got[_line(TANH_UNITS, r"a_i(t)} z_m(t-1)$$")] == "holds"
    assert got[_line(TANH_UNITS, r"\partial z_m(0)}")] == "holds"
    # x_i(t) where x_j(t) is needed: i would run over the hidden units and the inputs at once
    line = _line(TANH_UNITS, r"x_i(t)$$")
    assert got[line] == "unchecked"
    (message,) = [v.message for v in symrnn.check_text(TANH_UNITS, "units.md") if v.line == line]
    assert "the unit letter i runs over" in message


def test_a_transposed_weight_is_wrong_at_its_line():
    text = TANH_UNITS.replace(r"\sum_i q_{im} \frac", r"\sum_i q_{mi} \frac")
    got = _verdicts(text)
    assert got[_line(text, r"\partial z_m(0)}")] == "wrong"
    assert got[_line(text, r"a_i(t)} z_m(t-1)$$")] == "holds"


# Hochreiter & Schmidhuber's block indices: in_j names unit j of the input gates, u the inputs,
# and f_{in_j} the gate's own function, pinned by the note.
GATE_UNITS = r"""
# Gates

$$net_{in_j}(t) = \sum_u w_{in_j u} x^u(t) + \sum_l w_{in_j c_l} y^{c_l}(t-1)$$

$$y^{in_j}(t) = f_{in_j}(net_{in_j}(t))$$

$$y^{c_j}(t) = y^{in_j}(t) \, y^{c_j}(t-1)$$

$$f_{in_j} = \sigma$$

$$E = \sum_{t=1}^{T} \sum_j y^{c_j}(t)$$

$$\frac{\partial E}{\partial w_{in_j u}} = \sum_{t=1}^{T} \frac{\partial E}{\partial net_{in_j}(t)} x^u(t)$$

$$\frac{\partial E}{\partial net_{in_j}(t)} = \frac{\partial E}{\partial y^{in_j}(t)} \, y^{in_j}(t) \left(1 - y^{in_j}(t)\right)$$

$$\frac{\partial E}{\partial net_{in_j}(t)} = \frac{\partial E}{\partial y^{in_j}(t)} \, y^{in_j}(t) \left(1 + y^{in_j}(t)\right)$$
"""


def test_block_indices_and_a_pinned_labelled_function():
    got = _verdicts(GATE_UNITS)
    assert got[_line(GATE_UNITS, r"x^u(t)$$")] == "holds"
    assert got[_line(GATE_UNITS, r"\left(1 - y^{in_j}")] == "holds"
    assert got[_line(GATE_UNITS, r"\left(1 + y^{in_j}")] == "wrong"


def test_labels_that_name_entries():
    letters = frozenset("jilkum")
    assert split_label("ji", letters) == (",", ("j", "i"))  # a matrix: one comma per extra index
    assert split_label("hj", letters) == ("h", ("j",))
    assert split_label("in_j u", letters) == ("in,", ("j", "u"))
    assert split_label("c_j c_l", letters) == ("c,c", ("j", "l"))
    assert split_label("hh", letters) is None  # W_{hh}: a label, not an entry


def test_vector_notes_are_not_read_as_units():
    text = "$$h_t = \\tanh(W h_{t-1} + U x_t)$$\n\n$$L = \\sum_{t=1}^{T} \\sum_i h_{t} $$\n"
    read = read_note_text(NoteSource.from_text(text, "v.md", None))
    forward = [i.tree for i in read.items if i.kind == "forward"]
    assert unit_letters([i.tree for i in read.items], forward) == frozenset()


# A function the note defines by a formula (Hochreiter & Schmidhuber's g(x) = 4σ(x) − 2) is applied
# as written, and its derivative g' is the formula's.
FORMULA_UNITS = r"""
# Formula

$$a_j(t) = \sum_i w_{ji} x_i(t)$$

$$s_j(t) = s_j(t-1) + g(a_j(t))$$

$$g(z) = 4 \sigma(z) - 2$$

$$E = \sum_{t=1}^{T} \sum_j s_j(t)$$

$$\frac{\partial E}{\partial a_j(t)} = (T - t + 1) \, g'(a_j(t))$$

$$\frac{\partial E}{\partial a_j(t)} = (T - t + 1) \, 4 \sigma(a_j(t)) \left(1 - \sigma(a_j(t))\right)$$

$$\frac{\partial E}{\partial a_j(t)} = (T - t + 1) \, 2 \sigma(a_j(t)) \left(1 - \sigma(a_j(t))\right)$$
"""


def test_a_function_defined_by_a_formula_is_applied():
    got = _verdicts(FORMULA_UNITS)
    assert got[_line(FORMULA_UNITS, r"g'(a_j(t))")] == "holds"
    assert got[_line(FORMULA_UNITS, r"\, 4 \sigma")] == "holds"
    assert got[_line(FORMULA_UNITS, r"\, 2 \sigma")] == "wrong"
