"""The δ recursions with the path of every term, and the parameter, input and initial-state gradients."""

from __future__ import annotations

from symrnn import ir
from symrnn.equation_kinds import READOUT
from symrnn.printing.blocks import Equations, Line, Math, Paragraph, Section, Text
from symrnn.printing.paths import UPSTREAM_SOURCE, Term, input_term_paths, term_paths, uses_of
from symrnn.printing.walkthrough.common import (
    Numbers,
    delta,
    equation_lines,
    joined,
    ref,
    split_equation,
    term_latex,
    tex_name,
    top_terms,
)


def _path_note(d, term: Term, numbers: Numbers, at: int | None = None) -> Text:
    """Where a term comes from: the output, an equation of the same step, or one of the next step.

    ``at`` is the absolute step the terms are written at (1 for the initial-state gradient, whose
    terms are the next-step terms of step 0).
    """
    source = term.source
    if source == UPSTREAM_SOURCE:
        return ("the upstream gradient, given: whatever the model does with the output",)
    n = ref(numbers[("forward", source)])
    if term.carry:
        shift = 0 if at is not None else +1
        step = "step 1" if at is not None else "next step"
        if source in d.cell.states:  # the state's own carry (the cell-state path of an LSTM)
            prefix = "step 1" if at is not None else "carry"
            return (f"{prefix}: ", Math(tex_name(source, shift, at)), f" uses it directly {n}")
        return (f"{step}, through ", Math(tex_name(source, shift, at)), f" {n}")
    eq = next(e for e in d.forward if e.lhs.name == source)
    if eq.kind == READOUT:
        return ("output at step t, through ", Math(tex_name(source)), f" {n}")
    return ("through ", Math(tex_name(source)), f" {n}")


def _annotated_lines(d, eq, terms: list[Term], tag: int, numbers: Numbers) -> list[Line]:
    """``eq`` one term per row, each with the path it comes from; whole if the terms cannot be matched."""
    lhs, _ = split_equation(eq)
    if eq.at is not None:  # the initial-state gradient: the carry terms of step t+1 read at t = 0
        terms = [Term(t.source, t.carry, ir.shift_time(t.expr, -1)) for t in terms if t.carry]
    by_latex: dict[str, list[Term]] = {}
    for term in terms:
        by_latex.setdefault(term_latex(term.expr, eq.at), []).append(term)
    shown = [term_latex(t, eq.at) for t in top_terms(eq.rhs)]
    matched = [by_latex[s].pop(0) if by_latex.get(s) else None for s in shown]
    if any(m is None for m in matched) or any(by_latex.values()) or not shown:
        # The simplifier merged terms of different paths: show the equation whole.
        return equation_lines(lhs, shown, tag)
    lines = []
    for i, (text, term) in enumerate(zip(shown, matched, strict=True)):
        note = _path_note(d, term, numbers, eq.at)
        lines.append(Line(lhs, text, tag, note) if i == 0 else Line("", r"\quad + " + text, None, note))
    return lines


def _backward_lines(d, eq, terms: list[Term], numbers: Numbers, loss_section: int) -> list[Line]:
    tag = numbers[("backward", eq.lhs.name)]
    if eq.lhs.name == d.logits:
        lhs, rhs = split_equation(eq)
        return [Line(lhs, rhs, tag, (f"the loss, simplified in Section {loss_section}",))]
    return _annotated_lines(d, eq, terms, tag, numbers)


def backward_section(d, numbers: Numbers, loss_section: int) -> Section:
    paths = term_paths(d)
    lines: list[Line] = []
    for eq in d.backward:
        lines += _backward_lines(d, eq, paths.get(eq.lhs.name, []), numbers, loss_section)
    states = joined([Math(delta(s, 0)) for s in d.cell.states])
    carries = joined([Math(delta(s, +1)) for s in d.cell.states])
    return Section(
        "Backpropagation through time",
        (
            Paragraph(
                (
                    "Write ",
                    Math(r"\delta v_{t} = \partial J / \partial v_{t}"),
                    " for the total derivative of the loss with respect to a value at step t: it counts "
                    "every path from ",
                    Math("v_{t}"),
                    " to J.  A value used by several equations collects one term per use, so each term "
                    "below is labelled with the equation it flows back through: the output at step t, "
                    "an equation of the same step, or — for the states ",
                    *states,
                    " — the next step, whose equations use the state as their previous value.  Those terms bring in ",
                    *carries,
                    " and the other δ's at t+1: the recursion runs for t = T, …, 1, and every δ at step T+1 is zero.",
                )
            ),
            Equations(tuple(lines)),
        ),
    )


# ------------------------------------------------------------------ 6. parameter, input and initial-state gradients


def gradients_section(d, numbers: Numbers) -> Section:
    lines: list[Line] = []
    for eq in d.param_grads:
        name = eq.lhs.name
        used = [ref(numbers[("forward", u)]) for u in uses_of(d, name)]
        note: Text = ("used in " + ", ".join(used),) if used else ()
        lhs, rhs = split_equation(eq)
        lines.append(Line(lhs, rhs, numbers[("param", name)], note))
    paths = term_paths(d)
    inputs: list[Line] = []
    input_paths = input_term_paths(d)
    for eq in d.input_grads:
        tag = numbers[("input", eq.lhs.name)]
        inputs += _annotated_lines(d, eq, input_paths.get(eq.lhs.name, []), tag, numbers)
    initial: list[Line] = []
    for eq in d.initial_grads:
        initial += _annotated_lines(d, eq, paths.get(eq.lhs.name, []), numbers[("initial", eq.lhs.name)], numbers)
    state_refs = ", ".join(ref(numbers[("backward", s)]) for s in d.cell.states if ("backward", s) in numbers)
    return Section(
        "Gradients of the parameters, the inputs and the initial state",
        (
            Paragraph(
                (
                    "A parameter acts at every step and on every example, so its gradient adds the "
                    "share of each step (and each example of a batch).  A share is the δ of the "
                    "equation's left-hand side times the derivative of that equation with respect to "
                    "the parameter: an outer product with the equation's input for a matrix, an "
                    "element-wise product for a vector used element-wise.",
                )
            ),
            Equations(tuple(lines)),
            *_input_blocks(d, inputs),
            Paragraph(
                (
                    "The initial state is used only by step 1, so its gradient is the next-step part "
                    f"of the state recursions {state_refs} read at t = 0: every term that comes from step t+1.",
                )
            ),
            Equations(tuple(initial)),
        ),
    )


def _input_blocks(d, lines: list[Line]) -> tuple:
    """δx_t: what a layer below (an encoder, an embedding) receives; one share per equation using x_t."""
    if not lines:
        return ()
    return (
        Paragraph(
            (
                "The input is not a parameter, but its gradient is what a model below the cell (an "
                "embedding, an encoder, a lower layer) receives: each equation of step t that reads ",
                *joined([Math(tex_name(x)) for x in d.cell.inputs]),
                " adds its share, and no term comes from another step.",
            )
        ),
        Equations(tuple(lines)),
    )
