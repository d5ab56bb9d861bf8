"""ng-gru-bptt: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "ng-gru-bptt"


def main() -> int:
    gen = torch.Generator().manual_seed(100)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    n_c, n_x, T = 3, 2, 4
    W = {k: rand(n_c, n_c + n_x) for k in "urc"}
    bb = {k: rand(n_c, 1) for k in "urc"}
    W_y, b_y = rand(1, n_c), rand(1, 1)
    for p in (W["u"], W["c"], b_y):
        p.requires_grad_(True)
    xs = [rand(n_x, 1) for _ in range(T)]
    ys = [torch.bernoulli(torch.full((1, 1), 0.5, dtype=torch.float64), generator=gen) for _ in range(T)]
    sig = torch.sigmoid
    c = rand(n_c, 1)
    cs, gu, gr, ct, yh, stacks = [c], [], [], [], [], []
    probes = {k: [] for k in ("c", "u", "r", "z")}
    L = 0.0
    for t in range(T):
        pr = {k: probe(n_c) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        cx = torch.cat([c, xs[t]])
        u = sig(W["u"] @ cx + bb["u"] + pr["u"])
        r = sig(W["r"] @ cx + bb["r"] + pr["r"])
        cand = torch.tanh(W["c"] @ torch.cat([r * c, xs[t]]) + bb["c"] + pr["z"])
        c = u * cand + (1 - u) * c + pr["c"]
        y = sig(W_y @ c + b_y)
        L = L - (ys[t] * torch.log(y) + (1 - ys[t]) * torch.log(1 - y)).sum()
        stacks.append(cx.detach())
        cs.append(c.detach())
        gu.append(u.detach())
        gr.append(r.detach())
        ct.append(cand.detach())
        yh.append(y.detach())
    cs[0] = cs[0].detach()
    names = list(probes)
    grads = torch.autograd.grad(L, [W["u"], W["c"], b_y] + [v for k in names for v in probes[k]])
    gW_u, gW_c, gb_y = grads[:3]
    d = {k: list(grads[3 + n * T : 3 + (n + 1) * T]) for n, k in enumerate(names)}
    zero = torch.zeros(n_c, 1, dtype=torch.float64)
    for k in names:
        d[k].append(zero)
    gr_next = gr[1:] + [zero]
    Wd = {k: v.detach() for k, v in W.items()}
    W_uc, W_rc, W_cc = Wd["u"][:, :n_c], Wd["r"][:, :n_c], Wd["c"][:, :n_c]
    st = torch.stack
    rng = range(T)
    claims = [
        (31, "holds", r"db_y = \sum", "db_y", gb_y, sum(yh[t] - ys[t] for t in rng)),
        (
            33,
            "wrong",
            r"dc^{<t>} = W_y^\top",
            "dc^<t>",
            st(d["c"][:T]),
            st(
                [
                    W_y.T @ (yh[t] - ys[t])
                    + d["c"][t + 1]
                    + W_uc.T @ d["u"][t + 1]
                    + W_rc.T @ d["r"][t + 1]
                    + gr_next[t] * (W_cc.T @ d["z"][t + 1])
                    for t in rng
                ]
            ),
        ),
        (35, "holds", r"dz_c^{<t>} =", "dz_c", st(d["z"][:T]), st([d["c"][t] * gu[t] * (1 - ct[t] ** 2) for t in rng])),
        (
            37,
            "holds",
            r"dz_u^{<t>} =",
            "dz_u",
            st(d["u"][:T]),
            st([d["c"][t] * (ct[t] - cs[t]) * gu[t] * (1 - gu[t]) for t in rng]),
        ),
        (
            39,
            "holds",
            r"dz_r^{<t>} =",
            "dz_r",
            st(d["r"][:T]),
            st([(W_cc.T @ d["z"][t]) * cs[t] * gr[t] * (1 - gr[t]) for t in rng]),
        ),
        (41, "holds", r"dW_u = \sum", "dW_u", gW_u, sum(d["u"][t] @ stacks[t].T for t in rng)),
        (43, "wrong", r"dW_c = \sum", "dW_c", gW_c, sum(d["z"][t] @ stacks[t].T for t in rng)),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
