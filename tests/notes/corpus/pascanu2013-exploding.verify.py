"""Verify the corpus note pascanu2013-exploding: each claim by torch autograd in float64 (see its .expect.toml)."""

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


def cost(x, y):
    """A smooth per-step cost E_t(x_t), standing in for the note's generic one."""
    return (torch.log(torch.cosh(x - y)) + 0.1 * x**3 / (1 + x**2)).sum()


def step(W_rec, W_in, b, x_prev, u_t):
    return W_rec @ torch.sigmoid(x_prev) + W_in @ u_t + b


def jac(W_rec, W_in, b, xs, us, k, t):
    """dx_t/dx_k (numerator layout) by autograd."""

    def forward(x):
        for i in range(k + 1, t + 1):
            x = step(W_rec, W_in, b, x, us[i])
        return x

    return torch.autograd.functional.jacobian(forward, xs[k])


def claims():
    """x_t = W_rec sigma(x_{t-1}) + W_in u_t + b; E = sum_t E_t(x_t); every theta in (W_rec, W_in, b)."""
    torch.manual_seed(2013)
    n, m, T = 3, 2, 4
    W_rec, W_in, b = torch.randn(n, n), torch.randn(n, m), torch.randn(n)
    x0 = torch.randn(n)
    us = [None] + [torch.randn(m) for _ in range(T)]
    ys = [None] + [torch.randn(n) for _ in range(T)]
    thetas = [W_rec, W_in, b]

    def states(W_rec, W_in, b):
        xs = [x0]
        for t in range(1, T + 1):
            xs.append(step(W_rec, W_in, b, xs[-1], us[t]))
        return xs

    xs = states(*thetas)
    E_t = [None] + [
        torch.autograd.functional.jacobian(lambda *p, t=t: cost(states(*p)[t], ys[t]), tuple(thetas))
        for t in range(1, T + 1)
    ]
    E = torch.autograd.functional.jacobian(
        lambda *p: sum(cost(x, y) for x, y in zip(states(*p)[1:], ys[1:], strict=True)), tuple(thetas)
    )
    # immediate partial d+x_k/dtheta: x_{k-1} held fixed, flattened over theta's entries
    imm = {
        (k, j): torch.autograd.functional.jacobian(
            lambda p, k=k, j=j: step(*[p if i == j else thetas[i] for i in range(3)], xs[k - 1], us[k]), thetas[j]
        ).reshape(n, -1)
        for k in range(1, T + 1)
        for j in range(3)
    }
    dEt_dxt = [None] + [torch.func.grad(cost)(xs[t], ys[t]) for t in range(1, T + 1)]  # row vectors
    J = {(t, k): jac(W_rec, W_in, b, xs, us, k, t) for t in range(T + 1) for k in range(t + 1)}

    def paper_product(t, k):
        out = torch.eye(n)
        for i in range(t, k, -1):
            out = out @ (W_rec.T @ torch.diag(torch.sigmoid(xs[i - 1]) * (1 - torch.sigmoid(xs[i - 1]))))
        return out

    def norm(M):
        return torch.linalg.matrix_norm(M, ord=2) if M.dim() == 2 else torch.linalg.vector_norm(M)

    gen = torch.Generator().manual_seed(7)
    samples = []
    for _ in range(40):
        Wr = torch.randn(n, n, generator=gen)
        Wr = Wr / norm(Wr) * 3.9 * torch.rand((), generator=gen)  # lambda_1 < 1 / gamma
        xr = [torch.randn(n, generator=gen)]
        ur = [None] + [torch.randn(m, generator=gen) for _ in range(3)]
        for i in range(1, 4):
            xr.append(step(Wr, W_in, b, xr[-1], ur[i]))
        k = int(torch.randint(0, 3, (), generator=gen))
        one = jac(Wr, W_in, b, xr, ur, k, k + 1)
        dk = torch.sigmoid(xr[k]) * (1 - torch.sigmoid(xr[k]))
        row = torch.func.grad(cost)(xr[3], torch.randn(n, generator=gen))
        samples.append((norm(Wr), one, norm(torch.diag(dk)), row, jac(Wr, W_in, b, xr, ur, k, 3), 3 - k))
    gamma, eps = 0.25, 1 + 1e-12
    with torch.no_grad():
        return {
            r"{\partial \theta} = \sum_{1 \le t \le T} \frac{\partial \mathcal{E}_t}{\partial \theta}$$": equal(
                (E[j], sum(E_t[t][j] for t in range(1, T + 1))) for j in range(3)
            ),
            r"\sum_{1 \le k \le t} \frac{\partial \mathcal{E}_t}": equal(
                (E_t[t][j].reshape(-1), sum(dEt_dxt[t] @ J[t, k] @ imm[k, j] for k in range(1, t + 1)))
                for t in range(1, T + 1)
                for j in range(3)
            ),
            r"= \prod_{t \ge i > k} W_{rec}^{T}": equal(
                (J[t, k], paper_product(t, k)) for t in range(1, T + 1) for k in range(t)
            ),
            r"\right\| \le \left\| W_{rec}^{T} \right\|": always(
                norm(one) <= lam * ndk * eps and lam * ndk < 1 for lam, one, ndk, _, _, _ in samples
            ),
            r"\le \eta^{t-k+1}": always(
                norm(row @ Jtk) <= (lam * gamma) ** (d + 1) * norm(row) * eps for lam, _, _, row, Jtk, d in samples
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
