"""The loss and its simplification, and the appendix with the plain NumPy code of the backward step."""

from __future__ import annotations

from symrnn.printing.appendix import backward_step_source, readable_source
from symrnn.printing.blocks import Code, Equations, Line, Listing, Math, Paragraph, Section, Text
from symrnn.printing.walkthrough.common import Numbers, delta, ref, tex_name


def loss_rows(d) -> list[tuple[str, str, Text]]:
    """(lhs, rhs, note) rows that turn ∂L/∂ŷ into the closed-form δ of the logits."""
    y, yhat, ybar = tex_name("y"), tex_name("y_hat"), tex_name("y_bar")
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
                delta("y_bar"),
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
            (delta("y_bar"), rf"{yhat} - {y}", ("the two factors cancel",)),
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


def loss_section(d, numbers: Numbers) -> Section:
    if d.loss.name == "upstream":
        return _upstream_section(d, numbers)
    rows = loss_rows(d)
    seed = numbers[("backward", d.logits)]
    lines = [
        Line(lhs, rhs, numbers[("loss", str(i))] if lhs else None, note) for i, (lhs, rhs, note) in enumerate(rows)
    ]
    loss_ref = ref(numbers[("forward", "L")])
    blocks: list = [
        Paragraph(
            (
                f"The loss {loss_ref} is {d.loss.description}; the total {ref(numbers[('forward', 'J')])} "
                f"{_combines(d)}.  Its derivative with respect to the logits "
                f"has a closed form, which seeds the recursion {ref(seed)}: {d.loss.simplification}"
                f"{_weighted(d)}.",
            )
        )
    ]
    if lines:
        blocks.append(Equations(tuple(lines)))
    return Section("The loss and its simplification", tuple(blocks))


def _combines(d) -> str:
    if d.structure.is_default:
        return "sums it over the steps and the examples"
    return f"takes it {d.structure.describe().removeprefix('read ')}, each step's term weighted by w_t"


def _weighted(d) -> str:
    if d.structure.is_default:
        return ""
    return (
        "; the weight w_t of step t's term multiplies that closed form and nothing else, so every δ "
        "recursion keeps its form and a step whose weight is 0 sends back only what later steps carry"
    )


def _upstream_section(d, numbers: Numbers) -> Section:
    """Loss "upstream": the cell is one layer of a model, which hands back Δ_t for its outputs."""
    seeds = [ref(numbers[("backward", s)]) for s in d.upstream]
    names = [Math(tex_name(delta.name)) for delta in d.upstream.values()]
    outputs = [Math(tex_name(s)) for s in d.upstream]
    return Section(
        "The upstream gradients",
        (
            Paragraph(
                (
                    "The cell has no readout and no loss of its own: it is one layer of a bigger model, whose "
                    "loss J depends on the outputs ",
                    *outputs,
                    " in any way.  Whatever the model does with them, reverse mode hands back ",
                    *names,
                    " = ∂J/∂ of each output at step t, and the recursions "
                    + ", ".join(seeds)
                    + " start from it (the form of Greff et al. 2017, δh_t = Δ_t + …).  The input gradients are "
                    "what the layer passes on to the model below it.",
                )
            ),
        ),
    )


# ------------------------------------------------------------------ appendix

CODE_TITLE = "Generated NumPy code of the backward step"


def code_section(d, material, backward_section: int, gradients_section: int) -> Section:
    """The appendix: ``loss_and_grads`` of the plain per-step module, or why no code is generated."""
    if material.code is None:
        return Section(
            CODE_TITLE,
            (Paragraph(("No NumPy code is generated for this cell: ", material.code_refused, ".")),),
            appendix=True,
        )
    source, whole_module = backward_step_source(material.code)
    what: Text = ("the whole generated module",) if whole_module else ("the function ", Code("loss_and_grads"))
    optimised: Text = (
        (
            "  The module that ",
            Code(material.code_command),
            " writes is the optimised form of the same function "
            "(gate products stacked, input products hoisted out of the loop), tested against this one.",
        )
        if material.code_command
        else ()
    )
    return Section(
        CODE_TITLE,
        (
            Paragraph(
                (
                    "Below is ",
                    *what,
                    " of the plain per-step NumPy module of this derivation; it imports only NumPy.  Arrays "
                    "are batched, so a column vector of the mathematics is a row of a (batch, size) array and ",
                    Math(r"W\,v"),
                    " becomes ",
                    Code("v @ W.T"),
                    ".  The forward loop keeps what the backward loop needs; the backward loop runs "
                    f"t = T−1, …, 0 (0-based), computes the δ's of Section {backward_section}, accumulates the "
                    f"sums of Section {gradients_section} and hands the next-step terms of the states back to "
                    "the step before.",
                    *optimised,
                )
            ),
            Listing("python", readable_source(source)),
        ),
        appendix=True,
    )
