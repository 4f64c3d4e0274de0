"""Derived overlap maps and entropies against the letter, published kernels and mpmath."""

import math

import mpmath as mp
import pytest
import sympy as sp

from theory import function_space as fs


def _close(value, ref, digits):
    return abs(value - ref) <= mp.mpf(10) ** -digits * abs(ref)


def _num(expr, **values):
    return complex(sp.N(expr.subs({getattr(fs, k): v for k, v in values.items()}), 30)).real


def test_weight_correlations_are_the_letters():
    # Li & Saad, Eqs. 7 and 10
    c_con, ratio_con = fs.weight_statistics("continuous")
    c_bin, ratio_bin = fs.weight_statistics("binary")
    assert sp.simplify(c_con - sp.sqrt(1 - fs.eta**2)) == 0
    assert sp.simplify(c_bin - (1 - 2 * fs.p)) == 0
    assert ratio_con == 1 and ratio_bin == 1
    cov = fs.field_covariance("continuous")
    assert sp.simplify(cov[0, 1] - fs.sigma**2 * sp.sqrt(1 - fs.eta**2) * fs.q) == 0
    with pytest.raises(ValueError, match="weights must be one of"):
        fs.weight_statistics("ternary")


def test_price_identity_and_arcsine_law():
    assert fs.price_identity() == 0
    assert sp.simplify(fs.sign_kernel() - 2 * sp.asin(fs.rho) / sp.pi) == 0
    # Eq. 8 / Eq. 11 of the letter
    assert sp.simplify(fs.overlap_map("continuous") - 2 / sp.pi * sp.asin(sp.sqrt(1 - fs.eta**2) * fs.q)) == 0
    assert sp.simplify(fs.overlap_map("binary") - 2 / sp.pi * sp.asin((1 - 2 * fs.p) * fs.q)) == 0


@pytest.mark.parametrize("rho", [-0.9, 0.1, 0.5, 0.99])
def test_sign_kernel_against_orthant_quadrature(rho):
    # E[sgn u sgn v] = 4 P(u > 0, v > 0) - 1 = 4 int_0^oo phi(x) Phi(rho x / s) dx - 1 (mpmath)
    with mp.workdps(30):
        s = mp.sqrt(1 - mp.mpf(rho) ** 2)
        orthant = mp.quad(lambda x: mp.npdf(x) * mp.ncdf(rho * x / s), [0, mp.inf])
        ref = 4 * orthant - 1
        value = sp.lambdify(fs.rho, fs.sign_kernel(), "mpmath")(mp.mpf(rho))
        assert abs(value - ref) <= mp.mpf(10) ** -25 * abs(ref)


@pytest.mark.parametrize("rho", [-0.7, 0.0, 0.3, 0.95])
def test_relu_kernel_is_cho_saul(rho):
    # Cho & Saul (2009), arc-cosine kernel of degree 1: (sin t + (pi - t) cos t) / (2 pi), t = arccos(rho)
    t = math.acos(rho)
    ref = (math.sin(t) + (math.pi - t) * math.cos(t)) / (2 * math.pi)
    assert _num(fs.relu_kernel(), rho=rho) == pytest.approx(ref, rel=1e-14)
    assert _num(fs.relu_overlap(), rho=rho) == pytest.approx(2 * ref, rel=1e-14)


def test_erf_kernel_is_williams():
    # Williams (1997): E[erf(a u) erf(a v)] = (2/pi) asin(2 a^2 rho / (1 + 2 a^2))
    a, rho = 0.7, 0.45
    value = _num(fs.erf_kernel(), a=a, rho=rho)
    assert value == pytest.approx(2 / math.pi * math.asin(2 * a * a * rho / (1 + 2 * a * a)), rel=1e-14)


def test_determinant_gaussian_integral_used_for_erf():
    # E[exp(-a^2 (u^2 + v^2))] = det(1 + 2 a^2 Sigma)^(-1/2), against nested quadrature
    a, rho = 0.8, 0.6
    s = math.sqrt(1 - rho * rho)
    fp = mp.fp
    quad = fp.quad(
        lambda x: math.exp(-(a * x) ** 2 - x * x / 2)
        * fp.quad(lambda w: math.exp(-(a * (rho * x + s * w)) ** 2 - w * w / 2), [-fp.inf, 0, fp.inf]),
        [-fp.inf, 0, fp.inf],
    ) / (2 * math.pi)
    assert 1 / math.sqrt((1 + 2 * a * a) ** 2 - (2 * a * a * rho) ** 2) == pytest.approx(quad, rel=1e-12)


def test_error_step_is_one_minus_overlap_and_exact_for_tiny_arguments():
    dd, d0 = fs.half_angle_identity()
    assert dd == 0 and d0 == 0
    step = sp.lambdify((fs.r, fs.x), fs.error_step(), "mpmath")
    for r_prev, x in [(0.3, 0.2), (1e-30, 1e-20), (0.0, 1e-300), (0.9, 0.5)]:
        with mp.workdps(700):  # enough digits for 1 - (1 - x)(1 - r) at x = 1e-300
            ref = 1 - 2 / mp.pi * mp.asin((1 - mp.mpf(x)) * (1 - mp.mpf(r_prev)))
        with mp.workdps(60):
            assert _close(step(mp.mpf(r_prev), mp.mpf(x)), ref, 50)


def test_inverse_and_budget():
    inv = sp.lambdify(fs.r, fs.error_step_inverse(), "mpmath")
    step = sp.lambdify((fs.r, fs.x), fs.error_step(), "mpmath")
    budget = sp.lambdify((fs.theta, fs.y), fs.budget_perturbation(), "mpmath")
    with mp.workdps(40):
        for r_out in (mp.mpf("1e-12"), mp.mpf("0.3"), mp.mpf("0.99")):
            y = inv(r_out)
            assert _close(step(0, y), r_out, 35)
            for theta in (mp.mpf("0.1"), mp.mpf("0.9")):
                x = budget(theta, y)
                assert _close(step(theta * y, x), r_out, 35)


def test_perturbation_variables_and_entropies():
    for weights in fs.WEIGHTS:
        corr, _ = fs.weight_statistics(weights)
        assert sp.simplify(fs.x_of_perturbation(weights) - (1 - corr)) == 0
        var = fs.eta if weights == "continuous" else fs.p
        roundtrip = sp.lambdify(var, fs.perturbation_of_x(weights).subs(fs.x, fs.x_of_perturbation(weights)), "mpmath")
        with mp.workdps(40):
            for value in (mp.mpf("1e-30"), mp.mpf("0.2"), mp.mpf("0.5")):
                assert _close(roundtrip(value), value, 35)
    # Eq. 9: log eta ; Eq. 12: H2(p)
    eta = 0.37
    assert _num(fs.layer_entropy("continuous"), x=1 - math.sqrt(1 - eta * eta)) == pytest.approx(math.log(eta), rel=1e-14)
    p = 0.12
    h2 = -p * math.log(p) - (1 - p) * math.log(1 - p)
    assert _num(fs.layer_entropy("binary"), x=2 * p) == pytest.approx(h2, rel=1e-14)


def test_tanh_pair_identity():
    lhs, rhs = fs.tanh_pair_identity()
    f = sp.lambdify(sorted(lhs.free_symbols, key=str), lhs - rhs, "mpmath")
    with mp.workdps(30):
        for A, D in [(0.3, 2.0), (-1.5, 0.2), (4.0, 4.0)]:
            assert abs(f(mp.mpf(A), mp.mpf(D))) < mp.mpf(10) ** -25


@pytest.mark.parametrize("L", [1, 2, 3, 4, 5])
def test_small_error_asymptote(L):
    asym = fs.small_error_asymptote(L)
    assert asym["K"] == sp.Rational(2**L - 1, L)
    assert sp.simplify(fs.entropy_growth_exponent().subs(sp.Symbol("L", positive=True, integer=True), L) - asym["K"]) == 0
    # each theta_j maximizes log(1 - theta) + (2^(j+1) - 2) log(theta) (hand derivation)
    for j, th in enumerate(asym["thetas"], start=1):
        assert th == sp.Rational(2 ** (j + 1) - 2, 2 ** (j + 1) - 1)


def test_small_error_constant_one_layer():
    # L = 1: x = A^-1(2 eps) ~ pi^2 eps^2 / 2, eta ~ sqrt(2 x) = pi eps, so S = log eps + log pi
    assert sp.simplify(fs.small_error_asymptote(1)["C"] - sp.log(sp.pi)) == 0


def test_generalization_asymptote():
    eps_star, series = fs.generalization_asymptote()
    K = sp.Symbol("K", positive=True)
    assert sp.simplify(eps_star - K / (fs.alpha + K)) == 0
    assert sp.simplify(series - (K / fs.alpha - K**2 / fs.alpha**2)) == 0


def test_activation_maps_linear_closed_form():
    maps = fs.activation_maps("linear")
    Q_prev = sp.Symbol("Q_prev", positive=True)
    assert sp.simplify(maps["Q"].doit() - fs.sigma**2 * Q_prev) == 0


def test_derivation_lists_every_result():
    d = fs.derivation()
    keys = {s.key for s in d.steps}
    assert {"sign_kernel", "overlap_map.continuous", "error_step", "relu_overlap", "K", "generalization.eps_star"} <= keys
    assert d["price"] == 0 and d["tanh_pair"] == 0
