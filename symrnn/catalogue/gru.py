"""Gated recurrent units."""

from symrnn.activations import sigmoid, tanh
from symrnn.catalogue import register
from symrnn.cellspec import Cell
from symrnn.ir import HIDDEN, INPUT, concat


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
        return (
            cell.weight(f"W_x{name}", HIDDEN, INPUT),
            cell.weight(f"W_h{name}", HIDDEN, HIDDEN),
            cell.bias(f"b_{name}"),
        )

    W_xz, W_hz, b_z = weights("z")
    W_xr, W_hr, b_r = weights("r")
    W_xh, W_hh, b_h = weights("h")
    z = cell.let("z", sigmoid(W_xz @ x + W_hz @ h + b_z))
    r = cell.let("r", sigmoid(W_xr @ x + W_hr @ h + b_r))
    h_tilde = cell.let("h_tilde", tanh(W_xh @ x + W_hh @ (r * h) + b_h))
    cell.let("h", (1 - z) * h + z * h_tilde)
    return cell


@register("gru-cho", "gru-2014")
def gru_cho() -> Cell:
    """GRU as first proposed: h_t = z_t ⊙ h_{t-1} + (1 - z_t) ⊙ h̃_t.

    Source: K. Cho, B. van Merriënboer, C. Gulcehre, D. Bahdanau, F. Bougares,
    H. Schwenk, Y. Bengio, "Learning phrase representations using RNN
    encoder-decoder for statistical machine translation", EMNLP (2014), Sec. 2.3,
    eqs. 5-8: r = σ(W_r x + U_r h_{t-1}), z = σ(W_z x + U_z h_{t-1}),
    h̃ = tanh(W x + U (r ⊙ h_{t-1})).  Convention: z keeps the old state (the
    opposite of ``gru``); reset before the product (arXiv v3); one bias per gate
    (the paper omits them).  ``gru`` under z ↔ 1 - z (W_z = -W_xz, b_z = -b_z).
    """
    cell = Cell(
        "gru-cho",
        family="GRU",
        source="Cho et al. 2014 (EMNLP), eqs. 5-8",
        convention="z keeps the old state; reset before the product: U (r ⊙ h_{t-1}); one bias per gate",
        summary="GRU, h_t = z_t ⊙ h_{t-1} + (1 - z_t) ⊙ h̃_t",
    )
    x, h = cell.input("x"), cell.state("h")
    W_r, U_r, b_r = cell.weight("W_r", HIDDEN, INPUT), cell.weight("U_r"), cell.bias("b_r")
    W_z, U_z, b_z = cell.weight("W_z", HIDDEN, INPUT), cell.weight("U_z"), cell.bias("b_z")
    W, U, b = cell.weight("W", HIDDEN, INPUT), cell.weight("U"), cell.bias("b")
    r = cell.let("r", sigmoid(W_r @ x + U_r @ h + b_r))
    z = cell.let("z", sigmoid(W_z @ x + U_z @ h + b_z))
    h_tilde = cell.let("h_tilde", tanh(W @ x + U @ (r * h) + b))
    cell.let("h", z * h + (1 - z) * h_tilde)
    return cell


@register("gru-pytorch", "gru-torch", "gru-cudnn")
def gru_pytorch() -> Cell:
    """The GRU of PyTorch (and cuDNN): reset after the product, n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).

    Source: PyTorch ``torch.nn.GRU`` / ``torch.nn.GRUCell`` documentation
    (torch 2.x), the form of Cho et al. (2014), arXiv:1406.1078v1:
    r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    h' = (1 - z) ⊙ n + z ⊙ h.  Convention: gate order r, z, n as in the rows of
    weight_ih = [W_ir; W_iz; W_in]; two biases per gate; z keeps the old state.
    Not the same function as ``gru`` (the reset gate scales W_hn h + b_hn).
    """
    cell = Cell(
        "gru-pytorch",
        family="GRU",
        source="PyTorch nn.GRU documentation (torch 2.x); Cho et al. 2014 (arXiv v1)",
        convention="reset after the product: r ⊙ (W_hn h_{t-1} + b_hn); z keeps the old state; two biases per gate; order r, z, n",
        summary="PyTorch GRU, n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))",
    )
    x, h = cell.input("x"), cell.state("h")

    def weights(gate):
        W_i, b_i = cell.weight(f"W_i{gate}", HIDDEN, INPUT), cell.bias(f"b_i{gate}")
        W_h, b_h = cell.weight(f"W_h{gate}"), cell.bias(f"b_h{gate}")
        return W_i, b_i, W_h, b_h

    W_ir, b_ir, W_hr, b_hr = weights("r")
    W_iz, b_iz, W_hz, b_hz = weights("z")
    W_in, b_in, W_hn, b_hn = weights("n")
    r = cell.let("r", sigmoid(W_ir @ x + b_ir + W_hr @ h + b_hr))
    z = cell.let("z", sigmoid(W_iz @ x + b_iz + W_hz @ h + b_hz))
    n = cell.let("n", tanh(W_in @ x + b_in + r * (W_hn @ h + b_hn)))
    cell.let("h", (1 - z) * n + z * h)
    return cell


@register("gru-ng", "gru-gamma")
def gru_ng() -> Cell:
    """GRU in Γ notation: c_t = Γ_u ⊙ ĉ_t + (1 - Γ_u) ⊙ c_{t-1}.

    Source: A. Ng, deeplearning.ai "Sequence Models" (2018), as transcribed in
    ``notes/03-rnn-gru-lstm-ng.md``: Γ_u, Γ_r = σ(W_· [c_{t-1}; x_t] + b_·),
    ĉ = f(W_c [Γ_r ⊙ c_{t-1}; x_t] + b_c).  Convention: the unnamed f is tanh;
    Γ_u takes the candidate (as in ``gru``); reset before the product; state c
    (a_t = c_t); stacked state first.  ``gru`` with W_u = [W_hz | W_xz].
    """
    cell = Cell(
        "gru-ng",
        family="GRU",
        source="Ng, deeplearning.ai Sequence Models 2018, notes/03",
        convention="Γ_u takes the candidate; reset before the product: W_c [Γ_r ⊙ c_{t-1}; x_t]; f = tanh; state c",
        summary="GRU, c_t = Γ_u ⊙ ĉ_t + (1 - Γ_u) ⊙ c_{t-1}",
    )
    x, c = cell.input("x"), cell.state("c")
    W_u, b_u = cell.weight("W_u", HIDDEN, HIDDEN + INPUT), cell.bias("b_u")
    W_r, b_r = cell.weight("W_r", HIDDEN, HIDDEN + INPUT), cell.bias("b_r")
    W_c, b_c = cell.weight("W_c", HIDDEN, HIDDEN + INPUT), cell.bias("b_c")
    Gamma_u = cell.let("Gamma_u", sigmoid(W_u @ concat(c, x) + b_u))
    Gamma_r = cell.let("Gamma_r", sigmoid(W_r @ concat(c, x) + b_r))
    c_hat = cell.let("c_hat", tanh(W_c @ concat(Gamma_r * c, x) + b_c))
    cell.let("c", Gamma_u * c_hat + (1 - Gamma_u) * c)
    cell.readout("c")
    return cell


@register("mgu", "minimal-gated-unit")
def mgu() -> Cell:
    """The minimal gated unit: one gate f for both reset and update.

    Source: G.-B. Zhou, J. Wu, C.-L. Zhang, Z.-H. Zhou, "Minimal gated unit for
    recurrent neural networks", International Journal of Automation and
    Computing 13(3) (2016), arXiv:1603.09420: f_t = σ(W_f [h_{t-1}, x_t] + b_f),
    h̃_t = tanh(W_h [f_t ⊙ h_{t-1}, x_t] + b_h), h_t = (1 - f_t) ⊙ h_{t-1} + f_t ⊙ h̃_t.
    Convention: f takes the candidate (as z in ``gru``); stacked state first.
    """
    cell = Cell(
        "mgu",
        family="MGU",
        source="Zhou, Wu, Zhang & Zhou 2016",
        convention="one gate f: reset before the product and update; f takes the candidate; stacked [h_{t-1}, x_t]",
        summary="MGU, h_t = (1 - f_t) ⊙ h_{t-1} + f_t ⊙ tanh(W_h [f_t ⊙ h_{t-1}, x_t] + b_h)",
    )
    x, h = cell.input("x"), cell.state("h")
    W_f, b_f = cell.weight("W_f", HIDDEN, HIDDEN + INPUT), cell.bias("b_f")
    W_h, b_h = cell.weight("W_h", HIDDEN, HIDDEN + INPUT), cell.bias("b_h")
    f = cell.let("f", sigmoid(W_f @ concat(h, x) + b_f))
    h_tilde = cell.let("h_tilde", tanh(W_h @ concat(f * h, x) + b_h))
    cell.let("h", (1 - f) * h + f * h_tilde)
    return cell
