"""karpathy-min-char-rnn: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "karpathy-min-char-rnn"


def main() -> int:
    gen = torch.Generator().manual_seed(7)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.5

    V, H, T = 5, 4, 4  # vocabulary, hidden size, steps
    W_xh, W_hh, W_hy, b_h, b_y = rand(H, V), rand(H, H), rand(V, H), rand(H, 1), rand(V, 1)
    params = [W_xh, W_hh, W_hy, b_h, b_y]
    for p in params:
        p.requires_grad_(True)
    chars = torch.randint(0, V, (T + 1,), generator=gen)
    eye = torch.eye(V, dtype=torch.float64)
    xs = [eye[:, chars[t] : chars[t] + 1] for t in range(T)]
    ks = [int(chars[t + 1]) for t in range(T)]
    h0 = rand(H, 1).requires_grad_(True)
    h, hs, ys, ph_list, py_list = h0, [h0], [], [], []
    L = 0.0
    for t in range(T):
        ph, py = probe(H), probe(V)
        h = torch.tanh(W_xh @ xs[t] + W_hh @ h + b_h) + ph
        y = W_hy @ h + b_y + py
        L = L - torch.log_softmax(y, dim=0)[ks[t], 0]
        hs.append(h)
        ys.append(y)
        ph_list.append(ph)
        py_list.append(py)
    grads = torch.autograd.grad(L, params + [h0] + ph_list + py_list)
    dW_xh, dW_hh, dW_hy, db_h, db_y, dh0 = grads[:6]
    dh, dy = grads[6 : 6 + T], grads[6 + T :]
    hd = [v.detach() for v in hs]  # hd[t] = h_t, hd[0] = h_0
    ps = [torch.softmax(v.detach(), dim=0) for v in ys]
    Whh, Why = W_hh.detach(), W_hy.detach()
    # the note's two definitions, built from the true dh_t
    dh_raw = [None] + [(1 - hd[t] * hd[t]) * dh[t - 1] for t in range(1, T + 1)]
    dh_next = [None] + [
        Whh.T @ dh_raw[t + 1] if t < T else torch.zeros(H, 1, dtype=torch.float64) for t in range(1, T + 1)
    ]
    rng = range(1, T + 1)
    st = torch.stack
    claims = [
        (
            22,
            "holds",
            r"dy_t = p_t - \mathbf{1}[k_t]",
            "dy_t",
            st(dy),
            st([ps[t] - eye[:, ks[t] : ks[t] + 1] for t in range(T)]),
        ),
        (24, "holds", r"dW_{hy} =", "dW_hy", dW_hy, sum(dy[t - 1] @ hd[t].T for t in rng)),
        (26, "wrong", r"db_y =", "db_y", db_y, sum(eye[:, ks[t] : ks[t] + 1] - ps[t] for t in range(T))),
        (37, "holds", r"dh_t = W_{hy}^\top", "dh_t", st(dh), st([Why.T @ dy[t - 1] + dh_next[t] for t in rng])),
        (39, "holds", r"dW_{xh} =", "dW_xh", dW_xh, sum(dh_raw[t] @ xs[t - 1].T for t in rng)),
        (41, "wrong", r"dW_{hh} =", "dW_hh", dW_hh, sum(dh_raw[t] @ hd[t].T for t in rng)),
        (43, "holds", r"db_h =", "db_h", db_h, sum(dh_raw[t] for t in rng)),
        (45, "holds", r"dh_0 =", "dh_0", dh0, Whh.T @ dh_raw[1]),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
