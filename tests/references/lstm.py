"""Long short-term memory cells, from their sources (docs/sources.md)."""

from tests.references import reference
from tests.references.ops import sigmoid, stack, tanh


@reference("lstm", source="Gers, Schmidhuber & Cummins 2000, in Olah 2015's notation", states=("h", "c"))
def lstm(p, x, h, c):
    f = sigmoid(p.W_xf @ x + p.W_hf @ h + p.b_f)
    i = sigmoid(p.W_xi @ x + p.W_hi @ h + p.b_i)
    g = tanh(p.W_xg @ x + p.W_hg @ h + p.b_g)
    o = sigmoid(p.W_xo @ x + p.W_ho @ h + p.b_o)
    c = f * c + i * g
    return {"h": o * tanh(c), "c": c}


@reference(
    "lstm-separate",
    source="Gers et al. 2000 as in notes/05: f_t = σ(W_xh,f x_t + W_hh,f h_{t-1} + b_h,f)",
    states=("h", "c"),
)
def lstm_separate(p, x, h, c):
    f = sigmoid(p["W_xh,f"] @ x + p["W_hh,f"] @ h + p["b_h,f"])
    i = sigmoid(p["W_xh,i"] @ x + p["W_hh,i"] @ h + p["b_h,i"])
    o = sigmoid(p["W_xh,o"] @ x + p["W_hh,o"] @ h + p["b_h,o"])
    g = tanh(p["W_xh,g"] @ x + p["W_hh,g"] @ h + p["b_h,g"])
    c = f * c + i * g
    return {"h": o * tanh(c), "c": c}


@reference(
    "lstm-olah",
    source="Olah 2015, Understanding LSTM Networks: f_t = σ(W_f [h_{t-1}, x_t] + b_f), …, C_t, h_t",
    states=("h", "C"),
)
def lstm_olah(p, x, h, C):
    f = sigmoid(p.W_f @ stack(h, x) + p.b_f)
    i = sigmoid(p.W_i @ stack(h, x) + p.b_i)
    C_tilde = tanh(p.W_C @ stack(h, x) + p.b_C)
    C = f * C + i * C_tilde
    o = sigmoid(p.W_o @ stack(h, x) + p.b_o)
    return {"h": o * tanh(C), "C": C}


@reference(
    "lstm-ng",
    source="Ng 2018 (notes/03): c_t = Γ_u ⊙ ĉ_t + Γ_f ⊙ c_{t-1}, a_t = Γ_o ⊙ tanh(c_t)",
    states=("a", "c"),
    readout=("a", "W_y", "b_y"),
)
def lstm_ng(p, x, a, c):
    c_hat = tanh(p.w_c @ stack(a, x) + p.b_c)
    Gamma_u = sigmoid(p.w_u @ stack(a, x) + p.b_u)
    Gamma_f = sigmoid(p.w_f @ stack(a, x) + p.b_f)
    Gamma_o = sigmoid(p.w_o @ stack(a, x) + p.b_o)
    c = Gamma_u * c_hat + Gamma_f * c
    return {"a": Gamma_o * tanh(c), "c": c}


@reference(
    "lstm-zhihu",
    source="H.-y. Lee, NTU ML 2017 (notes/01): z = tanh(W [x^t; h^{t-1}]), c^t = z^f c^{t-1} + z^i z, y = σ(W' h)",
    states=("h", "c"),
    readout=("h", "W'", None),
)
def lstm_zhihu(p, x, h, c):
    z = tanh(p.W @ stack(x, h))
    z_i = sigmoid(p.W_i @ stack(x, h))
    z_f = sigmoid(p.W_f @ stack(x, h))
    z_o = sigmoid(p.W_o @ stack(x, h))
    c = z_f * c + z_i * z
    return {"h": z_o * tanh(c), "c": c}


@reference("lstm-pytorch", source="PyTorch nn.LSTM documentation (torch 2.x)", states=("h", "c"))
def lstm_pytorch(p, x, h, c):
    i = sigmoid(p.W_ii @ x + p.b_ii + p.W_hi @ h + p.b_hi)
    f = sigmoid(p.W_if @ x + p.b_if + p.W_hf @ h + p.b_hf)
    g = tanh(p.W_ig @ x + p.b_ig + p.W_hg @ h + p.b_hg)
    o = sigmoid(p.W_io @ x + p.b_io + p.W_ho @ h + p.b_ho)
    c = f * c + i * g
    return {"h": o * tanh(c), "c": c}


@reference(
    "lstm-1997",
    source="Hochreiter & Schmidhuber 1997, Sec. 4: s_c(t) = s_c(t-1) + y^in(t) g(net_c(t)); g = h = tanh (Greff NFG)",
    states=("h", "c"),
)
def lstm_1997(p, x, h, c):
    i = sigmoid(p.W_xi @ x + p.W_hi @ h + p.b_i)
    g = tanh(p.W_xg @ x + p.W_hg @ h + p.b_g)
    o = sigmoid(p.W_xo @ x + p.W_ho @ h + p.b_o)
    c = c + i * g
    return {"h": o * tanh(c), "c": c}


@reference(
    "lstm-peephole",
    source="Greff et al. 2017, Sec. II-A (vanilla LSTM; z, y, W_*, R_* written g, h, W_x*, W_h*)",
    states=("h", "c"),
)
def lstm_peephole(p, x, h, c):
    z = tanh(p.W_xg @ x + p.W_hg @ h + p.b_g)  # block input
    i = sigmoid(p.W_xi @ x + p.W_hi @ h + p.p_i * c + p.b_i)  # input gate peeks at c^{t-1}
    f = sigmoid(p.W_xf @ x + p.W_hf @ h + p.p_f * c + p.b_f)  # forget gate peeks at c^{t-1}
    c = z * i + c * f
    o = sigmoid(p.W_xo @ x + p.W_ho @ h + p.p_o * c + p.b_o)  # output gate peeks at c^t
    return {"h": tanh(c) * o, "c": c}


@reference(
    "lstm-cifg",
    source="Greff et al. 2017, Sec. III, variant CIFG: f^t = 1 - i^t (here without peepholes)",
    states=("h", "c"),
)
def lstm_cifg(p, x, h, c):
    z = tanh(p.W_xg @ x + p.W_hg @ h + p.b_g)
    i = sigmoid(p.W_xi @ x + p.W_hi @ h + p.b_i)
    f = 1 - i  # the coupling
    o = sigmoid(p.W_xo @ x + p.W_ho @ h + p.b_o)
    c = z * i + c * f
    return {"h": tanh(c) * o, "c": c}
