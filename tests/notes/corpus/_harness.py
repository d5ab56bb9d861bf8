"""The shared part of the corpus verify scripts: find the note's lines, compare tensors, report.

Each ``<slug>.verify.py`` builds its note's model in torch float64 and computes, for every claim in
``<slug>.expect.toml``, the left side by autograd and the right side from the note's own formula.
This module only compares and reports, so a script reads as its note's mathematics. It imports
torch and the standard library, never symrnn: the corpus must stay an independent truth.
"""

import pathlib
import tomllib

import torch

CORPUS = pathlib.Path(__file__).resolve().parent
NOTE_SUFFIXES = (".md", ".tex", ".ipynb")
HOLDS_TOL = 1e-9  # a claim that holds agrees to this relative max-norm difference (rounding)
WRONG_TOL = 1e-6  # a planted error differs by more than this; in between is "unclear"


def note_path(slug):
    """The note ``<slug>.md|tex|ipynb`` in the corpus (exactly one)."""
    (note,) = [CORPUS / (slug + suffix) for suffix in NOTE_SUFFIXES if (CORPUS / (slug + suffix)).exists()]
    return note


def note_lines(slug):
    """The note's lines, with a notebook's JSON escapes of backslashes and quotes undone."""
    note = note_path(slug)
    text = note.read_text(encoding="utf-8")
    if note.suffix == ".ipynb":
        text = text.replace("\\\\", "\\").replace('\\"', '"')
    return text.splitlines()


def locate(slug, anchor):
    """The 1-based line of the note that holds ``anchor``; it must occur on exactly one line."""
    hits = [number for number, line in enumerate(note_lines(slug), 1) if anchor in line]
    if len(hits) != 1:
        raise AssertionError(f"{slug}: anchor {anchor!r} found on lines {hits}, need exactly one")
    return hits[0]


def probe(*shape):
    """A zero added to a quantity so that autograd reports the total gradient with respect to it."""
    if len(shape) == 1:
        shape = (shape[0], 1)
    return torch.zeros(*shape, dtype=torch.float64, requires_grad=True)


def compare(lhs, rhs):
    """("holds" | "wrong" | "unclear", relative max-norm difference) of two tensors."""
    lhs, rhs = torch.as_tensor(lhs), torch.as_tensor(rhs)
    if tuple(lhs.shape) != tuple(rhs.shape):
        return "wrong", float("inf")
    scale = max(1.0, float(lhs.abs().max()), float(rhs.abs().max())) if lhs.numel() else 1.0
    diff = float((lhs - rhs).abs().max()) / scale if lhs.numel() else 0.0
    if diff <= HOLDS_TOL:
        return "holds", diff
    return ("wrong" if diff > WRONG_TOL else "unclear"), diff


def equal(pairs):
    """(verdict, detail) for claims with several parts: "holds" only if every (lhs, rhs) pair holds."""
    worst_verdict, worst = "holds", 0.0
    rank = {"holds": 0, "unclear": 1, "wrong": 2}
    for lhs, rhs in pairs:
        verdict, diff = compare(lhs, rhs)
        worst = max(worst, diff)
        worst_verdict = max(worst_verdict, verdict, key=rank.__getitem__)
    return worst_verdict, f"max rel diff {worst:.1e}"


def always(samples):
    """(verdict, detail) for an inequality: "holds" if it held on every sampled instance."""
    samples = list(samples)
    failed = sum(1 for ok in samples if not ok)
    if failed == 0:
        return "holds", f"held on {len(samples)} random instances"
    return "wrong", f"failed on {failed} of {len(samples)} random instances"


def manifest_claims(slug):
    """The manifest's claims as sorted (line, verdict) pairs."""
    manifest = tomllib.loads((CORPUS / (slug + ".expect.toml")).read_text(encoding="utf-8"))
    return sorted((claim["line"], claim["verdict"]) for claim in manifest["claim"])


def report_anchored(slug, computed):
    """Print one line per claim of ``computed`` ({anchor: (verdict, detail)}); 0 iff all agree with the manifest."""
    expected = dict(manifest_claims(slug))
    found = {locate(slug, anchor): result for anchor, result in computed.items()}
    bad = 0
    for line in sorted(set(expected) | set(found)):
        want = expected.get(line, "(not in manifest)")
        got, detail = found.get(line, ("(not computed)", ""))
        ok = want == got
        bad += not ok
        print(f"{slug}:{line}: {got:8} expected {want:8} {'ok' if ok else 'MISMATCH'}  {detail}")
    return 1 if bad else 0


def report(slug, claims):
    """Print one line per claim (line, verdict, marker, what, lhs, rhs); 0 iff all agree with the manifest."""
    listed = manifest_claims(slug)
    checked = sorted((claim[0], claim[1]) for claim in claims)
    status = 0
    if listed != checked:
        print(f"{slug}: MISMATCH manifest lists {listed}, script checks {checked}")
        status = 1
    lines = note_lines(slug)
    for line, verdict, marker, what, lhs, rhs in claims:
        found, diff = compare(lhs, rhs)
        placed = 1 <= line <= len(lines) and marker in lines[line - 1]
        good = found == verdict and placed
        status |= 0 if good else 1
        where = "" if placed else f" [line {line} lacks {marker!r}]"
        print(
            f"{slug}:{line}: {what}: {found} (manifest {verdict}, diff {diff:.1e}){where} {'ok' if good else 'MISMATCH'}"
        )
    return status
