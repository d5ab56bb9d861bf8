"""Shapes are checked when an equation is built; errors name the equation and both shapes."""

import pytest

from symrnn import ir
from symrnn.activations import tanh
from symrnn.cellspec import Cell, CellError


def test_matmul_mismatch_names_the_line_and_both_shapes():
    cell = Cell("bad")
    x, _h = cell.input("x"), cell.state("h")
    W = cell.weight("W_hh", ir.HIDDEN, ir.HIDDEN)
    with pytest.raises(ir.ShapeError) as e:
        cell.let("h", tanh(W @ x))  # x has input_size rows
    message = str(e.value)
    assert "hidden_size×hidden_size" in message and "input_size×1" in message
    assert "test_shapes.py" in message and 'cell.let("h", tanh(W @ x))' in message


def test_sum_mismatch():
    h = ir.var("h", (ir.HIDDEN, 1))
    x = ir.var("x", (ir.INPUT, 1))
    with pytest.raises(ir.ShapeError, match="equal shapes"):
        h + x


def test_state_must_be_defined():
    cell = Cell("incomplete")
    cell.state("h")
    with pytest.raises(CellError, match="state h has no equation"):
        cell.validate()


def test_names_are_checked():
    with pytest.raises(ValueError, match="invalid symbol name"):
        ir.var("__import__('os')", (1, 1))


def test_sizes_given_as_text_are_refused():
    # sympify would evaluate the text; sizes are ints or SymPy expressions only
    with pytest.raises(TypeError, match="a size must be an int"):
        ir.var("W", ("__import__('os').getcwd()", 1), ir.PARAM)
    with pytest.raises(TypeError, match="a size must be an int"):
        ir.rows(ir.var("h", (ir.HIDDEN, 1)), 0, "hidden_size")
