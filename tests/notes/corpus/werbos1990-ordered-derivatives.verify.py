"""Verify the corpus note werbos1990-ordered-derivatives: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """Werbos's ordered network: inputs 1..m, hidden m+1..N, outputs N+1..N+n; W (same step, j < i), W' (lagged)."""
    torch.manual_seed(1990)
    m, N, n, T = 2, 4, 2, 4
    U = N + n
    W = torch.randn(U + 1, U + 1)  # 1-based: W[i, j] is W_ij; only j < i, i > m is used
    Wp = 0.8 * torch.randn(U + 1, U + 1)  # W'_ij, i > m, any j
    W.requires_grad_(True)
    Wp.requires_grad_(True)
    X = {(i, t): torch.randn((), requires_grad=True) for i in range(1, m + 1) for t in range(1, T + 1)}
    Y = {(i, t): torch.rand(()) for i in range(1, n + 1) for t in range(1, T + 1)}
    x = {(j, 0): torch.zeros(()) for j in range(1, U + 1)}
    net = {}
    for t in range(1, T + 1):
        for i in range(1, m + 1):
            x[i, t] = X[i, t]
        for i in range(m + 1, U + 1):
            net[i, t] = sum(W[i, j] * x[j, t] for j in range(1, i)) + sum(
                Wp[i, j] * x[j, t - 1] for j in range(1, U + 1)
            )
            x[i, t] = torch.sigmoid(net[i, t])
    E = sum(0.5 * (x[N + i, t] - Y[i, t]) ** 2 for i in range(1, n + 1) for t in range(1, T + 1))
    hidden = [(i, t) for t in range(1, T + 1) for i in range(m + 1, U + 1)]
    inputs = [(i, t) for t in range(1, T + 1) for i in range(1, m + 1)]
    g = torch.autograd.grad(E, [x[k] for k in hidden] + [net[k] for k in hidden] + [X[k] for k in inputs] + [W, Wp])
    Fx = dict(zip(hidden, g[: len(hidden)], strict=True))
    Fnet = dict(zip(hidden, g[len(hidden) : 2 * len(hidden)], strict=True))
    FX = dict(zip(inputs, g[2 * len(hidden) : 2 * len(hidden) + len(inputs)], strict=True))
    FW, FWp = g[-2], g[-1]

    def fnet(j, t):
        return Fnet[j, t] if t <= T else torch.zeros(())

    def fyhat(i, t):
        return x[i, t] - Y[i - N, t] if i > N else torch.zeros(())

    pairs = [(i, j) for i in range(m + 1, U + 1) for j in range(1, U + 1)]
    with torch.no_grad():
        return {
            r"$$F\_x_i(t) = F\_\hat{Y}_{i-N}(t)": equal(
                (
                    Fx[i, t],
                    fyhat(i, t)
                    + sum((W[j, i] * fnet(j, t) for j in range(i + 1, U + 1)), torch.zeros(()))
                    + sum(Wp[i, j] * fnet(j, t + 1) for j in range(m + 1, U + 1)),
                )
                for (i, t) in hidden
            ),
            r"$$F\_net_i(t) = s'(net_i(t))": equal(
                (Fnet[i, t], x[i, t] * (1 - x[i, t]) * Fx[i, t]) for (i, t) in hidden
            ),
            r"$$s'(net_i(t)) = x_i(t)": equal(
                (torch.func.grad(torch.sigmoid)(net[i, t]), x[i, t] * (1 - x[i, t])) for (i, t) in hidden
            ),
            r"$$F\_X_i(t) = ": equal(
                (
                    FX[i, t],
                    sum(W[j, i] * fnet(j, t) for j in range(m + 1, U + 1))
                    + sum(Wp[j, i] * fnet(j, t + 1) for j in range(m + 1, U + 1)),
                )
                for (i, t) in inputs
            ),
            r"$$F\_W_{ij} = ": equal(
                (FW[i, j], sum(fnet(i, t) * x[j, t] for t in range(1, T + 1))) for (i, j) in pairs if j < i
            ),
            r"$$F\_W'_{ij} = ": equal(
                (FWp[i, j], sum(fnet(i, t) * x[j, t] for t in range(1, T + 1))) for (i, j) in pairs
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
