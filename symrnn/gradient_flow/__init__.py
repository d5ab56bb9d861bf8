"""Gradient flow: why RNN gradients vanish or explode and how LSTM and GRU keep them.

* :func:`flow` derives the one-step state Jacobian ∂s_t/∂s_{t-1} of any cell in
  matrix form (``jacobian.py``), printable as text, LaTeX and Markdown
  (``printing.py``), with Pascanu et al.'s bound and the carry paths (``bound.py``).
* :func:`measure` runs the generated BPTT code on random parameters of a stated
  initialisation and returns ‖∂L_T/∂s_k‖ by distance T - k with the fitted
  geometric rate (``measurement.py``); :func:`plot_flow` draws it (``plot.py``).
* :func:`flow_section` is the section a derivation document includes.

The package is not called ``flow``: importing a submodule ``symrnn.flow`` would
replace the function ``symrnn.flow`` by the module.
"""

import importlib

from symrnn.gradient_flow.jacobian import Flow, FlowError, Path, flow

__all__ = ["Flow", "FlowError", "Initialisation", "Measurement", "Path", "flow", "flow_section", "measure", "plot_flow"]


# Measurement (NumPy, the code generator) and plotting (matplotlib) load on first use.
_LAZY = {
    "measure": "measurement",
    "Measurement": "measurement",
    "Initialisation": "measurement",
    "plot_flow": "plot",
    "flow_section": "section",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"symrnn.gradient_flow.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'symrnn.gradient_flow' has no attribute {name!r}")
