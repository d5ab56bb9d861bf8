"""symrnn: symbolic BPTT for recurrent cells.

    >>> import symrnn
    >>> d = symrnn.derive("rnn")
    >>> print(d.backward[1].text())
    δh[t] = W_yᵀ δȳ[t] + W_hhᵀ δh̄[t+1]

Public names are loaded on first use, so ``import symrnn`` (and ``symrnn --help``)
stays fast: SymPy is imported only by the work that needs it.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "derive": "symrnn.derivation",
    "Derivation": "symrnn.derivation",
    "Equation": "symrnn.derivation",
    "Cell": "symrnn.api",
    "CellError": "symrnn.api",
    "cell": "symrnn.api",
    "cells": "symrnn.api",
    "from_torch": "symrnn.api",
    "to_torch": "symrnn.api",
    "ShapeError": "symrnn.ir",
    "gradcheck": "symrnn.checks",
    "GradcheckError": "symrnn.checks",
    "losses": "symrnn.losses",
    "compare": "symrnn.equivalence",
    "flow": "symrnn.gradient_flow",
    "ir": "symrnn.ir",
    "check": "symrnn.notebook",  # the checker's verdicts as a report that renders itself
    "stack": "symrnn.layers.run",
    "bidirectional": "symrnn.layers.run",
    "layers": "symrnn.layers",
    "testing": "symrnn.testing",
    "read_notes": "symrnn.notes.checker",
    "check_text": "symrnn.notebook",
}

__all__ = sorted(_EXPORTS)


def load_ipython_extension(ipython):
    """``%load_ext symrnn``: the ``%%symrnn_check`` cell magic and rich display (see :mod:`symrnn.notebook`)."""
    from symrnn.notebook import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(_EXPORTS[name])
        value = module if module.__name__.endswith("." + name) else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'symrnn' has no attribute {name!r}")
