"""What a document shows beyond the derivation itself: pictures, the gradient flow and code, made by the export.

The walkthrough only arranges what it is given.  :func:`symrnn.export.material.document_material`
draws the pictures, derives and measures the gradient flow and generates the code; ``d.markdown()``
and ``d.latex()`` pass an empty :class:`Material`, so they are fast and their bytes depend on the
derivation alone, never on what is installed.
"""

from __future__ import annotations

from dataclasses import dataclass

from symrnn.printing.blocks import Picture, Section


@dataclass(frozen=True)
class Material:
    """The parts of a derivation document that are computed or drawn outside the printers.

    Attributes:
        cell_picture: one step of the cell (gates, element-wise operations, carry paths).
        unrolled_picture: the computation over three steps with the δ paths.
        flow: the section "Gradient flow" (built by :func:`symrnn.gradient_flow.section.flow_document_section`).
        code: the plain per-step NumPy module of the derivation, whose ``loss_and_grads`` the appendix shows.
        code_refused: why there is no code (the code generator's message), when ``code`` is None.
        code_command: the command that writes the optimised module (empty: none to name).
        generated_by: the first-line comment of the document (it carries symrnn's mark).
    """

    cell_picture: Picture | None = None
    unrolled_picture: Picture | None = None
    flow: Section | None = None
    code: str | None = None
    code_refused: str = ""
    code_command: str = ""
    generated_by: str = ""


NOTHING = Material()
