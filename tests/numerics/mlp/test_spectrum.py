"""Spectra, alpha/gamma under the three zero policies, residuals, localization, Lanczos and SLQ.

References: matrices built from chosen eigenvalues and a random rotation,
hand-counted index values, Gauss quadrature's exactness for polynomials of
degree < 2k, closed-form W1 distances, and Hutchinson's estimator error.
"""

import math

import numpy as np
import pytest

from numerics.mlp.spectrum import (
    EPS,
    POLICIES,
    all_indices,
    analyze,
    coefficients,
    decoupled,
    gauss_quadrature,
    hutchpp,
    indices,
    ipr,
    lanczos,
    lanczos_extremes,
    residual_fraction,
    slq,
    spectrum,
    wasserstein,
    zero_threshold,
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


# -- analyze -------------------------------------------------------------------------------------


class _Operator:
    """Any object with shape and matvec (and blocks)."""

    def __init__(self, H, blocks=None):
        self.H, self.shape = H, H.shape
        if blocks is not None:
            self.blocks = blocks

    def matvec(self, v):
        return self.H @ v


def test_analyze_dense_counts_and_trace():
    lam = np.array([-2.0, -1e-12, 0.5, 1.0, 3.0, 4.0])
    H, _ = _rotated(lam)
    H = (H + H.T) / 2
    a = analyze(H)
    assert a.method == "dense" and a.alpha_stderr is None and a.trace_stderr is None
    assert a.alpha["absolute"] == 1 / 6 and a.gamma["absolute"] == 1 / 6  # |lambda| <= 1e-10 is zero
    assert a.alpha["relative"] == pytest.approx(2 / 6) and a.gamma["relative"] == 0  # 1e-12 > 6 eps * 4
    assert a.trace == pytest.approx(lam.sum(), abs=1e-13)
    assert a.extremes == pytest.approx((-2.0, 4.0), abs=1e-13)
    assert a.density(np.array([4.0]), 1e-3)[0] == pytest.approx(1 / 6 / (1e-3 * math.sqrt(2 * math.pi)), rel=1e-6)
    b = analyze(_Operator(H))  # formed from products
    for p in POLICIES:
        assert b.alpha[p] == a.alpha[p] and b.gamma[p] == a.gamma[p]


def test_analyze_blocks_are_diagonal_blocks_and_their_traces_sum_to_the_whole():
    rng = np.random.default_rng(1)
    B = rng.standard_normal((30, 30))
    H = B + B.T
    op = _Operator(H, [("first", slice(0, 10)), ("rest", slice(10, 30))])
    a = analyze(op)
    assert a.blocks["first"].size == 10
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(H[:10, :10]))[[0, -1]], a.blocks["first"].extremes, rtol=1e-12)
    assert sum(b.trace for b in a.blocks.values()) == pytest.approx(a.trace, rel=1e-14)
    s = analyze(op, dense_limit=5, probes=6, steps=10)
    assert s.method == "slq" and all(b.method == "slq" for b in s.blocks.values())
    matvec = op.matvec
    tr, _, parts = hutchpp(matvec, 30, 6, 0, [(n, np.arange(30)[sl]) for n, sl in op.blocks])
    assert sum(t for t, _ in parts) == pytest.approx(tr, rel=1e-12)


def test_dense_route_uses_batched_products_and_toarray():
    """A matrix formed from blocks of products (padded to equal widths), or taken from the operator's toarray()."""
    from scipy.sparse.linalg import aslinearoperator

    from numerics.mlp import spectrum as sp

    rng = np.random.default_rng(4)
    B = rng.standard_normal((300, 300))
    H = B + B.T
    widths = []

    class Batched(_Operator):
        def matmat(self, V):
            widths.append(V.shape[1])
            return self.H @ V

    a = analyze(Batched(H))
    assert len(widths) == 3 and set(widths) == {100}  # 300 = 3 x 100 <= DENSE_COLUMNS wide
    assert a.extremes == pytest.approx(tuple(np.linalg.eigvalsh(H)[[0, -1]]), rel=1e-12)
    matvec, P, _, _ = sp.as_operator(aslinearoperator(H[:257, :257]))
    np.testing.assert_allclose(sp._to_dense(matvec, P), H[:257, :257], rtol=1e-15)  # 3 x 86 columns, 1 padding

    class Known(_Operator):
        def toarray(self):
            return self.H

        def matvec(self, v):
            raise AssertionError("the dense route must not call matvec when toarray is there")

    assert analyze(Known(H), per_block=False).trace == pytest.approx(np.trace(H), rel=1e-13)


def test_hutchpp_is_exact_when_the_sketch_spans_the_range():
    H, _ = _rotated(np.array([5.0, -3.0, 0, 0, 0, 0, 0, 0]))
    H = (H + H.T) / 2
    tr, err, _ = hutchpp(lambda v: H @ v, 8, probes=4, seed=3)
    assert tr == pytest.approx(2.0, abs=1e-12) and err < 1e-12


def test_analyze_slq_within_its_errors_on_a_spread_spectrum():
    rng = np.random.default_rng(2)
    lam = np.concatenate([rng.uniform(-3, -0.5, 150), rng.uniform(0.5, 6, 450)])
    H, _ = _rotated(lam, seed=4)
    H = (H + H.T) / 2
    d, s = analyze(H), analyze(H, dense_limit=100, probes=12, steps=40)
    assert abs(s.alpha["exact"] - d.alpha["exact"]) <= 4 * s.alpha_stderr["exact"] + s.alpha_bound["exact"]
    assert abs(s.trace - d.trace) <= 4 * s.trace_stderr
    assert lam.min() <= s.extremes[0] < lam.min() + 0.01 and lam.max() - 0.01 < s.extremes[1] <= lam.max()  # Ritz values


def test_analyze_slq_splits_off_decoupled_parameters_as_exact_zeros():
    rng = np.random.default_rng(5)
    B = rng.standard_normal((40, 40))
    H = np.zeros((50, 50))
    H[:40, :40] = B + B.T
    s = analyze(H, dense_limit=10, probes=4, steps=40)
    assert s.gamma["exact"] == pytest.approx(10 / 50)


def test_analyze_to_dict_is_json_and_to_frame_has_a_row_per_block_and_policy():
    import json

    H = np.diag([-1.0, 2.0, 3.0])
    a = analyze(_Operator(H, [("x", slice(0, 1)), ("y", slice(1, 3))]))
    d = json.loads(json.dumps(a.to_dict()))
    assert d["alpha"]["exact"] == pytest.approx(1 / 3) and set(d["blocks"]) == {"x", "y"}
    pytest.importorskip("pandas")
    assert len(a.to_frame()) == 3 * len(POLICIES)


@pytest.mark.parametrize("kwargs, match", [
    ({"dense_limit": -1}, "dense_limit"), ({"probes": 1}, "probes"), ({"steps": 0}, "steps"),
    ({"rtol": -1.0}, "rtol"), ({"atol": math.nan}, "atol"), ({"seed": -3}, "seed"),
])
def test_analyze_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        analyze(np.eye(3), **kwargs)


def test_analyze_bad_operators():
    with pytest.raises(ValueError, match="square"):
        analyze(np.ones((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        analyze(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="blocks"):
        analyze(_Operator(np.eye(3), [("a", "nonsense")]))
