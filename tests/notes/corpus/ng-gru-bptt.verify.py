"""ng-gru-bptt: every claim of the note recomputed with torch autograd in float64."""

import pathlib
import sys
import tomllib

import torch

SLUG = "ng-gru-bptt"


def main() -> int:
    gen = torch.Generator().manual_seed(100)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    n_c, n_x, T = 3, 2, 4
    W = {k: rand(n_c, n_c + n_x) for k in "urc"}
    bb = {k: rand(n_c, 1) for k in "urc"}
    W_y, b_y = rand(1, n_c), rand(1, 1)
    for p in (W["u"], W["c"], b_y):
        p.requires_grad_(True)
    xs = [rand(n_x, 1) for _ in range(T)]
    ys = [torch.bernoulli(torch.full((1, 1), 0.5, dtype=torch.float64), generator=gen) for _ in range(T)]
    sig = torch.sigmoid
    c = rand(n_c, 1)
    cs, gu, gr, ct, yh, stacks = [c], [], [], [], [], []
    probes = {k: [] for k in ("c", "u", "r", "z")}
    L = 0.0
    for t in range(T):
        pr = {k: probe(n_c) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        cx = torch.cat([c, xs[t]])
        u = sig(W["u"] @ cx + bb["u"] + pr["u"])
        r = sig(W["r"] @ cx + bb["r"] + pr["r"])
        cand = torch.tanh(W["c"] @ torch.cat([r * c, xs[t]]) + bb["c"] + pr["z"])
        c = u * cand + (1 - u) * c + pr["c"]
        y = sig(W_y @ c + b_y)
        L = L - (ys[t] * torch.log(y) + (1 - ys[t]) * torch.log(1 - y)).sum()
        stacks.append(cx.detach())
        cs.append(c.detach())
        gu.append(u.detach())
        gr.append(r.detach())
        ct.append(cand.detach())
        yh.append(y.detach())
    cs[0] = cs[0].detach()
    names = list(probes)
    grads = torch.autograd.grad(L, [W["u"], W["c"], b_y] + [v for k in names for v in probes[k]])
    gW_u, gW_c, gb_y = grads[:3]
    d = {k: list(grads[3 + n * T : 3 + (n + 1) * T]) for n, k in enumerate(names)}
    zero = torch.zeros(n_c, 1, dtype=torch.float64)
    for k in names:
        d[k].append(zero)
    gr_next = gr[1:] + [zero]
    Wd = {k: v.detach() for k, v in W.items()}
    W_uc, W_rc, W_cc = Wd["u"][:, :n_c], Wd["r"][:, :n_c], Wd["c"][:, :n_c]
    st = torch.stack
    rng = range(T)
    claims = [
        (31, "holds", r"db_y = \sum", "db_y", gb_y, sum(yh[t] - ys[t] for t in rng)),
        (
            33,
            "wrong",
            r"dc^{<t>} = W_y^\top",
            "dc^<t>",
            st(d["c"][:T]),
            st(
                [
                    W_y.T @ (yh[t] - ys[t])
                    + d["c"][t + 1]
                    + W_uc.T @ d["u"][t + 1]
                    + W_rc.T @ d["r"][t + 1]
                    + gr_next[t] * (W_cc.T @ d["z"][t + 1])
                    for t in rng
                ]
            ),
        ),
        (35, "holds", r"dz_c^{<t>} =", "dz_c", st(d["z"][:T]), st([d["c"][t] * gu[t] * (1 - ct[t] ** 2) for t in rng])),
        (
            37,
            "holds",
            r"dz_u^{<t>} =",
            "dz_u",
            st(d["u"][:T]),
            st([d["c"][t] * (ct[t] - cs[t]) * gu[t] * (1 - gu[t]) for t in rng]),
        ),
        (
            39,
            "holds",
            r"dz_r^{<t>} =",
            "dz_r",
            st(d["r"][:T]),
            st([(W_cc.T @ d["z"][t]) * cs[t] * gr[t] * (1 - gr[t]) for t in rng]),
        ),
        (41, "holds", r"dW_u = \sum", "dW_u", gW_u, sum(d["u"][t] @ stacks[t].T for t in rng)),
        (43, "wrong", r"dW_c = \sum", "dW_c", gW_c, sum(d["z"][t] @ stacks[t].T for t in rng)),
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
