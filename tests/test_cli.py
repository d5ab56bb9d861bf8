"""The command line: formats, atomic writes, exit codes, start-up time."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from symrnn.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_list_names_every_cell_with_its_source():
    import symrnn

    out = run("list").output
    for name in symrnn.cells():
        assert any(line.startswith(name + " ") for line in out.splitlines()), name
    assert "Gers" in out and "Chung" in out


@pytest.mark.parametrize(
    "fmt,marker",
    [("text", "δh[t]"), ("latex", r"\begin{align}"), ("markdown", "```math"), ("numpy", "def loss_and_grads")],
)
def test_derive_formats(fmt, marker):
    result = run("derive", "lstm", "--format", fmt)
    assert result.exit_code == 0 and marker in result.output


def test_derive_json_is_structured():
    data = json.loads(run("derive", "gru", "--format", "json", "--loss", "bce").output)
    assert data["cell"] == "gru" and data["loss"] == "bce"
    assert {e["kind"] for e in data["backward"]} == {"backward"}


@pytest.mark.parametrize(
    "args,message",
    [
        (("derive", "lsmt"), "unknown cell 'lsmt'; valid names: rnn"),
        (("derive", "lstm", "--loss", "hinge"), "unknown loss 'hinge'; valid names: softmax_ce, bce, mse"),
        (("derive", "lstm", "--format", "xml"), "unknown format 'xml'; valid names: text"),
        (("gradcheck", "nope"), "unknown cell 'nope'"),
    ],
)
def test_bad_names_exit_2_with_the_valid_names(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_output_file_is_written_and_never_overwritten(tmp_path):
    path = tmp_path / "lstm.tex"
    assert run("derive", "lstm", "--format", "latex", "-o", str(path)).exit_code == 0
    first = path.read_text()
    assert first.startswith(r"\documentclass")
    path.write_text("my notes")
    result = run("derive", "lstm", "-o", str(path))
    assert result.exit_code == 2 and "exists" in result.output
    assert path.read_text() == "my notes"
    assert run("derive", "lstm", "--format", "latex", "-o", str(path), "--force").exit_code == 0
    assert path.read_text() == first  # same input, byte-identical output
    assert [p.name for p in tmp_path.iterdir()] == ["lstm.tex"]  # no temporary left behind


def test_gradcheck_command_passes_and_reports_a_table():
    result = run("gradcheck", "lstm", "--hidden", "3", "--steps", "3", "--dtype", "float32")
    assert result.exit_code == 0, result.output
    assert "W_hf" in result.output and "c_0" in result.output and "0 failed" in result.output


def test_help_does_not_import_the_heavy_libraries():
    # `symrnn --help` must answer at once: what keeps it fast is that it imports none of SymPy,
    # torch or matplotlib (an import check, not a timing, so it holds on a loaded machine).
    code = (
        "import sys\n"
        "from symrnn.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('sympy', 'torch', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]", out
    assert "Usage:" in out


def test_show_prints_the_forward_equations_with_source():
    out = run("show", "gru-pytorch").output
    assert "PyTorch" in out and "r[t] ⊙ (W_hn h[t-1] + b_hn)" in out
    assert "ŷ" not in out  # the cell only, not the readout
    latex = run("show", "lstm", "--format", "latex").output
    assert latex.startswith(r"\begin{align}") and r"\bar{f}_{t} &=" in latex


def test_compare_command_exit_codes():
    same = run("compare", "gru", "gru-cho")
    assert same.exit_code == 0 and "≡" in same.output and "z = 1 - z" in same.output
    different = run("compare", "gru", "gru-pytorch")
    assert different.exit_code == 1 and "witness" in different.output
    assert run("compare", "gru", "nope").exit_code == 2
