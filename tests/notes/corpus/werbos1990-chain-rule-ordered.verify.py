"""Verify the corpus note werbos1990-chain-rule-ordered: each claim by torch autograd in float64 (see its .expect.toml)."""

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
    """One logistic neuron: net(t) = w x(t-1) + u X(t), x(t) = s(net(t)), E = 1/2 (x(T) - Y)^2."""
    torch.manual_seed(7)
    T = 6
    w, u = torch.tensor(1.7, requires_grad=True), torch.tensor(-0.9, requires_grad=True)
    X = [None] + [torch.randn((), requires_grad=True) for _ in range(T)]
    Y = torch.tensor(0.3)
    x = [torch.tensor(0.2, requires_grad=True)]
    net = [None]
    for t in range(1, T + 1):
        net.append(w * x[t - 1] + u * X[t])
        x.append(torch.sigmoid(net[t]))
    E = 0.5 * (x[T] - Y) ** 2
    g = torch.autograd.grad(E, [*x, *net[1:], w, u, *X[1:]])
    Fx = list(g[: T + 1])  # Fx[t], t = 0..T
    Fnet = [None, *g[T + 1 : 2 * T + 1]]
    Fw, Fu = g[2 * T + 1], g[2 * T + 2]
    FX = [None, *g[2 * T + 3 :]]
    steps = range(1, T + 1)
    with torch.no_grad():

        def sp(z):
            return torch.sigmoid(z) * (1 - torch.sigmoid(z))

        def prod(ts):
            out = torch.ones(())
            for k in ts:
                out = out * w * x[k] * (1 - x[k])
            return out

        return {
            r"$$F\_x(T) = x(T) - Y$$": equal([(Fx[T], x[T] - Y)]),
            r"$$F\_x(t) = w \, s'(net(t+1))": equal((Fx[t], w * sp(net[t + 1]) * Fx[t + 1]) for t in range(1, T)),
            r"$$F\_net(t) = x(t)": equal((Fnet[t], x[t] * (1 - x[t]) * Fx[t]) for t in steps),
            r"\prod_{k=t+1}^{T}": equal((Fx[t], (x[T] - Y) * prod(range(t + 1, T + 1))) for t in steps),
            r"$$F\_w = \sum": equal([(Fw, sum(Fnet[t] * x[t] for t in steps))]),
            r"$$F\_u = \sum": equal([(Fu, sum(Fnet[t] * X[t] for t in steps))]),
            # F_net(T+1) is zero, so the claim is tested where both sides exist and at t = T
            r"$$F\_X(t) = u": equal([(FX[t], u * Fnet[t + 1]) for t in range(1, T)] + [(FX[T], torch.zeros(()))]),
            r"$$F\_x(0) = w": equal([(Fx[0], w * Fnet[1])]),
        }


if __name__ == "__main__":
    sys.exit(main())
