"""‖∂L_T/∂s_k‖ by distance T - k, measured with the generated BPTT code, and its geometric rate.

The setting, stated once:

* Initialisation: every weight matrix has entries N(0, S²/n_cols) (S = ``scale``, the
  gain: W_hh has spectral radius ≈ S), column parameters (biases, peepholes) are 0,
  except that the gate which keeps the previous state — found in the carry path of
  the Jacobian: f in diag(f_t), z in diag(z_t), z in diag(1 - z_t) — gets bias +B, +B
  or -B (B = ``forget_bias``), so the carry is biased open by B in every cell that
  has one.  A cell with two biases per gate gets B on the first.
* Inputs x_t ~ N(0, σ_x²) (σ_x = ``input_scale``); s_0 = 0; ``burn_in`` steps run before step 1 of the window.
* The loss is L_T only: the readout is ŷ_t = softmax(uᵀ s_t) over one output, which
  is exactly 1, so with targets y_t = 1 every δȳ_t = ŷ_t - y_t is exactly 0, and
  y_T = 0 seeds δȳ_T = 1, ∂L_T/∂h_T = u (a random unit vector).
* Batched calls of the generated ``loss_and_grads``: batch element k starts at s_k
  (k = 0 … T-1, from ``forward``), runs x_{k+1} … x_T and then padding with zero loss
  gradient, so its ``grads["<state>_0"]`` is ∂L_T/∂s_k, for many k at once.

The same norms follow from the symbolic Jacobian, ∂L_T/∂s_k = (J_T ⋯ J_{k+1})ᵀ ∂L_T/∂s_T
with J_t evaluated along the trajectory (``predicted``): the two agree to rounding.
The fitted rate ρ is exp of the least-squares slope of log ‖∂L_T/∂s_k‖ against T - k.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from symrnn import ir
from symrnn.gradient_flow.bound import bound as flow_bound
from symrnn.gradient_flow.evaluate import state_jacobian, step_env
from symrnn.gradient_flow.jacobian import Flow, flow
from symrnn.ir import Node


@dataclass(frozen=True)
class Initialisation:
    """Random parameters for a measurement; see the module docstring.

    Attributes:
        scale: S, the gain: weight entries are N(0, S²/n_cols).
        forget_bias: B, the bias that opens the gate keeping the previous state.
        input_scale: σ_x, the standard deviation of the inputs (a weak drive lets large weights explode).
        hidden_size, input_size: the sizes of h and x.
        burn_in: steps run from s_0 = 0 before the measured window.
    """

    scale: float = 1.0
    forget_bias: float = 1.0
    input_scale: float = 1.0
    hidden_size: int = 32
    input_size: int = 8
    burn_in: int = 20

    def __post_init__(self):
        for name in ("hidden_size", "input_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not self.scale > 0 or not np.isfinite(self.scale):
            raise ValueError(f"scale must be a positive number, got {self.scale!r}")
        if not self.input_scale >= 0 or not np.isfinite(self.input_scale):
            raise ValueError(f"input_scale must be a number ≥ 0, got {self.input_scale!r}")
        if not np.isfinite(self.forget_bias):
            raise ValueError(f"forget_bias must be a finite number, got {self.forget_bias!r}")
        if int(self.burn_in) < 0:
            raise ValueError(f"burn_in must be ≥ 0, got {self.burn_in!r}")

    def describe(self, latex: bool = False) -> str:
        """The initialisation in one clause, as text or as LaTeX with inline math."""
        if latex:
            return (
                rf"weights $\mathcal{{N}}(0, S^2/n_\mathrm{{cols}})$ with $S = {self.scale:g}$, biases 0, carry-gate "
                rf"bias $B = {self.forget_bias:g}$; hidden {self.hidden_size}, input {self.input_size}, "
                rf"$x_t \sim \mathcal{{N}}(0, {self.input_scale:g}^2)$, $s_0 = 0$, burn-in {self.burn_in}"
            )
        return (
            f"weights N(0, S²/n_cols) with S = {self.scale:g}, biases 0, carry-gate bias B = {self.forget_bias:g}; "
            f"hidden {self.hidden_size}, input {self.input_size}, x_t ~ N(0, {self.input_scale:g}²), s_0 = 0, "
            f"burn-in {self.burn_in}"
        )


@dataclass
class Measurement:
    """The gradient norms of one cell over seeds.

    Attributes:
        cell: the cell's name.
        init: the initialisation.
        steps: T, the window length.
        seeds: the seeds of ``numpy.random.default_rng``, one parameter draw each.
        carry_bias: the parameter given the carry-gate bias with its sign (``"+b_f"``), or None.
        norms: (seeds, T + 1): ‖∂L_T/∂s_{T-d}‖ for d = 0 … T, from the generated code.
        predicted: the same from the product of the evaluated symbolic Jacobians.
        one_step: (seeds, T): ‖∂s_t/∂s_{t-1}‖₂ along the window.
        bounds: (seeds,): the bound of ``Flow.bound()`` on ‖∂s_t/∂s_{t-1}‖ (∞ where none applies).
    """

    cell: str
    init: Initialisation
    steps: int
    seeds: tuple[int, ...]
    carry_bias: str | None
    norms: np.ndarray
    predicted: np.ndarray
    one_step: np.ndarray
    bounds: np.ndarray
    distances: np.ndarray = field(init=False)

    def __post_init__(self):
        self.distances = np.arange(self.steps + 1)

    @property
    def geometric_mean(self) -> np.ndarray:
        """exp(mean over seeds of log ‖∂L_T/∂s_{T-d}‖), d = 0 … T."""
        return np.exp(np.mean(np.log(np.maximum(self.norms, np.finfo(float).tiny)), axis=0))

    @property
    def rate(self) -> float:
        """ρ fitted to the geometric mean over seeds: ‖∂L_T/∂s_{T-d}‖ ≈ C ρ^d."""
        return fit_rate(self.geometric_mean)

    @property
    def rates(self) -> list[float]:
        """ρ fitted per seed."""
        return [fit_rate(n) for n in self.norms]

    @property
    def predicted_rate(self) -> float:
        """ρ fitted to the norms the symbolic Jacobians give."""
        return fit_rate(np.exp(np.mean(np.log(np.maximum(self.predicted, np.finfo(float).tiny)), axis=0)))

    @property
    def one_step_mean(self) -> float:
        """The geometric mean of ‖∂s_t/∂s_{t-1}‖₂: ρ cannot exceed it (‖Π J‖ ≤ Π ‖J‖)."""
        return float(np.exp(np.mean(np.log(self.one_step))))

    def to_json(self) -> dict:
        return {
            "cell": self.cell,
            "scale": self.init.scale,
            "forget_bias": self.init.forget_bias,
            "input_scale": self.init.input_scale,
            "carry_bias": self.carry_bias,
            "hidden_size": self.init.hidden_size,
            "input_size": self.init.input_size,
            "burn_in": self.init.burn_in,
            "steps": self.steps,
            "seeds": list(self.seeds),
            "rate": self.rate,
            "rates": self.rates,
            "predicted_rate": self.predicted_rate,
            "one_step_norm": self.one_step_mean,
            "bound": _finite_or_none(float(np.max(self.bounds))),  # JSON has no ∞: null where no bound applies
            "norms": self.geometric_mean.tolist(),
        }


def _finite_or_none(x: float) -> float | None:
    return x if np.isfinite(x) else None


def fit(norms: np.ndarray) -> tuple[float, float]:
    """(C, ρ) of the least-squares line log norms[d] ≈ log C + d log ρ over d = 1 … T.

    Norms that underflowed (below the smallest normal float) are left out: they carry no rate.
    """
    d = np.arange(len(norms))[1:]
    y = np.asarray(norms[1:], dtype=float)
    keep = y > np.finfo(float).tiny
    if keep.sum() < 2:
        return 0.0, 0.0
    slope, intercept = np.polyfit(d[keep], np.log(y[keep]), 1)
    return float(np.exp(intercept)), float(np.exp(slope))


def fit_rate(norms: np.ndarray) -> float:
    """ρ, the geometric rate per step fitted to norms[d], d = 1 … T."""
    return fit(norms)[1]


# ---------------------------------------------------------------- parameters


def _carry_gate(f: Flow) -> tuple[str, int] | None:
    """(gate, sign): the value whose opening keeps the state, from the first carry path."""

    def find(v: Node):
        if v.op == "var" and v.kind == ir.VALUE:
            return v.name, 1
        if v.op == "one_minus" and v.args[0].op == "var":
            return v.args[0].name, -1
        if v.op == "add":
            return find(v.args[1]) or find(v.args[0])  # f_t is the last term of a peephole carry
        return None

    for _, path in f.carries():
        if len(path.factors) == 1 and path.factors[0].op == "diag":
            found = find(path.factors[0].args[0])
            if found:
                return found
    return None


def _gate_bias(f: Flow, gate: str) -> str | None:
    """The first column parameter added in the gate's pre-activation (b_f in σ(W_hf h + W_xf x + b_f))."""
    by_name = {eq.lhs.name: eq.rhs for eq in f.equations}
    pre = by_name[gate]
    if pre.op == "apply" and pre.args[0].op == "var":
        pre = by_name.get(pre.args[0].name, pre)

    def addends(n: Node):
        if n.op == "add":
            return addends(n.args[0]) + addends(n.args[1])
        return addends(n.args[0]) if n.op == "broadcast" else [n]

    for n in addends(pre):
        if n.op == "var" and n.kind == ir.PARAM and n.is_column:
            return n.name
    return None


def init_params(f: Flow, derivation, init: Initialisation, rng: np.random.Generator) -> tuple[dict, str | None]:
    """(params, carry_bias): weights N(0, S²/n_cols), column parameters 0, the carry gate's bias ±B.

    The readout weight is a random unit row u (one output) and its bias 0: see the module docstring.
    """
    sizes = {ir.HIDDEN: init.hidden_size, ir.INPUT: init.input_size, ir.OUTPUT: 1}
    params = {}
    for name, node in derivation.params.items():
        rows, cols = (int(s.subs(sizes)) for s in node.shape)
        if node.is_column:
            params[name] = np.zeros(rows)
        else:
            params[name] = rng.normal(0.0, init.scale / np.sqrt(cols), (rows, cols))
    readout = f.cell.readout_weight
    if readout is None:
        raise ValueError(f"cell {f.cell.name}: measuring gradient flow needs a readout weight")
    u = rng.standard_normal(params[readout].shape)
    params[readout] = u / np.linalg.norm(u)
    carry_bias = None
    gate = _carry_gate(f)
    bias = _gate_bias(f, gate[0]) if gate else None
    if bias is not None:
        params[bias] = params[bias] + gate[1] * init.forget_bias
        carry_bias = f"{'+' if gate[1] > 0 else '-'}{bias}"
    return params, carry_bias


# ---------------------------------------------------------------- one seed


CHUNK = 64  # batch elements per call: memory O(T · CHUNK · size), not O(T²)


def _window_problem(values: dict, states: list[str], xs: np.ndarray, burn_in: int, steps: int, ks: range):
    """Batch element k ∈ ks: start at s_{burn_in + k}, run the inputs from k on, seed the loss at T only.

    Sequences are padded to the longest (T - ks[0] steps); padded steps have zero loss gradient.
    """
    T, length = steps, steps - ks[0]
    batch_xs = np.zeros((length, len(ks), xs.shape[2]))
    ys = np.ones((length, len(ks), 1))
    initial = {}
    for s in states:
        tape = values[s][:, 0, :]  # (burn_in + T, size); tape[j] is s_{j+1}
        start = np.vstack([np.zeros((1, tape.shape[1])), tape])  # start[j] = s_j
        initial[s] = start[burn_in + ks[0] : burn_in + ks[-1] + 1]
    for column, k in enumerate(ks):
        batch_xs[: T - k, column, :] = xs[burn_in + k : burn_in + T, 0, :]
        ys[T - k - 1, column, 0] = 0.0  # L_T is this element's step T - k
    return batch_xs, ys, initial


def _generated_norms(module, params, values, states, xs, burn_in: int, steps: int) -> np.ndarray:
    """‖∂L_T/∂s_k‖ for k = 0 … T-1 from the generated ``loss_and_grads``, CHUNK elements per call."""
    out = []
    for first in range(0, steps, CHUNK):
        ks = range(first, min(first + CHUNK, steps))
        batch_xs, ys, initial = _window_problem(values, states, xs, burn_in, steps, ks)
        _, grads = module.loss_and_grads(params, batch_xs, ys, initial)
        out.append(np.sqrt(sum(np.sum(grads[f"{s}_0"] ** 2, axis=1) for s in states)))
    return np.concatenate(out)


def measure_seed(f: Flow, derivation, module, init: Initialisation, steps: int, seed: int, bound=None) -> dict:
    """Norms by distance for one parameter draw: generated code, symbolic Jacobians, one-step norms, bound."""
    rng = np.random.default_rng(seed)
    params, carry_bias = init_params(f, derivation, init, rng)
    states = f.states
    total = init.burn_in + steps
    xs = init.input_scale * rng.standard_normal((total, 1, init.input_size))
    sizes = {ir.HIDDEN: init.hidden_size, ir.INPUT: init.input_size, ir.OUTPUT: 1}
    widths = {s: int(f.cell.states[s].shape[0].subs(sizes)) for s in states}
    zero = {s: np.zeros((1, widths[s])) for s in states}
    values = module.forward(params, xs, zero)

    by_k = _generated_norms(module, params, values, states, xs, init.burn_in, steps)  # k = 0 … T-1
    norms = np.concatenate([[1.0], by_k[::-1]])  # d = T - k; d = 0 is ‖u‖ = 1

    # The same from the symbolic Jacobians, J_t at t = burn_in + 1 … burn_in + T.
    seed_vector = np.concatenate(
        [params[f.cell.readout_weight][0] if s == f.cell.readout_state else np.zeros(widths[s]) for s in states]
    )
    v, predicted, one_step = seed_vector, [1.0], []
    for t in range(total - 1, init.burn_in - 1, -1):
        J = state_jacobian(f, params, step_env(f, values, zero, t, xs), sizes)[0]
        one_step.append(np.linalg.norm(J, 2))
        v = J.T @ v
        predicted.append(np.linalg.norm(v))
    return {
        "norms": norms,
        "predicted": np.array(predicted),
        "one_step": np.array(one_step[::-1]),
        "bound": (bound or flow_bound(f)).value(params, sizes),
        "carry_bias": carry_bias,
    }


def measure(cell, *, steps: int = 100, init: Initialisation | None = None, seeds=(0, 1, 2)) -> Measurement:
    """‖∂L_T/∂s_{T-d}‖ for d = 0 … T over ``seeds``, with the generated code of ``symrnn.derive(cell)``.

    Args:
        cell: a catalogue name or a :class:`~symrnn.cellspec.Cell`.
        steps: T, the distance covered (≥ 2).
        init: the :class:`Initialisation` (default: S = 1, B = 1, hidden 32, input 8).
        seeds: one parameter draw per seed.

    Returns:
        A :class:`Measurement`; ``.rate`` is the fitted geometric rate per step.

    Raises:
        ValueError: steps < 2, no seeds, or a cell without a readout weight.
    """
    from symrnn.bptt import derive
    from symrnn.codegen.numpy_module import compile_module

    if int(steps) < 2:
        raise ValueError(f"steps must be at least 2, got {steps!r}")
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("at least one seed is needed")
    init = init or Initialisation()
    f = flow(cell)
    derivation = derive(f.cell, "softmax_ce")
    module = compile_module(derivation)
    pascanu = flow_bound(f)
    runs = [measure_seed(f, derivation, module, init, int(steps), s, pascanu) for s in seeds]
    return Measurement(
        cell=f.cell.name,
        init=init,
        steps=int(steps),
        seeds=seeds,
        carry_bias=runs[0]["carry_bias"],
        norms=np.array([r["norms"] for r in runs]),
        predicted=np.array([r["predicted"] for r in runs]),
        one_step=np.array([r["one_step"] for r in runs]),
        bounds=np.array([r["bound"] for r in runs]),
    )
