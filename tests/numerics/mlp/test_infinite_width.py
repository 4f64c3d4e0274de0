"""Infinite-width kernels: closed forms, the tabulated quadrature, the Hermite series, mpmath, Monte Carlo and empirical NTKs."""

import math

import numpy as np
import pytest
from scipy import special

from numerics import nngp, ntk
from numerics.mlp.infinite_width import (
    expectation,
    hermite_series,
    mehler_expectation,
    pair_expectation,
    phi,
    rho_table,
    self_expectation,
)
from verify.kernels import closed_error, map_error, mp_pair, series_error, unequal_error


def _sphere(n, d, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True) * math.sqrt(d)


def test_relu_depth_one_is_the_arc_cosine_kernel():
    X = np.random.default_rng(0).standard_normal((5, 3))
    K = nngp(X, depth=1, activation="relu", sigma_w=1.0, sigma_b=0.0)
    n = np.linalg.norm(X, axis=1)
    cos = np.clip(X @ X.T / np.outer(n, n), -1, 1)
    t = np.arccos(cos)
    np.testing.assert_allclose(K, np.outer(n, n) / 3 / (2 * np.pi) * (np.sin(t) + (np.pi - t) * cos), rtol=1e-13, atol=1e-15)


def test_linear_network_kernels_are_polynomials_of_the_input_kernel():
    X = np.random.default_rng(1).standard_normal((4, 2))
    K1 = 2.0 * X @ X.T / 2 + 0.25
    np.testing.assert_allclose(nngp(X, depth=2, activation="linear", sigma_w=math.sqrt(2), sigma_b=0.5),
                               2 * (2 * K1 + 0.25) + 0.25, rtol=1e-14)
    # Theta^{l+1} = K^{l+1} + sigma_w^2 Theta^l
    K2 = 2 * K1 + 0.25
    np.testing.assert_allclose(ntk(X, depth=1, activation="linear", sigma_w=math.sqrt(2), sigma_b=0.5), K2 + 2 * K1, rtol=1e-14)


@pytest.mark.parametrize("example", [("erf", 2.5, False, 3.0, 0.2, -0.9), ("erf", 0.7, True, 1.0, 1.0, 0.999)])
def test_erf_closed_form_matches_quadrature(example):
    assert closed_error(example) < 1e-10


@pytest.mark.slow  # mpmath
@pytest.mark.parametrize("example", [("relu", 1.0, False, 0.5, 2.0, 0.3), ("relu", 1.0, True, 1.0, 1.0, -0.999)])
def test_relu_closed_form_matches_mpmath(example):
    assert closed_error(example) < 1e-10


@pytest.mark.slow  # nested mpmath quadratures: minutes
@pytest.mark.parametrize("example", [("esp", 1.0, False, 1.0, 0.7), ("tanh", 2.0, True, 3.0, -0.95),
                                     ("sigmoid", 0.5, False, 0.1, 0.2)])
def test_tabulated_maps_match_mpmath(example):
    assert map_error(example) < 1e-10


@pytest.mark.slow
def test_mpmath_oracle_reproduces_a_closed_form():
    """The oracle itself: ReLU arc-cosine at q = 2, rho = 0.4."""
    t = math.acos(0.4)
    assert mp_pair("relu", 1.0, False, 2.0, 0.4) == pytest.approx(2 / (2 * math.pi) * (math.sin(t) + (math.pi - t) * 0.4), rel=1e-14)


def test_series_and_direct_quadrature_agree_for_unequal_variances():
    f = phi("tanh", 1.0)
    a, b = np.array([0.5, 2.0, 0.5]), np.array([1.5, 0.3, 0.5])
    C = np.array([[0.2, -0.1, 0.5], [0.9, 0.7, -1.0], [0.8, 0.38, 0.4999]])
    series = expectation("tanh", 1.0, False, a, b, C)
    A, B = np.meshgrid(a, b, indexing="ij")
    ref = pair_expectation(f, A.ravel(), B.ravel(), C.ravel()).reshape(3, 3)
    scale = np.sqrt(np.outer(self_expectation(f, a), self_expectation(f, b)))
    assert np.max(np.abs(series - ref) / scale) < 1e-11
    table = rho_table(lambda r: pair_expectation(f, np.ones(r.size), np.ones(r.size), r), 1.0)
    rho = np.linspace(-1, 1, 9)
    np.testing.assert_allclose(table(rho), pair_expectation(f, np.ones(9), np.ones(9), rho), atol=1e-11)


def test_hermite_series_of_the_cosine():
    """cos(sqrt(q) z) = e^{-q/2} sum_j (-q)^j He_2j(z) / (2j)!, and E[cos(u) cos(v)] = e^{-(a+b)/2} cosh(c) for
    (u, v) ~ N(0, [[a, c], [c, b]]): the coefficients (low orders, where the cutoff |z| = 9 of the rule is
    invisible) and Mehler's sum over unequal variances, correlations +-1 included."""
    q = np.array([0.5, 4.0])
    s = hermite_series(np.cos, q)
    k = np.arange(6)
    exact = np.where(k % 2 == 0, (-1.0) ** (k // 2), 0.0) * np.exp(-q[:, None] / 2 + k * np.log(q)[:, None] / 2
                                                                    - 0.5 * special.gammaln(k + 1))
    assert np.max(np.abs(s.coefficients[:, :6] - exact)) < 1e-14
    np.testing.assert_allclose(s.norms, (1 + np.exp(-2 * q)) / 2, rtol=1e-14)
    rng = np.random.default_rng(0)
    a, b, rho = rng.uniform(0.05, 6, 7), rng.uniform(0.05, 6, 6), rng.uniform(-1, 1, (7, 6))
    rho[0, 0], rho[1, 1] = 1.0, -1.0
    C = rho * np.sqrt(np.outer(a, b))
    scale = np.sqrt(np.outer(1 + np.exp(-2 * a), 1 + np.exp(-2 * b)) / 4)
    exact = np.exp(-(a[:, None] + b[None, :]) / 2) * np.cosh(C)
    assert np.max(np.abs(mehler_expectation(np.cos, a, b, C) - exact) / scale) < 1e-11


def test_unequal_norm_kernel_matches_the_per_entry_recursion():
    """nngp / ntk over inputs of different norms (series route) against the layer recursion with every entry
    integrated by the tensor quadrature, the diagonal included (correlation 1, a one-dimensional integral)."""
    X = np.random.default_rng(5).standard_normal((5, 3)) * np.array([[0.3], [1.0], [2.0], [0.7], [1.5]])
    sw, sb = 1.4, 0.1
    f, df = phi("esp", 1.0), phi("esp", 1.0, True)
    K = sw**2 * X @ X.T / 3 + sb**2
    T = K.copy()
    for _ in range(2):
        d = np.diag(K).copy()
        A, B = np.meshgrid(d, d, indexing="ij")
        T = sw**2 * pair_expectation(df, A.ravel(), B.ravel(), K.ravel()).reshape(K.shape) * T
        K = sw**2 * pair_expectation(f, A.ravel(), B.ravel(), K.ravel()).reshape(K.shape) + sb**2
        T += K
    kw = dict(depth=2, activation="esp", sigma_w=sw, sigma_b=sb)
    np.testing.assert_allclose(nngp(X, **kw), K, rtol=1e-11, atol=1e-12 * np.abs(K).max())
    np.testing.assert_allclose(ntk(X, **kw), T, rtol=1e-11, atol=1e-12 * np.abs(T).max())


@pytest.mark.parametrize("example", [(1.0, False, 0), (2.5, True, 1)])
def test_series_route_matches_the_erf_closed_form(example):
    assert series_error(example) < 1e-10


@pytest.mark.slow  # nested mpmath quadratures: minutes
@pytest.mark.parametrize("example", [("esp", 1.0, False, 6.0, 0.3, 0.999), ("sigmoid", 0.5, True, 0.1, 2.0, -0.4)])
def test_series_maps_match_mpmath(example):
    assert unequal_error(example) < 1e-10


def test_self_expectation_of_erf():
    a = np.array([0.1, 1.0, 10.0])
    np.testing.assert_allclose(self_expectation(phi("erf", 1.0), a), 2 / np.pi * np.arcsin(2 * a / (1 + 2 * a)), rtol=1e-13)


@pytest.mark.parametrize("scales", [None, (0.5, 1.0, 2.0, 1.3, 0.8, 1.7)])  # equal norms (table), unequal (series)
def test_kernel_shapes_and_cross_kernels(scales):
    X1, X2 = _sphere(4, 3), _sphere(2, 3, seed=1)
    if scales is not None:
        X1, X2 = X1 * np.array(scales[:4])[:, None], X2 * np.array(scales[4:])[:, None]
    K = nngp(X1, X2, depth=2, activation="esp", sigma_w=1.4, sigma_b=0.1)
    assert K.shape == (4, 2)
    full = nngp(np.vstack([X1, X2]), depth=2, activation="esp", sigma_w=1.4, sigma_b=0.1)
    np.testing.assert_allclose(K, full[:4, 4:], rtol=1e-12)
    np.testing.assert_allclose(full, full.T, rtol=1e-13)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"depth": -1}, ValueError, "depth"), ({"activation": "gelu"}, ValueError, "activation"),
    ({"sigma_w": -1.0}, ValueError, "sigma_w"), ({"sigma_b": math.inf}, ValueError, "sigma_b"),
    ({"beta": "x"}, TypeError, "beta"),
])
def test_bad_arguments(kwargs, error, match):
    args = dict(depth=1, activation="relu", sigma_w=1.0, sigma_b=0.0) | kwargs
    with pytest.raises(error, match=match):
        nngp(np.ones((2, 2)), **args)


def test_bad_inputs_and_sign_ntk():
    with pytest.raises(ValueError, match="X1"):
        nngp(np.ones(3), depth=1, activation="relu", sigma_w=1.0, sigma_b=0.0)
    with pytest.raises(ValueError, match="features"):
        nngp(np.ones((2, 2)), np.ones((2, 3)), depth=1, activation="relu", sigma_w=1.0, sigma_b=0.0)
    with pytest.raises(ValueError, match="sign"):
        ntk(np.ones((2, 2)), depth=1, activation="sign", sigma_w=1.0, sigma_b=0.0)
    assert np.all(np.isfinite(nngp(np.ones((2, 2)), depth=1, activation="sign", sigma_w=1.0, sigma_b=0.0)))
