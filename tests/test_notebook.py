"""symrnn in a notebook: a notebook executed headless by nbclient, the MIME bundles of its outputs asserted."""

from __future__ import annotations

import os

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (the test extra has it)")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (the test extra has it)")
pytest.importorskip("ipykernel", reason="ipykernel is not installed (the test extra has it)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTE = os.path.join(ROOT, "tests", "fixtures", "gru-bptt-two-mistakes.md")

CELLS = [
    'import symrnn\nd = symrnn.derive(symrnn.cell("rnn"))\nd',
    "%load_ext symrnn",
    "d",
    'symrnn.flow("lstm")',
    'symrnn.flow("lstm").bound()',
    'symrnn.compare(symrnn.cell("lstm"), symrnn.cell("lstm-olah"))',
    'symrnn.cell("gru")',
    f"report = symrnn.check_text(open({NOTE!r}).read(), 'gru.md')\nreport",
    None,  # the cell magic, filled in below
]


@pytest.fixture(scope="module")
def executed():
    with open(NOTE, encoding="utf-8") as f:
        note = f.read()
    cells = [nbformat.v4.new_code_cell(src) for src in CELLS[:-1]]
    cells.append(nbformat.v4.new_code_cell("%%symrnn_check gru.md\n" + note))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": ROOT}}).execute()
    nbformat.validate(nb)  # the executed notebook is valid nbformat
    return nb


def _bundle(nb, index: int) -> dict:
    outputs = [o for o in nb.cells[index].outputs if o.output_type in ("execute_result", "display_data")]
    assert len(outputs) == 1, nb.cells[index].outputs
    return outputs[0]["data"]


def test_a_derivation_renders_as_math_without_and_with_the_extension(executed):
    plain = _bundle(executed, 0)
    assert plain["text/plain"].startswith("<Derivation of rnn with softmax_ce")
    assert "<math" in plain["text/html"] and "$`" not in plain["text/markdown"] and "$$" in plain["text/markdown"]
    rich = _bundle(executed, 2)["text/html"]
    assert rich.count("<svg") == 3  # the cell diagram, the unrolled view and the gradient-flow plot, inlined
    assert "Gradient flow" in rich and "<math" in rich


def test_flow_bound_comparison_and_cell_render(executed):
    flow = _bundle(executed, 3)
    assert flow["text/plain"].startswith("<Flow of lstm") and "<math" in flow["text/html"]
    bound = _bundle(executed, 4)
    assert bound["text/plain"].startswith("<Bound of lstm") and "<math" in bound["text/html"]
    comparison = _bundle(executed, 5)
    assert "lstm-olah ≡ lstm" in comparison["text/html"] and "(equivalent)" in comparison["text/html"]
    cell = _bundle(executed, 6)
    assert "<code>gru</code>" in cell["text/html"] and cell["text/html"].count("<math") >= 8


def test_the_check_report_and_the_cell_magic_show_the_verdicts(executed):
    for index in (7, 8):
        data = _bundle(executed, index)
        assert "2 wrong claims" in data["text/html"] and data["text/html"].count('data-verdict="wrong"') == 2
    assert _bundle(executed, 7)["text/plain"].startswith("<CheckReport gru.md: 2 wrong, ")


def test_symrnn_check_returns_a_list_of_verdicts_that_renders_itself():
    import symrnn
    from symrnn.notes.verdicts import Verdict

    report = symrnn.check(NOTE)
    assert isinstance(report, list) and all(isinstance(v, Verdict) for v in report)
    assert repr(report).startswith(f"<CheckReport {NOTE}: 2 wrong, ")  # a summary, not a wall of dataclasses
    page = report._repr_html_()
    assert page.startswith('<div class="symrnn-report">') and page.count('data-verdict="wrong"') == 2
