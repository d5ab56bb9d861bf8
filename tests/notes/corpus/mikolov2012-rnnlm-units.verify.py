"""Verify the corpus note mikolov2012-rnnlm-units: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """RNNLM in unit notation with the mean objective L = -(1/T) sum_t log y_{w(t+1)}(t)."""
    torch.manual_seed(32)
    N, H, T = 5, 4, 6
    u, w_rec, v = torch.randn(H, N), torch.randn(H, H), torch.randn(N, H)  # u[j, i], w[j, l], v[k, j]
    for p in (u, w_rec, v):
        p.requires_grad_(True)
    words = torch.randint(0, N, (T + 2,))
    w = [torch.nn.functional.one_hot(words[t], N).double() for t in range(T + 2)]
    s0 = torch.rand(H, requires_grad=True)
    s, net, y = [s0], [None], [None]
    for t in range(1, T + 1):
        net.append(u @ w[t] + w_rec @ s[t - 1])
        s.append(torch.sigmoid(net[t]))
        y.append(torch.softmax(v @ s[t], 0))
    L = -sum(torch.log(y[t][words[t + 1]]) for t in range(1, T + 1)) / T
    g = torch.autograd.grad(L, [*net[1:], u, w_rec, v, s0])
    e_h = [None] + [-x for x in g[:T]] + [torch.zeros(H)]
    gu, gw, gv, gs0 = g[T:]
    steps = range(1, T + 1)
    with torch.no_grad():
        d = [None] + [w[t + 1] for t in steps]
        return {
            r"e_{hj}(t) &= s_j(t)": equal(
                # sum_l e_hl(t+1) w_jl read as written: (w_rec @ e_h)[j]
                (e_h[t], s[t] * (1 - s[t]) * (v.T @ (d[t] - y[t]) / T + w_rec @ e_h[t + 1]))
                for t in steps
            ),
            r"{\partial v_{kj}} &= \sum": equal([(gv, sum(torch.outer(y[t] - d[t], s[t]) for t in steps))]),
            r"{\partial w_{jl}} &= -\sum": equal([(gw, -sum(torch.outer(e_h[t], s[t - 1]) for t in steps))]),
            r"{\partial u_{ji}} &= -\sum": equal([(gu, -sum(torch.outer(e_h[t], w[t]) for t in steps))]),
            r"{\partial s_l(0)} &= -\sum_{j}": equal([(gs0, -(w_rec.T @ e_h[1]))]),
        }


if __name__ == "__main__":
    sys.exit(main())
