"""The notes checker's judge, claims, program and verdicts, each claim kind with a known answer.

Written for the mutation score of issue 19 (benchmarks/mutation.py, group ``notes-checker``): one
short Elman-RNN note whose correct claims must hold and whose planted mistakes (a wrong time index,
a factor 2, a factor 1 + 1e-5) must be WRONG at their lines, and the report
built from those verdicts (summary, exit code, JSON, counterexample text) checked field by field.
The note is checked once per module, so the file runs in a few seconds.
"""

from __future__ import annotations

import json

import pytest

import symrnn
from symrnn.notes import verdicts as V

NOTE = r"""# Elman RNN, the readout's gradients

$$h_t = \tanh(W h_{t-1} + U x_t + b)$$

$$y_t = V h_t + c$$

$$L = \frac{1}{2} \sum_{t=1}^{T} \left\| y_t - d_t \right\|^2$$

$$\frac{\partial L}{\partial y_t} = y_t - d_t$$

$$\frac{\partial L}{\partial V} = \sum_{t=1}^{T} (y_t - d_t) h_t^\top$$

$$\frac{\partial L}{\partial c} = \sum_{t=1}^{T} (y_t - d_t)$$

$$\frac{\partial L}{\partial c} = \sum_{t=1}^{T} \frac{\partial L}{\partial y_t}$$

$$\frac{\partial L}{\partial V} = \sum_{t=1}^{T} \frac{\partial L}{\partial y_t} h_t^\top$$

$$\frac{\partial L}{\partial V} = \sum_{t=1}^{T} (y_t - d_t) h_{t-1}^\top$$

$$\frac{\partial L}{\partial c} = \sum_{t=1}^{T} 2 (y_t - d_t)$$

$$\frac{\partial L}{\partial c} = \sum_{t=1}^{T} 1.00001 (y_t - d_t)$$
"""
HOLDING = (9, 11, 13, 15, 17)
PLANTED = (19, 21, 23)  # h_{t-1} for h_t, a factor 2, a factor 1 + 1e-5
UNCHECKED = V.Verdict("elman.md", 99, 1, "a = b", V.UNCHECKED, "the shapes do not fit: 1 × 3 and 2 × 1")


@pytest.fixture(scope="module")
def verdicts() -> list[V.Verdict]:
    return symrnn.check_text(NOTE, name="elman.md")


@pytest.fixture(scope="module")
def by_line(verdicts) -> dict[int, V.Verdict]:
    return {v.line: v for v in verdicts}


def test_the_correct_claims_hold_on_two_random_problems(by_line):
    for line in HOLDING:
        v = by_line[line]
        assert v.verdict == V.HOLDS, (line, v.message)
        assert "of 2 random problems" in v.message  # two seeds, not one
        assert v.counterexample is None
    assert "at 9 steps" in by_line[9].message  # ∂L/∂y_t at every step of every problem


def test_each_planted_mistake_is_wrong_at_its_line_with_a_counterexample(by_line):
    for line in PLANTED:
        v = by_line[line]
        assert v.verdict == V.WRONG, (line, v.message)
        example = v.counterexample
        assert example is not None and example["left"] != example["right"]
        assert example["seed"] in (1, 2) and example["steps"] >= 2 and example["sizes"]
        text = V.counterexample_text(example)
        assert text.startswith("counterexample (") and f"seed {example['seed']}" in text
        assert f"T = {example['steps']}" in text
        assert "left side:" in text and "right side:" in text


def test_a_relative_error_of_1e_minus_5_is_not_within_the_tolerance(by_line):
    assert by_line[23].verdict == V.WRONG  # the float64 tolerance is far below 1e-5


def test_definitions_are_definitions(by_line):
    assert [by_line[line].verdict for line in (3, 5, 7)] == [V.DEFINITION] * 3


def test_the_summary_counts_each_verdict(verdicts):
    (line,) = V.summary(verdicts)
    (with_unchecked,) = V.summary(list(verdicts) + [UNCHECKED])
    assert with_unchecked.replace(f"{len(HOLDING) + len(PLANTED) + 1} claims", "N claims").endswith(
        "WRONG (lines 19, 21, 23), 1 unchecked (1 the shapes do not fit); 3 definitions"
    )
    claims = len(HOLDING) + len(PLANTED)
    lines = ", ".join(str(n) for n in PLANTED)
    assert line == (
        f"elman.md: {claims} claims: {len(HOLDING)} hold, {len(PLANTED)} WRONG (lines {lines}); 3 definitions"
    )


def test_the_exit_code_ranks_wrong_over_internal_errors_over_unchecked(verdicts, by_line):
    assert V.exit_code(verdicts) == V.EXIT_WRONG == 1
    holding = [by_line[n] for n in HOLDING]
    assert V.exit_code(holding) == V.EXIT_OK == 0
    assert V.exit_code(holding + [UNCHECKED]) == V.EXIT_UNCHECKED == 3
    broken = V.Verdict("x.md", 1, 1, "a = b", V.ERROR, "boom")
    assert V.exit_code(holding + [UNCHECKED, broken]) == V.EXIT_INTERNAL == 4
    assert V.exit_code(verdicts + [broken]) == V.EXIT_WRONG
    assert V.exit_code(holding, unreadable_files=1) == V.EXIT_UNREADABLE == 2


def test_the_report_lists_the_chosen_verdicts_under_the_summary(verdicts, by_line):
    text = V.render(verdicts, only=(V.WRONG,))
    lines = text.splitlines()
    assert lines[0] == V.summary(verdicts)[0] and lines[1] == ""
    assert sum(ln.startswith("elman.md:") and ": WRONG: " in ln for ln in lines) == len(PLANTED)
    assert ": holds: " not in text and "counterexample (" in text
    assert "elman.md:23:" in text
    everything = V.render(verdicts)
    assert sum(": holds: " in ln for ln in everything.splitlines()) == len(HOLDING)
    assert ": definition: " in everything
    assert "elman.md:99:1: unchecked: a = b" in V.render(list(verdicts) + [UNCHECKED])


def test_the_json_report_names_the_reason_of_an_unchecked_claim_and_drops_none(verdicts):
    rows = json.loads(V.to_json(list(verdicts) + [UNCHECKED]))
    assert len(rows) == len(verdicts) + 1
    unchecked = [r for r in rows if r["verdict"] == V.UNCHECKED]
    assert len(unchecked) == 1 and unchecked[0]["reason"].startswith("the shapes do not fit")
    assert all("reason" not in r for r in rows if r["verdict"] != V.UNCHECKED)
    assert all(None not in r.values() and "error" not in r for r in rows)
    wrong = [r for r in rows if r["verdict"] == V.WRONG]
    assert all("counterexample" in r for r in wrong) and len(wrong) == len(PLANTED)


def test_reason_classes():
    def u(message, kind="", construct=None):
        return V.Verdict("f.md", 1, 1, "", V.UNCHECKED, message, kind=kind, construct=construct)

    assert V.reason_class(u("", kind="unreadable", construct="\\iint")) == "cannot be read (\\iint)"
    assert V.reason_class(u("", kind="unreadable")) == "cannot be read"
    assert V.reason_class(u("needs line 7: the loss cannot be read; more")) == "need line 7"
    assert V.reason_class(u("one two three (four five)")) == "one two three"
    assert V.reason_class(u("a b c d e f g h i j")) == "a b c d e f g h …"
    assert V.reason_class(u("a b c d e f g h")) == "a b c d e f g h"
