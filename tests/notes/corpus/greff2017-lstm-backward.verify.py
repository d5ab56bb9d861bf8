"""greff2017-lstm-backward: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "greff2017-lstm-backward"


def main() -> int:
    gen = torch.Generator().manual_seed(2017)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.6

    M, N, T = 2, 3, 4
    W = {k: rand(N, M) for k in "zifo"}
    R = {k: rand(N, N) for k in "zifo"}
    b = {k: rand(N, 1) for k in "zifo"}
    p = {k: rand(N, 1) for k in "ifo"}
    leaves = list(W.values()) + list(R.values()) + list(b.values()) + list(p.values())
    for v in leaves:
        v.requires_grad_(True)
    xs = [rand(M, 1).requires_grad_(True) for _ in range(T)]
    A, B = [rand(N, 1) for _ in range(T)], [rand(N, 1) for _ in range(T)]

    def E_t(t, y):  # a generic smooth per-step error
        return (A[t] * torch.log(torch.cosh(y)) + B[t] * y).sum()

    sig = torch.sigmoid
    y_prev, c_prev = rand(N, 1), rand(N, 1)
    ys, cs = [y_prev], [c_prev]
    acts = {k: [] for k in "zifo"}
    bars = {k: [] for k in "zifo"}
    probes = {k: [] for k in ["z", "i", "f", "o", "c", "y"]}
    E = 0.0
    for t in range(T):
        pr = {k: probe(N) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        zb = W["z"] @ xs[t] + R["z"] @ y_prev + b["z"] + pr["z"]
        ib = W["i"] @ xs[t] + R["i"] @ y_prev + p["i"] * c_prev + b["i"] + pr["i"]
        fb = W["f"] @ xs[t] + R["f"] @ y_prev + p["f"] * c_prev + b["f"] + pr["f"]
        z, i, f = torch.tanh(zb), sig(ib), sig(fb)
        c = z * i + c_prev * f + pr["c"]
        ob = W["o"] @ xs[t] + R["o"] @ y_prev + p["o"] * c + b["o"] + pr["o"]
        o = sig(ob)
        y = torch.tanh(c) * o + pr["y"]
        for k, v, vb in (("z", z, zb), ("i", i, ib), ("f", f, fb), ("o", o, ob)):
            acts[k].append(v.detach())
            bars[k].append(vb.detach())
        E = E + E_t(t, y)
        ys.append(y)
        cs.append(c)
        y_prev, c_prev = y, c
    order = ["z", "i", "f", "o", "c", "y"]
    wrt = leaves + xs + [v for k in order for v in probes[k]]
    grads = torch.autograd.grad(E, wrt)
    nl = len(leaves)
    gW = dict(zip("zifo", grads[0:4], strict=True))
    gR = dict(zip("zifo", grads[4:8], strict=True))
    gb = dict(zip("zifo", grads[8:12], strict=True))
    gp = dict(zip("ifo", grads[12:15], strict=True))
    dx = grads[nl : nl + T]
    rest = grads[nl + T :]
    d = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate(order)}
    zero = torch.zeros(N, 1, dtype=torch.float64)
    for k in order:
        d[k].append(zero)  # index T (step T+1) is zero
    yd = [v.detach() for v in ys]  # yd[t] = y^t, t = 0..T
    cd = [v.detach() for v in cs]
    Wd = {k: v.detach() for k, v in W.items()}
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
            33,
            "holds",
            r"\delta y^t = \Delta^t",
            "delta y^t",
            st(d["y"][:T]),
            st([Delta[t] + sum(Rd[k].T @ d[k][t + 1] for k in "zifo") for t in rng]),
        ),
        (
            35,
            "holds",
            r"\delta \bar o^t =",
            "delta o-bar^t",
            st(d["o"][:T]),
            st([d["y"][t] * torch.tanh(cd[t + 1]) * dsig(bars["o"][t]) for t in rng]),
        ),
        (
            37,
            "wrong",
            r"\delta c^t =",
            "delta c^t",
            st(d["c"][:T]),
            st(
                [
                    d["y"][t] * acts["o"][t] * dtanh(cd[t + 1])
                    + pd["o"] * d["o"][t]
                    + pd["i"] * d["i"][t + 1]
                    + pd["f"] * d["f"][t + 1]
                    + d["c"][t + 1] * acts["f"][t]
                    for t in rng
                ]
            ),
        ),
        (
            39,
            "holds",
            r"\delta \bar f^t =",
            "delta f-bar^t",
            st(d["f"][:T]),
            st([d["c"][t] * cd[t] * dsig(bars["f"][t]) for t in rng]),
        ),
        (
            41,
            "holds",
            r"\delta \bar i^t =",
            "delta i-bar^t",
            st(d["i"][:T]),
            st([d["c"][t] * acts["z"][t] * dsig(bars["i"][t]) for t in rng]),
        ),
        (
            43,
            "wrong",
            r"\delta \bar z^t =",
            "delta z-bar^t",
            st(d["z"][:T]),
            st([d["c"][t] * acts["i"][t] * torch.tanh(bars["z"][t]) for t in rng]),
        ),
        (47, "holds", r"\delta x^t =", "delta x^t", st(dx), st([sum(Wd[k].T @ d[k][t] for k in "zifo") for t in rng])),
        (53, "holds", r"\delta W_z =", "delta W_z", gW["z"], sum(d["z"][t] @ xs[t].detach().T for t in rng)),
        (55, "holds", r"\delta R_i =", "delta R_i", gR["i"], sum(d["i"][t] @ yd[t].T for t in rng)),
        (57, "holds", r"\delta b_f =", "delta b_f", gb["f"], sum(d["f"][t] for t in rng)),
        (59, "holds", r"\delta p_o =", "delta p_o", gp["o"], sum(cd[t + 1] * d["o"][t] for t in rng)),
        (61, "wrong", r"\delta p_f =", "delta p_f", gp["f"], sum(cd[t + 1] * d["f"][t] for t in rng)),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
