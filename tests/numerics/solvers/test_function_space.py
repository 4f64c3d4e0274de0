"""Overlap recursions, entropies, maximum-entropy perturbations and generalization: numerics vs references."""

import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from numerics._generated import function_space as gen
from numerics.solvers import function_space as nfs
from theory import function_space as fs
from theory.activations import REGISTRY
from theory.activations import beta as act_beta
from theory.activations import h as act_h
from verify.function_space import fp_pair_expectation, grid_max_entropy

# E[tanh(b u) tanh(b v)] by nested mpmath quadrature at 20 digits (tanh-sinh, split at 0 and at the
# zero of the inner argument): an independent algorithm on the raw integrand of Eq. 6.
MPMATH_TANH = {
    (0.5, 3.0): 0.303662222395209589,
    (0.999, 3.0): 0.74360409023131625,
    (0.7, 20.0): 0.49235522749016987,
    (0.001, 1.0): 0.000366879186396014446,
}


def test_error_step_kernel_keeps_relative_precision():
    # naive 1 - (2/pi) asin(c q) loses everything once c q rounds to 1; the generated step does not
    step = sp.lambdify((fs.r, fs.x), fs.error_step(), "mpmath")
    for r_prev, x in [(0.0, 1e-40), (1e-30, 1e-20), (0.2, 0.3), (0.5, 1e-300)]:
        with mp.workdps(50):
            ref = step(mp.mpf(r_prev), mp.mpf(x))
        assert gen.error_step(r_prev, x) == pytest.approx(float(ref), rel=4e-16)
    assert 1 - 2 / math.pi * math.asin((1 - 1e-40) * 1.0) == 0.0


@pytest.mark.parametrize(
    "kernel, expr, args",
    [
        (
            gen.log_budget_x,
            lambda lt, ly: mp.log(mp.exp(ly) * (1 - mp.exp(lt)) / (1 - mp.exp(lt + ly))),
            [(-1e-9, -3.0), (-30.0, -1e-12), (-0.7, -400.0)],
        ),
        (gen.layer_entropy_continuous, lambda lx: mp.log(mp.sqrt(mp.exp(lx) * (2 - mp.exp(lx)))), [(-800.0,), (-1.0,), (0.0,)]),
        (gen.layer_entropy_binary, lambda lx: (lambda p: -p * mp.log(p) - (1 - p) * mp.log(1 - p))(mp.exp(lx) / 2), [(-700.0,), (-40.0,), (-0.1,)]),
        (gen.log_error_step_inverse_small, lambda lr: mp.log(2 * mp.sin(mp.pi * mp.exp(lr) / 4) ** 2), [(-41.0,), (-300.0,), (-2000.0,)]),
    ],
)
def test_log_kernels_against_mpmath(kernel, expr, args):
    for a in args:
        with mp.workdps(60):
            ref = expr(*[mp.mpf(v) for v in a])
        assert kernel(*a) == pytest.approx(float(ref), rel=1e-14)


@pytest.mark.parametrize("a, d", [(0.3, 2.0), (-1.5, 0.2), (1e-8, 3.0), (400.0, 399.0), (2.0, 900.0), (-700.0, 1e-3)])
def test_tanh_pair_sum(a, d):
    with mp.workdps(40):
        ref = mp.tanh(mp.mpf(a) + mp.mpf(d)) + mp.tanh(mp.mpf(a) - mp.mpf(d))
    assert gen.tanh_pair_sum(a, d) == pytest.approx(float(ref), rel=1e-14, abs=1e-300)


def test_sign_recursion_against_mpmath():
    eta = [0.3, 1e-9, 0.7, 0.05]
    out = nfs.overlap_recursion(eta)
    with mp.workdps(60):
        q = mp.mpf(1)
        ref = []
        for e in eta:
            q = 2 / mp.pi * mp.asin(mp.sqrt(1 - mp.mpf(e) ** 2) * q)
            ref.append(1 - q)
    np.testing.assert_allclose(2 * out.error_per_layer, [float(v) for v in ref], rtol=1e-14)
    assert out.error == pytest.approx(float(ref[-1]) / 2, rel=1e-14)


def test_sign_recursion_binary_tiny_perturbation():
    p = [1e-20, 0.0, 0.0]
    with mp.workdps(80):
        r = mp.mpf(1) - 2 / mp.pi * mp.asin(1 - 2 * mp.mpf(p[0]))
        for _ in range(2):
            r = 1 - 2 / mp.pi * mp.asin(1 - r)
    assert nfs.overlap_recursion(p, "binary").error == pytest.approx(float(r) / 2, rel=1e-13)


@pytest.mark.parametrize("rho, b", sorted(MPMATH_TANH))
def test_tanh_overlap_against_mpmath_20_digits(rho, b):
    assert nfs.tanh_overlap(rho, b) == pytest.approx(MPMATH_TANH[(rho, b)], rel=1e-12)


@pytest.mark.slow
def test_stored_mpmath_values_recompute():
    # how MPMATH_TANH was computed (about 3 minutes per value)
    rho, b = 0.5, 3.0
    with mp.workdps(20):
        r, bb = mp.mpf(rho), mp.mpf(b)
        s = mp.sqrt(1 - r * r)

        def inner(x):
            pts = [-mp.inf] + sorted({mp.mpf(0), -r * x / s}) + [mp.inf]
            return mp.quad(lambda w: mp.tanh(bb * (r * x + s * w)) * mp.npdf(w), pts)

        value = mp.quad(lambda x: mp.tanh(bb * x) * mp.npdf(x) * inner(x), [-mp.inf, 0, mp.inf])
    assert float(value) == pytest.approx(MPMATH_TANH[(rho, b)], rel=1e-15)


@pytest.mark.parametrize("rho, b", [(0.3, 0.5), (0.9, 8.0), (1e-4, 2.0)])
def test_tanh_overlap_against_fp_twin(rho, b):
    ref = fp_pair_expectation(lambda u: math.tanh(b * u), lambda v: math.tanh(b * v), rho)
    assert nfs.tanh_overlap(rho, b) == pytest.approx(ref, rel=1e-9)


def test_fixed_gauss_hermite_rule_is_not_enough():
    # the reason for adaptive quadrature: 100-node Gauss-Hermite is off by ~1e-5 at beta = 3
    x, w = np.polynomial.hermite_e.hermegauss(100)
    w = w / w.sum()
    rho, b = 0.5, 3.0
    s = math.sqrt(1 - rho * rho)
    X, Wv = np.meshgrid(x, x, indexing="ij")
    gh = float(np.sum(np.outer(w, w) * np.tanh(b * X) * np.tanh(b * (rho * X + s * Wv))))
    assert abs(gh / MPMATH_TANH[(rho, b)] - 1) > 1e-6
    assert abs(nfs.tanh_overlap(rho, b) / MPMATH_TANH[(rho, b)] - 1) < 1e-12


def test_finite_beta_tends_to_arcsine_and_to_linear():
    eta = [0.4, 0.2]
    sign = nfs.overlap_recursion(eta).q
    hot = nfs.overlap_recursion(eta, beta=200.0).q
    np.testing.assert_allclose(hot, sign, atol=5e-3)
    # beta -> 0: E[tanh(b u) tanh(b v)] ~ b^2 rho
    b = 1e-4
    assert nfs.tanh_overlap(0.6, b) == pytest.approx(b * b * 0.6, rel=1e-7)


def test_relu_activation_recursion_is_arc_cosine():
    eta = [0.3, 0.8, 0.5]
    out = nfs.overlap_recursion(eta, activation="relu", sigma=1.7)
    q, ref = 1.0, []
    for e in eta:
        q = gen.relu_overlap(math.sqrt(1 - e * e) * q)
        ref.append(q)
    np.testing.assert_allclose(out.q, ref, rtol=1e-10)


def test_linear_activation_recursion():
    out = nfs.overlap_recursion([0.1, 0.2], "binary", activation="linear")
    np.testing.assert_allclose(out.q, [0.8, 0.8 * 0.6], rtol=1e-10)


def test_esp_activation_step_against_fp_twin():
    beta, sigma, eta = 1.5, 1.2, 0.6
    out = nfs.overlap_recursion([eta], activation="esp", beta=beta, sigma=sigma)
    expr = REGISTRY["esp"].subs({act_h: sigma * fs.u, act_beta: beta})
    # sigma(x) = (1 + tanh(x/2))/2 cannot overflow
    phi = sp.lambdify(fs.u, expr, [{"sigmoid": lambda t: 0.5 * (1.0 + math.tanh(0.5 * t))}, "math"])
    rho = math.sqrt(1 - eta * eta)
    C = fp_pair_expectation(phi, phi, rho)
    Q = mp.fp.quad(lambda z: phi(z) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), [-mp.fp.inf, 0, mp.fp.inf])
    assert out.q[0] == pytest.approx(C / Q, rel=1e-9)


def test_entropy_definitions():
    eta = [0.2, 0.5, 1.0]
    assert nfs.entropy(eta) == pytest.approx(np.mean(np.log(eta)), rel=1e-15)
    p = [0.0, 0.1, 0.5]
    h2 = [0.0] + [-v * math.log(v) - (1 - v) * math.log(1 - v) for v in p[1:]]
    assert nfs.entropy(p, "binary") == pytest.approx(np.mean(h2), rel=1e-15)
    assert nfs.entropy([0.0, 0.5]) == -math.inf


@pytest.mark.parametrize(
    "weights, eps, L", [("continuous", 0.2, 2), ("continuous", 0.05, 3), ("binary", 0.45, 3), ("binary", 0.3, 2), ("binary", 0.48, 3)]
)
def test_max_entropy_beats_brute_force_grid(weights, eps, L):
    res = nfs.max_entropy_perturbation(eps, L, weights)
    grid = grid_max_entropy(eps, L, weights, 300 if L == 2 else 160)
    assert res.entropy >= grid - 1e-12
    assert res.entropy - grid < 5e-3  # the grid resolves the maximum to a few 1e-3
    # the solution lies on the error surface
    assert nfs.overlap_recursion(res.perturbation, weights).error == pytest.approx(eps, rel=1e-11)
    assert nfs.entropy(res.perturbation, weights) == pytest.approx(res.entropy, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("eps", [1e-6, 1e-40, 1e-250])
def test_max_entropy_small_error_asymptote(eps):
    L = 4
    asym = fs.small_error_asymptote(L)
    res = nfs.max_entropy_perturbation(eps, L)
    expected = float(asym["K"]) * math.log(eps) + float(asym["C"])
    assert res.entropy == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(res.fractions, [float(t) for t in asym["thetas"]], rtol=1e-5)
    assert np.all(np.isfinite(res.log_perturbation))
    assert 2 * res.error_per_layer[-1] == pytest.approx(2 * eps, rel=1e-13)


def test_max_entropy_tiny_error_stays_on_the_surface():
    # eta_1 ~ 1e-30: sqrt(1 - eta^2) rounds to 1, yet the chain reproduces epsilon
    res = nfs.max_entropy_perturbation(1e-4, 4)
    assert res.perturbation[0] < 1e-20
    assert nfs.overlap_recursion(res.perturbation).error == pytest.approx(1e-4, rel=1e-12)


def test_binary_layers_align_from_the_first():
    # Fig. 2b: lowering epsilon, layer 1 aligns first (p_1 = 0), then layer 2, ...
    zeros = [int(np.sum(nfs.max_entropy_perturbation(e, 4, "binary").perturbation == 0.0)) for e in (0.49, 0.45, 0.4, 0.3)]
    assert zeros == sorted(zeros) and zeros[0] == 0 and zeros[-1] == 3


def test_binary_small_error_only_last_layer():
    eps = 1e-3
    res = nfs.max_entropy_perturbation(eps, 3, "binary")
    expr = fs.binary_small_error_entropy().subs({fs.epsilon: sp.Float(eps, 30), sp.Symbol("L", positive=True, integer=True): 3})
    assert res.entropy == pytest.approx(float(expr), rel=1e-12)
    assert np.all(res.perturbation[:2] == 0.0)


def test_generalization_large_alpha_asymptote():
    L = 4
    K = (2**L - 1) / L
    alphas = np.array([1e3, 1e4])
    g = nfs.generalization_curve(alphas, L)
    rel = g.error / (K / (alphas + K)) - 1
    assert abs(rel[0]) < 2e-5 and abs(rel[1]) < 2e-7
    # eps* is the argmax: nearby errors do worse
    a, e = alphas[0], g.error[0]
    f = lambda x: nfs.max_entropy_perturbation(x, L).entropy + a * math.log1p(-x)
    assert f(e) >= max(f(e * 1.01), f(e * 0.99))


def test_generalization_binary_jumps_to_perfect():
    # annealed binary weights: eps* = 1/2 below alpha = 1 (log 2 + alpha log(1/2) > 0), 0 above
    g = nfs.generalization_curve(np.array([0.5, 0.9, 1.1, 3.0]), 3, "binary", table_points=24)
    np.testing.assert_array_equal(g.error, [0.5, 0.5, 0.0, 0.0])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: nfs.overlap_recursion([1.2]), "eta must lie in \\[0, 1\\]"),
        (lambda: nfs.overlap_recursion([0.6], "binary"), "p must lie in \\[0, 0.5\\]"),
        (lambda: nfs.overlap_recursion([]), "non-empty"),
        (lambda: nfs.overlap_recursion([0.1], beta=0.0), "beta must be"),
        (lambda: nfs.overlap_recursion([0.1], activation="softsign"), "not known"),
        (lambda: nfs.overlap_recursion([0.1], weights="ternary"), "weights must be one of"),
        (lambda: nfs.max_entropy_perturbation(0.5, 4), "open interval \\(0, 0.5\\)"),
        (lambda: nfs.max_entropy_perturbation(0.1, 0), r"layers must be an integer in \[1, 64\]"),
        (lambda: nfs.max_entropy_perturbation(0.1, 100000), r"layers must be an integer in \[1, 64\]"),
        (lambda: nfs.generalization_curve([1.0], 10000), r"layers must be an integer in \[1, 16\]"),
        (lambda: nfs.generalization_curve([-1.0], 2), "alpha must be"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _iterate(step, c, layers):
    q, out = 1.0, []
    for _ in range(layers):
        q = step(c * q)
        out.append(q)
    return np.array(out)


@pytest.mark.parametrize(
    "activation, sigma, layers, limit",
    [
        ("relu", 10.0, 400, gen.relu_overlap),  # variance 50^l overflows float64 by layer ~180
        ("relu", 1e-300, 30, gen.relu_overlap),
        ("esp", 1e160, 3, gen.relu_overlap),  # ESP at beta sigma -> oo is ReLU
        ("esp", 1e-300, 30, lambda rho: rho),  # ... and linear as beta sigma -> 0
        ("tanh", 1e-300, 30, lambda rho: rho),
        ("linear", 0.1, 400, lambda rho: rho),  # variance 0.01^l underflows
    ],
)
def test_activation_overlap_at_extreme_scales_matches_its_limit_map(activation, sigma, layers, limit):
    eta = 0.1
    res = nfs.overlap_recursion([eta] * layers, activation=activation, sigma=sigma)
    ref = _iterate(limit, math.sqrt(1 - eta * eta), layers)
    assert np.all(np.isfinite(res.q))
    assert res.q == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("beta, sigma", [(1e300, 1e300), (1e-300, 1e-300), (1.0, 1e200)])
def test_stochastic_overlap_at_extreme_scales_is_finite(beta, sigma):
    res = nfs.overlap_recursion([0.3, 0.2], beta=beta, sigma=sigma)
    assert np.all(np.isfinite(res.q)) and np.all((res.q >= 0.0) & (res.q <= 1.0))
    if beta * sigma > 1e100:  # the sign-unit limit
        assert res.q == pytest.approx(nfs.overlap_recursion([0.3, 0.2]).q, rel=1e-12)


def test_max_entropy_is_finite_for_deep_networks():
    res = nfs.max_entropy_perturbation(0.3, 64)
    assert math.isfinite(res.entropy) and np.all(np.isfinite(res.log_perturbation))
    # eta_1 ~ exp(-1e17) underflows, so the check stays in log variables: S = mean log eta, r_L = 2 eps
    assert res.entropy == pytest.approx(float(np.mean(res.log_perturbation)), rel=1e-12)
    assert res.error_per_layer[-1] == pytest.approx(0.3, rel=1e-12)
    assert np.all(np.diff(res.error_per_layer) >= 0.0)
