"""ng-lstm-backward: every claim of the notebook recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "ng-lstm-backward"


def main() -> int:
    gen = torch.Generator().manual_seed(5)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    n_a, n_x, n_y, T = 3, 3, 4, 4  # n_x = n_a so that a wrong block still has the right shape
    Wg = {k: rand(n_a, n_a + n_x) for k in "fuco"}
    bg = {k: rand(n_a, 1) for k in "fuco"}
    W_y, b_y = rand(n_y, n_a), rand(n_y, 1)
    for p in (Wg["f"], bg["o"]):
        p.requires_grad_(True)
    xs = [rand(n_x, 1).requires_grad_(True) for _ in range(T)]
    eye = torch.eye(n_y, dtype=torch.float64)
    ys = [eye[:, k : k + 1] for k in torch.randint(0, n_y, (T,), generator=gen).tolist()]
    sig = torch.sigmoid
    a0, c0 = rand(n_a, 1).requires_grad_(True), rand(n_a, 1)
    a, c = a0, c0
    A, C, G, yhat, stacks = [a0.detach()], [c0], {k: [] for k in "fuco"}, [], []
    probes = {k: [] for k in ("zf", "zu", "zc", "zo", "a", "c")}
    J = 0.0
    for t in range(T):
        pr = {k: probe(n_a) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        ax = torch.cat([a, xs[t]])
        stacks.append(ax.detach())
        gf = sig(Wg["f"] @ ax + bg["f"] + pr["zf"])
        gu = sig(Wg["u"] @ ax + bg["u"] + pr["zu"])
        ct = torch.tanh(Wg["c"] @ ax + bg["c"] + pr["zc"])
        c = gf * c + gu * ct + pr["c"]
        go = sig(Wg["o"] @ ax + bg["o"] + pr["zo"])
        a = go * torch.tanh(c) + pr["a"]
        p = torch.softmax(W_y @ a + b_y, dim=0)
        J = J - (ys[t] * torch.log(p)).sum()
        for k, v in (("f", gf), ("u", gu), ("c", ct), ("o", go)):
            G[k].append(v.detach())
        A.append(a.detach())
        C.append(c.detach())
        yhat.append(p.detach())
    names = list(probes)
    grads = torch.autograd.grad(J, [Wg["f"], bg["o"], a0] + xs + [v for k in names for v in probes[k]])
    dW_f, db_o, da0 = grads[:3]
    dx = grads[3 : 3 + T]
    rest = grads[3 + T :]
    d = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate(names)}
    zero = torch.zeros(n_a, 1, dtype=torch.float64)
    gf_next = G["f"][1:] + [zero]
    dc_total = d["c"] + [zero]
    # the note's definitions, 0-based step index t for the note's t + 1
    da_next = d["a"]
    dc_next = [gf_next[t] * dc_total[t + 1] for t in range(T)]
    dc_next_prev = [G["f"][t] * dc_total[t] for t in range(T)]  # dc_next^{<t-1>} for the note's t = t + 1
    blk = {k: (Wg[k].detach()[:, :n_a], Wg[k].detach()[:, n_a:]) for k in "fuco"}
    dG = {"f": d["zf"], "u": d["zu"], "c": d["zc"], "o": d["zo"]}
    th = [torch.tanh(C[t + 1]) for t in range(T)]

    def via_a(t):  # Γ_o (1 - tanh^2 c) da_next at step t
        return G["o"][t] * (1 - th[t] ** 2) * da_next[t]

    st = torch.stack
    rng = range(T)
    claims = [
        (
            80,
            "holds",
            r"\partial c^{\langle t \rangle}} = dc_{next}",
            "dJ/dc^<t>",
            st(d["c"]),
            st([dc_next[t] + via_a(t) for t in rng]),
        ),
        (
            82,
            "holds",
            r"d\Gamma_o^{\langle t \rangle} = da_{next}",
            "dGamma_o",
            st(dG["o"]),
            st([da_next[t] * th[t] * G["o"][t] * (1 - G["o"][t]) for t in rng]),
        ),
        (
            84,
            "holds",
            r"d\tilde{c}^{\langle t \rangle} = \left(",
            "dc~",
            st(dG["c"]),
            st([(dc_next[t] * G["u"][t] + via_a(t) * G["u"][t]) * (1 - G["c"][t] ** 2) for t in rng]),
        ),
        (
            86,
            "holds",
            r"d\Gamma_u^{\langle t \rangle} = \left(",
            "dGamma_u",
            st(dG["u"]),
            st([(dc_next[t] * G["c"][t] + via_a(t) * G["c"][t]) * G["u"][t] * (1 - G["u"][t]) for t in rng]),
        ),
        (
            88,
            "wrong",
            r"d\Gamma_f^{\langle t \rangle} = \left(",
            "dGamma_f",
            st(dG["f"]),
            st([(dc_next[t] * C[t + 1] + via_a(t) * C[t + 1]) * G["f"][t] * (1 - G["f"][t]) for t in rng]),
        ),
        (
            92,
            "wrong",
            r"dc_{next}^{\langle t-1 \rangle} =",
            "dc_next handed back",
            st(dc_next_prev),
            st([dc_next[t] * G["f"][t] + via_a(t) for t in rng]),
        ),
        (
            94,
            "holds",
            r"da_{next}^{\langle t-1 \rangle} = W_y^\top",
            "da_next handed back, t >= 2",
            st(da_next[: T - 1]),
            st([W_y.T @ (yhat[t - 1] - ys[t - 1]) + sum(blk[k][0].T @ dG[k][t] for k in "fuco") for t in range(1, T)]),
        ),
        (
            96,
            "wrong",
            r"dx^{\langle t \rangle} =",
            "dx^<t>",
            st(list(dx)),
            st([sum(blk[k][0].T @ dG[k][t] for k in "fuco") for t in rng]),
        ),
        (
            106,
            "holds",
            r"dW_f = \sum",
            "dW_f with the stacked [a; x]",
            dW_f,
            sum(dG["f"][t] @ stacks[t].T for t in rng),
        ),
        (108, "holds", r"db_o = \sum", "db_o", db_o, sum(dG["o"][t] for t in rng)),
        (110, "holds", r"da^{\langle 0 \rangle} =", "da^<0>", da0, sum(blk[k][0].T @ dG[k][0] for k in "fuco")),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
