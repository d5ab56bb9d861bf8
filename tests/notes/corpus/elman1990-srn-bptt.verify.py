"""Verify the corpus note elman1990-srn-bptt: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """Elman SRN: logistic units, context c(t) = h(t-1), c(1) = 0.5, E = 1/2 sum ||y - d||^2."""
    torch.manual_seed(1990)
    nx, nh, ny, T = 3, 4, 3, 5
    W_hx, W_hc, W_yh = torch.randn(nh, nx), torch.randn(nh, nh), torch.randn(ny, nh)
    b_h, b_y = torch.randn(nh, 1), torch.randn(ny, 1)
    params = [W_hx, W_hc, W_yh, b_h]
    for p in params:
        p.requires_grad_(True)
    x = [torch.randn(nx, 1) for _ in range(T)]
    d = [torch.rand(ny, 1) for _ in range(T)]
    c1 = torch.full((nh, 1), 0.5, requires_grad=True)
    c, net_h, h, net_y, y = [c1], [], [], [], []
    for t in range(T):
        net_h.append(W_hx @ x[t] + W_hc @ c[t] + b_h)
        h.append(torch.sigmoid(net_h[t]))
        c.append(h[t])
        net_y.append(W_yh @ h[t] + b_y)
        y.append(torch.sigmoid(net_y[t]))
    E = 0.5 * sum(((y[t] - d[t]) ** 2).sum() for t in range(T))
    g = torch.autograd.grad(E, [*net_y, *net_h, *params, c1])
    dy, dh = g[:T], g[T : 2 * T]
    gW_hx, gW_hc, gW_yh, gb_h, gc1 = g[2 * T :]
    dh_next = list(dh[1:]) + [torch.zeros(nh, 1)]
    with torch.no_grad():
        return {
            r"\boldsymbol\delta_y(t) = (\mathbf{y}(t) - \mathbf{d}(t)) \odot": equal(
                (dy[t], (y[t] - d[t]) * y[t]) for t in range(T)
            ),
            r"\boldsymbol\delta_h(t) = \mathbf{h}(t) \odot": equal(
                (dh[t], h[t] * (1 - h[t]) * (W_yh.T @ dy[t] + W_hc.T @ dh_next[t])) for t in range(T)
            ),
            r"\partial W_{yh}} = \sum": equal([(gW_yh, sum(dy[t] @ h[t].T for t in range(T)))]),
            r"\partial W_{hx}} = \sum": equal([(gW_hx, sum(dh[t] @ x[t].T for t in range(T)))]),
            r"\partial W_{hc}} = \sum": equal([(gW_hc, sum(dh[t] @ h[t].T for t in range(T)))]),
            r"\partial \mathbf{b}_h} = \sum": equal([(gb_h, sum(dh))]),
            r"\partial \mathbf{c}(1)} = W_{hc}^\top": equal([(gc1, W_hc.T @ dh[0])]),
        }


if __name__ == "__main__":
    sys.exit(main())
