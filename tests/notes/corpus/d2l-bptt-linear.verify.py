"""d2l-bptt-linear: every claim of the note recomputed with torch autograd in float64."""

import sys

import torch
from _harness import probe, report

SLUG = "d2l-bptt-linear"


def main() -> int:
    gen = torch.Generator().manual_seed(14)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.6

    d, h, q, T = 2, 3, 4, 5
    W_hx, W_hh, W_qh = rand(h, d), rand(h, h), rand(q, h)
    for w in (W_hx, W_hh, W_qh):
        w.requires_grad_(True)
    xs, ys = [rand(d, 1) for _ in range(T)], [rand(q, 1) for _ in range(T)]
    a, c = rand(q, 1), rand(q, 1)

    def step_loss(o, y):  # a smooth, generic per-step loss
        return (a * torch.log(torch.cosh(o - y)) + c * o).sum()

    h_prev = rand(h, 1)
    hs, os_, h_probe, o_probe = [], [], [], []
    for t in range(T):
        ph, po = probe(h), probe(q)
        h_t = W_hx @ xs[t] + W_hh @ h_prev + ph
        o_t = W_qh @ h_t + po
        hs.append(h_t)
        os_.append(o_t)
        h_probe.append(ph)
        o_probe.append(po)
        h_prev = h_t
    L = sum(step_loss(os_[t], ys[t]) for t in range(T)) / T
    grads = torch.autograd.grad(L, [W_hx, W_hh, W_qh] + h_probe + o_probe)
    gW_hx, gW_hh, gW_qh = grads[:3]
    dh, do = grads[3 : 3 + T], grads[3 + T :]
    hs_d = [x.detach() for x in hs]

    dl = []
    for t in range(T):
        o = os_[t].detach().requires_grad_(True)
        dl.append(torch.autograd.grad(step_loss(o, ys[t]), o)[0])
    Wt = W_hh.detach().T
    Wq = W_qh.detach()

    def power_sum(t, paired_with):
        return sum(torch.linalg.matrix_power(Wt, T - i) @ Wq.T @ do[paired_with(t, i) - 1] for i in range(t, T + 1))

    stack = torch.stack
    claims = [
        (21, "holds", r"\mathbf{o}_t} = \frac{1}{T}", "dL/do_t = (1/T) dl/do_t", stack(do), stack([g / T for g in dl])),
        (23, "holds", r"\mathbf{W}_\textrm{qh}} = \sum", "dL/dW_qh", gW_qh, sum(do[t] @ hs_d[t].T for t in range(T))),
        (29, "holds", r"\mathbf{h}_T} =", "dL/dh_T", dh[T - 1], Wq.T @ do[T - 1]),
        (
            33,
            "holds",
            r"\mathbf{h}_{t+1}} + \mathbf{W}_\textrm{qh}^\top",
            "dL/dh_t recurrence, t < T",
            stack(dh[: T - 1]),
            stack([Wt @ dh[t + 1] + Wq.T @ do[t] for t in range(T - 1)]),
        ),
        (
            37,
            "holds",
            r"\mathbf{o}_{T+t-i}}",
            "dL/dh_t as a sum of matrix powers",
            stack(dh),
            stack([power_sum(t, lambda t, i: T + t - i) for t in range(1, T + 1)]),
        ),
        (
            41,
            "wrong",
            r"\mathbf{o}_{i}}",
            "powers paired with o_i",
            stack(dh),
            stack([power_sum(t, lambda t, i: i) for t in range(1, T + 1)]),
        ),
        (47, "holds", r"\mathbf{W}_\textrm{hx}} = \sum", "dL/dW_hx", gW_hx, sum(dh[t] @ xs[t].T for t in range(T))),
        (
            49,
            "wrong",
            r"\mathbf{W}_\textrm{hh}} = \sum",
            "dL/dW_hh with h_t",
            gW_hh,
            sum(dh[t] @ hs_d[t].T for t in range(T)),
        ),
    ]
    return report(SLUG, claims)


if __name__ == "__main__":
    sys.exit(main())
