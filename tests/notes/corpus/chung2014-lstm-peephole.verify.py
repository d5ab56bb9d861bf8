"""chung2014-lstm-peephole: every claim of the note recomputed with torch autograd in float64."""

import pathlib
import sys
import tomllib

import torch

SLUG = "chung2014-lstm-peephole"


def main() -> int:
    gen = torch.Generator().manual_seed(355)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    D, H, K, T = 2, 3, 4, 4
    W = {k: rand(H, D) for k in "ifco"}
    U = {k: rand(H, H) for k in "ifco"}
    v = {k: rand(H, 1) for k in "ifo"}
    W_y, b_y = rand(K, H), rand(K, 1)
    for p in (W_y, v["o"]):
        p.requires_grad_(True)
    xs = [rand(D, 1) for _ in range(T)]
    ys = [torch.bernoulli(torch.full((K, 1), 0.5, dtype=torch.float64), generator=gen) for _ in range(T)]
    sig = torch.sigmoid
    h, c = rand(H, 1), rand(H, 1)
    cs, hs, gates, hats, ps = [c], [h], {k: [] for k in "ifco"}, {k: [] for k in "ifco"}, []
    probes = {k: [] for k in ["h", "c", "i", "f", "cc", "o"]}
    L = 0.0
    for t in range(T):
        pr = {k: probe(H) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        ih = W["i"] @ xs[t] + U["i"] @ h + v["i"] * c + pr["i"]
        fh = W["f"] @ xs[t] + U["f"] @ h + v["f"] * c + pr["f"]
        ch = W["c"] @ xs[t] + U["c"] @ h + pr["cc"]
        i, f, ct = sig(ih), sig(fh), torch.tanh(ch)
        c = f * c + i * ct + pr["c"]
        oh = W["o"] @ xs[t] + U["o"] @ h + v["o"] * c + pr["o"]
        o = sig(oh)
        h = o * torch.tanh(c) + pr["h"]
        p = sig(W_y @ h + b_y)
        L = L - (ys[t] * torch.log(p) + (1 - ys[t]) * torch.log(1 - p)).sum()
        for k, a, ah in (("i", i, ih), ("f", f, fh), ("c", ct, ch), ("o", o, oh)):
            gates[k].append(a.detach())
            hats[k].append(ah.detach())
        cs.append(c.detach())
        hs.append(h.detach())
        ps.append(p.detach())
    grads = torch.autograd.grad(L, [W_y, v["o"]] + [q for k in probes for q in probes[k]])
    gW_y, gv_o = grads[:2]
    rest = grads[2:]
    g = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate(probes)}
    zero = torch.zeros(H, 1, dtype=torch.float64)
    for k in g:
        g[k].append(zero)
    f_next = gates["f"][1:] + [zero]
    W_yd = W_y.detach()
    vd = {k: q.detach() for k, q in v.items()}

    def dsig(a):
        return sig(a) * (1 - sig(a))

    st = torch.stack
    rng = range(T)
    claims = [
        (34, "holds", r"\partial W_y} &= \sum", "dL/dW_y", gW_y, sum((ps[t] - ys[t]) @ hs[t + 1].T for t in rng)),
        (
            35,
            "holds",
            r"\epsilon^h_t &=",
            "epsilon^h_t",
            st(g["h"][:T]),
            st(
                [
                    W_yd.T @ (ps[t] - ys[t])
                    + U["o"].T @ g["o"][t + 1]
                    + U["f"].T @ g["f"][t + 1]
                    + U["i"].T @ g["i"][t + 1]
                    + U["c"].T @ g["cc"][t + 1]
                    for t in rng
                ]
            ),
        ),
        (
            36,
            "holds",
            r"\hat{o}_t} &=",
            "dL/do-hat_t",
            st(g["o"][:T]),
            st([g["h"][t] * torch.tanh(cs[t + 1]) * dsig(hats["o"][t]) for t in rng]),
        ),
        (
            37,
            "wrong",
            r"\epsilon^c_t &=",
            "epsilon^c_t over two rows",
            st(g["c"][:T]),
            st(
                [
                    g["h"][t] * gates["o"][t] * (1 - torch.tanh(cs[t + 1]) ** 2)
                    + f_next[t] * g["c"][t + 1]
                    + vd["f"] * g["f"][t + 1]
                    + vd["i"] * g["i"][t + 1]
                    for t in rng
                ]
            ),
        ),
        (
            39,
            "wrong",
            r"\hat{f}_t} &=",
            "dL/df-hat_t",
            st(g["f"][:T]),
            st([g["c"][t] * cs[t + 1] * dsig(hats["f"][t]) for t in rng]),
        ),
        (
            40,
            "wrong",
            r"\hat{c}_t} &=",
            "dL/dc-hat_t",
            st(g["cc"][:T]),
            st([g["c"][t] * gates["i"][t] * dsig(hats["c"][t]) for t in rng]),
        ),
        (41, "holds", r"\partial v_o} &= \sum", "dL/dv_o", gv_o, sum(cs[t + 1] * g["o"][t] for t in rng)),
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
