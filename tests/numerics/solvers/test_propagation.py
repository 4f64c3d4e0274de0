"""Variance map, chi_1 and the order-to-chaos line against closed forms and mpmath."""

import math

import mpmath as mp
import pytest
import sympy as sp

from numerics.solvers import propagation as npr
from theory import propagation as tpr


def test_relu_maps_are_the_closed_forms():
    closed = tpr.relu_closed_forms()
    vmap = sp.lambdify((tpr.q, tpr.sigma_w, tpr.sigma_b), closed["variance_map"])
    for q, sw, sb in [(0.3, 1.2, 0.1), (50.0, 0.7, 2.0)]:
        assert npr.variance_map("relu", q, sw, sb) == pytest.approx(vmap(q, sw, sb), rel=1e-12)
        assert npr.chi1("relu", q, sw) == pytest.approx(sw * sw / 2, rel=1e-12)


def test_tanh_maps_against_mpmath():
    beta, q, sw, sb = 1.7, 0.8, 1.3, 0.2
    with mp.workdps(30):
        g = lambda f: mp.quad(lambda z: f(mp.sqrt(q) * z) * mp.npdf(z), [-mp.inf, 0, mp.inf])
        vref = sw**2 * g(lambda h: mp.tanh(beta * h) ** 2) + sb**2
        cref = sw**2 * g(lambda h: (beta / mp.cosh(beta * h) ** 2) ** 2)
    assert npr.variance_map("tanh", q, sw, sb, beta) == pytest.approx(float(vref), rel=1e-12)
    assert npr.chi1("tanh", q, sw, beta) == pytest.approx(float(cref), rel=1e-12)


def test_fixed_point_matches_iteration():
    q = 1.0
    for _ in range(300):
        q = npr.variance_map("tanh", q, 1.5, 0.3, 1.0)
    assert npr.fixed_point("tanh", 1.5, 0.3, 1.0) == pytest.approx(q, rel=1e-10)
    assert npr.fixed_point("relu", 1.6, 0.1) == math.inf


@pytest.mark.parametrize("sigma_b", [0.0, 0.5])
def test_relu_critical_line_is_sqrt2(sigma_b):
    c = npr.critical_sigma_w("relu", sigma_b)
    assert c.sigma_w == pytest.approx(math.sqrt(2), rel=1e-9)
    assert c.kind == "divergent"


def test_tanh_critical_points():
    # sigma_b = 0: q* = 0 and chi_1 = sigma_w^2 beta^2 (theory.propagation.zero_state_critical_sigma_w)
    for beta in (1.0, 2.5):
        c = npr.critical_sigma_w("tanh", 0.0, beta)
        assert c.sigma_w == pytest.approx(1 / beta, rel=1e-8) and c.kind == "chaotic"


def test_tanh_critical_point_with_bias_has_chi1_one():
    c = npr.critical_sigma_w("tanh", 0.3, 1.0)
    # independent check with mpmath: q* solves the variance map and chi_1(q*) = 1 at sigma_w,c
    sw, sb = mp.mpf(c.sigma_w), mp.mpf("0.3")
    with mp.workdps(25):
        E = lambda f, q: mp.quad(lambda z: f(mp.sqrt(q) * z) * mp.npdf(z), [-mp.inf, 0, mp.inf])
        q_star = mp.findroot(lambda q: sw**2 * E(lambda h: mp.tanh(h) ** 2, q) + sb**2 - q, c.q_star)
        chi = sw**2 * E(lambda h: 1 / mp.cosh(h) ** 4, q_star)
    assert float(q_star) == pytest.approx(c.q_star, rel=1e-8)
    assert float(chi) == pytest.approx(1.0, abs=1e-8)


def test_esp_order_to_chaos_limits():
    # beta -> oo: ReLU's sqrt(2); beta -> 0: linear units of slope 1/2, sigma_w = 2 (sigma_b = 0, q_0 = 1)
    assert npr.critical_sigma_w("esp", 0.0, beta=1e4).sigma_w == pytest.approx(math.sqrt(2), rel=1e-4)
    assert npr.critical_sigma_w("esp", 0.0, beta=1e-4).sigma_w == pytest.approx(2.0, rel=1e-4)
    c = npr.critical_sigma_w("esp", 0.0, beta=1.0)
    assert math.sqrt(2) < c.sigma_w < 2 and c.q_star == 0.0 and c.chi1 == pytest.approx(c.sigma_w**2 / 4, rel=1e-9)


def test_esp_beta_scaling():
    # phi(h, beta) = phi(beta h, 1)/beta: (sigma_b, q_0, beta) ~ (beta sigma_b, beta^2 q_0, 1)
    a = npr.critical_sigma_w("esp", 0.5, beta=4.0, q0=1.0)
    b = npr.critical_sigma_w("esp", 2.0, beta=1.0, q0=16.0)
    assert a.sigma_w == pytest.approx(b.sigma_w, rel=1e-8)
    assert a.kind == b.kind


def test_bad_input():
    with pytest.raises(ValueError, match="not known"):
        npr.critical_sigma_w("softsign", 0.1)
    with pytest.raises(ValueError, match="sigma_b must be"):
        npr.critical_sigma_w("tanh", -1.0)
    with pytest.raises(ValueError, match="beta must be"):
        npr.critical_sigma_w("esp", 0.1, beta=-2.0)


def test_unit_linear_in_a_limit_has_a_divergent_edge():
    # ESP at beta -> 0 is h/2: the edge is sigma_w = 2, where q* diverges (like `linear` at sigma_w = 1)
    c = npr.critical_sigma_w("esp", 0.5, 1e-300)
    assert c.kind == "divergent" and c.q_star == math.inf and c.sigma_w == pytest.approx(2.0, rel=1e-9)
    assert npr.critical_sigma_w("linear", 0.5).kind == "divergent"


def test_fixed_point_where_the_bias_is_lost_to_rounding_is_not_reported():
    # at sigma_w = 2 the map is q + sigma_b^2: no fixed point, though q + 0.25 rounds to q above 2^54
    assert npr.fixed_point("esp", 2.0, 0.5, 1e-300) == math.inf


@pytest.mark.parametrize("sigma_b", [1e300, math.inf, math.nan, -1.0])
def test_sigma_b_outside_the_range_is_refused(sigma_b):
    with pytest.raises(ValueError, match=r"sigma_b must be a number in \[0, 1e\+12\]"):
        npr.critical_sigma_w("relu", sigma_b)
