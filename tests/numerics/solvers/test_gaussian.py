"""numerics.solvers.gaussian against mpmath at high precision."""

import math

import mpmath
import numpy as np
import pytest

from numerics.solvers import gaussian as g


@pytest.fixture(autouse=True)
def _sixty_digits():
    """The references need ~2x the digits of the difference M(x) - x; set for this module's tests only."""
    with mpmath.workdps(60):
        yield


def _H(x):
    return mpmath.erfc(mpmath.mpf(x) / mpmath.sqrt(2)) / 2


def _M(x):
    return mpmath.npdf(mpmath.mpf(x)) / _H(x)


XS = np.concatenate([-np.logspace(-3, np.log10(37), 60), [0.0], np.logspace(-3, 8, 120), [2.999999, 3.0, 3.000001]])


def _worst(f, ref, xs, floor=1e-300):
    vals = f(xs)
    worst = 0.0
    for x, v in zip(xs, vals):
        r = ref(float(x))
        if abs(r) > floor:
            worst = max(worst, float(abs((mpmath.mpf(float(v)) - r) / r)))
    return worst


def test_tail_and_log_tail():
    # the condition number of H at x is ~x^2: 1e-13 at |x| = 37
    assert _worst(g.tail, _H, XS[XS < 38]) < 2e-13
    log_h = lambda x: mpmath.log1p(-_H(-x)) if x < 0 else mpmath.log(_H(x))
    assert _worst(g.log_tail, log_h, XS) < 2e-13


def test_log_tail_far_in_the_tail():
    x = np.array([50.0, 1e3, 1e6, 1e150])
    ref = [mpmath.log(_H(v)) for v in x]
    assert np.all(np.isfinite(g.log_tail(x)))
    assert max(float(abs((v - r) / r)) for v, r in zip(g.log_tail(x), ref)) < 1e-14


def test_mills_ratio():
    assert _worst(g.mills, _M, XS) < 1e-13
    assert g.mills(0.0) == pytest.approx(math.sqrt(2 / math.pi), rel=1e-16)


def test_mills_defect_keeps_relative_accuracy_for_large_x():
    # D(x) = 1 - x (M - x) ~ 2/x^2: needs ~2 log10(x) extra digits in the reference
    with mpmath.workdps(80):
        assert _worst(g.mills_defect, lambda x: 1 - x * (_M(x) - x), XS[XS < 1e6]) < 1e-13


def test_mills_excess_keeps_relative_accuracy_for_large_x():
    assert _worst(g.mills_excess, lambda x: _M(x) - x, XS) < 1e-14
    # the direct difference loses ~x^2 eps of relative accuracy
    x = 1e6
    ref = 1 / x - 2 / x**3
    assert abs((g.mills(x) - x) - ref) / ref > 1e-7
    assert g.mills_excess(x) == pytest.approx(ref, rel=1e-15)


def test_log_two_cosh_and_sech():
    ys = np.concatenate([-np.logspace(-5, 2.8, 40), [0.0], np.logspace(-5, 2.8, 40)])
    for y in ys:
        assert float(g.log_two_cosh(y)) == pytest.approx(float(mpmath.log(2 * mpmath.cosh(y))), rel=2e-16)
        assert float(g.sech(y)) == pytest.approx(float(mpmath.sech(y)), rel=3e-16)
    assert g.log_two_cosh(1e300) == 1e300 and g.sech(1e300) == 0.0


def test_no_overflow_or_invalid_at_extremes():
    x = np.array([-1e300, -1e5, -40.0, 0.0, 40.0, 1e5, 1e300])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for f in (g.tail, g.log_tail, g.mills, g.mills_excess, g.mills_defect, g.log_two_cosh, g.sech):
            out = f(x)
            assert not np.any(np.isnan(out))


def test_rule_integrates_gaussian_moments():
    for center, scale in ((0.0, 1.0), (-2.3, 1e-9), (13.9, 1e-3), (40.0, 5.0)):
        t, w = g.gaussian_rule(center, scale)
        for k in range(6):
            assert w @ t ** (2 * k) == pytest.approx(math.prod(range(1, 2 * k, 2)), rel=1e-14)
            assert abs(w @ t ** (2 * k + 1)) < 1e-13 * math.prod(range(1, 2 * k + 2, 2))


def test_panel_edges_are_graded_and_cover_the_range():
    edges = g.panel_edges(0.7, 1e-6, 1.0, 14.0)
    assert edges[0] == -14.0 and edges[-1] == 14.0 and np.all(np.diff(edges) > 0)
    widths = np.diff(edges)
    assert widths.min() == pytest.approx(1e-6) and widths.max() <= 1.0 + 1e-12
    i = np.searchsorted(edges, 0.7)
    assert edges[i] == pytest.approx(0.7)


def _boundary_layer_reference(q, kappa):
    with mpmath.workdps(30):
        qm, k = mpmath.mpf(q), mpmath.mpf(kappa)
        w = mpmath.sqrt(1 - qm)
        t0 = -k / mpmath.sqrt(qm)
        pts = [-mpmath.inf] + [t0 + c * w for c in (-100, -10, -1, 0, 1, 10, 100)] + [mpmath.inf]
        return mpmath.quad(lambda t: mpmath.npdf(t) * (1 - qm) * _M((k + mpmath.sqrt(qm) * t) / w) ** 2, pts)


@pytest.mark.parametrize("q,kappa", [(0.3, 0.4), (1 - 1e-6, -1.1), (1 - 1e-12, 0.0), (1 - 1e-12, 3.3)])
def test_rule_resolves_the_gardner_boundary_layer(q, kappa):
    sq, w1 = math.sqrt(q), math.sqrt(1 - q)
    t, w = g.gaussian_rule(-kappa / sq, w1 / sq)
    value = w @ ((1 - q) * g.mills((kappa + sq * t) / w1) ** 2)
    assert value == pytest.approx(float(_boundary_layer_reference(q, kappa)), rel=1e-14)


def test_fixed_gauss_hermite_is_not_enough_near_q_1():
    """Why the graded rule: a 100-point Gauss-Hermite rule misses the kink of width sqrt(1-q)."""
    q, kappa = 1 - 1e-4, 0.3
    nodes, weights = np.polynomial.hermite_e.hermegauss(100)
    x = (kappa + math.sqrt(q) * nodes) / math.sqrt(1 - q)
    gh = (weights / math.sqrt(2 * math.pi)) @ ((1 - q) * g.mills(x) ** 2)
    ref = float(_boundary_layer_reference(q, kappa))
    assert abs(gh - ref) / ref > 1e-5


def test_rule_rejects_bad_input():
    with pytest.raises(ValueError, match="scale"):
        g.gaussian_rule(0.0, 0.0)
    with pytest.raises(ValueError, match="center"):
        g.gaussian_rule(float("nan"), 1.0)
