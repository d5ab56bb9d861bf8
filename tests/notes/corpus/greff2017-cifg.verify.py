"""greff2017-cifg: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "greff2017-cifg"


def main() -> int:
    gen = torch.Generator().manual_seed(31)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.6

    M, N, T = 3, 2, 4
    W = {k: rand(N, M) for k in "zio"}
    R = {k: rand(N, N) for k in "zio"}
    b = {k: rand(N, 1) for k in "zio"}
    leaves = [W["z"], W["i"], W["o"], R["z"], R["i"], R["o"], b["z"], b["i"], b["o"]]
    for v in leaves:
        v.requires_grad_(True)
    xs = [rand(M, 1) for _ in range(T)]
    A, B = [rand(N, 1) for _ in range(T)], [rand(N, 1) for _ in range(T)]

    def E_t(t, y):
        return (A[t] * torch.log(torch.cosh(y)) + B[t] * y).sum()

    sig = torch.sigmoid
    y0, c0 = rand(N, 1).requires_grad_(True), rand(N, 1).requires_grad_(True)
    y_prev, c_prev = y0, c0
    cs, ys = [c0.detach()], [y0.detach()]
    acts = {k: [] for k in "zio"}
    bars = {k: [] for k in "zio"}
    probes = {k: [] for k in "zioyc"}
    E = 0.0
    for t in range(T):
        pr = {k: probe(N) for k in "zioyc"}
        for k in pr:
            probes[k].append(pr[k])
        zb = W["z"] @ xs[t] + R["z"] @ y_prev + b["z"] + pr["z"]
        ib = W["i"] @ xs[t] + R["i"] @ y_prev + b["i"] + pr["i"]
        ob = W["o"] @ xs[t] + R["o"] @ y_prev + b["o"] + pr["o"]
        z, i, o = torch.tanh(zb), sig(ib), sig(ob)
        c = z * i + c_prev * (1 - i) + pr["c"]
        y = torch.tanh(c) * o + pr["y"]
        for k, v, vb in (("z", z, zb), ("i", i, ib), ("o", o, ob)):
            acts[k].append(v.detach())
            bars[k].append(vb.detach())
        E = E + E_t(t, y)
        cs.append(c.detach())
        ys.append(y.detach())
        y_prev, c_prev = y, c
    wrt = leaves + [y0, c0] + [v for k in "zioyc" for v in probes[k]]
    grads = torch.autograd.grad(E, wrt)
    gR_o, gb_i, dy0, dc0 = grads[5], grads[7], grads[9], grads[10]
    rest = grads[11:]
    d = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate("zioyc")}
    zero = torch.zeros(N, 1, dtype=torch.float64)
    for k in d:
        d[k].append(zero)
    i_next = acts["i"][1:] + [zero]  # i^{t+1}; its term is multiplied by delta c^{T+1} = 0 at t = T
    Rd = {k: v.detach() for k, v in R.items()}
    Delta = []
    for t in range(T):
        y = ys[t + 1].clone().requires_grad_(True)
        Delta.append(torch.autograd.grad(E_t(t, y), y)[0])

    def dsig(v):
        return sig(v) * (1 - sig(v))

    def dtanh(v):
        return 1 - torch.tanh(v) ** 2

    st = torch.stack
    rng = range(T)
    claims = [
        (
            30,
            "holds",
            r"\delta y^t &= \Delta^t",
            "delta y^t",
            st(d["y"][:T]),
            st([Delta[t] + sum(Rd[k].T @ d[k][t + 1] for k in "zio") for t in rng]),
        ),
        (
            31,
            "holds",
            r"\delta \pre o^t &=",
            "delta o-bar^t",
            st(d["o"][:T]),
            st([d["y"][t] * torch.tanh(cs[t + 1]) * dsig(bars["o"][t]) for t in rng]),
        ),
        (
            32,
            "holds",
            r"\delta c^t &=",
            "delta c^t over a continuation row",
            st(d["c"][:T]),
            st([d["y"][t] * acts["o"][t] * dtanh(cs[t + 1]) + d["c"][t + 1] * (1 - i_next[t]) for t in rng]),
        ),
        (
            34,
            "holds",
            r"\delta \pre i^t &=",
            "delta i-bar^t with the coupled carry",
            st(d["i"][:T]),
            st([d["c"][t] * (acts["z"][t] - cs[t]) * dsig(bars["i"][t]) for t in rng]),
        ),
        (
            35,
            "wrong",
            r"\delta \pre z^t &=",
            "delta z-bar^t",
            st(d["z"][:T]),
            st([d["c"][t] * (1 - acts["i"][t]) * dtanh(bars["z"][t]) for t in rng]),
        ),
        (41, "holds", r"\delta y^0 &=", "delta y^0", dy0, sum(Rd[k].T @ d[k][0] for k in "zio")),
        (42, "wrong", r"\delta c^0 &=", "delta c^0", dc0, d["c"][0] * acts["i"][0]),
        (43, "holds", r"\delta R_o &=", "delta R_o", gR_o, sum(d["o"][t] @ ys[t].T for t in rng)),
        (44, "wrong", r"\delta b_i &=", "delta b_i", gb_i, sum(d["i"][t] for t in range(T - 1))),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
