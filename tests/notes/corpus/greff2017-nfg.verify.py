"""greff2017-nfg: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "greff2017-nfg"


def main() -> int:
    gen = torch.Generator().manual_seed(2018)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.6

    M, N, T = 2, 3, 4
    W = {k: rand(N, M).requires_grad_(True) for k in "zio"}
    R = {k: rand(N, N).requires_grad_(True) for k in "zio"}
    b = {k: rand(N, 1).requires_grad_(True) for k in "zio"}
    p = {k: rand(N, 1).requires_grad_(True) for k in "io"}
    xs = [rand(M, 1) for _ in range(T)]
    A, B = [rand(N, 1) for _ in range(T)], [rand(N, 1) for _ in range(T)]

    def E_t(t, y):  # a generic smooth per-step error
        return (A[t] * torch.log(torch.cosh(y)) + B[t] * y).sum()

    sig = torch.sigmoid
    y_prev, c_prev = rand(N, 1), rand(N, 1)
    ys, cs = [y_prev], [c_prev]
    acts = {k: [] for k in "zio"}
    bars = {k: [] for k in "zio"}
    order = ["z", "i", "o", "c", "y"]
    probes = {k: [] for k in order}
    E = 0.0
    for t in range(T):
        pr = {k: probe(N) for k in order}
        for k in order:
            probes[k].append(pr[k])
        zb = W["z"] @ xs[t] + R["z"] @ y_prev + b["z"] + pr["z"]
        ib = W["i"] @ xs[t] + R["i"] @ y_prev + p["i"] * c_prev + b["i"] + pr["i"]
        z, i = torch.tanh(zb), sig(ib)
        c = z * i + c_prev + pr["c"]
        ob = W["o"] @ xs[t] + R["o"] @ y_prev + p["o"] * c + b["o"] + pr["o"]
        o = sig(ob)
        y = torch.tanh(c) * o + pr["y"]
        for k, v, vb in (("z", z, zb), ("i", i, ib), ("o", o, ob)):
            acts[k].append(v.detach())
            bars[k].append(vb.detach())
        E = E + E_t(t, y)
        ys.append(y)
        cs.append(c)
        y_prev, c_prev = y, c
    wrt = [W["o"], R["z"], p["i"]] + [v for k in order for v in probes[k]]
    grads = torch.autograd.grad(E, wrt)
    gWo, gRz, gpi = grads[:3]
    rest = grads[3:]
    d = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate(order)}
    zero = torch.zeros(N, 1, dtype=torch.float64)
    for k in order:
        d[k].append(zero)  # index T (step T+1) is zero
    yd = [v.detach() for v in ys]  # yd[t] = y^t, t = 0..T
    cd = [v.detach() for v in cs]
    Rd = {k: v.detach() for k, v in R.items()}
    pd = {k: v.detach() for k, v in p.items()}
    Delta = []
    for t in range(T):
        y = yd[t + 1].clone().requires_grad_(True)
        Delta.append(torch.autograd.grad(E_t(t, y), y)[0])

    def dsig(v):
        return sig(v) * (1 - sig(v))

    def dtanh(v):
        return 1 - torch.tanh(v) ** 2

    st = torch.stack
    rng = range(T)  # 0-based: step t+1
    claims = [
        (
            25,
            "holds",
            r"\delta y^t = \Delta^t",
            "delta y^t",
            st(d["y"][:T]),
            st([Delta[t] + sum(Rd[k].T @ d[k][t + 1] for k in "zio") for t in rng]),
        ),
        (
            27,
            "holds",
            r"\delta \bar o^t =",
            "delta o-bar^t",
            st(d["o"][:T]),
            st([d["y"][t] * torch.tanh(cd[t + 1]) * dsig(bars["o"][t]) for t in rng]),
        ),
        (
            29,
            "wrong",
            r"\delta c^t =",
            "delta c^t",
            st(d["c"][:T]),
            st(
                [
                    d["y"][t] * acts["o"][t] * dtanh(cd[t + 1])
                    + pd["o"] * d["o"][t]
                    + pd["i"] * d["i"][t]
                    + d["c"][t + 1]
                    for t in rng
                ]
            ),
        ),
        (
            31,
            "holds",
            r"\delta \bar i^t =",
            "delta i-bar^t",
            st(d["i"][:T]),
            st([d["c"][t] * acts["z"][t] * dsig(bars["i"][t]) for t in rng]),
        ),
        (
            33,
            "holds",
            r"\delta \bar z^t =",
            "delta z-bar^t",
            st(d["z"][:T]),
            st([d["c"][t] * acts["i"][t] * dtanh(bars["z"][t]) for t in rng]),
        ),
        (37, "holds", r"\delta W_o =", "delta W_o", gWo, sum(d["o"][t] @ xs[t].T for t in rng)),
        (39, "wrong", r"\delta R_z =", "delta R_z", gRz, sum(d["z"][t + 1] @ yd[t + 1].T for t in range(T - 1))),
        (41, "holds", r"\delta p_i =", "delta p_i", gpi, sum(cd[t] * d["i"][t] for t in rng)),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
