"""Simple recurrent networks, from their sources (docs/sources.md)."""

from tests.references import reference
from tests.references.ops import relu, sigmoid, stack, tanh


@reference("rnn", source="Elman 1990; PyTorch nn.RNN with b_h = b_ih + b_hh", states=("h",))
def rnn(p, x, h):
    return {"h": tanh(p.W_hh @ h + p.W_xh @ x + p.b_h)}


@reference("rnn-relu", source="Le, Jaitly & Hinton 2015; nn.RNN(nonlinearity='relu')", states=("h",))
def rnn_relu(p, x, h):
    return {"h": relu(p.W_hh @ h + p.W_xh @ x + p.b_h)}


@reference(
    "rnn-sigmoid",
    source="H.-y. Lee, NTU ML 2017 (notes/01): h' = σ(Wʰ h + Wⁱ x), y = σ(Wᵒ h')",
    states=("h",),
    readout=("h", "W_o", None),
)
def rnn_sigmoid(p, x, h):
    return {"h": sigmoid(p.W_h @ h + p.W_i @ x)}


@reference(
    "rnn-softmax",
    source="Britz 2015 (WildML): s_t = tanh(U x_t + W s_{t-1}), o_t = softmax(V s_t)",
    states=("s",),
    readout=("s", "V", None),
)
def rnn_softmax(p, x, s):
    return {"s": tanh(p.U @ x + p.W @ s)}


@reference(
    "rnn-ng",
    source="Ng 2018 (notes/03): a_t = tanh(W_a [a_{t-1}; x_t] + b_a)",
    states=("a",),
    readout=("a", "W_y", "b_y"),
)
def rnn_ng(p, x, a):
    return {"a": tanh(p.W_a @ stack(a, x) + p.b_a)}
