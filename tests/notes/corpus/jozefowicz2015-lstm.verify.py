"""jozefowicz2015-lstm: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "jozefowicz2015-lstm"


def main() -> int:
    gen = torch.Generator().manual_seed(2015)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    D, H, K, T = 2, 3, 4, 4
    Wx = {k: rand(H, D) for k in "ijfo"}
    Wh = {k: rand(H, H) for k in "ijfo"}
    bb = {k: rand(H, 1) for k in "ijfo"}
    bb["f"] = torch.ones(H, 1, dtype=torch.float64)  # the paper's forget bias
    W_y = rand(K, H)
    bb["f"].requires_grad_(True)
    xs = [rand(D, 1) for _ in range(T)]
    ks = torch.randint(0, K, (T,), generator=gen).tolist()
    sig = torch.sigmoid
    h, c = rand(H, 1), rand(H, 1)
    cs, gates, ps = [c], {k: [] for k in "ijfo"}, []
    probes = {k: [] for k in ("i", "j", "f", "o", "c", "h")}
    L = 0.0
    for t in range(T):
        pr = {k: probe(H) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        u = {k: Wx[k] @ xs[t] + Wh[k] @ h + bb[k] + pr[k] for k in "ijfo"}
        i, j, f, o = torch.tanh(u["i"]), sig(u["j"]), sig(u["f"]), sig(u["o"])
        c = c * f + i * j + pr["c"]
        h = torch.tanh(c) * o + pr["h"]
        p = torch.softmax(W_y @ h, dim=0)
        L = L - torch.log(p[ks[t], 0])
        for k, v in (("i", i), ("j", j), ("f", f), ("o", o)):
            gates[k].append(v.detach())
        cs.append(c.detach())
        ps.append(p.detach())
    names = list(probes)
    grads = torch.autograd.grad(L, [bb["f"]] + [v for k in names for v in probes[k]])
    gb_f = grads[0]
    d = {k: list(grads[1 + n * T : 1 + (n + 1) * T]) for n, k in enumerate(names)}
    zero = torch.zeros(H, 1, dtype=torch.float64)
    for k in names:
        d[k].append(zero)
    f_next = gates["f"][1:] + [zero]
    eye = torch.eye(K, dtype=torch.float64)
    st = torch.stack
    rng = range(T)
    claims = [
        (
            31,
            "wrong",
            r"\delta_{h_t} = W_y^\top",
            "delta_{h_t}",
            st(d["h"][:T]),
            st([W_y.T @ (ps[t] - eye[:, ks[t] : ks[t] + 1]) + sum(Wh[k].T @ d[k][t + 1] for k in "ijf") for t in rng]),
        ),
        (
            33,
            "holds",
            r"\delta_{c_t} =",
            "delta_{c_t}",
            st(d["c"][:T]),
            st([d["h"][t] * gates["o"][t] * (1 - torch.tanh(cs[t + 1]) ** 2) + d["c"][t + 1] * f_next[t] for t in rng]),
        ),
        (
            35,
            "holds",
            r"\delta_{u^i_t} =",
            "delta_{u^i_t}",
            st(d["i"][:T]),
            st([d["c"][t] * gates["j"][t] * (1 - gates["i"][t] ** 2) for t in rng]),
        ),
        (
            37,
            "wrong",
            r"\delta_{u^j_t} =",
            "delta_{u^j_t}",
            st(d["j"][:T]),
            st([d["c"][t] * gates["j"][t] * gates["j"][t] * (1 - gates["j"][t]) for t in rng]),
        ),
        (
            39,
            "holds",
            r"\delta_{u^f_t} =",
            "delta_{u^f_t}",
            st(d["f"][:T]),
            st([d["c"][t] * cs[t] * gates["f"][t] * (1 - gates["f"][t]) for t in rng]),
        ),
        (41, "holds", r"\delta_{b_f} = \sum", "delta_{b_f}", gb_f, sum(d["f"][t] for t in rng)),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
