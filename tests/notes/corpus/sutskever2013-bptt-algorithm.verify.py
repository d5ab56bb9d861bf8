"""Verify the corpus note sutskever2013-bptt-algorithm: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """h_t = tanh(W_hv v_t + W_hh h_{t-1} + b_h), z_t = W_oh h_t + b_o, L = sum_t CE(z_t; y_t), h_0 learned."""
    torch.manual_seed(2013)
    nv, nh, no, T = 3, 4, 5, 5
    W_hv, W_hh, W_oh = torch.randn(nh, nv), torch.randn(nh, nh), torch.randn(no, nh)
    b_h, b_o = torch.randn(nh), torch.randn(no)
    for p in (W_hh, b_o):
        p.requires_grad_(True)
    v = [None] + [torch.randn(nv, requires_grad=True) for _ in range(T)]
    y = torch.randint(0, no, (T + 1,))
    h0 = torch.randn(nh, requires_grad=True)
    h, r, z = [h0], [None], [None]
    for t in range(1, T + 1):
        r.append(W_hv @ v[t] + W_hh @ h[t - 1] + b_h)
        h.append(torch.tanh(r[t]))
        z.append(W_oh @ h[t] + b_o)
    L = sum(torch.nn.functional.cross_entropy(z[t][None], y[t : t + 1], reduction="sum") for t in range(1, T + 1))
    g = torch.autograd.grad(L, [*z[1:], *h[1:], *r[1:], W_hh, b_o, *v[1:], h0])
    dz, dh = [None, *g[:T]], [None, *g[T : 2 * T]]
    dr = [None, *g[2 * T : 3 * T], torch.zeros(nh)]
    dW_hh, db_o = g[3 * T], g[3 * T + 1]
    dv, dh0 = [None, *g[3 * T + 2 : 4 * T + 2]], g[4 * T + 2]
    steps = range(1, T + 1)
    with torch.no_grad():
        one_hot = [None] + [torch.nn.functional.one_hot(y[t], no).double() for t in steps]
        return {
            r"$$dz_t = \operatorname{softmax}(z_t)": equal((dz[t], torch.softmax(z[t], 0) - one_hot[t]) for t in steps),
            r"$$dh_t = W_{oh}^\top dz_t": equal((dh[t], W_oh.T @ dz[t] + W_hh.T @ dr[t + 1]) for t in steps),
            r"$$dr_t = dh_t \odot": equal((dr[t], dh[t] * (1 - h[t] * h[t])) for t in steps),
            r"$$dW_{hh} = \sum": equal([(dW_hh, sum(torch.outer(dr[t], h[t - 1]) for t in steps))]),
            r"$$db_o = \frac{1}{T}": equal([(db_o, sum(dz[1:]) / T)]),
            r"$$dv_t = W_{hv}^\top dr_t$$": equal((dv[t], W_hv.T @ dr[t]) for t in steps),
            r"$$dh_0 = W_{hh} \, dr_1$$": equal([(dh0, W_hh @ dr[1])]),
        }


if __name__ == "__main__":
    sys.exit(main())
