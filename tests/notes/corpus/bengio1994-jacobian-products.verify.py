"""Verify the corpus note bengio1994-jacobian-products: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """A smooth per-step cost C(a_t, y_t), standing in for the note's generic C."""
    return (torch.log(torch.cosh(a - y)) + 0.3 * torch.sin(a) * y).sum()


def trajectory(W, a0, u):
    a = [a0]
    for t in range(len(u)):
        a.append(W @ torch.tanh(a[t]) + u[t])
    return a


def jac_from(W, a, u, tau, t):
    """d a_t / d a_tau by autograd, for tau <= t."""

    def forward(a_tau):
        x = a_tau
        for s in range(tau + 1, t + 1):
            x = W @ torch.tanh(x) + u[s - 1]
        return x

    return torch.autograd.functional.jacobian(forward, a[tau])


def claims():
    """a_t = W tanh(a_{t-1}) + u_t; C_t = C(a_t, y_t) generic; spectral norms."""
    torch.manual_seed(1994)
    n, T = 3, 5
    W = torch.randn(n, n)
    a0 = torch.randn(n)
    u = [torch.randn(n) for _ in range(T)]
    y = [torch.randn(n) for _ in range(T + 1)]
    a = trajectory(W, a0, u)
    J = {(t, tau): jac_from(W, a, u, tau, t) for t in range(T + 1) for tau in range(t + 1)}

    def D(s):
        return torch.diag(1 - torch.tanh(a[s - 1]) ** 2)

    def prod(lo, hi):
        out = torch.eye(n)
        for s in range(hi, lo - 1, -1):  # latest step on the left
            out = out @ (W @ D(s))
        return out

    # per-step cost gradients: C_t depends on W through every a_tau, tau <= t
    Wl = W.clone().requires_grad_(True)
    grads_W, grads_a = {}, {}
    for t in range(1, T + 1):
        at = trajectory(Wl, a0, u)
        Ct = cost(at[t], y[t])
        g = torch.autograd.grad(Ct, [Wl, *at[1 : t + 1]])
        grads_W[t], grads_a[t] = g[0], g[1:]  # grads_a[t][tau - 1] = total grad of C_t wrt a_tau
    direct = {t: torch.func.grad(cost)(a[t], y[t]) for t in range(1, T + 1)}

    def norm(M):
        return torch.linalg.matrix_norm(M, ord=2)

    samples = []
    g = torch.Generator().manual_seed(4)
    for _ in range(100):
        Wr = torch.randn(n, n, generator=g) * 2 * torch.rand((), generator=g)
        ur = [0.3 * torch.randn(n, generator=g) for _ in range(4)]
        ar = trajectory(Wr, 0.3 * torch.randn(n, generator=g), ur)
        tau = int(torch.randint(0, 3, (), generator=g))
        t = tau + int(torch.randint(1, 3, (), generator=g))
        samples.append((Wr, norm(jac_from(Wr, ar, ur, tau, t)), t - tau))
    with torch.no_grad():
        steps = range(1, T + 1)
        return {
            r"{\partial a_{t-1}} = W \operatorname{diag}": equal((J[t, t - 1], W @ D(t)) for t in steps),
            r"= \prod_{s=\tau+1}^{t} \frac{\partial a_s}{\partial a_{s-1}}": equal(
                (J[t, tau], prod(tau + 1, t)) for t in steps for tau in range(t)
            ),
            r"= \prod_{s=\tau}^{t} W": equal((J[t, tau], prod(tau, t)) for t in steps for tau in range(1, t)),
            r"\right\| \le \|W\|^{t-\tau}$$": always(nj <= norm(Wr) ** k * (1 + 1e-12) for Wr, nj, k in samples),
            r"\le \left( \frac{\|W\|}{4} \right)^{t-\tau}$$": always(
                nj <= (norm(Wr) / 4) ** k * (1 + 1e-12) for Wr, nj, k in samples
            ),
            r"$$\nabla_{a_\tau} C_t = ": equal(
                (grads_a[t][tau - 1], J[t, tau].T @ direct[t]) for t in steps for tau in range(1, t + 1)
            ),
            r"$$\nabla_{W} C_t = \sum": equal(
                (grads_W[t], sum(torch.outer(grads_a[t][tau - 1], torch.tanh(a[tau - 1])) for tau in range(1, t + 1)))
                for t in steps
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
