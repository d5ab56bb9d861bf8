"""Long short-term memory cells."""

from symrnn.activations import sigmoid, tanh
from symrnn.cellspec import Cell
from symrnn.catalogue import register
from symrnn.ir import HIDDEN, INPUT


@register("lstm")
def lstm() -> Cell:
    """The forget-gate LSTM.

    Source: F. A. Gers, J. Schmidhuber, F. Cummins, "Learning to forget: continual
    prediction with LSTM", Neural Computation 12 (2000); written as in C. Olah,
    "Understanding LSTM Networks" (2015) with W_f [h_{t-1}, x_t] split into
    W_hf h_{t-1} + W_xf x_t.  Convention: no peepholes, one bias per gate,
    candidate g = tanh(·), h_t = o_t ⊙ tanh(c_t).
    """
    cell = Cell(
        "lstm",
        family="LSTM",
        source="Gers, Schmidhuber & Cummins 2000 (Olah 2015 notation)",
        convention="forget gate; no peepholes; one bias per gate; gates i, f, g, o",
        summary="forget-gate LSTM with separate input and recurrent matrices",
    )
    x, h, c = cell.input("x"), cell.state("h"), cell.state("c")

    def gate(name, act):
        W_x = cell.weight(f"W_x{name}", HIDDEN, INPUT)
        W_h = cell.weight(f"W_h{name}", HIDDEN, HIDDEN)
        return cell.let(name, act(W_x @ x + W_h @ h + cell.bias(f"b_{name}")))

    f = gate("f", sigmoid)
    i = gate("i", sigmoid)
    g = gate("g", tanh)
    o = gate("o", sigmoid)
    c_t = cell.let("c", f * c + i * g)
    cell.let("h", o * tanh(c_t))
    return cell
