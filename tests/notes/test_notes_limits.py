"""Issue 17: every input bound of the reader, stated in the record it produces, the rest still read."""

from __future__ import annotations

import pytest

from symrnn.notes.limits import (
    MAX_EQUATION_CHARS,
    MAX_EXPONENT,
    MAX_NUMBER_DIGITS,
    MAX_STEP_OFFSET,
    MAX_SUM_LIMIT,
    MAX_TREE_DEPTH,
)
from symrnn.notes.read import read_source
from symrnn.notes.source import NoteSource


def read(markdown: str):
    return read_source(NoteSource.from_text(markdown, "n.md"))


@pytest.mark.parametrize(
    "math, construct, limit",
    [
        (r"\delta a_t = 7 a_{k+200000}", "step", f"the limit is {MAX_STEP_OFFSET:,})"),
        (r"y = h_{5000}", "step", f"the limit is {MAX_STEP_OFFSET:,})"),
        ("x = " + "9" * 400, "number", f"the limit is {MAX_NUMBER_DIGITS} digits"),
        (r"x = 2^{99999999999}", "exponent", f"the limit is {MAX_EXPONENT:,})"),
        (r"y = \sum_{t=1}^{1000000} x_t", "\\sum limit", f"the limit is {MAX_SUM_LIMIT:,})"),
        (r"y = \prod_{t=1}^{10^9} x_t", "\\prod limit", f"the limit is {MAX_SUM_LIMIT:,})"),
        ("y = " + "{" * 50 + "x" + "}" * 50, "nesting", "nested too deeply (the limit is 40 levels)"),
        ("y = " + "x + " * (MAX_EQUATION_CHARS // 4) + "x", "size", f"the limit is {MAX_EQUATION_CHARS:,} characters"),
    ],
)
def test_each_bound_is_an_unreadable_record_naming_its_limit(math, construct, limit):
    notes = read(f"$$h_t = W h_{{t-1}}$$\n\n$${math}$$\n\n$$y_t = V h_t$$\n")
    (bad,) = notes.unreadable
    assert bad.line == 3 and limit in bad.message, bad.message
    if construct is not None:
        assert bad.construct == construct
    assert [e.latex for e in notes.equations] == ["h_t = W h_{t-1}", "y_t = V h_t"]


def test_bounds_leave_real_notation_alone():
    notes = read("$$W \\in \\mathbb{R}^{4096 \\times 1100}$$\n\n$$y = \\sum_{t=1}^{1000} x_t^{2}$$\n")
    assert notes.unreadable == ()


def test_flat_sum_of_many_terms_is_not_called_deep():
    # issue 17: "a flat sum of 200 terms called nested more than 200 levels deep"
    terms = " + ".join(f"a_{{{k}}}" for k in range(MAX_TREE_DEPTH + 100))
    notes = read(f"$$y = {terms}$$\n")
    assert notes.unreadable == () and len(notes.equations) == 1


def test_long_line_of_unclosed_dollars_reads_in_linear_time():
    # one 1 MB line: no rescans from each $ (was quadratic); work counted in function calls
    from tests.helpers import function_calls

    small = "costs $5 and " * 800
    _, base = function_calls(read, small)
    notes, calls = function_calls(read, small * 10)
    assert calls <= 15 * base
    assert notes.equations == ()
