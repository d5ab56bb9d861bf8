"""lipton2015-lstm: every claim of the note recomputed with torch autograd in float64.

The operator claim (d/do of phi(s) ⊙ o applied to dL/dh) is computed as a real Jacobian-vector
product by autograd, not from the note's remark that the Jacobian is diagonal.
"""

import pathlib
import sys
import tomllib

import torch

SLUG = "lipton2015-lstm"


def main() -> int:
    gen = torch.Generator().manual_seed(5150)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    D, H, K, T = 2, 3, 2, 4
    Wx = {k: rand(H, D) for k in "gifo"}
    Wh = {k: rand(H, H) for k in "gifo"}
    bb = {k: rand(H, 1) for k in "gifo"}
    W_yh, b_y = rand(K, H), rand(K, 1)
    for p in (Wx["g"], bb["i"]):
        p.requires_grad_(True)
    xs = [rand(D, 1) for _ in range(T)]
    ys = [rand(K, 1) for _ in range(T)]
    sig = torch.sigmoid
    h, s = rand(H, 1), rand(H, 1)
    S, gates = [s], {k: [] for k in "gifo"}
    probes = {k: [] for k in ("g", "i", "f", "o", "s", "h")}
    L = 0.0
    for t in range(T):
        pr = {k: probe(H) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        g = torch.tanh(Wx["g"] @ xs[t] + Wh["g"] @ h + bb["g"]) + pr["g"]
        i = sig(Wx["i"] @ xs[t] + Wh["i"] @ h + bb["i"]) + pr["i"]
        f = sig(Wx["f"] @ xs[t] + Wh["f"] @ h + bb["f"]) + pr["f"]
        o = sig(Wx["o"] @ xs[t] + Wh["o"] @ h + bb["o"]) + pr["o"]
        s = g * i + s * f + pr["s"]
        h = torch.tanh(s) * o + pr["h"]
        L = L + 0.5 * ((W_yh @ h + b_y - ys[t]) ** 2).sum()
        for k, v in (("g", g), ("i", i), ("f", f), ("o", o)):
            gates[k].append(v.detach())
        S.append(s.detach())
    names = list(probes)
    grads = torch.autograd.grad(L, [Wx["g"], bb["i"]] + [v for k in names for v in probes[k]])
    gW_gx, gb_i = grads[:2]
    d = {k: list(grads[2 + n * T : 2 + (n + 1) * T]) for n, k in enumerate(names)}
    zero = torch.zeros(H, 1, dtype=torch.float64)
    d["s"].append(zero)
    f_next = gates["f"][1:] + [zero]

    def jvp_o(t):  # (d/do (phi(s) ⊙ o))^T dL/dh by autograd
        o = gates["o"][t].clone().requires_grad_(True)
        out = torch.tanh(S[t + 1]) * o
        return torch.autograd.grad(out, o, grad_outputs=d["h"][t])[0]

    def dphi(v):
        return 1 - torch.tanh(v) ** 2

    st = torch.stack
    rng = range(T)
    claims = [
        (
            29,
            "holds",
            r"\dL{o^{(t)}} &= \frac{\partial}{\partial o^{(t)}}",
            "operator form for dL/do",
            st(d["o"]),
            st([jvp_o(t) for t in rng]),
        ),
        (
            30,
            "holds",
            r"\dL{s^{(t)}} &=",
            "dL/ds",
            st(d["s"][:T]),
            st([d["h"][t] * gates["o"][t] * dphi(S[t + 1]) + d["s"][t + 1] * f_next[t] for t in rng]),
        ),
        (31, "holds", r"\dL{g^{(t)}} &=", "dL/dg", st(d["g"]), st([d["s"][t] * gates["i"][t] for t in rng])),
        (32, "holds", r"\dL{i^{(t)}} &=", "dL/di", st(d["i"]), st([d["s"][t] * gates["g"][t] for t in rng])),
        (33, "wrong", r"\dL{f^{(t)}} &=", "dL/df", st(d["f"]), st([d["s"][t] * S[t + 1] for t in rng])),
        (
            34,
            "holds",
            r"\dL{b_i} &= \sum",
            "dL/db_i",
            gb_i,
            sum(d["i"][t] * gates["i"][t] * (1 - gates["i"][t]) for t in rng),
        ),
        (
            35,
            "wrong",
            r"\dL{W^{gx}} &= \sum",
            "dL/dW^gx",
            gW_gx,
            sum((d["g"][t] * dphi(gates["g"][t])) @ xs[t].T for t in rng),
        ),
    ]
    return report(claims)


# --- comparison and report (the same in every corpus script) ---------------------------------


def probe(*shape):
    """A zero added to a quantity so that autograd reports the total gradient with respect to it."""
    if len(shape) == 1:
        shape = (shape[0], 1)
    return torch.zeros(*shape, dtype=torch.float64, requires_grad=True)


HOLDS_TOL = 1e-9  # a claim that holds agrees to this relative max-norm difference
WRONG_TOL = 1e-6  # a planted error differs by more than this


def compare(lhs, rhs):
    """("holds" | "wrong" | "unclear", relative max-norm difference) of two tensors."""
    if tuple(lhs.shape) != tuple(rhs.shape):
        return "wrong", float("inf")
    scale = max(1.0, float(lhs.abs().max()), float(rhs.abs().max()))
    diff = float((lhs - rhs).abs().max()) / scale
    if diff <= HOLDS_TOL:
        return "holds", diff
    return ("wrong" if diff > WRONG_TOL else "unclear"), diff


def note_lines():
    """The note's lines, with JSON's doubled backslashes undone for notebooks."""
    here = pathlib.Path(__file__).resolve().parent
    (note,) = [p for p in here.glob(SLUG + ".*") if p.suffix in (".md", ".tex", ".ipynb")]
    text = note.read_text(encoding="utf-8")
    if note.suffix == ".ipynb":
        text = text.replace("\\\\", "\\")
    return text.splitlines()


def report(claims):
    """Print one line per claim; 0 iff every claim's truth and line agree with the manifest."""
    here = pathlib.Path(__file__).resolve().parent
    manifest = tomllib.loads((here / (SLUG + ".expect.toml")).read_text(encoding="utf-8"))
    listed = sorted((c["line"], c["verdict"]) for c in manifest["claim"])
    checked = sorted((c[0], c[1]) for c in claims)
    status = 0
    if listed != checked:
        print(f"{SLUG}: MISMATCH manifest lists {listed}, script checks {checked}")
        status = 1
    lines = note_lines()
    for line, verdict, marker, what, lhs, rhs in claims:
        found, diff = compare(lhs, rhs)
        placed = 1 <= line <= len(lines) and marker in lines[line - 1]
        good = found == verdict and placed
        status |= 0 if good else 1
        where = "" if placed else f" [line {line} lacks {marker!r}]"
        print(
            f"{SLUG}:{line}: {what}: {found} (manifest {verdict}, diff {diff:.1e}){where} {'ok' if good else 'MISMATCH'}"
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
