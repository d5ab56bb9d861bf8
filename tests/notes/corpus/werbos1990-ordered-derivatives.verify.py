"""Verify the corpus note werbos1990-ordered-derivatives: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """Werbos's ordered network: inputs 1..m, hidden m+1..N, outputs N+1..N+n; W (same step, j < i), W' (lagged)."""
    torch.manual_seed(1990)
    m, N, n, T = 2, 4, 2, 4
    U = N + n
    W = torch.randn(U + 1, U + 1)  # 1-based: W[i, j] is W_ij; only j < i, i > m is used
    Wp = 0.8 * torch.randn(U + 1, U + 1)  # W'_ij, i > m, any j
    W.requires_grad_(True)
    Wp.requires_grad_(True)
    X = {(i, t): torch.randn((), requires_grad=True) for i in range(1, m + 1) for t in range(1, T + 1)}
    Y = {(i, t): torch.rand(()) for i in range(1, n + 1) for t in range(1, T + 1)}
    x = {(j, 0): torch.zeros(()) for j in range(1, U + 1)}
    net = {}
    for t in range(1, T + 1):
        for i in range(1, m + 1):
            x[i, t] = X[i, t]
        for i in range(m + 1, U + 1):
            net[i, t] = sum(W[i, j] * x[j, t] for j in range(1, i)) + sum(
                Wp[i, j] * x[j, t - 1] for j in range(1, U + 1)
            )
            x[i, t] = torch.sigmoid(net[i, t])
    E = sum(0.5 * (x[N + i, t] - Y[i, t]) ** 2 for i in range(1, n + 1) for t in range(1, T + 1))
    hidden = [(i, t) for t in range(1, T + 1) for i in range(m + 1, U + 1)]
    inputs = [(i, t) for t in range(1, T + 1) for i in range(1, m + 1)]
    g = torch.autograd.grad(E, [x[k] for k in hidden] + [net[k] for k in hidden] + [X[k] for k in inputs] + [W, Wp])
    Fx = dict(zip(hidden, g[: len(hidden)], strict=True))
    Fnet = dict(zip(hidden, g[len(hidden) : 2 * len(hidden)], strict=True))
    FX = dict(zip(inputs, g[2 * len(hidden) : 2 * len(hidden) + len(inputs)], strict=True))
    FW, FWp = g[-2], g[-1]

    def fnet(j, t):
        return Fnet[j, t] if t <= T else torch.zeros(())

    def fyhat(i, t):
        return x[i, t] - Y[i - N, t] if i > N else torch.zeros(())

    pairs = [(i, j) for i in range(m + 1, U + 1) for j in range(1, U + 1)]
    with torch.no_grad():
        return {
            r"$$F\_x_i(t) = F\_\hat{Y}_{i-N}(t)": equal(
                (
                    Fx[i, t],
                    fyhat(i, t)
                    + sum((W[j, i] * fnet(j, t) for j in range(i + 1, U + 1)), torch.zeros(()))
                    + sum(Wp[i, j] * fnet(j, t + 1) for j in range(m + 1, U + 1)),
                )
                for (i, t) in hidden
            ),
            r"$$F\_net_i(t) = s'(net_i(t))": equal(
                (Fnet[i, t], x[i, t] * (1 - x[i, t]) * Fx[i, t]) for (i, t) in hidden
            ),
            r"$$s'(net_i(t)) = x_i(t)": equal(
                (torch.func.grad(torch.sigmoid)(net[i, t]), x[i, t] * (1 - x[i, t])) for (i, t) in hidden
            ),
            r"$$F\_X_i(t) = ": equal(
                (
                    FX[i, t],
                    sum(W[j, i] * fnet(j, t) for j in range(m + 1, U + 1))
                    + sum(Wp[j, i] * fnet(j, t + 1) for j in range(m + 1, U + 1)),
                )
                for (i, t) in inputs
            ),
            r"$$F\_W_{ij} = ": equal(
                (FW[i, j], sum(fnet(i, t) * x[j, t] for t in range(1, T + 1))) for (i, j) in pairs if j < i
            ),
            r"$$F\_W'_{ij} = ": equal(
                (FWp[i, j], sum(fnet(i, t) * x[j, t] for t in range(1, T + 1))) for (i, j) in pairs
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
