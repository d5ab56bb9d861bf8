"""Verify the corpus note haykin-rtrl-units: each claim by torch autograd in float64 (see its .expect.toml)."""

import pathlib
import sys

import torch
from _harness import equal, report_anchored

torch.set_default_dtype(torch.float64)

SLUG = pathlib.Path(__file__).name.removesuffix(".verify.py")


def run(W, y0, x):
    """Neurons B = 0..q-1, inputs A after them: u(n) = [y(n); x(n)], v(n) = W u(n), y(n+1) = phi(v(n))."""
    y, v, u = [y0], [], []
    for n in range(len(x)):
        u.append(torch.cat([y[n], x[n]]))
        v.append(W @ u[n])
        y.append(torch.sigmoid(v[n]))
    return y, v, u


def claims():
    """Haykin's RTRL: pi^j_kl(n) = dy_j(n)/dw_kl, outputs C = {0, 1} of q = 3 neurons."""
    torch.manual_seed(1999)
    q, m, N = 3, 2, 5
    W = torch.randn(q, q + m)
    y0 = torch.rand(q)
    x = [torch.cat([torch.randn(m - 1), torch.ones(1)]) for _ in range(N)]  # the last input is the bias
    d = [torch.rand(q) for _ in range(N + 1)]
    out = torch.tensor([1.0, 1.0, 0.0])  # C, as a mask over B
    y, v, u = run(W, y0, x)
    e = [out * (d[n] - y[n]) for n in range(N + 1)]
    jac = torch.autograd.functional.jacobian
    pi = [jac(lambda Wv, n=n: run(Wv, y0, x)[0][n], W) for n in range(N + 1)]  # pi[n][j, k, l]

    def cost(Wv, n):
        return 0.5 * ((out * (d[n] - run(Wv, y0, x)[0][n])) ** 2).sum()

    eye = torch.eye(q)

    def slope(n):
        return torch.sigmoid(v[n]) * (1 - torch.sigmoid(v[n]))

    def recursion(n):
        # phi'(v_j(n)) [sum_{i in B} w_ji pi^i_kl(n) + delta_kj u_l(n)] for every (j, k, l)
        inner = torch.einsum("ji,ikl->jkl", W[:, :q], pi[n]) + eye[:, :, None] * u[n][None, None, :]
        return slope(n)[:, None, None] * inner

    def one_step(n):
        # dy(n+1)/dy(n) with y(n) as a free argument, the input of step n fixed
        return jac(lambda yn: torch.sigmoid(W @ torch.cat([yn, x[n]])), y[n])

    with torch.no_grad():
        return {
            r"$$\pi^j_{kl}(n+1) = ": equal((pi[n + 1], recursion(n)) for n in range(N)),
            r"$$\pi^j_{kl}(1) = ": equal([(pi[1], slope(0)[:, None, None] * eye[:, :, None] * u[1][None, None, :])]),
            r"$$\varphi'(v_j(n)) = ": equal(
                (torch.func.vmap(torch.func.grad(torch.sigmoid))(v[n]), y[n + 1] * (1 - y[n + 1])) for n in range(N)
            ),
            r"\frac{\partial y_j(n+1)}{\partial y_i(n)}": equal(
                (one_step(n), slope(n)[:, None] * W[:, :q].T) for n in range(N)
            ),
            r"\frac{\partial \mathcal{E}(n)}{\partial w_{kl}}": equal(
                (jac(lambda Wv, n=n: cost(Wv, n), W), -torch.einsum("j,jkl->kl", e[n], pi[n])) for n in range(1, N + 1)
            ),
        }


def main():
    """Compare each claim's computed truth with the manifest; 0 iff all agree."""
    return report_anchored(SLUG, claims())


if __name__ == "__main__":
    sys.exit(main())
