"""cho2014-gru-encoder: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "cho2014-gru-encoder"


def main() -> int:
    gen = torch.Generator().manual_seed(2014)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    D, H, C, N = 2, 3, 2, 4
    W, U, W_r, U_r, W_z, U_z, V = rand(H, D), rand(H, H), rand(H, D), rand(H, H), rand(H, D), rand(H, H), rand(C, H)
    params = [W, U, W_r, U_r, W_z, U_z]
    for p in params:
        p.requires_grad_(True)
    xs = [rand(D, 1) for _ in range(N)]
    d = rand(C, 1)
    sig = torch.sigmoid
    h = rand(H, 1)
    hs, rs, zs, hts = [h], [], [], []
    probes = {k: [] for k in ["h", "ht", "z", "r", "a"]}
    for t in range(N):
        pr = {k: probe(H) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        rbar = W_r @ xs[t] + U_r @ h + pr["r"]
        zbar = W_z @ xs[t] + U_z @ h + pr["z"]
        r, z = sig(rbar), sig(zbar)
        abar = W @ xs[t] + U @ (r * h) + pr["a"]
        ht = torch.tanh(abar) + pr["ht"]
        h = z * h + (1 - z) * ht + pr["h"]
        hs.append(h.detach())
        rs.append(r.detach())
        zs.append(z.detach())
        hts.append(ht.detach())
    c = torch.tanh(V @ h)
    L = 0.5 * ((c - d) ** 2).sum()
    h0 = hs[0]
    grads = torch.autograd.grad(L, params + [v for k in probes for v in probes[k]])
    gW, gU, _, _, _, gU_z = grads[:6]
    rest = grads[6:]
    g = {k: list(rest[j * N : (j + 1) * N]) for j, k in enumerate(probes)}
    cd = c.detach()
    Ud, U_zd, U_rd = U.detach(), U_z.detach(), U_r.detach()
    # dL/dh^{<t-1>} for t = 2..N comes from the probes; dL/dh^{<0>} from a second pass with h^{<0>} a leaf
    h0_leaf = h0.clone().requires_grad_(True)
    hh = h0_leaf
    for t in range(N):
        r = sig(W_r.detach() @ xs[t] + U_rd @ hh)
        z = sig(W_z.detach() @ xs[t] + U_zd @ hh)
        hh = z * hh + (1 - z) * torch.tanh(W.detach() @ xs[t] + Ud @ (r * hh))
    (dh0,) = torch.autograd.grad(0.5 * ((torch.tanh(V @ hh) - d) ** 2).sum(), h0_leaf)
    dh_prev = [dh0] + g["h"][: N - 1]

    st = torch.stack
    rng = range(N)
    claims = [
        (33, "holds", r"h^{\langle N \rangle}} = V^\top", "dL/dh^<N>", g["h"][N - 1], V.T @ ((1 - cd * cd) * (cd - d))),
        (
            37,
            "holds",
            r"\tilde h_j^{\langle t \rangle}} = (1 - z_j",
            "dL/dh~_j unit by unit",
            st(g["ht"]),
            st([(1 - zs[t]) * g["h"][t] for t in rng]),
        ),
        (
            39,
            "wrong",
            r"\bar z^{\langle t \rangle}} =",
            "dL/dz-bar",
            st(g["z"]),
            st([g["h"][t] * (hts[t] - hs[t]) * zs[t] * (1 - zs[t]) for t in rng]),
        ),
        (
            41,
            "wrong",
            r"\bar r^{\langle t \rangle}} =",
            "dL/dr-bar",
            st(g["r"]),
            st([(Ud.T @ g["a"][t]) * hs[t + 1] * rs[t] * (1 - rs[t]) for t in rng]),
        ),
        (
            45,
            "holds",
            r"h^{\langle t-1 \rangle}} = z^{\langle t \rangle}",
            "dL/dh^<t-1>, four paths",
            st(dh_prev),
            st([zs[t] * g["h"][t] + rs[t] * (Ud.T @ g["a"][t]) + U_zd.T @ g["z"][t] + U_rd.T @ g["r"][t] for t in rng]),
        ),
        (49, "holds", r"\partial W} = \sum", "dL/dW", gW, sum(g["a"][t] @ xs[t].T for t in rng)),
        (51, "wrong", r"\partial U} = \sum", "dL/dU", gU, sum(g["a"][t] @ hs[t].T for t in rng)),
        (53, "holds", r"\partial U_z} = \sum", "dL/dU_z", gU_z, sum(g["z"][t] @ hs[t].T for t in rng)),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
