"""Verify the corpus note sutskever2013-mrnn: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """MRNN: f_t = diag(W_fv v_t) W_fh h_{t-1}, h_t = tanh(W_hf f_t + W_hv v_t), o_t = W_oh h_t + b_o; sum of CE."""
    torch.manual_seed(77)
    nv, nh, nf, no, T = 3, 4, 5, 3, 5
    W_fv, W_fh, W_hf = torch.randn(nf, nv), torch.randn(nf, nh), torch.randn(nh, nf)
    W_hv, W_oh, b_o = torch.randn(nh, nv), torch.randn(no, nh), torch.randn(no)
    params = [W_fv, W_fh, W_hv]
    for p in params:
        p.requires_grad_(True)
    v = [None] + [torch.randn(nv) for _ in range(T + 1)]
    y = torch.randint(0, no, (T + 1,))
    h, f, r, o = [torch.randn(nh)], [None], [None], [None]
    for t in range(1, T + 1):
        f.append(torch.diag(W_fv @ v[t]) @ W_fh @ h[t - 1])
        r.append(W_hf @ f[t] + W_hv @ v[t])
        h.append(torch.tanh(r[t]))
        o.append(W_oh @ h[t] + b_o)
    L = sum(torch.nn.functional.cross_entropy(o[t][None], y[t : t + 1], reduction="sum") for t in range(1, T + 1))
    g = torch.autograd.grad(L, [*f[1:], *r[1:], *h[1:], *o[1:], *params])
    df = [None, *g[:T], torch.zeros(nf)]
    dr = [None, *g[T : 2 * T]]
    dh = [None, *g[2 * T : 3 * T]]
    do = [None, *g[3 * T : 4 * T]]
    dW_fv, dW_fh, dW_hv = g[4 * T :]
    steps = range(1, T + 1)
    with torch.no_grad():
        return {
            r"df_t &= W_{hf}^\top dr_t": equal((df[t], W_hf.T @ dr[t]) for t in steps),
            r"dh_t &= W_{oh}^\top do_t": equal(
                (dh[t], W_oh.T @ do[t] + W_fh.T @ ((W_fv @ v[t]) * df[t + 1])) for t in steps
            ),
            r"dW_{fh} &= \sum": equal([(dW_fh, sum(torch.outer((W_fv @ v[t]) * df[t], h[t - 1]) for t in steps))]),
            r"dW_{fv} &= \sum": equal([(dW_fv, sum(torch.outer(df[t] * (W_fh @ h[t - 1]), v[t]) for t in steps))]),
            r"dW_{hv} &= \sum": equal([(dW_hv, sum(torch.outer(dh[t], v[t]) for t in steps))]),
        }


if __name__ == "__main__":
    sys.exit(main())
