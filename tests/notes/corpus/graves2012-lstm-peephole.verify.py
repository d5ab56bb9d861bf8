"""Verify the corpus note graves2012-lstm-peephole: each claim by torch autograd in float64 (see its .expect.toml)."""

import pathlib
import sys

import torch
from _harness import equal, report_anchored

torch.set_default_dtype(torch.float64)

SLUG = pathlib.Path(__file__).name.removesuffix(".verify.py")


def main():
    """Compare each claim's computed truth with the manifest; 0 iff all agree."""
    return report_anchored(SLUG, claims())


def claims():
    """Graves 4.6 peephole LSTM, one cell per block (vectorised over the H blocks); w[from, to]."""
    torch.manual_seed(4)
    NI, H, K, T = 3, 3, 2, 5
    wi = {q: torch.randn(NI, H) for q in "ifco"}  # input -> gate/cell of each block
    wh = {q: torch.randn(H, H) for q in "ifco"}  # cell output h -> gate/cell of each block
    peep = {q: torch.randn(H) for q in "ifo"}  # cell c -> its own gate
    w_ck = torch.randn(H, K)
    for p in [*wi.values(), *wh.values(), *peep.values(), w_ck]:
        p.requires_grad_(True)
    x = [None] + [torch.randn(NI) for _ in range(T)]
    z = [None] + [torch.randn(K) for _ in range(T)]
    s, b, a, bg = [torch.zeros(H)], [torch.zeros(H)], {q: [None] for q in "ifco"}, {q: [None] for q in "ifo"}
    for t in range(1, T + 1):
        for q in "if":
            a[q].append(x[t] @ wi[q] + b[t - 1] @ wh[q] + peep[q] * s[t - 1])
            bg[q].append(torch.sigmoid(a[q][t]))
        a["c"].append(x[t] @ wi["c"] + b[t - 1] @ wh["c"])
        s.append(bg["f"][t] * s[t - 1] + bg["i"][t] * torch.tanh(a["c"][t]))
        a["o"].append(x[t] @ wi["o"] + b[t - 1] @ wh["o"] + peep["o"] * s[t])
        bg["o"].append(torch.sigmoid(a["o"][t]))
        b.append(bg["o"][t] * torch.tanh(s[t]))
    y = [None] + [b[t] @ w_ck for t in range(1, T + 1)]
    L = 0.5 * sum(((y[t] - z[t]) ** 2).sum() for t in range(1, T + 1))
    nodes = [*b[1:], *s[1:]] + [a[q][t] for q in "ifco" for t in range(1, T + 1)]
    g = torch.autograd.grad(L, nodes)
    zero = torch.zeros(H)
    eps_c = [None, *g[:T], zero]
    eps_s = [None, *g[T : 2 * T], zero]
    delta = {q: [None, *g[(2 + j) * T : (3 + j) * T], zero] for j, q in enumerate("ifco")}
    bgx = {q: [*bg[q], zero] for q in "ifo"}
    steps = range(1, T + 1)

    def fp(u):
        return torch.sigmoid(u) * (1 - torch.sigmoid(u))

    with torch.no_grad():
        dk = [None] + [y[t] - z[t] for t in steps]
        return {
            r"$$\epsilon_c^t = \sum_{k=1}^{K}": equal(
                (eps_c[t], w_ck @ dk[t] + sum(wh[q] @ delta[q][t + 1] for q in "ifco")) for t in steps
            ),
            r"$$\delta_\omega^t = f'(a_\omega^t)": equal(
                (delta["o"][t], fp(a["o"][t]) * torch.tanh(s[t]) * eps_c[t]) for t in steps
            ),
            r"$$\epsilon_s^t = b_\omega^t h'(s_c^t)": equal(
                (
                    eps_s[t],
                    bg["o"][t] * (1 - torch.tanh(s[t]) ** 2) * eps_c[t]
                    + bgx["f"][t] * eps_s[t + 1]
                    + peep["i"] * delta["i"][t + 1]
                    + peep["f"] * delta["f"][t + 1]
                    + peep["o"] * delta["o"][t],
                )
                for t in steps
            ),
            r"$$\delta_c^t = b_\iota^t g'(a_c^t)": equal(
                (delta["c"][t], bg["i"][t] * (1 - torch.tanh(a["c"][t]) ** 2) * eps_s[t]) for t in steps
            ),
            r"$$\delta_\phi^t = f'(a_\phi^t)": equal((delta["f"][t], fp(a["f"][t]) * s[t] * eps_s[t]) for t in steps),
            r"$$\delta_\iota^t = f'(a_\iota^t)": equal(
                (delta["i"][t], fp(a["i"][t]) * torch.tanh(a["c"][t]) * eps_s[t]) for t in steps
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
