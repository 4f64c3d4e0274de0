"""Stable scalar primitives the generated kernels call (numba, float64).

sigmoid_pair and log_sigmoid never overflow for finite input; two_product gives
the exact product a*b as an unevaluated sum hi + lo (Dekker/Veltkamp), used
where rounding of beta*h would cost relative accuracy.
"""

import math

from numba import njit

_SPLITTER = 134217729.0  # 2**27 + 1
_SPLIT_MAX = 1e290  # beyond this Veltkamp splitting could overflow


@njit(cache=True)
def sigmoid_pair(x, xl):
    """(sigma(x + xl), sigma(-x - xl)) from a single exponential, for a small correction xl.

    xl is the rounding error of x (see product_low); to first order
    sigma(x + xl) = sigma(x) (1 + xl sigma(-x)), which keeps full relative
    precision in the tails where e^-|x| amplifies the rounding of x by |x|.
    """
    e = math.exp(-abs(x))
    r = 1.0 / (1.0 + e)
    er = e * r
    positive = x >= 0.0
    s = r if positive else er  # selects, not branches: the sign of x is unpredictable
    t = er if positive else r
    return s * (1.0 + xl * t), t * (1.0 - xl * s)


@njit(cache=True)
def log_sigmoid(x, xl):
    """log sigma(x + xl) as an unevaluated sum hi + lo, to first order in the small correction xl.

    For x < 0, hi = x exactly and lo = xl - log1p(e^x) + ...: the large part
    carries no rounding, so exp(hi + lo) keeps full relative precision.
    """
    if x >= 0.0:
        e = math.exp(-x)
        return -math.log1p(e), xl * e / (1.0 + e)
    e = math.exp(x)
    return x, xl / (1.0 + e) - math.log1p(e)


@njit(cache=True)
def two_sum(a, b):
    """(s, e) with s = fl(a + b) and s + e = a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@njit(cache=True)
def product_low(a, b, p):
    """The rounding error a*b - p of p = fl(a*b) where it matters, else 0.

    It enters the kernels through e^-|p|, whose relative error from rounding p
    is |p| eps/2: below 1e-15 for |p| <= 16, where it is skipped.
    """
    if abs(p) <= 16.0:
        return 0.0
    return two_product(a, b)[1]


@njit(cache=True)
def sign(x):
    return 1.0 if x >= 0.0 else -1.0


@njit(cache=True)
def field(beta, h):
    """beta*h clamped to +-1e300, computed without overflow (every kernel factor has saturated there)."""
    if abs(beta) < 1e150 and abs(h) < 1e150:  # the common case: no overflow possible
        return beta * h
    if abs(beta) > 1.0 and abs(h) > 1e300 / abs(beta):
        return 1e300 if (beta > 0.0) == (h > 0.0) else -1e300
    return max(-1e300, min(1e300, beta * h))


@njit(cache=True)
def _split(a):
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


@njit(cache=True)
def two_product(a, b):
    """(p, e) with p = fl(a*b) and p + e = a*b exactly; e = 0 when splitting could overflow."""
    p = a * b
    if abs(a) > _SPLIT_MAX or abs(b) > _SPLIT_MAX or not math.isfinite(p):
        return p, 0.0
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl
