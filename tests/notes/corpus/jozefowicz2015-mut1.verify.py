"""jozefowicz2015-mut1: every claim of the note recomputed with torch autograd in float64."""

import pathlib
import sys
import tomllib

import torch

SLUG = "jozefowicz2015-mut1"


def main() -> int:
    gen = torch.Generator().manual_seed(1501)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    H, K, T = 3, 2, 4  # MUT1 adds tanh(x_t) to the state, so the input size is H
    W_xz, b_z, W_xr, W_hr, b_r, W_hh, b_h, W_y = (
        rand(H, H),
        rand(H, 1),
        rand(H, H),
        rand(H, H),
        rand(H, 1),
        rand(H, H),
        rand(H, 1),
        rand(K, H),
    )
    W_hr.requires_grad_(True)
    xs = [rand(H, 1).requires_grad_(True) for _ in range(T)]  # x_0 .. x_{T-1}
    ds = {t: rand(K, 1) for t in range(1, T + 1)}
    sig = torch.sigmoid
    h = rand(H, 1)
    hs, zs, rs, hts = [h], [], [], []
    probes = {k: [] for k in ("h", "z", "r", "a")}
    L = 0.0
    for t in range(T):
        pr = {k: probe(H) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        z = sig(W_xz @ xs[t] + b_z + pr["z"])
        r = sig(W_xr @ xs[t] + W_hr @ h + b_r + pr["r"])
        ht = torch.tanh(W_hh @ (r * h) + torch.tanh(xs[t]) + b_h + pr["a"])
        h = ht * z + h * (1 - z) + pr["h"]  # h_{t+1}
        L = L + 0.5 * ((W_y @ h - ds[t + 1]) ** 2).sum()
        hs.append(h.detach())
        zs.append(z.detach())
        rs.append(r.detach())
        hts.append(ht.detach())
    hs[0] = hs[0].detach()
    names = list(probes)
    grads = torch.autograd.grad(L, [W_hr] + xs + [v for k in names for v in probes[k]])
    gW_hr = grads[0]
    dx = grads[1 : 1 + T]
    d = {k: list(grads[1 + T + n * T : 1 + T + (n + 1) * T]) for n, k in enumerate(names)}
    dh = {t + 1: d["h"][t] for t in range(T)}  # delta h_{t+1}
    da, dr, dz = d["a"], d["r"], d["z"]
    st = torch.stack
    rng = range(T)
    inner = range(1, T)  # 1 <= t <= T-1
    claims = [
        (
            29,
            "holds",
            r"\delta h_t = W_y^\top",
            "delta h_t",
            st([dh[t] for t in inner]),
            st(
                [
                    W_y.T @ (W_y @ hs[t] - ds[t])
                    + dh[t + 1] * (1 - zs[t])
                    + rs[t] * (W_hh.T @ da[t])
                    + W_hr.detach().T @ dr[t]
                    for t in inner
                ]
            ),
        ),
        (31, "wrong", r"\delta a_t =", "delta a_t", st(da), st([dh[t + 1] * (1 - hts[t] * hts[t]) for t in rng])),
        (
            33,
            "holds",
            r"\delta \bar r_t =",
            "delta r-bar_t",
            st(dr),
            st([(W_hh.T @ da[t]) * hs[t] * rs[t] * (1 - rs[t]) for t in rng]),
        ),
        (
            35,
            "holds",
            r"\delta \bar z_t =",
            "delta z-bar_t",
            st(dz),
            st([dh[t + 1] * (hts[t] - hs[t]) * zs[t] * (1 - zs[t]) for t in rng]),
        ),
        (
            39,
            "holds",
            r"\delta x_t =",
            "delta x_t with its own tanh",
            st(list(dx)),
            st([W_xz.T @ dz[t] + W_xr.T @ dr[t] + da[t] * (1 - torch.tanh(xs[t].detach()) ** 2) for t in rng]),
        ),
        (41, "wrong", r"\delta W_{hr} = \sum", "delta W_hr", gW_hr, sum(dr[t] @ hs[t + 1].T for t in rng)),
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
