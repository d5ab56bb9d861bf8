"""hochreiter1997-cec: every claim of the note recomputed with torch autograd in float64.

The note's unit-wise claims are compared for every unit at once: entry j of a vector is unit j.
"""

import pathlib
import sys
import tomllib

import torch

SLUG = "hochreiter1997-cec"


def main() -> int:
    gen = torch.Generator().manual_seed(1997)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * 0.8

    D, J, K, T = 2, 3, 2, 5
    Wx = {k: rand(J, D) for k in ("in", "out", "c")}  # w_{in_j u}, w_{out_j u}, w_{c_j u}
    Wc = {k: rand(J, J) for k in ("in", "out", "c")}  # w_{in_j c_l}, ...
    W_k = rand(K, J)  # w_{k c_j}
    for p in (W_k, Wc["c"]):
        p.requires_grad_(True)
    xs = [rand(D, 1) for _ in range(T)]
    targets = [torch.rand(K, 1, generator=gen, dtype=torch.float64) for _ in range(T)]
    sig = torch.sigmoid

    def g(a):
        return 4 * sig(a) - 2

    def h(a):
        return 2 * sig(a) - 1

    s = torch.zeros(J, 1, dtype=torch.float64)
    yc = torch.zeros(J, 1, dtype=torch.float64)
    rec = {k: [] for k in ("net_in", "net_out", "net_c", "s", "yc", "y_out", "net_k", "y_k")}
    probes = {k: [] for k in ("net_in", "net_out", "net_c", "s", "yc", "net_k")}
    E = 0.0
    yc_list = [yc]
    for t in range(T):
        pr = {k: probe(K if k == "net_k" else J) for k in probes}
        for k in pr:
            probes[k].append(pr[k])
        n_in = Wx["in"] @ xs[t] + Wc["in"] @ yc + pr["net_in"]
        n_out = Wx["out"] @ xs[t] + Wc["out"] @ yc + pr["net_out"]
        n_c = Wx["c"] @ xs[t] + Wc["c"] @ yc + pr["net_c"]
        y_in, y_out = sig(n_in), sig(n_out)
        s = s + y_in * g(n_c) + pr["s"]
        yc = y_out * h(s) + pr["yc"]
        n_k = W_k @ yc + pr["net_k"]
        y_k = sig(n_k)
        E = E + 0.5 * ((targets[t] - y_k) ** 2).sum()
        for k, val in (
            ("net_in", n_in),
            ("net_out", n_out),
            ("net_c", n_c),
            ("s", s),
            ("yc", yc),
            ("y_out", y_out),
            ("net_k", n_k),
            ("y_k", y_k),
        ):
            rec[k].append(val.detach())
        yc_list.append(yc.detach())
    names = list(probes)
    grads = torch.autograd.grad(E, [W_k, Wc["c"]] + [q for k in names for q in probes[k]])
    gW_k, gW_cc = grads[:2]
    rest = grads[2:]
    d = {k: list(rest[j * T : (j + 1) * T]) for j, k in enumerate(names)}
    zJ = torch.zeros(J, 1, dtype=torch.float64)
    for k in names:
        d[k].append(zJ)

    def dsig(a):
        return sig(a) * (1 - sig(a))

    e = [dsig(rec["net_k"][t]) * (targets[t] - rec["y_k"][t]) for t in range(T)]
    Wk = W_k.detach()
    st = torch.stack
    rng = range(T)
    claims = [
        (43, "holds", r"net_k(t)} = -e_k(t)", "dE/dnet_k = -e_k", st(d["net_k"][:T]), st([-e[t] for t in rng])),
        (45, "holds", r"w_{k c_j}} = -\sum", "dE/dw_{k c_j}", gW_k, sum(-e[t] @ rec["yc"][t].T for t in rng)),
        (
            47,
            "holds",
            r"y^{c_j}(t)} = -\sum_{k}",
            "dE/dy^{c_j}(t)",
            st(d["yc"][:T]),
            st(
                [
                    -Wk.T @ e[t]
                    + Wc["in"].T @ d["net_in"][t + 1]
                    + Wc["out"].T @ d["net_out"][t + 1]
                    + Wc["c"].detach().T @ d["net_c"][t + 1]
                    for t in rng
                ]
            ),
        ),
        (
            51,
            "holds",
            r"s_{c_j}(t)} = \frac{\partial E}{\partial s_{c_j}(t+1)}",
            "dE/ds_{c_j}(t), the CEC",
            st(d["s"][:T]),
            st([d["s"][t + 1] + d["yc"][t] * rec["y_out"][t] * 2 * dsig(rec["s"][t]) for t in rng]),
        ),
        (
            53,
            "wrong",
            r"net_{c_j}(t)} =",
            "dE/dnet_{c_j}(t)",
            st(d["net_c"][:T]),
            st([d["s"][t] * 4 * dsig(rec["net_c"][t]) for t in rng]),
        ),
        (
            55,
            "holds",
            r"net_{in_j}(t)} =",
            "dE/dnet_{in_j}(t)",
            st(d["net_in"][:T]),
            st([d["s"][t] * g(rec["net_c"][t]) * dsig(rec["net_in"][t]) for t in rng]),
        ),
        (
            57,
            "wrong",
            r"net_{out_j}(t)} =",
            "dE/dnet_{out_j}(t)",
            st(d["net_out"][:T]),
            st([d["yc"][t] * h(rec["s"][t]) * sig(rec["net_out"][t]) for t in rng]),
        ),
        (
            59,
            "wrong",
            r"w_{c_j c_l}} = \sum",
            "dE/dw_{c_j c_l}",
            gW_cc,
            sum(d["net_c"][t] @ yc_list[t + 1].T for t in rng),
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
