"""Verify the corpus note mikolov2012-rnnlm-bptt: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """RNNLM: s(t) = sigmoid(U w(t) + W s(t-1)), y(t) = softmax(V s(t)), L = -sum_t log y_{w(t+1)}(t)."""
    torch.manual_seed(2012)
    N, H, T = 5, 4, 6
    U, W, V = torch.randn(H, N), torch.randn(H, H), torch.randn(N, H)
    for p in (U, W, V):
        p.requires_grad_(True)
    words = torch.randint(0, N, (T + 2,))
    w = [torch.nn.functional.one_hot(words[t], N).double() for t in range(T + 2)]
    s0 = torch.rand(H, requires_grad=True)
    s, net, y = [s0], [None], [None]
    for t in range(1, T + 1):
        net.append(U @ w[t] + W @ s[t - 1])
        s.append(torch.sigmoid(net[t]))
        y.append(torch.softmax(V @ s[t], 0))
    L = -sum(torch.log(y[t][words[t + 1]]) for t in range(1, T + 1))
    g = torch.autograd.grad(L, [*net[1:], U, W, V, s0])
    e_h = [None] + [-x for x in g[:T]] + [torch.zeros(H)]
    gU, gW, gV, gs0 = g[T:]
    steps = range(1, T + 1)
    with torch.no_grad():
        e_o = [None] + [w[t + 1] - y[t] for t in steps]

        def d_h(x, t):
            return x * s[t] * (1 - s[t])

        return {
            r"$$\mathbf{e}_h(t) = d_h\left(": equal((e_h[t], d_h(V.T @ e_o[t] + W.T @ e_h[t + 1], t)) for t in steps),
            r"{\partial V} = \sum": equal([(-gV, sum(torch.outer(e_o[t], s[t]) for t in steps))]),
            r"{\partial U} = \sum": equal([(-gU, sum(torch.outer(e_h[t], w[t]) for t in steps))]),
            r"{\partial W} = \sum": equal([(-gW, sum(torch.outer(e_h[t], s[t]) for t in steps))]),
            r"{\partial \mathbf{s}(0)} = W^\top": equal([(gs0, W.T @ e_h[1])]),
        }


if __name__ == "__main__":
    sys.exit(main())
