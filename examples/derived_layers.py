"""A cell of your own, derived by symrnn, used as a layer in NumPy, PyTorch and (if installed) JAX.

    python examples/derived_layers.py

1. writes a cell (an IndRNN-style recurrence with a vector recurrent weight u ⊙ h) and prints
   its BPTT in layer form: δh_t = Δ_t + …, the input gradient δx_t, the parameter gradients;
2. trains it in NumPy on the adding problem (ragged lengths, loss at each sequence's last
   step) with Adam, against the mean predictor;
3. puts the same cell in a PyTorch model (encoder → derived layer → head) trained with
   torch.optim; the layer's backward is the derived one, and the encoder gets its gradients;
4. checks the JAX function's gradients with ``jax.test_util.check_grads`` (when JAX is there).
"""

from __future__ import annotations

import numpy as np

import symrnn
from symrnn import Cell
from symrnn.activations import relu, tanh
from symrnn.ir import HIDDEN, INPUT
from symrnn.layers import Layer, derive_layer
from symrnn.layers.loss import loss_and_grads


def my_cell() -> Cell:
    cell = Cell("indrnn-tanh", source="after Li et al. 2018 (IndRNN)", convention="h_t = tanh(W x_t + u ⊙ h_{t-1} + b)")
    x, h = cell.input("x"), cell.state("h")
    W, u, b = cell.weight("W", HIDDEN, INPUT), cell.param("u", HIDDEN, 1), cell.bias("b")
    a = cell.let("a", relu(W @ x + b))
    cell.let("h", tanh(a + u * h))
    return cell


def adding_batch(rng, n=64, longest=12):
    lengths = rng.integers(5, longest + 1, n)
    xs = np.zeros((longest, n, 2))
    xs[:, :, 0] = rng.uniform(0, 1, (longest, n))
    for k, length in enumerate(lengths):
        xs[rng.choice(length, 2, replace=False), k, 1] = 1
    ys = (xs[:, :, 0] * xs[:, :, 1]).sum(axis=0)[:, None]
    return xs, ys, (np.arange(longest)[:, None] < lengths[None, :]).astype(float)


def train_numpy(cell, steps=300):
    rng = np.random.default_rng(0)
    layer, hidden = Layer(cell), 16
    params = {
        "W": rng.uniform(-0.5, 0.5, (hidden, 2)),
        "b": np.zeros(hidden),
        "u": rng.uniform(0, 1, hidden),
        "W_y": rng.uniform(-0.25, 0.25, (1, hidden)),
        "b_y": np.zeros(1),
    }
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(v) for k, v in params.items()}
    for step in range(1, steps + 1):
        xs, ys, mask = adding_batch(rng)
        _, grads = loss_and_grads(layer, params, xs, ys, mask, loss="mse", at="last", reduction="mean")
        for k in params:  # Adam
            m[k] = 0.9 * m[k] + 0.1 * grads[k]
            v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
            params[k] -= 0.01 * (m[k] / (1 - 0.9**step)) / (np.sqrt(v[k] / (1 - 0.999**step)) + 1e-8)
    xs, ys, mask = adding_batch(rng, 1000)
    J, _ = loss_and_grads(layer, params, xs, ys, mask, loss="mse", at="last", reduction="mean")
    print(f"NumPy, adding problem: loss {J:.4f} after {steps} Adam steps; mean predictor {0.5 * ys.var():.4f}")


def train_torch(cell, steps=300):
    import torch

    from symrnn.layers.torch_layer import torch_module

    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    model = torch.nn.ModuleDict(
        {
            "encoder": torch.nn.Linear(2, 8).double(),
            "rnn": torch_module(cell, input_size=8, hidden_size=16, dtype=torch.float64),
            "head": torch.nn.Linear(16, 1).double(),
        }
    )
    optimiser = torch.optim.Adam(model.parameters(), lr=0.03)

    def loss_of(xs, ys, mask):
        _, final = model["rnn"](model["encoder"](xs), mask=mask)
        return 0.5 * ((model["head"](final["h"]) - ys) ** 2).mean()

    for _ in range(steps):
        loss = loss_of(*(torch.tensor(a) for a in adding_batch(rng)))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert model["encoder"].weight.grad is not None  # gradients reach what is upstream of the layer
    xs, ys, mask = (torch.tensor(a) for a in adding_batch(rng, 1000))
    with torch.no_grad():
        loss = loss_of(xs, ys, mask).item()
    print(
        f"PyTorch, encoder → derived layer → head: loss {loss:.4f} after {steps} torch.optim.Adam steps; "
        f"mean predictor {0.5 * ys.var().item():.4f}"
    )


def check_jax(cell):
    try:
        import jax
        import jax.numpy as jnp
        from jax.test_util import check_grads
    except ImportError:
        print('JAX: not installed (pip install ".[jax]"); skipped')
        return
    jax.config.update("jax_enable_x64", True)
    from symrnn.layers.jax_layer import jax_function

    fn = jax_function(cell)
    rng = np.random.default_rng(2)
    params = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(4), "u": rng.standard_normal(4)}
    xs, h0 = rng.standard_normal((6, 2, 3)), {"h": rng.standard_normal((2, 4))}
    as_jax = lambda d: {k: jnp.asarray(a) for k, a in d.items()}  # noqa: E731
    check_grads(jax.jit(fn), (as_jax(params), jnp.asarray(xs), as_jax(h0)), order=1, modes=["rev"])
    print("JAX: jax.custom_vjp with the derived backward passes check_grads (reverse mode, under jit)")


if __name__ == "__main__":
    cell = my_cell()
    print(derive_layer(cell).text())
    train_numpy(cell)
    train_torch(cell)
    check_jax(cell)
    assert symrnn.derive(cell).layer() is not None
