"""gers2000-forget-bptt: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "gers2000-forget-bptt"


def main() -> int:
    gen = torch.Generator().manual_seed(12)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    D, H, K, T = 2, 3, 2, 4
    names = ("phi", "in", "out", "c")
    W = {k: rand(H, D) for k in names}
    U = {k: rand(H, H) for k in names}
    bb = {k: rand(H, 1) for k in names}
    W_k = rand(K, H)
    xs = [rand(D, 1).requires_grad_(True) for _ in range(T)]
    ds = [rand(K, 1) for _ in range(T)]
    sig = torch.sigmoid
    s0 = rand(H, 1).requires_grad_(True)
    s, yc = s0, rand(H, 1)
    S, Y, nets = [s0.detach()], {k: [] for k in names}, {k: [] for k in names}
    pn = {k: [] for k in names}
    ps, pyc, pyk = [], [], []
    E = 0.0
    for t in range(T):
        q = {k: probe(H) for k in names}
        net = {k: W[k] @ xs[t] + U[k] @ yc + bb[k] + q[k] for k in names}
        y_phi, y_in, y_out = sig(net["phi"]), sig(net["in"]), sig(net["out"])
        qs, qyc, qyk = probe(H), probe(H), probe(K)
        s = y_phi * s + y_in * torch.tanh(net["c"]) + qs
        yc = y_out * torch.tanh(s) + qyc
        yk = W_k @ yc + qyk
        E = E + 0.5 * ((yk - ds[t]) ** 2).sum() / T
        for k in names:
            pn[k].append(q[k])
            nets[k].append(net[k].detach())
        for k, v in (("phi", y_phi), ("in", y_in), ("out", y_out)):
            Y[k].append(v.detach())
        ps.append(qs)
        pyc.append(qyc)
        pyk.append(qyk)
        S.append(s.detach())
        Y.setdefault("k", []).append(yk.detach())
    wrt = [s0] + xs + ps + pyc + pyk + [v for k in names for v in pn[k]]
    grads = torch.autograd.grad(E, wrt)
    ds0 = grads[0]
    dx = grads[1 : 1 + T]
    dS = list(grads[1 + T : 1 + 2 * T])
    dyc = grads[1 + 2 * T : 1 + 3 * T]
    dyk = grads[1 + 3 * T : 1 + 4 * T]
    rest = grads[1 + 4 * T :]
    dn = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate(names)}
    zero = torch.zeros(H, 1, dtype=torch.float64)
    for k in names:
        dn[k].append(zero)
    dS.append(zero)
    phi_next = Y["phi"][1:] + [zero]

    def dsig(v):
        return sig(v) * (1 - sig(v))

    st = torch.stack
    rng = range(T)
    claims = [
        (
            29,
            "holds",
            r"\partial y^k(t)} = \frac{1}{T}",
            "dE/dy^k(t) with the 1/T",
            st(list(dyk)),
            st([(Y["k"][t] - ds[t]) / T for t in rng]),
        ),
        (
            31,
            "wrong",
            r"\partial y^c(t)} = W_k^\top",
            "dE/dy^c(t)",
            st(list(dyc)),
            st([W_k.T @ (Y["k"][t] - ds[t]) + sum(U[k].T @ dn[k][t + 1] for k in names) for t in rng]),
        ),
        (
            33,
            "holds",
            r"\partial s_c(t)} =",
            "dE/ds_c(t)",
            st(dS[:T]),
            st([dyc[t] * Y["out"][t] * (1 - torch.tanh(S[t + 1]) ** 2) + dS[t + 1] * phi_next[t] for t in rng]),
        ),
        (
            35,
            "holds",
            r"\partial net_\varphi(t)} =",
            "dE/dnet_phi(t)",
            st(dn["phi"][:T]),
            st([dS[t] * S[t] * dsig(nets["phi"][t]) for t in rng]),
        ),
        (37, "holds", r"\partial s_c(0)} =", "dE/ds_c(0)", ds0, dS[0] * Y["phi"][0]),
        (
            39,
            "wrong",
            r"\partial x(t)} = W_\varphi^\top",
            "dE/dx(t)",
            st(list(dx)),
            st([sum(W[k].T @ dn[k][t] for k in ("phi", "in", "c")) for t in rng]),
        ),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
