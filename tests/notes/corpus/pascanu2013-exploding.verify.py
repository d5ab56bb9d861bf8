"""Verify the corpus note pascanu2013-exploding: each claim by torch autograd in float64 (see its .expect.toml)."""

import pathlib
import sys

import torch
from _harness import always, equal, report_anchored

torch.set_default_dtype(torch.float64)

SLUG = pathlib.Path(__file__).name.removesuffix(".verify.py")


def main():
    """Compare each claim's computed truth with the manifest; 0 iff all agree."""
    return report_anchored(SLUG, claims())


def cost(x, y):
    """A smooth per-step cost E_t(x_t), standing in for the note's generic one."""
    return (torch.log(torch.cosh(x - y)) + 0.1 * x**3 / (1 + x**2)).sum()


def step(W_rec, W_in, b, x_prev, u_t):
    return W_rec @ torch.sigmoid(x_prev) + W_in @ u_t + b


def jac(W_rec, W_in, b, xs, us, k, t):
    """dx_t/dx_k (numerator layout) by autograd."""

    def forward(x):
        for i in range(k + 1, t + 1):
            x = step(W_rec, W_in, b, x, us[i])
        return x

    return torch.autograd.functional.jacobian(forward, xs[k])


def claims():
    """x_t = W_rec sigma(x_{t-1}) + W_in u_t + b; E = sum_t E_t(x_t); every theta in (W_rec, W_in, b)."""
    torch.manual_seed(2013)
    n, m, T = 3, 2, 4
    W_rec, W_in, b = torch.randn(n, n), torch.randn(n, m), torch.randn(n)
    x0 = torch.randn(n)
    us = [None] + [torch.randn(m) for _ in range(T)]
    ys = [None] + [torch.randn(n) for _ in range(T)]
    thetas = [W_rec, W_in, b]

    def states(W_rec, W_in, b):
        xs = [x0]
        for t in range(1, T + 1):
            xs.append(step(W_rec, W_in, b, xs[-1], us[t]))
        return xs

    xs = states(*thetas)
    E_t = [None] + [
        torch.autograd.functional.jacobian(lambda *p, t=t: cost(states(*p)[t], ys[t]), tuple(thetas))
        for t in range(1, T + 1)
    ]
    E = torch.autograd.functional.jacobian(
        lambda *p: sum(cost(x, y) for x, y in zip(states(*p)[1:], ys[1:], strict=True)), tuple(thetas)
    )
    # immediate partial d+x_k/dtheta: x_{k-1} held fixed, flattened over theta's entries
    imm = {
        (k, j): torch.autograd.functional.jacobian(
            lambda p, k=k, j=j: step(*[p if i == j else thetas[i] for i in range(3)], xs[k - 1], us[k]), thetas[j]
        ).reshape(n, -1)
        for k in range(1, T + 1)
        for j in range(3)
    }
    dEt_dxt = [None] + [torch.func.grad(cost)(xs[t], ys[t]) for t in range(1, T + 1)]  # row vectors
    J = {(t, k): jac(W_rec, W_in, b, xs, us, k, t) for t in range(T + 1) for k in range(t + 1)}

    def paper_product(t, k):
        out = torch.eye(n)
        for i in range(t, k, -1):
            out = out @ (W_rec.T @ torch.diag(torch.sigmoid(xs[i - 1]) * (1 - torch.sigmoid(xs[i - 1]))))
        return out

    def norm(M):
        return torch.linalg.matrix_norm(M, ord=2) if M.dim() == 2 else torch.linalg.vector_norm(M)

    gen = torch.Generator().manual_seed(7)
    samples = []
    for _ in range(40):
        Wr = torch.randn(n, n, generator=gen)
        Wr = Wr / norm(Wr) * 3.9 * torch.rand((), generator=gen)  # lambda_1 < 1 / gamma
        xr = [torch.randn(n, generator=gen)]
        ur = [None] + [torch.randn(m, generator=gen) for _ in range(3)]
        for i in range(1, 4):
            xr.append(step(Wr, W_in, b, xr[-1], ur[i]))
        k = int(torch.randint(0, 3, (), generator=gen))
        one = jac(Wr, W_in, b, xr, ur, k, k + 1)
        dk = torch.sigmoid(xr[k]) * (1 - torch.sigmoid(xr[k]))
        row = torch.func.grad(cost)(xr[3], torch.randn(n, generator=gen))
        samples.append((norm(Wr), one, norm(torch.diag(dk)), row, jac(Wr, W_in, b, xr, ur, k, 3), 3 - k))
    gamma, eps = 0.25, 1 + 1e-12
    with torch.no_grad():
        return {
            r"{\partial \theta} = \sum_{1 \le t \le T} \frac{\partial \mathcal{E}_t}{\partial \theta}$$": equal(
                (E[j], sum(E_t[t][j] for t in range(1, T + 1))) for j in range(3)
            ),
            r"\sum_{1 \le k \le t} \frac{\partial \mathcal{E}_t}": equal(
                (E_t[t][j].reshape(-1), sum(dEt_dxt[t] @ J[t, k] @ imm[k, j] for k in range(1, t + 1)))
                for t in range(1, T + 1)
                for j in range(3)
            ),
            r"= \prod_{t \ge i > k} W_{rec}^{T}": equal(
                (J[t, k], paper_product(t, k)) for t in range(1, T + 1) for k in range(t)
            ),
            r"\right\| \le \left\| W_{rec}^{T} \right\|": always(
                norm(one) <= lam * ndk * eps and lam * ndk < 1 for lam, one, ndk, _, _, _ in samples
            ),
            r"\le \eta^{t-k+1}": always(
                norm(row @ Jtk) <= (lam * gamma) ** (d + 1) * norm(row) * eps for lam, _, _, row, Jtk, d in samples
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
