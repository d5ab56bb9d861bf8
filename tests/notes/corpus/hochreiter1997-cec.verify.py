"""hochreiter1997-cec: every claim of the note recomputed with torch autograd in float64.

The note's unit-wise claims are compared for every unit at once: entry j of a vector is unit j.
"""

import sys

import torch
from _harness import probe, report

SLUG = "hochreiter1997-cec"


def main() -> int:
    gen = torch.Generator().manual_seed(1997)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.8

    D, J, K, T = 2, 3, 2, 5
    Wx = {k: rand(J, D) for k in ("in", "out", "c")}  # w_{in_j u}, w_{out_j u}, w_{c_j u}
    Wc = {k: rand(J, J) for k in ("in", "out", "c")}  # w_{in_j c_l}, ...
    W_k = rand(K, J)  # w_{k c_j}
    for p in (W_k, Wc["c"]):
        p.requires_grad_(True)
    xs = [rand(D, 1) for _ in range(T)]
    targets = [torch.rand(K, 1, generator=gen, dtype=torch.float64) for _ in range(T)]
    sig = torch.sigmoid

    def g(a):
        return 4 * sig(a) - 2

    def h(a):
        return 2 * sig(a) - 1

    s = torch.zeros(J, 1, dtype=torch.float64)
    yc = torch.zeros(J, 1, dtype=torch.float64)
    rec = {k: [] for k in ("net_in", "net_out", "net_c", "s", "yc", "y_out", "net_k", "y_k")}
    probes = {k: [] for k in ("net_in", "net_out", "net_c", "s", "yc", "net_k")}
    E = 0.0
    yc_list = [yc]
    for t in range(T):
        pr = {k: probe(K if k == "net_k" else J) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        n_in = Wx["in"] @ xs[t] + Wc["in"] @ yc + pr["net_in"]
        n_out = Wx["out"] @ xs[t] + Wc["out"] @ yc + pr["net_out"]
        n_c = Wx["c"] @ xs[t] + Wc["c"] @ yc + pr["net_c"]
        y_in, y_out = sig(n_in), sig(n_out)
        s = s + y_in * g(n_c) + pr["s"]
        yc = y_out * h(s) + pr["yc"]
        n_k = W_k @ yc + pr["net_k"]
        y_k = sig(n_k)
        E = E + 0.5 * ((targets[t] - y_k) ** 2).sum()
        for k, val in (
            ("net_in", n_in),
            ("net_out", n_out),
            ("net_c", n_c),
            ("s", s),
            ("yc", yc),
            ("y_out", y_out),
            ("net_k", n_k),
            ("y_k", y_k),
        ):
            rec[k].append(val.detach())
        yc_list.append(yc.detach())
    names = list(probes)
    grads = torch.autograd.grad(E, [W_k, Wc["c"]] + [q for k in names for q in probes[k]])
    gW_k, gW_cc = grads[:2]
    rest = grads[2:]
    d = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate(names)}
    zJ = torch.zeros(J, 1, dtype=torch.float64)
    for k in names:
        d[k].append(zJ)

    def dsig(a):
        return sig(a) * (1 - sig(a))

    e = [dsig(rec["net_k"][t]) * (targets[t] - rec["y_k"][t]) for t in range(T)]
    Wk = W_k.detach()
    st = torch.stack
    rng = range(T)
    claims = [
        (43, "holds", r"net_k(t)} = -e_k(t)", "dE/dnet_k = -e_k", st(d["net_k"][:T]), st([-e[t] for t in rng])),
        (45, "holds", r"w_{k c_j}} = -\sum", "dE/dw_{k c_j}", gW_k, sum(-e[t] @ rec["yc"][t].T for t in rng)),
        (
            47,
            "holds",
            r"y^{c_j}(t)} = -\sum_{k}",
            "dE/dy^{c_j}(t)",
            st(d["yc"][:T]),
            st(
                [
                    -Wk.T @ e[t]
                    + Wc["in"].T @ d["net_in"][t + 1]
                    + Wc["out"].T @ d["net_out"][t + 1]
                    + Wc["c"].detach().T @ d["net_c"][t + 1]
                    for t in rng
                ]
            ),
        ),
        (
            51,
            "holds",
            r"s_{c_j}(t)} = \frac{\partial E}{\partial s_{c_j}(t+1)}",
            "dE/ds_{c_j}(t), the CEC",
            st(d["s"][:T]),
            st([d["s"][t + 1] + d["yc"][t] * rec["y_out"][t] * 2 * dsig(rec["s"][t]) for t in rng]),
        ),
        (
            53,
            "wrong",
            r"net_{c_j}(t)} =",
            "dE/dnet_{c_j}(t)",
            st(d["net_c"][:T]),
            st([d["s"][t] * 4 * dsig(rec["net_c"][t]) for t in rng]),
        ),
        (
            55,
            "holds",
            r"net_{in_j}(t)} =",
            "dE/dnet_{in_j}(t)",
            st(d["net_in"][:T]),
            st([d["s"][t] * g(rec["net_c"][t]) * dsig(rec["net_in"][t]) for t in rng]),
        ),
        (
            57,
            "wrong",
            r"net_{out_j}(t)} =",
            "dE/dnet_{out_j}(t)",
            st(d["net_out"][:T]),
            st([d["yc"][t] * h(rec["s"][t]) * sig(rec["net_out"][t]) for t in rng]),
        ),
        (
            59,
            "wrong",
            r"w_{c_j c_l}} = \sum",
            "dE/dw_{c_j c_l}",
            gW_cc,
            sum(d["net_c"][t] @ yc_list[t + 1].T for t in rng),
        ),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
