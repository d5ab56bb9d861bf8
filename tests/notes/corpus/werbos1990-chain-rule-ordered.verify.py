"""Verify the corpus note werbos1990-chain-rule-ordered: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """One logistic neuron: net(t) = w x(t-1) + u X(t), x(t) = s(net(t)), E = 1/2 (x(T) - Y)^2."""
    torch.manual_seed(7)
    T = 6
    w, u = torch.tensor(1.7, requires_grad=True), torch.tensor(-0.9, requires_grad=True)
    X = [None] + [torch.randn((), requires_grad=True) for _ in range(T)]
    Y = torch.tensor(0.3)
    x = [torch.tensor(0.2, requires_grad=True)]
    net = [None]
    for t in range(1, T + 1):
        net.append(w * x[t - 1] + u * X[t])
        x.append(torch.sigmoid(net[t]))
    E = 0.5 * (x[T] - Y) ** 2
    g = torch.autograd.grad(E, [*x, *net[1:], w, u, *X[1:]])
    Fx = list(g[: T + 1])  # Fx[t], t = 0..T
    Fnet = [None, *g[T + 1 : 2 * T + 1]]
    Fw, Fu = g[2 * T + 1], g[2 * T + 2]
    FX = [None, *g[2 * T + 3 :]]
    steps = range(1, T + 1)
    with torch.no_grad():

        def sp(z):
            return torch.sigmoid(z) * (1 - torch.sigmoid(z))

        def prod(ts):
            out = torch.ones(())
            for k in ts:
                out = out * w * x[k] * (1 - x[k])
            return out

        return {
            r"$$F\_x(T) = x(T) - Y$$": equal([(Fx[T], x[T] - Y)]),
            r"$$F\_x(t) = w \, s'(net(t+1))": equal((Fx[t], w * sp(net[t + 1]) * Fx[t + 1]) for t in range(1, T)),
            r"$$F\_net(t) = x(t)": equal((Fnet[t], x[t] * (1 - x[t]) * Fx[t]) for t in steps),
            r"\prod_{k=t+1}^{T}": equal((Fx[t], (x[T] - Y) * prod(range(t + 1, T + 1))) for t in steps),
            r"$$F\_w = \sum": equal([(Fw, sum(Fnet[t] * x[t] for t in steps))]),
            r"$$F\_u = \sum": equal([(Fu, sum(Fnet[t] * X[t] for t in steps))]),
            # F_net(T+1) is zero, so the claim is tested where both sides exist and at t = T
            r"$$F\_X(t) = u": equal([(FX[t], u * Fnet[t + 1]) for t in range(1, T)] + [(FX[T], torch.zeros(()))]),
            r"$$F\_x(0) = w": equal([(Fx[0], w * Fnet[1])]),
        }


if __name__ == "__main__":
    sys.exit(main())
