"""Verify the corpus note graves2012-lstm-weights: each claim by torch autograd in float64 (see its .expect.toml)."""

import pathlib
import sys
import tomllib

import torch

torch.set_default_dtype(torch.float64)

HERE = pathlib.Path(__file__).resolve()
SLUG = HERE.name.removesuffix(".verify.py")
RTOL_HOLDS = 1e-9  # a correct claim agrees to rounding
RTOL_WRONG = 1e-4  # a planted error differs by far more than rounding


def note_path():
    """The note beside this script (.md, .tex or .ipynb)."""
    for ext in (".md", ".tex", ".ipynb"):
        path = HERE.with_name(SLUG + ext)
        if path.exists():
            return path
    raise FileNotFoundError(f"no note for {SLUG}")


def locate(anchor):
    """1-based line of the note holding `anchor` (JSON-escaped in a notebook); exactly one."""
    text = note_path().read_text(encoding="utf-8").splitlines()
    forms = {anchor, anchor.replace("\\", "\\\\").replace('"', '\\"')}
    hits = [n for n, line in enumerate(text, 1) if any(f in line for f in forms)]
    if len(hits) != 1:
        raise AssertionError(f"anchor {anchor!r} found on lines {hits}, need exactly one")
    return hits[0]


def equal(pairs):
    """'holds' if every (lhs, rhs) pair agrees to rounding, 'wrong' if one clearly differs."""
    worst = 0.0
    for lhs, rhs in pairs:
        lhs, rhs = torch.as_tensor(lhs), torch.as_tensor(rhs)
        if lhs.shape != rhs.shape:
            raise AssertionError(f"shapes differ: {tuple(lhs.shape)} vs {tuple(rhs.shape)}")
        scale = 1.0 + float(lhs.abs().max())
        worst = max(worst, float((lhs - rhs).abs().max()) / scale)
    if worst <= RTOL_HOLDS:
        return "holds", f"max rel diff {worst:.1e}"
    if worst >= RTOL_WRONG:
        return "wrong", f"max rel diff {worst:.1e}"
    return "unclear", f"max rel diff {worst:.1e}"


def always(samples):
    """'holds' if an inequality held on every sampled instance, 'wrong' on a counterexample."""
    samples = list(samples)
    failed = sum(1 for ok in samples if not ok)
    if failed == 0:
        return "holds", f"held on {len(samples)} random instances"
    return "wrong", f"failed on {failed} of {len(samples)} random instances"


def main():
    """Compare each claim's computed truth with the manifest; 0 iff all agree."""
    manifest = tomllib.loads(HERE.with_name(SLUG + ".expect.toml").read_text(encoding="utf-8"))
    expected = {c["line"]: c["verdict"] for c in manifest["claim"]}
    computed = {}
    for anchor, (verdict, detail) in claims().items():
        computed[locate(anchor)] = (verdict, detail)
    bad = 0
    for line in sorted(set(expected) | set(computed)):
        want = expected.get(line, "(not in manifest)")
        got, detail = computed.get(line, ("(not computed)", ""))
        ok = want == got
        bad += not ok
        print(f"{SLUG}:{line}: {got:8} expected {want:8} {'ok' if ok else 'MISMATCH'}  {detail}")
    return 1 if bad else 0


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
