"""Verify the corpus note werbos1990-bptt-vector: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """h(t) = tanh(W h(t-1) + U x(t) + b), Yhat(t) = V h(t), E = sum_t 1/2 ||Yhat(t) - Y(t)||^2, h(0) given."""
    torch.manual_seed(19901)
    nx, nh, ny, T = 3, 4, 2, 5
    W, U, V, b = torch.randn(nh, nh), torch.randn(nh, nx), torch.randn(ny, nh), torch.randn(nh, 1)
    params = [W, U, V, b]
    for p in params:
        p.requires_grad_(True)
    h0 = torch.randn(nh, 1, requires_grad=True)
    x = [torch.randn(nx, 1) for _ in range(T)]
    Y = [torch.randn(ny, 1) for _ in range(T)]
    h, Yhat = [h0], []
    for t in range(T):
        h.append(torch.tanh(W @ h[t] + U @ x[t] + b))
        Yhat.append(V @ h[t + 1])
    E = sum(0.5 * ((Yhat[t] - Y[t]) ** 2).sum() for t in range(T))
    g_all = torch.autograd.grad(E, [*h[1:], *params, h0])
    Fh = [None, *g_all[:T], torch.zeros(nh, 1)]  # Fh[t] = d+E/dh(t), t = 1..T, Fh[T+1] = 0
    FW, FU, FV, Fb, Fh0 = g_all[T:]
    jac = [None] + [
        torch.autograd.functional.jacobian(lambda hh, t=t: torch.tanh(W @ hh + U @ x[t] + b), h[t]).reshape(nh, nh)
        for t in range(1, T)
    ]  # jac[t] = dh(t+1)/dh(t), t = 1..T-1
    with torch.no_grad():
        direct = [None] + [V.T @ (Yhat[t - 1] - Y[t - 1]) for t in range(1, T + 1)]
        gnet = [None] + [(1 - h[t] ** 2) * Fh[t] for t in range(1, T + 1)]
        steps = range(1, T + 1)
        return {
            r"{\partial \vh(t)} &=& \frac{\partial E}{\partial \vh(t)} + \left(": equal(
                [(Fh[t], direct[t] + jac[t].T @ Fh[t + 1]) for t in range(1, T)] + [(Fh[T], direct[T])]
            ),
            r"\frac{\partial E}{\partial \vh(t)} &=& V^{\top}": equal(
                # the immediate partial: E as a formula in h(t) with nothing after it varying
                (
                    torch.autograd.functional.jacobian(lambda hh, t=t: 0.5 * ((V @ hh - Y[t - 1]) ** 2).sum(), h[t]),
                    direct[t],
                )
                for t in steps
            ),
            r"{\partial \vh(t)} &=& \mathrm{diag}": equal(
                (jac[t], torch.diag((1 - h[t + 1] ** 2).flatten()) @ W) for t in range(1, T)
            ),
            r"{\partial W} &=& \sum": equal([(FW, sum(gnet[t] @ h[t - 1].T for t in steps))]),
            r"{\partial U} &=& \sum": equal([(FU, sum(((1 - h[t]) * Fh[t]) @ x[t - 1].T for t in steps))]),
            r"{\partial \mathbf{b}} &=& \sum_{t=1}^{T-1}": equal([(Fb, sum(gnet[t] for t in range(1, T)))]),
            r"{\partial V} &=& \sum": equal([(FV, sum((Y[t - 1] - Yhat[t - 1]) @ h[t].T for t in steps))]),
            r"{\partial \vh(0)} &=& W^{\top}": equal([(Fh0, W.T @ gnet[1])]),
        }


if __name__ == "__main__":
    sys.exit(main())
