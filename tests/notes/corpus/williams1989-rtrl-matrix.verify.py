"""Verify the corpus note williams1989-rtrl-matrix: each claim by torch autograd in float64 (see its .expect.toml)."""

import pathlib
import sys

import torch
from _harness import equal, report_anchored

torch.set_default_dtype(torch.float64)

SLUG = pathlib.Path(__file__).name.removesuffix(".verify.py")


def main():
    """Compare each claim's computed truth with the manifest; 0 iff all agree."""
    return report_anchored(SLUG, claims())


def run(W, y0, x, d, forced, n):
    """Teacher-forced RTRL network; y[t] is the network's own output, z[t] = [y~(t); x(t)]."""
    y, s, z = [y0], [], []
    for t in range(len(x)):
        lam = 1 - forced[t]
        ytilde = y[t] if t == 0 else lam * y[t] + (1 - lam) * d[t]
        z.append(torch.cat([ytilde, x[t]]))
        s.append(W @ z[t])
        y.append(torch.sigmoid(s[t]))
    return y, s, z


def claims():
    """RTRL in matrix form with teacher forcing; t0 = 0, t1 = T; unit 0 forced at every t > t0, unit 1 at odd t."""
    torch.manual_seed(19891)
    n, m, T = 3, 2, 5
    W = torch.randn(n, n + m)
    y0 = torch.rand(n)
    x = [torch.randn(m) for _ in range(T + 1)]
    d = [torch.rand(n) for _ in range(T + 1)]
    forced = [torch.zeros(n)] + [torch.tensor([1.0, float(t % 2), 0.0]) for t in range(1, T + 1)]
    y, s, z = run(W, y0, x, d, forced, n)
    e = [None] + [forced[t] * (d[t] - y[t]) for t in range(1, T + 1)]
    lam = [torch.diag(1 - f) for f in forced]
    jac = torch.autograd.functional.jacobian

    def J(Wv, t):
        yv = run(Wv, y0, x, d, forced, n)[0]
        return 0.5 * ((forced[t] * (d[t] - yv[t])) ** 2).sum()

    P = [jac(lambda Wv, t=t: run(Wv, y0, x, d, forced, n)[0][t], W) for t in range(T + 1)]  # P[t][k, i, j]
    dJ = [None] + [jac(lambda Wv, t=t: J(Wv, t), W) for t in range(1, T + 1)]
    dJtot = jac(lambda Wv: sum(J(Wv, t) for t in range(1, T + 1)), W)

    def step(yt, t):
        ytilde = yt if t == 0 else (1 - forced[t]) * yt + forced[t] * d[t]
        return torch.sigmoid(W @ torch.cat([ytilde, x[t]]))

    one_step = [jac(lambda yt, t=t: step(yt, t), y[t]) for t in range(T)]
    eye = torch.eye(n)
    W_U = W[:, :n]
    with torch.no_grad():
        phi = [torch.diag(torch.sigmoid(s[t]) * (1 - torch.sigmoid(s[t]))) for t in range(T)]
        return {
            r"\mathbf{P}_{ij}(t+1) &= \Phi(t)": equal(
                (
                    P[t + 1],
                    torch.einsum("ab,bij->aij", phi[t], torch.einsum("kl,lij->kij", W_U @ lam[t], P[t]))
                    + torch.einsum("ab,bi,j->aij", phi[t], eye, z[t]),
                )
                for t in range(T)
            ),
            r"\Phi(t) &= \mathrm{diag}\bigl(": equal(
                (
                    torch.diag(torch.func.vmap(torch.func.grad(torch.sigmoid))(s[t])),
                    torch.diag(y[t + 1] * (1 - y[t + 1])),
                )
                for t in range(T)
            ),
            r"{\partial \vy(t)} &= \Phi(t)\, W_U": equal((one_step[t], phi[t] @ W_U @ lam[t]) for t in range(T)),
            r"{\partial w_{ij}} &= \ve(t)^\top": equal(
                (dJ[t], torch.einsum("k,kij->ij", e[t], P[t])) for t in range(1, T + 1)
            ),
            r"\sum_{k=1}^{n} e_k(t)\, \frac{\partial y_k(t)}": equal(
                [(dJtot, -sum(torch.einsum("k,kij->ij", e[t], P[t]) for t in range(1, T + 1)))]
            ),
            r"&= -\sum_{t=t_0+1}^{t_1 - 1}": equal(
                [(dJtot, -sum(torch.einsum("k,kij->ij", e[t], P[t]) for t in range(1, T)))]
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
