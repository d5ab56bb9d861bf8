"""Verify the corpus note werbos1990-bptt-vector: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """h(t) = tanh(W h(t-1) + U x(t) + b), Yhat(t) = V h(t), E = sum_t 1/2 ||Yhat(t) - Y(t)||^2, h(0) given."""
    torch.manual_seed(19901)
    nx, nh, ny, T = 3, 4, 2, 5
    W, U, V, b = torch.randn(nh, nh), torch.randn(nh, nx), torch.randn(ny, nh), torch.randn(nh, 1)
    params = [W, U, V, b]
    for p in params:
        p.requires_grad_(True)
    h0 = torch.randn(nh, 1, requires_grad=True)
    x = [torch.randn(nx, 1) for _ in range(T)]
    Y = [torch.randn(ny, 1) for _ in range(T)]
    h, Yhat = [h0], []
    for t in range(T):
        h.append(torch.tanh(W @ h[t] + U @ x[t] + b))
        Yhat.append(V @ h[t + 1])
    E = sum(0.5 * ((Yhat[t] - Y[t]) ** 2).sum() for t in range(T))
    g_all = torch.autograd.grad(E, [*h[1:], *params, h0])
    Fh = [None, *g_all[:T], torch.zeros(nh, 1)]  # Fh[t] = d+E/dh(t), t = 1..T, Fh[T+1] = 0
    FW, FU, FV, Fb, Fh0 = g_all[T:]
    jac = [None] + [
        torch.autograd.functional.jacobian(lambda hh, t=t: torch.tanh(W @ hh + U @ x[t] + b), h[t]).reshape(nh, nh)
        for t in range(1, T)
    ]  # jac[t] = dh(t+1)/dh(t), t = 1..T-1
    with torch.no_grad():
        direct = [None] + [V.T @ (Yhat[t - 1] - Y[t - 1]) for t in range(1, T + 1)]
        gnet = [None] + [(1 - h[t] ** 2) * Fh[t] for t in range(1, T + 1)]
        steps = range(1, T + 1)
        return {
            r"{\partial \vh(t)} &=& \frac{\partial E}{\partial \vh(t)} + \left(": equal(
                [(Fh[t], direct[t] + jac[t].T @ Fh[t + 1]) for t in range(1, T)] + [(Fh[T], direct[T])]
            ),
            r"\frac{\partial E}{\partial \vh(t)} &=& V^{\top}": equal(
                # the immediate partial: E as a formula in h(t) with nothing after it varying
                (
                    torch.autograd.functional.jacobian(lambda hh, t=t: 0.5 * ((V @ hh - Y[t - 1]) ** 2).sum(), h[t]),
                    direct[t],
                )
                for t in steps
            ),
            r"{\partial \vh(t)} &=& \mathrm{diag}": equal(
                (jac[t], torch.diag((1 - h[t + 1] ** 2).flatten()) @ W) for t in range(1, T)
            ),
            r"{\partial W} &=& \sum": equal([(FW, sum(gnet[t] @ h[t - 1].T for t in steps))]),
            r"{\partial U} &=& \sum": equal([(FU, sum(((1 - h[t]) * Fh[t]) @ x[t - 1].T for t in steps))]),
            r"{\partial \mathbf{b}} &=& \sum_{t=1}^{T-1}": equal([(Fb, sum(gnet[t] for t in range(1, T)))]),
            r"{\partial V} &=& \sum": equal([(FV, sum((Y[t - 1] - Yhat[t - 1]) @ h[t].T for t in steps))]),
            r"{\partial \vh(0)} &=& W^{\top}": equal([(Fh0, W.T @ gnet[1])]),
        }


if __name__ == "__main__":
    sys.exit(main())
