"""pytorch-nn-gru: every claim of the note recomputed with torch autograd in float64.

A batch of B sequences is held as columns, so a per-sequence claim is checked for every sequence
at once, and a sum over b is a product over the batch columns. The forward pass is checked
against torch.nn.GRU first.
"""

import pathlib
import sys
import tomllib

import torch

SLUG = "pytorch-nn-gru"


def main() -> int:
    gen = torch.Generator().manual_seed(3)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.7

    D, H, K, T, B = 2, 3, 4, 4, 3
    Wi = {k: rand(H, D) for k in "rzn"}
    Wh = {k: rand(H, H) for k in "rzn"}
    bi = {k: rand(H, 1) for k in "rzn"}
    bh = {k: rand(H, 1) for k in "rzn"}
    W_y, b_y = rand(K, H), rand(K, 1)
    for p in (W_y, bh["n"], bi["n"]):
        p.requires_grad_(True)
    xs = [rand(D, B) for _ in range(T)]
    labels = torch.randint(0, K, (B,), generator=gen)
    sig = torch.sigmoid
    h0 = rand(H, B).requires_grad_(True)
    h = h0
    hs, rs, zs, ns, qs = [h0.detach()], [], [], [], []
    probes = {k: [] for k in ("h", "r", "z", "n")}
    for t in range(T):
        pr = {k: probe(H, B) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        rbar = Wi["r"] @ xs[t] + bi["r"] + Wh["r"] @ h + bh["r"] + pr["r"]
        zbar = Wi["z"] @ xs[t] + bi["z"] + Wh["z"] @ h + bh["z"] + pr["z"]
        r, z = sig(rbar), sig(zbar)
        q = Wh["n"] @ h + bh["n"]
        n = torch.tanh(Wi["n"] @ xs[t] + bi["n"] + r * q + pr["n"])
        h = (1 - z) * n + z * h + pr["h"]
        hs.append(h.detach())
        rs.append(r.detach())
        zs.append(z.detach())
        ns.append(n.detach())
        qs.append(q.detach())
    gru = torch.nn.GRU(D, H).double()
    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.cat([Wi[k] for k in "rzn"]))
        gru.weight_hh_l0.copy_(torch.cat([Wh[k] for k in "rzn"]))
        gru.bias_ih_l0.copy_(torch.cat([bi[k] for k in "rzn"])[:, 0])
        gru.bias_hh_l0.copy_(torch.cat([bh[k] for k in "rzn"])[:, 0])
        out, _ = gru(torch.stack([x.T for x in xs]), h0.detach().T.unsqueeze(0))
    if not torch.allclose(out[-1].T, hs[-1], atol=1e-12, rtol=0):
        print(f"{SLUG}: MISMATCH the note's forward equations differ from torch.nn.GRU")
        return 1
    ps = probe(K, B)
    s = W_y @ h + b_y + ps
    L = torch.nn.functional.cross_entropy(s.T, labels)
    names = list(probes)
    grads = torch.autograd.grad(L, [W_y, bh["n"], bi["n"], h0, ps] + [v for k in names for v in probes[k]])
    gW_y, gb_hn, gb_in, dh0, ds = grads[:5]
    rest = grads[5:]
    d = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate(names)}
    dh_all = [dh0] + d["h"]  # dh_all[t] = delta h_t, t = 0..T
    onehot = torch.nn.functional.one_hot(labels, K).T.to(torch.float64)
    sd = s.detach()
    st = torch.stack
    rng = range(T)
    claims = [
        (
            33,
            "holds",
            r"\delta s &= \frac{1}{B}",
            "delta s with the batch mean",
            ds,
            (torch.softmax(sd, dim=0) - onehot) / B,
        ),
        (34, "holds", r"\delta W_y &= \sum_{b=1}^{B}", "delta W_y summed over the batch", gW_y, ds @ hs[T].T),
        (35, "holds", r"\delta h_T &=", "delta h_T (last step only)", dh_all[T], W_y.detach().T @ ds),
        (
            36,
            "holds",
            r"\delta \bar n_t &=",
            "delta n-bar_t",
            st(d["n"]),
            st([dh_all[t + 1] * (1 - zs[t]) * (1 - ns[t] * ns[t]) for t in rng]),
        ),
        (
            37,
            "holds",
            r"\delta \bar r_t &=",
            "delta r-bar_t",
            st(d["r"]),
            st([d["n"][t] * qs[t] * rs[t] * (1 - rs[t]) for t in rng]),
        ),
        (
            38,
            "wrong",
            r"\delta \bar z_t &=",
            "delta z-bar_t",
            st(d["z"]),
            st([dh_all[t + 1] * (ns[t] - hs[t]) * zs[t] * (1 - zs[t]) for t in rng]),
        ),
        (
            39,
            "holds",
            r"\delta h_{t-1} &=",
            "delta h_{t-1}",
            st(dh_all[:T]),
            st(
                [
                    dh_all[t + 1] * zs[t]
                    + Wh["r"].T @ d["r"][t]
                    + Wh["z"].T @ d["z"][t]
                    + Wh["n"].T @ (rs[t] * d["n"][t])
                    for t in rng
                ]
            ),
        ),
        (
            40,
            "holds",
            r"\delta b_{hn} &=",
            "delta b_hn with r inside",
            gb_hn,
            sum((rs[t] * d["n"][t]).sum(1, keepdim=True) for t in rng),
        ),
        (
            41,
            "wrong",
            r"\delta b_{in} &=",
            "delta b_in",
            gb_in,
            sum((rs[t] * d["n"][t]).sum(1, keepdim=True) for t in rng),
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
