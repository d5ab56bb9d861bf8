"""Verify the corpus note elman1990-srn-bptt: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """Elman SRN: logistic units, context c(t) = h(t-1), c(1) = 0.5, E = 1/2 sum ||y - d||^2."""
    torch.manual_seed(1990)
    nx, nh, ny, T = 3, 4, 3, 5
    W_hx, W_hc, W_yh = torch.randn(nh, nx), torch.randn(nh, nh), torch.randn(ny, nh)
    b_h, b_y = torch.randn(nh, 1), torch.randn(ny, 1)
    params = [W_hx, W_hc, W_yh, b_h]
    for p in params:
        p.requires_grad_(True)
    x = [torch.randn(nx, 1) for _ in range(T)]
    d = [torch.rand(ny, 1) for _ in range(T)]
    c1 = torch.full((nh, 1), 0.5, requires_grad=True)
    c, net_h, h, net_y, y = [c1], [], [], [], []
    for t in range(T):
        net_h.append(W_hx @ x[t] + W_hc @ c[t] + b_h)
        h.append(torch.sigmoid(net_h[t]))
        c.append(h[t])
        net_y.append(W_yh @ h[t] + b_y)
        y.append(torch.sigmoid(net_y[t]))
    E = 0.5 * sum(((y[t] - d[t]) ** 2).sum() for t in range(T))
    g = torch.autograd.grad(E, [*net_y, *net_h, *params, c1])
    dy, dh = g[:T], g[T : 2 * T]
    gW_hx, gW_hc, gW_yh, gb_h, gc1 = g[2 * T :]
    dh_next = list(dh[1:]) + [torch.zeros(nh, 1)]
    with torch.no_grad():
        return {
            r"\boldsymbol\delta_y(t) = (\mathbf{y}(t) - \mathbf{d}(t)) \odot": equal(
                (dy[t], (y[t] - d[t]) * y[t]) for t in range(T)
            ),
            r"\boldsymbol\delta_h(t) = \mathbf{h}(t) \odot": equal(
                (dh[t], h[t] * (1 - h[t]) * (W_yh.T @ dy[t] + W_hc.T @ dh_next[t])) for t in range(T)
            ),
            r"\partial W_{yh}} = \sum": equal([(gW_yh, sum(dy[t] @ h[t].T for t in range(T)))]),
            r"\partial W_{hx}} = \sum": equal([(gW_hx, sum(dh[t] @ x[t].T for t in range(T)))]),
            r"\partial W_{hc}} = \sum": equal([(gW_hc, sum(dh[t] @ h[t].T for t in range(T)))]),
            r"\partial \mathbf{b}_h} = \sum": equal([(gb_h, sum(dh))]),
            r"\partial \mathbf{c}(1)} = W_{hc}^\top": equal([(gc1, W_hc.T @ dh[0])]),
        }


if __name__ == "__main__":
    sys.exit(main())
