"""Verify the corpus note graves2012-lstm-weights: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """Graves 4.6 peephole LSTM weight gradients, one cell per block, vectorised over blocks; w[from, to]."""
    torch.manual_seed(46)
    NI, H, K, T = 3, 3, 2, 5
    wi = {q: torch.randn(NI, H) for q in "ifco"}
    wh = {q: torch.randn(H, H) for q in "ifco"}
    peep = {q: torch.randn(H) for q in "ifo"}
    w_ck = torch.randn(H, K)
    params = [*wi.values(), *wh.values(), *peep.values(), w_ck]
    for p in params:
        p.requires_grad_(True)
    x = [None] + [torch.randn(NI) for _ in range(T)]
    z = [None] + [torch.randn(K) for _ in range(T)]
    s, b, a = [torch.zeros(H)], [torch.zeros(H)], {q: [None] for q in "ifco"}
    for t in range(1, T + 1):
        a["i"].append(x[t] @ wi["i"] + b[t - 1] @ wh["i"] + peep["i"] * s[t - 1])
        a["f"].append(x[t] @ wi["f"] + b[t - 1] @ wh["f"] + peep["f"] * s[t - 1])
        a["c"].append(x[t] @ wi["c"] + b[t - 1] @ wh["c"])
        s.append(torch.sigmoid(a["f"][t]) * s[t - 1] + torch.sigmoid(a["i"][t]) * torch.tanh(a["c"][t]))
        a["o"].append(x[t] @ wi["o"] + b[t - 1] @ wh["o"] + peep["o"] * s[t])
        b.append(torch.sigmoid(a["o"][t]) * torch.tanh(s[t]))
    y = [None] + [b[t] @ w_ck for t in range(1, T + 1)]
    L = 0.5 * sum(((y[t] - z[t]) ** 2).sum() for t in range(1, T + 1))
    nodes = [a[q][t] for q in "ifco" for t in range(1, T + 1)]
    g = torch.autograd.grad(L, nodes + params)
    delta = {q: [None, *g[j * T : (j + 1) * T]] for j, q in enumerate("ifco")}
    gp = dict(
        zip(
            ["wi_" + q for q in "ifco"] + ["wh_" + q for q in "ifco"] + ["p_" + q for q in "ifo"] + ["ck"],
            g[4 * T :],
            strict=True,
        )
    )
    steps = range(1, T + 1)
    with torch.no_grad():
        dk = [None] + [y[t] - z[t] for t in steps]
        return {
            r"\pd{\Loss}{w_{ck}} &= ": equal([(gp["ck"], sum(torch.outer(b[t], dk[t]) for t in steps))]),
            r"\pd{\Loss}{w_{i\iota}} &= ": equal([(gp["wi_i"], sum(torch.outer(x[t], delta["i"][t]) for t in steps))]),
            r"\pd{\Loss}{w_{h\phi}} &= ": equal([(gp["wh_f"], sum(torch.outer(b[t], delta["f"][t]) for t in steps))]),
            r"\pd{\Loss}{w_{c\iota}} &= ": equal([(gp["p_i"], sum(delta["i"][t] * s[t - 1] for t in steps))]),
            r"\pd{\Loss}{w_{c\phi}} &= ": equal([(gp["p_f"], sum(delta["f"][t] * s[t - 1] for t in range(2, T + 1)))]),
            r"\pd{\Loss}{w_{c\omega}} &= ": equal([(gp["p_o"], sum(delta["o"][t] * s[t - 1] for t in steps))]),
        }


if __name__ == "__main__":
    sys.exit(main())
