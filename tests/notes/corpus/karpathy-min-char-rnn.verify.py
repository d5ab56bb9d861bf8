"""karpathy-min-char-rnn: every claim of the note recomputed with torch autograd in float64."""

import pathlib
import sys
import tomllib

import torch

SLUG = "karpathy-min-char-rnn"


def main() -> int:
    gen = torch.Generator().manual_seed(7)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.5

    V, H, T = 5, 4, 4  # vocabulary, hidden size, steps
    W_xh, W_hh, W_hy, b_h, b_y = rand(H, V), rand(H, H), rand(V, H), rand(H, 1), rand(V, 1)
    params = [W_xh, W_hh, W_hy, b_h, b_y]
    for p in params:
        p.requires_grad_(True)
    chars = torch.randint(0, V, (T + 1,), generator=gen)
    eye = torch.eye(V, dtype=torch.float64)
    xs = [eye[:, chars[t] : chars[t] + 1] for t in range(T)]
    ks = [int(chars[t + 1]) for t in range(T)]
    h0 = rand(H, 1).requires_grad_(True)
    h, hs, ys, ph_list, py_list = h0, [h0], [], [], []
    L = 0.0
    for t in range(T):
        ph, py = probe(H), probe(V)
        h = torch.tanh(W_xh @ xs[t] + W_hh @ h + b_h) + ph
        y = W_hy @ h + b_y + py
        L = L - torch.log_softmax(y, dim=0)[ks[t], 0]
        hs.append(h)
        ys.append(y)
        ph_list.append(ph)
        py_list.append(py)
    grads = torch.autograd.grad(L, params + [h0] + ph_list + py_list)
    dW_xh, dW_hh, dW_hy, db_h, db_y, dh0 = grads[:6]
    dh, dy = grads[6 : 6 + T], grads[6 + T :]
    hd = [v.detach() for v in hs]  # hd[t] = h_t, hd[0] = h_0
    ps = [torch.softmax(v.detach(), dim=0) for v in ys]
    Whh, Why = W_hh.detach(), W_hy.detach()
    # the note's two definitions, built from the true dh_t
    dh_raw = [None] + [(1 - hd[t] * hd[t]) * dh[t - 1] for t in range(1, T + 1)]
    dh_next = [None] + [
        Whh.T @ dh_raw[t + 1] if t < T else torch.zeros(H, 1, dtype=torch.float64) for t in range(1, T + 1)
    ]
    rng = range(1, T + 1)
    st = torch.stack
    claims = [
        (
            22,
            "holds",
            r"dy_t = p_t - \mathbf{1}[k_t]",
            "dy_t",
            st(dy),
            st([ps[t] - eye[:, ks[t] : ks[t] + 1] for t in range(T)]),
        ),
        (24, "holds", r"dW_{hy} =", "dW_hy", dW_hy, sum(dy[t - 1] @ hd[t].T for t in rng)),
        (26, "wrong", r"db_y =", "db_y", db_y, sum(eye[:, ks[t] : ks[t] + 1] - ps[t] for t in range(T))),
        (37, "holds", r"dh_t = W_{hy}^\top", "dh_t", st(dh), st([Why.T @ dy[t - 1] + dh_next[t] for t in rng])),
        (39, "holds", r"dW_{xh} =", "dW_xh", dW_xh, sum(dh_raw[t] @ xs[t - 1].T for t in rng)),
        (41, "wrong", r"dW_{hh} =", "dW_hh", dW_hh, sum(dh_raw[t] @ hd[t].T for t in rng)),
        (43, "holds", r"db_h =", "db_h", db_h, sum(dh_raw[t] for t in rng)),
        (45, "holds", r"dh_0 =", "dh_0", dh0, Whh.T @ dh_raw[1]),
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
