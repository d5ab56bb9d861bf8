"""lipton2015-brnn: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "lipton2015-brnn"


def main() -> int:
    gen = torch.Generator().manual_seed(1506)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.8

    D, H, Z, K, T = 2, 3, 2, 4, 4
    W_hx, W_hh, b_h = rand(H, D), rand(H, H), rand(H, 1)
    W_zx, W_zz, b_z = rand(Z, D), rand(Z, Z), rand(Z, 1)
    W_yh, W_yz, b_y = rand(K, H), rand(K, Z), rand(K, 1)
    params = [b_h, W_zz, W_yz]
    for p in params:
        p.requires_grad_(True)
    xs = {t: rand(D, 1) for t in range(1, T + 1)}
    eye = torch.eye(K, dtype=torch.float64)
    ys = {
        t: eye[:, k : k + 1]
        for t, k in zip(range(1, T + 1), torch.randint(0, K, (T,), generator=gen).tolist(), strict=True)
    }
    sig = torch.sigmoid
    h = {0: rand(H, 1)}
    z = {T + 1: rand(Z, 1)}
    ph = {t: probe(H) for t in range(1, T + 1)}
    pz = {t: probe(Z) for t in range(1, T + 1)}
    for t in range(1, T + 1):
        h[t] = sig(W_hx @ xs[t] + W_hh @ h[t - 1] + b_h) + ph[t]
    for t in range(T, 0, -1):
        z[t] = sig(W_zx @ xs[t] + W_zz @ z[t + 1] + b_z) + pz[t]
    yhat = {t: torch.softmax(W_yh @ h[t] + W_yz @ z[t] + b_y, dim=0) for t in range(1, T + 1)}
    L = -sum((ys[t] * torch.log(yhat[t])).sum() for t in range(1, T + 1))
    ts = list(range(1, T + 1))
    grads = torch.autograd.grad(L, params + [ph[t] for t in ts] + [pz[t] for t in ts])
    gb_h, gW_zz, gW_yz = grads[:3]
    dh = dict(zip(ts, grads[3 : 3 + T], strict=True))
    dz = dict(zip(ts, grads[3 + T :], strict=True))
    dh[T + 1] = torch.zeros(H, 1, dtype=torch.float64)
    h = {t: v.detach() for t, v in h.items()}
    z = {t: v.detach() for t, v in z.items()}
    h[T + 1] = torch.zeros(H, 1, dtype=torch.float64)
    r = {t: (yhat[t] - ys[t]).detach() for t in ts}
    st = torch.stack
    claims = [
        (
            22,
            "holds",
            r"\partial h^{(t)}} = {W^{yh}}^\top",
            "dL/dh^(t)",
            st([dh[t] for t in ts]),
            st([W_yh.T @ r[t] + W_hh.T @ (h[t + 1] * (1 - h[t + 1]) * dh[t + 1]) for t in ts]),
        ),
        (
            24,
            "wrong",
            r"\partial z^{(t)}} = {W^{yz}}^\top",
            "dL/dz^(t)",
            st([dz[t] for t in ts[:-1]]),
            st([W_yz.detach().T @ r[t] + W_zz.detach().T @ (z[t + 1] * (1 - z[t + 1]) * dz[t + 1]) for t in ts[:-1]]),
        ),
        (26, "holds", r"\partial W^{yz}} = \sum", "dL/dW^yz", gW_yz, sum(r[t] @ z[t].T for t in ts)),
        (
            28,
            "holds",
            r"\partial W^{zz}} = \sum",
            "dL/dW^zz",
            gW_zz,
            sum((z[t] * (1 - z[t]) * dz[t]) @ z[t + 1].T for t in ts),
        ),
        (30, "wrong", r"\partial b_h} = \sum", "dL/db_h", gb_h, sum(h[t] * dh[t] for t in ts)),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
