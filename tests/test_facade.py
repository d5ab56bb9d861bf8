"""What the layers register upward: node reprs from the printers, ``Cell.from_torch`` from the PyTorch bridge."""

import subprocess
import sys

import numpy as np
import pytest


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_ir_alone_imports_no_printer_and_reprs_in_prefix_form():
    out = _run(
        "import sys\n"
        "from symrnn import ir\n"
        "W = ir.var('W', (ir.HIDDEN, ir.HIDDEN), ir.PARAM)\n"
        "h = ir.var('h', (ir.HIDDEN, 1), ir.STATE, -1)\n"
        "print(repr(ir.apply('tanh', W @ h)))\n"
        "print(any(m.startswith('symrnn.printing') for m in sys.modules))\n"
    )
    assert out.splitlines() == ["<apply tanh(matmul(W, h[t-1])) : hidden_size×1>", "False"]


def test_importing_the_printers_gives_nodes_their_formula():
    out = _run(
        "from symrnn import ir\n"
        "import symrnn.printing\n"
        "W = ir.var('W', (ir.HIDDEN, ir.HIDDEN), ir.PARAM)\n"
        "h = ir.var('h', (ir.HIDDEN, 1), ir.STATE, -1)\n"
        "e = ir.apply('tanh', W @ h)\n"
        "print(repr(e))\n"
        "print(e._repr_latex_())\n"
    )
    assert out.splitlines() == [
        "<apply tanh(W h[t-1]) : hidden_size×1>",
        r"$\tanh\left(W\,h_{t-1}\right)$",
    ]


def test_cell_from_torch_works_from_the_public_names():
    torch = pytest.importorskip("torch")
    import symrnn
    from symrnn.torch_interop import from_torch

    torch.manual_seed(0)
    module = torch.nn.LSTM(3, 4)
    via_method = symrnn.cell("lstm-pytorch").from_torch(module)
    direct = from_torch("lstm-pytorch", module)
    assert sorted(via_method) == sorted(direct)
    for name in direct:
        np.testing.assert_array_equal(via_method[name], direct[name])
    model = symrnn.cell("lstm-pytorch").to_torch(direct)
    np.testing.assert_array_equal(from_torch("lstm-pytorch", model)["W_hi"], direct["W_hi"])


def test_cell_from_torch_without_the_bridge_says_what_to_import():
    out = _run(
        "from symrnn.catalogue import cell\n"
        "try:\n"
        "    cell('lstm-pytorch').from_torch({})\n"
        "except RuntimeError as e:\n"
        "    print(e)\n"
    )
    assert "symrnn.api" in out and "symrnn.from_torch" in out
