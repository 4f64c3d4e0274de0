"""numerics.simulate.kernels: the Monte Carlo kernels within their standard errors; one network's NTK against JAX."""

import numpy as np
import pytest

from numerics import simulate_kernel
from verify.kernels import simulation_error


@pytest.mark.parametrize("example", [("esp", "ntk", 1, 1.4, 0.3, 0), ("tanh", "nngp", 1, 2.0, 0.0, 1),
                                     ("relu", "ntk", 0, 0.8, 0.3, 2)])
def test_monte_carlo_within_four_standard_errors(example):
    assert simulation_error(example) <= 1.0


def test_empirical_ntk_of_one_network_is_its_jacobian_gram():
    """simulate_kernel's per-network NTK (closed-form back-propagation) against J J^T from jax.jacfwd."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    X = np.random.default_rng(3).standard_normal((3, 2))
    sw, sb, width, depth = 1.3, 0.4, 5, 2
    mc = simulate_kernel(X, depth=depth, activation="tanh", sigma_w=sw, sigma_b=sb, width=width, networks=2, seed=7,
                         kernel="ntk")
    # rebuild the two networks' draws in the same order as simulate_kernel
    samples = []
    for s in np.random.SeedSequence(7).spawn(2):
        rng = np.random.default_rng(s)
        params, fan_in = [], X.shape[1]
        for _ in range(depth):
            params.append((rng.standard_normal((fan_in, width)), rng.standard_normal(width)))
            fan_in = width
        params.append((rng.standard_normal(width), np.zeros(1)))

        def f(p, x):
            a = x
            for W, b in p[:-1]:
                a = jnp.tanh(sw * a @ W / jnp.sqrt(a.shape[0]) + sb * b)
            return sw * a @ p[-1][0] / jnp.sqrt(width) + sb * p[-1][1][0]

        J = [jnp.concatenate([g.ravel() for g in jax.tree_util.tree_leaves(jax.jacfwd(f)(params, x))]) for x in X]
        J = np.array(J)
        samples.append(J @ J.T)
    np.testing.assert_allclose(mc.mean, np.mean(samples, axis=0), rtol=1e-12)
