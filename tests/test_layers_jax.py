"""Derived cells as JAX functions (issue 15): jax.custom_vjp with the derived BPTT, under jit."""

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason='JAX is an optional extra: pip install ".[jax]"')
import jax.numpy as jnp  # noqa: E402
from jax.test_util import check_grads  # noqa: E402

import symrnn  # noqa: E402
from symrnn.layers.jax_layer import jax_function  # noqa: E402
from tests.layers.layer_reference import vjp  # noqa: E402

T, B, X, H = 5, 3, 3, 4
MASK = (np.arange(T)[:, None] < np.array([5, 3, 1])[None, :]).astype(np.float64)


@pytest.fixture(autouse=True, scope="module")
def _float64():
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


def _problem(name, seed=0):
    rng = np.random.default_rng(seed)
    d = symrnn.derive(name)
    params = {k: v for k, v in d.init_params(hidden_size=H, input_size=X, output_size=2, seed=1).items()}
    params = {k: v for k, v in params.items() if k in d.cell.params}
    xs = rng.standard_normal((T, B, X))
    initial = {s: 0.5 * rng.standard_normal((B, H)) for s in d.cell.states}
    return rng, params, xs, initial


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("masked,reverse", [(False, False), (True, False), (True, True)])
def test_jit_gradients_equal_torch_autograd_of_the_papers_equations(name, masked, reverse):
    rng, params, xs, initial = _problem(name)
    fn = jax_function(name, reverse=reverse)
    mask = jnp.asarray(MASK) if masked else None
    to_jax = lambda d: {k: jnp.asarray(v) for k, v in d.items()}  # noqa: E731
    out, final = jax.jit(fn)(to_jax(params), jnp.asarray(xs), to_jax(initial), mask)
    delta = rng.standard_normal(out.shape)
    delta_final = {s: rng.standard_normal(v.shape) for s, v in final.items()}

    def J(p, x, s0):
        o, f = fn(p, x, s0, mask)
        return (o * delta).sum() + sum((f[s] * delta_final[s]).sum() for s in f)

    g_params, g_xs, g_initial = jax.jit(jax.grad(J, argnums=(0, 1, 2)))(
        to_jax(params), jnp.asarray(xs), to_jax(initial)
    )
    ref_out, _, want = vjp(name, params, xs, initial, delta, delta_final, MASK if masked else None, reverse)
    np.testing.assert_allclose(out, ref_out, rtol=1e-12, atol=1e-14)
    got = {**g_params, "xs": g_xs, **{f"{s}_0": v for s, v in g_initial.items()}}
    for k in want:
        np.testing.assert_allclose(np.asarray(got[k]), want[k], rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_check_grads_in_reverse_mode(name):
    _, params, xs, initial = _problem(name, 1)
    fn = jax_function(name)
    args = (
        {k: jnp.asarray(v) for k, v in params.items()},
        jnp.asarray(xs),
        {k: jnp.asarray(v) for k, v in initial.items()},
    )
    check_grads(lambda p, x, s0: fn(p, x, s0, jnp.asarray(MASK)), args, order=1, modes=["rev"])


def test_the_derivation_method_and_bad_inputs():
    fn = symrnn.derive("gru").jax_function()
    _, params, xs, _ = _problem("gru")
    p = {k: jnp.asarray(v) for k, v in params.items()}
    with pytest.raises(ValueError, match=r"parameter 'W_hh' has shape \(4, 3\); expected \(hidden_size, hidden_size\)"):
        fn(dict(p, W_hh=jnp.zeros((H, X))), jnp.asarray(xs))
    with pytest.raises(ValueError, match=r"mask must have shape \(T, batch\) = \(5, 3\)"):
        fn(p, jnp.asarray(xs), mask=jnp.ones((3, 5)))
    with pytest.raises(ValueError, match="mask entries must be 0 or 1"):
        fn(p, jnp.asarray(xs), mask=jnp.full((T, B), 0.5))
    out, final = fn(p, jnp.asarray(xs))
    assert out.shape == (T, B, H) and final["h"].shape == (B, H)
