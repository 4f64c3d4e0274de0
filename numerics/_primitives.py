"""Stable scalar primitives the generated kernels call (numba, float64).

sigmoid and log_sigmoid never overflow for finite input; two_product gives
the exact product a*b as an unevaluated sum hi + lo (Dekker/Veltkamp), used
where a kernel evaluates near a root of one of its factors.
"""

import math

from numba import njit

_SPLITTER = 134217729.0  # 2**27 + 1
_SPLIT_MAX = 1e290  # beyond this Veltkamp splitting could overflow


@njit(cache=True)
def sigmoid(x):
    """sigma(x) = 1/(1+e^-x), evaluated on the side where exp cannot overflow."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True)
def log_sigmoid(x):
    """log sigma(x) = -log(1 + e^-x)."""
    if x >= 0.0:
        return -math.log1p(math.exp(-x))
    return x - math.log1p(math.exp(x))


@njit(cache=True)
def sign(x):
    return 1.0 if x >= 0.0 else -1.0


@njit(cache=True)
def clamp(x):
    """Replace +-inf (an overflowed beta*h) by +-1e300, where every kernel factor has saturated."""
    return max(-1e300, min(1e300, x))


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
