"""Spectra, alpha/gamma under the three zero policies, residuals, localization, Lanczos and SLQ.

References: matrices built from chosen eigenvalues and a random rotation,
hand-counted index values, Gauss quadrature's exactness for polynomials of
degree < 2k, closed-form W1 distances, and Hutchinson's estimator error.
"""

import math

import numpy as np
import pytest

from numerics.spectrum import (
    EPS, all_indices, coefficients, decoupled, gauss_quadrature, indices, ipr, lanczos, lanczos_extremes,
    residual_fraction, slq, spectrum, wasserstein, zero_threshold,
)


def _rotated(eigenvalues, seed=0):
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(eigenvalues),) * 2))
    return (Q * eigenvalues) @ Q.T, Q


def test_spectrum_recovers_chosen_eigenvalues():
    lam = np.array([-3.0, -0.5, 1e-3, 2.0, 7.0])
    H, Q = _rotated(lam)
    H = (H + H.T) / 2
    s = spectrum(H)
    np.testing.assert_allclose(s.eigenvalues, lam, atol=1e-14 * 7)
    V = s.eigenvectors
    np.testing.assert_allclose(V.T @ V, np.eye(5), atol=1e-14)
    np.testing.assert_allclose(np.abs(V.T @ Q), np.eye(5), atol=1e-12)  # same vectors up to sign
    big = np.argmax(np.abs(V), axis=0)
    assert np.all(V[big, np.arange(5)] > 0)  # sign convention


def test_decoupled_parameters_give_exact_zeros():
    H, _ = _rotated(np.array([-1.0, 0.5, 2.0, 3.0]))
    H = (H + H.T) / 2
    full = np.zeros((6, 6))
    keep = [0, 2, 3, 5]
    full[np.ix_(keep, keep)] = H
    assert list(decoupled(full)) == [1, 4]
    s = spectrum(full)
    assert np.sum(s.eigenvalues == 0.0) == 2
    np.testing.assert_allclose(np.sort(s.eigenvalues[s.eigenvalues != 0]), [-1.0, 0.5, 2.0, 3.0], atol=1e-14)
    zero_vectors = s.eigenvectors[:, s.eigenvalues == 0.0]
    assert sorted(np.flatnonzero(np.abs(zero_vectors).sum(axis=1))) == [1, 4]
    np.testing.assert_allclose(full @ s.eigenvectors, s.eigenvectors * s.eigenvalues, atol=1e-14)
    np.testing.assert_allclose(spectrum(full, vectors=False).eigenvalues, s.eigenvalues, atol=1e-14)
    assert spectrum(np.zeros((3, 3))).eigenvalues.tolist() == [0.0, 0.0, 0.0]


def test_indices_under_each_policy():
    lam = np.array([-2.0, -1e-9, -1e-15, 0.0, 0.0, 1e-13, 1e-11, 3.0])
    # exact: negative = 3 of 8, zero = 2 of 8
    assert indices(lam, "exact") == (3 / 8, 2 / 8)
    # relative, default tol = P eps: threshold 8 * eps * 3 = 5.3e-15 -> only -1e-15 and the two zeros are zero
    t = zero_threshold(lam, "relative")
    assert t == pytest.approx(8 * EPS * 3.0)
    assert indices(lam, "relative") == (2 / 8, 3 / 8)
    assert indices(lam, "relative", 1e-10) == (2 / 8, 5 / 8)  # threshold 3e-10: -1e-9 stays negative
    assert indices(lam, "relative", 1e-9) == (1 / 8, 6 / 8)  # threshold 3e-9: it is zero
    # absolute, default 1e-10: -1e-9 stays negative, 1e-11 and smaller are zero
    assert indices(lam, "absolute") == (2 / 8, 5 / 8)
    assert indices(lam, "absolute", 0.0) == (3 / 8, 2 / 8)
    out = all_indices(lam, atol=1e-8)
    assert out["alpha"] == {"exact": 3 / 8, "relative": 2 / 8, "absolute": 1 / 8}
    assert out["gamma"]["absolute"] == 6 / 8
    assert out["threshold"]["absolute"] == 1e-8


def test_weighted_indices():
    assert indices([-1.0, 0.0, 2.0], "exact", weights=[0.5, 0.25, 0.25]) == (0.5, 0.25)


def test_residual_fraction_and_localization():
    assert residual_fraction([[0.0], [0.005], [-0.02], [0.5]], 0.01) == 0.5
    assert residual_fraction(np.array([1e-3, -1e-3]), 0.0) == 0.0
    V = np.eye(4)
    np.testing.assert_allclose(ipr(V), 1.0)
    np.testing.assert_allclose(ipr(np.full((4, 1), 0.5)), 0.25)  # spread evenly: 1/P
    W = np.array([[0.6, -0.8], [0.8, 0.6]])
    np.testing.assert_array_equal(coefficients(W), np.abs(W.T))


@pytest.mark.parametrize("call", [
    lambda: indices([1.0], "nearest"),
    lambda: indices([1.0], "absolute", -1e-3),
    lambda: zero_threshold([1.0], "relative", math.inf),
    lambda: residual_fraction([0.1], -0.5),
    lambda: spectrum(np.array([[1.0, 2.0], [0.0, 1.0]])),
    lambda: spectrum(np.ones((2, 3))),
    lambda: spectrum(np.array([[np.nan]])),
    lambda: indices([], "exact"),
    lambda: lanczos(lambda v: v, np.zeros(3), 2),
    lambda: slq(lambda v: v, 3, steps=0),
])
def test_bad_input(call):
    with pytest.raises(ValueError):
        call()


def test_lanczos_quadrature_is_exact_for_low_degree_polynomials():
    H, _ = _rotated(np.linspace(-2, 5, 40), seed=1)
    v = np.random.default_rng(2).standard_normal(40)
    a, b = lanczos(lambda x: H @ x, v, 6)
    nodes, weights = gauss_quadrature(a, b)
    assert weights.sum() == pytest.approx(1.0, abs=1e-14)
    u = v / np.linalg.norm(v)
    for k in range(12):  # degree <= 2 * 6 - 1
        exact = u @ np.linalg.matrix_power(H, k) @ u
        assert np.sum(weights * nodes**k) == pytest.approx(exact, rel=1e-10, abs=1e-12)


def test_lanczos_stops_when_the_krylov_space_is_exhausted():
    H, _ = _rotated(np.repeat([-1.0, 2.0, 4.0], 5), seed=3)
    a, b = lanczos(lambda x: H @ x, np.ones(15), 10)
    assert len(a) == 3 and len(b) == 2
    nodes, _ = gauss_quadrature(a, b)
    np.testing.assert_allclose(nodes, [-1.0, 2.0, 4.0], atol=1e-12)


def test_slq_estimates_the_spectral_measure():
    lam = np.concatenate([np.linspace(-1, 0, 30), np.linspace(0.5, 3, 70)])
    H, _ = _rotated(lam, seed=4)
    q = slq(lambda x: H @ x, 100, steps=40, probes=30, seed=5)
    nodes, weights = q.measure()
    assert weights.sum() == pytest.approx(1.0)
    lo, hi = q.extremes()
    assert lam[0] - 1e-10 <= lo <= lam[0] + 1e-6 and lam[-1] - 1e-6 <= hi <= lam[-1] + 1e-10
    # mean of the measure = Hutchinson's trace estimate: standard error sqrt(2 sum_ij H_ij^2 (i != j) / probes) / P
    off = np.sum(H**2) - np.sum(np.diag(H) ** 2)
    se = math.sqrt(2 * off / 30) / 100
    assert abs(np.sum(weights * nodes) - lam.mean()) <= 4 * se
    assert wasserstein(nodes, weights, lam, np.ones(100)) <= 0.05 * (lam[-1] - lam[0])
    ind = q.indices()
    assert ind["alpha"]["exact"] == pytest.approx(0.3, abs=0.08)
    grid = np.linspace(-3, 5, 2001)
    assert np.trapezoid(q.density(grid, 0.1), grid) == pytest.approx(1.0, abs=1e-6)


def test_lanczos_extremes_match_the_dense_ends():
    lam = np.linspace(-4, 9, 60)
    H, _ = _rotated(lam, seed=6)
    lo, hi = lanczos_extremes(H, k=2)
    np.testing.assert_allclose(lo, lam[:2], atol=1e-8)
    np.testing.assert_allclose(hi, lam[-2:], atol=1e-8)
    with pytest.raises(ValueError, match="k must be"):
        lanczos_extremes(H, k=30)


def test_wasserstein_closed_forms():
    assert wasserstein([0.0], [1.0], [2.5], [1.0]) == pytest.approx(2.5)
    # half the mass moved by 1
    assert wasserstein([0.0, 1.0], [1, 1], [0.0, 0.0], [1, 1]) == pytest.approx(0.5)
    assert wasserstein([1.0, 2.0], [3, 1], [1.0, 2.0], [3, 1]) == 0.0
