"""pytorch-nn-rnn-minibatch: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "pytorch-nn-rnn-minibatch"


def main() -> int:
    gen = torch.Generator().manual_seed(1718)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.6

    N, D, H, K, T = 3, 2, 4, 2, 4
    W_ih, W_hh, W_y = rand(H, D), rand(H, H), rand(K, H)
    b_ih, b_hh, b_y = rand(1, H), rand(1, H), rand(1, K)
    for p in (W_ih, W_hh, W_y, b_ih):
        p.requires_grad_(True)
    xs = [rand(N, D).requires_grad_(True) for _ in range(T)]
    zs = [rand(N, K) for _ in range(T)]
    h0 = rand(N, H).requires_grad_(True)
    h, hs, ys, pa, ph, py = h0, [h0.detach()], [], [], [], []
    loss = 0.0
    for t in range(T):
        qa, qh, qy = probe(N, H), probe(N, H), probe(N, K)
        a = xs[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh + qa
        h = torch.tanh(a) + qh
        y = h @ W_y.T + b_y + qy
        loss = loss + ((y - zs[t]) ** 2).sum()
        hs.append(h.detach())
        ys.append(y.detach())
        pa.append(qa)
        ph.append(qh)
        py.append(qy)
    loss = loss / (N * T * K)
    grads = torch.autograd.grad(loss, [W_ih, W_hh, W_y, b_ih, h0] + xs + pa + ph + py)
    gW_ih, gW_hh, gW_y, gb_ih, gh0 = grads[:5]
    gx = grads[5 : 5 + T]
    ga = list(grads[5 + T : 5 + 2 * T]) + [torch.zeros(N, H, dtype=torch.float64)]
    gh = grads[5 + 2 * T : 5 + 3 * T]
    gy = grads[5 + 3 * T :]
    ones = torch.ones(1, N, dtype=torch.float64)

    st = torch.stack
    rng = range(T)
    claims = [
        (
            25,
            "holds",
            r"\nabla_{y_t} L = \frac{2}{NTK}",
            "grad y_t",
            st(list(gy)),
            st([2 / (N * T * K) * (ys[t] - zs[t]) for t in rng]),
        ),
        (
            27,
            "holds",
            r"\nabla_{h_t} L = \nabla_{y_t} L",
            "grad h_t",
            st(list(gh)),
            st([gy[t] @ W_y + ga[t + 1] @ W_hh for t in rng]),
        ),
        (
            29,
            "holds",
            r"\nabla_{a_t} L = \nabla_{h_t} L \odot",
            "grad a_t",
            st(ga[:T]),
            st([gh[t] * (1 - hs[t + 1] * hs[t + 1]) for t in rng]),
        ),
        (31, "holds", r"\nabla_{x_t} L =", "grad x_t", st(list(gx)), st([ga[t] @ W_ih for t in rng])),
        (33, "holds", r"\nabla_{W_{ih}} L =", "grad W_ih", gW_ih, sum(ga[t].T @ xs[t] for t in rng)),
        (35, "wrong", r"\nabla_{W_{hh}} L =", "grad W_hh transposed", gW_hh, sum(hs[t].T @ ga[t] for t in rng)),
        (37, "holds", r"\nabla_{b_{ih}} L =", "grad b_ih", gb_ih, sum(ones @ ga[t] for t in rng)),
        (
            39,
            "wrong",
            r"\nabla_{W_y} L =",
            "grad W_y without 1/N",
            gW_y,
            2 / (T * K) * sum((ys[t] - zs[t]).T @ hs[t + 1] for t in rng),
        ),
        (41, "holds", r"\nabla_{h_0} L =", "grad h_0", gh0, ga[0] @ W_hh),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
