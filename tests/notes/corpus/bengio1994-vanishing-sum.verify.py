"""Verify the corpus note bengio1994-vanishing-sum: each claim by torch autograd in float64 (see its .expect.toml)."""

import pathlib
import sys

import torch
from _harness import always, equal, report_anchored

torch.set_default_dtype(torch.float64)

SLUG = pathlib.Path(__file__).name.removesuffix(".verify.py")


def main():
    """Compare each claim's computed truth with the manifest; 0 iff all agree."""
    return report_anchored(SLUG, claims())


def cost(a, y):
    """A smooth per-step cost C(a_t, y_t) standing in for the note's generic C."""
    return (0.5 * (a - y) ** 2 + 0.2 * torch.cos(a * y)).sum()


def trajectory(W, a0, u):
    a = [a0]
    for t in range(len(u)):
        a.append(W @ torch.sigmoid(a[t]) + u[t])
    return a


def jac_from(W, a, u, tau, t):
    def forward(x):
        for s in range(tau + 1, t + 1):
            x = W @ torch.sigmoid(x) + u[s - 1]
        return x

    return torch.autograd.functional.jacobian(forward, a[tau])


def claims():
    """a_t = W sigma(a_{t-1}) + u_t; C = sum_t C(a_t, y_t); spectral norm; gamma = 1/4."""
    torch.manual_seed(1995)
    n, T = 3, 5
    W = 2 * torch.randn(n, n)
    a0 = torch.randn(n)
    u = [torch.randn(n).requires_grad_(True) for _ in range(T)]
    y = [None] + [torch.randn(n) for _ in range(T)]
    Wl = W.clone().requires_grad_(True)
    a = trajectory(Wl, a0, u)
    C = sum(cost(a[t], y[t]) for t in range(1, T + 1))
    g = torch.autograd.grad(C, [Wl, *a[1:], *u])
    gW, ga, gu = g[0], [None, *g[1 : T + 1]], [None, *g[T + 1 :]]
    a = [x.detach() for x in a]
    u = [x.detach() for x in u]
    J = {(t, tau): jac_from(W, a, u, tau, t) for t in range(T + 1) for tau in range(t + 1)}
    direct = [None] + [torch.func.grad(cost)(a[t], y[t]) for t in range(1, T + 1)]
    one = [None] + [jac_from(W, a, u, t - 1, t) for t in range(1, T + 1)]
    z = torch.linspace(-8, 8, 33)

    def norm(M):
        return torch.linalg.matrix_norm(M, ord=2)

    gen = torch.Generator().manual_seed(6)
    samples = []
    for _ in range(100):
        Wr = 3 * torch.randn(n, n, generator=gen)
        ur = [torch.randn(n, generator=gen) for _ in range(3)]
        ar = trajectory(Wr, torch.randn(n, generator=gen), ur)
        tau = int(torch.randint(0, 2, (), generator=gen))
        t = tau + int(torch.randint(1, 3, (), generator=gen))
        samples.append((Wr, ar[tau], norm(jac_from(Wr, ar, ur, tau, t)), t - tau))
    gamma = 0.25
    eps = 1 + 1e-12
    with torch.no_grad():
        steps = range(1, T + 1)
        sp = [torch.sigmoid(x) * (1 - torch.sigmoid(x)) for x in a]
        return {
            r"$$\sigma'(a) = \sigma(a)": equal(
                [(torch.func.vmap(torch.func.grad(torch.sigmoid))(z), torch.sigmoid(z) * (1 - torch.sigmoid(z)))]
            ),
            r"{\partial a_{t-1}} = \operatorname{diag}": equal((one[t], torch.diag(sp[t - 1]) @ W) for t in steps),
            r"$$\nabla_{a_\tau} C = \sum_{t=\tau+1}^{T}": equal(
                (ga[tau], sum((J[t, tau].T @ direct[t] for t in range(tau + 1, T + 1)), torch.zeros(n)))
                for tau in steps
            ),
            r"$$\nabla_{u_\tau} C = \nabla_{a_\tau} C$$": equal((gu[tau], ga[tau]) for tau in steps),
            r"$$\nabla_W C = \sum_{t=1}^{T} \sum_{\tau=1}^{t}": equal(
                [
                    (
                        gW,
                        sum(
                            torch.outer(J[t, tau].T @ direct[t], torch.sigmoid(a[tau - 1]))
                            for t in steps
                            for tau in range(1, t + 1)
                        ),
                    )
                ]
            ),
            r"\left\| \operatorname{diag}\left(\sigma'(a)\right) \right\| \le \gamma": always(
                norm(torch.diag(torch.sigmoid(at) * (1 - torch.sigmoid(at)))) <= gamma * eps for _, at, _, _ in samples
            ),
            r"\le \left( \gamma \|W\| \right)^{t-\tau}": always(
                nj <= (gamma * norm(Wr)) ** k * eps for Wr, _, nj, k in samples
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
