"""Stable Gaussian-tail primitives and Gaussian-measure quadrature (numpy, float64).

With G the standard normal density and H(x) = int_x^oo Dt = erfc(x/sqrt 2)/2:

* ``tail(x)`` = H(x) and ``log_tail(x)`` = ln H(x) (scipy's ndtr / log_ndtr, so
  ln H stays finite where H underflows, x up to ~1e154);
* ``mills(x)`` = G(x)/H(x), the inverse Mills ratio, via erfcx for x >= 0
  (no underflow of G or H) and directly for x < 0 (H >= 1/2);
* ``mills_excess(x)`` = E(x) = M(x) - x without the cancellation of the difference
  for large x (Laplace's continued fraction for x >= 3), and ``mills_defect(x)``
  = 1 - x E(x) likewise;
* ``log_two_cosh(y)`` = ln 2cosh y and ``sech(y)``, finite for every finite y.

``gaussian_rule(center, scale)`` returns nodes and weights of a composite
Gauss-Legendre rule for int Dt f(t) whose panels are graded geometrically
around ``center`` from width ``scale``: the rule for integrands with a
boundary layer, such as the Gardner integrands near q -> 1, where a fixed
Gauss-Hermite rule fails.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import special

from numerics import validate

SQRT2 = np.sqrt(2.0)
SQRT_2_OVER_PI = np.sqrt(2.0 / np.pi)
INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_CF_THRESHOLD = 3.0  # mills_excess: continued fraction at and above this x
_CF_TERMS = 80  # enough for 1e-16 relative accuracy at x = 3


def tail(x):
    """H(x) = int_x^oo Dt."""
    return special.ndtr(-np.asarray(x, dtype=np.float64))


def log_tail(x):
    """ln H(x), accurate where H underflows."""
    return special.log_ndtr(-np.asarray(x, dtype=np.float64))


def density(x):
    """G(x) = exp(-x^2/2)/sqrt(2 pi) (|x| capped at 40, where G underflows, so that x^2 cannot overflow)."""
    x = np.minimum(np.abs(np.asarray(x, dtype=np.float64)), 40.0)
    return INV_SQRT_2PI * np.exp(-0.5 * x * x)


def mills(x):
    """M(x) = G(x)/H(x) (~ x for x -> oo, ~ G(x) for x -> -oo)."""
    x = np.asarray(x, dtype=np.float64)
    pos = x >= 0.0
    out = np.empty_like(x)
    out[pos] = SQRT_2_OVER_PI / special.erfcx(x[pos] / SQRT2)
    xn = x[~pos]
    out[~pos] = density(xn) / special.ndtr(-xn)
    return out if out.ndim else float(out)


def _mills_tail_fraction(x):
    """c(x) = 2/(x + 3/(x + 4/(x + ...))) for x >= 3 (Laplace's continued fraction M - x = 1/(x + c))."""
    frac = np.zeros_like(x)
    for k in range(_CF_TERMS, 2, -1):  # backward evaluation of k/(x + (k+1)/(...))
        frac = k / (x + frac)
    return 2.0 / (x + frac)


def mills_excess(x):
    """E(x) = M(x) - x, by the continued fraction 1/(x + 2/(x + 3/(x + ...))) for x >= 3."""
    x = np.asarray(x, dtype=np.float64)
    big = x >= _CF_THRESHOLD
    out = np.empty_like(x)
    xs = x[~big]
    out[~big] = mills(xs) - xs
    xb = x[big]
    out[big] = 1.0 / (xb + _mills_tail_fraction(xb))
    return out if out.ndim else float(out)


def mills_defect(x):
    """D(x) = 1 - x (M(x) - x) (~ 2/x^2 for x -> oo): c/(x + c) with the continued fraction c for x >= 3.

    D ~ 1 + x^2 for x -> -oo; x below -1e150 is taken as -1e150, so that D stays finite (1e300)."""
    x = np.asarray(x, dtype=np.float64)
    big = x >= _CF_THRESHOLD
    out = np.empty_like(x)
    xs = np.maximum(x[~big], -1e150)
    out[~big] = 1.0 - xs * mills_excess(xs)
    xb = x[big]
    c = _mills_tail_fraction(xb)
    out[big] = c / (xb + c)
    return out if out.ndim else float(out)


def log_two_cosh(y):
    """ln(2 cosh y) = |y| + log1p(exp(-2|y|))."""
    a = np.abs(np.asarray(y, dtype=np.float64))
    return a + np.log1p(np.exp(-2.0 * a))


def sech(y):
    """1/cosh y = 2 e^-|y| / (1 + e^-2|y|)."""
    e = np.exp(-np.abs(np.asarray(y, dtype=np.float64)))
    return 2.0 * e / (1.0 + e * e)


@cache
def _legendre(order: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.legendre.leggauss(order)
    return nodes, weights


def panel_edges(center: float, scale: float, width: float, cutoff: float) -> np.ndarray:
    """Edges in [-cutoff, cutoff]: widths scale, scale, 2 scale, 4 scale, ... away from center, at most width."""
    c = min(max(center, -cutoff), cutoff)
    steps = [0.0]
    h = min(scale, width)
    while steps[-1] < 2.0 * cutoff:
        steps.append(steps[-1] + h)
        h = min(2.0 * h if len(steps) > 2 else h, width)
    steps = np.asarray(steps)
    right = c + steps[c + steps < cutoff]
    left = c - steps[1:][c - steps[1:] > -cutoff]
    return np.concatenate(([-cutoff], left[::-1], right, [cutoff]))


def gaussian_rule(center: float = 0.0, scale: float = 1.0, *, order: int = 20, width: float = 0.5,
                  cutoff: float = 14.0) -> tuple[np.ndarray, np.ndarray]:
    """Nodes t and weights w with sum(w f(t)) = int Dt f(t) for f of at most polynomial growth.

    Panels are graded geometrically around ``center`` (first width ``scale``,
    doubling up to ``width``), each with an ``order``-point Gauss-Legendre rule;
    |t| > ``cutoff`` is dropped (G(14) t^k < 1e-40 for the integrands here).
    """
    center = validate.real("center", center)
    scale = validate.real("scale", scale, low=0.0, open_low=True)
    edges = panel_edges(center, scale, width, cutoff)
    edges = np.unique(edges)
    x, w = _legendre(order)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    nodes = (mid[:, None] + half[:, None] * x[None, :]).ravel()
    weights = (half[:, None] * w[None, :]).ravel() * density(nodes)
    return nodes, weights
