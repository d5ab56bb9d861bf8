"""pytorch-nn-lstm: every claim of the note recomputed with torch autograd in float64.

The note's forward equations are first checked against torch.nn.LSTM itself (same weights, same
outputs), so the stacking order (i, f, g, o) is PyTorch's and not an assumption of this script.
"""

import pathlib
import sys
import tomllib

import torch

SLUG = "pytorch-nn-lstm"


def main() -> int:
    gen = torch.Generator().manual_seed(1)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.6

    D, H, T = 2, 3, 4
    W_ih, W_hh, b_ih, b_hh = rand(4 * H, D), rand(4 * H, H), rand(4 * H, 1), rand(4 * H, 1)
    params = [W_ih, W_hh, b_ih, b_hh]
    for p in params:
        p.requires_grad_(True)
    xs, ys = [rand(D, 1) for _ in range(T)], [rand(H, 1) for _ in range(T)]
    h0, c0 = rand(H, 1), rand(H, 1)
    sig = torch.sigmoid
    h, c = h0, c0
    hs, cs, gates, pa, ph, pc = [h0], [c0], [], [], [], []
    for t in range(T):
        qa, qh, qc = probe(4 * H), probe(H), probe(H)
        a = W_ih @ xs[t] + b_ih + W_hh @ h + b_hh + qa
        i, f, g, o = sig(a[:H]), sig(a[H : 2 * H]), torch.tanh(a[2 * H : 3 * H]), sig(a[3 * H :])
        c = f * c + i * g + qc
        h = o * torch.tanh(c) + qh
        hs.append(h)
        cs.append(c.detach())
        gates.append((i.detach(), f.detach(), g.detach(), o.detach()))
        pa.append(qa)
        ph.append(qh)
        pc.append(qc)
    # the note's model is nn.LSTM's
    lstm = torch.nn.LSTM(D, H).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(W_ih)
        lstm.weight_hh_l0.copy_(W_hh)
        lstm.bias_ih_l0.copy_(b_ih[:, 0])
        lstm.bias_hh_l0.copy_(b_hh[:, 0])
        out, _ = lstm(torch.cat([x.T for x in xs]).unsqueeze(1), (h0.T.unsqueeze(0), c0.T.unsqueeze(0)))
    mine = torch.cat([v.detach().T for v in hs[1:]])
    if not torch.allclose(out[:, 0, :], mine, atol=1e-12, rtol=0):
        print(f"{SLUG}: MISMATCH the note's forward equations differ from torch.nn.LSTM")
        return 1
    L = torch.nn.functional.mse_loss(torch.cat([v.T for v in hs[1:]]), torch.cat([y.T for y in ys]))
    grads = torch.autograd.grad(L, params + pa + ph + pc)
    gW_ih, gW_hh, gb_ih, gb_hh = grads[:4]
    da, dh, dc = list(grads[4 : 4 + T]), grads[4 + T : 4 + 2 * T], grads[4 + 2 * T :]
    da.append(torch.zeros(4 * H, 1, dtype=torch.float64))
    hd = [v.detach() for v in hs]
    Whh = W_hh.detach()

    def blocks(t):
        i, f, g, o = gates[t]
        return (
            dc[t] * g * i * (1 - i),
            dc[t] * cs[t] * f * (1 - f),
            dc[t] * i * (1 - g * g),
            dh[t] * torch.tanh(cs[t + 1]) * o * (1 - o),
        )

    def swapped(t):  # the note's last line: blocks of the true gradient in the order i, f, o, g
        q = da[t]
        return torch.cat([q[:H], q[H : 2 * H], q[3 * H :], q[2 * H : 3 * H]])

    st = torch.stack
    rng = range(T)
    claims = [
        (
            35,
            "holds",
            r"\nabla_{a_t} L = \begin{bmatrix}",
            "grad a_t as four blocks",
            st(da[:T]),
            st([torch.cat(blocks(t)) for t in rng]),
        ),
        (
            39,
            "holds",
            r"\nabla_{h_t} L = \frac{2}{TH}",
            "grad h_t",
            st(list(dh)),
            st([2 / (T * H) * (hd[t + 1] - ys[t]) + Whh.T @ da[t + 1] for t in rng]),
        ),
        (
            41,
            "wrong",
            r"\nabla_{c_t} L =",
            "grad c_t",
            st(list(dc)),
            st([dh[t] * gates[t][3] * (1 - torch.tanh(cs[t + 1]) ** 2) for t in rng]),
        ),
        (43, "holds", r"\nabla_{W_{ih}} L = \sum", "grad weight_ih (4H x D)", gW_ih, sum(da[t] @ xs[t].T for t in rng)),
        (45, "holds", r"\nabla_{b_{hh}} L = \nabla_{b_{ih}} L", "grad bias_hh = grad bias_ih", gb_hh, gb_ih),
        (
            47,
            "wrong",
            r"\nabla_{W_{hh}} L = \sum",
            "grad weight_hh with blocks i, f, o, g",
            gW_hh,
            sum(swapped(t) @ hd[t].T for t in rng),
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
