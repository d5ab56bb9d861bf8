"""A derivation walked through in the order of a textbook appendix, as a :class:`~symrnn.printing.blocks.Document`.

Sections: (1) the cell, its source, convention and the shapes of every symbol; (2) the forward
equations with named pre-activations; (3) the computation unrolled over three steps; (4) the
local derivatives of the element-wise functions, in forward values; (5) the δ recursions, each
term labelled with the path it comes from; (6) the parameter gradients as sums over t and the
initial-state gradients; an optional gradient-flow section (:func:`gradient_flow_section`);
(7) the loss and its simplification; and an appendix with the generated NumPy backward step.

Every displayed equation is numbered once, in reading order, and referred to by that number, so
the LaTeX and Markdown documents agree line for line.  All mathematics is printed from the
derivation's IR with the same printer, so the notation is the catalogue cell's own.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass

from symrnn import ir
from symrnn.equation_kinds import FORWARD, READOUT
from symrnn.functions import function_spec
from symrnn.ir import Node, derivative
from symrnn.printing.appendix import backward_step_source
from symrnn.printing.blocks import (
    Code,
    Document,
    Equations,
    Items,
    Line,
    Listing,
    Math,
    Paragraph,
    Picture,
    Section,
    Table,
    Text,
)
from symrnn.printing.latex import LatexPrinter, latex, shape_latex
from symrnn.printing.notation import latex_name
from symrnn.printing.paths import Term, term_paths, uses_of

STEPS_PICTURED = 3
LINE_WIDTH = 72  # visible characters of a right-hand side before it is broken at a top-level +


def file_stem(d) -> str:
    """The file name stem of a cell's documents: its name, with anything unsafe in a path replaced."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", d.cell.name)


def picture_stem(d) -> str:
    return f"{file_stem(d)}-unrolled"


def export_command(d) -> str:
    return f"symrnn export {d.cell.name}"


# ------------------------------------------------------------------ numbering


class Numbers:
    """Equation numbers, assigned in reading order before any text refers to them."""

    def __init__(self):
        self._numbers: dict[tuple[str, str], int] = {}

    def assign(self, key: tuple[str, str]) -> int:
        return self._numbers.setdefault(key, len(self._numbers) + 1)

    def __getitem__(self, key: tuple[str, str]) -> int:
        return self._numbers[key]

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._numbers


def _plan(d, numbers: Numbers) -> None:
    for eq in d.forward:
        numbers.assign(("forward", eq.lhs.name))
    numbers.assign(("forward", "J"))
    for i, _ in enumerate(_local_derivatives(d)):
        numbers.assign(("local", str(i)))
    for eq in d.backward:
        numbers.assign(("backward", eq.lhs.name))
    for eq in d.param_grads:
        numbers.assign(("param", eq.lhs.name))
    for eq in d.initial_grads:
        numbers.assign(("initial", eq.lhs.name))
    for i, (lhs, _, _) in enumerate(_loss_rows(d)):
        if lhs:  # continuation rows (lhs "") share the number of the row they continue
            numbers.assign(("loss", str(i)))


# ------------------------------------------------------------------ small helpers


def _name(name: str, shift: int | None = 0, at: int | None = None) -> str:
    return latex_name(name, shift, at)


def _delta(name: str, shift: int | None = 0) -> str:
    return r"\delta " + _name(name, shift)


def _ref(n: int) -> str:
    return f"({n})"


def _visible_length(tex: str) -> int:
    """Roughly how wide a LaTeX formula is: commands count as one character, braces and sizing as none."""
    tex = re.sub(r"\\(left|right)\b|\\[,;:! ]", "", tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    return len(re.sub(r"[{}^_]", "", tex))


def _top_terms(node: Node) -> list[Node]:
    """The operands of a top-level chain of sums, left to right (a − b stays one term)."""
    if node.op == "add":
        return _top_terms(node.args[0]) + _top_terms(node.args[1])
    return [node]


def _term_latex(node: Node, at: int | None = None) -> str:
    return LatexPrinter(at=at).paren(node, 10)


def _equation_lines(lhs: str, rhs_terms: list[str], tag: int | None, note: Text = ()) -> list[Line]:
    """``lhs = t1 + t2 + …``, broken before a + where the line would grow wider than LINE_WIDTH."""
    rows: list[list[str]] = [[]]
    width = 0
    for term in rhs_terms:
        w = _visible_length(term) + 3
        if rows[-1] and width + w > LINE_WIDTH:
            rows.append([])
            width = 0
        rows[-1].append(term)
        width += w
    lines = [Line(lhs, " + ".join(rows[0]), tag, note)]
    lines += [Line("", r"\quad + " + " + ".join(row)) for row in rows[1:]]
    return lines


def _split_equation(eq) -> tuple[str, str]:
    lhs, rhs = eq.latex().split(" = ", 1)
    return lhs, rhs


# ------------------------------------------------------------------ 1. the cell


def _role(d, eq) -> Text:
    name = eq.lhs.name
    if eq.note.startswith("pre-activation of "):
        target = eq.note.removeprefix("pre-activation of ")
        return ("pre-activation of ", Math(_name(target)))
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
        row(_name(name), ("input at step t",), node.shape)
    for name, node in d.cell.states.items():
        row(
            _name(name, -1),
            ("state from the previous step; ", Math(_name(name, 0, 0)), " is the initial state"),
            node.shape,
        )
    for eq in d.forward:
        row(_name(eq.lhs.name), _role(d, eq), eq.lhs.shape)
    target = next(leaf for eq in d.forward for leaf in ir.leaves(eq.rhs) if leaf.kind == ir.TARGET)
    row(_name(target.name), ("target at step t",), target.shape)
    for name, node in d.params.items():
        kind = "readout parameter" if name in d.cell.readout_params() else "parameter"
        row(_name(name, None), (f"{kind}, shared by every step",), node.shape)
    return rows


def _cell_section(d) -> Section:
    cell = d.cell
    facts: list[Text] = [
        ("Cell: ", Code(cell.name), f" ({cell.family})" if cell.family else ""),
        ("Source: ", cell.source or "not given"),
        ("Convention: ", cell.convention or "not given"),
    ]
    if cell.aliases:
        facts.append(("Also known in the catalogue as ", *_joined([Code(a) for a in cell.aliases]), "."))
    facts.append(("Loss: ", Code(d.loss.name), f", {d.loss.description}."))
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


def _joined(parts: list) -> list:
    out: list = []
    for i, p in enumerate(parts):
        if i:
            out.append(", ")
        out.append(p)
    return out


# ------------------------------------------------------------------ 2. forward


def _forward_section(d, numbers: Numbers) -> Section:
    lines: list[Line] = []
    for eq in d.forward:
        lhs, _ = _split_equation(eq)
        terms = [_term_latex(t) for t in _top_terms(eq.rhs)]
        lines += _equation_lines(lhs, terms, numbers[("forward", eq.lhs.name)])
    lines.append(
        Line("J", r"\sum_{t=1}^{T} \sum_{\text{batch}} " + _name("L"), numbers[("forward", "J")], ("the total loss",))
    )
    states = _joined([Math(_name(s, 0, 0)) for s in d.cell.states])
    first_readout = next(eq for eq in d.forward if eq.kind == READOUT)
    n_cell = [numbers[("forward", eq.lhs.name)] for eq in d.forward if eq.kind == FORWARD]
    return Section(
        "Forward pass",
        (
            Paragraph(
                (
                    "For t = 1, …, T, starting from the initial state ",
                    *states,
                    " (zero unless given), the cell computes equations "
                    f"{_ref(n_cell[0])}–{_ref(n_cell[-1])} and the readout "
                    f"{_ref(numbers[('forward', first_readout.lhs.name)])} onwards.  Each element-wise "
                    "function gets its own line, so its argument has a name: the pre-activation, "
                    "written with a bar.",
                )
            ),
            Equations(tuple(lines)),
        ),
    )


# ------------------------------------------------------------------ 3. picture


def _picture_section(d, rendered: bool) -> Section:
    stem = picture_stem(d)
    states = _joined([Math(_name(s, 0, 0)) for s in d.cell.states])
    return Section(
        "The computation unrolled over three steps",
        (
            Paragraph(
                (
                    "Each node is one named value of the forward pass at one step (inputs and targets grey, "
                    "states blue, pre-activations dashed); an arrow means “is used to compute”.  The same parameters act at every step (they are left out).  "
                    "Gradients flow backwards along the arrows: a value's δ collects one term per "
                    "outgoing arrow, which is what Section 5 spells out.  The initial state ",
                    *states,
                    " enters on the left.",
                )
            ),
            Picture(
                stem,
                (f"{d.cell.name}: forward computation for t = 1, 2, 3 (Graphviz source ", Code(f"{stem}.dot"), ")."),
                rendered,
            ),
        ),
    )


# ------------------------------------------------------------------ 4. local derivatives


def _applications(d):
    """Every element-wise function the cell applies: (forward equation, the apply node), in order."""
    seen: dict[Node, None] = {}
    out = []
    for eq in d.forward:
        if eq.kind != FORWARD:
            continue
        for node in ir.postorder(eq.rhs):
            if node.op == "apply" and node not in seen:
                seen[node] = None
                out.append((eq, node))
    return out


def _local_derivatives(d) -> list[tuple[str, str, str, Node]]:
    """(function, ∂value/∂argument as LaTeX, the derivative in forward values as LaTeX, the equation lhs)."""
    rows = []
    for eq, node in _applications(d):
        fn = node.attrs[0]
        (x,) = node.args
        whole = node is eq.rhs
        value = eq.lhs if whole else node
        d_node = derivative(fn, x, value)
        value_tex = latex(value)
        lhs = rf"\frac{{\partial {value_tex}}}{{\partial {latex(x)}}}"
        if d_node is None:
            rhs = "I"
        elif d_node.op == "zeros":
            rhs = "0"
        else:
            rhs = rf"\mathrm{{diag}}\left({latex(d_node)}\right)"
        rows.append((fn, lhs, rhs, eq.lhs))
    return rows


def _local_section(d, numbers: Numbers) -> Section:
    rows = _local_derivatives(d)
    functions = list(dict.fromkeys(fn for fn, *_ in rows))
    rules: list[Text] = []
    for fn in functions:
        spec = function_spec(fn)
        if spec.generic:
            rules.append(
                (Math(rf"{spec.latex}'(x)"), " stays symbolic: the cell does not say what ", Math(spec.latex), " is.")
            )
        else:
            rules.append((Math(spec.derivative_latex or rf"{spec.latex}'(x)"),))
    lines = [
        Line(
            lhs,
            rhs,
            numbers[("local", str(i))],
            ("in ", Math(_name(eq_lhs.name)), " ", _ref(numbers[("forward", eq_lhs.name)])),
        )
        for i, (_fn, lhs, rhs, eq_lhs) in enumerate(rows)
    ]
    blocks: list = [
        Paragraph(
            (
                "An element-wise function has a diagonal Jacobian, so the chain rule through it is an "
                "element-wise product: ",
                Math(r"\delta \bar{v} = \delta v \odot \varphi'(\bar{v})"),
                ".  The derivatives are written in the values the forward pass already computed:",
            )
        ),
        Items(tuple(rules)),
    ]
    if lines:
        blocks.append(Paragraph(("For this cell:",)))
        blocks.append(Equations(tuple(lines)))
    else:
        blocks.append(Paragraph(("This cell applies no element-wise function.",)))
    return Section("Local derivatives", tuple(blocks))


# ------------------------------------------------------------------ 5. δ recursions


def _path_note(d, term: Term, numbers: Numbers, at: int | None = None) -> Text:
    """Where a term comes from: the output, an equation of the same step, or one of the next step.

    ``at`` is the absolute step the terms are written at (1 for the initial-state gradient, whose
    terms are the next-step terms of step 0).
    """
    source = term.source
    n = _ref(numbers[("forward", source)])
    if term.carry:
        shift = 0 if at is not None else +1
        step = "step 1" if at is not None else "next step"
        if source in d.cell.states:  # the state's own carry (the cell-state path of an LSTM)
            prefix = "step 1" if at is not None else "carry"
            return (f"{prefix}: ", Math(_name(source, shift, at)), f" uses it directly {n}")
        return (f"{step}, through ", Math(_name(source, shift, at)), f" {n}")
    eq = next(e for e in d.forward if e.lhs.name == source)
    if eq.kind == READOUT:
        return ("output at step t, through ", Math(_name(source)), f" {n}")
    return ("through ", Math(_name(source)), f" {n}")


def _annotated_lines(d, eq, terms: list[Term], tag: int, numbers: Numbers) -> list[Line]:
    """``eq`` one term per row, each with the path it comes from; whole if the terms cannot be matched."""
    lhs, _ = _split_equation(eq)
    if eq.at is not None:  # the initial-state gradient: the carry terms of step t+1 read at t = 0
        terms = [Term(t.source, t.carry, ir.shift_time(t.expr, -1)) for t in terms if t.carry]
    by_latex: dict[str, list[Term]] = {}
    for term in terms:
        by_latex.setdefault(_term_latex(term.expr, eq.at), []).append(term)
    shown = [_term_latex(t, eq.at) for t in _top_terms(eq.rhs)]
    matched = [by_latex[s].pop(0) if by_latex.get(s) else None for s in shown]
    if any(m is None for m in matched) or any(by_latex.values()) or not shown:
        # The simplifier merged terms of different paths: show the equation whole.
        return _equation_lines(lhs, shown, tag)
    lines = []
    for i, (text, term) in enumerate(zip(shown, matched, strict=True)):
        note = _path_note(d, term, numbers, eq.at)
        lines.append(Line(lhs, text, tag, note) if i == 0 else Line("", r"\quad + " + text, None, note))
    return lines


def _backward_lines(d, eq, terms: list[Term], numbers: Numbers, loss_section: int) -> list[Line]:
    tag = numbers[("backward", eq.lhs.name)]
    if eq.lhs.name == d.logits:
        lhs, rhs = _split_equation(eq)
        return [Line(lhs, rhs, tag, (f"the loss, simplified in Section {loss_section}",))]
    return _annotated_lines(d, eq, terms, tag, numbers)


def _backward_section(d, numbers: Numbers, loss_section: int) -> Section:
    paths = term_paths(d)
    lines: list[Line] = []
    for eq in d.backward:
        lines += _backward_lines(d, eq, paths.get(eq.lhs.name, []), numbers, loss_section)
    states = _joined([Math(_delta(s, 0)) for s in d.cell.states])
    carries = _joined([Math(_delta(s, +1)) for s in d.cell.states])
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


# ------------------------------------------------------------------ 6. parameter and initial-state gradients


def _gradients_section(d, numbers: Numbers) -> Section:
    lines: list[Line] = []
    for eq in d.param_grads:
        name = eq.lhs.name
        used = [_ref(numbers[("forward", u)]) for u in uses_of(d, name)]
        note: Text = ("used in " + ", ".join(used),) if used else ()
        lhs, rhs = _split_equation(eq)
        lines.append(Line(lhs, rhs, numbers[("param", name)], note))
    paths = term_paths(d)
    initial: list[Line] = []
    for eq in d.initial_grads:
        initial += _annotated_lines(d, eq, paths.get(eq.lhs.name, []), numbers[("initial", eq.lhs.name)], numbers)
    state_refs = ", ".join(_ref(numbers[("backward", s)]) for s in d.cell.states if ("backward", s) in numbers)
    return Section(
        "Gradients of the parameters and of the initial state",
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
            Paragraph(
                (
                    "The initial state is used only by step 1, so its gradient is the next-step part "
                    f"of the state recursions {state_refs} read at t = 0: every term that comes from step t+1.",
                )
            ),
            Equations(tuple(initial)),
        ),
    )


FLOW_STEPS = 50  # the measured window of the section and the plot: modest, so exporting every cell stays fast
FLOW_SEEDS = (0, 1)
FLOW_HIDDEN = 16


@dataclass(frozen=True)
class Plot:
    """A plot written next to the document as SVG: Markdown shows it, LaTeX names the file.

    (pdflatex with texlive-latex-base cannot include SVG.)  ``rendered`` is False when matplotlib,
    which draws it, is not installed; the documents then say how to get it.
    """

    file: str
    caption: Text
    command: str  # the command that writes the file
    rendered: bool


def flow_plot_stem(d) -> str:
    return f"{file_stem(d)}-flow"


def flow_initialisation():
    from symrnn.gradient_flow import Initialisation

    return Initialisation(hidden_size=FLOW_HIDDEN)


def plot_available() -> bool:
    """Whether matplotlib (the ``plot`` extra) is installed to draw the gradient-flow plot."""
    return importlib.util.find_spec("matplotlib") is not None


_CACHE: list = []  # [(cell, {what: value})] for the last few cells, by identity (a Cell is not hashable)


def _cached(d, what: str, compute):
    """``compute()``, once per cell for the Markdown, the LaTeX and the plot of an export."""
    values = next((v for cell, v in _CACHE if cell is d.cell), None)
    if values is None:
        values = {}
        _CACHE.insert(0, (d.cell, values))
        del _CACHE[4:]
    if what not in values:
        values[what] = compute()
    return values[what]


def flow_measurement(d):
    """The measurement shown in the section and the plot, or None when no NumPy code is generated for the cell."""
    from symrnn.gradient_flow import measure

    def compute():
        try:
            d.numpy_source()
        except ValueError:  # the code generator refuses some cells (a generic f has no NumPy form)
            return None
        return measure(d.cell, steps=FLOW_STEPS, init=flow_initialisation(), seeds=FLOW_SEEDS)

    return _cached(d, "measurement", compute)


def _dollar_text(tex: str) -> Text:
    """LaTeX prose with ``$…$`` mathematics as inline parts (``~`` becomes a plain space)."""
    return tuple(Math(part) if i % 2 else part.replace("~", " ") for i, part in enumerate(tex.split("$")) if part)


def _flow_lines(f) -> list[Line]:
    from symrnn.gradient_flow.printing import partial, signed_terms, state_jacobian_heading

    lines = []
    if len(f.states) > 1:
        lhs, rhs = state_jacobian_heading(f, True).split(" = ", 1)
        lines.append(Line(lhs, rhs))
    for a in f.states:
        for b in f.states:
            terms = signed_terms([(p, "") for p in f.block(a, b)], True) or ["0"]
            lines.append(Line(partial(a, b, True), terms[0]))
            lines += [Line("", rf"\quad {term}") for term in terms[1:]]
    return lines


def _scientific(x: float) -> str:
    mantissa, exponent = f"{x:.2e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def gradient_flow_section(d) -> Section | None:
    """The gradient-flow analysis (issue 6), placed after the gradients and before the loss.

    The one-step state Jacobian in matrix form (:func:`symrnn.gradient_flow.flow`), Pascanu et al.'s
    bound on each block and the path that keeps the gradient, the norms measured with the generated
    code, and the plot ``NAME-flow.svg`` that ``symrnn export`` writes.  None (no such section) for a
    cell whose Jacobian cannot be written in matrix form.
    """
    return _cached(d, f"section, plot {plot_available()}", lambda: _gradient_flow_section(d))


def _gradient_flow_section(d) -> Section | None:
    from symrnn.gradient_flow import FlowError, flow

    try:
        f = flow(d.cell)
    except FlowError:
        return None
    states = _joined([Math(_name(s)) for s in f.states])
    s_t, s_prev = r"s_{t}", r"s_{t-1}"
    blocks: list = [
        Paragraph(
            (
                "Backpropagation carries the δ of the state ",
                Math(s_t),
                " (here ",
                *states,
                ") one step back by the transpose of the one-step Jacobian: ",
                Math(rf"\delta {s_prev} = \left(\partial {s_t}/\partial {s_prev}\right)^\top \delta {s_t}"),
                " plus the terms of step t−1's own loss, so over a distance k the gradient is multiplied by a "
                "product of k such Jacobians.  Numerator layout: row i of ",
                Math(r"\partial a_{t}/\partial b_{t-1}"),
                " is the derivative of the i-th entry of ",
                Math(r"a_{t}"),
                " (Pascanu et al. write the transpose in their eq. 5).  The parameters and the inputs ",
                *_joined([Math(_name(x)) for x in d.cell.inputs]),
                " are held fixed.",
            )
        ),
        Equations(tuple(_flow_lines(f))),
        Paragraph(("Bounds on the norm of each block (Pascanu et al. 2013), and the path that keeps the gradient:",)),
        Items(tuple(_dollar_text(line) for line in f.bound().lines(latex=True))),
    ]
    m = flow_measurement(d)
    if m is not None:
        blocks.append(
            Paragraph(
                (
                    "Measured with the generated NumPy code (",
                    *_dollar_text(m.init.describe(latex=True)),
                    f"; seeds {', '.join(map(str, m.seeds))}): the gradient norm ",
                    Math(r"\|\partial L_{T}/\partial s_{T-k}\|"),
                    " changes by a factor ",
                    Math(rf"\rho = {m.rate:.3f}"),
                    " per step and is ",
                    Math(_scientific(m.geometric_mean[-1])),
                    f" at distance {m.steps}.",
                )
            )
        )
        stem = flow_plot_stem(d)
        blocks.append(
            Plot(
                f"{stem}.svg",
                (
                    f"{d.cell.name}: the gradient norm against the distance k on a log scale, one thin line per "
                    "seed, their geometric mean (thick) and the fitted ",
                    Math(r"C \rho^{k}"),
                    " (dashed).",
                ),
                export_command(d),
                plot_available(),
            )
        )
    return Section("Gradient flow", tuple(blocks))


# ------------------------------------------------------------------ 7. loss


def _loss_rows(d) -> list[tuple[str, str, Text]]:
    """(lhs, rhs, note) rows that turn ∂L/∂ŷ into the closed-form δ of the logits."""
    y, yhat, ybar = _name("y"), _name("y_hat"), _name("y_bar")
    one = r"\mathbf{1}"
    if d.loss.name == "softmax_ce":
        return [
            (
                rf"\frac{{\partial L_{{t}}}}{{\partial {yhat}}}",
                rf"-{y} \oslash {yhat}",
                ("from ", Math(rf"L_{{t}} = -{y}^\top \log {yhat}")),
            ),
            (
                rf"\frac{{\partial {yhat}}}{{\partial {ybar}}}",
                rf"\mathrm{{diag}}\left({yhat}\right) - {yhat}\,{yhat}^\top",
                ("the softmax Jacobian (symmetric)",),
            ),
            (
                _delta("y_bar"),
                rf"\left(\mathrm{{diag}}\left({yhat}\right) - {yhat}\,{yhat}^\top\right)\left(-{y} \oslash {yhat}\right)",
                ("chain rule",),
            ),
            ("", rf"= -{y} + {yhat}\,\left({one}^\top {y}\right)", ()),
            (
                "",
                rf"= {yhat} - {y}",
                ("because ", Math(rf"{one}^\top {y} = 1"), " for a one-hot or probability target"),
            ),
        ]
    if d.loss.name == "bce":
        return [
            (
                rf"\frac{{\partial L_{{t}}}}{{\partial {yhat}}}",
                rf"\left({yhat} - {y}\right) \oslash \left({yhat} \odot \left(1 - {yhat}\right)\right)",
                ("from ", Math(rf"L_{{t}} = -{y}^\top \log {yhat} - (1 - {y})^\top \log(1 - {yhat})")),
            ),
            (
                rf"\frac{{\partial {yhat}}}{{\partial {ybar}}}",
                rf"\mathrm{{diag}}\left({yhat} \odot \left(1 - {yhat}\right)\right)",
                ("the sigmoid, in its output",),
            ),
            (_delta("y_bar"), rf"{yhat} - {y}", ("the two factors cancel",)),
        ]
    if d.loss.name == "mse":
        return [
            (
                rf"\frac{{\partial L_{{t}}}}{{\partial {yhat}}}",
                rf"{yhat} - {y}",
                (
                    "from ",
                    Math(rf"L_{{t}} = \tfrac12 \lVert {yhat} - {y} \rVert^2"),
                    "; the readout is linear, so this is the seed",
                ),
            ),
        ]
    return []


def _loss_section(d, numbers: Numbers) -> Section:
    rows = _loss_rows(d)
    seed = numbers[("backward", d.logits)]
    lines = [
        Line(lhs, rhs, numbers[("loss", str(i))] if lhs else None, note) for i, (lhs, rhs, note) in enumerate(rows)
    ]
    loss_ref = _ref(numbers[("forward", "L")])
    blocks: list = [
        Paragraph(
            (
                f"The loss {loss_ref} is {d.loss.description}; the total {_ref(numbers[('forward', 'J')])} "
                "sums it over the steps and the examples.  Its derivative with respect to the logits "
                f"has a closed form, which seeds the recursion {_ref(seed)}: {d.loss.simplification}.",
            )
        )
    ]
    if lines:
        blocks.append(Equations(tuple(lines)))
    return Section("The loss and its simplification", tuple(blocks))


# ------------------------------------------------------------------ appendix


def _code_section(d) -> Section:
    try:
        module = d.numpy_source()
    except ValueError as e:  # the code generator refuses some cells (a generic f has no NumPy form)
        return Section(
            "Generated NumPy code of the backward step",
            (
                Paragraph(
                    ("No NumPy code is generated for this cell: ", str(e), "."),
                ),
            ),
            appendix=True,
        )
    source, whole_module = backward_step_source(module)
    what: Text = ("the whole generated module",) if whole_module else ("the function ", Code("loss_and_grads"))
    return Section(
        "Generated NumPy code of the backward step",
        (
            Paragraph(
                (
                    "Below is ",
                    *what,
                    " of the module that ",
                    Code(f"symrnn derive {d.cell.name} --format numpy"),
                    " writes; it imports only NumPy.  Arrays are batched, so a column "
                    "vector of the mathematics is a row of a (batch, size) array and ",
                    Math(r"W\,v"),
                    " becomes ",
                    Code("v @ W.T"),
                    ".  The forward loop keeps what the backward loop needs; the backward loop runs "
                    "t = T−1, …, 0 (0-based), computes the δ's of Section 5, accumulates the sums of "
                    "Section 6 and hands the next-step terms of the states back to the step before.",
                )
            ),
            Listing("python", source),
        ),
        appendix=True,
    )


# ------------------------------------------------------------------ the document


def walkthrough(d, *, picture_rendered: bool) -> Document:
    """The whole derivation of ``d`` as a document model (see the module docstring for its sections)."""
    numbers = Numbers()
    _plan(d, numbers)
    flow = gradient_flow_section(d)
    loss_section = 8 if flow is not None else 7
    sections = [
        _cell_section(d),
        _forward_section(d, numbers),
        _picture_section(d, picture_rendered),
        _local_section(d, numbers),
        _backward_section(d, numbers, loss_section),
        _gradients_section(d, numbers),
    ]
    if flow is not None:
        sections.append(flow)
    sections += [_loss_section(d, numbers), _code_section(d)]
    return Document(
        title=("Backpropagation through time for the ", Code(d.cell.name), " cell"),
        sections=tuple(sections),
        generated_by=f"Generated by symrnn from the catalogue cell {d.cell.name}; regenerate with: {export_command(d)}",
    )
