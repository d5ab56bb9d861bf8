"""cs231n-rnn-backward: every claim of the note recomputed with torch autograd in float64."""

import pathlib
import sys
import tomllib

import torch

SLUG = "cs231n-rnn-backward"


def main() -> int:
    gen = torch.Generator().manual_seed(231)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.6

    N, D, H, V, T = 3, 4, 3, 5, 4
    W_x, W_h, b, W_out, b_out = rand(D, H), rand(H, H), rand(H), rand(H, V), rand(V)
    params = [W_x, W_h, b, W_out]
    for p in params:
        p.requires_grad_(True)
    xs = [rand(N, D).requires_grad_(True) for _ in range(T)]
    Ys = [torch.nn.functional.one_hot(torch.randint(0, V, (N,), generator=gen), V).to(torch.float64) for _ in range(T)]
    h0 = rand(N, H).requires_grad_(True)
    h, hs, ss, pa, ph, ps = h0, [h0.detach()], [], [], [], []
    L = 0.0
    for t in range(T):
        qa, qh, qs = probe(N, H), probe(N, H), probe(N, V)
        a = xs[t] @ W_x + h @ W_h + b + qa
        h = torch.tanh(a) + qh
        s = h @ W_out + b_out + qs
        L = L - (Ys[t] * torch.log_softmax(s, dim=1)).sum() / N
        hs.append(h.detach())
        ss.append(s.detach())
        pa.append(qa)
        ph.append(qh)
        ps.append(qs)
    grads = torch.autograd.grad(L, params + [h0] + xs + pa + ph + ps)
    gW_x, gW_h, gb, gW_out, dh0 = grads[:5]
    dx = grads[5 : 5 + T]
    da = list(grads[5 + T : 5 + 2 * T]) + [torch.zeros(N, H, dtype=torch.float64)]
    dh, ds = grads[5 + 2 * T : 5 + 3 * T], grads[5 + 3 * T :]
    Whd, Wxd, Wod = W_h.detach(), W_x.detach(), W_out.detach()
    ones = torch.ones(1, N, dtype=torch.float64)
    st = torch.stack
    rng = range(T)
    claims = [
        (
            25,
            "holds",
            r"ds_t = \frac{1}{N}",
            "ds_t with the batch mean",
            st(list(ds)),
            st([(torch.softmax(ss[t], dim=1) - Ys[t]) / N for t in rng]),
        ),
        (27, "holds", r"dW_{out} = \sum", "dW_out", gW_out, sum(hs[t + 1].T @ ds[t] for t in rng)),
        (
            31,
            "holds",
            r"da_t = dh_t \odot",
            "da_t through the tanh",
            st(da[:T]),
            st([dh[t] * (1 - hs[t + 1] * hs[t + 1]) for t in rng]),
        ),
        (
            33,
            "wrong",
            r"dh_t = ds_t W_{out}^\top",
            "dh_t",
            st(list(dh)),
            st([ds[t] @ Wod.T + da[t + 1] @ Whd for t in rng]),
        ),
        (
            35,
            "holds",
            r"dx_t = da_t W_x^\top",
            "dx_t, the input gradient",
            st(list(dx)),
            st([da[t] @ Wxd.T for t in rng]),
        ),
        (37, "holds", r"dh_0 = da_1 W_h^\top", "dh_0", dh0, da[0] @ Whd.T),
        (39, "holds", r"dW_x = \sum", "dW_x", gW_x, sum(xs[t].detach().T @ da[t] for t in rng)),
        (41, "wrong", r"dW_h = \sum", "dW_h", gW_h, sum(da[t].T @ hs[t] for t in rng)),
        (43, "holds", r"db = \sum", "db as column sums", gb, sum(ones @ da[t] for t in rng).reshape(H)),
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
