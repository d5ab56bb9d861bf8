"""Verify the corpus note graves2012-rnn-bptt: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """Graves 3.2: w_ij from unit i to unit j; tanh hidden, softmax outputs, cross-entropy with one-hot z."""
    torch.manual_seed(2012)
    NI, H, K, T = 3, 4, 3, 5
    w_ih, w_hh, w_hk = torch.randn(NI, H), torch.randn(H, H), torch.randn(H, K)  # [from, to]
    for p in (w_ih, w_hh, w_hk):
        p.requires_grad_(True)
    x = [None] + [torch.randn(NI) for _ in range(T)]
    target = torch.randint(0, K, (T + 1,))
    z = [None] + [torch.nn.functional.one_hot(target[t], K).double() for t in range(1, T + 1)]
    b, a_h, a_k, y = [torch.zeros(H)], [None], [None], [None]
    for t in range(1, T + 1):
        a_h.append(x[t] @ w_ih + b[t - 1] @ w_hh)  # a_h^t = sum_i w_ih x_i + sum_h' w_h'h b_h'
        b.append(torch.tanh(a_h[t]))
        a_k.append(b[t] @ w_hk)
        y.append(torch.softmax(a_k[t], 0))
    L = -sum((z[t] * torch.log(y[t])).sum() for t in range(1, T + 1))
    g = torch.autograd.grad(L, [*a_h[1:], *a_k[1:], w_ih, w_hh, w_hk])
    dh = [None, *g[:T], torch.zeros(H)]
    dk = [None, *g[T : 2 * T]]
    g_ih, g_hh, g_hk = g[2 * T :]
    steps = range(1, T + 1)
    with torch.no_grad():
        return {
            r"$$\delta_k^t = y_k^t - z_k^t$$": equal((dk[t], y[t] - z[t]) for t in steps),
            r"$$\delta_h^t = \theta'(a_h^t)": equal(
                # sum_h' delta_h'^{t+1} w_h'h: the note's index order, read as w[h', h]
                (dh[t], (1 - b[t] ** 2) * (w_hk @ dk[t] + w_hh.T @ dh[t + 1]))
                for t in steps
            ),
            r"$$\theta'(a_h^t) = 1 - (b_h^t)^2$$": equal(
                (torch.func.vmap(torch.func.grad(torch.tanh))(a_h[t]), 1 - b[t] ** 2) for t in steps
            ),
            r"= \sum_{t=1}^{T} \delta_j^t b_i^t$$": equal(
                [
                    (g_ih, sum(torch.outer(x[t], dh[t]) for t in steps)),
                    (g_hk, sum(torch.outer(b[t], dk[t]) for t in steps)),
                ]
            ),
            r"{\partial w_{h'h}} = \sum": equal([(g_hh, sum(torch.outer(b[t], dh[t]) for t in steps))]),
        }


if __name__ == "__main__":
    sys.exit(main())
