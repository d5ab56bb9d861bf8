"""Sections 1 and 2 of the walkthrough: the cell with the shape of every symbol, and the forward pass."""

from __future__ import annotations

import sympy

from symrnn import ir
from symrnn.equation_kinds import FORWARD, READOUT
from symrnn.functions import function_spec
from symrnn.printing.blocks import Code, Equations, Items, Line, Math, Paragraph, Picture, Section, Table, Text
from symrnn.printing.latex import shape_latex
from symrnn.printing.walkthrough.common import (
    Numbers,
    equation_lines,
    joined,
    ref,
    split_equation,
    term_latex,
    tex_name,
    top_terms,
)


def _role(d, eq) -> Text:
    name = eq.lhs.name
    if eq.note.startswith("pre-activation of "):
        target = eq.note.removeprefix("pre-activation of ")
        return ("pre-activation of ", Math(tex_name(target)))
    if name in d.cell.states:
        return ("new state (carried to step t+1)",)
    if eq.kind == READOUT:
        return {"y_bar": ("readout logits",), "y_hat": ("prediction",), "L": ("loss at step t",)}.get(
            name, (eq.note or "readout",)
        )
    if eq.rhs.op == "apply":
        fn = eq.rhs.attrs[0]
        if fn == "sigmoid":
            return ("gate: ", Math(r"\sigma"), " of its pre-activation")
        return ("activation: ", Math(function_spec(fn).latex), " of its pre-activation")
    return ("intermediate value",)


def _symbol_rows(d) -> list[tuple[Text, ...]]:
    rows: list[tuple[Text, ...]] = []

    def row(symbol: str, what: Text, shape) -> None:
        rows.append(((Math(symbol),), what, (Math(shape_latex(shape)),)))

    for name, node in d.cell.inputs.items():
        row(tex_name(name), ("input at step t",), node.shape)
    for name, node in d.cell.states.items():
        row(
            tex_name(name, -1),
            ("state from the previous step; ", Math(tex_name(name, 0, 0)), " is the initial state"),
            node.shape,
        )
    for eq in d.forward:
        row(tex_name(eq.lhs.name), _role(d, eq), eq.lhs.shape)
    target = next((leaf for eq in d.forward for leaf in ir.leaves(eq.rhs) if leaf.kind == ir.TARGET), None)
    if target is not None:
        row(tex_name(target.name), ("target at step t",), target.shape)
    for name, delta in d.upstream.items():
        row(
            tex_name(delta.name),
            ("upstream gradient ", Math(rf"\partial J / \partial {tex_name(name)}"), ", given"),
            delta.shape,
        )
    if d.loss.name != "upstream" and not d.structure.is_default:
        row(
            tex_name("w"), ("weight of the loss at step t: ", Math(d.structure.weight_latex())), (sympy.Integer(1),) * 2
        )
    for name, node in d.params.items():
        kind = "readout parameter" if name in d.cell.readout_params() else "parameter"
        row(tex_name(name, None), (f"{kind}, shared by every step",), node.shape)
    return rows


def cell_section(d) -> Section:
    cell = d.cell
    facts: list[Text] = [
        ("Cell: ", Code(cell.name), f" ({cell.family})" if cell.family else ""),
        ("Source: ", cell.source or "not given"),
        ("Convention: ", cell.convention or "not given"),
    ]
    if cell.aliases:
        facts.append(("Also known in the catalogue as ", *joined([Code(a) for a in cell.aliases]), "."))
    facts.append(("Loss: ", Code(d.loss.name), f", {d.loss.description}."))
    if d.loss.name != "upstream" and not d.structure.is_default:
        note = f" ({d.structure.note()})" if d.structure.note() else ""
        facts.append(
            (
                "Loss structure: the loss is ",
                f"{d.structure.describe()}: ",
                Math(r"w_{t} = " + d.structure.weight_latex()),
                f"{note}.",
            )
        )
    return Section(
        "The cell and its symbols",
        (
            Items(tuple(facts)),
            Paragraph(
                (
                    "Every vector is a column for one example; ",
                    Math("n_{x}"),
                    ", ",
                    Math("n_{h}"),
                    " and ",
                    Math("n_{y}"),
                    " are the input, hidden and output sizes.  A subscript t is the time step "
                    "(t = 1, …, T); parameters carry no time index because every step shares them.  ",
                    Math(r"\odot"),
                    " is the element-wise product and a bar marks a pre-activation, the argument of an "
                    "element-wise function.",
                )
            ),
            Table(("symbol", "what it is", "shape"), tuple(_symbol_rows(d))),
        ),
    )


# ------------------------------------------------------------------ 2. forward


def forward_section(d, numbers: Numbers, picture: Picture | None = None) -> Section:
    """The forward equations, numbered, with the one-step picture of the cell when the export drew one."""
    lines: list[Line] = []
    for eq in d.forward:
        lhs, _ = split_equation(eq)
        terms = [term_latex(t) for t in top_terms(eq.rhs)]
        lines += equation_lines(lhs, terms, numbers[("forward", eq.lhs.name)])
    lines.append(_total_line(d, numbers[("forward", "J")]))
    states = joined([Math(tex_name(s, 0, 0)) for s in d.cell.states])
    first_readout = next((eq for eq in d.forward if eq.kind == READOUT), None)
    n_cell = [numbers[("forward", eq.lhs.name)] for eq in d.forward if eq.kind == FORWARD]
    return Section(
        "Forward pass",
        (
            Paragraph(
                (
                    "For t = 1, …, T, starting from the initial state ",
                    *states,
                    " (zero unless given), the cell computes equations "
                    f"{ref(n_cell[0])}–{ref(n_cell[-1])}{_readout_words(first_readout, numbers)}.  Each element-wise "
                    "function gets its own line, so its argument has a name: the pre-activation, "
                    "written with a bar.",
                )
            ),
            Equations(tuple(lines)),
            *_picture_blocks(picture),
        ),
    )


def _picture_blocks(picture: Picture | None) -> tuple:
    if picture is None:
        return ()
    return (
        Paragraph(
            (
                "One step of the cell, drawn from these equations: the previous states and the input enter on the "
                "left, each box applies an element-wise function to a sum of weighted inputs (the weights are "
                "left out), circles are element-wise operations, and the thick blue lines are the states carried "
                "to the next step.",
            )
        ),
        picture,
    )


def _readout_words(first_readout, numbers: Numbers) -> str:
    if first_readout is None:  # loss "upstream": the outputs go to the rest of the model
        return "; it has no readout of its own: its outputs go on to the rest of the model"
    return f" and the readout {ref(numbers[('forward', first_readout.lhs.name)])} onwards"


def _total_line(d, number: int) -> Line:
    """J: the sum of the per-step losses, weighted by the loss structure; or the model's, given Δ_t."""
    if d.loss.name == "upstream":
        outputs = ", ".join(tex_name(s, 0, 1) + r", \dots, " + tex_name(s).replace("_{t}", "_{T}") for s in d.upstream)
        return Line(
            "J",
            rf"J\left({outputs}\right)",
            number,
            ("any loss of the outputs, computed by the model around the cell",),
        )
    summand = tex_name("L") if d.structure.is_default else tex_name("w") + r"\, " + tex_name("L")
    note: tuple = ("the total loss",)
    if not d.structure.is_default:
        note = ("the total loss, with ", Math(r"w_{t} = " + d.structure.weight_latex()))
    return Line("J", r"\sum_{t=1}^{T} \sum_{\text{batch}} " + summand, number, note)
