"""The exported formulas equal the literature's, at random points.

Transcribed here, in each source's own structure (docs/sources.md has them with citations):

* Greff et al. 2017, "LSTM: a search space odyssey", Sec. II-B: the backward pass of the vanilla
  LSTM with peepholes (catalogue ``lstm-peephole``; Greff's z, y, W_*, R_* are our g, h, W_x*, W_h*);
* the GRU of Chung et al. 2014 (catalogue ``gru``, z takes the candidate) and of Cho et al. 2014
  (``gru-cho``, z keeps the old state): forward equations and the standard BPTT equations.

The derivation's equations are evaluated by a small NumPy interpreter of the IR at consistent
random forward values (a real forward pass) and random δ's at step t+1, and compared with the
transcriptions.  The same equations are the ones printed in the exported documents (checked too).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import symrnn
from symrnn import ir
from symrnn.ir import Node

DERIVATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "derivations")
SIZES = {ir.HIDDEN: 3, ir.INPUT: 2, ir.OUTPUT: 2}
T = 3


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def dsigmoid(pre):
    return sigmoid(pre) * (1 - sigmoid(pre))


def dtanh(pre):
    return 1 - np.tanh(pre) ** 2


FUNCTIONS = {"sigmoid": sigmoid, "tanh": np.tanh}


def dim(expr) -> int:
    return int(expr.subs(SIZES))


class Point:
    """Random parameters, a real forward pass over t = 1..T, and random δ's for every value and step."""

    def __init__(self, d, seed=0):
        rng = np.random.default_rng(seed)
        self.d = d
        self.params = {n: rng.normal(size=(dim(p.shape[0]), dim(p.shape[1]))) for n, p in d.params.items()}
        self.values: dict[tuple[str, int], np.ndarray] = {}
        for name, s in d.cell.states.items():
            self.values[(name, 0)] = rng.normal(size=(dim(s.shape[0]), 1))
        for t in range(1, T + 2):
            for name, x in d.cell.inputs.items():
                self.values[(name, t)] = rng.normal(size=(dim(x.shape[0]), 1))
            self.values[("y", t)] = np.eye(dim(ir.OUTPUT))[:, [t % dim(ir.OUTPUT)]]
            for eq in d.forward:
                self.values[(eq.lhs.name, t)] = self.eval(eq.rhs, t)
        # δ's: random at every step; a test overwrites those of step t by the derivation's formulas.
        self.deltas = {
            (eq.lhs.name, t): rng.normal(size=self.values[(eq.lhs.name, 1)].shape)
            for eq in d.forward
            for t in range(0, T + 2)
        }

    def eval(self, node: Node, t: int) -> np.ndarray:
        op, a = node.op, [self.eval(x, t) for x in node.args]
        if op == "var":
            if node.kind == ir.PARAM:
                return self.params[node.name]
            if node.kind == ir.GRAD:
                return self.deltas[(node.name, t + node.shift)]
            return self.values[(node.name, t + node.shift)]
        if op == "zeros":
            return np.zeros((dim(node.shape[0]), dim(node.shape[1])))
        simple = {
            "matmul": lambda: a[0] @ a[1],
            "add": lambda: a[0] + a[1],
            "sub": lambda: a[0] - a[1],
            "mul": lambda: a[0] * a[1],
            "div": lambda: a[0] / a[1],
            "scale": lambda: float(node.attrs[0]) * a[0],
            "one_minus": lambda: 1 - a[0],
            "transpose": lambda: a[0].T,
            "broadcast": lambda: a[0],
            "batch_sum": lambda: a[0],
            "concat": lambda: np.vstack(a),
            "rows": lambda: a[0][dim(node.attrs[0]) : dim(node.attrs[1])],
            "softmax": lambda: np.exp(a[0]) / np.exp(a[0]).sum(),
            "apply": lambda: FUNCTIONS[node.attrs[0]](a[0]) if node.attrs[0] in FUNCTIONS else np.log(a[0]),
        }
        return simple[op]()

    def backward_at(self, t: int) -> dict[str, np.ndarray]:
        """The derivation's δ's at step t, in its order, from the (random) δ's at t+1."""
        out = {}
        for eq in self.d.backward:
            self.deltas[(eq.lhs.name, t)] = out[eq.lhs.name] = self.eval(eq.rhs, t)
        return out

    def v(self, name, t):
        return self.values[(name, t)]

    def dv(self, name, t):
        return self.deltas[(name, t)]

    def p(self, name):
        return self.params[name]


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_greff_2017_lstm_peephole_backward_pass():
    d = symrnn.derive("lstm-peephole")
    pt = Point(d, seed=1)
    t = 2
    ours = pt.backward_at(t)
    v, dv, p = pt.v, pt.dv, pt.p
    # Greff et al. 2017, Sec. II-B, with Δ^t = W_yᵀ δȳ_t (the readout is the layer above)
    Delta = p("W_y").T @ (v("y_hat", t) - v("y", t))
    delta_y = (
        Delta
        + p("W_hg").T @ dv("g_bar", t + 1)
        + p("W_hi").T @ dv("i_bar", t + 1)
        + p("W_hf").T @ dv("f_bar", t + 1)
        + p("W_ho").T @ dv("o_bar", t + 1)
    )
    delta_o = delta_y * np.tanh(v("c", t)) * dsigmoid(v("o_bar", t))
    delta_c = (
        delta_y * v("o", t) * dtanh(v("c", t))
        + p("p_o") * delta_o
        + p("p_i") * dv("i_bar", t + 1)
        + p("p_f") * dv("f_bar", t + 1)
        + dv("c", t + 1) * v("f", t + 1)
    )
    delta_f = delta_c * v("c", t - 1) * dsigmoid(v("f_bar", t))
    delta_i = delta_c * v("g", t) * dsigmoid(v("i_bar", t))
    delta_z = delta_c * v("i", t) * dtanh(v("g_bar", t))
    close(ours["h"], delta_y)
    close(ours["o_bar"], delta_o)
    close(ours["c"], delta_c)
    close(ours["f_bar"], delta_f)
    close(ours["i_bar"], delta_i)
    close(ours["g_bar"], delta_z)


def _param_grads(pt: Point) -> dict[str, np.ndarray]:
    """The derivation's Σ_t summands, summed over t = 1..T at the random δ's of every step."""
    return {eq.lhs.name: sum(pt.eval(eq.rhs, t) for t in range(1, T + 1)) for eq in pt.d.param_grads}


def test_greff_2017_weight_gradients_and_their_index_shifts():
    d = symrnn.derive("lstm-peephole")
    pt = Point(d, seed=2)
    ours = _param_grads(pt)
    v, dv = pt.v, pt.dv
    steps = range(1, T + 1)
    for star, ours_name in (("g", "g"), ("i", "i"), ("f", "f"), ("o", "o")):
        bar = f"{star}_bar"
        close(ours[f"W_x{ours_name}"], sum(dv(bar, t) @ v("x", t).T for t in steps))  # δW_* = Σ_t <δ*^t, x^t>
        close(ours[f"W_h{ours_name}"], sum(dv(bar, t + 1) @ v("h", t).T for t in range(0, T)))  # δR_*: t+1 vs t
        close(ours[f"b_{ours_name}"], sum(dv(bar, t) for t in steps))
    close(ours["p_i"], sum(v("c", t) * dv("i_bar", t + 1) for t in range(0, T)))  # δp_i = Σ c^t ⊙ δī^{t+1}
    close(ours["p_f"], sum(v("c", t) * dv("f_bar", t + 1) for t in range(0, T)))
    close(ours["p_o"], sum(v("c", t) * dv("o_bar", t) for t in steps))  # δp_o: same t


def test_greff_2017_initial_state_is_the_t0_boundary():
    d = symrnn.derive("lstm-peephole")
    pt = Point(d, seed=3)
    dv, p, v = pt.dv, pt.p, pt.v
    grads = {eq.lhs.name: pt.eval(eq.rhs, eq.at) for eq in d.initial_grads}
    # Greff's δy^0 and δc^0 with no output at step 0 (Δ^0 = 0) and no gate of step 0
    close(grads["h"], sum(p(f"W_h{g}").T @ dv(f"{g}_bar", 1) for g in "gifo"))
    close(grads["c"], p("p_i") * dv("i_bar", 1) + p("p_f") * dv("f_bar", 1) + dv("c", 1) * v("f", 1))


@pytest.mark.parametrize("cell", ["gru", "gru-cho"])
def test_gru_forward_equations_match_the_papers(cell):
    d = symrnn.derive(cell)
    pt = Point(d, seed=4)
    p, v = pt.p, pt.v
    for t in range(1, T + 1):
        x, h_prev = v("x", t), v("h", t - 1)
        if cell == "gru":  # Chung et al. 2014, eqs. 5-8 (with one bias per gate)
            z = sigmoid(p("W_xz") @ x + p("W_hz") @ h_prev + p("b_z"))
            r = sigmoid(p("W_xr") @ x + p("W_hr") @ h_prev + p("b_r"))
            h_tilde = np.tanh(p("W_xh") @ x + p("W_hh") @ (r * h_prev) + p("b_h"))
            h = (1 - z) * h_prev + z * h_tilde
        else:  # Cho et al. 2014, eqs. 5-8: z keeps the old state, U (r ⊙ h_{t-1})
            r = sigmoid(p("W_r") @ x + p("U_r") @ h_prev + p("b_r"))
            z = sigmoid(p("W_z") @ x + p("U_z") @ h_prev + p("b_z"))
            h_tilde = np.tanh(p("W") @ x + p("U") @ (r * h_prev) + p("b"))
            h = z * h_prev + (1 - z) * h_tilde
        close(v("h", t), h)


@pytest.mark.parametrize("cell", ["gru", "gru-cho"])
def test_gru_backward_equations_match_the_standard_derivation(cell):
    d = symrnn.derive(cell)
    pt = Point(d, seed=5)
    t = 2
    ours = pt.backward_at(t)
    v, dv, p = pt.v, pt.dv, pt.p
    names = (
        {"Wz": "W_hz", "Wr": "W_hr", "Wh": "W_hh", "Xh": "W_xh"}
        if cell == "gru"
        else {"Wz": "U_z", "Wr": "U_r", "Wh": "U", "Xh": "W"}
    )
    keep = (lambda z: 1 - z) if cell == "gru" else (lambda z: z)  # the share of h_{t-1} in h_t
    z, h_tilde, h_prev = v("z", t), v("h_tilde", t), v("h", t - 1)
    delta_h = (
        p("W_y").T @ (v("y_hat", t) - v("y", t))
        + dv("h", t + 1) * keep(v("z", t + 1))
        + p(names["Wz"]).T @ dv("z_bar", t + 1)
        + p(names["Wr"]).T @ dv("r_bar", t + 1)
        + v("r", t + 1) * (p(names["Wh"]).T @ dv("h_tilde_bar", t + 1))
    )
    new = 1 - keep(z)  # the share of the candidate
    delta_cand = delta_h * new * dtanh(v("h_tilde_bar", t))
    sign = 1 if cell == "gru" else -1  # ∂h/∂z = ±(h̃ − h_{t-1})
    delta_z = delta_h * sign * (h_tilde - h_prev) * dsigmoid(v("z_bar", t))
    delta_r = (p(names["Wh"]).T @ delta_cand) * h_prev * dsigmoid(v("r_bar", t))
    close(ours["h"], delta_h)
    close(ours["h_tilde_bar"], delta_cand)
    close(ours["z_bar"], delta_z)
    close(ours["r_bar"], delta_r)
    grads = _param_grads(pt)
    close(grads[names["Wh"]], sum(dv("h_tilde_bar", s) @ (v("r", s) * v("h", s - 1)).T for s in range(1, T + 1)))
    close(grads[names["Xh"]], sum(dv("h_tilde_bar", s) @ v("x", s).T for s in range(1, T + 1)))


@pytest.mark.parametrize("cell", ["lstm-peephole", "gru", "gru-cho"])
def test_the_checked_equations_are_the_exported_ones(cell):
    with open(os.path.join(DERIVATIONS, f"{cell}.md"), encoding="utf-8") as f:
        exported = f.read()
    d = symrnn.derive(cell)
    for eq in d.backward + d.param_grads:
        lhs, rhs = eq.latex().split(" = ", 1)
        assert lhs in exported
        for term in rhs.split(" + "):
            assert term in exported, (eq.text(), term)
