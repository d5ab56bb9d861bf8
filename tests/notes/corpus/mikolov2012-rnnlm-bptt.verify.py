"""Verify the corpus note mikolov2012-rnnlm-bptt: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """RNNLM: s(t) = sigmoid(U w(t) + W s(t-1)), y(t) = softmax(V s(t)), L = -sum_t log y_{w(t+1)}(t)."""
    torch.manual_seed(2012)
    N, H, T = 5, 4, 6
    U, W, V = torch.randn(H, N), torch.randn(H, H), torch.randn(N, H)
    for p in (U, W, V):
        p.requires_grad_(True)
    words = torch.randint(0, N, (T + 2,))
    w = [torch.nn.functional.one_hot(words[t], N).double() for t in range(T + 2)]
    s0 = torch.rand(H, requires_grad=True)
    s, net, y = [s0], [None], [None]
    for t in range(1, T + 1):
        net.append(U @ w[t] + W @ s[t - 1])
        s.append(torch.sigmoid(net[t]))
        y.append(torch.softmax(V @ s[t], 0))
    L = -sum(torch.log(y[t][words[t + 1]]) for t in range(1, T + 1))
    g = torch.autograd.grad(L, [*net[1:], U, W, V, s0])
    e_h = [None] + [-x for x in g[:T]] + [torch.zeros(H)]
    gU, gW, gV, gs0 = g[T:]
    steps = range(1, T + 1)
    with torch.no_grad():
        e_o = [None] + [w[t + 1] - y[t] for t in steps]

        def d_h(x, t):
            return x * s[t] * (1 - s[t])

        return {
            r"$$\mathbf{e}_h(t) = d_h\left(": equal((e_h[t], d_h(V.T @ e_o[t] + W.T @ e_h[t + 1], t)) for t in steps),
            r"{\partial V} = \sum": equal([(-gV, sum(torch.outer(e_o[t], s[t]) for t in steps))]),
            r"{\partial U} = \sum": equal([(-gU, sum(torch.outer(e_h[t], w[t]) for t in steps))]),
            r"{\partial W} = \sum": equal([(-gW, sum(torch.outer(e_h[t], s[t]) for t in steps))]),
            r"{\partial \mathbf{s}(0)} = W^\top": equal([(gs0, W.T @ e_h[1])]),
        }


if __name__ == "__main__":
    sys.exit(main())
