"""lipton2015-brnn: every claim of the note recomputed with torch autograd in float64."""

import pathlib
import sys
import tomllib

import torch

SLUG = "lipton2015-brnn"


def main() -> int:
    gen = torch.Generator().manual_seed(1506)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.8

    D, H, Z, K, T = 2, 3, 2, 4, 4
    W_hx, W_hh, b_h = rand(H, D), rand(H, H), rand(H, 1)
    W_zx, W_zz, b_z = rand(Z, D), rand(Z, Z), rand(Z, 1)
    W_yh, W_yz, b_y = rand(K, H), rand(K, Z), rand(K, 1)
    params = [b_h, W_zz, W_yz]
    for p in params:
        p.requires_grad_(True)
    xs = {t: rand(D, 1) for t in range(1, T + 1)}
    eye = torch.eye(K, dtype=torch.float64)
    ys = {
        t: eye[:, k : k + 1]
        for t, k in zip(range(1, T + 1), torch.randint(0, K, (T,), generator=gen).tolist(), strict=True)
    }
    sig = torch.sigmoid
    h = {0: rand(H, 1)}
    z = {T + 1: rand(Z, 1)}
    ph = {t: probe(H) for t in range(1, T + 1)}
    pz = {t: probe(Z) for t in range(1, T + 1)}
    for t in range(1, T + 1):
        h[t] = sig(W_hx @ xs[t] + W_hh @ h[t - 1] + b_h) + ph[t]
    for t in range(T, 0, -1):
        z[t] = sig(W_zx @ xs[t] + W_zz @ z[t + 1] + b_z) + pz[t]
    yhat = {t: torch.softmax(W_yh @ h[t] + W_yz @ z[t] + b_y, dim=0) for t in range(1, T + 1)}
    L = -sum((ys[t] * torch.log(yhat[t])).sum() for t in range(1, T + 1))
    ts = list(range(1, T + 1))
    grads = torch.autograd.grad(L, params + [ph[t] for t in ts] + [pz[t] for t in ts])
    gb_h, gW_zz, gW_yz = grads[:3]
    dh = dict(zip(ts, grads[3 : 3 + T], strict=True))
    dz = dict(zip(ts, grads[3 + T :], strict=True))
    dh[T + 1] = torch.zeros(H, 1, dtype=torch.float64)
    h = {t: v.detach() for t, v in h.items()}
    z = {t: v.detach() for t, v in z.items()}
    h[T + 1] = torch.zeros(H, 1, dtype=torch.float64)
    r = {t: (yhat[t] - ys[t]).detach() for t in ts}
    st = torch.stack
    claims = [
        (
            22,
            "holds",
            r"\partial h^{(t)}} = {W^{yh}}^\top",
            "dL/dh^(t)",
            st([dh[t] for t in ts]),
            st([W_yh.T @ r[t] + W_hh.T @ (h[t + 1] * (1 - h[t + 1]) * dh[t + 1]) for t in ts]),
        ),
        (
            24,
            "wrong",
            r"\partial z^{(t)}} = {W^{yz}}^\top",
            "dL/dz^(t)",
            st([dz[t] for t in ts[:-1]]),
            st([W_yz.detach().T @ r[t] + W_zz.detach().T @ (z[t + 1] * (1 - z[t + 1]) * dz[t + 1]) for t in ts[:-1]]),
        ),
        (26, "holds", r"\partial W^{yz}} = \sum", "dL/dW^yz", gW_yz, sum(r[t] @ z[t].T for t in ts)),
        (
            28,
            "holds",
            r"\partial W^{zz}} = \sum",
            "dL/dW^zz",
            gW_zz,
            sum((z[t] * (1 - z[t]) * dz[t]) @ z[t + 1].T for t in ts),
        ),
        (30, "wrong", r"\partial b_h} = \sum", "dL/db_h", gb_h, sum(h[t] * dh[t] for t in ts)),
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
