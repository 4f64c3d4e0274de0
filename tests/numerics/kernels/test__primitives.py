import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from numerics.kernels._primitives import (
    EXP_MAX,
    EXP_MIN,
    FAST_SCALE,
    NDTR_MIN,
    erfc_fast,
    exact_product_low,
    exp_fast,
    fast_range,
    gauss_fast,
    log1p_unit,
    ndtr_fast,
    ndtr_gauss,
    ndtr_gauss_product,
    sigmoid_tanh,
)

TINY = np.finfo(np.float64).tiny
RNG_SEED = 20240601


@pytest.fixture(autouse=True)
def _digits():
    with mpmath.workdps(40):
        yield


def _error(value, reference):
    """|value - reference| / max(|reference|, smallest normal) at 40 digits (subnormals judged absolutely)."""
    return float(abs(mpmath.mpf(value) - reference) / max(abs(reference), TINY))


def _worst(values, references):
    return max(_error(v, r) for v, r in zip(values, references))


def test_log1p_unit_against_mpmath():
    rng = np.random.default_rng(RNG_SEED)
    es = np.concatenate((np.linspace(0, 1, 1001), rng.uniform(0, 1, 500), 10.0 ** rng.uniform(-300, 0, 500),
                         [1e-300, 1e-17, 0.5, 1.0]))
    assert _worst([log1p_unit(float(e)) for e in es], [mpmath.log1p(mpmath.mpf(float(e))) for e in es]) <= 1e-15
    assert log1p_unit(0.0) == 0.0


def _sigmoid_tanh_errors(points):
    """Worst errors of (s, t) at |x + xl| <= 64, beyond, and of tau and e^-|x| (of x alone), over
    (x, xl, exact x + xl) triples."""
    inner = outer = tau_error = exp_error = 0.0
    for x, xl, exact in points:
        s, t, tau, e = sigmoid_tanh(x, xl)
        err = max(_error(s, 1 / (1 + mpmath.exp(-exact))), _error(t, 1 / (1 + mpmath.exp(exact))))
        if abs(x) <= 64:
            inner = max(inner, err)
        else:
            outer = max(outer, err)
        tau_error = max(tau_error, _error(tau, mpmath.tanh(mpmath.mpf(x) / 2)))
        exp_error = max(exp_error, _error(e, mpmath.exp(-abs(mpmath.mpf(x)))))
    return inner, outer, tau_error, exp_error


def test_sigmoid_tanh_against_mpmath():
    rng = np.random.default_rng(RNG_SEED)
    m = np.concatenate((np.arange(-8, 9), rng.integers(-2042, 2042, 200)))  # |x| = m ln2/2: reduction boundaries
    edges = np.abs(m * math.log(2) / 2)
    edges = edges[edges <= 708]
    xs = np.concatenate((np.linspace(-700, 700, 701), rng.uniform(-64, 64, 500),
                         rng.choice([-1, 1], 300) * 10.0 ** rng.uniform(-300, 2.8, 300),
                         edges, -np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf),
                         [0.0, 1e-300, -1e-300, 1e-17, -1e-17, 5e-324, 64.0, -64.0, 700.0, -700.0, 708.0]))
    inner, outer, tau_error, exp_error = _sigmoid_tanh_errors((float(x), 0.0, mpmath.mpf(float(x))) for x in xs)
    assert inner <= 1e-15 and outer <= 5e-14 and tau_error <= 1e-15 and exp_error <= 1e-15


def test_sigmoid_tanh_with_the_rounding_error_of_beta_h():
    """xl = exact_product_low(b, h, b*h): s and t are those of the exact product b*h."""
    rng = np.random.default_rng(RNG_SEED)
    products = np.concatenate((rng.uniform(-64, 64, 600), rng.uniform(-700, 700, 600), [700.0, -700.0]))
    b = rng.choice([-1, 1], products.size) * 10.0 ** rng.uniform(-6, 6, products.size)
    points = []
    for p, bv in zip(products, b):
        bv, hv = float(bv), float(p / bv)
        x = bv * hv
        points.append((x, exact_product_low(bv, hv, x), mpmath.mpf(bv) * mpmath.mpf(hv)))
    inner, outer, tau_error, exp_error = _sigmoid_tanh_errors(points)
    assert inner <= 1e-15 and outer <= 5e-14 and tau_error <= 1e-15 and exp_error <= 1e-15


def test_exact_product_low_is_the_exact_rounding_error():
    rng = np.random.default_rng(RNG_SEED)
    n = 2000
    a = rng.choice([-1, 1], n) * rng.uniform(1, 2, n) * 2.0 ** rng.integers(-150, 150, n)
    b = rng.choice([-1, 1], n) * rng.uniform(1, 2, n) * 2.0 ** rng.integers(-150, 150, n)
    special = [(0.1, 0.1), (1 + 2**-52, 1 - 2**-53), (3.0, 1 / 3), (1e150, 1e-150), (-7.4e8, 1e-6), (0.0, 5.0)]
    for av, bv in list(zip(a.tolist(), b.tolist())) + special:
        p = av * bv
        assert Fraction(av) * Fraction(bv) - Fraction(p) == Fraction(exact_product_low(av, bv, p)), (av, bv)


def test_fast_range_bounds():
    assert fast_range(1.0, 64.0, 64.0) and not fast_range(1.0, 64.0, math.nextafter(64.0, 100.0))
    assert fast_range(FAST_SCALE, 1 / FAST_SCALE, 1.0) and fast_range(0.0, 0.0, 0.0)
    assert not fast_range(2 * FAST_SCALE, 1e-30, 2e-11) and not fast_range(1.0, 0.5 / FAST_SCALE, 1e-20)
    assert not fast_range(math.nan, 1.0, math.nan) and not fast_range(math.inf, 1.0, 1.0)


def _signed_decades(rng, lo, hi, n):
    return rng.choice([-1, 1], n) * 10.0 ** rng.uniform(lo, hi, n)


def test_exp_fast_against_mpmath():
    rng = np.random.default_rng(RNG_SEED)
    edges = np.arange(-2042, 2048) * math.log(2) / 2  # reduction boundaries k ln2/2
    edges = edges[(edges >= EXP_MIN) & (edges <= EXP_MAX)]
    zs = np.concatenate((np.linspace(EXP_MIN, EXP_MAX, 2001), rng.uniform(-1, 1, 300), _signed_decades(rng, -300, 0, 200),
                         edges[::8], np.nextafter(edges[::8], np.inf), [0.0, EXP_MIN, EXP_MAX]))
    assert _worst([exp_fast(float(z)) for z in zs], [mpmath.exp(mpmath.mpf(float(z))) for z in zs]) <= 5e-16
    assert exp_fast(math.nextafter(EXP_MAX, 800.0)) == math.inf and exp_fast(1e300) == math.inf
    assert exp_fast(math.nextafter(EXP_MIN, -800.0)) == 0.0 and exp_fast(-1e300) == 0.0


def test_gaussian_cdf_and_density_against_mpmath():
    """Phi to 1e-15 relative down to NDTR_MIN (Cody's three ranges and their boundaries), e^(-x^2/2) down to
    e^EXP_MIN, and both saturated (0 or 1) for |x| up to 1e300."""
    rng = np.random.default_rng(RNG_SEED)
    bounds = np.array([0.67448975, math.sqrt(32.0)])
    bounds = np.concatenate((bounds, np.nextafter(bounds, 0.0), np.nextafter(bounds, 9.0)))
    xs = np.concatenate((np.linspace(NDTR_MIN, 40, 3001), rng.uniform(-6, 6, 500), bounds, -bounds,
                         _signed_decades(rng, -300, 1.5, 300), [0.0, 5e-324]))
    phi, density = zip(*(ndtr_gauss(float(x)) for x in xs))
    keep = xs >= NDTR_MIN
    assert _worst(np.array(phi)[keep], [mpmath.ncdf(mpmath.mpf(float(x))) for x in xs[keep]]) <= 1e-15
    normal = 0.5 * xs * xs <= -EXP_MIN  # below e^EXP_MIN the density is 0
    density = np.array(density)
    assert _worst(density[normal], [mpmath.exp(-mpmath.mpf(float(x)) ** 2 / 2) for x in xs[normal]]) <= 1e-15
    assert np.all(density[~normal] == 0.0)
    assert all(ndtr_fast(float(x)) == p and gauss_fast(float(x)) == g for x, p, g in zip(xs, phi, density))
    below = [ndtr_fast(x) for x in (-37.6, -38.0, -40.0, -1e10, -1e300)]
    assert all(0.0 <= p < TINY for p in below)
    assert [ndtr_fast(x) for x in (40.0, 1e10, 1e300)] == [1.0, 1.0, 1.0]
    assert [gauss_fast(x) for x in (-1e300, 1e300)] == [0.0, 0.0]


def test_erfc_fast_against_mpmath():
    rng = np.random.default_rng(RNG_SEED)
    us = np.concatenate((np.linspace(-30, 26.5, 3001), rng.uniform(-5, 5, 500), _signed_decades(rng, -300, 1, 200),
                         [0.0, -1e300]))
    us = us[us <= 26.5]
    assert _worst([erfc_fast(float(u)) for u in us], [mpmath.erfc(mpmath.mpf(float(u))) for u in us]) <= 1e-15


def test_gaussian_cdf_and_density_of_an_exact_product():
    """ndtr_gauss_product(b, h): Phi and e^(-x^2/2) of the exact product x = b h, not of its rounding."""
    rng = np.random.default_rng(RNG_SEED)
    xs = np.concatenate((rng.uniform(-37, 37, 600), rng.uniform(-2, 2, 200)))
    bs = _signed_decades(rng, -6, 6, xs.size)
    points = [(float(b), float(x / b)) for x, b in zip(xs, bs)]
    exact = [mpmath.mpf(b) * mpmath.mpf(h) for b, h in points]
    phi, density = zip(*(ndtr_gauss_product(b, h) for b, h in points))
    assert _worst(phi, [mpmath.ncdf(x) for x in exact]) <= 1e-15
    assert _worst(density, [mpmath.exp(-x * x / 2) for x in exact]) <= 1e-15
    assert ndtr_gauss_product(1e300, 1e300) == (1.0, 0.0) and ndtr_gauss_product(-1e300, 1e300) == (0.0, 0.0)
