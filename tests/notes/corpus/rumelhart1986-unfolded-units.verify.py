"""Verify the corpus note rumelhart1986-unfolded-units: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """Unfolded logistic network, linear outputs, E = 1/2 sum_t sum_k (y_k - d_k)^2."""
    torch.manual_seed(1986)
    inputs, H, K, T = 3, 4, 5, 6
    w, r, v = torch.randn(H, inputs), torch.randn(H, H), torch.randn(K, H)  # w[j, i], r[j, l], v[k, j]
    for p in (w, r, v):
        p.requires_grad_(True)
    x = [None] + [torch.randn(inputs) for _ in range(T)]
    d = [None] + [torch.randn(K) for _ in range(T)]
    o0 = torch.randn(H, requires_grad=True)
    o, net, y = [o0], [None], [None]
    for t in range(1, T + 1):
        net_t = w @ x[t] + r @ o[t - 1]
        net_t.retain_grad()
        net.append(net_t)
        o_t = torch.sigmoid(net_t)
        o_t.retain_grad()
        o.append(o_t)
        y_t = v @ o_t
        y_t.retain_grad()
        y.append(y_t)
    E = 0.5 * sum(((y[t] - d[t]) ** 2).sum() for t in range(1, T + 1))
    E.backward()
    steps = range(1, T + 1)
    with torch.no_grad():
        gnet = [None] + [net[t].grad for t in steps] + [torch.zeros(H)]
        return {
            r"{\partial y_k(t)} = y_k(t)": equal((y[t].grad, y[t] - d[t]) for t in steps),
            r"{\partial net_j(t)} = o_j(t)": equal((gnet[t], o[t] * (1 - o[t]) * o[t].grad) for t in steps),
            # sum_l r_jl dE/dnet_l(t+1) read as written: (r @ gnet)[j]
            r"{\partial o_j(t)} = \sum_k": equal(
                (o[t].grad, v.T @ (y[t] - d[t]) + r @ gnet[t + 1]) for t in steps
            ),
            r"{\partial v_{kj}} = \sum": equal([(v.grad, sum(torch.outer(y[t] - d[t], o[t]) for t in steps))]),
            r"{\partial w_{ji}} = \sum": equal([(w.grad, sum(torch.outer(gnet[t], x[t]) for t in steps))]),
            # o_j(t-1) in place of o_l(t-1): entry (j, l) is sum_t gnet_j(t) o_j(t-1), the same for every l
            r"{\partial r_{jl}} = \sum": equal(
                [(r.grad, sum(torch.outer(gnet[t] * o[t - 1], torch.ones(H)) for t in steps))]
            ),
            r"{\partial o_l(0)} = \sum_j": equal([(o0.grad, r.T @ gnet[1])]),
        }


if __name__ == "__main__":
    sys.exit(main())
