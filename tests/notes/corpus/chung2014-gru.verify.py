"""chung2014-gru: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "chung2014-gru"


def main() -> int:
    gen = torch.Generator().manual_seed(1412)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    D, H, K, T = 2, 3, 4, 4
    W, U, W_z, U_z, W_r, U_r, V, b = (
        rand(H, D),
        rand(H, H),
        rand(H, D),
        rand(H, H),
        rand(H, D),
        rand(H, H),
        rand(K, H),
        rand(K, 1),
    )
    params = [V, U]
    for p in params:
        p.requires_grad_(True)
    xs = [rand(D, 1) for _ in range(T)]
    eye = torch.eye(K, dtype=torch.float64)
    ys = [eye[:, k : k + 1] for k in torch.randint(0, K, (T,), generator=gen).tolist()]
    sig = torch.sigmoid
    h0 = rand(H, 1).requires_grad_(True)
    h = h0
    hs, zs, rs, hts, os_ = [h0.detach()], [], [], [], []
    probes = {k: [] for k in ["h", "z", "r", "a"]}
    L = 0.0
    for t in range(T):
        pr = {k: probe(H) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        zhat = W_z @ xs[t] + U_z @ h + pr["z"]
        rhat = W_r @ xs[t] + U_r @ h + pr["r"]
        z, r = sig(zhat), sig(rhat)
        hhat = W @ xs[t] + U @ (r * h) + pr["a"]
        ht = torch.tanh(hhat)
        h = (1 - z) * h + z * ht + pr["h"]
        o = torch.softmax(V @ h + b, dim=0)
        L = L - (ys[t] * torch.log(o)).sum()
        hs.append(h.detach())
        zs.append(z.detach())
        rs.append(r.detach())
        hts.append(ht.detach())
        os_.append(o.detach())
    grads = torch.autograd.grad(L, params + [h0] + [v for k in probes for v in probes[k]])
    gV, gU, dh0 = grads[:3]
    rest = grads[3:]
    g = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate(probes)}
    zero = torch.zeros(H, 1, dtype=torch.float64)
    for k in g:
        g[k].append(zero)
    z_next = zs[1:] + [zero]
    r_next = rs[1:] + [zero]
    Vd, Ud = V.detach(), U.detach()
    st = torch.stack
    rng = range(T)
    claims = [
        (37, "holds", r"\partial V} = \sum", "dL/dV", gV, sum((os_[t] - ys[t]) @ hs[t + 1].T for t in rng)),
        (
            39,
            "holds",
            r"\boldsymbol\delta_t = V^\top",
            "delta_t recursion",
            st(g["h"][:T]),
            st(
                [
                    Vd.T @ (os_[t] - ys[t])
                    + (1 - z_next[t]) * g["h"][t + 1]
                    + U_z.T @ g["z"][t + 1]
                    + U_r.T @ g["r"][t + 1]
                    + r_next[t] * (Ud.T @ g["a"][t + 1])
                    for t in rng
                ]
            ),
        ),
        (
            41,
            "wrong",
            r"\boldsymbol\delta^{h}_t =",
            "delta^h_t",
            st(g["a"][:T]),
            st([g["h"][t] * (1 - zs[t]) * (1 - hts[t] * hts[t]) for t in rng]),
        ),
        (
            43,
            "holds",
            r"\boldsymbol\delta^z_t =",
            "delta^z_t",
            st(g["z"][:T]),
            st([g["h"][t] * (hts[t] - hs[t]) * zs[t] * (1 - zs[t]) for t in rng]),
        ),
        (
            45,
            "holds",
            r"\boldsymbol\delta^r_t =",
            "delta^r_t",
            st(g["r"][:T]),
            st([(Ud.T @ g["a"][t]) * hs[t] * rs[t] * (1 - rs[t]) for t in rng]),
        ),
        (47, "holds", r"\partial U} = \sum", "dL/dU", gU, sum(g["a"][t] @ (rs[t] * hs[t]).T for t in rng)),
        (
            51,
            "wrong",
            r"\partial h_0} =",
            "dL/dh_0",
            dh0,
            (1 - zs[0]) * g["h"][0] + U_z @ g["z"][0] + U_r.T @ g["r"][0] + rs[0] * (Ud.T @ g["a"][0]),
        ),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
