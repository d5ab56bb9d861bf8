"""hochreiter1997-adding: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "hochreiter1997-adding"


def main() -> int:
    gen = torch.Generator().manual_seed(4)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    D, H, T = 2, 3, 5
    W = {k: rand(H, D) for k in ("in", "out", "c")}
    U = {k: rand(H, H) for k in ("in", "out", "c")}
    b = {k: rand(H, 1) for k in ("in", "out", "c")}
    w_k, b_k, d = rand(H, 1), rand(1, 1), rand(1, 1)
    for p in (w_k, U["c"]):
        p.requires_grad_(True)
    xs = [rand(D, 1) for _ in range(T)]
    sig = torch.sigmoid

    def g(z):
        return 4 / (1 + torch.exp(-z)) - 2

    def h(z):
        return 2 / (1 + torch.exp(-z)) - 1

    s0 = rand(H, 1).requires_grad_(True)
    s, yc = s0, rand(H, 1)
    ycs, ss, ins, outs, acs, ains = [yc], [], [], [], [], []
    probes = {k: [] for k in ("in", "out", "c", "s", "yc")}
    for t in range(T):
        pr = {k: probe(H) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        a_in = W["in"] @ xs[t] + U["in"] @ yc + b["in"] + pr["in"]
        a_out = W["out"] @ xs[t] + U["out"] @ yc + b["out"] + pr["out"]
        a_c = W["c"] @ xs[t] + U["c"] @ yc + b["c"] + pr["c"]
        i, o = sig(a_in), sig(a_out)
        s = s + i * g(a_c) + pr["s"]
        yc = o * h(s) + pr["yc"]
        ycs.append(yc.detach())
        ss.append(s.detach())
        ins.append(i.detach())
        outs.append(o.detach())
        acs.append(a_c.detach())
        ains.append(a_in.detach())
    y_hat = w_k.T @ yc + b_k
    E = 0.5 * ((y_hat - d) ** 2).sum()
    names = list(probes)
    grads = torch.autograd.grad(E, [w_k, U["c"], s0] + [q for k in names for q in probes[k]])
    gw_k, gU_c, ds0 = grads[:3]
    rest = grads[3:]
    G = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate(names)}
    zero = torch.zeros(H, 1, dtype=torch.float64)
    for k in names:
        G[k].append(zero)
    r = (y_hat - d).detach()
    wk = w_k.detach()

    def dsig(z):
        return sig(z) * (1 - sig(z))

    def dh(z):  # h' by autograd, independent of the note's identity
        z = z.clone().requires_grad_(True)
        return torch.autograd.grad(h(z).sum(), z)[0]

    def dg(z):
        z = z.clone().requires_grad_(True)
        return torch.autograd.grad(g(z).sum(), z)[0]

    zs = torch.linspace(-6, 6, 121, dtype=torch.float64)
    st = torch.stack
    rng = range(T)
    claims = [
        (32, "holds", r"h(z) &= \tanh(z / 2)", "h(z) = tanh(z/2)", h(zs), torch.tanh(zs / 2)),
        (33, "holds", r"g'(z) &=", "g'(z) = 4 sigma (1 - sigma)", dg(zs), 4 * sig(zs) * (1 - sig(zs))),
        (34, "wrong", r"h'(z) &= 1 - \big(h(z)\big)^2", "h'(z) = 1 - h^2", dh(zs), 1 - h(zs) ** 2),
        (40, "holds", r"\grad{\yc_T}{E} &=", "grad_{y^c_T} E", G["yc"][T - 1], r * wk),
        (41, "wrong", r"\grad{w_k}{E} &=", "grad_{w_k} E", gw_k, (d - y_hat.detach()) * ycs[T]),
        (
            42,
            "wrong",
            r"\grad{\yc_t}{E} &=",
            "grad_{y^c_t} E for t < T",
            st(G["yc"][: T - 1]),
            st(
                [
                    r * wk
                    + U["in"].T @ G["in"][t + 1]
                    + U["out"].T @ G["out"][t + 1]
                    + U["c"].detach().T @ G["c"][t + 1]
                    for t in range(T - 1)
                ]
            ),
        ),
        (
            43,
            "holds",
            r"\grad{s_t}{E} &=",
            "grad_{s_t} E",
            st(G["s"][:T]),
            st([G["s"][t + 1] + G["yc"][t] * outs[t] * dh(ss[t]) for t in rng]),
        ),
        (
            44,
            "holds",
            r"\grad{a^{c}_t}{E} &=",
            "grad_{a^c_t} E",
            st(G["c"][:T]),
            st([G["s"][t] * ins[t] * dg(acs[t]) for t in rng]),
        ),
        (
            45,
            "holds",
            r"\grad{a^{in}_t}{E} &=",
            "grad_{a^in_t} E",
            st(G["in"][:T]),
            st([G["s"][t] * g(acs[t]) * ins[t] * (1 - ins[t]) for t in rng]),
        ),
        (46, "holds", r"\grad{U_c}{E} &= \sum", "grad_{U_c} E", gU_c, sum(G["c"][t] @ ycs[t].T for t in rng)),
        (47, "holds", r"\grad{s_0}{E} &= \grad{s_1}{E}", "grad_{s_0} E = grad_{s_1} E", ds0, G["s"][0]),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
