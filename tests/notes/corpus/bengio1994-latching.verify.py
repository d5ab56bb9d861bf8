"""Verify the corpus note bengio1994-latching: each claim by torch autograd in float64 (see its .expect.toml)."""

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


def run(w, a0, h):
    a = [a0]
    for t in range(1, len(h)):
        a.append(w * torch.tanh(a[t - 1]) + h[t])
    return a


def claims():
    """Latching unit a_t = w tanh(a_{t-1}) + h_t, C = 1/2 (a_T - y)^2."""
    torch.manual_seed(94)
    T = 6
    w = torch.tensor(1.3, requires_grad=True)
    a0 = torch.tensor(0.4, requires_grad=True)
    h = [None] + [(0.5 * torch.randn(())).requires_grad_(True) for _ in range(T)]
    y = torch.tensor(-0.2)
    a = run(w, a0, h)
    C = 0.5 * (a[T] - y) ** 2
    g = torch.autograd.grad(C, [w, *h[1:]], retain_graph=True)
    dw, dh = g[0], [None, *g[1:]]
    (daT_da0,) = torch.autograd.grad(a[T], a0)

    def prod(lo, hi, sq=True):
        out = torch.ones(())
        for s in range(lo, hi + 1):
            th = torch.tanh(a[s - 1])
            out = out * w * (1 - th**2 if sq else 1 - th)
        return out

    samples = []
    gen = torch.Generator().manual_seed(5)
    for _ in range(200):
        wr = (2 * torch.rand((), generator=gen) - 1).requires_grad_(True)
        a0r = (0.2 * torch.randn((), generator=gen)).requires_grad_(True)
        hr = [None] + [(0.2 * torch.randn((), generator=gen)).requires_grad_(True) for _ in range(T)]
        ar = run(wr, a0r, hr)
        Cr = 0.5 * (ar[T] - y) ** 2
        (gh1,) = torch.autograd.grad(Cr, hr[1], retain_graph=True)
        (ga0,) = torch.autograd.grad(ar[T], a0r)
        samples.append((wr.detach(), ar[T].detach(), ga0, gh1))
    with torch.no_grad():
        eps = 1 + 1e-12
        return {
            r"\dd{a_T}{a_0} &= \prod": equal([(daT_da0, prod(1, T))]),
            r"\dd{C}{h_t} &= (a_T - y)": equal((dh[t], (a[T] - y) * prod(t + 1, T, sq=False)) for t in range(1, T + 1)),
            r"\dd{C}{w} &= (a_T - y) \sum": equal(
                [(dw, (a[T] - y) * sum(torch.tanh(a[t - 1]) * prod(t + 1, T) for t in range(1, T + 1)))]
            ),
            r"\left| \dd{a_T}{a_0} \right| &\le |w|^{T}": always(
                ga0.abs() <= wr.abs() ** T * eps for wr, _, ga0, _ in samples
            ),
            r"\left| \dd{C}{h_1} \right| &\le": always(
                gh1.abs() <= (aT - y).abs() * wr.abs() ** T * eps for wr, aT, _, gh1 in samples
            ),
        }


if __name__ == "__main__":
    sys.exit(main())
