"""Verify the corpus note elman1990-context-units: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """Elman SRN with the mean error over T steps; logistic units; c(1) = 0.5."""
    torch.manual_seed(1991)
    nx, nh, ny, T = 3, 4, 2, 5
    W_hx, W_hc, W_yh = torch.randn(nh, nx), torch.randn(nh, nh), torch.randn(ny, nh)
    b_h, b_y = torch.randn(nh, 1), torch.randn(ny, 1)
    params = [W_hc, W_yh, b_y]
    for p in params:
        p.requires_grad_(True)
    x = [torch.randn(nx, 1, requires_grad=True) for _ in range(T)]
    d = [torch.rand(ny, 1) for _ in range(T)]
    c, net_h, h, net_y, y = [torch.full((nh, 1), 0.5)], [], [], [], []
    for t in range(T):
        net_h.append(W_hx @ x[t] + W_hc @ c[t] + b_h)
        h.append(torch.sigmoid(net_h[t]))
        c.append(h[t])
        net_y.append(W_yh @ h[t] + b_y)
        y.append(torch.sigmoid(net_y[t]))
    E = sum(0.5 * ((y[t] - d[t]) ** 2).sum() for t in range(T)) / T
    g = torch.autograd.grad(E, [*net_y, *net_h, *params, *x])
    dy, dh = g[:T], g[T : 2 * T]
    gW_hc, gW_yh, gb_y = g[2 * T : 2 * T + 3]
    gx = g[2 * T + 3 :]
    dh_next = list(dh[1:]) + [torch.zeros(nh, 1)]

    def sig_prime(u):
        return torch.autograd.functional.jacobian(lambda v: torch.sigmoid(v).sum(), u)

    u = torch.linspace(-6, 6, 25)
    one_step = [
        torch.autograd.functional.jacobian(lambda hh, t=t: torch.sigmoid(W_hx @ x[t + 1] + W_hc @ hh + b_h), h[t])
        for t in range(T - 1)
    ]
    with torch.no_grad():
        sp = [h[t] * (1 - h[t]) for t in range(T)]
        return {
            r"\sig'(u) = \sig(u)\,\bigl(1 - \sig(u)\bigr)": equal(
                [(sig_prime(u), torch.sigmoid(u) * (1 - torch.sigmoid(u)))]
            ),
            r"\bm\delta_y(t) &= \frac{1}{T}": equal((dy[t], (y[t] - d[t]) * y[t] * (1 - y[t]) / T) for t in range(T)),
            r"\bm\delta_h(t) &= \sig'(\net{h}(t)) \odot W_{yh}^\top": equal(
                (dh[t], sp[t] * (W_yh.T @ dy[t]) + sp[t] * (W_hc.T @ dh_next[t])) for t in range(T)
            ),
            r"\frac{\partial \hid(t+1)}{\partial \hid(t)} =": equal(
                (one_step[t].reshape(nh, nh), torch.diag(sp[t + 1].flatten()) @ W_hc.T) for t in range(T - 1)
            ),
            r"\partial W_{yh}} &= \sum": equal([(gW_yh, sum(dy[t] @ h[t].T for t in range(T)))]),
            r"\partial \mathbf{b}_y} &= \sum": equal(
                [(gb_y, sum((y[t] - d[t]) * y[t] * (1 - y[t]) for t in range(T)))]
            ),
            r"\partial W_{hc}} &= \sum": equal([(gW_hc, sum(dh[t] @ c[t].T for t in range(T)))]),
            r"\partial \mathbf{x}(t)} &= W_{hx}^\top": equal((gx[t], W_hx.T @ dh[t]) for t in range(T)),
        }


if __name__ == "__main__":
    sys.exit(main())
