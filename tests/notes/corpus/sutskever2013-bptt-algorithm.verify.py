"""Verify the corpus note sutskever2013-bptt-algorithm: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """h_t = tanh(W_hv v_t + W_hh h_{t-1} + b_h), z_t = W_oh h_t + b_o, L = sum_t CE(z_t; y_t), h_0 learned."""
    torch.manual_seed(2013)
    nv, nh, no, T = 3, 4, 5, 5
    W_hv, W_hh, W_oh = torch.randn(nh, nv), torch.randn(nh, nh), torch.randn(no, nh)
    b_h, b_o = torch.randn(nh), torch.randn(no)
    for p in (W_hh, b_o):
        p.requires_grad_(True)
    v = [None] + [torch.randn(nv, requires_grad=True) for _ in range(T)]
    y = torch.randint(0, no, (T + 1,))
    h0 = torch.randn(nh, requires_grad=True)
    h, r, z = [h0], [None], [None]
    for t in range(1, T + 1):
        r.append(W_hv @ v[t] + W_hh @ h[t - 1] + b_h)
        h.append(torch.tanh(r[t]))
        z.append(W_oh @ h[t] + b_o)
    L = sum(torch.nn.functional.cross_entropy(z[t][None], y[t : t + 1], reduction="sum") for t in range(1, T + 1))
    g = torch.autograd.grad(L, [*z[1:], *h[1:], *r[1:], W_hh, b_o, *v[1:], h0])
    dz, dh = [None, *g[:T]], [None, *g[T : 2 * T]]
    dr = [None, *g[2 * T : 3 * T], torch.zeros(nh)]
    dW_hh, db_o = g[3 * T], g[3 * T + 1]
    dv, dh0 = [None, *g[3 * T + 2 : 4 * T + 2]], g[4 * T + 2]
    steps = range(1, T + 1)
    with torch.no_grad():
        one_hot = [None] + [torch.nn.functional.one_hot(y[t], no).double() for t in steps]
        return {
            r"$$dz_t = \operatorname{softmax}(z_t)": equal((dz[t], torch.softmax(z[t], 0) - one_hot[t]) for t in steps),
            r"$$dh_t = W_{oh}^\top dz_t": equal((dh[t], W_oh.T @ dz[t] + W_hh.T @ dr[t + 1]) for t in steps),
            r"$$dr_t = dh_t \odot": equal((dr[t], dh[t] * (1 - h[t] * h[t])) for t in steps),
            r"$$dW_{hh} = \sum": equal([(dW_hh, sum(torch.outer(dr[t], h[t - 1]) for t in steps))]),
            r"$$db_o = \frac{1}{T}": equal([(db_o, sum(dz[1:]) / T)]),
            r"$$dv_t = W_{hv}^\top dr_t$$": equal((dv[t], W_hv.T @ dr[t]) for t in steps),
            r"$$dh_0 = W_{hh} \, dr_1$$": equal([(dh0, W_hh @ dr[1])]),
        }


if __name__ == "__main__":
    sys.exit(main())
