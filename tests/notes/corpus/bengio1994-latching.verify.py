"""Verify the corpus note bengio1994-latching: each claim by torch autograd in float64 (see its .expect.toml)."""

import pathlib
import sys

import torch
from _harness import always, equal, report_anchored

torch.set_default_dtype(torch.float64)

SLUG = pathlib.Path(__file__).name.removesuffix(".verify.py")


def main():
    """Compare each claim's computed truth with the manifest; 0 iff all agree."""
    return report_anchored(SLUG, claims())


def run(w, a0, h):
    a = [a0]
    for t in range(1, len(h)):
        a.append(w * torch.tanh(a[t - 1]) + h[t])
    return a


def claims():
    """Latching unit a_t = w tanh(a_{t-1}) + h_t, C = 1/2 (a_T - y)^2."""
    torch.manual_seed(94)
    T = 6
    w = torch.tensor(1.3, requires_grad=True)
    a0 = torch.tensor(0.4, requires_grad=True)
    h = [None] + [(0.5 * torch.randn(())).requires_grad_(True) for _ in range(T)]
    y = torch.tensor(-0.2)
    a = run(w, a0, h)
    C = 0.5 * (a[T] - y) ** 2
    g = torch.autograd.grad(C, [w, *h[1:]], retain_graph=True)
    dw, dh = g[0], [None, *g[1:]]
    (daT_da0,) = torch.autograd.grad(a[T], a0)

    def prod(lo, hi, sq=True):
        out = torch.ones(())
        for s in range(lo, hi + 1):
            th = torch.tanh(a[s - 1])
            out = out * w * (1 - th**2 if sq else 1 - th)
        return out

    samples = []
    gen = torch.Generator().manual_seed(5)
    for _ in range(200):
        wr = (2 * torch.rand((), generator=gen) - 1).requires_grad_(True)
        a0r = (0.2 * torch.randn((), generator=gen)).requires_grad_(True)
        hr = [None] + [(0.2 * torch.randn((), generator=gen)).requires_grad_(True) for _ in range(T)]
        ar = run(wr, a0r, hr)
        Cr = 0.5 * (ar[T] - y) ** 2
        (gh1,) = torch.autograd.grad(Cr, hr[1], retain_graph=True)
        (ga0,) = torch.autograd.grad(ar[T], a0r)
        samples.append((wr.detach(), ar[T].detach(), ga0, gh1))
    with torch.no_grad():
        eps = 1 + 1e-12
        return {
            r"\dd{a_T}{a_0} &= \prod": equal([(daT_da0, prod(1, T))]),
            r"\dd{C}{h_t} &= (a_T - y)": equal((dh[t], (a[T] - y) * prod(t + 1, T, sq=False)) for t in range(1, T + 1)),
            r"\dd{C}{w} &= (a_T - y) \sum": equal(
                [(dw, (a[T] - y) * sum(torch.tanh(a[t - 1]) * prod(t + 1, T) for t in range(1, T + 1)))]
            ),
            r"\left| \dd{a_T}{a_0} \right| &\le |w|^{T}": always(
                ga0.abs() <= wr.abs() ** T * eps for wr, _, ga0, _ in samples
            ),
            r"\left| \dd{C}{h_1} \right| &\le": always(
                gh1.abs() <= (aT - y).abs() * wr.abs() ** T * eps for wr, aT, _, gh1 in samples
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
