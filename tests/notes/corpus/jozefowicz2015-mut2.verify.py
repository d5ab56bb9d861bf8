"""jozefowicz2015-mut2: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "jozefowicz2015-mut2"


def main() -> int:
    gen = torch.Generator().manual_seed(1502)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    H, V, T = 3, 5, 4  # MUT2 adds x_t to the reset gate's argument, so the input size is H
    W_xz, W_hz, b_z, W_hr, b_r, W_hh, W_xh, b_h, W_y = (
        rand(H, H),
        rand(H, H),
        rand(H, 1),
        rand(H, H),
        rand(H, 1),
        rand(H, H),
        rand(H, H),
        rand(H, 1),
        rand(V, H),
    )
    for p in (W_xh, b_r):
        p.requires_grad_(True)
    xs = [rand(H, 1).requires_grad_(True) for _ in range(T)]  # x_0 .. x_{T-1}
    ks = {t: int(torch.randint(V, (1,), generator=gen)) for t in range(1, T + 1)}  # next word after h_t
    sig = torch.sigmoid
    h = rand(H, 1)
    hs, zs, rs, hts, ps = [h], [], [], [], {}
    probes = {k: [] for k in ("h", "z", "r", "a")}
    L = 0.0
    for t in range(T):
        pr = {k: probe(H) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        z = sig(W_xz @ xs[t] + W_hz @ h + b_z + pr["z"])
        r = sig(xs[t] + W_hr @ h + b_r + pr["r"])
        ht = torch.tanh(W_hh @ (r * h) + W_xh @ xs[t] + b_h + pr["a"])
        h = ht * z + h * (1 - z) + pr["h"]  # h_{t+1}
        logp = torch.log_softmax(W_y @ h, dim=0)
        L = L - logp[ks[t + 1], 0]
        ps[t + 1] = logp.exp().detach()
        hs.append(h.detach())
        zs.append(z.detach())
        rs.append(r.detach())
        hts.append(ht.detach())
    names = list(probes)
    grads = torch.autograd.grad(L, [W_xh, b_r] + xs + [v for k in names for v in probes[k]])
    gW_xh, gb_r = grads[0], grads[1]
    dx = grads[2 : 2 + T]
    d = {k: list(grads[2 + T + n * T : 2 + T + (n + 1) * T]) for n, k in enumerate(names)}
    dh = {t + 1: d["h"][t] for t in range(T)}  # delta h_{t+1}
    da, dr, dz = d["a"], d["r"], d["z"]

    def e(k):
        out = torch.zeros(V, 1, dtype=torch.float64)
        out[k, 0] = 1.0
        return out

    st = torch.stack
    rng = range(T)
    inner = range(1, T)  # 1 <= t <= T-1
    out_grad = {t: W_y.T @ (ps[t] - e(ks[t])) for t in inner}
    claims = [
        (
            28,
            "holds",
            r"W_{hz}^\top \delta \bar z_t + W_{hr}^\top",
            "delta h_t through softmax, both gates, the candidate and the carry",
            st([dh[t] for t in inner]),
            st(
                [
                    out_grad[t]
                    + dh[t + 1] * (1 - zs[t])
                    + W_hz.T @ dz[t]
                    + W_hr.T @ dr[t]
                    + rs[t] * (W_hh.T @ da[t])
                    for t in inner
                ]
            ),
        ),
        (
            30,
            "wrong",
            r"(1 - z_t) + W_{hr}^\top",
            "delta h_t without the update gate's path",
            st([dh[t] for t in inner]),
            st([out_grad[t] + dh[t + 1] * (1 - zs[t]) + W_hr.T @ dr[t] + rs[t] * (W_hh.T @ da[t]) for t in inner]),
        ),
        (
            32,
            "holds",
            r"\delta a_t =",
            "delta a_t",
            st(da),
            st([dh[t + 1] * zs[t] * (1 - hts[t] * hts[t]) for t in rng]),
        ),
        (
            34,
            "holds",
            r"\delta \bar z_t =",
            "delta z-bar_t",
            st(dz),
            st([dh[t + 1] * (hts[t] - hs[t]) * zs[t] * (1 - zs[t]) for t in rng]),
        ),
        (
            36,
            "holds",
            r"\delta \bar r_t =",
            "delta r-bar_t",
            st(dr),
            st([(W_hh.T @ da[t]) * hs[t] * rs[t] * (1 - rs[t]) for t in rng]),
        ),
        (
            40,
            "holds",
            r"\delta x_t =",
            "delta x_t, the reset gate reading x_t without a weight",
            st(list(dx)),
            st([W_xz.T @ dz[t] + dr[t] + W_xh.detach().T @ da[t] for t in rng]),
        ),
        (42, "holds", r"\delta W_{xh} =", "delta W_xh", gW_xh, sum(da[t] @ xs[t].detach().T for t in rng)),
        (44, "wrong", r"\delta b_r =", "delta b_r", gb_r, sum(dr[t] for t in range(1, T))),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
