"""Independent references: every catalogue cell written again from its paper, in torch float64.

Nothing here imports symrnn.  Each cell is one short function ``step(p, x, **states) -> states``
that reads like its source's equations, in column-vector math: ``x`` is input × batch, every state
hidden × batch, weights have the paper's shapes, biases are columns (``p`` turns the 1-D arrays of
symrnn's parameter dicts into columns).  :func:`tests.references.unroll.total_loss` runs a step over a
sequence, adds the readout and the loss, and torch autograd differentiates the result: a gradient
symrnn derives must equal it.

``REFERENCES`` maps a catalogue name to its :class:`Reference`; a test fails for a catalogue cell
that has none (tests/test_references.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    """One cell from its paper: the step, its states (readout state first is not assumed) and readout."""

    name: str
    source: str  # where the equations of ``step`` are written
    step: Callable  # step(p, x, **states_at_t_minus_1) -> {state: value at t}
    states: tuple[str, ...]
    readout: tuple[str, str, str | None]  # (state read out, weight name, bias name or None)


REFERENCES: dict[str, Reference] = {}


def reference(name: str, *, source: str, states: tuple[str, ...], readout=("h", "W_y", "b_y")):
    """Register ``step`` as the reference of catalogue cell ``name``."""

    def deco(step):
        REFERENCES[name] = Reference(name, source, step, states, readout)
        return step

    return deco


def _load():
    # importing the family modules registers their references
    from tests.references import gru, lstm, rnn  # noqa: F401


_load()
