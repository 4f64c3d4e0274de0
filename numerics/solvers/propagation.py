"""Mean-field signal propagation (Poole et al. 2016): variance map, fixed point, chi_1, order-to-chaos line.

For a registry activation phi(h, beta), weights N(0, sigma_w^2/N) and biases N(0, sigma_b^2):

    q_l = sigma_w^2 E[phi(sqrt(q_{l-1}) z)^2] + sigma_b^2,    chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]

(theory.propagation; both maps generated into numerics/_generated/function_space.py, with the
Gaussian average an argument). The fixed point q* is the one the iteration reaches from the input variance
q_0 (the variance map is increasing, so the iteration moves monotonically to the nearest fixed point
in its direction, or diverges). The network is *ordered* when q* is finite and chi_1(q*) < 1; the
boundary sigma_w,c(sigma_b) is where this stops, either because chi_1 reaches 1 (a chaotic phase
follows: tanh, sigmoid) or because q escapes to infinity (ReLU-like units: ReLU, ESP, linear).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.integrate import quad
from scipy.optimize import brentq

from numerics._generated import function_space as gen
from numerics.solvers.function_space import GAUSS_CUTOFF, INV_SQRT_2PI, QUAD_RTOL, check_activation

Q_MAX = 1e30  # variance treated as divergent
Q_MIN = 1e-300  # variance treated as zero
SIGMA_B_MAX = 1e12  # sigma_b^2 stays well below Q_MAX
Q0_MAX = 1e24
BIAS_ROUNDING = 64 * 2.0**-52  # sigma_b^2 below this fraction of q is lost in W(q) + sigma_b^2
LINEAR_SLOPE = 1e-6  # |1 - slope of the map| below which a fixed point hinges on sigma_b^2 alone


def _kernels(name: str):
    from numerics.kernels.activations import activation

    k = activation(check_activation(name)).kernels
    return k.value, k.d_h


def _gauss_mean(f, std: float, beta: float) -> float:
    """E[f(std z, beta)] over a standard Gaussian z (adaptive quadrature, split at the origin)."""
    points = [0.0]
    if std > 0.0 and beta > 0.0 and 1.0 / (beta * std) < GAUSS_CUTOFF:  # width of the beta-transition
        points += [-1.0 / (beta * std), 1.0 / (beta * std)]

    def integrand(zv):
        return f(std * zv, beta) * math.exp(-0.5 * zv * zv) * INV_SQRT_2PI

    return quad(integrand, -GAUSS_CUTOFF, GAUSS_CUTOFF, epsabs=0.0, epsrel=QUAD_RTOL, limit=200, points=sorted(points))[0]


def _check_beta(name: str, beta) -> float:
    if beta is None:
        return 1.0
    b = float(beta)
    if not (math.isfinite(b) and b > 0.0):
        raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
    return b


def _check_nonnegative(value, name: str, hi: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and 0.0 <= v <= hi):
        raise ValueError(f"{name} must be a number in [0, {hi:g}], got {value!r} "
                         f"(variances above {Q_MAX:g} count as divergent)")
    return v


def _bias_lost(q_star: float, sigma_b: float, slope: float) -> bool:
    """True when sigma_b^2 is lost to rounding beside q* and the map runs parallel to the diagonal there
    (slope within LINEAR_SLOPE of 1): q* = W(q*) + sigma_b^2 then does not determine q*."""
    return sigma_b**2 < BIAS_ROUNDING * q_star and abs(1.0 - slope) < LINEAR_SLOPE


def variance_map(name: str, q: float, sigma_w: float, sigma_b: float, beta: float | None = None) -> float:
    """sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2 (generated from theory.propagation)."""
    value, _ = _kernels(name)
    beta = _check_beta(name, beta)
    return gen.propagation_variance_map(sigma_w, sigma_b, _gauss_mean(lambda hv, b: value(hv, b) ** 2, math.sqrt(q), beta))


def chi1(name: str, q: float, sigma_w: float, beta: float | None = None) -> float:
    """sigma_w^2 E[phi'(sqrt(q) z)^2]: the per-layer growth of small input differences (q = 0: limit q -> 0+)."""
    _, d_h = _kernels(name)
    beta = _check_beta(name, beta)
    return gen.propagation_chi1(sigma_w, _gauss_mean(lambda hv, b: d_h(hv, b) ** 2, math.sqrt(max(q, Q_MIN)), beta))


def fixed_point(name: str, sigma_w: float, sigma_b: float, beta: float | None = None, q0: float = 1.0) -> float:
    """The fixed point q* the variance map reaches from q_0 (math.inf when q diverges, or when q* is so
    large that sigma_b^2 is lost to rounding beside it while the map runs parallel to the diagonal)."""
    beta = _check_beta(name, beta)
    sigma_b = _check_nonnegative(sigma_b, "sigma_b", SIGMA_B_MAX)

    def gap(q):
        return variance_map(name, q, sigma_w, sigma_b, beta) - q

    g0 = gap(q0)
    if g0 == 0.0:
        return q0
    step = 2.0
    prev = q0
    if g0 < 0.0:  # q decreases to the largest fixed point below q0 (at least sigma_b^2)
        floor = sigma_b**2
        while True:
            cur = max(prev / step, floor, Q_MIN)
            if gap(cur) >= 0.0:
                return brentq(gap, cur, prev, xtol=1e-300, rtol=1e-14)
            if cur in (floor, Q_MIN):
                return 0.0 if cur == Q_MIN else floor
            prev, step = cur, min(step * 2.0, 1e10)
    while True:  # q increases to the smallest fixed point above q0
        cur = prev * step
        if cur > Q_MAX:
            return math.inf
        if gap(cur) <= 0.0:
            root = brentq(gap, prev, cur, xtol=1e-300, rtol=1e-14)
            slope = (gap(2.0 * root) - gap(0.5 * root)) / (1.5 * root) + 1.0  # secant slope of the map
            return math.inf if _bias_lost(root, sigma_b, slope) else root
        prev, step = cur, min(step * 2.0, 1e10)


@dataclass(frozen=True)
class Criticality:
    """Edge of the ordered phase at given sigma_b (and beta, q_0)."""

    activation: str
    beta: float | None
    sigma_b: float
    sigma_w: float  # critical sigma_w
    q_star: float  # fixed point on the ordered side (math.inf when it diverges at the edge)
    chi1: float  # chi_1 at that fixed point
    kind: str  # phase beyond the edge: "chaotic" (chi_1 > 1) or "divergent" (q -> oo)


def _phase(name, sigma_w, sigma_b, beta, q0) -> tuple[str, float, float]:
    q_star = fixed_point(name, sigma_w, sigma_b, beta, q0)
    if not math.isfinite(q_star):
        return "divergent", q_star, math.nan
    c1 = chi1(name, q_star, sigma_w, beta)
    return ("ordered" if c1 < 1.0 else "chaotic"), q_star, c1


def critical_sigma_w(name: str, sigma_b: float, beta: float | None = None, q0: float = 1.0, rtol: float = 1e-10) -> Criticality:
    """sigma_w,c(sigma_b): the largest sigma_w of the ordered phase (bisection on the phase of q*).

    ReLU: sqrt(2) for every sigma_b; tanh(beta h) at sigma_b = 0: 1/beta; ESP: between 2 (beta -> 0 or
    q_0 below the unstable fixed point) and sqrt(2) (beta -> oo), a function of beta sigma_b and
    beta^2 q_0 only (theory.propagation.beta_scaling).
    """
    from numerics.kernels.activations import depends_on_beta

    check_activation(name)
    sigma_b = _check_nonnegative(sigma_b, "sigma_b", SIGMA_B_MAX)
    q0 = _check_nonnegative(q0, "q0", Q0_MAX)
    if q0 == 0.0 and sigma_b == 0.0:
        raise ValueError("q0 and sigma_b are both 0: the signal is zero at every layer")
    beta_in = None if beta is None else _check_beta(name, beta)
    beta = _check_beta(name, beta)
    lo, hi = 0.0, 1.0
    while _phase(name, hi, sigma_b, beta, q0)[0] == "ordered":
        lo, hi = hi, 2.0 * hi
        if hi > 1e3:
            raise ValueError(f"{name}: no edge of the ordered phase below sigma_w = 1e3 at sigma_b = {sigma_b}")
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        if _phase(name, mid, sigma_b, beta, q0)[0] == "ordered":
            lo = mid
        else:
            hi = mid
    kind = _phase(name, hi, sigma_b, beta, q0)[0]
    _, q_star, c1 = _phase(name, lo, sigma_b, beta, q0)
    if q_star > 1e6 * max(1.0, q0, sigma_b**2):  # q* of the ordered side diverges at the edge (units linear
        kind = "divergent"                         # in a limit: ReLU, linear, ESP at beta -> 0)
        q_star, c1 = math.inf, chi1_limit(name, sigma_w=hi, beta=beta)
    return Criticality(
        activation=name,
        beta=beta_in if depends_on_beta(name) else None,
        sigma_b=sigma_b,
        sigma_w=0.5 * (lo + hi),
        q_star=q_star,
        chi1=c1,
        kind="chaotic" if kind == "chaotic" else "divergent",
    )


def chi1_limit(name: str, sigma_w: float, beta: float) -> float:
    """chi_1 as q* -> oo: sigma_w^2 E[phi'(sqrt(q) z)^2] at q = Q_MAX."""
    return chi1(name, Q_MAX, sigma_w, beta)
