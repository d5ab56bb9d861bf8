"""Verify the corpus note bengio1994-vanishing-sum: each claim by torch autograd in float64 (see its .expect.toml)."""

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


def cost(a, y):
    """A smooth per-step cost C(a_t, y_t) standing in for the note's generic C."""
    return (0.5 * (a - y) ** 2 + 0.2 * torch.cos(a * y)).sum()


def trajectory(W, a0, u):
    a = [a0]
    for t in range(len(u)):
        a.append(W @ torch.sigmoid(a[t]) + u[t])
    return a


def jac_from(W, a, u, tau, t):
    def forward(x):
        for s in range(tau + 1, t + 1):
            x = W @ torch.sigmoid(x) + u[s - 1]
        return x

    return torch.autograd.functional.jacobian(forward, a[tau])


def claims():
    """a_t = W sigma(a_{t-1}) + u_t; C = sum_t C(a_t, y_t); spectral norm; gamma = 1/4."""
    torch.manual_seed(1995)
    n, T = 3, 5
    W = 2 * torch.randn(n, n)
    a0 = torch.randn(n)
    u = [torch.randn(n).requires_grad_(True) for _ in range(T)]
    y = [None] + [torch.randn(n) for _ in range(T)]
    Wl = W.clone().requires_grad_(True)
    a = trajectory(Wl, a0, u)
    C = sum(cost(a[t], y[t]) for t in range(1, T + 1))
    g = torch.autograd.grad(C, [Wl, *a[1:], *u])
    gW, ga, gu = g[0], [None, *g[1 : T + 1]], [None, *g[T + 1 :]]
    a = [x.detach() for x in a]
    u = [x.detach() for x in u]
    J = {(t, tau): jac_from(W, a, u, tau, t) for t in range(T + 1) for tau in range(t + 1)}
    direct = [None] + [torch.func.grad(cost)(a[t], y[t]) for t in range(1, T + 1)]
    one = [None] + [jac_from(W, a, u, t - 1, t) for t in range(1, T + 1)]
    z = torch.linspace(-8, 8, 33)

    def norm(M):
        return torch.linalg.matrix_norm(M, ord=2)

    gen = torch.Generator().manual_seed(6)
    samples = []
    for _ in range(100):
        Wr = 3 * torch.randn(n, n, generator=gen)
        ur = [torch.randn(n, generator=gen) for _ in range(3)]
        ar = trajectory(Wr, torch.randn(n, generator=gen), ur)
        tau = int(torch.randint(0, 2, (), generator=gen))
        t = tau + int(torch.randint(1, 3, (), generator=gen))
        samples.append((Wr, ar[tau], norm(jac_from(Wr, ar, ur, tau, t)), t - tau))
    gamma = 0.25
    eps = 1 + 1e-12
    with torch.no_grad():
        steps = range(1, T + 1)
        sp = [torch.sigmoid(x) * (1 - torch.sigmoid(x)) for x in a]
        return {
            r"$$\sigma'(a) = \sigma(a)": equal(
                [(torch.func.vmap(torch.func.grad(torch.sigmoid))(z), torch.sigmoid(z) * (1 - torch.sigmoid(z)))]
            ),
            r"{\partial a_{t-1}} = \operatorname{diag}": equal((one[t], torch.diag(sp[t - 1]) @ W) for t in steps),
            r"$$\nabla_{a_\tau} C = \sum_{t=\tau+1}^{T}": equal(
                (ga[tau], sum((J[t, tau].T @ direct[t] for t in range(tau + 1, T + 1)), torch.zeros(n)))
                for tau in steps
            ),
            r"$$\nabla_{u_\tau} C = \nabla_{a_\tau} C$$": equal((gu[tau], ga[tau]) for tau in steps),
            r"$$\nabla_W C = \sum_{t=1}^{T} \sum_{\tau=1}^{t}": equal(
                [
                    (
                        gW,
                        sum(
                            torch.outer(J[t, tau].T @ direct[t], torch.sigmoid(a[tau - 1]))
                            for t in steps
                            for tau in range(1, t + 1)
                        ),
                    )
                ]
            ),
            r"\left\| \operatorname{diag}\left(\sigma'(a)\right) \right\| \le \gamma": always(
                norm(torch.diag(torch.sigmoid(at) * (1 - torch.sigmoid(at)))) <= gamma * eps for _, at, _, _ in samples
            ),
            r"\le \left( \gamma \|W\| \right)^{t-\tau}": always(
                nj <= (gamma * norm(Wr)) ** k * eps for Wr, _, nj, k in samples
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
