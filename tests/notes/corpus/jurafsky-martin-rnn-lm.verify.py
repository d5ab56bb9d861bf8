"""jurafsky-martin-rnn-lm: every claim of the note recomputed with torch autograd in float64."""

import pathlib
import sys
import tomllib

import torch

SLUG = "jurafsky-martin-rnn-lm"


def main() -> int:
    gen = torch.Generator().manual_seed(8)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    d, H, Vsize, T = 2, 3, 5, 4
    U, W, V = rand(H, H), rand(H, d), rand(Vsize, H)
    for p in (U, W, V):
        p.requires_grad_(True)
    xs = [rand(d, 1) for _ in range(T)]
    nxt = torch.randint(0, Vsize, (T,), generator=gen).tolist()  # w_{t+1}
    eye = torch.eye(Vsize, dtype=torch.float64)
    h0 = rand(H, 1).requires_grad_(True)
    h, hs, zs, ph, pz = h0, [h0.detach()], [], [], []
    L = 0.0
    for t in range(T):
        qh, qz = probe(H), probe(Vsize)
        h = torch.tanh(U @ h + W @ xs[t]) + qh
        z = V @ h + qz
        L = L - torch.log_softmax(z, dim=0)[nxt[t], 0] / T
        hs.append(h.detach())
        zs.append(z.detach())
        ph.append(qh)
        pz.append(qz)
    grads = torch.autograd.grad(L, [U, W, V, h0] + ph + pz)
    gU, gW, gV, dh0 = grads[:4]
    dh, dz = list(grads[4 : 4 + T]), grads[4 + T :]
    yhat = [torch.softmax(z, dim=0) for z in zs]
    onehot = [eye[:, k : k + 1] for k in nxt]
    Ud = U.detach()
    dh_ext = dh + [torch.zeros(H, 1, dtype=torch.float64)]
    hs_ext = hs + [torch.zeros(H, 1, dtype=torch.float64)]

    def pre(t):  # (1 - h_t^2) ⊙ dL/dh_t, 1-based t
        return (1 - hs_ext[t] ** 2) * dh_ext[t - 1]

    st = torch.stack
    rng = range(1, T + 1)
    claims = [
        (
            24,
            "holds",
            r"\partial z_{t,i}} = \frac{1}{T}",
            "dL/dz_{t,i}",
            st(list(dz)),
            st([(yhat[t] - onehot[t]) / T for t in range(T)]),
        ),
        (26, "holds", r"\partial V} = \sum", "dL/dV", gV, sum(dz[t - 1] @ hs[t].T for t in rng)),
        (
            31,
            "wrong",
            r"\partial h_t} = V^\top",
            "dL/dh_t",
            st(dh),
            st([V.detach().T @ (yhat[t - 1] - onehot[t - 1]) + Ud.T @ pre(t + 1) for t in rng]),
        ),
        (33, "holds", r"\partial U} = \sum", "dL/dU", gU, sum(pre(t) @ hs[t - 1].T for t in rng)),
        (35, "holds", r"\partial W} = \sum", "dL/dW", gW, sum(pre(t) @ xs[t - 1].T for t in rng)),
        (37, "wrong", r"\partial h_0} = U", "dL/dh_0", dh0, Ud @ pre(1)),
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
