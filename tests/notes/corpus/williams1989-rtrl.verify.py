"""Verify the corpus note williams1989-rtrl: each claim by torch autograd in float64 (see its .expect.toml)."""

import pathlib
import sys

import torch
from _harness import equal, report_anchored

torch.set_default_dtype(torch.float64)

SLUG = pathlib.Path(__file__).name.removesuffix(".verify.py")


def main():
    """Compare each claim's computed truth with the manifest; 0 iff all agree."""
    return report_anchored(SLUG, claims())


def run(W, y0, x, n):
    """RTRL network: units U = 0..n-1, input lines after them; z(t) = [y(t); x(t)], y(t+1) = f(W z(t))."""
    y, s, z = [y0], [], []
    for t in range(len(x)):
        z.append(torch.cat([y[t], x[t]]))
        s.append(W @ z[t])
        y.append(torch.sigmoid(s[t]))
    return y, s, z


def claims():
    """Williams & Zipser RTRL: p^k_ij(t) = dy_k(t)/dw_ij, targets on units T(t) = {0, 1} at every t > t0."""
    torch.manual_seed(1989)
    n, m, T = 3, 2, 5  # t0 = 0, t1 = T
    W = torch.randn(n, n + m)
    y0 = torch.rand(n)
    x = [torch.cat([torch.randn(m - 1), torch.ones(1)]) for _ in range(T)]  # last input line is the bias
    d = [torch.rand(n) for _ in range(T + 1)]
    mask = torch.tensor([1.0, 1.0, 0.0])
    y, s, z = run(W, y0, x, n)
    e = [None] + [mask * (d[t] - y[t]) for t in range(1, T + 1)]

    def J(Wv, t):
        yv = run(Wv, y0, x, n)[0]
        return 0.5 * ((mask * (d[t] - yv[t])) ** 2).sum()

    def Jtotal(Wv):
        return sum(J(Wv, t) for t in range(1, T + 1))

    jac = torch.autograd.functional.jacobian
    p = [jac(lambda Wv, t=t: run(Wv, y0, x, n)[0][t], W) for t in range(T + 1)]  # p[t][k, i, j]
    dJ = [None] + [jac(lambda Wv, t=t: J(Wv, t), W) for t in range(1, T + 1)]
    dJtot = jac(Jtotal, W)
    eye = torch.eye(n)

    def fp(t):
        return torch.sigmoid(s[t]) * (1 - torch.sigmoid(s[t]))

    def recursion(t, fprime):
        # right side for every (k, i, j): f'_k [sum_{l in U} w_kl p^l_ij(t) + delta_ik z_j(t)]
        inner = torch.einsum("kl,lij->kij", W[:, :n], p[t]) + eye[:, :, None] * z[t][None, None, :]
        return fprime[:, None, None] * inner

    with torch.no_grad():
        return {
            r"$$-\frac{\partial J(t)}{\partial w_{ij}}": equal(
                (-dJ[t], torch.einsum("k,kij->ij", e[t], p[t])) for t in range(1, T + 1)
            ),
            r"$$p^k_{ij}(t+1) = f'_k(s_k(t+1))": equal((p[t + 1], recursion(t, fp(t + 1))) for t in range(0, T - 1)),
            r"$$f'_k(s_k(t)) = y_k(t+1)": equal(
                (torch.func.vmap(torch.func.grad(torch.sigmoid))(s[t]), y[t + 1] * (1 - y[t + 1])) for t in range(T)
            ),
            r"$$p^k_{ij}(t_0 + 1) = ": equal([(p[1], fp(0)[:, None, None] * eye[:, :, None] * z[0][None, None, :])]),
            r"$$\frac{\partial J^{\text{total}}(t_0, t_1)}{\partial w_{ij}} = ": equal(
                [(dJtot, sum(torch.einsum("k,kij->ij", e[t], p[t]) for t in range(1, T + 1)))]
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
