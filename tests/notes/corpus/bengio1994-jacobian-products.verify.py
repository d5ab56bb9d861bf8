"""Verify the corpus note bengio1994-jacobian-products: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """A smooth per-step cost C(a_t, y_t), standing in for the note's generic C."""
    return (torch.log(torch.cosh(a - y)) + 0.3 * torch.sin(a) * y).sum()


def trajectory(W, a0, u):
    a = [a0]
    for t in range(len(u)):
        a.append(W @ torch.tanh(a[t]) + u[t])
    return a


def jac_from(W, a, u, tau, t):
    """d a_t / d a_tau by autograd, for tau <= t."""

    def forward(a_tau):
        x = a_tau
        for s in range(tau + 1, t + 1):
            x = W @ torch.tanh(x) + u[s - 1]
        return x

    return torch.autograd.functional.jacobian(forward, a[tau])


def claims():
    """a_t = W tanh(a_{t-1}) + u_t; C_t = C(a_t, y_t) generic; spectral norms."""
    torch.manual_seed(1994)
    n, T = 3, 5
    W = torch.randn(n, n)
    a0 = torch.randn(n)
    u = [torch.randn(n) for _ in range(T)]
    y = [torch.randn(n) for _ in range(T + 1)]
    a = trajectory(W, a0, u)
    J = {(t, tau): jac_from(W, a, u, tau, t) for t in range(T + 1) for tau in range(t + 1)}

    def D(s):
        return torch.diag(1 - torch.tanh(a[s - 1]) ** 2)

    def prod(lo, hi):
        out = torch.eye(n)
        for s in range(hi, lo - 1, -1):  # latest step on the left
            out = out @ (W @ D(s))
        return out

    # per-step cost gradients: C_t depends on W through every a_tau, tau <= t
    Wl = W.clone().requires_grad_(True)
    grads_W, grads_a = {}, {}
    for t in range(1, T + 1):
        at = trajectory(Wl, a0, u)
        Ct = cost(at[t], y[t])
        g = torch.autograd.grad(Ct, [Wl, *at[1 : t + 1]])
        grads_W[t], grads_a[t] = g[0], g[1:]  # grads_a[t][tau - 1] = total grad of C_t wrt a_tau
    direct = {t: torch.func.grad(cost)(a[t], y[t]) for t in range(1, T + 1)}

    def norm(M):
        return torch.linalg.matrix_norm(M, ord=2)

    samples = []
    g = torch.Generator().manual_seed(4)
    for _ in range(100):
        Wr = torch.randn(n, n, generator=g) * 2 * torch.rand((), generator=g)
        ur = [0.3 * torch.randn(n, generator=g) for _ in range(4)]
        ar = trajectory(Wr, 0.3 * torch.randn(n, generator=g), ur)
        tau = int(torch.randint(0, 3, (), generator=g))
        t = tau + int(torch.randint(1, 3, (), generator=g))
        samples.append((Wr, norm(jac_from(Wr, ar, ur, tau, t)), t - tau))
    with torch.no_grad():
        steps = range(1, T + 1)
        return {
            r"{\partial a_{t-1}} = W \operatorname{diag}": equal((J[t, t - 1], W @ D(t)) for t in steps),
            r"= \prod_{s=\tau+1}^{t} \frac{\partial a_s}{\partial a_{s-1}}": equal(
                (J[t, tau], prod(tau + 1, t)) for t in steps for tau in range(t)
            ),
            r"= \prod_{s=\tau}^{t} W": equal((J[t, tau], prod(tau, t)) for t in steps for tau in range(1, t)),
            r"\right\| \le \|W\|^{t-\tau}$$": always(nj <= norm(Wr) ** k * (1 + 1e-12) for Wr, nj, k in samples),
            r"\le \left( \frac{\|W\|}{4} \right)^{t-\tau}$$": always(
                nj <= (norm(Wr) / 4) ** k * (1 + 1e-12) for Wr, nj, k in samples
            ),
            r"$$\nabla_{a_\tau} C_t = ": equal(
                (grads_a[t][tau - 1], J[t, tau].T @ direct[t]) for t in steps for tau in range(1, t + 1)
            ),
            r"$$\nabla_{W} C_t = \sum": equal(
                (grads_W[t], sum(torch.outer(grads_a[t][tau - 1], torch.tanh(a[tau - 1])) for tau in range(1, t + 1)))
                for t in steps
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
