"""Verify the corpus note nielsen-delta-through-time: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """z^(t) = W a^(t-1) + U x^(t) + b, a^(t) = sigma(z^(t)), C = 1/2 sum_t ||a^(t) - y^(t)||^2."""
    torch.manual_seed(2015)
    D, H, T = 3, 4, 5
    W, U, b = torch.randn(H, H), torch.randn(H, D), torch.randn(H, 1)
    a0 = torch.randn(H, 1)
    for p in (W, U, b, a0):
        p.requires_grad_(True)
    x = [None] + [torch.randn(D, 1).requires_grad_(True) for _ in range(T)]
    y = [None] + [torch.randn(H, 1) for _ in range(T)]
    a, z = [a0], [None]
    for t in range(1, T + 1):
        z.append(W @ a[t - 1] + U @ x[t] + b)
        a.append(torch.sigmoid(z[t]))
    C = 0.5 * sum(((a[t] - y[t]) ** 2).sum() for t in range(1, T + 1))
    g = torch.autograd.grad(C, [*z[1:], W, U, b, a0, *x[1:]])
    delta = [None, *g[:T], torch.zeros(H, 1)]
    gW, gU, gb, ga0 = g[T : T + 4]
    gx = [None, *g[T + 4 :]]
    steps = range(1, T + 1)
    with torch.no_grad():
        ds = [None] + [a[t] * (1 - a[t]) for t in steps]  # sigma'(z^(t))
        return {
            r"$$\delta^{(T)} = ": equal([(delta[T], (a[T] - y[T]) * ds[T])]),
            r"$$\delta^{(t)} = ": equal((delta[t], (W.T @ delta[t + 1] + a[t] - y[t]) * ds[t]) for t in steps),
            r"{\partial b} = ": equal([(gb, sum(delta[t] for t in steps))]),
            r"{\partial W} = ": equal([(gW, sum(delta[t] @ a[t - 1].T for t in steps))]),
            r"{\partial U} = ": equal([(gU, sum(delta[t] @ x[t].T for t in range(2, T + 1)))]),
            r"{\partial x^{(t)}} = ": equal((gx[t], U.T @ delta[t]) for t in steps),
            r"{\partial a^{(0)}} = ": equal([(ga0, W @ delta[1])]),
        }


if __name__ == "__main__":
    sys.exit(main())
