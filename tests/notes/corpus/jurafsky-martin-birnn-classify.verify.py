"""jurafsky-martin-birnn-classify: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "jurafsky-martin-birnn-classify"


def main() -> int:
    gen = torch.Generator().manual_seed(9)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    d, H, C, n = 2, 3, 4, 4
    U_f, W_f, U_b, W_b, V = rand(H, H), rand(H, d), rand(H, H), rand(H, d), rand(C, 2 * H)
    params = [U_b, W_f, V]
    for p in params:
        p.requires_grad_(True)
    xs = [rand(d, 1).requires_grad_(True) for _ in range(n)]  # xs[t - 1] is x_t
    c = int(torch.randint(0, C, (1,), generator=gen))
    hf = {0: rand(H, 1)}
    hb = {n + 1: rand(H, 1)}
    pf, pb = {}, {}
    for t in range(1, n + 1):
        pf[t] = probe(H)
        hf[t] = torch.tanh(U_f @ hf[t - 1] + W_f @ xs[t - 1]) + pf[t]
    for t in range(n, 0, -1):
        pb[t] = probe(H)
        hb[t] = torch.tanh(U_b @ hb[t + 1] + W_b @ xs[t - 1]) + pb[t]
    logits = V @ torch.cat([hf[n], hb[1]])
    L = -torch.log_softmax(logits, dim=0)[c, 0]
    ts = list(range(1, n + 1))
    grads = torch.autograd.grad(L, params + xs + [pf[t] for t in ts] + [pb[t] for t in ts])
    gU_b, gW_f, gV = grads[:3]
    dx = grads[3 : 3 + n]
    dhf = dict(zip(ts, grads[3 + n : 3 + 2 * n], strict=True))
    dhb = dict(zip(ts, grads[3 + 2 * n :], strict=True))
    hf = {t: v.detach() for t, v in hf.items()}
    hb = {t: v.detach() for t, v in hb.items()}
    r = torch.softmax(logits.detach(), dim=0) - torch.eye(C, dtype=torch.float64)[:, c : c + 1]
    V_f, V_b = V.detach()[:, :H], V.detach()[:, H:]

    def pre_f(t):
        return (1 - hf[t] ** 2) * dhf[t]

    def pre_b(t):
        return (1 - hb[t] ** 2) * dhb[t]

    st = torch.stack
    claims = [
        (24, "holds", r"\partial h^f_n} = V_f^\top", "dL/dh^f_n", dhf[n], V_f.T @ r),
        (26, "holds", r"\partial h^b_1} = V_b^\top", "dL/dh^b_1", dhb[1], V_b.T @ r),
        (28, "wrong", r"\partial V_b} =", "dL/dV_b", gV[:, H:], r @ hb[n].T),
        (
            33,
            "holds",
            r"\partial h^f_t} = U_f^\top",
            "dL/dh^f_t, t < n",
            st([dhf[t] for t in ts[:-1]]),
            st([U_f.T @ pre_f(t + 1) for t in ts[:-1]]),
        ),
        (
            35,
            "wrong",
            r"\partial h^b_t} = U_b^\top",
            "dL/dh^b_t, t > 1",
            st([dhb[t] for t in ts[1:-1]]),
            st([U_b.detach().T @ pre_b(t + 1) for t in ts[1:-1]]),
        ),
        (37, "holds", r"\partial U_b} = \sum", "dL/dU_b", gU_b, sum(pre_b(t) @ hb[t + 1].T for t in ts)),
        (39, "holds", r"\partial W_f} = \sum", "dL/dW_f", gW_f, sum(pre_f(t) @ xs[t - 1].detach().T for t in ts)),
        (
            43,
            "holds",
            r"\partial x_t} = W_f^\top",
            "dL/dx_t from both passes",
            st(list(dx)),
            st([W_f.detach().T @ pre_f(t) + W_b.T @ pre_b(t) for t in ts]),
        ),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
