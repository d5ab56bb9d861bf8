"""Simple recurrent networks."""

from symrnn.activations import tanh
from symrnn.cellspec import Cell
from symrnn.catalogue import register
from symrnn.ir import HIDDEN, INPUT


@register("rnn", "elman")
def rnn() -> Cell:
    """Elman RNN with tanh: h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h).

    Source: J. L. Elman, "Finding structure in time", Cognitive Science 14 (1990);
    the form of PyTorch ``nn.RNN`` with one merged bias (b_h = b_ih + b_hh).
    """
    cell = Cell(
        "rnn",
        family="RNN",
        source="Elman 1990",
        convention="tanh; one bias; W_hh h_{t-1} + W_xh x_t",
        summary="Elman RNN, h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)",
    )
    x, h = cell.input("x"), cell.state("h")
    W_hh, W_xh, b_h = cell.weight("W_hh", HIDDEN, HIDDEN), cell.weight("W_xh", HIDDEN, INPUT), cell.bias("b_h")
    cell.let("h", tanh(W_hh @ h + W_xh @ x + b_h))
    return cell
