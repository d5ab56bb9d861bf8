"""cho2014-gru-jacobian: every claim of the note recomputed with torch autograd in float64.

One-step Jacobians are computed with torch.autograd.functional.jacobian of the step itself.
"""

import pathlib
import sys
import tomllib

import torch

SLUG = "cho2014-gru-jacobian"


def main() -> int:
    gen = torch.Generator().manual_seed(1078)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.8

    D, H, N = 2, 3, 4
    W, U, W_r, U_r, W_z, U_z = rand(H, D), rand(H, H), rand(H, D), rand(H, H), rand(H, D), rand(H, H)
    xs = [rand(D) for _ in range(N)]
    a, b = rand(H), rand(H)
    sig = torch.sigmoid
    jac = torch.autograd.functional.jacobian
    diag = torch.diag

    def parts(x, h):
        r = sig(W_r @ x + U_r @ h)
        z = sig(W_z @ x + U_z @ h)
        ht = torch.tanh(W @ x + U @ (r * h))
        return r, z, ht

    def step(x, h):
        r, z, ht = parts(x, h)
        return z * h + (1 - z) * ht

    def loss(h):  # a generic smooth loss of the summary
        return (a * torch.log(torch.cosh(h)) + b * h).sum()

    hs = [rand(H)]
    for t in range(N):
        hs.append(step(xs[t], hs[-1]))
    rows = {k: [] for k in ("dz", "dht", "J", "chain")}
    for t in range(N):
        x, hp = xs[t], hs[t]
        r, z, ht = parts(x, hp)
        true_dz = jac(lambda zz, hp=hp, ht=ht: zz * hp + (1 - zz) * ht, z)
        true_dht = jac(lambda hh, x=x: parts(x, hh)[2], hp)
        true_J = jac(lambda hh, x=x: step(x, hh), hp)
        rows["dz"].append((true_dz, diag(ht - hp)))
        rows["dht"].append((true_dht, diag(1 - ht * ht) @ U @ diag(r)))
        note_J = (
            diag(z)
            + diag((hp - ht) * z * (1 - z)) @ U_z
            + diag((1 - z) * (1 - ht * ht)) @ U @ (diag(r) + diag(hp * r * (1 - r)) @ U_r)
        )
        rows["J"].append((true_J, note_J))

        # dL/dh^{<t-1>} and dL/dh^{<t>} by autograd through the remaining steps
        def tail(h, t=t):
            for s in range(t, N):
                h = step(xs[s], h)
            return loss(h)

        hp_leaf = hp.detach().clone().requires_grad_(True)
        (g_prev,) = torch.autograd.grad(tail(hp_leaf, t), hp_leaf)
        h_leaf = step(x, hp).detach().clone().requires_grad_(True)
        (g_now,) = torch.autograd.grad(tail(h_leaf, t + 1), h_leaf)
        rows["chain"].append((g_prev, true_J.T @ g_now))

    def stacked(key):
        return torch.stack([p[0] for p in rows[key]]), torch.stack([p[1] for p in rows[key]])

    claims = [
        (27, "wrong", r"\frac{\partial \h{t}}{\partial z} &=", "dh/dz, one step", *stacked("dz")),
        (28, "wrong", r"\frac{\partial \tilde h}{\partial \h{t-1}} &=", "dh~/dh^<t-1>, one step", *stacked("dht")),
        (29, "holds", r"J_t &= \diag(z)", "J_t, the full one-step Jacobian (two rows)", *stacked("J")),
        (31, "holds", r"\h{t-1}} &= J_t^\top", "dL/dh^<t-1> = J_t^T dL/dh^<t>", *stacked("chain")),
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
