"""chung2014-lstm-peephole: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "chung2014-lstm-peephole"


def main() -> int:
    gen = torch.Generator().manual_seed(355)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    D, H, K, T = 2, 3, 4, 4
    W = {k: rand(H, D) for k in "ifco"}
    U = {k: rand(H, H) for k in "ifco"}
    v = {k: rand(H, 1) for k in "ifo"}
    W_y, b_y = rand(K, H), rand(K, 1)
    for p in (W_y, v["o"]):
        p.requires_grad_(True)
    xs = [rand(D, 1) for _ in range(T)]
    ys = [torch.bernoulli(torch.full((K, 1), 0.5, dtype=torch.float64), generator=gen) for _ in range(T)]
    sig = torch.sigmoid
    h, c = rand(H, 1), rand(H, 1)
    cs, hs, gates, hats, ps = [c], [h], {k: [] for k in "ifco"}, {k: [] for k in "ifco"}, []
    probes = {k: [] for k in ["h", "c", "i", "f", "cc", "o"]}
    L = 0.0
    for t in range(T):
        pr = {k: probe(H) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        ih = W["i"] @ xs[t] + U["i"] @ h + v["i"] * c + pr["i"]
        fh = W["f"] @ xs[t] + U["f"] @ h + v["f"] * c + pr["f"]
        ch = W["c"] @ xs[t] + U["c"] @ h + pr["cc"]
        i, f, ct = sig(ih), sig(fh), torch.tanh(ch)
        c = f * c + i * ct + pr["c"]
        oh = W["o"] @ xs[t] + U["o"] @ h + v["o"] * c + pr["o"]
        o = sig(oh)
        h = o * torch.tanh(c) + pr["h"]
        p = sig(W_y @ h + b_y)
        L = L - (ys[t] * torch.log(p) + (1 - ys[t]) * torch.log(1 - p)).sum()
        for k, a, ah in (("i", i, ih), ("f", f, fh), ("c", ct, ch), ("o", o, oh)):
            gates[k].append(a.detach())
            hats[k].append(ah.detach())
        cs.append(c.detach())
        hs.append(h.detach())
        ps.append(p.detach())
    grads = torch.autograd.grad(L, [W_y, v["o"]] + [q for k in probes for q in probes[k]])
    gW_y, gv_o = grads[:2]
    rest = grads[2:]
    g = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate(probes)}
    zero = torch.zeros(H, 1, dtype=torch.float64)
    for k in g:
        g[k].append(zero)
    f_next = gates["f"][1:] + [zero]
    W_yd = W_y.detach()
    vd = {k: q.detach() for k, q in v.items()}

    def dsig(a):
        return sig(a) * (1 - sig(a))

    st = torch.stack
    rng = range(T)
    claims = [
        (34, "holds", r"\partial W_y} &= \sum", "dL/dW_y", gW_y, sum((ps[t] - ys[t]) @ hs[t + 1].T for t in rng)),
        (
            35,
            "holds",
            r"\epsilon^h_t &=",
            "epsilon^h_t",
            st(g["h"][:T]),
            st(
                [
                    W_yd.T @ (ps[t] - ys[t])
                    + U["o"].T @ g["o"][t + 1]
                    + U["f"].T @ g["f"][t + 1]
                    + U["i"].T @ g["i"][t + 1]
                    + U["c"].T @ g["cc"][t + 1]
                    for t in rng
                ]
            ),
        ),
        (
            36,
            "holds",
            r"\hat{o}_t} &=",
            "dL/do-hat_t",
            st(g["o"][:T]),
            st([g["h"][t] * torch.tanh(cs[t + 1]) * dsig(hats["o"][t]) for t in rng]),
        ),
        (
            37,
            "wrong",
            r"\epsilon^c_t &=",
            "epsilon^c_t over two rows",
            st(g["c"][:T]),
            st(
                [
                    g["h"][t] * gates["o"][t] * (1 - torch.tanh(cs[t + 1]) ** 2)
                    + f_next[t] * g["c"][t + 1]
                    + vd["f"] * g["f"][t + 1]
                    + vd["i"] * g["i"][t + 1]
                    for t in rng
                ]
            ),
        ),
        (
            39,
            "wrong",
            r"\hat{f}_t} &=",
            "dL/df-hat_t",
            st(g["f"][:T]),
            st([g["c"][t] * cs[t + 1] * dsig(hats["f"][t]) for t in rng]),
        ),
        (
            40,
            "wrong",
            r"\hat{c}_t} &=",
            "dL/dc-hat_t",
            st(g["cc"][:T]),
            st([g["c"][t] * gates["i"][t] * dsig(hats["c"][t]) for t in rng]),
        ),
        (41, "holds", r"\partial v_o} &= \sum", "dL/dv_o", gv_o, sum(cs[t + 1] * g["o"][t] for t in rng)),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
