"""Verify the corpus note sutskever2013-mrnn: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """MRNN: f_t = diag(W_fv v_t) W_fh h_{t-1}, h_t = tanh(W_hf f_t + W_hv v_t), o_t = W_oh h_t + b_o; sum of CE."""
    torch.manual_seed(77)
    nv, nh, nf, no, T = 3, 4, 5, 3, 5
    W_fv, W_fh, W_hf = torch.randn(nf, nv), torch.randn(nf, nh), torch.randn(nh, nf)
    W_hv, W_oh, b_o = torch.randn(nh, nv), torch.randn(no, nh), torch.randn(no)
    params = [W_fv, W_fh, W_hv]
    for p in params:
        p.requires_grad_(True)
    v = [None] + [torch.randn(nv) for _ in range(T + 1)]
    y = torch.randint(0, no, (T + 1,))
    h, f, r, o = [torch.randn(nh)], [None], [None], [None]
    for t in range(1, T + 1):
        f.append(torch.diag(W_fv @ v[t]) @ W_fh @ h[t - 1])
        r.append(W_hf @ f[t] + W_hv @ v[t])
        h.append(torch.tanh(r[t]))
        o.append(W_oh @ h[t] + b_o)
    L = sum(torch.nn.functional.cross_entropy(o[t][None], y[t : t + 1], reduction="sum") for t in range(1, T + 1))
    g = torch.autograd.grad(L, [*f[1:], *r[1:], *h[1:], *o[1:], *params])
    df = [None, *g[:T], torch.zeros(nf)]
    dr = [None, *g[T : 2 * T]]
    dh = [None, *g[2 * T : 3 * T]]
    do = [None, *g[3 * T : 4 * T]]
    dW_fv, dW_fh, dW_hv = g[4 * T :]
    steps = range(1, T + 1)
    with torch.no_grad():
        return {
            r"df_t &= W_{hf}^\top dr_t": equal((df[t], W_hf.T @ dr[t]) for t in steps),
            r"dh_t &= W_{oh}^\top do_t": equal(
                (dh[t], W_oh.T @ do[t] + W_fh.T @ ((W_fv @ v[t]) * df[t + 1])) for t in steps
            ),
            r"dW_{fh} &= \sum": equal([(dW_fh, sum(torch.outer((W_fv @ v[t]) * df[t], h[t - 1]) for t in steps))]),
            r"dW_{fv} &= \sum": equal([(dW_fv, sum(torch.outer(df[t] * (W_fh @ h[t - 1]), v[t]) for t in steps))]),
            r"dW_{hv} &= \sum": equal([(dW_hv, sum(torch.outer(dh[t], v[t]) for t in steps))]),
        }


if __name__ == "__main__":
    sys.exit(main())
