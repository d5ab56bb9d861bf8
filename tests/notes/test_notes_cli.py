"""symrnn check / derive NOTES.md / gradcheck NOTES.md from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from symrnn.cli import main

NOTES = Path(__file__).resolve().parents[1] / "fixtures" / "notes"
GRU = str(NOTES / "07-gru-bptt-derivation.md")
RNN = str(NOTES / "06-rnn-bptt-derivation.md")


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_check_exit_codes_0_and_1():
    assert run("check", RNN).exit_code == 0
    result = run("check", GRU)
    assert result.exit_code == 1
    assert "07-gru-bptt-derivation.md:39:3: WRONG" in result.output
    assert "expected: " in result.output and "counterexample" in result.output


def test_check_json_has_the_fields_a_tool_needs():
    result = run("check", "--json", GRU, RNN)
    rows = json.loads(result.output)
    assert {r["file"] for r in rows} == {GRU, RNN}
    wrong = [r for r in rows if r["verdict"] == "wrong"]
    assert [r["line"] for r in wrong] == [39, 43]
    for r in rows:
        assert {"file", "line", "verdict", "message", "latex"} <= set(r)
    assert all(r["expected_latex"] for r in wrong)


def test_unreadable_file_is_reported_after_every_other_file_with_exit_2(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text("$$h_t = \\tanh(W h_{t-1} +$$\n")
    result = run("check", str(bad), RNN, str(tmp_path / "missing.md"))
    assert result.exit_code == 2
    assert "06-rnn-bptt-derivation.md: 8 claims: 8 hold; 9 definitions" in result.output
    assert f"{bad}:1:" in result.output and "missing.md: cannot read" in result.output
    assert "Traceback" not in result.output


def test_derive_a_note_keeps_its_names_in_every_format():
    text = run("derive", GRU)
    assert text.exit_code == 0
    assert "δz_u[t]" in text.output and "Γ_u[t]" in text.output and "softmax_ce" in text.output
    latex = run("derive", GRU, "--format", "latex")
    assert r"\Gamma_{u" in latex.output
    source = run("derive", GRU, "--format", "numpy").output
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)  # our generated code, not the note's text
    assert "loss_and_grads" in namespace
    assert "W_uc" in source


def test_gradcheck_a_note_and_pick_one_of_several_cells():
    assert run("gradcheck", GRU).exit_code == 0
    several = run("gradcheck", str(NOTES / "05-rnn-bptt-korean.md"))
    assert several.exit_code == 2 and "pick one with --cell N" in several.output
    second = run("gradcheck", str(NOTES / "05-rnn-bptt-korean.md"), "--cell", "2")
    assert second.exit_code == 0 and "0 failed" in second.output


def test_a_note_whose_readout_cannot_be_derived_says_why():
    result = run("derive", str(NOTES / "03-rnn-gru-lstm-ng.md"), "--cell", "2")
    assert result.exit_code == 2 and "unnamed function g" in result.output
    assert run("derive", str(NOTES / "03-rnn-gru-lstm-ng.md"), "--cell", "2", "--loss", "bce").exit_code == 0
