"""symrnn check on the shared notes: the verdicts of EXPECTED.md, mutations, and the reading rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import symrnn
from symrnn.notes.checker import check
from tests.derived_truth import assert_backward_equations_hold, assert_gradients_equal_reference

NOTES = Path(__file__).resolve().parents[1] / "fixtures" / "notes"
ALL_NOTES = sorted(NOTES.glob("0*.md"))


def verdicts_of(name: str):
    return check(NOTES / name)


def at(verdicts, line: int, column: int | None = None):
    found = [v for v in verdicts if v.line == line and (column is None or v.column == column)]
    assert found, f"no verdict at line {line}"
    return found[0]


# ---------------------------------------------------------------- EXPECTED.md, note by note


def test_zhihu_is_definitions_only_and_the_lstm_is_lstm_zhihu():
    v = verdicts_of("01-rnn-lstm-zhihu.md")
    assert {x.verdict for x in v} == {"definition"}
    lstm = at(v, 16)
    assert "`lstm-zhihu`" in lstm.message
    assert "no biases" in lstm.message and "input first" in lstm.message


def test_olah_lstm_is_the_forget_gate_lstm_of_gers_2000():
    v = verdicts_of("02-rnn-lstm-olah.md")
    assert {x.verdict for x in v} == {"definition"}
    lstm = at(v, 16)
    assert "`lstm` (Gers" in lstm.message and "C → c" in lstm.message


def test_ng_block_matrix_line_holds_and_shape_lines_are_consistent():
    v = verdicts_of("03-rnn-gru-lstm-ng.md")
    block = at(v, 13, 3)
    assert block.verdict == "holds"
    assert "f kept generic" in block.message  # f is unnamed: checked with unrelated functions
    assert at(v, 13, 95).verdict == "definition"  # W_a = [W_aa | W_ax]
    assert at(v, 11).verdict == "holds"  # [A, B][C; D] = AC + BD
    first, second = at(v, 29), at(v, 37)
    assert first.verdict == second.verdict == "holds"
    assert "hidden 100, input 1000" in first.message
    assert "hidden 100, input 1000, output 50" in second.message
    lstm = at(v, 44)
    assert lstm.verdict == "definition"
    assert "`lstm`" in lstm.message and "Gamma_u → i" in lstm.message and "g taken as tanh" in lstm.message
    assert not [x for x in v if x.verdict in ("wrong", "warning", "unchecked")]


def test_sigmoid_candidate_is_a_warning_on_its_line():
    v = verdicts_of("04-lstm-sigmoid-candidate.md")
    warning = at(v, 9)
    assert warning.verdict == "warning"
    assert "σ" in warning.message and "tanh" in warning.message and "`lstm`" in warning.message
    assert [x.verdict for x in v if x.line != 9] == ["definition"] * 5


def test_korean_chain_rule_lines_hold_with_immediate_partials():
    v = verdicts_of("05-rnn-bptt-korean.md")
    for line in (19, 21):
        assert at(v, line).verdict == "holds"
        assert "immediate" in at(v, line).message
    assert at(v, 23).verdict == "holds"
    assert not [x for x in v if x.verdict not in ("definition", "holds")]


def test_rnn_derivation_every_gradient_line_holds():
    v = verdicts_of("06-rnn-bptt-derivation.md")
    claims = [x for x in v if x.kind == "gradient-claim"]
    assert [x.line for x in claims] == [25, 27, 32, 34, 36, 38, 40, 42]
    assert {x.verdict for x in claims} == {"holds"}
    assert {x.verdict for x in v if x not in claims} == {"definition"}


def test_gru_derivation_two_wrong_lines_with_the_right_hand_side_that_holds():
    v = verdicts_of("07-gru-bptt-derivation.md")
    assert [x.verdict for x in v if x.line == 27] == ["definition"] * 4
    for line in (31, 33, 35, 37, 41, 45, 47, 49, 51, 53):
        assert at(v, line).verdict == "holds", at(v, line)
    sign, weight = at(v, 39), at(v, 43)
    assert sign.verdict == weight.verdict == "wrong"
    assert r"\tilde{c}^{(t)} - c^{(t-1)}" in sign.expected_latex
    assert r"\Gamma_{r}^{(t)}" in weight.expected_latex and r"c^{(t-1)}" in weight.expected_latex
    example = sign.counterexample
    assert example["left"] != example["right"] and example["t"] is not None and example["sizes"]["hidden"] >= 2


@pytest.mark.parametrize("line", [39, 43])
def test_the_expected_right_hand_side_makes_the_claim_hold(tmp_path, line):
    """The correction the checker prints, pasted into the note, is itself checked as holding."""
    verdict = at(verdicts_of("07-gru-bptt-derivation.md"), line)
    text = (NOTES / "07-gru-bptt-derivation.md").read_text().splitlines()
    lhs = text[line - 1].split("=")[0]
    text[line - 1] = lhs + "= " + verdict.expected_latex + "$$"
    fixed = tmp_path / "fixed.md"
    fixed.write_text("\n".join(text) + "\n")
    assert at(check(fixed), line).verdict == "holds"


# ---------------------------------------------------------------- mutations of correct claims


def _mutations(latex: str):
    """(what, mutated line): drop a term, flip a sign, swap a transpose, shift a time index."""
    lhs, rhs = latex.split("=", 1)
    terms = _top_level_plus(rhs)
    if len(terms) > 1:
        yield "drop a term", lhs + "=" + rhs[: terms[-1]].rstrip().rstrip("+") + rhs[rhs.rindex("$$") :]
        yield "flip a sign", lhs + "=" + rhs[: terms[-1] - 1] + "-" + rhs[terms[-1] :]
    elif " - " in rhs:
        yield "flip a sign", lhs + "=" + rhs.replace(" - ", " + ", 1)
    if r"^\top" in rhs:
        yield "swap a transpose", lhs + "=" + rhs.replace(r"^\top", "", 1)
    for before, after in (("(t+1)", "(t)"), ("(t-1)", "(t)"), ("(1)", "(2)"), ("(t)", "(t-1)")):
        if before in rhs:
            yield "shift a time index", lhs + "=" + rhs.replace(before, after, 1)
            break


def _top_level_plus(rhs: str) -> list[int]:
    """Positions just after each top-level ' + ' of a right-hand side."""
    depth, out = 0, []
    for i, ch in enumerate(rhs):
        depth += ch in "({["
        depth -= ch in ")}]"
        if ch == "+" and depth == 0 and rhs[i - 1] == " ":
            out.append(i + 1)
    return [0, *out] if out else [0]


MUTATED = [("06-rnn-bptt-derivation.md", line) for line in (25, 27, 32, 34, 36, 38, 42)] + [
    ("07-gru-bptt-derivation.md", line) for line in (31, 35, 37, 41, 45, 47, 53)
]


@pytest.mark.parametrize(("note", "line"), MUTATED)
def test_every_mutation_of_a_correct_claim_is_wrong_at_its_line(tmp_path, note, line):
    text = (NOTES / note).read_text().splitlines()
    mutants = list(_mutations(text[line - 1]))
    assert mutants, f"no mutation applies to line {line}"
    for what, mutant in mutants:
        changed = list(text)
        changed[line - 1] = mutant
        path = tmp_path / f"{what.replace(' ', '-')}.md"
        path.write_text("\n".join(changed) + "\n")
        verdict = at(check(path), line)
        assert verdict.verdict == "wrong", f"{what}: {mutant} → {verdict.verdict}: {verdict.message}"


# ---------------------------------------------------------------- reading rules on small notes


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "note.md"
    path.write_text(text)
    return path


GENERIC_RNN = r"""
$$z_t = W a_{t-1} + U x_t$$

$$a_t = f(z_t)$$

$$\hat{y}_t = \mathrm{softmax}(V a_t)$$

$$J = -\sum_t y_t^\top \log \hat{y}_t$$

$$\delta z_t = \delta a_t \odot f'(z_t)$$

$$\delta z_t = \delta a_t \odot (1 - a_t \odot a_t)$$
"""


def test_unnamed_function_kept_generic_or_the_substitution_named(tmp_path):
    v = check(write(tmp_path, GENERIC_RNN))
    generic, tanh_only = v[-2], v[-1]
    assert generic.verdict == "holds" and "f kept generic" in generic.message
    assert tanh_only.verdict == "holds" and "only with f = tanh" in tanh_only.message


def test_a_lone_jacobian_is_total_and_chains_are_one_step(tmp_path):
    text = r"""
$$h_t = \tanh(W h_{t-1} + U x_t + b)$$

$$\frac{\partial h_{t}}{\partial h_{t-2}} = \frac{\partial h_{t}}{\partial h_{t-1}} \frac{\partial h_{t-1}}{\partial h_{t-2}}$$

$$\frac{\partial h_{t}}{\partial W} = \frac{\partial h_{t}}{\partial W}$$
"""
    v = check(write(tmp_path, text))
    assert at(v, 4).verdict == "holds"


def test_inconsistent_shapes_are_reported_at_the_equation(tmp_path):
    text = r"""
$$h_t = \tanh(W [h_{t-1}; x_t])$$

$$g_t = \sigma(W h_{t-1})$$
"""
    v = check(write(tmp_path, text))
    assert at(v, 4).verdict == "wrong" and "shape" in at(v, 4).message


def test_inconsistent_shape_line_is_wrong(tmp_path):
    text = r"""
$$h_t = \tanh(W h_{t-1} + U x_t + b)$$

Shapes: $100 \times 1 = \tanh((100 \times 100) \cdot (100 \times 1) + (100 \times 50) \cdot (40 \times 1) + 100 \times 1)$
"""
    v = check(write(tmp_path, text))
    assert at(v, 4).verdict == "wrong" and "50" in at(v, 4).message


def test_a_shape_line_that_disagrees_with_an_earlier_one(tmp_path):
    text = r"""
$$h_t = \tanh(W h_{t-1} + U x_t + b)$$

Shapes: $100 \times 1 = \tanh((100 \times 100) \cdot (100 \times 1) + (100 \times 50) \cdot (50 \times 1) + 100 \times 1)$

$$y_t = V h_t + c$$

Shapes: $10 \times 1 = (10 \times 64) \cdot (64 \times 1) + 10 \times 1$
"""
    v = check(write(tmp_path, text))
    assert at(v, 4).verdict == "holds" and "hidden 100, input 50" in at(v, 4).message
    assert at(v, 8).verdict == "wrong" and "hidden 64" in at(v, 8).message


def test_nothing_the_note_says_is_evaluated(monkeypatch):
    """The semantic layer, like the parser, never hands the note's text to eval/exec.

    SymPy itself execs its own import line and number strings (nsimplify of our
    coefficients); every other code string fails the test.
    """
    import builtins

    real_eval, real_exec = builtins.eval, builtins.exec
    own = re.compile(r"^(from sympy import \*|(?:Integer|Float|Rational|[\d.eE+\-*/() '])*)$")

    def guard(real):
        def run(code, *args, **kwargs):
            if not isinstance(code, str) or not own.match(code.strip()):
                raise AssertionError(f"eval/exec of {code!r}")
            return real(code, *args, **kwargs)

        return run

    expected = {note.name: [(v.line, v.verdict) for v in check(note)] for note in ALL_NOTES}
    monkeypatch.setattr(builtins, "eval", guard(real_eval))
    monkeypatch.setattr(builtins, "exec", guard(real_exec))
    for note in ALL_NOTES:
        assert [(v.line, v.verdict) for v in check(note)] == expected[note.name]


# ---------------------------------------------------------------- API


def test_read_notes_gives_cells_in_the_notes_names_and_claims():
    note = symrnn.read_notes(NOTES / "07-gru-bptt-derivation.md")
    cell = note.cell
    assert set(cell.states) == {"c"} and "Gamma_u" in [lhs.name for lhs, _ in cell.equations]
    assert {"W_uc", "W_cc", "b_u"} <= set(cell.params)
    assert [c.line for c in note.claims if c.line == 39] == [39]
    with pytest.raises(ValueError, match="2 cells"):
        _ = symrnn.read_notes(NOTES / "05-rnn-bptt-korean.md").cell


def test_check_api_returns_json_ready_verdicts():
    verdicts = symrnn.check(NOTES / "07-gru-bptt-derivation.md")
    wrong = [v.to_json() for v in verdicts if v.verdict == "wrong"]
    assert {"file", "line", "verdict", "message", "latex", "expected_latex"} <= set(wrong[0])
    assert all(re.search(r"07-gru", v["file"]) for v in wrong)


# ---------------------------------------------------------------- the derivation's own output is a valid note


def _note_of(d) -> str:
    lines = [f"$${eq.latex()}$$\n" for eq in d.forward if eq.lhs.name != "L"]
    lines.append(r"$$J = -\sum_{t=1}^{T} y_t^\top \log \hat{y}_t$$" + "\n")
    lines += [f"$${eq.latex()}$$\n" for eq in d.backward + d.param_grads + d.initial_grads]
    return "\n".join(lines)


# Cells whose weights act on a stack print δ as a row block [W^T δ]_{0:n_h}, a notation the
# note grammar does not read yet; the test below fails once it does, to move them up here.
ROW_BLOCK_CELLS = ["rnn-ng", "lstm-olah", "lstm-ng", "lstm-zhihu", "gru-ng", "mgu"]


@pytest.mark.parametrize("name", [n for n in symrnn.cells() if n not in ROW_BLOCK_CELLS])
def test_every_derived_equation_of_a_catalogue_cell_is_checked_as_holding(tmp_path, name):
    """symrnn's own derivation, written out as a note, is read back and every δ line holds.

    "Holds" is only right if the equations are true: the checker compares a note with the
    derivation, so a wrong derivation would hold against itself.  The equations are therefore
    also judged without derive()'s backward pass (tests/derived_truth.py): every δ against
    differences of the forward, every parameter and initial-state gradient against autograd of
    the paper's cell.
    """
    d = symrnn.derive(name)
    assert_backward_equations_hold(d)
    assert_gradients_equal_reference(d)
    path = tmp_path / f"{name}.md"
    path.write_text(_note_of(d))
    verdicts = check(path)
    claims = [v for v in verdicts if v.verdict != "definition"]
    assert len(claims) >= len(d.backward) + len(d.param_grads)
    assert {v.verdict for v in claims} == {"holds"}, [(v.line, v.verdict, v.message) for v in claims]


@pytest.mark.parametrize("name", ROW_BLOCK_CELLS)
def test_row_block_notation_is_refused_with_its_place(tmp_path, name):
    from symrnn.notes.errors import NotesSyntaxError

    path = tmp_path / f"{name}.md"
    path.write_text(_note_of(symrnn.derive(name)))
    with pytest.raises(NotesSyntaxError, match="':'"):
        check(path)
