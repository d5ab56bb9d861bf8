"""Verify the corpus note williams1989-output-targets: each claim by torch autograd in float64 (see its .expect.toml)."""

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


def run(W, y0, x):
    """y(t+1) = f(W [y(t); x(t)]) for t0 = 0 <= t < t1 = len(x)."""
    y, s, z = [y0], [], []
    for t in range(len(x)):
        z.append(torch.cat([y[t], x[t]]))
        s.append(W @ z[t])
        y.append(torch.sigmoid(s[t]))
    return y, s, z


def claims():
    """RTRL scored at t1 only, on the last unit; p = dy/dw, q = dy/dy(t0)."""
    torch.manual_seed(1189)
    n, m, T = 3, 2, 4
    W = torch.randn(n, n + m)
    y0 = torch.rand(n)
    x = [torch.randn(m) for _ in range(T)]
    dk = torch.tensor(0.9)
    y, s, z = run(W, y0, x)
    e = dk - y[T][n - 1]
    jac = torch.autograd.functional.jacobian

    def J(Wv, y0v):
        return 0.5 * (dk - run(Wv, y0v, x)[0][T][n - 1]) ** 2

    p = [jac(lambda Wv, t=t: run(Wv, y0, x)[0][t], W) for t in range(T + 1)]  # p[t][k, i, j]
    q = [jac(lambda yv, t=t: run(W, yv, x)[0][t], y0) for t in range(T + 1)]  # q[t][k, l]
    dJ_dW, dJ_dy0 = jac(J, (W, y0))
    yT = y[T].detach().requires_grad_(True)
    (dJ_dyT,) = torch.autograd.grad(0.5 * (dk - yT[n - 1]) ** 2, yT)
    eye = torch.eye(n)
    W_U = W[:, :n]
    with torch.no_grad():
        fp = [torch.sigmoid(s[t]) * (1 - torch.sigmoid(s[t])) for t in range(T)]
        return {
            r"$$p^k_{ij}(t+1) = f'_k(s_k(t)) \sum": equal(
                (
                    p[t + 1],
                    fp[t][:, None, None] * torch.einsum("kl,lij->kij", W_U, p[t])
                    + eye[:, :, None] * z[t][None, None, :],
                )
                for t in range(T)
            ),
            r"{\partial w_{ij}} = -\sum_{k \in T}": equal([(dJ_dW, -e * p[T][n - 1])]),
            r"{\partial y_k(t_1)} = e_k(t_1)": equal([(dJ_dyT[n - 1], e)]),
            r"$$q^k_l(t_0) = \delta_{kl}$$": equal([(q[0], eye)]),
            r"$$q^k_l(t+1) = f'_k(s_k(t))": equal((q[t + 1], fp[t][:, None] * (W_U @ q[t])) for t in range(T)),
            r"{\partial y_l(t_0)} = -\sum": equal([(dJ_dy0, -e * q[T][n - 1])]),
        }


if __name__ == "__main__":
    sys.exit(main())
