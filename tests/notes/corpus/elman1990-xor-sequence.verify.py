"""Verify the corpus note elman1990-xor-sequence: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """Temporal XOR Elman net: 1 input, 2 hidden, 1 output, logistic, c(1) = 0.5, E = sum 1/2 (y - d)^2."""
    torch.manual_seed(3)
    nh, T = 2, 6
    w_hx, W_hc, w_y = torch.randn(nh, 1), 1.5 * torch.randn(nh, nh), torch.randn(nh, 1)
    b_h, b_y = torch.randn(nh, 1), torch.randn(())
    params = [w_y, b_y, w_hx, W_hc]
    for p in params:
        p.requires_grad_(True)
    bits = torch.randint(0, 2, (T + 1,)).double()
    x, d = bits[:T], bits[1:]
    c, net_h, h, net_y, y = [torch.full((nh, 1), 0.5)], [], [], [], []
    for t in range(T):
        net_h.append(w_hx * x[t] + W_hc @ c[t] + b_h)
        h.append(torch.sigmoid(net_h[t]))
        c.append(h[t])
        net_y.append((w_y.T @ h[t]).squeeze() + b_y)
        y.append(torch.sigmoid(net_y[t]))
    E = sum(0.5 * (y[t] - d[t]) ** 2 for t in range(T))
    g = torch.autograd.grad(E, [*net_y, *net_h, *h, *params])
    dy, dnh, dh_tot = g[:T], g[T : 2 * T], g[2 * T : 3 * T]
    gw_y, gb_y, gw_hx, gW_hc = g[3 * T :]
    dnh_next = list(dnh[1:]) + [torch.zeros(nh, 1)]
    one_step = [
        torch.autograd.functional.jacobian(lambda hh, t=t: torch.sigmoid(w_hx * x[t] + W_hc @ hh + b_h), h[t - 1])
        for t in range(1, T)
    ]
    with torch.no_grad():
        return {
            r"$$\delta_y(t) = \bigl(y(t) - d(t)\bigr)": equal(
                (dy[t], (y[t] - d[t]) * y[t] * (1 - y[t])) for t in range(T)
            ),
            r"{\partial \mathbf{h}(t)} = \mathbf{w}_y\, \delta_y(t)": equal(
                (dh_tot[t], w_y * dy[t] + W_hc.T @ dnh_next[t]) for t in range(T)
            ),
            # h(t+1) exists for t < T; the claim is tested at every such step
            r"$$\boldsymbol\delta_h(t) = \frac{\partial E}{\partial \mathbf{h}(t)} \odot": equal(
                (dnh[t], dh_tot[t] * h[t + 1] * (1 - h[t + 1])) for t in range(T - 1)
            ),
            r"{\partial \mathbf{h}(t-1)} = \operatorname{diag}": equal(
                (one_step[t - 1].reshape(nh, nh), torch.diag((h[t] * (1 - h[t])).flatten()) @ W_hc) for t in range(1, T)
            ),
            r"{\partial \mathbf{w}_y} = \sum": equal([(gw_y, sum(dy[t] * h[t] for t in range(T)))]),
            r"{\partial b_y} = \sum": equal([(gb_y, sum(dy))]),
            r"{\partial \mathbf{w}_{hx}} = \sum": equal([(gw_hx, sum(dnh[t] * x[t] for t in range(T)))]),
            r"{\partial W_{hc}} = \sum_{t=2}^{T}": equal([(gW_hc, sum(dnh[t] @ h[t - 1].T for t in range(1, T)))]),
        }


if __name__ == "__main__":
    sys.exit(main())
