"""gers2000-forget-rtrl: every claim of the note recomputed with torch autograd in float64.

The note's partials ds_{c_j}(t)/dw_{c_j m} are entries [j, m] of the gradient of sum_j s_{c_j}(t)
with respect to the weight matrix: a weight of block j reaches no other block's state.
"""

import sys

import torch
from _harness import report

SLUG = "gers2000-forget-rtrl"


def main() -> int:
    gen = torch.Generator().manual_seed(2000)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.8

    M, J, K, T = 3, 2, 2, 5  # M inputs including the bias unit y^0 = 1
    W = {k: rand(J, M).requires_grad_(True) for k in ("phi", "in", "out", "c")}
    W_k = rand(K, J)
    ys_in = [torch.cat([torch.ones(1, 1, dtype=torch.float64), rand(M - 1, 1)]) for _ in range(T)]
    targets = [torch.rand(K, 1, generator=gen, dtype=torch.float64) for _ in range(T)]
    sig = torch.sigmoid
    s = torch.zeros(J, 1, dtype=torch.float64)
    rec = {k: [] for k in ("phi", "in", "out", "net_c", "net_in", "net_phi", "s", "yk", "netk")}
    states = [s]
    E = 0.0
    for t in range(T):
        n_phi, n_in, n_out, n_c = (W[k] @ ys_in[t] for k in ("phi", "in", "out", "c"))
        y_phi, y_in, y_out = sig(n_phi), sig(n_in), sig(n_out)
        s = y_phi * s + y_in * 2 * torch.tanh(n_c)
        y_c = y_out * torch.tanh(s)
        net_k = W_k @ y_c
        y_k = sig(net_k)
        E = E + 0.5 * ((targets[t] - y_k) ** 2).sum()
        states.append(s)
        for k, v in (
            ("phi", y_phi),
            ("in", y_in),
            ("out", y_out),
            ("net_c", n_c),
            ("net_in", n_in),
            ("net_phi", n_phi),
            ("s", s),
            ("yk", y_k),
            ("netk", net_k),
        ):
            rec[k].append(v.detach())
    gE_c = torch.autograd.grad(E, W["c"], retain_graph=True)[0]
    zero = torch.zeros(J, M, dtype=torch.float64)
    dS = {k: [zero] for k in ("c", "in", "phi", "out")}  # dS[k][t][j, m] = ds_{c_j}(t)/dw_{k_j m}, t = 0..T
    for t in range(1, T + 1):
        gs = torch.autograd.grad(
            states[t].sum(), [W[k] for k in ("c", "in", "phi", "out")], retain_graph=True, allow_unused=True
        )
        for k, gk in zip(("c", "in", "phi", "out"), gs, strict=True):
            dS[k].append(zero if gk is None else gk)

    def dsig(a):
        return sig(a) * (1 - sig(a))

    def ym(t):  # y^m(t) as a row (1, M)
        return ys_in[t].T

    sp = [torch.zeros(J, 1, dtype=torch.float64)] + rec["s"]  # sp[t] = s(t), t = 0..T
    eps = [
        rec["out"][t]
        * (1 - torch.tanh(rec["s"][t]) ** 2)
        * (W_k.T @ (dsig(rec["netk"][t]) * (rec["yk"][t] - targets[t])))
        for t in range(T)
    ]
    st = torch.stack
    rng = range(T)  # 0-based step index; the note's t is t + 1
    claims = [
        (
            31,
            "holds",
            r"{\partial w_{c_j m}} = \frac{\partial s_{c_j}(t-1)}",
            "ds/dw_c forward recursion",
            st(dS["c"][1:]),
            st(
                [
                    dS["c"][t] * rec["phi"][t] + 2 * (1 - torch.tanh(rec["net_c"][t]) ** 2) * rec["in"][t] * ym(t)
                    for t in rng
                ]
            ),
        ),
        (
            33,
            "wrong",
            r"{\partial w_{in_j m}} = \frac{\partial s_{c_j}(t-1)}",
            "ds/dw_in forward recursion",
            st(dS["in"][1:]),
            st(
                [
                    dS["in"][t] * (rec["phi"][t - 1] if t > 0 else torch.zeros(J, 1, dtype=torch.float64))
                    + 2 * torch.tanh(rec["net_c"][t]) * dsig(rec["net_in"][t]) * ym(t)
                    for t in rng
                ]
            ),
        ),
        (
            35,
            "wrong",
            r"{\partial w_{\varphi_j m}} = \frac{\partial s_{c_j}(t-1)}",
            "ds/dw_phi forward recursion",
            st(dS["phi"][1:]),
            st([dS["phi"][t] * rec["phi"][t] + sp[t + 1] * dsig(rec["net_phi"][t]) * ym(t) for t in rng]),
        ),
        (
            44,
            "holds",
            r"\partial w_{c_j m}} = \sum_{t=1}^{T} \epsilon_{s_j}(t)",
            "dE/dw_c from carried partials",
            gE_c,
            sum(eps[t] * dS["c"][t + 1] for t in rng),
        ),
        (
            48,
            "holds",
            r"{\partial w_{out_j m}} = 0",
            "ds/dw_out = 0",
            st(dS["out"][1:]),
            torch.zeros(T, J, M, dtype=torch.float64),
        ),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
