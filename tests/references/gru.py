"""Gated recurrent units, from their sources (docs/sources.md)."""

from tests.references import reference
from tests.references.ops import sigmoid, stack, tanh


@reference("gru", source="Chung, Gulcehre, Cho & Bengio 2014, eqs. 5-8 (with one bias per gate)", states=("h",))
def gru(p, x, h):
    z = sigmoid(p.W_xz @ x + p.W_hz @ h + p.b_z)
    r = sigmoid(p.W_xr @ x + p.W_hr @ h + p.b_r)
    h_tilde = tanh(p.W_xh @ x + p.W_hh @ (r * h) + p.b_h)
    return {"h": (1 - z) * h + z * h_tilde}


@reference("gru-cho", source="Cho et al. 2014 (EMNLP), eqs. 5-8: z keeps the old state", states=("h",))
def gru_cho(p, x, h):
    r = sigmoid(p.W_r @ x + p.U_r @ h + p.b_r)
    z = sigmoid(p.W_z @ x + p.U_z @ h + p.b_z)
    h_tilde = tanh(p.W @ x + p.U @ (r * h) + p.b)
    return {"h": z * h + (1 - z) * h_tilde}


@reference("gru-pytorch", source="PyTorch nn.GRU documentation (torch 2.x)", states=("h",))
def gru_pytorch(p, x, h):
    r = sigmoid(p.W_ir @ x + p.b_ir + p.W_hr @ h + p.b_hr)
    z = sigmoid(p.W_iz @ x + p.b_iz + p.W_hz @ h + p.b_hz)
    n = tanh(p.W_in @ x + p.b_in + r * (p.W_hn @ h + p.b_hn))
    return {"h": (1 - z) * n + z * h}


@reference(
    "gru-ng",
    source="Ng 2018 (notes/03): ĉ = tanh(W_c [Γ_r ⊙ c_{t-1}; x_t] + b_c), c_t = Γ_u ⊙ ĉ + (1 - Γ_u) ⊙ c_{t-1}",
    states=("c",),
    readout=("c", "W_y", "b_y"),
)
def gru_ng(p, x, c):
    Gamma_u = sigmoid(p.W_u @ stack(c, x) + p.b_u)
    Gamma_r = sigmoid(p.W_r @ stack(c, x) + p.b_r)
    c_hat = tanh(p.W_c @ stack(Gamma_r * c, x) + p.b_c)
    return {"c": Gamma_u * c_hat + (1 - Gamma_u) * c}


@reference(
    "mgu",
    source="Zhou, Wu, Zhang & Zhou 2016 (arXiv:1603.09420): one gate f for reset and update",
    states=("h",),
)
def mgu(p, x, h):
    f = sigmoid(p.W_f @ stack(h, x) + p.b_f)
    h_tilde = tanh(p.W_h @ stack(f * h, x) + p.b_h)
    return {"h": (1 - f) * h + f * h_tilde}
