"""Gated recurrent units."""

from symrnn.activations import sigmoid, tanh
from symrnn.cellspec import Cell
from symrnn.catalogue import register
from symrnn.ir import HIDDEN, INPUT


@register("gru")
def gru() -> Cell:
    """GRU with the reset gate applied before the recurrent product.

    Source: J. Chung, C. Gulcehre, K. Cho, Y. Bengio, "Empirical evaluation of
    gated recurrent neural networks on sequence modeling" (2014), eqs. 5-8:
    h̃_t = tanh(W x_t + U (r_t ⊙ h_{t-1})), h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t.
    Convention: z takes the candidate; one bias per gate (the paper omits biases).
    """
    cell = Cell(
        "gru",
        family="GRU",
        source="Chung, Gulcehre, Cho & Bengio 2014",
        convention="reset before the product: W_hh (r ⊙ h_{t-1}); z takes the candidate; one bias per gate",
        summary="GRU, h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t",
    )
    x, h = cell.input("x"), cell.state("h")

    def weights(name):
        return cell.weight(f"W_x{name}", HIDDEN, INPUT), cell.weight(f"W_h{name}", HIDDEN, HIDDEN), cell.bias(f"b_{name}")

    W_xz, W_hz, b_z = weights("z")
    W_xr, W_hr, b_r = weights("r")
    W_xh, W_hh, b_h = weights("h")
    z = cell.let("z", sigmoid(W_xz @ x + W_hz @ h + b_z))
    r = cell.let("r", sigmoid(W_xr @ x + W_hr @ h + b_r))
    h_tilde = cell.let("h_tilde", tanh(W_xh @ x + W_hh @ (r * h) + b_h))
    cell.let("h", (1 - z) * h + z * h_tilde)
    return cell
