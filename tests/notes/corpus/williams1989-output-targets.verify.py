"""Verify the corpus note williams1989-output-targets: each claim by torch autograd in float64 (see its .expect.toml)."""

import pathlib
import sys

import torch
from _harness import equal, report_anchored

torch.set_default_dtype(torch.float64)

SLUG = pathlib.Path(__file__).name.removesuffix(".verify.py")


def main():
    """Compare each claim's computed truth with the manifest; 0 iff all agree."""
    return report_anchored(SLUG, claims())


def run(W, y0, x):
    """y(t+1) = f(W [y(t); x(t)]) for t0 = 0 <= t < t1 = len(x)."""
    y, s, z = [y0], [], []
    for t in range(len(x)):
        z.append(torch.cat([y[t], x[t]]))
        s.append(W @ z[t])
        y.append(torch.sigmoid(s[t]))
    return y, s, z


def claims():
    """RTRL scored at t1 only, on the last unit; p = dy/dw, q = dy/dy(t0)."""
    torch.manual_seed(1189)
    n, m, T = 3, 2, 4
    W = torch.randn(n, n + m)
    y0 = torch.rand(n)
    x = [torch.randn(m) for _ in range(T)]
    dk = torch.tensor(0.9)
    y, s, z = run(W, y0, x)
    e = dk - y[T][n - 1]
    jac = torch.autograd.functional.jacobian

    def J(Wv, y0v):
        return 0.5 * (dk - run(Wv, y0v, x)[0][T][n - 1]) ** 2

    p = [jac(lambda Wv, t=t: run(Wv, y0, x)[0][t], W) for t in range(T + 1)]  # p[t][k, i, j]
    q = [jac(lambda yv, t=t: run(W, yv, x)[0][t], y0) for t in range(T + 1)]  # q[t][k, l]
    dJ_dW, dJ_dy0 = jac(J, (W, y0))
    yT = y[T].detach().requires_grad_(True)
    (dJ_dyT,) = torch.autograd.grad(0.5 * (dk - yT[n - 1]) ** 2, yT)
    eye = torch.eye(n)
    W_U = W[:, :n]
    with torch.no_grad():
        fp = [torch.sigmoid(s[t]) * (1 - torch.sigmoid(s[t])) for t in range(T)]
        return {
            r"$$p^k_{ij}(t+1) = f'_k(s_k(t)) \sum": equal(
                (
                    p[t + 1],
                    fp[t][:, None, None] * torch.einsum("kl,lij->kij", W_U, p[t])
                    + eye[:, :, None] * z[t][None, None, :],
                )
                for t in range(T)
            ),
            r"{\partial w_{ij}} = -\sum_{k \in T}": equal([(dJ_dW, -e * p[T][n - 1])]),
            r"{\partial y_k(t_1)} = e_k(t_1)": equal([(dJ_dyT[n - 1], e)]),
            r"$$q^k_l(t_0) = \delta_{kl}$$": equal([(q[0], eye)]),
            r"$$q^k_l(t+1) = f'_k(s_k(t))": equal((q[t + 1], fp[t][:, None] * (W_U @ q[t])) for t in range(T)),
            r"{\partial y_l(t_0)} = -\sum": equal([(dJ_dy0, -e * q[T][n - 1])]),
        }


if __name__ == "__main__":
    sys.exit(main())
