"""pytorch-nn-gru: every claim of the note recomputed with torch autograd in float64.

A batch of B sequences is held as columns, so a per-sequence claim is checked for every sequence
at once, and a sum over b is a product over the batch columns. The forward pass is checked
against torch.nn.GRU first.
"""

import sys

import torch
from _harness import probe, report

SLUG = "pytorch-nn-gru"


def main() -> int:
    gen = torch.Generator().manual_seed(3)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    D, H, K, T, B = 2, 3, 4, 4, 3
    Wi = {k: rand(H, D) for k in "rzn"}
    Wh = {k: rand(H, H) for k in "rzn"}
    bi = {k: rand(H, 1) for k in "rzn"}
    bh = {k: rand(H, 1) for k in "rzn"}
    W_y, b_y = rand(K, H), rand(K, 1)
    for p in (W_y, bh["n"], bi["n"]):
        p.requires_grad_(True)
    xs = [rand(D, B) for _ in range(T)]
    labels = torch.randint(0, K, (B,), generator=gen)
    sig = torch.sigmoid
    h0 = rand(H, B).requires_grad_(True)
    h = h0
    hs, rs, zs, ns, qs = [h0.detach()], [], [], [], []
    probes = {k: [] for k in ("h", "r", "z", "n")}
    for t in range(T):
        pr = {k: probe(H, B) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        rbar = Wi["r"] @ xs[t] + bi["r"] + Wh["r"] @ h + bh["r"] + pr["r"]
        zbar = Wi["z"] @ xs[t] + bi["z"] + Wh["z"] @ h + bh["z"] + pr["z"]
        r, z = sig(rbar), sig(zbar)
        q = Wh["n"] @ h + bh["n"]
        n = torch.tanh(Wi["n"] @ xs[t] + bi["n"] + r * q + pr["n"])
        h = (1 - z) * n + z * h + pr["h"]
        hs.append(h.detach())
        rs.append(r.detach())
        zs.append(z.detach())
        ns.append(n.detach())
        qs.append(q.detach())
    gru = torch.nn.GRU(D, H).double()
    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.cat([Wi[k] for k in "rzn"]))
        gru.weight_hh_l0.copy_(torch.cat([Wh[k] for k in "rzn"]))
        gru.bias_ih_l0.copy_(torch.cat([bi[k] for k in "rzn"])[:, 0])
        gru.bias_hh_l0.copy_(torch.cat([bh[k] for k in "rzn"])[:, 0])
        out, _ = gru(torch.stack([x.T for x in xs]), h0.detach().T.unsqueeze(0))
    if not torch.allclose(out[-1].T, hs[-1], atol=1e-12, rtol=0):
        print(f"{SLUG}: MISMATCH the note's forward equations differ from torch.nn.GRU")
        return 1
    ps = probe(K, B)
    s = W_y @ h + b_y + ps
    L = torch.nn.functional.cross_entropy(s.T, labels)
    names = list(probes)
    grads = torch.autograd.grad(L, [W_y, bh["n"], bi["n"], h0, ps] + [v for k in names for v in probes[k]])
    gW_y, gb_hn, gb_in, dh0, ds = grads[:5]
    rest = grads[5:]
    d = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate(names)}
    dh_all = [dh0] + d["h"]  # dh_all[t] = delta h_t, t = 0..T
    onehot = torch.nn.functional.one_hot(labels, K).T.to(torch.float64)
    sd = s.detach()
    st = torch.stack
    rng = range(T)
    claims = [
        (
            33,
            "holds",
            r"\delta s &= \frac{1}{B}",
            "delta s with the batch mean",
            ds,
            (torch.softmax(sd, dim=0) - onehot) / B,
        ),
        (34, "holds", r"\delta W_y &= \sum_{b=1}^{B}", "delta W_y summed over the batch", gW_y, ds @ hs[T].T),
        (35, "holds", r"\delta h_T &=", "delta h_T (last step only)", dh_all[T], W_y.detach().T @ ds),
        (
            36,
            "holds",
            r"\delta \bar n_t &=",
            "delta n-bar_t",
            st(d["n"]),
            st([dh_all[t + 1] * (1 - zs[t]) * (1 - ns[t] * ns[t]) for t in rng]),
        ),
        (
            37,
            "holds",
            r"\delta \bar r_t &=",
            "delta r-bar_t",
            st(d["r"]),
            st([d["n"][t] * qs[t] * rs[t] * (1 - rs[t]) for t in rng]),
        ),
        (
            38,
            "wrong",
            r"\delta \bar z_t &=",
            "delta z-bar_t",
            st(d["z"]),
            st([dh_all[t + 1] * (ns[t] - hs[t]) * zs[t] * (1 - zs[t]) for t in rng]),
        ),
        (
            39,
            "holds",
            r"\delta h_{t-1} &=",
            "delta h_{t-1}",
            st(dh_all[:T]),
            st(
                [
                    dh_all[t + 1] * zs[t]
                    + Wh["r"].T @ d["r"][t]
                    + Wh["z"].T @ d["z"][t]
                    + Wh["n"].T @ (rs[t] * d["n"][t])
                    for t in rng
                ]
            ),
        ),
        (
            40,
            "holds",
            r"\delta b_{hn} &=",
            "delta b_hn with r inside",
            gb_hn,
            sum((rs[t] * d["n"][t]).sum(1, keepdim=True) for t in rng),
        ),
        (
            41,
            "wrong",
            r"\delta b_{in} &=",
            "delta b_in",
            gb_in,
            sum((rs[t] * d["n"][t]).sum(1, keepdim=True) for t in rng),
        ),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
