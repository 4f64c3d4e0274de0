"""Check rows for the infinite-width kernels (``numerics.mlp.infinite_width``).

Oracles: the closed forms (ReLU arc-cosine against mpmath, erf arcsine
against the toolkit's generic quadrature); nested mpmath quadrature at 20 digits of
E[phi(u) phi(v)] and E[phi'(u) phi'(v)] for every registry activation,
written independently of the toolkit's kernels; and the Monte Carlo twin
(random wide networks: depth 1 is unbiased at any width), whose error is
measured in standard errors. Errors of the maps are relative to the
kernel's scale sqrt(E phi(u)^2 E phi(v)^2).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
from hypothesis import strategies as st

from numerics.kernels.activations import NAMES as REGISTRY
from numerics.mlp.infinite_width import (
    CLOSED_FORM,
    _closed_form,
    expectation,
    mehler_expectation,
    nngp,
    ntk,
    pair_expectation,
    phi,
)
from numerics.simulate.kernels import simulate_kernel
from verify.registry import Check, with_budget


def _mp_phi(name: str, beta, derivative: bool):
    beta = mp.mpf(beta)

    def sig(x):
        return 1 / (1 + mp.exp(-x))

    table = {
        "esp": (lambda h: h * sig(beta * h), lambda h: sig(beta * h) + beta * h * sig(beta * h) * sig(-beta * h)),
        "sigmoid": (lambda h: sig(beta * h), lambda h: beta * sig(beta * h) * sig(-beta * h)),
        "tanh": (lambda h: mp.tanh(beta * h), lambda h: beta / mp.cosh(beta * h) ** 2),
        "relu": (lambda h: h if h > 0 else mp.mpf(0), lambda h: mp.mpf(1) if h > 0 else mp.mpf(0)),
        "linear": (lambda h: h, lambda h: mp.mpf(1)),
    }
    return table[name][1 if derivative else 0]


GRID = [-12, -6, -3, -1, 0, 1, 3, 6, 12]  # panels of the mpmath quadratures (plus the kink of the inner one)


def mp_pair(name: str, beta: float, derivative: bool, q: float, rho: float, q2: float | None = None) -> float:
    """E[f(u) f(v)], u of variance q, v of variance q2 (default q), correlation rho, by nested mpmath quadrature
    (split at the kinks)."""
    with mp.workdps(20):
        f = _mp_phi(name, beta, derivative)
        q, rho = mp.mpf(q), mp.mpf(rho)
        s = mp.sqrt((1 - rho) * (1 + rho))
        sq, sq2 = mp.sqrt(q), mp.sqrt(mp.mpf(q if q2 is None else q2))
        norm = 1 / mp.sqrt(2 * mp.pi)

        def inner(z1):
            if s == 0:
                return f(sq2 * rho * z1)
            kink = -rho * z1 / s
            pts = sorted(set(GRID) | {max(min(kink, mp.mpf(12)), mp.mpf(-12))})
            return mp.quad(lambda z2: f(sq2 * (rho * z1 + s * z2)) * mp.exp(-z2 * z2 / 2) * norm, pts)

        return float(mp.quad(lambda z1: f(sq * z1) * inner(z1) * mp.exp(-z1 * z1 / 2) * norm, GRID))


@st.composite
def map_examples(draw):
    """(activation, beta, derivative, variance q, correlation rho)."""
    return (draw(st.sampled_from(REGISTRY)), draw(st.sampled_from((0.5, 1.0, 2.0))), draw(st.booleans()),
            draw(st.sampled_from((0.1, 1.0, 3.0))), draw(st.floats(-1.0, 1.0)))


def map_error(example) -> float:
    """The toolkit's map (the tabulated route for equal variances) against mpmath, relative to the scale."""
    name, beta, derivative, q, rho = example
    C = np.array([[q, rho * q], [rho * q, q]])
    value = expectation(name, beta, derivative, np.full(2, q), np.full(2, q), C)[0, 1]
    ref = mp_pair(name, beta, derivative, q, rho)
    scale = mp_pair(name, beta, derivative, q, 1.0)
    return abs(value - ref) / abs(scale)


@st.composite
def unequal_examples(draw):
    """(activation, beta, derivative, variance a, variance b != a, correlation rho)."""
    a = draw(st.sampled_from((0.1, 1.0, 3.0, 6.0)))
    b = draw(st.sampled_from((0.3, 2.0, 4.5)))
    return (draw(st.sampled_from(tuple(n for n in REGISTRY if n not in CLOSED_FORM))), draw(st.sampled_from((0.5, 1.0, 2.0))),
            draw(st.booleans()), a, b, draw(st.floats(-1.0, 1.0)))


def unequal_error(example) -> float:
    """The toolkit's map for unequal variances (Hermite series, Mehler's formula) against mpmath, relative to the
    scale sqrt(E f(u)^2 E f(v)^2)."""
    name, beta, derivative, a, b, rho = example
    c = rho * np.sqrt(a * b)
    value = expectation(name, beta, derivative, np.array([a, b]), np.array([a, b]), np.array([[a, c], [c, b]]))[0, 1]
    ref = mp_pair(name, beta, derivative, a, rho, b)
    scale = np.sqrt(mp_pair(name, beta, derivative, a, 1.0) * mp_pair(name, beta, derivative, b, 1.0))
    return abs(value - ref) / scale


@st.composite
def series_examples(draw):
    """(beta, derivative, seed) for a 6 x 5 erf kernel map over unequal variances."""
    return draw(st.floats(0.2, 3.0)), draw(st.booleans()), draw(st.integers(0, 2**31 - 1))


def series_error(example) -> float:
    """The generic route for unequal variances (Hermite series of erf(beta h), no closed form used) against the erf
    arcsine closed form, over a matrix of variances in [0.05, 8] and correlations including +-1, relative to the
    scale."""
    beta, derivative, seed = example
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.05, 8.0, 6), rng.uniform(0.05, 8.0, 5)
    rho = rng.uniform(-1.0, 1.0, (6, 5))
    rho[0, 0], rho[1, 1], rho[2, 2] = 1.0, -1.0, 0.9999
    C = rho * np.sqrt(a[:, None] * b[None, :])
    value = mehler_expectation(phi("erf", beta, derivative), a, b, C)
    closed = _closed_form("erf", beta, derivative, a[:, None], b[None, :], C)
    scale = np.sqrt(_closed_form("erf", beta, derivative, a, a, a)[:, None] * _closed_form("erf", beta, derivative, b, b, b)[None, :])
    return float(np.max(np.abs(value - closed) / scale))


@st.composite
def closed_examples(draw):
    """(relu | erf, beta, derivative, a, b, rho)."""
    return (draw(st.sampled_from(("relu", "erf"))), draw(st.floats(0.2, 3.0)), draw(st.booleans()),
            draw(st.floats(0.05, 5.0)), draw(st.floats(0.05, 5.0)), draw(st.floats(-0.999, 0.999)))


def closed_error(example) -> float:
    """The closed forms against an independent evaluation, relative to the scale: erf against the toolkit's
    generic quadrature (smooth integrand), ReLU (kinked: no fast rule converges) against mpmath, using
    E(a, b, rho) = sqrt(ab) E(1, 1, rho) for the value and E(1, 1, rho) for the step derivative."""
    name, beta, derivative, a, b, rho = example
    c = rho * np.sqrt(a * b)
    closed = _closed_form(name, beta, derivative, np.array(a), np.array(b), np.array(c))
    scale = np.sqrt(_closed_form(name, beta, derivative, np.array(a), np.array(a), np.array(a))
                    * _closed_form(name, beta, derivative, np.array(b), np.array(b), np.array(b)))
    if name == "relu":
        ref = mp_pair("relu", 1.0, derivative, 1.0, rho) * (1.0 if derivative else np.sqrt(a * b))
    else:
        ref = pair_expectation(phi(name, beta, derivative), a, b, c)[0]
    return float(abs(ref - closed) / scale)


@st.composite
def simulation_examples(draw):
    """(activation, kernel, depth, sigma_w, sigma_b, seed)."""
    return (draw(st.sampled_from(REGISTRY)), draw(st.sampled_from(("nngp", "ntk"))), draw(st.integers(0, 1)),
            draw(st.sampled_from((0.8, 1.4, 2.0))), draw(st.sampled_from((0.0, 0.3))), draw(st.integers(0, 2**31 - 1)))


def simulation_error(example) -> float:
    """max |kernel - Monte Carlo| / (4 standard errors) over a 4 x 4 kernel (depth <= 1: no finite-width bias)."""
    name, kernel, depth, sigma_w, sigma_b, seed = example
    X = np.random.default_rng(seed).standard_normal((4, 3))
    kw = dict(depth=depth, activation=name, sigma_w=sigma_w, sigma_b=sigma_b)
    exact = (ntk if kernel == "ntk" else nngp)(X, **kw)
    mc = simulate_kernel(X, **kw, width=256, networks=64, seed=seed, kernel=kernel)
    # a rounding floor: depth 0 is deterministic, its standard error rounding noise
    return float(np.max(np.abs(exact - mc.mean) / (4 * mc.stderr + 1e-13 * np.abs(exact).max())))


CHECKS = [
    Check(name="kernel map vs mpmath", oracle="nested mpmath quadrature, 20 digits", tol=1e-10,
          strategy=map_examples, error=map_error,
          explicit=(("esp", 1.0, False, 1.0, 0.999), ("tanh", 2.0, True, 3.0, -0.5), ("sigmoid", 0.5, False, 0.1, 1.0)),
          max_examples=3),
    Check(name="kernel map unequal variances vs mpmath", oracle="nested mpmath quadrature, 20 digits", tol=1e-10,
          strategy=unequal_examples, error=unequal_error,
          explicit=(("esp", 1.0, False, 6.0, 0.3, 0.999), ("tanh", 2.0, True, 0.1, 4.5, -0.7)), max_examples=3),
    Check(name="kernel series vs erf closed form", oracle="erf arcsine closed form (unequal variances)", tol=1e-10,
          strategy=series_examples, error=series_error, explicit=((1.0, False, 0), (2.5, True, 1)), max_examples=20),
    Check(name="kernel closed forms", oracle="ReLU arc-cosine vs mpmath, erf arcsine vs quadrature", tol=1e-10,
          strategy=closed_examples, error=closed_error, max_examples=20),
    Check(name="kernel monte carlo", oracle="random networks of width 256 (errors in units of 4 standard errors)",
          tol=1.0, strategy=simulation_examples, error=simulation_error,
          explicit=(("esp", "ntk", 1, 1.4, 0.3, 0), ("relu", "nngp", 1, 1.4, 0.0, 1)), max_examples=10),
]
_FAST = {"analyze dense indices": 20, "analyze blocks sum": 2, "kernel monte carlo": 3,
         "kernel series vs erf closed form": 3}  # the rest take minutes: slow
CHECKS = with_budget(CHECKS, 2, per_name=_FAST, slow=tuple(c.name for c in CHECKS if c.name not in _FAST))
