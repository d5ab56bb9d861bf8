"""Gradient flow: the symbolic one-step Jacobian, Pascanu's bound, measured norms, the ``flow`` command."""

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

import symrnn
from symrnn import ir
from symrnn.activations import tanh
from symrnn.cellspec import Cell
from symrnn.cli import main
from symrnn.gradient_flow import FlowError, flow, flow_section
from symrnn.gradient_flow.evaluate import state_jacobian, step_env
from symrnn.gradient_flow.jacobian import DIFFERENTIAL
from symrnn.gradient_flow.measurement import Initialisation, fit, init_params, measure
from symrnn.gradient_flow.plot import render

# ---------------------------------------------------------------- the symbolic Jacobian


def test_every_ir_op_has_a_forward_mode_rule():
    assert set(DIFFERENTIAL) == set(ir.OPS)


@pytest.mark.parametrize(
    "cell,equation",
    [
        ("rnn", "∂h[t]/∂h[t-1] = diag(1 - h[t] ⊙ h[t]) W_hh"),
        ("rnn-sigmoid", "∂h[t]/∂h[t-1] = diag(h[t] ⊙ (1 - h[t])) W_h"),
        ("rnn-ng", "∂a[t]/∂a[t-1] = diag(1 - a[t] ⊙ a[t]) W_a [I; 0]"),
        ("lstm", "∂c[t]/∂c[t-1] = diag(f[t])"),
        ("lstm", "∂h[t]/∂c[t-1] = diag(o[t] ⊙ (1 - tanh(c[t]) ⊙ tanh(c[t])) ⊙ f[t])"),
        ("lstm-1997", "∂c[t]/∂c[t-1] = I"),
        ("gru", "∂h[t]/∂h[t-1] = diag(1 - z[t]) + diag((h̃[t] - h[t-1]) ⊙ z[t] ⊙ (1 - z[t])) W_hz + "),
    ],
)
def test_blocks_read_like_the_textbooks(cell, equation):
    assert equation in flow(cell).text()


def test_lstm_state_jacobian_is_a_block_matrix_printed_in_latex():
    out = flow("lstm").latex()
    assert r"\frac{\partial \begin{bmatrix} h_{t} \\ c_{t} \end{bmatrix}}" in out
    assert r"\frac{\partial c_{t}}{\partial c_{t-1}} &= \operatorname{diag}\left(f_{t}\right)" in out
    assert r"\operatorname{diag}\left(1 - h_{t} \odot h_{t}\right)\,W_{hh}" in flow("rnn").latex()


def test_differentials_show_the_chain_one_equation_at_a_time():
    text = flow("lstm").text()
    assert "dc[t] = diag(c[t-1]) df[t] + diag(f[t]) dc[t-1] + diag(g[t]) di[t] + diag(i[t]) dg[t]" in text
    assert "df̄[t] = W_hf dh[t-1]" in text


@pytest.mark.parametrize(
    "cell,bound",
    [("rnn", "‖W_hh‖"), ("rnn-relu", "‖W_hh‖"), ("rnn-sigmoid", "1/4 ‖W_h‖"), ("rnn-softmax", "‖W‖")],
)
def test_pascanu_bound_for_elman_cells(cell, bound):
    b = flow(cell).bound()
    state = flow(cell).states[0]
    assert b.applies and not b.carries
    assert b.expression(state, state, latex=False) == bound


def test_lstm_bound_names_the_unbounded_cell_state_and_the_forget_path():
    b = flow("lstm").bound()
    assert not b.applies
    lines = "\n".join(b.lines())
    assert "no bound of Pascanu's form, the paths carry the unbounded c[t-1]" in lines
    assert "The term diag(f[t]) of ∂c[t]/∂c[t-1] has no weight matrix" in lines
    assert [(s, len(p.factors)) for s, _, p in [(s, None, p) for s, p in flow("lstm").carries()]] == [("c", 1)]


def test_gru_state_stays_in_minus_one_one_so_its_bound_is_finite():
    b = flow("gru").bound()
    assert b.applies
    assert b.expression("h", "h", latex=False) == "1 + 1/2 ‖W_hz‖ + 1/4 ‖W_hh‖ ‖W_hr‖ + ‖W_hh‖"


def test_a_state_dependent_matrix_is_refused_with_the_expression():
    cell = Cell("outer")
    x, h = cell.input("x"), cell.state("h")
    W = cell.weight("W")
    cell.let("h", tanh(ir.matmul(h, ir.transpose(h)) @ (W @ h) + cell.weight("U", ir.HIDDEN, ir.INPUT) @ x))
    with pytest.raises(FlowError, match=r"transposed vector that depends on the state .* h\[t-1\]ᵀ"):
        flow(cell)


def _one_step(name, hidden=3, inputs=2, batch=2, seed=0):
    """(symbolic ∂s_1/∂s_0 evaluated, central differences of the generated forward code)."""
    d = symrnn.derive(name)
    module = d.numpy()
    rng = np.random.default_rng(seed)
    params = d.init_params(hidden_size=hidden, input_size=inputs, output_size=2, seed=seed)
    params = {k: 2.0 * v for k, v in params.items()}  # larger weights: saturated gates are exercised
    sizes = {ir.HIDDEN: hidden, ir.INPUT: inputs, ir.OUTPUT: 2}
    states = list(d.cell.states)
    widths = [int(d.cell.states[s].shape[0].subs(sizes)) for s in states]
    xs = rng.standard_normal((1, batch, inputs))
    s0 = rng.standard_normal((batch, sum(widths)))

    def step(vector):
        initial = dict(zip(states, np.split(vector, np.cumsum(widths)[:-1], axis=1), strict=True))
        return module.forward(params, xs, initial), initial

    f = flow(name)
    values, initial = step(s0)
    symbolic = state_jacobian(f, params, step_env(f, values, initial, 0, xs), sizes)
    eps = 1e-6
    numeric = np.zeros_like(symbolic)
    for j in range(s0.shape[1]):
        e = np.zeros(s0.shape[1])
        e[j] = eps
        plus, minus = step(s0 + e)[0], step(s0 - e)[0]
        numeric[:, :, j] = np.concatenate([(plus[s][0] - minus[s][0]) / (2 * eps) for s in states], axis=1)
    return symbolic, numeric


def _two_line_cell():
    """z = σ(W_z h + U_z x), h = z ⊙ tanh(W h + U x): a tanh whose Jacobian reads x_t directly."""
    from symrnn.activations import sigmoid

    cell = Cell("two-line")
    x, h = cell.input("x"), cell.state("h")
    W_z, U_z = cell.weight("W_z", ir.HIDDEN, ir.HIDDEN), cell.weight("U_z", ir.HIDDEN, ir.INPUT)
    W, U = cell.weight("W", ir.HIDDEN, ir.HIDDEN), cell.weight("U", ir.HIDDEN, ir.INPUT)
    z = cell.let("z", sigmoid(W_z @ h + U_z @ x))
    cell.let("h", z * tanh(W @ h + U @ x))
    return cell


def test_a_user_cell_whose_jacobian_reads_the_input_gets_its_gradient_flow_section():
    from symrnn.export import document

    d = symrnn.derive(_two_line_cell())
    # The gradient-flow section is the export's material now (d.markdown() computes nothing).
    text = document(d, "md")  # raised KeyError('x', 0): the flow's evaluator never bound the inputs
    assert "## 7. Gradient flow" in text
    m = measure(_two_line_cell(), steps=12, init=Initialisation(hidden_size=4, input_size=3, burn_in=2), seeds=(0,))
    np.testing.assert_allclose(m.predicted[0], m.norms[0], rtol=1e-8)  # symbolic Jacobians = generated code


def test_the_jacobian_of_a_cell_that_reads_the_input_matches_finite_differences():
    symbolic, numeric = _one_step(_two_line_cell())
    np.testing.assert_allclose(symbolic, numeric, rtol=1e-6, atol=1e-8)
    assert np.abs(symbolic).max() > 0.05


@pytest.mark.parametrize("name", symrnn.cells())
def test_symbolic_jacobian_matches_finite_differences_of_the_generated_step(name):
    symbolic, numeric = _one_step(name)
    np.testing.assert_allclose(symbolic, numeric, rtol=1e-6, atol=1e-8, err_msg=name)
    assert np.abs(symbolic).max() > 0.05  # a real Jacobian, not zeros on both sides


_BLOCK_HEAD = re.compile(r"\\frac\{\\partial (.+?)_\{t\}\}\{\\partial (.+?)_\{t-1\}\} &= (.*)$")
_CONTINUATION = re.compile(r"&\\quad ([+-] .*)$")


def _printed_blocks(latex: str) -> list[tuple[str, str, list[str]]]:
    """(row state, column state, printed terms) for each block row of the state-Jacobian align."""
    body = latex.split(r"\begin{align*}")[2].split(r"\end{align*}")[0]
    blocks: list[tuple[str, str, list[str]]] = []
    for row in (r.strip() for r in body.split(" \\\\\n")):
        if m := _BLOCK_HEAD.match(row):
            blocks.append((m.group(1), m.group(2), [m.group(3)]))
        elif m := _CONTINUATION.match(row):
            blocks[-1][2].append(m.group(1))
    return blocks


@pytest.mark.parametrize("name", symrnn.cells())
def test_the_printed_state_jacobian_has_every_block_and_every_path(name):
    """Each ∂a_t/∂b_{t-1} is printed once, in state order, with one term per path, and 0 only when zero.

    A printer that drops a path, a block, or prints a non-zero block as 0 fails here (checked by
    planting each); the numeric side comes from central differences of the generated step.
    """
    f = flow(name)
    blocks = _printed_blocks(f.latex())
    assert [(a, b) for a, b, _ in blocks] == [(a, b) for a in f.states for b in f.states], name
    _, numeric = _one_step(name)
    d = symrnn.derive(name)
    sizes = {ir.HIDDEN: 3, ir.INPUT: 2, ir.OUTPUT: 2}
    widths = [int(d.cell.states[s].shape[0].subs(sizes)) for s in f.states]
    edges = np.concatenate([[0], np.cumsum(widths)])
    pairs = [(i, j) for i in range(len(f.states)) for j in range(len(f.states))]
    for (a, b, terms), (i, j) in zip(blocks, pairs, strict=True):
        paths = f.block(f.states[i], f.states[j])
        block = numeric[:, edges[i] : edges[i + 1], edges[j] : edges[j + 1]]
        if terms == ["0"]:
            assert not paths and np.abs(block).max() < 1e-8, (name, a, b)
        else:
            assert len(terms) == len(paths), (name, a, b, terms)
            assert np.abs(block).max() > 1e-8, f"{name}: ∂{a}/∂{b} is printed but is zero numerically"
    assert f.latex() == flow(name).latex()  # deterministic across fresh flows


# ---------------------------------------------------------------- measured norms


def _spectral_radius(name, init, seed):
    f = flow(name)
    d = symrnn.derive(f.cell)
    params, _ = init_params(f, d, init, np.random.default_rng(seed))
    return float(np.max(np.abs(np.linalg.eigvals(params["W_hh"]))))


def test_small_recurrent_weights_decay_geometrically_at_the_rate_the_jacobian_predicts():
    init = Initialisation(scale=0.5, input_scale=0.01, hidden_size=16, input_size=4)
    m = measure("rnn", steps=80, init=init, seeds=(0, 1))  # 80 > CHUNK: two batched calls per seed
    # The generated BPTT and the product of the evaluated symbolic Jacobians are the same numbers.
    np.testing.assert_allclose(m.norms, m.predicted, rtol=1e-9)
    # Geometric: log-norms on a straight line, below Pascanu's bound ‖W_hh‖ < 1.
    assert m.rate < 1
    assert m.rate <= m.one_step_mean <= float(m.bounds.max()) < 1
    assert m.norms[:, -1].max() < 1e-10
    for norms, rate in zip(m.norms, m.rates, strict=True):
        d = np.arange(10, len(norms))
        slope = np.diff(np.log(norms[d]))
        assert np.all(np.abs(slope - np.log(rate)) < 0.25)
        # near h = 0 the Jacobian is W_hh: the rate is its spectral radius
    for seed, rate in zip(m.seeds, m.rates, strict=True):
        assert rate == pytest.approx(_spectral_radius("rnn", init, seed), rel=0.1)


def test_large_recurrent_weights_grow():
    init = Initialisation(scale=3.0, input_scale=0.1, hidden_size=32, input_size=4)
    m = measure("rnn", steps=60, init=init, seeds=(0, 1))
    assert m.rate > 1.05
    assert m.geometric_mean[-1] > 100
    assert m.rate <= m.one_step_mean
    # chaotic dynamics amplify rounding differences between the two computations of the trajectory
    np.testing.assert_allclose(m.norms, m.predicted, rtol=1e-5)


@pytest.mark.parametrize("forget_bias", [1.0, 3.0])
def test_lstm_keeps_the_gradient_orders_of_magnitude_above_the_rnn(forget_bias):
    init = Initialisation(scale=1.0, forget_bias=forget_bias, hidden_size=16, input_size=4)
    rnn = measure("rnn", steps=100, init=init, seeds=(0, 1))
    lstm = measure("lstm", steps=100, init=init, seeds=(0, 1))
    assert lstm.carry_bias == "+b_f"
    assert lstm.geometric_mean[100] > 1e3 * rnn.geometric_mean[100]
    assert lstm.rate > rnn.rate


def test_forget_bias_slows_the_decay():
    low = measure("lstm", steps=40, init=Initialisation(forget_bias=0.0, hidden_size=8, input_size=4), seeds=(0,))
    high = measure("lstm", steps=40, init=Initialisation(forget_bias=4.0, hidden_size=8, input_size=4), seeds=(0,))
    assert high.rate > low.rate + 0.1


@pytest.mark.parametrize(
    "name,biased",
    [
        ("lstm", "+b_f"),
        ("lstm-pytorch", "+b_if"),
        ("lstm-cifg", "-b_i"),
        ("lstm-peephole", "+b_f"),
        ("gru", "-b_z"),
        ("gru-pytorch", "+b_iz"),
        ("mgu", "-b_f"),
        ("lstm-1997", None),  # the carry is I: no gate to bias
        ("lstm-zhihu", None),  # no biases at all
        ("rnn", None),
    ],
)
def test_the_forget_bias_goes_to_the_gate_that_keeps_the_state(name, biased):
    f = flow(name)
    d = symrnn.derive(f.cell)
    params, carry_bias = init_params(f, d, Initialisation(forget_bias=2.5, hidden_size=3), np.random.default_rng(0))
    assert carry_bias == biased
    if biased:
        assert np.all(params[biased[1:]] == (2.5 if biased[0] == "+" else -2.5))


def test_fit_leaves_out_underflowed_norms():
    norms = np.array([1.0] + [0.5**d for d in range(1, 30)] + [0.0] * 10)
    scale, rate = fit(norms)
    assert rate == pytest.approx(0.5) and scale == pytest.approx(1.0)


def test_bad_measurement_settings_are_refused():
    with pytest.raises(ValueError, match="steps must be at least 2"):
        measure("rnn", steps=1)
    with pytest.raises(ValueError, match="scale must be a positive number"):
        Initialisation(scale=0.0)
    with pytest.raises(ValueError, match="at least one seed"):
        measure("rnn", steps=5, seeds=())


def test_flow_section_gives_latex_and_markdown():
    m = measure("gru", steps=10, init=Initialisation(hidden_size=4, input_size=2), seeds=(0,))
    latex, markdown = flow_section("gru", m)
    assert latex.startswith(r"\section*{Gradient flow}") and r"\operatorname{diag}\left(1 - z_{t}\right)" in latex
    assert markdown.startswith("## Gradient flow") and "```math" in markdown
    assert f"ρ = {m.rate:.3f}" in markdown and r"\rho = " in latex
    assert "‖" not in latex and "∂" not in latex  # pdflatex-safe: no raw Unicode math


# ---------------------------------------------------------------- the command


def run(*args):
    return CliRunner().invoke(main, ["flow", *args])


FAST = ("--steps", "12", "--hidden", "6", "--seeds", "2")


def test_cli_table_has_norms_by_distance_and_the_rate():
    result = run("rnn", "lstm", *FAST)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if line.split()[:1] == ["d"])
    assert header.split() == ["d", "rnn", "lstm"]
    assert [line.split()[0] for line in lines if line.strip()[:2] in ("0 ", "1 ", "2 ", "5 ")] == ["0", "1", "2", "5"]
    assert any(line.split()[0] == "12" for line in lines if line.strip())
    rate_line = next(line for line in lines if line.strip().startswith("rate ρ per step"))
    assert len(rate_line.split()) == 6 and all(0 < float(v) < 10 for v in rate_line.split()[-2:])
    assert "+b_f" in result.output and "S = 1" in result.output


def test_cli_json_holds_every_distance():
    result = run("gru", "lstm", *FAST, "--json", "--scale", "0.7", "--forget-bias", "2")
    data = json.loads(result.output, parse_constant=lambda name: pytest.fail(f"not JSON: {name}"))
    assert data["cells"][1]["bound"] is None  # the LSTM has no bound of Pascanu's form
    data["cells"] = data["cells"][:1]
    (cell,) = data["cells"]
    assert cell["cell"] == "gru" and cell["scale"] == 0.7 and cell["forget_bias"] == 2.0
    assert len(cell["norms"]) == 13 and cell["norms"][0] == 1.0
    assert cell["seeds"] == [0, 1] and cell["carry_bias"] == "-b_z"


def test_cli_plot_is_byte_identical_across_runs(tmp_path):
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    assert run("rnn", "gru", *FAST, "--plot", str(first)).exit_code == 0
    assert run("rnn", "gru", *FAST, "--plot", str(second)).exit_code == 0
    data = first.read_bytes()
    assert data == second.read_bytes()
    assert data.startswith(b"<?xml") and b"<dc:date>" not in data and data.count(b'<g id="axes_') == 2


def test_png_plot_is_reproducible_and_has_no_software_stamp():
    m = measure("rnn", steps=8, init=Initialisation(hidden_size=4, input_size=2), seeds=(0,))
    png = render([m], "png")
    assert png.startswith(b"\x89PNG") and png == render([m], "png")
    assert b"Software" not in png and b"matplotlib" not in png.lower()


@pytest.mark.parametrize(
    "args,message",
    [
        (("lsmt",), "unknown cell 'lsmt'; valid names: rnn"),
        (("rnn", "--scale", "0"), "--scale must be a positive number"),
        (("rnn", "--input-scale", "-1"), "--input-scale must be a number ≥ 0"),
        (("rnn", "--forget-bias", "nan"), "--forget-bias must be a finite number"),
        (("rnn", "--plot", "out.pdf"), "--plot needs a .png or .svg file name"),
        (("rnn", "--steps", "1"), "Invalid value for '--steps'"),
        ((), "Missing argument 'CELL...'"),
    ],
)
def test_cli_bad_input_exits_2_with_a_message(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_never_replaces_a_plot_without_force(tmp_path):
    path = tmp_path / "flow.svg"
    path.write_text("mine")
    result = run("rnn", *FAST, "--plot", str(path))
    assert result.exit_code == 2 and "exists; pass --force" in result.output
    assert path.read_text() == "mine"
    assert run("rnn", *FAST, "--plot", str(path), "--force").exit_code == 0
    assert path.read_bytes().startswith(b"<?xml")
