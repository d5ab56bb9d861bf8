"""lipton2015-lstm: every claim of the note recomputed with torch autograd in float64.

The operator claim (d/do of phi(s) ⊙ o applied to dL/dh) is computed as a real Jacobian-vector
product by autograd, not from the note's remark that the Jacobian is diagonal.
"""

import sys

import torch
from _harness import probe, report

SLUG = "lipton2015-lstm"


def main() -> int:
    gen = torch.Generator().manual_seed(5150)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    D, H, K, T = 2, 3, 2, 4
    Wx = {k: rand(H, D) for k in "gifo"}
    Wh = {k: rand(H, H) for k in "gifo"}
    bb = {k: rand(H, 1) for k in "gifo"}
    W_yh, b_y = rand(K, H), rand(K, 1)
    for p in (Wx["g"], bb["i"]):
        p.requires_grad_(True)
    xs = [rand(D, 1) for _ in range(T)]
    ys = [rand(K, 1) for _ in range(T)]
    sig = torch.sigmoid
    h, s = rand(H, 1), rand(H, 1)
    S, gates = [s], {k: [] for k in "gifo"}
    probes = {k: [] for k in ("g", "i", "f", "o", "s", "h")}
    L = 0.0
    for t in range(T):
        pr = {k: probe(H) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        g = torch.tanh(Wx["g"] @ xs[t] + Wh["g"] @ h + bb["g"]) + pr["g"]
        i = sig(Wx["i"] @ xs[t] + Wh["i"] @ h + bb["i"]) + pr["i"]
        f = sig(Wx["f"] @ xs[t] + Wh["f"] @ h + bb["f"]) + pr["f"]
        o = sig(Wx["o"] @ xs[t] + Wh["o"] @ h + bb["o"]) + pr["o"]
        s = g * i + s * f + pr["s"]
        h = torch.tanh(s) * o + pr["h"]
        L = L + 0.5 * ((W_yh @ h + b_y - ys[t]) ** 2).sum()
        for k, v in (("g", g), ("i", i), ("f", f), ("o", o)):
            gates[k].append(v.detach())
        S.append(s.detach())
    names = list(probes)
    grads = torch.autograd.grad(L, [Wx["g"], bb["i"]] + [v for k in names for v in probes[k]])
    gW_gx, gb_i = grads[:2]
    d = {k: list(grads[2 + n * T : 2 + (n + 1) * T]) for n, k in enumerate(names)}
    zero = torch.zeros(H, 1, dtype=torch.float64)
    d["s"].append(zero)
    f_next = gates["f"][1:] + [zero]

    def jvp_o(t):  # (d/do (phi(s) ⊙ o))^T dL/dh by autograd
        o = gates["o"][t].clone().requires_grad_(True)
        out = torch.tanh(S[t + 1]) * o
        return torch.autograd.grad(out, o, grad_outputs=d["h"][t])[0]

    def dphi(v):
        return 1 - torch.tanh(v) ** 2

    st = torch.stack
    rng = range(T)
    claims = [
        (
            29,
            "holds",
            r"\dL{o^{(t)}} &= \frac{\partial}{\partial o^{(t)}}",
            "operator form for dL/do",
            st(d["o"]),
            st([jvp_o(t) for t in rng]),
        ),
        (
            30,
            "holds",
            r"\dL{s^{(t)}} &=",
            "dL/ds",
            st(d["s"][:T]),
            st([d["h"][t] * gates["o"][t] * dphi(S[t + 1]) + d["s"][t + 1] * f_next[t] for t in rng]),
        ),
        (31, "holds", r"\dL{g^{(t)}} &=", "dL/dg", st(d["g"]), st([d["s"][t] * gates["i"][t] for t in rng])),
        (32, "holds", r"\dL{i^{(t)}} &=", "dL/di", st(d["i"]), st([d["s"][t] * gates["g"][t] for t in rng])),
        (33, "wrong", r"\dL{f^{(t)}} &=", "dL/df", st(d["f"]), st([d["s"][t] * S[t + 1] for t in rng])),
        (
            34,
            "holds",
            r"\dL{b_i} &= \sum",
            "dL/db_i",
            gb_i,
            sum(d["i"][t] * gates["i"][t] * (1 - gates["i"][t]) for t in rng),
        ),
        (
            35,
            "wrong",
            r"\dL{W^{gx}} &= \sum",
            "dL/dW^gx",
            gW_gx,
            sum((d["g"][t] * dphi(gates["g"][t])) @ xs[t].T for t in rng),
        ),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
