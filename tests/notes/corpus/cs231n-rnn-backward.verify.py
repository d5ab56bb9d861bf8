"""cs231n-rnn-backward: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "cs231n-rnn-backward"


def main() -> int:
    gen = torch.Generator().manual_seed(231)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.6

    N, D, H, V, T = 3, 4, 3, 5, 4
    W_x, W_h, b, W_out, b_out = rand(D, H), rand(H, H), rand(H), rand(H, V), rand(V)
    params = [W_x, W_h, b, W_out]
    for p in params:
        p.requires_grad_(True)
    xs = [rand(N, D).requires_grad_(True) for _ in range(T)]
    Ys = [torch.nn.functional.one_hot(torch.randint(0, V, (N,), generator=gen), V).to(torch.float64) for _ in range(T)]
    h0 = rand(N, H).requires_grad_(True)
    h, hs, ss, pa, ph, ps = h0, [h0.detach()], [], [], [], []
    L = 0.0
    for t in range(T):
        qa, qh, qs = probe(N, H), probe(N, H), probe(N, V)
        a = xs[t] @ W_x + h @ W_h + b + qa
        h = torch.tanh(a) + qh
        s = h @ W_out + b_out + qs
        L = L - (Ys[t] * torch.log_softmax(s, dim=1)).sum() / N
        hs.append(h.detach())
        ss.append(s.detach())
        pa.append(qa)
        ph.append(qh)
        ps.append(qs)
    grads = torch.autograd.grad(L, params + [h0] + xs + pa + ph + ps)
    gW_x, gW_h, gb, gW_out, dh0 = grads[:5]
    dx = grads[5 : 5 + T]
    da = list(grads[5 + T : 5 + 2 * T]) + [torch.zeros(N, H, dtype=torch.float64)]
    dh, ds = grads[5 + 2 * T : 5 + 3 * T], grads[5 + 3 * T :]
    Whd, Wxd, Wod = W_h.detach(), W_x.detach(), W_out.detach()
    ones = torch.ones(1, N, dtype=torch.float64)
    st = torch.stack
    rng = range(T)
    claims = [
        (
            25,
            "holds",
            r"ds_t = \frac{1}{N}",
            "ds_t with the batch mean",
            st(list(ds)),
            st([(torch.softmax(ss[t], dim=1) - Ys[t]) / N for t in rng]),
        ),
        (27, "holds", r"dW_{out} = \sum", "dW_out", gW_out, sum(hs[t + 1].T @ ds[t] for t in rng)),
        (
            31,
            "holds",
            r"da_t = dh_t \odot",
            "da_t through the tanh",
            st(da[:T]),
            st([dh[t] * (1 - hs[t + 1] * hs[t + 1]) for t in rng]),
        ),
        (
            33,
            "wrong",
            r"dh_t = ds_t W_{out}^\top",
            "dh_t",
            st(list(dh)),
            st([ds[t] @ Wod.T + da[t + 1] @ Whd for t in rng]),
        ),
        (
            35,
            "holds",
            r"dx_t = da_t W_x^\top",
            "dx_t, the input gradient",
            st(list(dx)),
            st([da[t] @ Wxd.T for t in rng]),
        ),
        (37, "holds", r"dh_0 = da_1 W_h^\top", "dh_0", dh0, da[0] @ Whd.T),
        (39, "holds", r"dW_x = \sum", "dW_x", gW_x, sum(xs[t].detach().T @ da[t] for t in rng)),
        (41, "wrong", r"dW_h = \sum", "dW_h", gW_h, sum(da[t].T @ hs[t] for t in rng)),
        (43, "holds", r"db = \sum", "db as column sums", gb, sum(ones @ da[t] for t in rng).reshape(H)),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
