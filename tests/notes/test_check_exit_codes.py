"""symrnn check's contract (issue 14): exit codes 0–4, the summary first, --only, --json, stdin, check_text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import symrnn
from symrnn.cli import main

NOTES = Path(__file__).resolve().parents[1] / "fixtures" / "notes"
RNN = NOTES / "06-rnn-bptt-derivation.md"
GRU = NOTES / "07-gru-bptt-derivation.md"
UNREADABLE_LINE = "\n$$\\frac{\\partial J}{\\partial W_{hh}} = \\iint W_{hh} \\, dW$$\n"


def run(*args, stdin=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=stdin)


def _with_unreadable_line(tmp_path) -> Path:
    path = tmp_path / "note.md"
    path.write_text(RNN.read_text() + UNREADABLE_LINE)
    return path


def test_exit_0_only_when_every_claim_was_checked_and_holds():
    result = run("check", RNN)
    assert result.exit_code == 0, result.output
    assert "unchecked" not in result.output.splitlines()[0]


def test_exit_1_when_a_claim_is_wrong():
    result = run("check", GRU)
    assert result.exit_code == 1
    assert "2 WRONG (lines 39, 43)" in result.output.splitlines()[0]


def test_exit_2_when_the_input_cannot_be_read(tmp_path):
    assert run("check", tmp_path / "missing.md").exit_code == 2
    binary = tmp_path / "b.md"
    binary.write_bytes(b"\xff\xfe not utf-8")
    result = run("check", binary)
    assert result.exit_code == 2 and "not UTF-8" in result.output


def test_exit_3_when_nothing_is_wrong_but_a_line_is_unchecked_and_the_summary_says_why(tmp_path):
    path = _with_unreadable_line(tmp_path)
    result = run("check", path)
    assert result.exit_code == 3, result.output
    first = result.output.splitlines()[0]
    assert first.startswith(f"{path}: ") and "1 unchecked (1 cannot be read" in first
    assert "\\iint" in first  # the construct is named
    line = len(RNN.read_text().splitlines()) + 2
    assert f"{path}:{line}:" in result.output


def test_a_wrong_claim_outranks_unchecked_lines(tmp_path):
    path = tmp_path / "gru.md"
    path.write_text(GRU.read_text() + UNREADABLE_LINE)
    assert run("check", path).exit_code == 1


def test_exit_4_on_an_internal_error_of_one_equation_without_a_traceback(monkeypatch):
    from symrnn.notes import checker

    real = checker._verdict

    def broken(item, *args):
        if item.line == 25:
            raise RuntimeError("boom")
        return real(item, *args)

    monkeypatch.setattr(checker, "_verdict", broken)
    result = run("check", RNN)
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    assert "1 internal error (lines 25; a bug of the checker)" in result.output.splitlines()[0]
    assert "RuntimeError: boom" in result.output and "bug" in result.output
    debug = CliRunner().invoke(main, ["check", "--debug", str(RNN)])
    assert debug.exit_code == 4 and "Traceback" in debug.output


def test_exit_4_when_the_checker_crashes_on_a_whole_file(monkeypatch):
    from symrnn.notes import checker

    def crash(path):
        raise KeyError("inside")

    monkeypatch.setattr(checker, "check", crash)
    result = run("check", RNN)
    assert result.exit_code == 4 and "internal error" in result.output and "Traceback" not in result.output
    assert "--debug" in result.output
    debug = CliRunner().invoke(main, ["check", "--debug", str(RNN)])
    assert isinstance(debug.exception, KeyError)  # --debug lets the traceback through


def test_summary_comes_first_then_only_the_verdicts_asked_for(tmp_path):
    path = _with_unreadable_line(tmp_path)
    full = run("check", path).output
    only = run("check", "--only", "wrong,unchecked", path).output
    assert only.splitlines()[0] == full.splitlines()[0]  # the summary counts everything either way
    blocks = [line for line in only.splitlines() if line.startswith(f"{path}:") and ": " in line[len(str(path)) :]]
    tags = {line.split(": ")[1] for line in blocks[1:]}
    assert tags == {"unchecked"}, blocks
    assert ": holds:" in full and ": holds:" not in only
    bad = run("check", "--only", "wrongish", path)
    assert bad.exit_code == 2 and "valid:" in bad.output


def test_json_keeps_the_fields_and_adds_the_reason_and_construct(tmp_path):
    path = _with_unreadable_line(tmp_path)
    rows = json.loads(run("check", "--json", path).output)
    for r in rows:
        assert {"file", "line", "column", "latex", "verdict", "message", "kind"} <= set(r)
    unchecked = [r for r in rows if r["verdict"] == "unchecked"]
    assert len(unchecked) == 1 and unchecked[0]["reason"].startswith("cannot be read")
    assert unchecked[0]["construct"] and unchecked[0]["kind"] == "unreadable"
    only = json.loads(run("check", "--json", "--only", "unchecked", path).output)
    assert only == unchecked


def test_standard_input_is_read_with_dash():
    result = run("check", "-", stdin=RNN.read_text())
    assert result.exit_code == 0, result.output
    assert result.output.startswith("<stdin>: 8 claims: 8 hold")
    assert run("check", "-", "-", stdin="x").exit_code == 2


def test_check_text_from_python_gives_the_verdicts_of_the_file():
    from_text = symrnn.check_text(RNN.read_text(), name="rnn.md")
    from_file = symrnn.check(RNN)
    assert [(v.line, v.column, v.verdict) for v in from_text] == [(v.line, v.column, v.verdict) for v in from_file]
    assert {v.file for v in from_text} == {"rnn.md"}
    latex = symrnn.check_text("\\[ h_t = \\tanh(W h_{t-1}) \\]\n\\[ a = \\iint b \\]\n", name="n.tex")
    assert [v.verdict for v in latex] == ["definition", "unchecked"]


@pytest.mark.parametrize("command", [["derive", "no-such-cell"], ["check", "--only", ",", str(RNN)]])
def test_user_errors_are_exit_2_not_4(command):
    assert run(*command).exit_code == 2
