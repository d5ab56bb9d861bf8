"""Verify the corpus note mikolov2012-rnnlm-units: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """RNNLM in unit notation with the mean objective L = -(1/T) sum_t log y_{w(t+1)}(t)."""
    torch.manual_seed(32)
    N, H, T = 5, 4, 6
    u, w_rec, v = torch.randn(H, N), torch.randn(H, H), torch.randn(N, H)  # u[j, i], w[j, l], v[k, j]
    for p in (u, w_rec, v):
        p.requires_grad_(True)
    words = torch.randint(0, N, (T + 2,))
    w = [torch.nn.functional.one_hot(words[t], N).double() for t in range(T + 2)]
    s0 = torch.rand(H, requires_grad=True)
    s, net, y = [s0], [None], [None]
    for t in range(1, T + 1):
        net.append(u @ w[t] + w_rec @ s[t - 1])
        s.append(torch.sigmoid(net[t]))
        y.append(torch.softmax(v @ s[t], 0))
    L = -sum(torch.log(y[t][words[t + 1]]) for t in range(1, T + 1)) / T
    g = torch.autograd.grad(L, [*net[1:], u, w_rec, v, s0])
    e_h = [None] + [-x for x in g[:T]] + [torch.zeros(H)]
    gu, gw, gv, gs0 = g[T:]
    steps = range(1, T + 1)
    with torch.no_grad():
        d = [None] + [w[t + 1] for t in steps]
        return {
            r"e_{hj}(t) &= s_j(t)": equal(
                # sum_l e_hl(t+1) w_jl read as written: (w_rec @ e_h)[j]
                (e_h[t], s[t] * (1 - s[t]) * (v.T @ (d[t] - y[t]) / T + w_rec @ e_h[t + 1]))
                for t in steps
            ),
            r"{\partial v_{kj}} &= \sum": equal([(gv, sum(torch.outer(y[t] - d[t], s[t]) for t in steps))]),
            r"{\partial w_{jl}} &= -\sum": equal([(gw, -sum(torch.outer(e_h[t], s[t - 1]) for t in steps))]),
            r"{\partial u_{ji}} &= -\sum": equal([(gu, -sum(torch.outer(e_h[t], w[t]) for t in steps))]),
            r"{\partial s_l(0)} &= -\sum_{j}": equal([(gs0, -(w_rec.T @ e_h[1]))]),
        }


if __name__ == "__main__":
    sys.exit(main())
