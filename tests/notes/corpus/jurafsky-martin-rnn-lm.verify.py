"""jurafsky-martin-rnn-lm: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "jurafsky-martin-rnn-lm"


def main() -> int:
    gen = torch.Generator().manual_seed(8)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    d, H, Vsize, T = 2, 3, 5, 4
    U, W, V = rand(H, H), rand(H, d), rand(Vsize, H)
    for p in (U, W, V):
        p.requires_grad_(True)
    xs = [rand(d, 1) for _ in range(T)]
    nxt = torch.randint(0, Vsize, (T,), generator=gen).tolist()  # w_{t+1}
    eye = torch.eye(Vsize, dtype=torch.float64)
    h0 = rand(H, 1).requires_grad_(True)
    h, hs, zs, ph, pz = h0, [h0.detach()], [], [], []
    L = 0.0
    for t in range(T):
        qh, qz = probe(H), probe(Vsize)
        h = torch.tanh(U @ h + W @ xs[t]) + qh
        z = V @ h + qz
        L = L - torch.log_softmax(z, dim=0)[nxt[t], 0] / T
        hs.append(h.detach())
        zs.append(z.detach())
        ph.append(qh)
        pz.append(qz)
    grads = torch.autograd.grad(L, [U, W, V, h0] + ph + pz)
    gU, gW, gV, dh0 = grads[:4]
    dh, dz = list(grads[4 : 4 + T]), grads[4 + T :]
    yhat = [torch.softmax(z, dim=0) for z in zs]
    onehot = [eye[:, k : k + 1] for k in nxt]
    Ud = U.detach()
    dh_ext = dh + [torch.zeros(H, 1, dtype=torch.float64)]
    hs_ext = hs + [torch.zeros(H, 1, dtype=torch.float64)]

    def pre(t):  # (1 - h_t^2) ⊙ dL/dh_t, 1-based t
        return (1 - hs_ext[t] ** 2) * dh_ext[t - 1]

    st = torch.stack
    rng = range(1, T + 1)
    claims = [
        (
            24,
            "holds",
            r"\partial z_{t,i}} = \frac{1}{T}",
            "dL/dz_{t,i}",
            st(list(dz)),
            st([(yhat[t] - onehot[t]) / T for t in range(T)]),
        ),
        (26, "holds", r"\partial V} = \sum", "dL/dV", gV, sum(dz[t - 1] @ hs[t].T for t in rng)),
        (
            31,
            "wrong",
            r"\partial h_t} = V^\top",
            "dL/dh_t",
            st(dh),
            st([V.detach().T @ (yhat[t - 1] - onehot[t - 1]) + Ud.T @ pre(t + 1) for t in rng]),
        ),
        (33, "holds", r"\partial U} = \sum", "dL/dU", gU, sum(pre(t) @ hs[t - 1].T for t in rng)),
        (35, "holds", r"\partial W} = \sum", "dL/dW", gW, sum(pre(t) @ xs[t - 1].T for t in rng)),
        (37, "wrong", r"\partial h_0} = U", "dL/dh_0", dh0, Ud @ pre(1)),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
