"""The CLI's output options: --color, --quiet, and derive's loss structures (--at, --reduction, --mask, --loss upstream)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from symrnn.cli import main

ANSI = "\x1b["
NOTE = """# An Elman RNN

$$a_t = W h_{t-1} + U x_t + b$$
$$h_t = \\tanh(a_t)$$
$$o_t = V h_t + c$$
$$\\hat y_t = \\operatorname{softmax}(o_t)$$
$$L = -\\sum_t y_t^\\top \\log \\hat y_t$$

$$\\frac{\\partial L}{\\partial o_t} = \\hat y_t - y_t$$
$$\\frac{\\partial L}{\\partial c} = \\sum_t (\\hat y_t + y_t)$$
"""


@pytest.fixture
def note(tmp_path):
    path = tmp_path / "rnn.md"
    path.write_text(NOTE, encoding="utf-8")
    return str(path)


def _run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env or {})


def test_quiet_prints_the_summary_only_and_keeps_the_exit_code(note):
    full, quiet = _run("check", note), _run("check", "--quiet", note)
    assert full.exit_code == quiet.exit_code == 1, full.output
    lines = quiet.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(note + ":") and "1 WRONG (lines 10)" in lines[0]
    assert lines[0] == full.output.splitlines()[0]  # the report opens with the same summary
    assert "WRONG:" in full.output and "WRONG:" not in quiet.output


@pytest.mark.parametrize(
    "option, env, coloured",
    [("always", {}, True), ("never", {}, False), ("auto", {}, False), ("always", {"NO_COLOR": "1"}, True)],
)
def test_color_always_never_and_auto_off_a_terminal(note, option, env, coloured):
    result = _run("check", "--color", option, note, env=env)
    assert result.exit_code == 1
    assert (ANSI in result.output) is coloured, result.output[:200]


def test_auto_colour_respects_no_color_on_a_terminal(monkeypatch):
    from symrnn import cli

    monkeypatch.setattr(cli.sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert cli._colour("auto") is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli._colour("auto") is False
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert cli._colour("auto") is False


def test_bad_color_and_quiet_with_json_are_user_errors(note):
    bad = _run("check", "--color", "rainbow", note)
    assert bad.exit_code == 2 and "--color" in bad.output and "always" in bad.output
    mixed = _run("check", "--quiet", "--json", note)
    assert mixed.exit_code == 2 and "--quiet" in mixed.output


def test_gradcheck_quiet_and_colour():
    quiet = _run("gradcheck", "rnn", "--quiet")
    assert quiet.exit_code == 0
    assert quiet.output.strip() == "rnn: 12 passed, 0 failed"
    coloured = _run("gradcheck", "rnn", "--color", "always")
    assert coloured.exit_code == 0 and ANSI in coloured.output
    assert ANSI not in _run("gradcheck", "rnn", "--color", "never").output


def test_derive_prints_a_loss_structure_and_the_input_gradients():
    result = _run("derive", "gru", "--at", "last", "--reduction", "mean", "--mask")
    assert result.exit_code == 0, result.output
    assert "w[t] = [t = T_b]/B" in result.output and "the mask's last 1" in result.output
    assert "δȳ[t] = w[t] ⊙ (ŷ[t] - y[t])" in result.output
    assert "Input gradients" in result.output and "δx[t] = " in result.output
    data = json.loads(_run("derive", "gru", "--at", "last", "--format", "json").output)
    assert data["loss_structure"]["at"] == "last" and data["input_grads"]


def test_derive_upstream_and_its_refusals():
    result = _run("derive", "lstm", "--loss", "upstream")
    assert result.exit_code == 0 and "δh[t] = Δ_h[t] + " in result.output
    for args, needle in [
        (("lstm", "--loss", "upstream", "--at", "last"), "upstream"),
        (("lstm", "--loss", "upstream", "--format", "numpy"), "standalone module"),
        (("rnn", "--at", "last", "--format", "numba"), "standalone module"),
        (("rnn", "--at", "first"), "--at"),
        (("rnn", "--reduction", "max"), "--reduction"),
    ]:
        refused = _run("derive", *args)
        assert refused.exit_code == 2, (args, refused.output)
        assert needle in refused.output and "Traceback" not in refused.output
