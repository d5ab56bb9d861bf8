"""cs231n-lstm-backward: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "cs231n-lstm-backward"


def main() -> int:
    gen = torch.Generator().manual_seed(3231)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.6

    N, D, H, T = 2, 3, 2, 4
    W_x, W_h, b = rand(D, 4 * H), rand(H, 4 * H), rand(4 * H)
    for p in (W_x, b):
        p.requires_grad_(True)
    xs = [rand(N, D) for _ in range(T)]
    A, B = [rand(N, H) for _ in range(T)], [rand(N, H) for _ in range(T)]

    def ell(t, h):  # a generic smooth per-step loss on top of the states
        return (A[t] * torch.log(torch.cosh(h)) + B[t] * h).sum()

    sig = torch.sigmoid
    c0 = rand(N, H).requires_grad_(True)
    h, c = rand(N, H), c0
    hs, cs, gates, pa, ph, pc = [h.detach()], [c0.detach()], [], [], [], []
    L = 0.0
    for t in range(T):
        qa, qh, qc = probe(N, 4 * H), probe(N, H), probe(N, H)
        a = xs[t] @ W_x + h @ W_h + b + qa
        i, f, o, g = sig(a[:, :H]), sig(a[:, H : 2 * H]), sig(a[:, 2 * H : 3 * H]), torch.tanh(a[:, 3 * H :])
        c = f * c + i * g + qc
        h = o * torch.tanh(c) + qh
        L = L + ell(t, h)
        hs.append(h.detach())
        cs.append(c.detach())
        gates.append((i.detach(), f.detach(), o.detach(), g.detach()))
        pa.append(qa)
        ph.append(qh)
        pc.append(qc)
    grads = torch.autograd.grad(L, [W_x, b, c0] + pa + ph + pc)
    gW_x, gb, dc0 = grads[:3]
    da = list(grads[3 : 3 + T]) + [torch.zeros(N, 4 * H, dtype=torch.float64)]
    dh = grads[3 + T : 3 + 2 * T]
    dc = list(grads[3 + 2 * T :]) + [torch.zeros(N, H, dtype=torch.float64)]
    Delta = []
    for t in range(T):
        v = hs[t + 1].clone().requires_grad_(True)
        Delta.append(torch.autograd.grad(ell(t, v), v)[0])
    f_next = [gates[t + 1][1] if t + 1 < T else torch.zeros(N, H, dtype=torch.float64) for t in range(T)]
    ones = torch.ones(1, N, dtype=torch.float64)

    def blocks(t):
        i, f, o, g = gates[t]
        return torch.cat(
            [
                dc[t] * g * i * (1 - i),
                dc[t] * cs[t] * f * (1 - f),
                dh[t] * torch.tanh(cs[t + 1]) * o * (1 - o),
                dc[t] * i * (1 - g**2),
            ],
            dim=1,
        )

    def reordered(t):  # [da^i, da^f, da^g, da^o] from the true da_t = [da^i, da^f, da^o, da^g]
        q = da[t]
        return torch.cat([q[:, :H], q[:, H : 2 * H], q[:, 3 * H :], q[:, 2 * H : 3 * H]], dim=1)

    st = torch.stack
    rng = range(T)
    claims = [
        (
            26,
            "holds",
            r"dh_t = \Delta_t + da_{t+1} W_h^\top",
            "dh_t",
            st(list(dh)),
            st([Delta[t] + da[t + 1] @ W_h.T for t in rng]),
        ),
        (
            28,
            "holds",
            r"dc_t = dh_t \odot o_t",
            "dc_t",
            st(dc[:T]),
            st([dh[t] * gates[t][2] * (1 - torch.tanh(cs[t + 1]) ** 2) + dc[t + 1] * f_next[t] for t in rng]),
        ),
        (
            30,
            "holds",
            r"da_t = \begin{bmatrix}",
            "da_t as four column blocks",
            st(da[:T]),
            st([blocks(t) for t in rng]),
        ),
        (34, "wrong", r"dW_x = \sum", "dW_x with blocks i, f, g, o", gW_x, sum(xs[t].T @ reordered(t) for t in rng)),
        (36, "holds", r"db = \sum", "db", gb, sum(ones @ da[t] for t in rng).reshape(4 * H)),
        (38, "wrong", r"dc_0 = dc_1", "dc_0", dc0, dc[0]),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
