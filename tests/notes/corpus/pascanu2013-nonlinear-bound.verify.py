"""Verify the corpus note pascanu2013-nonlinear-bound: each claim by torch autograd in float64 (see its .expect.toml)."""

import pathlib
import sys

import torch
from _harness import always, equal, report_anchored

torch.set_default_dtype(torch.float64)

SLUG = pathlib.Path(__file__).name.removesuffix(".verify.py")


def main():
    """Compare each claim's computed truth with the manifest; 0 iff all agree."""
    return report_anchored(SLUG, claims())


def trajectory(W, W_in, b, x0, u):
    x = [x0]
    for t in range(1, len(u)):
        x.append(W @ torch.sigmoid(x[t - 1]) + W_in @ u[t] + b)
    return x


def jac(W, W_in, b, x, u, k, t):
    """d x_t / d x_k by autograd, k <= t."""

    def forward(xk):
        for i in range(k + 1, t + 1):
            xk = W @ torch.sigmoid(xk) + W_in @ u[i] + b
        return xk

    return torch.autograd.functional.jacobian(forward, x[k])


def dsig(v):
    s = torch.sigmoid(v)
    return s * (1 - s)


def claims():
    """x_t = W_rec sigma(x_{t-1}) + W_in u_t + b; spectral norms; gamma = 1/4."""
    torch.manual_seed(2013)
    n, m, T = 3, 2, 5
    W, W_in, b = torch.randn(n, n), torch.randn(n, m), torch.randn(n)
    u = [None] + [torch.randn(m) for _ in range(T)]
    x = trajectory(W, W_in, b, torch.randn(n), u)
    J = {(t, k): jac(W, W_in, b, x, u, k, t) for t in range(T + 1) for k in range(t + 1)}

    def prod(k, t, diag_left):
        out = torch.eye(n)
        for i in range(t, k, -1):  # latest step on the left
            D = torch.diag(dsig(x[i - 1]))
            out = out @ (D @ W if diag_left else W @ D)
        return out

    def norm(M):
        return torch.linalg.matrix_norm(M, ord=2)

    samples = []
    g = torch.Generator().manual_seed(31)
    for _ in range(200):
        scale = 10 ** (2 * torch.rand((), generator=g) - 1)  # weights from 0.1 to 10 times a Gaussian
        Wr = torch.randn(n, n, generator=g) * scale
        Wi, br = torch.randn(n, m, generator=g), torch.randn(n, generator=g)
        ur = [None] + [torch.randn(m, generator=g) for _ in range(T)]
        xr = trajectory(Wr, Wi, br, torch.randn(n, generator=g), ur)
        k = int(torch.randint(0, T, (), generator=g))
        t = k + int(torch.randint(0, T - k + 1, (), generator=g))
        i = int(torch.randint(1, T + 1, (), generator=g))
        one = jac(Wr, Wi, br, xr, ur, i - 1, i)
        samples.append(
            (norm(Wr), norm(jac(Wr, Wi, br, xr, ur, k, t)), t - k, norm(one), norm(torch.diag(dsig(xr[i - 1]))))
        )
    gamma = 0.25
    tol = 1 + 1e-12
    with torch.no_grad():
        steps = range(1, T + 1)
        pairs = [(t, k) for t in range(T + 1) for k in range(t + 1)]
        return {
            r"{\partial \mathbf{x}_{i-1}} = W_{rec} \operatorname{diag}": equal(
                (J[i, i - 1], W @ torch.diag(dsig(x[i - 1]))) for i in steps
            ),
            r"= \prod_{t \ge i > k} W_{rec}": equal((J[t, k], prod(k, t, False)) for t, k in pairs),
            r"= \prod_{t \ge i > k} \operatorname{diag}": equal((J[t, k], prod(k, t, True)) for t, k in pairs),
            r"\right\| \le \left\| W_{rec} \right\| \left\|": always(
                nj1 <= nw * nd * tol for nw, _, _, nj1, nd in samples
            ),
            r"\le \left( \gamma \left\| W_{rec} \right\| \right)^{t-k}$$": always(
                nj <= (gamma * nw) ** d * tol for nw, nj, d, _, _ in samples
            ),
            r"\right\| \le \gamma^{t-k}$$": always(nj <= gamma**d * tol for _, nj, d, _, _ in samples),
        }


if __name__ == "__main__":
    sys.exit(main())
