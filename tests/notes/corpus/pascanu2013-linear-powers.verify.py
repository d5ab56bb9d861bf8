"""Verify the corpus note pascanu2013-linear-powers: each claim by torch autograd in float64 (see its .expect.toml)."""

import pathlib
import sys

import torch
from _harness import always, equal, report_anchored

torch.set_default_dtype(torch.float64)

SLUG = pathlib.Path(__file__).name.removesuffix(".verify.py")


def main():
    """Compare each claim's computed truth with the manifest; 0 iff all agree."""
    return report_anchored(SLUG, claims())


def cost(x):
    """A smooth cost E_T(x_T), standing in for the note's generic one."""
    return (torch.log(torch.cosh(x)) + 0.4 * torch.sin(2 * x)).sum()


def claims():
    """Linear RNN x_t = W_rec x_{t-1} + W_in u_t + b, cost at the last step only."""
    torch.manual_seed(21)
    n, m, T = 3, 2, 5
    W_rec, W_in, b = torch.randn(n, n), torch.randn(n, m), torch.randn(n)
    for p in (W_rec, b):
        p.requires_grad_(True)
    u = [None] + [torch.randn(m, requires_grad=True) for _ in range(T)]
    x = [torch.randn(n, requires_grad=True)]
    for t in range(1, T + 1):
        x.append(W_rec @ x[t - 1] + W_in @ u[t] + b)
    E = cost(x[T])
    g = torch.autograd.grad(E, [*x, *u[1:], W_rec, b])
    gx, gu = g[: T + 1], [None, *g[T + 1 : 2 * T + 1]]
    gW, gb = g[2 * T + 1], g[2 * T + 2]

    def jac(k, t):
        def forward(xk):
            for i in range(k + 1, t + 1):
                xk = W_rec @ xk + W_in @ u[i] + b
            return xk

        return torch.autograd.functional.jacobian(forward, x[k])

    gen = torch.Generator().manual_seed(8)
    samples = []
    for _ in range(100):
        Wr = torch.randn(n, n, generator=gen)
        rho = 0.99 * torch.rand((), generator=gen)
        Wr = Wr / torch.linalg.matrix_norm(Wr, ord=2) * rho
        xs = [torch.randn(n, generator=gen, requires_grad=True)]
        for t in range(1, T + 1):
            xs.append(Wr @ xs[t - 1] + torch.randn(n, generator=gen))
        k = int(torch.randint(0, T + 1, (), generator=gen))
        gk, gT = torch.autograd.grad(cost(xs[T]), [xs[k], xs[T]] if k < T else [xs[T], xs[T]])
        samples.append((rho, k, gk, gT))
    with torch.no_grad():
        WT = W_rec.T
        mp = torch.linalg.matrix_power
        gT = gx[T]
        steps = range(1, T + 1)
        return {
            r"= W_{rec}^{\,t-k}$$": equal((jac(k, t), mp(W_rec, t - k)) for t in range(T + 1) for k in range(t + 1)),
            r"$$\nabla_{\mathbf{x}_k} \mathcal{E} = (W_{rec}^\top)^{T-k}": equal(
                (gx[k], mp(WT, T - k) @ gT) for k in range(T + 1)
            ),
            r"$$\nabla_{\mathbf{u}_k} \mathcal{E} = ": equal((gu[k], W_in.T @ mp(WT, T - k + 1) @ gT) for k in steps),
            r"$$\nabla_{W_{rec}} \mathcal{E} = \sum": equal(
                [(gW, sum(torch.outer(mp(WT, T - k) @ gT, x[k - 1]) for k in steps))]
            ),
            r"$$\nabla_{\mathbf{b}} \mathcal{E} = \sum": equal([(gb, sum(mp(WT, T - k) @ gT for k in steps))]),
            r"$$\nabla_{\mathbf{x}_0} \mathcal{E} = ": equal([(gx[0], mp(WT, T - 1) @ gT)]),
            r"\right\| \le \rho^{T-k}": always(
                torch.linalg.vector_norm(gk) <= rho ** (T - k) * torch.linalg.vector_norm(gT) * (1 + 1e-12)
                for rho, k, gk, gT in samples
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
