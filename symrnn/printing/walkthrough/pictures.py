"""Section "The computation unrolled over three steps": the picture the export drew, with how to read it."""

from __future__ import annotations

from symrnn.printing.blocks import Math, Paragraph, Picture, Section
from symrnn.printing.walkthrough.common import joined, tex_name


def unrolled_section(d, picture: Picture, backward_section: int) -> Section:
    """The unrolled picture with a paragraph that says what its nodes, arrows and colours mean."""
    states = joined([Math(tex_name(s, 0, 0)) for s in d.cell.states])
    deltas = joined([Math(rf"\delta {tex_name(s)}") for s in d.cell.states])
    return Section(
        "The computation unrolled over three steps",
        (
            Paragraph(
                (
                    "Each box is one named value of the forward pass at one step (inputs and targets grey, "
                    "states blue, pre-activations dashed); a grey arrow means “is used to compute”.  The same "
                    "parameters act at every step (they are left out).  The initial state ",
                    *states,
                    " enters on the left.  Gradients flow backwards along the arrows: a value's δ collects one "
                    "term per outgoing arrow.  The red arrows are the terms of the state δ's (",
                    *deltas,
                    f"): one from the output of the same step and one from each use at the next step, the "
                    f"recursion of Section {backward_section}.",
                )
            ),
            picture,
        ),
    )
