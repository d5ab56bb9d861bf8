"""cho2014-gru-jacobian: every claim of the note recomputed with torch autograd in float64.

One-step Jacobians are computed with torch.autograd.functional.jacobian of the step itself.
"""

import sys

import torch
from _harness import report

SLUG = "cho2014-gru-jacobian"


def main() -> int:
    gen = torch.Generator().manual_seed(1078)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.8

    D, H, N = 2, 3, 4
    W, U, W_r, U_r, W_z, U_z = rand(H, D), rand(H, H), rand(H, D), rand(H, H), rand(H, D), rand(H, H)
    xs = [rand(D) for _ in range(N)]
    a, b = rand(H), rand(H)
    sig = torch.sigmoid
    jac = torch.autograd.functional.jacobian
    diag = torch.diag

    def parts(x, h):
        r = sig(W_r @ x + U_r @ h)
        z = sig(W_z @ x + U_z @ h)
        ht = torch.tanh(W @ x + U @ (r * h))
        return r, z, ht

    def step(x, h):
        r, z, ht = parts(x, h)
        return z * h + (1 - z) * ht

    def loss(h):  # a generic smooth loss of the summary
        return (a * torch.log(torch.cosh(h)) + b * h).sum()

    hs = [rand(H)]
    for t in range(N):
        hs.append(step(xs[t], hs[-1]))
    rows = {k: [] for k in ("dz", "dht", "J", "chain")}
    for t in range(N):
        x, hp = xs[t], hs[t]
        r, z, ht = parts(x, hp)
        true_dz = jac(lambda zz, hp=hp, ht=ht: zz * hp + (1 - zz) * ht, z)
        true_dht = jac(lambda hh, x=x: parts(x, hh)[2], hp)
        true_J = jac(lambda hh, x=x: step(x, hh), hp)
        rows["dz"].append((true_dz, diag(ht - hp)))
        rows["dht"].append((true_dht, diag(1 - ht * ht) @ U @ diag(r)))
        note_J = (
            diag(z)
            + diag((hp - ht) * z * (1 - z)) @ U_z
            + diag((1 - z) * (1 - ht * ht)) @ U @ (diag(r) + diag(hp * r * (1 - r)) @ U_r)
        )
        rows["J"].append((true_J, note_J))

        # dL/dh^{<t-1>} and dL/dh^{<t>} by autograd through the remaining steps
        def tail(h, t=t):
            for s in range(t, N):
                h = step(xs[s], h)
            return loss(h)

        hp_leaf = hp.detach().clone().requires_grad_(True)
        (g_prev,) = torch.autograd.grad(tail(hp_leaf, t), hp_leaf)
        h_leaf = step(x, hp).detach().clone().requires_grad_(True)
        (g_now,) = torch.autograd.grad(tail(h_leaf, t + 1), h_leaf)
        rows["chain"].append((g_prev, true_J.T @ g_now))

    def stacked(key):
        return torch.stack([p[0] for p in rows[key]]), torch.stack([p[1] for p in rows[key]])

    claims = [
        (27, "wrong", r"\frac{\partial \h{t}}{\partial z} &=", "dh/dz, one step", *stacked("dz")),
        (28, "wrong", r"\frac{\partial \tilde h}{\partial \h{t-1}} &=", "dh~/dh^<t-1>, one step", *stacked("dht")),
        (29, "holds", r"J_t &= \diag(z)", "J_t, the full one-step Jacobian (two rows)", *stacked("J")),
        (31, "holds", r"\h{t-1}} &= J_t^\top", "dL/dh^<t-1> = J_t^T dL/dh^<t>", *stacked("chain")),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
