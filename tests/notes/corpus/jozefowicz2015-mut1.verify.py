"""jozefowicz2015-mut1: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "jozefowicz2015-mut1"


def main() -> int:
    gen = torch.Generator().manual_seed(1501)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    H, K, T = 3, 2, 4  # MUT1 adds tanh(x_t) to the state, so the input size is H
    W_xz, b_z, W_xr, W_hr, b_r, W_hh, b_h, W_y = (
        rand(H, H),
        rand(H, 1),
        rand(H, H),
        rand(H, H),
        rand(H, 1),
        rand(H, H),
        rand(H, 1),
        rand(K, H),
    )
    W_hr.requires_grad_(True)
    xs = [rand(H, 1).requires_grad_(True) for _ in range(T)]  # x_0 .. x_{T-1}
    ds = {t: rand(K, 1) for t in range(1, T + 1)}
    sig = torch.sigmoid
    h = rand(H, 1)
    hs, zs, rs, hts = [h], [], [], []
    probes = {k: [] for k in ("h", "z", "r", "a")}
    L = 0.0
    for t in range(T):
        pr = {k: probe(H) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        z = sig(W_xz @ xs[t] + b_z + pr["z"])
        r = sig(W_xr @ xs[t] + W_hr @ h + b_r + pr["r"])
        ht = torch.tanh(W_hh @ (r * h) + torch.tanh(xs[t]) + b_h + pr["a"])
        h = ht * z + h * (1 - z) + pr["h"]  # h_{t+1}
        L = L + 0.5 * ((W_y @ h - ds[t + 1]) ** 2).sum()
        hs.append(h.detach())
        zs.append(z.detach())
        rs.append(r.detach())
        hts.append(ht.detach())
    hs[0] = hs[0].detach()
    names = list(probes)
    grads = torch.autograd.grad(L, [W_hr] + xs + [v for k in names for v in probes[k]])
    gW_hr = grads[0]
    dx = grads[1 : 1 + T]
    d = {k: list(grads[1 + T + n * T : 1 + T + (n + 1) * T]) for n, k in enumerate(names)}
    dh = {t + 1: d["h"][t] for t in range(T)}  # delta h_{t+1}
    da, dr, dz = d["a"], d["r"], d["z"]
    st = torch.stack
    rng = range(T)
    inner = range(1, T)  # 1 <= t <= T-1
    claims = [
        (
            29,
            "holds",
            r"\delta h_t = W_y^\top",
            "delta h_t",
            st([dh[t] for t in inner]),
            st(
                [
                    W_y.T @ (W_y @ hs[t] - ds[t])
                    + dh[t + 1] * (1 - zs[t])
                    + rs[t] * (W_hh.T @ da[t])
                    + W_hr.detach().T @ dr[t]
                    for t in inner
                ]
            ),
        ),
        (31, "wrong", r"\delta a_t =", "delta a_t", st(da), st([dh[t + 1] * (1 - hts[t] * hts[t]) for t in rng])),
        (
            33,
            "holds",
            r"\delta \bar r_t =",
            "delta r-bar_t",
            st(dr),
            st([(W_hh.T @ da[t]) * hs[t] * rs[t] * (1 - rs[t]) for t in rng]),
        ),
        (
            35,
            "holds",
            r"\delta \bar z_t =",
            "delta z-bar_t",
            st(dz),
            st([dh[t + 1] * (hts[t] - hs[t]) * zs[t] * (1 - zs[t]) for t in rng]),
        ),
        (
            39,
            "holds",
            r"\delta x_t =",
            "delta x_t with its own tanh",
            st(list(dx)),
            st([W_xz.T @ dz[t] + W_xr.T @ dr[t] + da[t] * (1 - torch.tanh(xs[t].detach()) ** 2) for t in rng]),
        ),
        (41, "wrong", r"\delta W_{hr} = \sum", "delta W_hr", gW_hr, sum(dr[t] @ hs[t + 1].T for t in rng)),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
