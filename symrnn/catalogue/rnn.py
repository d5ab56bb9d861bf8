"""Simple recurrent networks."""

from symrnn.activations import relu, sigmoid, tanh
from symrnn.catalogue import register
from symrnn.cellspec import Cell
from symrnn.ir import HIDDEN, INPUT, concat


def _elman(cell: Cell, act) -> Cell:
    """h_t = act(W_hh h_{t-1} + W_xh x_t + b_h): the Elman step shared by ``rnn`` and ``rnn-relu``."""
    x, h = cell.input("x"), cell.state("h")
    W_hh, W_xh, b_h = cell.weight("W_hh", HIDDEN, HIDDEN), cell.weight("W_xh", HIDDEN, INPUT), cell.bias("b_h")
    cell.let("h", act(W_hh @ h + W_xh @ x + b_h))
    return cell


@register("rnn", "elman")
def rnn() -> Cell:
    """Elman RNN with tanh: h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h).

    Source: J. L. Elman, "Finding structure in time", Cognitive Science 14 (1990).
    Convention: the form of PyTorch ``nn.RNN`` with one merged bias
    (b_h = b_ih + b_hh).
    """
    cell = Cell(
        "rnn",
        family="RNN",
        source="Elman 1990",
        convention="tanh; one bias; W_hh h_{t-1} + W_xh x_t",
        summary="Elman RNN, h_t = tanh(W_hh h_{t-1} + W_xh x_t + b_h)",
    )
    return _elman(cell, tanh)


@register("rnn-relu", "elman-relu")
def rnn_relu() -> Cell:
    """Elman RNN with ReLU: h_t = relu(W_hh h_{t-1} + W_xh x_t + b_h).

    Source: PyTorch ``nn.RNN(nonlinearity="relu")`` (docs, torch 2.x), the Elman
    (1990) recurrence with a rectifier as in Q. V. Le, N. Jaitly, G. E. Hinton,
    "A simple way to initialize recurrent networks of rectified linear units" (2015).
    Convention: one merged bias (b_h = b_ih + b_hh), names as in ``rnn``.
    """
    cell = Cell(
        "rnn-relu",
        family="RNN",
        source="Le, Jaitly & Hinton 2015; PyTorch nn.RNN(nonlinearity='relu')",
        convention="relu; one bias; W_hh h_{t-1} + W_xh x_t",
        summary="ReLU RNN, h_t = relu(W_hh h_{t-1} + W_xh x_t + b_h)",
    )
    return _elman(cell, relu)


@register("rnn-sigmoid", "rnn-zhihu")
def rnn_sigmoid() -> Cell:
    """Sigmoid RNN of the lecture notes: h' = σ(Wʰ h + Wⁱ x), y = σ(Wᵒ h').

    Source: lecture notes on RNN and LSTM (transcribed in
    ``notes/01-rnn-lstm-zhihu.md``), after H.-y. Lee's course "Machine Learning"
    (NTU, 2017).  Convention: no biases; σ for the state and for the output, so
    the readout is ŷ = σ(W_o h_t) and the natural loss is binary cross-entropy
    (``derive("rnn-sigmoid", "bce")``).
    """
    cell = Cell(
        "rnn-sigmoid",
        family="RNN",
        source="lecture notes (notes/01), H.-y. Lee, NTU Machine Learning 2017",
        convention="σ state, no biases; readout ŷ = σ(W_o h_t) with no bias: natural loss bce",
        summary="sigmoid RNN, h_t = σ(W_h h_{t-1} + W_i x_t), ŷ_t = σ(W_o h_t)",
    )
    x, h = cell.input("x"), cell.state("h")
    W_h, W_i = cell.weight("W_h", HIDDEN, HIDDEN), cell.weight("W_i", HIDDEN, INPUT)
    cell.let("h", sigmoid(W_h @ h + W_i @ x))
    cell.readout("h", weight="W_o", bias=None)
    return cell


@register("rnn-softmax", "rnn-uvw")
def rnn_softmax() -> Cell:
    """RNN with a softmax output: s_t = tanh(U x_t + W s_{t-1}), o_t = softmax(V s_t).

    Source: D. Britz, "Recurrent Neural Networks Tutorial, Part 2" (WildML, 2015),
    as transcribed in ``notes/02-rnn-lstm-olah.md``.  Convention: state s, no
    biases, readout o_t = softmax(V s_t) (loss softmax_ce).  It is ``rnn`` with
    b_h = 0 and b_y = 0 (``compare("rnn", "rnn-softmax", fix={"b_h": 0, "b_y": 0})``).
    """
    cell = Cell(
        "rnn-softmax",
        family="RNN",
        source="Britz 2015 (WildML RNN tutorial), notes/02",
        convention="tanh; no biases; state s; U x_t + W s_{t-1}; readout softmax(V s_t)",
        summary="RNN, s_t = tanh(U x_t + W s_{t-1}), o_t = softmax(V s_t)",
    )
    x, s = cell.input("x"), cell.state("s")
    U, W = cell.weight("U", HIDDEN, INPUT), cell.weight("W", HIDDEN, HIDDEN)
    cell.let("s", tanh(U @ x + W @ s))
    cell.readout("s", weight="V", bias=None)
    return cell


@register("rnn-ng", "rnn-concat")
def rnn_ng() -> Cell:
    """RNN on the stacked vector: a_t = tanh(W_a [a_{t-1}; x_t] + b_a).

    Source: A. Ng, deeplearning.ai "Sequence Models" (2018), as transcribed in
    ``notes/03-rnn-gru-lstm-ng.md``: W_a = [W_aa | W_ax], so this is ``rnn`` with
    the two matrices side by side (the block identity [A, B][C; D] = AC + BD).
    Convention: f = tanh; state a; ŷ_t = g(W_y a_t + b_y) with g from the loss.
    """
    cell = Cell(
        "rnn-ng",
        family="RNN",
        source="Ng, deeplearning.ai Sequence Models 2018, notes/03",
        convention="tanh; one bias; concatenated W_a [a_{t-1}; x_t], W_a = [W_aa | W_ax]",
        summary="RNN, a_t = tanh(W_a [a_{t-1}; x_t] + b_a)",
    )
    x, a = cell.input("x"), cell.state("a")
    W_a, b_a = cell.weight("W_a", HIDDEN, HIDDEN + INPUT), cell.bias("b_a")
    cell.let("a", tanh(W_a @ concat(a, x) + b_a))
    cell.readout("a")
    return cell
