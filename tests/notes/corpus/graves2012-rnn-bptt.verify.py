"""Verify the corpus note graves2012-rnn-bptt: each claim by torch autograd in float64 (see its .expect.toml)."""

import pathlib
import sys

import torch
from _harness import equal, report_anchored

torch.set_default_dtype(torch.float64)

SLUG = pathlib.Path(__file__).name.removesuffix(".verify.py")


def main():
    """Compare each claim's computed truth with the manifest; 0 iff all agree."""
    return report_anchored(SLUG, claims())


def claims():
    """Graves 3.2: w_ij from unit i to unit j; tanh hidden, softmax outputs, cross-entropy with one-hot z."""
    torch.manual_seed(2012)
    NI, H, K, T = 3, 4, 3, 5
    w_ih, w_hh, w_hk = torch.randn(NI, H), torch.randn(H, H), torch.randn(H, K)  # [from, to]
    for p in (w_ih, w_hh, w_hk):
        p.requires_grad_(True)
    x = [None] + [torch.randn(NI) for _ in range(T)]
    target = torch.randint(0, K, (T + 1,))
    z = [None] + [torch.nn.functional.one_hot(target[t], K).double() for t in range(1, T + 1)]
    b, a_h, a_k, y = [torch.zeros(H)], [None], [None], [None]
    for t in range(1, T + 1):
        a_h.append(x[t] @ w_ih + b[t - 1] @ w_hh)  # a_h^t = sum_i w_ih x_i + sum_h' w_h'h b_h'
        b.append(torch.tanh(a_h[t]))
        a_k.append(b[t] @ w_hk)
        y.append(torch.softmax(a_k[t], 0))
    L = -sum((z[t] * torch.log(y[t])).sum() for t in range(1, T + 1))
    g = torch.autograd.grad(L, [*a_h[1:], *a_k[1:], w_ih, w_hh, w_hk])
    dh = [None, *g[:T], torch.zeros(H)]
    dk = [None, *g[T : 2 * T]]
    g_ih, g_hh, g_hk = g[2 * T :]
    steps = range(1, T + 1)
    with torch.no_grad():
        return {
            r"$$\delta_k^t = y_k^t - z_k^t$$": equal((dk[t], y[t] - z[t]) for t in steps),
            r"$$\delta_h^t = \theta'(a_h^t)": equal(
                # sum_h' delta_h'^{t+1} w_h'h: the note's index order, read as w[h', h]
                (dh[t], (1 - b[t] ** 2) * (w_hk @ dk[t] + w_hh.T @ dh[t + 1]))
                for t in steps
            ),
            r"$$\theta'(a_h^t) = 1 - (b_h^t)^2$$": equal(
                (torch.func.vmap(torch.func.grad(torch.tanh))(a_h[t]), 1 - b[t] ** 2) for t in steps
            ),
            r"= \sum_{t=1}^{T} \delta_j^t b_i^t$$": equal(
                [
                    (g_ih, sum(torch.outer(x[t], dh[t]) for t in steps)),
                    (g_hk, sum(torch.outer(b[t], dk[t]) for t in steps)),
                ]
            ),
            r"{\partial w_{h'h}} = \sum": equal([(g_hh, sum(torch.outer(b[t], dh[t]) for t in steps))]),
        }


if __name__ == "__main__":
    sys.exit(main())
