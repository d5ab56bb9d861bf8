"""d2l-rnn-scratch: every claim of the notebook recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "d2l-rnn-scratch"


def main() -> int:
    gen = torch.Generator().manual_seed(95)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    n, d, h, q, T = 3, 4, 3, 5, 4
    W_xh, W_hh, b_h, W_hq, b_q = rand(d, h), rand(h, h), rand(1, h), rand(h, q), rand(1, q)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    for p in params:
        p.requires_grad_(True)
    Xs = [rand(n, d) for _ in range(T)]
    targets = [torch.randint(0, q, (n,), generator=gen) for _ in range(T)]
    Ys = [torch.nn.functional.one_hot(y, q).to(torch.float64) for y in targets]
    H = rand(n, h)  # carried over from the previous minibatch
    Hs, Os, pH, pO = [H], [], [], []
    loss = 0.0
    for t in range(T):
        ph, po = probe(n, h), probe(n, q)
        H = torch.tanh(Xs[t] @ W_xh + H @ W_hh + b_h) + ph
        O_t = H @ W_hq + b_q + po
        logp = torch.log_softmax(O_t, dim=1)
        loss = loss - logp[torch.arange(n), targets[t]].sum()
        Hs.append(H)
        Os.append(O_t)
        pH.append(ph)
        pO.append(po)
    L = loss / (n * T)
    grads = torch.autograd.grad(L, params + pH + pO)
    gW_xh, gW_hh, gb_h, gW_hq, gb_q = grads[:5]
    dH, dO = list(grads[5 : 5 + T]), list(grads[5 + T :])
    Hd = [x.detach() for x in Hs]  # Hd[t] is H_t, Hd[0] is H_0
    S = [torch.softmax(o.detach(), dim=1) for o in Os]
    ones = torch.ones(1, n, dtype=torch.float64)
    Whh, Whq = W_hh.detach(), W_hq.detach()

    def dpre(t):  # dL/dH_t ⊙ (1 - H_t^2), t = 1..T
        return dH[t - 1] * (1 - Hd[t] ** 2)

    def dH_next(t):  # the (dL/dH_{t+1} ⊙ (1 - H_{t+1}^2)) W_hh^T term, zero at t = T
        return dpre(t + 1) @ Whh.T if t < T else torch.zeros(n, h, dtype=torch.float64)

    st = torch.stack
    rng = range(1, T + 1)
    claims = [
        (
            66,
            "holds",
            r"\mathbf{O}_t} = \frac{1}{nT}",
            "dL/dO_t",
            st(dO),
            st([(S[t] - Ys[t]) / (n * T) for t in range(T)]),
        ),
        (68, "holds", r"\mathbf{W}_{hq}} = \sum", "dL/dW_hq", gW_hq, sum(Hd[t].T @ dO[t - 1] for t in rng)),
        (70, "wrong", r"\mathbf{b}_q} = \sum", "dL/db_q", gb_q, sum(ones @ (S[t] - Ys[t]) for t in range(T))),
        (
            74,
            "holds",
            r"\mathbf{H}_t} = \frac{\partial L}{\partial \mathbf{O}_t}",
            "dL/dH_t",
            st(dH),
            st([dO[t - 1] @ Whq.T + dH_next(t) for t in rng]),
        ),
        (76, "holds", r"\mathbf{W}_{xh}} = \sum", "dL/dW_xh", gW_xh, sum(Xs[t - 1].T @ dpre(t) for t in rng)),
        (
            78,
            "wrong",
            r"\mathbf{W}_{hh}} = \sum_{t=2}",
            "dL/dW_hh from t = 2",
            gW_hh,
            sum(Hd[t - 1].T @ dpre(t) for t in range(2, T + 1)),
        ),
        (80, "holds", r"\mathbf{b}_h} = \sum", "dL/db_h", gb_h, sum(ones @ dpre(t) for t in rng)),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
