"""The corpus of user notes (tests/notes/corpus): manifests well formed, every verify script agrees with its manifest.

Each note ``<slug>.<md|tex|ipynb>`` has ``<slug>.expect.toml`` (source, convention, notation, one
``[[claim]]`` per checkable equation row) and ``<slug>.verify.py`` (torch autograd in float64,
independent of symrnn, exposing ``main() -> int``). These tests keep the corpus itself honest; the
scoreboard that runs ``symrnn check`` on it lives with the notes checker.
"""

import io
import json
import pathlib
import re
import runpy
import tomllib
from contextlib import redirect_stdout

import pytest

CORPUS = pathlib.Path(__file__).parent / "corpus"
NOTE_SUFFIXES = (".md", ".tex", ".ipynb")
NOTES = sorted(p for p in CORPUS.iterdir() if p.suffix in NOTE_SUFFIXES) if CORPUS.is_dir() else []
VERIFIERS = sorted(CORPUS.glob("*.verify.py")) if CORPUS.is_dir() else []
RELATION = re.compile(r"=|<|>|\\le|\\ge|\\leq|\\geq|\\ne")


def slug(note):
    """The note's file name without its format suffix."""
    return note.name[: -len(note.suffix)]


def note_lines(note):
    """The note's lines as a reader sees them: a notebook's JSON lines decoded as strings."""
    lines = note.read_text(encoding="utf-8").splitlines()
    if note.suffix != ".ipynb":
        return lines
    decoded = []
    for line in lines:
        text = line.strip().rstrip(",")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        decoded.append(value if isinstance(value, str) else text)
    return decoded


def test_corpus_is_present():
    assert {p.suffix for p in NOTES} >= set(NOTE_SUFFIXES), "the corpus has .md, .tex and .ipynb notes"
    assert len(NOTES) >= 40, f"expected a corpus of at least 40 notes in {CORPUS}, found {len(NOTES)}"
    assert len(VERIFIERS) == len(NOTES), "every note has one verify script and no script is left over"


@pytest.mark.parametrize("note", NOTES, ids=slug)
def test_note_has_manifest_and_verifier(note):
    manifest_path = note.with_name(slug(note) + ".expect.toml")
    assert manifest_path.exists(), f"{note.name}: no manifest {manifest_path.name}"
    assert note.with_name(slug(note) + ".verify.py").exists(), f"{note.name}: no verify script"
    manifest = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    assert isinstance(manifest.get("source"), str) and len(manifest["source"]) > 10
    assert isinstance(manifest.get("convention"), str) and manifest["convention"].strip()
    assert isinstance(manifest.get("notation"), list) and manifest["notation"]
    claims = manifest.get("claim", [])
    assert all(c["verdict"] in ("holds", "wrong") for c in claims)
    wrong = [c for c in claims if c["verdict"] == "wrong"]
    assert len(wrong) >= 2, f"{note.name}: {len(wrong)} planted errors, need at least 2"
    assert len(claims) > len(wrong), f"{note.name}: no correct claim"
    assert all(c.get("planted", "").strip() for c in wrong), f"{note.name}: a wrong claim says nothing planted"
    assert all(c.get("what", "").strip() for c in claims)
    lines = [c["line"] for c in claims]
    assert len(lines) == len(set(lines)), f"{note.name}: two claims on one line"
    text = note_lines(note)
    for claim in claims:
        n = claim["line"]
        assert 1 <= n <= len(text), f"{note.name}:{n}: past the end of the note"
        row = text[n - 1]
        assert RELATION.search(row) and ("\\" in row or "$" in row), f"{note.name}:{n}: no math there: {row!r}"


@pytest.mark.parametrize("note", [n for n in NOTES if n.suffix == ".ipynb"], ids=slug)
def test_notebook_is_nbformat_4(note):
    nb = json.loads(note.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4 and isinstance(nb["nbformat_minor"], int)
    assert isinstance(nb["metadata"], dict) and nb["cells"]
    for cell in nb["cells"]:
        assert cell["cell_type"] in ("markdown", "code", "raw")
        assert isinstance(cell["source"], list | str) and isinstance(cell["metadata"], dict)
        if cell["cell_type"] == "code":
            assert "outputs" in cell and "execution_count" in cell


@pytest.mark.parametrize("note", [n for n in NOTES if n.suffix == ".tex"], ids=slug)
def test_tex_note_is_a_document(note):
    text = note.read_text(encoding="utf-8")
    assert "\\documentclass" in text and "\\begin{document}" in text and "\\end{document}" in text


@pytest.fixture(autouse=True)
def _torch_default_dtype_restored():
    """The scripts run in this process and some set torch's default dtype to float64: later tests
    (layers trained in float32) must not inherit it."""
    torch = pytest.importorskip("torch")
    default_dtype = torch.get_default_dtype()
    yield
    torch.set_default_dtype(default_dtype)


@pytest.mark.parametrize("script", VERIFIERS, ids=lambda p: p.name.removesuffix(".verify.py"))
def test_verify_script_agrees_with_manifest(script, monkeypatch):
    for source in (script, CORPUS / "_harness.py"):
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+symrnn", text, re.M), f"{source.name} must not use symrnn"
    monkeypatch.syspath_prepend(str(CORPUS))  # as `python <slug>.verify.py` would, for `from _harness import`
    namespace = runpy.run_path(str(script), run_name="corpus_verify")
    out = io.StringIO()
    with redirect_stdout(out):
        rc = namespace["main"]()
    assert rc == 0, f"{script.name} disagrees with its manifest:\n{out.getvalue()}"
    assert "MISMATCH" not in out.getvalue(), out.getvalue()
    manifest = tomllib.loads(script.with_name(script.name.removesuffix(".verify.py") + ".expect.toml").read_text())
    assert out.getvalue().count("\n") == len(manifest["claim"]), "one printed line per claim"
