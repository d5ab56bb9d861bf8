"""Long short-term memory cells.

Most entries are the forget-gate LSTM of Gers et al. (2000) in the notation of
one source; they share :func:`_forget_gate_lstm` (the gates, then
c_t = f ⊙ c_{t-1} + i ⊙ g and h_t = o ⊙ tanh(c_t)) and differ only in how a
gate's pre-activation is written.  ``symrnn.equivalence`` proves which of them are
the same function (``tests/test_compare.py``):

* ``lstm`` ≡ ``lstm-separate`` ≡ ``lstm-olah`` ≡ ``lstm-ng`` ≡ ``lstm-pytorch``
  (renaming, [W_h | W_x] block splits, b = b_ih + b_hh);
* ``lstm-zhihu`` is ``lstm`` with every bias fixed to zero;
* ``lstm-peephole`` with p_i = p_f = p_o = 0 is ``lstm``.
"""

from symrnn.activations import sigmoid, tanh
from symrnn.catalogue import register
from symrnn.cellspec import Cell
from symrnn.ir import HIDDEN, INPUT, concat


def _forget_gate_lstm(cell: Cell, pre, *, order="figo", names=None, h="h", c="c") -> Cell:
    """Gates ``act(pre(role))`` in ``order``, then c_t = f ⊙ c_{t-1} + i ⊙ g, h_t = o ⊙ tanh(c_t).

    Args:
        cell: the cell to fill; its input and states must already be declared.
        pre: role → the gate's pre-activation (declaring its parameters).
        order: the order in which the source writes the gates.
        names: role → the source's name of that gate (default: the role itself).
        h, c: the source's names of the hidden and cell states.
    """
    names = names or {}
    gates = {}
    for role in order:
        act = tanh if role == "g" else sigmoid
        gates[role] = cell.let(names.get(role, role), act(pre(role)))
    c_t = cell.let(c, gates["f"] * cell.states[c] + gates["i"] * gates["g"])
    cell.let(h, gates["o"] * tanh(c_t))
    return cell


def _affine(cell: Cell, role: str, x, h, *, W_x="W_x{}", W_h="W_h{}", b: str | None = "b_{}"):
    """W_x x_t + W_h h_{t-1} (+ b): a gate's pre-activation from separate matrices, names by role."""
    out = cell.weight(W_x.format(role), HIDDEN, INPUT) @ x + cell.weight(W_h.format(role), HIDDEN, HIDDEN) @ h
    return out + cell.bias(b.format(role)) if b else out


def _gate(cell: Cell, role: str, act, x, h):
    """The gate ``role`` = act(W_x x_t + W_h h_{t-1} + b), defined in ``cell``."""
    return cell.let(role, act(_affine(cell, role, x, h)))


def _separate(cell: Cell, W_x: str, W_h: str, b: str, order: str) -> Cell:
    """Gates from separate input and recurrent matrices: W_x x_t + W_h h_{t-1} + b, names by role."""
    x, h = cell.input("x"), cell.state("h")
    cell.state("c")
    return _forget_gate_lstm(cell, lambda role: _affine(cell, role, x, h, W_x=W_x, W_h=W_h, b=b), order=order)


def _stacked(cell: Cell, W: dict, b: dict | None, *, names: dict, order: str, input_first=False, h="h", c="c") -> Cell:
    """Gates from one matrix on the stacked vector: W [h_{t-1}; x_t] + b (or [x_t; h_{t-1}])."""
    x, h_prev = cell.input("x"), cell.state(h)
    cell.state(c)
    stacked = concat(x, h_prev) if input_first else concat(h_prev, x)
    cell.readout(h)

    def pre(role):
        out = cell.weight(W[role], HIDDEN, HIDDEN + INPUT) @ stacked
        return out + cell.bias(b[role]) if b else out

    return _forget_gate_lstm(cell, pre, order=order, names=names, h=h, c=c)


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
    return _separate(cell, "W_x{}", "W_h{}", "b_{}", order="figo")


@register("lstm-separate", "lstm-korean")
def lstm_separate() -> Cell:
    """The forget-gate LSTM with the names W_xh,f, W_hh,f, b_h,f of the notes.

    Source: Gers, Schmidhuber & Cummins (2000), as written in Korean lecture notes
    on RNN, BPTT and LSTM (``notes/05-rnn-bptt-korean.md``): f, i, o, g in that
    order, f_t = σ(W_xh,f x_t + W_hh,f h_{t-1} + b_h,f).  Convention: as ``lstm``
    (no peepholes, one bias per gate); the same function under a renaming of
    its parameters.
    """
    cell = Cell(
        "lstm-separate",
        family="LSTM",
        source="Gers, Schmidhuber & Cummins 2000 (notes/05 notation)",
        convention="forget gate; no peepholes; one bias per gate; W_xh,· x_t + W_hh,· h_{t-1} + b_h,·",
        summary="forget-gate LSTM, names W_xh,f, W_hh,f, b_h,f per gate",
    )
    return _separate(cell, "W_xh,{}", "W_hh,{}", "b_h,{}", order="fiog")


@register("lstm-olah", "lstm-concat")
def lstm_olah() -> Cell:
    """The forget-gate LSTM on the stacked vector: f_t = σ(W_f [h_{t-1}, x_t] + b_f).

    Source: C. Olah, "Understanding LSTM Networks" (colah.github.io, 2015), as
    transcribed in ``notes/02-rnn-lstm-olah.md``: f, i, C̃, C, o, h with
    C̃_t = tanh(W_C [h_{t-1}, x_t] + b_C).  Convention: W_· is
    hidden × (hidden + input), state first; the cell state is C.  ``lstm`` with
    W_f = [W_hf | W_xf].
    """
    cell = Cell(
        "lstm-olah",
        family="LSTM",
        source="Olah 2015 (Understanding LSTM Networks), notes/02",
        convention="forget gate; no peepholes; one bias per gate; W_· [h_{t-1}, x_t], state first; cell state C",
        summary="forget-gate LSTM, f_t = σ(W_f [h_{t-1}, x_t] + b_f)",
    )
    roles = {"f": "f", "i": "i", "g": "C", "o": "o"}
    return _stacked(
        cell,
        W={r: f"W_{n}" for r, n in roles.items()},
        b={r: f"b_{n}" for r, n in roles.items()},
        names={"g": "C_tilde"},
        order="figo",
        c="C",
    )


@register("lstm-ng", "lstm-gamma")
def lstm_ng() -> Cell:
    """The forget-gate LSTM in Γ notation: c_t = Γ_u ⊙ ĉ_t + Γ_f ⊙ c_{t-1}, a_t = Γ_o ⊙ g(c_t).

    Source: A. Ng, deeplearning.ai "Sequence Models" (2018), as transcribed in
    ``notes/03-rnn-gru-lstm-ng.md``: ĉ = g(w_c [a_{t-1}; x_t] + b_c),
    Γ_u/Γ_f/Γ_o = σ(w_· [a_{t-1}; x_t] + b_·).  Convention: the unnamed g is
    tanh (as in the course's programming assignment); Γ_u is the input gate;
    states a and c.  The same function as ``lstm-olah`` under a renaming (both
    are built by the same helper), and so as ``lstm``.
    """
    cell = Cell(
        "lstm-ng",
        family="LSTM",
        source="Ng, deeplearning.ai Sequence Models 2018, notes/03",
        convention="forget gate; Γ_u input gate; g = tanh; w_· [a_{t-1}; x_t] + b_·, state first; states a, c",
        summary="forget-gate LSTM, c_t = Γ_u ⊙ ĉ_t + Γ_f ⊙ c_{t-1}, a_t = Γ_o ⊙ tanh(c_t)",
    )
    roles = {"g": "c", "i": "u", "f": "f", "o": "o"}
    return _stacked(
        cell,
        W={r: f"w_{n}" for r, n in roles.items()},
        b={r: f"b_{n}" for r, n in roles.items()},
        names={"g": "c_hat", "i": "Gamma_u", "f": "Gamma_f", "o": "Gamma_o"},
        order="gifo",
        h="a",
    )


@register("lstm-zhihu", "lstm-lee")
def lstm_zhihu() -> Cell:
    """The LSTM of the lecture notes: input first, no biases, c^t = z^f ⊙ c^{t-1} + z^i ⊙ z.

    Source: lecture notes (``notes/01-rnn-lstm-zhihu.md``) after H.-y. Lee's
    course "Machine Learning" (NTU, 2017): z = tanh(W [x^t; h^{t-1}]),
    z^i/z^f/z^o = σ(W^· [x^t; h^{t-1}]), h^t = z^o ⊙ tanh(c^t), y^t = σ(W' h^t).
    Convention: stacked input first; no biases anywhere; readout σ(W' h_t), so
    the natural loss is bce.  ``lstm`` with every bias zero.
    """
    cell = Cell(
        "lstm-zhihu",
        family="LSTM",
        source="lecture notes (notes/01), H.-y. Lee, NTU Machine Learning 2017",
        convention="forget gate; no biases; W [x_t; h_{t-1}], input first; readout σ(W' h_t): natural loss bce",
        summary="LSTM, z = tanh(W [x; h]), c_t = z^f ⊙ c_{t-1} + z^i ⊙ z, h_t = z^o ⊙ tanh(c_t)",
    )
    _stacked(
        cell,
        W={"g": "W", "i": "W_i", "f": "W_f", "o": "W_o"},
        b=None,
        names={"g": "z", "i": "z_i", "f": "z_f", "o": "z_o"},
        order="gifo",
        input_first=True,
    )
    cell.readout("h", weight="W'", bias=None)
    return cell


@register("lstm-pytorch", "lstm-torch")
def lstm_pytorch() -> Cell:
    """The LSTM of PyTorch: i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi), ... (gates i, f, g, o).

    Source: PyTorch ``torch.nn.LSTM`` / ``torch.nn.LSTMCell`` documentation
    (torch 2.x), the forget-gate LSTM of Gers et al. (2000) with two biases per
    gate.  Convention: per-gate names of the documentation; PyTorch stacks them
    by rows, weight_ih = [W_ii; W_if; W_ig; W_io] (4·hidden × input), and
    likewise weight_hh, bias_ih, bias_hh (see ``symrnn.torch_interop``).  Only
    b_i· + b_h· matters: the same function as ``lstm`` with b_i = b_ii + b_hi.
    """
    cell = Cell(
        "lstm-pytorch",
        family="LSTM",
        source="PyTorch nn.LSTM documentation (torch 2.x); Gers et al. 2000",
        convention="forget gate; two biases per gate (b_i· + b_h·); gate order i, f, g, o as in weight_ih rows",
        summary="PyTorch LSTM, i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)",
    )
    x, h = cell.input("x"), cell.state("h")
    cell.state("c")

    def pre(role):
        W_i, b_i = cell.weight(f"W_i{role}", HIDDEN, INPUT), cell.bias(f"b_i{role}")
        W_h, b_h = cell.weight(f"W_h{role}", HIDDEN, HIDDEN), cell.bias(f"b_h{role}")
        return W_i @ x + b_i + W_h @ h + b_h

    return _forget_gate_lstm(cell, pre, order="ifgo")


@register("lstm-1997", "lstm-nfg")
def lstm_1997() -> Cell:
    """The original LSTM, without a forget gate: c_t = c_{t-1} + i_t ⊙ g_t, h_t = o_t ⊙ tanh(c_t).

    Source: S. Hochreiter, J. Schmidhuber, "Long short-term memory", Neural
    Computation 9(8) (1997), Sec. 4: s_c(t) = s_c(t-1) + y^in(t) g(net_c(t)),
    y^c(t) = y^out(t) h(s_c(t)).  Convention: g = h = tanh and exact BPTT, the
    "no forget gate" variant (NFG, without peepholes) of Greff et al. (2017);
    the paper's g = 4σ - 2 and h = 2σ - 1 and its truncated gradient are not used.
    """
    cell = Cell(
        "lstm-1997",
        family="LSTM",
        source="Hochreiter & Schmidhuber 1997",
        convention="no forget gate (constant error carousel); g = h = tanh; no peepholes; one bias per gate",
        summary="LSTM without forget gate, c_t = c_{t-1} + i_t ⊙ g_t",
    )
    x, h, c = cell.input("x"), cell.state("h"), cell.state("c")

    i = _gate(cell, "i", sigmoid, x, h)
    g = _gate(cell, "g", tanh, x, h)
    o = _gate(cell, "o", sigmoid, x, h)
    c_t = cell.let("c", c + i * g)
    cell.let("h", o * tanh(c_t))
    return cell


@register("lstm-peephole", "lstm-vanilla", "lstm-greff")
def lstm_peephole() -> Cell:
    """The "vanilla" LSTM with peepholes: p_i ⊙ c_{t-1}, p_f ⊙ c_{t-1} and p_o ⊙ c_t.

    Source: K. Greff, R. K. Srivastava, J. Koutník, B. R. Steunebrink,
    J. Schmidhuber, "LSTM: a search space odyssey", IEEE TNNLS 28(10) (2017),
    Sec. II-A (peepholes after F. A. Gers, J. Schmidhuber, IJCNN 2000).
    Convention: Greff's W_·, R_·, z, y are W_x·, W_h·, g, h here; the peepholes
    p_i, p_f, p_o are hidden × 1 vectors applied element-wise; the output gate
    peeks at the new c_t.  With p_i = p_f = p_o = 0 it is ``lstm``.
    """
    cell = Cell(
        "lstm-peephole",
        family="LSTM",
        source="Greff et al. 2017 (vanilla LSTM); Gers & Schmidhuber 2000 (peepholes)",
        convention="forget gate; peepholes p_i, p_f on c_{t-1} and p_o on c_t, element-wise; one bias per gate",
        summary="peephole LSTM, i_t = σ(W_xi x_t + W_hi h_{t-1} + p_i ⊙ c_{t-1} + b_i)",
    )
    x, h, c = cell.input("x"), cell.state("h"), cell.state("c")

    def affine(name):
        return _affine(cell, name, x, h, b=None)

    def peephole(name):
        return cell.param(f"p_{name}", HIDDEN, 1)

    g = cell.let("g", tanh(affine("g") + cell.bias("b_g")))
    i = cell.let("i", sigmoid(affine("i") + peephole("i") * c + cell.bias("b_i")))
    f = cell.let("f", sigmoid(affine("f") + peephole("f") * c + cell.bias("b_f")))
    c_t = cell.let("c", g * i + c * f)
    o = cell.let("o", sigmoid(affine("o") + peephole("o") * c_t + cell.bias("b_o")))
    cell.let("h", tanh(c_t) * o)
    return cell


@register("lstm-cifg", "lstm-coupled")
def lstm_cifg() -> Cell:
    """The LSTM with coupled input and forget gates: f_t = 1 - i_t.

    Source: Greff et al., "LSTM: a search space odyssey", IEEE TNNLS 28(10)
    (2017), variant CIFG (Sec. III); the coupling is also the GRU's update gate.
    Convention: c_t = (1 - i_t) ⊙ c_{t-1} + i_t ⊙ g_t; no forget-gate
    parameters; no peepholes (Greff's CIFG keeps the vanilla peepholes, ``lstm``
    and this entry have none); names as in ``lstm``.
    """
    cell = Cell(
        "lstm-cifg",
        family="LSTM",
        source="Greff et al. 2017 (CIFG variant)",
        convention="coupled gates f = 1 - i; no peepholes; one bias per gate",
        summary="coupled LSTM, c_t = (1 - i_t) ⊙ c_{t-1} + i_t ⊙ g_t",
    )
    x, h, c = cell.input("x"), cell.state("h"), cell.state("c")

    i = _gate(cell, "i", sigmoid, x, h)
    g = _gate(cell, "g", tanh, x, h)
    o = _gate(cell, "o", sigmoid, x, h)
    c_t = cell.let("c", (1 - i) * c + i * g)
    cell.let("h", o * tanh(c_t))
    return cell
