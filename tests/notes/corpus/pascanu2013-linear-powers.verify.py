"""Verify the corpus note pascanu2013-linear-powers: each claim by torch autograd in float64 (see its .expect.toml)."""

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


def cost(x):
    """A smooth cost E_T(x_T), standing in for the note's generic one."""
    return (torch.log(torch.cosh(x)) + 0.4 * torch.sin(2 * x)).sum()


def claims():
    """Linear RNN x_t = W_rec x_{t-1} + W_in u_t + b, cost at the last step only."""
    torch.manual_seed(21)
    n, m, T = 3, 2, 5
    W_rec, W_in, b = torch.randn(n, n), torch.randn(n, m), torch.randn(n)
    for p in (W_rec, b):
        p.requires_grad_(True)
    u = [None] + [torch.randn(m, requires_grad=True) for _ in range(T)]
    x = [torch.randn(n, requires_grad=True)]
    for t in range(1, T + 1):
        x.append(W_rec @ x[t - 1] + W_in @ u[t] + b)
    E = cost(x[T])
    g = torch.autograd.grad(E, [*x, *u[1:], W_rec, b])
    gx, gu = g[: T + 1], [None, *g[T + 1 : 2 * T + 1]]
    gW, gb = g[2 * T + 1], g[2 * T + 2]

    def jac(k, t):
        def forward(xk):
            for i in range(k + 1, t + 1):
                xk = W_rec @ xk + W_in @ u[i] + b
            return xk

        return torch.autograd.functional.jacobian(forward, x[k])

    gen = torch.Generator().manual_seed(8)
    samples = []
    for _ in range(100):
        Wr = torch.randn(n, n, generator=gen)
        rho = 0.99 * torch.rand((), generator=gen)
        Wr = Wr / torch.linalg.matrix_norm(Wr, ord=2) * rho
        xs = [torch.randn(n, generator=gen, requires_grad=True)]
        for t in range(1, T + 1):
            xs.append(Wr @ xs[t - 1] + torch.randn(n, generator=gen))
        k = int(torch.randint(0, T + 1, (), generator=gen))
        gk, gT = torch.autograd.grad(cost(xs[T]), [xs[k], xs[T]] if k < T else [xs[T], xs[T]])
        samples.append((rho, k, gk, gT))
    with torch.no_grad():
        WT = W_rec.T
        mp = torch.linalg.matrix_power
        gT = gx[T]
        steps = range(1, T + 1)
        return {
            r"= W_{rec}^{\,t-k}$$": equal((jac(k, t), mp(W_rec, t - k)) for t in range(T + 1) for k in range(t + 1)),
            r"$$\nabla_{\mathbf{x}_k} \mathcal{E} = (W_{rec}^\top)^{T-k}": equal(
                (gx[k], mp(WT, T - k) @ gT) for k in range(T + 1)
            ),
            r"$$\nabla_{\mathbf{u}_k} \mathcal{E} = ": equal((gu[k], W_in.T @ mp(WT, T - k + 1) @ gT) for k in steps),
            r"$$\nabla_{W_{rec}} \mathcal{E} = \sum": equal(
                [(gW, sum(torch.outer(mp(WT, T - k) @ gT, x[k - 1]) for k in steps))]
            ),
            r"$$\nabla_{\mathbf{b}} \mathcal{E} = \sum": equal([(gb, sum(mp(WT, T - k) @ gT for k in steps))]),
            r"$$\nabla_{\mathbf{x}_0} \mathcal{E} = ": equal([(gx[0], mp(WT, T - 1) @ gT)]),
            r"\right\| \le \rho^{T-k}": always(
                torch.linalg.vector_norm(gk) <= rho ** (T - k) * torch.linalg.vector_norm(gT) * (1 + 1e-12)
                for rho, k, gk, gT in samples
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
